package library

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Playback is the ingest worker's playback contract
// (POST /sessions/{id}/play, field "playback").
type Playback struct {
	ItemID string `json:"itemId"`
	// StreamURL is played first: a local path or an http(s) URL.
	StreamURL string `json:"streamUrl"`
	// DownloadURL is the fallback when StreamURL fails.
	DownloadURL     string  `json:"downloadUrl,omitempty"`
	DurationSeconds float64 `json:"durationSeconds"`
	// PosterURL is left empty: the control plane fills it with its own
	// poster route for Item.ID.
	PosterURL    string  `json:"posterUrl,omitempty"`
	StartSeconds float64 `json:"startSeconds,omitempty"`
}

// Target is a resolved playable item: what the control plane puts in a
// queue entry and sends to the ingest.
type Target struct {
	// Item is the playable item (a movie, an episode or a track), which may
	// differ from the item asked for (a show resolves to an episode).
	Item Item
	// MediaType is the ingest's mediaType: "movie", "episode" or "track".
	MediaType string
	Title     string
	Playback  Playback
}

// RemoteResolver turns an item imported from a remote source into a
// playable target; package library/jellyfin implements it. It gets
// playable items, shows and seasons (for which it asks the source which
// episode is next). The Target's Item may carry only SourceID: the library
// fills in the rest from its catalog.
type RemoteResolver interface {
	Resolve(ctx context.Context, lib Library, it Item) (Target, error)
}

// resolveRemote resolves items of remote libraries: albums and artists are
// walked down locally, the rest is asked of the source's resolver.
func (s *Service) resolveRemote(ctx context.Context, lib Library, it Item, opt ResolveOptions) (Target, error) {
	r := s.remotes[lib.Source]
	if r == nil {
		return Target{}, fmt.Errorf("%w: no resolver for source %s", ErrNotPlayable, lib.Source)
	}
	if it.Kind == ItemArtist || it.Kind == ItemAlbum {
		leaf, err := s.firstLeaf(ctx, it, opt)
		if err != nil {
			return Target{}, err
		}
		it = leaf
	}
	tg, err := r.Resolve(ctx, lib, it)
	if err != nil {
		return Target{}, err
	}
	if tg.Item.ID == 0 {
		local, err := s.itemBySource(ctx, lib.ID, tg.Item.SourceID)
		if err != nil {
			return Target{}, err
		}
		tg.Item = local
	}
	tg.Playback.ItemID = strconv.FormatInt(tg.Item.ID, 10)
	if tg.Title == "" {
		tg.Title = s.partyTitle(ctx, tg.Item)
	}
	tg.Title, _ = Truncate(tg.Title, MaxTitleBytes)
	if tg.MediaType == "" {
		tg.MediaType = mediaType(tg.Item.Kind)
	}
	if tg.Playback.DurationSeconds == 0 {
		tg.Playback.DurationSeconds = float64(tg.Item.DurationMs) / 1000
	}
	return tg, nil
}

