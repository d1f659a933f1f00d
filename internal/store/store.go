// Package store opens Marquee's embedded SQLite database and brings its
// schema up to date.
//
// The database runs in WAL mode with synchronous=FULL: every transaction
// the API acknowledges has been fsynced to the WAL, so it survives a
// process crash (kill -9) and also an OS crash or power loss. NORMAL would
// also survive kill -9 (the WAL lives in the OS page cache) but may lose the
// last commits on power loss; the cost of FULL is one fsync per commit,
// which a control plane's write rate affords.
//
// Migrations are files named NNNN_name.sql under migrations/, applied in
// numeric order, each inside its own transaction together with its row in
// schema_version, so a crash mid-migration leaves the previous version.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

//go:embed migrations/*.sql
var embedded embed.FS

// Errors returned by Open and Migrate.
var (
	// ErrBadMigrationName means a file under migrations/ is not NNNN_name.sql.
	ErrBadMigrationName = errors.New("store: migration file name is not NNNN_name.sql")
	// ErrDuplicateMigration means two migration files share one version.
	ErrDuplicateMigration = errors.New("store: two migrations share a version")
	// ErrFutureSchema means the database was written by a newer binary.
	ErrFutureSchema = errors.New("store: database schema is newer than this binary")
)

// BusyTimeout is how long a connection waits for another writer's lock
// before failing with SQLITE_BUSY.
const BusyTimeout = 10 * time.Second

// Migration is one versioned schema change.
type Migration struct {
	// Version is the NNNN prefix of the file name.
	Version int
	// Name is the file name, e.g. 0001_core.sql.
	Name string
	// SQL is the file's contents, possibly several statements.
	SQL string
}

// Open opens (creating if needed) the SQLite database at file, applies every
// embedded migration, and returns the pool. Writers take the lock at BEGIN
// (txlock=immediate) so two read-then-write transactions never deadlock.
func Open(ctx context.Context, file string, log *slog.Logger) (*sql.DB, error) {
	db, err := OpenRaw(file)
	if err != nil {
		return nil, err
	}
	migs, err := Migrations(embedded)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	if err := Migrate(ctx, db, migs, log); err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}

// OpenRaw opens the database with Marquee's pragmas but applies no
// migrations; tests of the runner use it.
func OpenRaw(file string) (*sql.DB, error) {
	q := url.Values{}
	for _, p := range []string{
		"journal_mode(WAL)",
		"synchronous(FULL)",
		"foreign_keys(1)",
		fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()),
	} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	dsn := "file:" + file + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", file, err)
	}
	// One writer at a time is SQLite's rule anyway; a few connections let
	// readers proceed beside it under WAL.
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	if err := db.Ping(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store: open %s: %w", file, err)
	}
	return db, nil
}

// Migrations reads the NNNN_name.sql files at the root of dir (or under
// migrations/ when dir is the embedded tree) sorted by version.
func Migrations(fsys fs.FS) ([]Migration, error) {
	root := "."
	if _, err := fs.Stat(fsys, "migrations"); err == nil {
		root = "migrations"
	}
	entries, err := fs.ReadDir(fsys, root)
	if err != nil {
		return nil, fmt.Errorf("store: read migrations: %w", err)
	}
	var out []Migration
	seen := map[int]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		v, err := parseVersion(e.Name())
		if err != nil {
			return nil, err
		}
		if prev, ok := seen[v]; ok {
			return nil, fmt.Errorf("%w: %s and %s", ErrDuplicateMigration, prev, e.Name())
		}
		seen[v] = e.Name()
		b, err := fs.ReadFile(fsys, path.Join(root, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("store: read %s: %w", e.Name(), err)
		}
		out = append(out, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

func parseVersion(name string) (int, error) {
	num, rest, ok := strings.Cut(name, "_")
	if !ok || len(num) != 4 || rest == ".sql" {
		return 0, fmt.Errorf("%w: %s", ErrBadMigrationName, name)
	}
	v, err := strconv.Atoi(num)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("%w: %s", ErrBadMigrationName, name)
	}
	return v, nil
}

// Migrate applies the migrations newer than the database's version, each in
// its own transaction with its schema_version row.
func Migrate(ctx context.Context, db *sql.DB, migs []Migration, log *slog.Logger) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version INTEGER PRIMARY KEY,
		name TEXT NOT NULL,
		applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("store: create schema_version: %w", err)
	}
	cur, err := Version(ctx, db)
	if err != nil {
		return err
	}
	if n := len(migs); n > 0 && cur > migs[n-1].Version {
		return fmt.Errorf("%w: database at %d, binary knows up to %d", ErrFutureSchema, cur, migs[n-1].Version)
	}
	for _, m := range migs {
		if m.Version <= cur {
			continue
		}
		if err := apply(ctx, db, m); err != nil {
			return err
		}
		if log != nil {
			log.Info("schema migrated", "version", m.Version, "name", m.Name)
		}
	}
	return nil
}

func apply(ctx context.Context, db *sql.DB, m Migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: migration %s: %w", m.Name, err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return fmt.Errorf("store: migration %s: %w", m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version(version, name, applied_at) VALUES(?, ?, ?)`,
		m.Version, m.Name, time.Now().UnixMilli()); err != nil {
		return fmt.Errorf("store: migration %s: record version: %w", m.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: migration %s: commit: %w", m.Name, err)
	}
	return nil
}

// Version returns the highest applied migration, 0 for a new database.
func Version(ctx context.Context, db *sql.DB) (int, error) {
	var v sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("store: read schema version: %w", err)
	}
	return int(v.Int64), nil
}

// IsConstraint reports whether err is a SQLite constraint violation
// (UNIQUE, FOREIGN KEY, CHECK, NOT NULL), which callers map to a 409 or 400.
func IsConstraint(err error) bool {
	return err != nil && strings.Contains(err.Error(), "constraint failed")
}
