package cdnctl

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/marquee-party/marquee/internal/cdnwire"
)

// NodeOwner returns a node's mode and its owner's user id (0 for a shared
// node), for who may ask it to replicate; an unknown node is an error.
func (r *Registry) NodeOwner(ctx context.Context, id string) (string, int64, error) {
	var mode string
	var owner sql.NullInt64
	err := r.p.DB.QueryRowContext(ctx, `SELECT mode, owner_user_id FROM cdn_nodes WHERE id = ? AND state != 'revoked'`, id).Scan(&mode, &owner)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, fmt.Errorf("cdnctl: node %q: %w", id, ErrNoNode)
	}
	if err != nil {
		return "", 0, fmt.Errorf("cdnctl: node %q: %w", id, err)
	}
	return mode, owner.Int64, nil
}

// SignPeer signs path with the serving node's URL key, for a peer's fetch
// (Replicator's PeerSigner).
func (r *Registry) SignPeer(servingNode, path string, exp time.Time) (string, error) {
	s, err := r.SignerFor(servingNode)
	if err != nil {
		return "", err
	}
	return s.Sign(path, exp), nil
}

// IndexHolders answers which nodes that are up hold an object, with their
// public URLs, from the global index and the registry (Replicator's
// Holders).
type IndexHolders struct {
	Index interface {
		Holders(ctx context.Context, key string) ([]string, error)
	}
	Nodes NodeLister
}

// Holders lists the up nodes holding key.
func (h IndexHolders) Holders(ctx context.Context, key string) ([]Holder, error) {
	ids, err := h.Index.Holders(ctx, key)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	nodes, err := h.Nodes.List(ctx)
	if err != nil {
		return nil, err
	}
	url := map[string]string{}
	for _, n := range nodes {
		if n.State == "up" {
			url[n.ID] = n.PublicURL
		}
	}
	var out []Holder
	for _, id := range ids {
		if u, ok := url[id]; ok {
			out = append(out, Holder{NodeID: id, PublicURL: u})
		}
	}
	return out, nil
}

// PlanNodes lists every node for the planner: mode, owner, state and
// cache size.
func (r *Registry) PlanNodes(ctx context.Context) ([]PlanNode, error) {
	rows, err := r.p.DB.QueryContext(ctx, `SELECT id, mode, COALESCE(owner_user_id, 0), state, capacity_json FROM cdn_nodes`)
	if err != nil {
		return nil, fmt.Errorf("cdnctl: plan nodes: %w", err)
	}
	defer rows.Close()
	var out []PlanNode
	for rows.Next() {
		var n PlanNode
		var capJSON string
		if err := rows.Scan(&n.ID, &n.Mode, &n.Owner, &n.State, &capJSON); err != nil {
			return nil, err
		}
		var c cdnwire.Capacity
		_ = json.Unmarshal([]byte(capJSON), &c) // no heartbeat yet: size 0
		n.MaxBytes = c.MaxBytes
		out = append(out, n)
	}
	return out, rows.Err()
}

// ChooserViewers answers which node serves a viewer (the planner's
// ViewerNodes) with the Chooser's first pick. Users holds usernames, for
// local nodes.
type ChooserViewers struct {
	Chooser *Chooser
	Users   func(ctx context.Context, userID int64) (string, error)
}

// NodeFor returns the node the chooser would send userID to for itemID.
func (c ChooserViewers) NodeFor(ctx context.Context, userID, itemID int64) (string, bool, error) {
	v := Viewer{UserID: userID}
	if c.Users != nil {
		name, err := c.Users(ctx, userID)
		if err != nil {
			return "", false, err
		}
		v.Username = name
	}
	ns, err := c.Chooser.Choose(ctx, v, itemID, 1)
	if err != nil || len(ns) == 0 {
		return "", false, err
	}
	return ns[0].ID, true, nil
}
