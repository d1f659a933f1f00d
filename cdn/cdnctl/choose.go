package cdnctl

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/marquee-party/marquee/internal/cdnwire"
)

// NodeLister lists the registered nodes with their state and last health
// (the registry).
type NodeLister interface {
	List(ctx context.Context) ([]cdnwire.NodeInfo, error)
}

// Choices keeps each viewer's explicit choice of node.
type Choices interface {
	// Choice returns the user's chosen node id, "" for none.
	Choice(ctx context.Context, userID int64) (string, error)
	// SetChoice records it; "" clears it.
	SetChoice(ctx context.Context, userID int64, nodeID string) error
}

// Viewer is who a node is chosen for.
type Viewer struct {
	UserID   int64
	Username string
}

// ErrNodeNotAllowed means a viewer chose a node they may not use: unknown,
// revoked, or another user's local node.
var ErrNodeNotAllowed = errors.New("cdnctl: no such node for you: pick a shared node, or a local node of your own")

// Chooser picks the nodes that serve a viewer, best first; the origin is
// always the last resort after them.
type Chooser struct {
	Nodes   NodeLister
	Index   Index
	Choices Choices
}

// Choose returns up to max usable nodes for viewer and item, best first:
// the viewer's explicit choice, then healthy nodes holding the item's
// content (most held first), then the least loaded, each tie broken by
// rendezvous hashing on (node, item) so that one item keeps going to the
// same nodes and their caches stay warm.
func (c *Chooser) Choose(ctx context.Context, v Viewer, itemID int64, max int) ([]cdnwire.NodeInfo, error) {
	nodes, err := c.Nodes.List(ctx)
	if err != nil {
		return nil, err
	}
	held, err := c.Index.Holdings(ctx, itemID)
	if err != nil {
		return nil, err
	}
	chosen := ""
	if c.Choices != nil && v.UserID != 0 {
		if chosen, err = c.Choices.Choice(ctx, v.UserID); err != nil {
			return nil, err
		}
	}
	out := rank(nodes, held, chosen, v, itemID)
	if max > 0 && len(out) > max {
		out = out[:max]
	}
	return out, nil
}

// Options lists the nodes viewer may pick, usable or not (a down node is
// listed with its state), each with the share of item it holds when
// itemBytes > 0.
func (c *Chooser) Options(ctx context.Context, v Viewer, itemID, itemBytes int64) ([]cdnwire.NodeInfo, error) {
	nodes, err := c.Nodes.List(ctx)
	if err != nil {
		return nil, err
	}
	held := map[string]int64{}
	if itemID > 0 {
		if held, err = c.Index.Holdings(ctx, itemID); err != nil {
			return nil, err
		}
	}
	var out []cdnwire.NodeInfo
	for _, n := range nodes {
		if n.State == "revoked" || !mayUse(n, v) {
			continue
		}
		if itemBytes > 0 {
			share := min(1, float64(held[n.ID])/float64(itemBytes))
			n.HasItem = &share
		}
		out = append(out, n)
	}
	return out, nil
}

// Chosen returns viewer's explicit choice, "" for none.
func (c *Chooser) Chosen(ctx context.Context, v Viewer) (string, error) {
	if c.Choices == nil || v.UserID == 0 {
		return "", nil
	}
	return c.Choices.Choice(ctx, v.UserID)
}

// Pick records viewer's explicit choice after checking they may use the
// node; "" clears it.
func (c *Chooser) Pick(ctx context.Context, v Viewer, nodeID string) error {
	if nodeID != "" {
		nodes, err := c.Nodes.List(ctx)
		if err != nil {
			return err
		}
		ok := false
		for _, n := range nodes {
			ok = ok || (n.ID == nodeID && n.State != "revoked" && mayUse(n, v))
		}
		if !ok {
			return fmt.Errorf("%w (%q)", ErrNodeNotAllowed, nodeID)
		}
	}
	return c.Choices.SetChoice(ctx, v.UserID, nodeID)
}

// mayUse: a local node serves only its owner.
func mayUse(n cdnwire.NodeInfo, v Viewer) bool {
	return n.Mode != cdnwire.ModeLocal || (v.Username != "" && n.Owner == v.Username)
}

// loadBand buckets a node's one-minute load so that nodes of about the
// same load count as equal and rendezvous hashing decides between them.
func loadBand(h cdnwire.Health) int { return int(h.Load1 * 2) }

// hrw is the rendezvous-hashing weight of node for item (Thaler and
// Ravishankar's highest random weight).
func hrw(node string, itemID int64) uint64 {
	sum := sha256.Sum256([]byte(node + "\x00" + strconv.FormatInt(itemID, 10)))
	return binary.BigEndian.Uint64(sum[:8])
}

// rank orders the nodes v may use that are up; see Choose.
func rank(nodes []cdnwire.NodeInfo, held map[string]int64, chosen string, v Viewer, itemID int64) []cdnwire.NodeInfo {
	var out []cdnwire.NodeInfo
	for _, n := range nodes {
		if n.State == "up" && mayUse(n, v) {
			out = append(out, n)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if (a.ID == chosen) != (b.ID == chosen) {
			return a.ID == chosen
		}
		if held[a.ID] != held[b.ID] {
			return held[a.ID] > held[b.ID]
		}
		if la, lb := loadBand(a.Health), loadBand(b.Health); la != lb {
			return la < lb
		}
		return hrw(a.ID, itemID) > hrw(b.ID, itemID)
	})
	return out
}

// SQLiteChoices keeps viewers' choices in cdn_node_choice (migration 0009).
type SQLiteChoices struct{ db *sql.DB }

// NewSQLiteChoices uses db, already migrated.
func NewSQLiteChoices(db *sql.DB) *SQLiteChoices { return &SQLiteChoices{db: db} }

// Choice implements Choices.
func (s *SQLiteChoices) Choice(ctx context.Context, userID int64) (string, error) {
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT node_id FROM cdn_node_choice WHERE user_id = ?`, userID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("cdnctl: node choice: %w", err)
	}
	return id, nil
}

// SetChoice implements Choices.
func (s *SQLiteChoices) SetChoice(ctx context.Context, userID int64, nodeID string) error {
	var err error
	if nodeID == "" {
		_, err = s.db.ExecContext(ctx, `DELETE FROM cdn_node_choice WHERE user_id = ?`, userID)
	} else {
		_, err = s.db.ExecContext(ctx, `INSERT INTO cdn_node_choice (user_id, node_id) VALUES (?, ?)
			ON CONFLICT (user_id) DO UPDATE SET node_id = excluded.node_id`, userID, nodeID)
	}
	if err != nil {
		return fmt.Errorf("cdnctl: save node choice: %w", err)
	}
	return nil
}

// NodeURLs finds a node's public URL in a NodeLister (vod.NodeURLs): only
// nodes that are up have one, so a player's request for a down or revoked
// node's playlist fails and it moves on to the next candidate.
type NodeURLs struct{ Nodes NodeLister }

// NodeURL returns the public base URL of node id while it is up.
func (u NodeURLs) NodeURL(ctx context.Context, id string) (string, error) {
	nodes, err := u.Nodes.List(ctx)
	if err != nil {
		return "", err
	}
	for _, n := range nodes {
		if n.ID == id && n.State == "up" {
			return n.PublicURL, nil
		}
	}
	return "", fmt.Errorf("cdnctl: node %q is not up", id)
}