func (s *Service) itemBySource(ctx context.Context, libraryID int64, sourceID string) (Item, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT id FROM library_items WHERE library_id = ? AND source_id = ?`,
		libraryID, sourceID).Scan(&id)
	if err != nil {
		return Item{}, fmt.Errorf("%w: remote item %q not imported (import the library again): %v", ErrNotFound, sourceID, err)
	}
	return s.Item(ctx, id)
}

// ResolveOptions tune ResolvePlayback.
type ResolveOptions struct {
	// Played reports whether the caller has already watched an item; a
	// show or season resolves to its first episode not played. Nil means
	// only the items' own Played flags count.
	Played func(itemID int64) bool
}

// ResolvePlayback returns what to play for item id: the item itself when it
// is a file; a show's or season's first unplayed episode (regular seasons
// before specials); an album's or artist's first track.
func (s *Service) ResolvePlayback(ctx context.Context, id int64, opt ResolveOptions) (Target, error) {
	it, err := s.Item(ctx, id)
	if err != nil {
		return Target{}, err
	}
	lib, err := s.Library(ctx, it.LibraryID)
	if err != nil {
		return Target{}, err
	}
	if lib.Source != SourceLocal {
		return s.resolveRemote(ctx, lib, it, opt)
	}
	if !it.Kind.Playable() {
		leaf, err := s.firstLeaf(ctx, it, opt)
		if err != nil {
			return Target{}, err
		}
		it = leaf
	}
	if it.ProbeError != "" {
		return Target{}, fmt.Errorf("%w: item %d: %s", ErrNotPlayable, it.ID, it.ProbeError)
	}
	tg := LocalTarget(it)
	tg.Title = s.partyTitle(ctx, it)
	return tg, nil
}

// partyTitle names a playable item for a party's queue: "Show – S01E02 –
// Name" for episodes, "Artist – Title" for tracks, the title otherwise.
func (s *Service) partyTitle(ctx context.Context, it Item) string {
	title := DisplayTitle(it)
	var top string
	switch it.Kind {
	case ItemEpisode, ItemTrack: // episode → season → show; track → album → artist
		if parent, err := s.Item(ctx, it.ParentID); err == nil && parent.ParentID != 0 {
			if grand, err := s.Item(ctx, parent.ParentID); err == nil {
				top = grand.Title
			}
		}
	}
	if top == "" {
		return title
	}
	t, _ := Truncate(top+" – "+title, MaxTitleBytes)
	return t
}

// LocalTarget builds the target of a playable local item.
func LocalTarget(it Item) Target {
	return Target{
		Item: it, MediaType: mediaType(it.Kind), Title: DisplayTitle(it),
		Playback: Playback{ItemID: strconv.FormatInt(it.ID, 10), StreamURL: it.Path,
			DurationSeconds: float64(it.DurationMs) / 1000},
	}
}

func mediaType(k ItemKind) string {
	switch k {
	case ItemEpisode:
		return "episode"
	case ItemTrack:
		return "track"
	}
	return "movie"
}

// DisplayTitle is an item's title with its place: "S01E02 – Name" for
// episodes, the title otherwise. ResolvePlayback's Target.Title adds the
// show (or, for tracks, the artist) in front.
// It is at most MaxTitleBytes long.
func DisplayTitle(it Item) string {
	t := it.Title
	if it.Kind == ItemEpisode && it.EpisodeNumber > 0 {
		t = fmt.Sprintf("S%02dE%02d – %s", it.SeasonNumber, it.EpisodeNumber, it.Title)
	}
	t, _ = Truncate(t, MaxTitleBytes)
	return t
}

// PlayOrder returns what starting item id plays, in order: the item itself
// when it is playable; an album's tracks; a season's episodes; a show's
// episodes season by season, specials (season 0) last; an artist's albums'
// tracks. A container with nothing playable is ErrNotPlayable.
func (s *Service) PlayOrder(ctx context.Context, id int64) ([]Item, error) {
	it, err := s.Item(ctx, id)
	if err != nil {
		return nil, err
	}
	if it.Kind.Playable() {
		return []Item{it}, nil
	}
	return s.orderedLeaves(ctx, it)
}

func (s *Service) orderedLeaves(ctx context.Context, it Item) ([]Item, error) {
	var leaves []Item
	if err := s.collectLeaves(ctx, it.ID, 0, &leaves); err != nil {
		return nil, err
	}
	if len(leaves) == 0 {
		return nil, fmt.Errorf("%w: %s %d has no playable items", ErrNotPlayable, it.Kind, it.ID)
	}
	// Specials (season 0) come after the regular seasons.
	var regular, specials []Item
	for _, l := range leaves {
		if l.Kind == ItemEpisode && l.SeasonNumber == 0 {
			specials = append(specials, l)
		} else {
			regular = append(regular, l)
		}
	}
	return append(regular, specials...), nil
}

// firstLeaf walks down a container, in display order, to the first playable
// child not yet played (or the very first if all were played).
func (s *Service) firstLeaf(ctx context.Context, it Item, opt ResolveOptions) (Item, error) {
	ordered, err := s.orderedLeaves(ctx, it)
	if err != nil {
		return Item{}, err
	}
	for _, l := range ordered {
		played := l.Played || (opt.Played != nil && opt.Played(l.ID))
		if !played && l.ProbeError == "" {
			return l, nil
		}
	}
	return ordered[0], nil
}

func (s *Service) collectLeaves(ctx context.Context, parent int64, depth int, out *[]Item) error {
	if depth > 3 {
		return nil
	}
	kids, err := s.Items(ctx, Query{ParentID: parent, Limit: 1000})
	if err != nil {
		return err
	}
	for _, k := range kids {
		if k.Kind.Playable() {
			*out = append(*out, k)
			continue
		}
		if err := s.collectLeaves(ctx, k.ID, depth+1, out); err != nil {
			return err
		}
	}
	return nil
}

// RemoteItem is an item of a remote source, as an importer sees it.
type RemoteItem struct {
	// SourceID is the item's id in the source; ParentSourceID its parent's
	// (series for a season, season for an episode), empty at top level.
	SourceID       string
	ParentSourceID string
	Kind           ItemKind
	Title          string
	Year           int
	Summary        string
	Genres         []string
	ExternalIDs    map[string]string
	Season         int
	Episode        int
	Track          int
	DurationMs     int64
	Played         bool
}

// ImportResult counts what ImportRemote did and maps source ids to item ids.
type ImportResult struct {
	Saved   int
	Removed int
	IDs     map[string]int64
}

// ErrOrphan means a RemoteItem names a parent that is not in the import.
var ErrOrphan = errors.New("library: remote item parent missing")

// ImportRemote replaces the items of a remote library with items (parents
// must come before their children). Edits of items that stay are kept.
func (s *Service) ImportRemote(ctx context.Context, libraryID int64, items []RemoteItem) (ImportResult, error) {
	lib, err := s.Library(ctx, libraryID)
	if err != nil {
		return ImportResult{}, err
	}
	if lib.Source == SourceLocal {
		return ImportResult{}, fmt.Errorf("%w: library %d is local", ErrInvalid, libraryID)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return ImportResult{}, fmt.Errorf("library: import: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	res := ImportResult{IDs: map[string]int64{}}
	now := s.now().UnixMilli()
	for _, ri := range items {
		var parent int64
		if ri.ParentSourceID != "" {
			if parent = res.IDs[ri.ParentSourceID]; parent == 0 {
				return ImportResult{}, fmt.Errorf("%w: %s %q", ErrOrphan, ri.Kind, ri.SourceID)
			}
		}
		id, err := upsertItem(ctx, tx, itemRow{
			libraryID: libraryID, parentID: parent, kind: ri.Kind, key: "remote:" + ri.SourceID,
			title: ri.Title, year: ri.Year, summary: ri.Summary, genres: ri.Genres, externalIDs: ri.ExternalIDs,
			season: ri.Season, episode: ri.Episode, track: ri.Track, durationMs: ri.DurationMs,
			sourceID: ri.SourceID, played: ri.Played,
		}, now)
		if err != nil {
			return ImportResult{}, err
		}
		res.IDs[ri.SourceID] = id
		res.Saved++
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, source_id FROM library_items WHERE library_id = ?`, libraryID)
	if err != nil {
		return ImportResult{}, fmt.Errorf("library: import: %w", err)
	}
	var gone []int64
	for rows.Next() {
		var id int64
		var src string
		if err := rows.Scan(&id, &src); err != nil {
			rows.Close()
			return ImportResult{}, fmt.Errorf("library: import: %w", err)
		}
		if _, ok := res.IDs[src]; !ok {
			gone = append(gone, id)
		}
	}
	rows.Close()
	if err := s.deleteItems(ctx, tx, gone); err != nil {
		return ImportResult{}, fmt.Errorf("library: import: %w", err)
	}
	res.Removed = len(gone)
	if _, err := tx.ExecContext(ctx, `UPDATE libraries SET last_scan_at = ? WHERE id = ?`, now, libraryID); err != nil {
		return ImportResult{}, fmt.Errorf("library: import: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return ImportResult{}, fmt.Errorf("library: import: %w", err)
	}
	return res, nil
}

