package library

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Errors returned by the library. Check them with errors.Is.
var (
	// ErrNotFound means no library or item has the given id.
	ErrNotFound = errors.New("library: not found")
	// ErrInvalid means a caller-supplied value (kind, path, edit) is unusable.
	ErrInvalid = errors.New("library: invalid argument")
	// ErrExists means a library already covers the same location.
	ErrExists = errors.New("library: already exists")
	// ErrNotPlayable means the item has nothing an ingest could play
	// (a container without playable children, or a file whose probe failed).
	ErrNotPlayable = errors.New("library: item not playable")
	// ErrScanRunning means a scan of that library is already queued or running.
	ErrScanRunning = errors.New("library: scan already running")
	// ErrClosed means the scanner was closed.
	ErrClosed = errors.New("library: scanner closed")
)

// Kind is what a library holds; it decides how file names are read.
type Kind string

// Library kinds.
const (
	KindMovies Kind = "movies"
	KindShows  Kind = "shows"
	KindMusic  Kind = "music"
)

// Valid reports whether k is one of the library kinds.
func (k Kind) Valid() bool { return k == KindMovies || k == KindShows || k == KindMusic }

// Source says where a library's items come from.
type Source string

// Library sources.
const (
	SourceLocal    Source = "local"
	SourceJellyfin Source = "jellyfin"
)

// Library is a folder (or a remote view) of one kind of media.
type Library struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Kind     Kind   `json:"kind"`
	Source   Source `json:"source"`
	Location string `json:"location"`
	// LastScanAt is zero until the first scan finishes.
	LastScanAt time.Time `json:"lastScanAt,omitzero"`
	CreatedAt  time.Time `json:"createdAt"`
}

// Params configures a Service.
type Params struct {
	// DB is an open SQLite database with migration 0002_library applied.
	DB *sql.DB
	// DataDir holds generated posters (DataDir/posters/<item id>.jpg).
	DataDir string
	// Providers are asked, in order, for metadata of new movies and shows.
	// Empty (the default) means no lookups: there may be no network.
	Providers []Provider
	// Remotes resolve playback of items imported from remote sources,
	// keyed by source (e.g. SourceJellyfin). Optional.
	Remotes map[Source]RemoteResolver
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Registerer receives the library metrics; nil means none are registered.
	Registerer prometheus.Registerer
	// Now defaults to time.Now; tests may pin it.
	Now func() time.Time
}

// Service is the catalog: libraries, items, edits and playback resolution.
// It is safe for concurrent use; scans run in a Scanner.
type Service struct {
	db        *sql.DB
	dataDir   string
	providers []Provider
	remotes   map[Source]RemoteResolver
	log       *slog.Logger
	metrics   *metrics
	now       func() time.Time
}

// New returns a Service over p.DB.
func New(p Params) (*Service, error) {
	if p.DB == nil {
		return nil, fmt.Errorf("%w: nil DB", ErrInvalid)
	}
	if p.DataDir == "" {
		return nil, fmt.Errorf("%w: empty DataDir", ErrInvalid)
	}
	if err := os.MkdirAll(filepath.Join(p.DataDir, "posters"), 0o755); err != nil {
		return nil, fmt.Errorf("library: data dir: %w", err)
	}
	if p.Logger == nil {
		p.Logger = slog.Default()
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	m, err := newMetrics(p.Registerer)
	if err != nil {
		return nil, err
	}
	return &Service{
		db: p.DB, dataDir: p.DataDir, providers: p.Providers, remotes: p.Remotes,
		log: p.Logger.With("component", "library"), metrics: m, now: p.Now,
	}, nil
}

// CreateLibrary registers a local folder as a library of the given kind.
// The folder must exist; its path is stored absolute and cleaned.
func (s *Service) CreateLibrary(ctx context.Context, name, path string, kind Kind) (Library, error) {
	if !kind.Valid() {
		return Library{}, fmt.Errorf("%w: kind %q (want movies, shows or music)", ErrInvalid, kind)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return Library{}, fmt.Errorf("%w: path %q: %v", ErrInvalid, path, err)
	}
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		return Library{}, fmt.Errorf("%w: %q is not a readable folder", ErrInvalid, path)
	}
	if name == "" {
		name = filepath.Base(abs)
	}
	return s.insertLibrary(ctx, name, kind, SourceLocal, abs)
}

