package cdnctl

import (
	"context"
	"database/sql"
	"fmt"
	"sort"

	"github.com/marquee-party/marquee/internal/cdnwire"
)

// Index is the global index of which node holds which objects. SQLiteIndex
// keeps it in the API's database; a Redis one can stand in (issue #19).
type Index interface {
	// Apply records a heartbeat's deltas for node; with full, added is the
	// node's whole inventory and replaces what was known.
	Apply(ctx context.Context, node string, full bool, added, evicted []cdnwire.ObjectRef) error
	// Holdings returns, by node id, the bytes of item's objects each node
	// holds.
	Holdings(ctx context.Context, itemID int64) (map[string]int64, error)
	// Holders returns the ids of the nodes holding the object key (a
	// segment held within a run counts), sorted.
	Holders(ctx context.Context, key string) ([]string, error)
	// Forget drops everything node holds (a revoked node).
	Forget(ctx context.Context, node string) error
}

// SQLiteIndex is the Index in SQLite (table cdn_objects, migration 0009).
type SQLiteIndex struct{ db *sql.DB }

// NewSQLiteIndex uses db, already migrated.
func NewSQLiteIndex(db *sql.DB) *SQLiteIndex { return &SQLiteIndex{db: db} }

// segRun is a run of segments held, inclusive.
type segRun struct {
	first, last int
	bytes       int64
}

func (r segRun) count() int64 { return int64(r.last - r.first + 1) }

// Apply implements Index in one transaction.
func (x *SQLiteIndex) Apply(ctx context.Context, node string, full bool, added, evicted []cdnwire.ObjectRef) error {
	tx, err := x.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("cdnctl: index: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if full {
		if _, err := tx.ExecContext(ctx, `DELETE FROM cdn_objects WHERE node_id = ?`, node); err != nil {
			return fmt.Errorf("cdnctl: index: %w", err)
		}
	}
	for _, o := range evicted {
		if err := x.change(ctx, tx, node, o, false); err != nil {
			return err
		}
	}
	for _, o := range added {
		if err := x.change(ctx, tx, node, o, true); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("cdnctl: index: %w", err)
	}
	return nil
}

// change adds or removes one object or run.
func (x *SQLiteIndex) change(ctx context.Context, tx *sql.Tx, node string, o cdnwire.ObjectRef, add bool) error {
	if o.First == nil || o.Last == nil {
		var err error
		if add {
			_, err = tx.ExecContext(ctx, `INSERT INTO cdn_objects (node_id, key, kind, item_id, bytes) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (node_id, key, first) DO UPDATE SET bytes = excluded.bytes`, node, o.Key, o.Kind, o.ItemID, o.Bytes)
		} else {
			_, err = tx.ExecContext(ctx, `DELETE FROM cdn_objects WHERE node_id = ? AND key = ? AND first = -1`, node, o.Key)
		}
		if err != nil {
			return fmt.Errorf("cdnctl: index %s: %w", o.Key, err)
		}
		return nil
	}
	if *o.First < 0 || *o.Last < *o.First {
		return fmt.Errorf("cdnctl: index %s: bad segment run %d..%d", o.Key, *o.First, *o.Last)
	}
	rows, err := tx.QueryContext(ctx, `SELECT first, last, bytes FROM cdn_objects WHERE node_id = ? AND key = ? AND first >= 0`, node, o.Key)
	if err != nil {
		return fmt.Errorf("cdnctl: index %s: %w", o.Key, err)
	}
	var runs []segRun
	for rows.Next() {
		var r segRun
		if err := rows.Scan(&r.first, &r.last, &r.bytes); err != nil {
			rows.Close()
			return fmt.Errorf("cdnctl: index %s: %w", o.Key, err)
		}
		runs = append(runs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("cdnctl: index %s: %w", o.Key, err)
	}
	r := segRun{*o.First, *o.Last, o.Bytes}
	if add {
		runs = addRun(runs, r)
	} else {
		runs = subtractRun(runs, r)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM cdn_objects WHERE node_id = ? AND key = ? AND first >= 0`, node, o.Key); err != nil {
		return fmt.Errorf("cdnctl: index %s: %w", o.Key, err)
	}
	for _, r := range runs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO cdn_objects (node_id, key, kind, item_id, first, last, bytes) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			node, o.Key, cdnwire.KindSegment, o.ItemID, r.first, r.last, r.bytes); err != nil {
			return fmt.Errorf("cdnctl: index %s: %w", o.Key, err)
		}
	}
	return nil
}

// addRun merges r into runs (sorted, disjoint, not adjacent), joining
// overlapping and adjacent runs; bytes of overlapped segments count once.
func addRun(runs []segRun, r segRun) []segRun {
	runs = subtractRun(runs, r)
	runs = append(runs, r)
	sort.Slice(runs, func(i, j int) bool { return runs[i].first < runs[j].first })
	out := runs[:1]
	for _, n := range runs[1:] {
		last := &out[len(out)-1]
		if n.first <= last.last+1 {
			last.last, last.bytes = max(last.last, n.last), last.bytes+n.bytes
			continue
		}
		out = append(out, n)
	}
	return out
}

// subtractRun removes r's segments from runs, prorating the bytes of runs
// cut in two.
func subtractRun(runs []segRun, r segRun) []segRun {
	var out []segRun
	for _, x := range runs {
		if x.last < r.first || x.first > r.last {
			out = append(out, x)
			continue
		}
		per := x.bytes / x.count()
		if x.first < r.first {
			out = append(out, segRun{x.first, r.first - 1, per * int64(r.first-x.first)})
		}
		if x.last > r.last {
			out = append(out, segRun{r.last + 1, x.last, per * int64(x.last-r.last)})
		}
	}
	return out
}

// Holdings implements Index.
func (x *SQLiteIndex) Holdings(ctx context.Context, itemID int64) (map[string]int64, error) {
	rows, err := x.db.QueryContext(ctx, `SELECT node_id, SUM(bytes) FROM cdn_objects WHERE item_id = ? GROUP BY node_id`, itemID)
	if err != nil {
		return nil, fmt.Errorf("cdnctl: holdings of item %d: %w", itemID, err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var node string
		var b int64
		if err := rows.Scan(&node, &b); err != nil {
			return nil, err
		}
		out[node] = b
	}
	return out, rows.Err()
}

// Holders implements Index.
func (x *SQLiteIndex) Holders(ctx context.Context, key string) ([]string, error) {
	q, args := `SELECT DISTINCT node_id FROM cdn_objects WHERE key = ? AND first = -1`, []any{key}
	if dir, n, ok := cdnwire.SegmentNumber(key); ok {
		q = `SELECT DISTINCT node_id FROM cdn_objects WHERE (key = ? AND first = -1) OR (key = ? AND first <= ? AND last >= ?)`
		args = []any{key, dir, n, n}
	}
	rows, err := x.db.QueryContext(ctx, q+` ORDER BY node_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("cdnctl: holders of %s: %w", key, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var node string
		if err := rows.Scan(&node); err != nil {
			return nil, err
		}
		out = append(out, node)
	}
	return out, rows.Err()
}

// Forget implements Index.
func (x *SQLiteIndex) Forget(ctx context.Context, node string) error {
	if _, err := x.db.ExecContext(ctx, `DELETE FROM cdn_objects WHERE node_id = ?`, node); err != nil {
		return fmt.Errorf("cdnctl: forget node %s: %w", node, err)
	}
	return nil
}