// maxPosterBytes bounds a poster image taken from a remote source.
const maxPosterBytes = 10 << 20

// SetPosterImage stores a JPEG or PNG poster for an item (for instance one
// fetched from Jellyfin or TMDB) in the poster cache.
func (s *Service) SetPosterImage(ctx context.Context, id int64, r io.Reader) error {
	data, err := io.ReadAll(io.LimitReader(r, maxPosterBytes+1))
	if err != nil {
		return fmt.Errorf("library: poster %d: %w", id, err)
	}
	if len(data) > maxPosterBytes || !(isJPEG(data) || isPNG(data)) {
		return fmt.Errorf("%w: poster for item %d is not a JPEG or PNG under 10 MiB", ErrInvalid, id)
	}
	if isPNG(data) {
		if data, err = pngToJPEG(data); err != nil {
			return fmt.Errorf("%w: poster %d: %v", ErrInvalid, id, err)
		}
	}
	if _, err := s.Item(ctx, id); err != nil {
		return err
	}
	out := s.cachedPosterPath(id)
	if err := writeFileAtomic(out, data); err != nil {
		return err
	}
	return setPoster(ctx, s.db, id, out)
}

func isJPEG(b []byte) bool { return len(b) > 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF }
func isPNG(b []byte) bool  { return strings.HasPrefix(string(b[:min(len(b), 8)]), "\x89PNG\r\n\x1a\n") }

