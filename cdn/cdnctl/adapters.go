package cdnctl

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
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