// CreateRemoteLibrary registers a library whose items come from a remote
// source (see ImportRemote). location identifies the remote collection.
func (s *Service) CreateRemoteLibrary(ctx context.Context, name string, kind Kind, src Source, location string) (Library, error) {
	if !kind.Valid() || src == SourceLocal || src == "" || location == "" {
		return Library{}, fmt.Errorf("%w: remote library %q kind %q source %q", ErrInvalid, location, kind, src)
	}
	return s.insertLibrary(ctx, name, kind, src, location)
}

func (s *Service) insertLibrary(ctx context.Context, name string, kind Kind, src Source, loc string) (Library, error) {
	now := s.now()
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM libraries WHERE source = ? AND location = ?`, src, loc).Scan(&n); err != nil {
		return Library{}, fmt.Errorf("library: create: %w", err)
	}
	if n > 0 {
		return Library{}, fmt.Errorf("%w: %s %q", ErrExists, src, loc)
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO libraries (name, kind, source, location, created_at) VALUES (?, ?, ?, ?, ?)`,
		name, kind, src, loc, now.UnixMilli())
	if err != nil {
		return Library{}, fmt.Errorf("library: create: %w", err)
	}
	id, _ := res.LastInsertId()
	return Library{ID: id, Name: name, Kind: kind, Source: src, Location: loc, CreatedAt: time.UnixMilli(now.UnixMilli())}, nil
}

// FindLibrary returns the library with the given source and location.
func (s *Service) FindLibrary(ctx context.Context, src Source, location string) (Library, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT id FROM libraries WHERE source = ? AND location = ?`, src, location).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Library{}, fmt.Errorf("%w: library %s %q", ErrNotFound, src, location)
	}
	if err != nil {
		return Library{}, fmt.Errorf("library: find: %w", err)
	}
	return s.Library(ctx, id)
}

const libraryCols = `id, name, kind, source, location, created_at, coalesce(last_scan_at, 0)`

func scanLibraryRow(row interface{ Scan(...any) error }) (Library, error) {
	var l Library
	var created, scanned int64
	if err := row.Scan(&l.ID, &l.Name, &l.Kind, &l.Source, &l.Location, &created, &scanned); err != nil {
		return Library{}, err
	}
	l.CreatedAt = time.UnixMilli(created)
	if scanned > 0 {
		l.LastScanAt = time.UnixMilli(scanned)
	}
	return l, nil
}

// Library returns one library by id.
func (s *Service) Library(ctx context.Context, id int64) (Library, error) {
	l, err := scanLibraryRow(s.db.QueryRowContext(ctx, `SELECT `+libraryCols+` FROM libraries WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Library{}, fmt.Errorf("%w: library %d", ErrNotFound, id)
	}
	if err != nil {
		return Library{}, fmt.Errorf("library: get %d: %w", id, err)
	}
	return l, nil
}

// Libraries lists every library ordered by name. The control plane filters
// the list by the caller's per-library access.
func (s *Service) Libraries(ctx context.Context) ([]Library, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+libraryCols+` FROM libraries ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("library: list: %w", err)
	}
	defer rows.Close()
	var out []Library
	for rows.Next() {
		l, err := scanLibraryRow(rows)
		if err != nil {
			return nil, fmt.Errorf("library: list: %w", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// DeleteLibrary removes a library, its items and their edits. Media files
// are never touched; cached posters of its items are removed.
func (s *Service) DeleteLibrary(ctx context.Context, id int64) error {
	if _, err := s.Library(ctx, id); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("library: delete: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	rows, err := tx.QueryContext(ctx, `SELECT id FROM library_items WHERE library_id = ?`, id)
	if err != nil {
		return fmt.Errorf("library: delete: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var iid int64
		if err := rows.Scan(&iid); err != nil {
			rows.Close()
			return fmt.Errorf("library: delete: %w", err)
		}
		ids = append(ids, iid)
	}
	rows.Close()
	for _, q := range []string{
		`DELETE FROM item_edits WHERE item_id IN (SELECT id FROM library_items WHERE library_id = ?)`,
		`DELETE FROM library_items WHERE library_id = ?`,
		`DELETE FROM libraries WHERE id = ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return fmt.Errorf("library: delete: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("library: delete: %w", err)
	}
	for _, iid := range ids {
		_ = os.Remove(s.cachedPosterPath(iid))
	}
	return nil
}

func (s *Service) cachedPosterPath(itemID int64) string {
	return filepath.Join(s.dataDir, "posters", fmt.Sprintf("%d.jpg", itemID))
}