// PosterFile opens an item's poster for serving. It returns ErrNoPoster
// when the item has none, or when its recorded poster is not a regular
// file under the item's library root or the poster cache (a link leading
// elsewhere, recorded before scans refused them).
func (s *Service) PosterFile(ctx context.Context, id int64) (*os.File, error) {
	it, err := s.Item(ctx, id)
	if err != nil {
		return nil, err
	}
	if it.PosterPath == "" {
		return nil, fmt.Errorf("%w: item %d", ErrNoPoster, id)
	}
	root, name, err := s.posterRoot(ctx, it)
	if err != nil {
		return nil, fmt.Errorf("%w: item %d: %v", ErrNoPoster, id, err)
	}
	f, err := root.Open(name)
	if err != nil {
		if errors.Is(err, ErrOutsideRoot) {
			s.log.Warn("poster refused: outside its root", "item", id, "err", err)
		}
		return nil, fmt.Errorf("%w: item %d: %v", ErrNoPoster, id, err)
	}
	return f, nil
}

// posterRoot is the folder an item's poster must lie under, and its name
// there: the poster cache for generated and fetched pictures, else the
// local library's root.
func (s *Service) posterRoot(ctx context.Context, it Item) (Root, string, error) {
	cache := filepath.Join(s.dataDir, "posters")
	if filepath.Dir(filepath.Clean(it.PosterPath)) == filepath.Clean(cache) {
		r, err := NewRoot(cache)
		return r, filepath.Base(it.PosterPath), err
	}
	lib, err := s.Library(ctx, it.LibraryID)
	if err != nil {
		return Root{}, "", err
	}
	if lib.Source != SourceLocal || !filepath.IsAbs(it.PosterPath) {
		return Root{}, "", fmt.Errorf("%w: %s poster %q", ErrOutsideRoot, lib.Source, it.PosterPath)
	}
	r, err := NewRoot(lib.Location)
	return r, it.PosterPath, err
}
