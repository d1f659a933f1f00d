package downloads

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// records persists rules, devices and jobs in SQLite (migration
// 0007_downloads), so they survive a restart. It holds no lock: the
// Service calls it outside its own.
type records struct{ db *sql.DB }

func ms(t time.Time) int64 { return t.UnixMilli() }

// rules returns a user's rules, or DefaultRules(admin) when none are set.
func (st records) rules(ctx context.Context, userID int64, admin bool) (Rules, error) {
	var r Rules
	err := st.db.QueryRowContext(ctx, `SELECT may_download, original_allowed, max_profile, max_devices, max_concurrent_jobs
		FROM download_rules WHERE user_id = ?`, userID).Scan(&r.MayDownload, &r.OriginalAllowed, &r.MaxProfile, &r.MaxDevices, &r.MaxConcurrentJobs)
	if errors.Is(err, sql.ErrNoRows) {
		return DefaultRules(admin), nil
	}
	if err != nil {
		return Rules{}, fmt.Errorf("downloads: rules of user %d: %w", userID, err)
	}
	return r, nil
}

func (st records) setRules(ctx context.Context, userID int64, r Rules) error {
	_, err := st.db.ExecContext(ctx, `INSERT INTO download_rules (user_id, may_download, original_allowed, max_profile, max_devices, max_concurrent_jobs)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET may_download = excluded.may_download,
		original_allowed = excluded.original_allowed, max_profile = excluded.max_profile, max_devices = excluded.max_devices,
		max_concurrent_jobs = excluded.max_concurrent_jobs`, userID, r.MayDownload, r.OriginalAllowed, r.MaxProfile, r.MaxDevices, r.MaxConcurrentJobs)
	if err != nil {
		return fmt.Errorf("downloads: set rules of user %d: %w", userID, err)
	}
	return nil
}

func (st records) saveDevice(ctx context.Context, d device) error {
	_, err := st.db.ExecContext(ctx, `INSERT INTO download_devices (id, user_id, name, created_at, last_seen, expires_at, revoked)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name, last_seen = excluded.last_seen,
		expires_at = excluded.expires_at, revoked = excluded.revoked`,
		d.ID, d.userID, d.Name, ms(d.CreatedAt), ms(d.LastSeen), ms(d.ExpiresAt), d.Revoked)
	if err != nil {
		return fmt.Errorf("downloads: save device: %w", err)
	}
	return nil
}

func (st records) devices(ctx context.Context) ([]device, error) {
	rows, err := st.db.QueryContext(ctx, `SELECT id, user_id, name, created_at, last_seen, expires_at, revoked FROM download_devices`)
	if err != nil {
		return nil, fmt.Errorf("downloads: load devices: %w", err)
	}
	defer rows.Close()
	var out []device
	for rows.Next() {
		var d device
		var c, l, e int64
		if err := rows.Scan(&d.ID, &d.userID, &d.Name, &c, &l, &e, &d.Revoked); err != nil {
			return nil, fmt.Errorf("downloads: load devices: %w", err)
		}
		d.CreatedAt, d.LastSeen, d.ExpiresAt = time.UnixMilli(c).UTC(), time.UnixMilli(l).UTC(), time.UnixMilli(e).UTC()
		out = append(out, d)
	}
	return out, rows.Err()
}

// insertJob saves a new job and its items in one transaction.
func (st records) insertJob(ctx context.Context, j *job) error {
	tx, err := st.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("downloads: save job: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO download_jobs (id, user_id, device_id, profile, fallback_reason, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, j.id, j.userID, j.deviceID, j.profile, j.fallback, ms(j.created)); err != nil {
		return fmt.Errorf("downloads: save job: %w", err)
	}
	for i, it := range j.items {
		if _, err := tx.ExecContext(ctx, `INSERT INTO download_items (job_id, item_id, position, title, kind, filename, state, duration_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, j.id, it.itemID, i, it.title, it.kind, it.filename, it.state, it.durationMs); err != nil {
			return fmt.Errorf("downloads: save job item: %w", err)
		}
	}
	return tx.Commit()
}

// saveItem records an item's state (a snapshot taken under the lock).
func (st records) saveItem(ctx context.Context, jobID string, it jitem) error {
	subs, _ := json.Marshal(it.subs)
	_, err := st.db.ExecContext(ctx, `UPDATE download_items SET state = ?, size = ?, file = ?, etag = ?, error = ?, subtitles = ?
		WHERE job_id = ? AND item_id = ?`, it.state, it.size, it.file, it.etag, it.err, string(subs), jobID, it.itemID)
	if err != nil {
		return fmt.Errorf("downloads: save item: %w", err)
	}
	return nil
}

func (st records) deleteJob(ctx context.Context, id string) error {
	if _, err := st.db.ExecContext(ctx, `DELETE FROM download_jobs WHERE id = ?`, id); err != nil {
		return fmt.Errorf("downloads: delete job: %w", err)
	}
	return nil
}

// jobs loads every job with its items, in creation order.
func (st records) jobs(ctx context.Context) ([]*job, error) {
	rows, err := st.db.QueryContext(ctx, `SELECT id, user_id, device_id, profile, fallback_reason, created_at FROM download_jobs ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("downloads: load jobs: %w", err)
	}
	var out []*job
	byID := map[string]*job{}
	for rows.Next() {
		j := &job{}
		var c int64
		if err := rows.Scan(&j.id, &j.userID, &j.deviceID, &j.profile, &j.fallback, &c); err != nil {
			rows.Close()
			return nil, fmt.Errorf("downloads: load jobs: %w", err)
		}
		j.created = time.UnixMilli(c).UTC()
		out = append(out, j)
		byID[j.id] = j
	}
	rows.Close()
	rows, err = st.db.QueryContext(ctx, `SELECT job_id, item_id, title, kind, filename, state, size, file, etag, error, duration_ms, subtitles
		FROM download_items ORDER BY job_id, position`)
	if err != nil {
		return nil, fmt.Errorf("downloads: load job items: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var jid string
		it := &jitem{}
		var subs string
		if err := rows.Scan(&jid, &it.itemID, &it.title, &it.kind, &it.filename, &it.state, &it.size, &it.file, &it.etag, &it.err, &it.durationMs, &subs); err != nil {
			return nil, fmt.Errorf("downloads: load job items: %w", err)
		}
		_ = json.Unmarshal([]byte(subs), &it.subs)
		if j := byID[jid]; j != nil {
			j.items = append(j.items, it)
		}
	}
	return out, rows.Err()
}
