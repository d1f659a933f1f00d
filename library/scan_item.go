package library

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

var videoExts = map[string]bool{
	".mkv": true, ".mp4": true, ".m4v": true, ".avi": true, ".mov": true, ".webm": true, ".ts": true,
	".m2ts": true, ".wmv": true, ".mpg": true, ".mpeg": true, ".flv": true, ".ogv": true,
}

var audioExts = map[string]bool{
	".mp3": true, ".flac": true, ".m4a": true, ".aac": true, ".ogg": true, ".opus": true, ".wav": true,
	".wma": true, ".ape": true, ".wv": true, ".oga": true,
}

// isMediaName reports whether a file belongs in a library of this kind.
func isMediaName(kind Kind, name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	if kind == KindMusic {
		return audioExts[ext]
	}
	return videoExts[ext]
}

// fileEntry is one media file found by the walk.
type fileEntry struct {
	rel     string // slash-separated, relative to the library root
	abs     string
	size    int64
	mtimeNs int64
}

// container is a show, season, artist or album to create above a file.
type container struct {
	kind   ItemKind
	key    string
	title  string
	year   int
	season int
	dir    string // folder holding its poster, if any
	meta   *NFO
}

// analysed is a worker's view of one file, ready for the writer.
type analysed struct {
	f       fileEntry
	row     itemRow
	parents []container // outermost first
	// poster is a sidecar image path, or posterJPEG a generated picture.
	poster     string
	posterJPEG []byte
	// albumPoster is a track's album folder picture, used when the file
	// has neither a sidecar nor embedded cover art of its own.
	albumPoster string
	// warn says why no poster could be made (not a probe error).
	warn string
	// notes say which metadata fields were cut to the library's limits.
	notes []string
}

// analyser turns files into rows. It is shared by the scan's workers.
type analyser struct {
	lib       Library
	root      Root // lib.Location: sidecars are read only from under it
	providers []Provider
	log       interface{ Debug(string, ...any) }

	mu    sync.Mutex
	shows map[string]*showInfo
}

type showInfo struct {
	once sync.Once
	nfo  *NFO
	meta *Metadata
}

func (a *analyser) analyse(ctx context.Context, f fileEntry) analysed {
	out := analysed{f: f, row: itemRow{libraryID: a.lib.ID, key: f.rel, path: f.abs, size: f.size, mtimeNs: f.mtimeNs}}
	info, err := Probe(f.abs)
	if err != nil {
		out.row.probeError = err.Error()
	} else {
		out.row.media = &info
		out.row.durationMs = info.DurationMs
	}
	switch a.lib.Kind {
	case KindMovies:
		a.movie(ctx, &out)
	case KindShows:
		a.episode(ctx, &out)
	case KindMusic:
		a.track(&out)
	}
	if out.poster == "" && out.posterJPEG == nil && err == nil {
		out.posterJPEG, out.warn = picture(f.abs, &info)
	}
	if out.poster == "" && out.posterJPEG == nil && out.albumPoster != "" {
		out.poster, out.warn = out.albumPoster, ""
	}
	out.notes = out.row.clamp()
	return out
}

// picture makes a poster from the file itself: cover art for music, a frame
// at 10% of the runtime for video.
func picture(file string, info *MediaInfo) ([]byte, string) {
	if info.CoverArt >= 0 {
		b, err := coverArt(file, info.CoverArt)
		if err != nil {
			return nil, err.Error()
		}
		return b, ""
	}
	for _, v := range info.Video {
		if v.Index == info.CoverArt {
			continue
		}
		b, err := grabPoster(file, v.Index, info.DurationMs)
		if err != nil {
			return nil, err.Error()
		}
		return b, ""
	}
	return nil, ""
}

func (a *analyser) movie(ctx context.Context, out *analysed) {
	r := &out.row
	r.kind = ItemMovie
	dirs := splitDirs(out.f.rel)
	name := ParseMovie(StripExt(path.Base(out.f.rel)))
	if len(dirs) > 0 {
		// Movies in their own folder: "Title (Year)/file.mkv" names it best.
		if dn := ParseMovie(dirs[len(dirs)-1]); dn.Year > 0 && name.Year == 0 {
			name = dn
		}
	}
	r.title, r.year = name.Title, name.Year
	dir := filepath.Dir(out.f.abs)
	nfo := a.readNFO(filepath.Join(dir, StripExt(filepath.Base(out.f.abs))+".nfo"))
	if nfo == nil && len(dirs) > 0 {
		nfo = a.readNFO(filepath.Join(dir, "movie.nfo"))
	}
	applyNFO(r, nfo)
	out.poster = sidecarPoster(a.root, out.f.abs, len(dirs) > 0)
	if r.summary == "" {
		md, p := a.lookup(ctx, LookupQuery{Kind: ItemMovie, Title: r.title, Year: r.year, IDs: r.externalIDs}, r)
		if f, ok := p.(PosterFetcher); ok && out.poster == "" && md.PosterURL != "" {
			out.posterJPEG = fetchPoster(ctx, f, md.PosterURL)
		}
	}
}

func (a *analyser) episode(ctx context.Context, out *analysed) {
	r := &out.row
	r.kind = ItemEpisode
	ep := ParseEpisode(out.f.rel)
	r.title, r.season, r.episode = ep.Title, ep.Season, ep.Episode
	if r.title == "" {
		r.title = StripExt(path.Base(out.f.rel))
		if ep.Episode > 0 {
			r.title = fmt.Sprintf("Episode %d", ep.Episode)
		}
	}
	applyNFO(r, a.readNFO(strings.TrimSuffix(out.f.abs, filepath.Ext(out.f.abs))+".nfo"))
	if ep.Show == "" {
		ep.Show = "Unknown show"
	}
	dirs := splitDirs(out.f.rel)
	showDir, seasonDir := "", ""
	if len(dirs) > 0 {
		showDir = filepath.Join(a.lib.Location, filepath.FromSlash(dirs[0]))
		if len(dirs) > 1 {
			seasonDir = filepath.Join(a.lib.Location, filepath.FromSlash(path.Join(dirs[:2]...)))
		}
	}
	show := container{kind: ItemShow, key: "show:" + strings.ToLower(ep.Show), title: ep.Show, year: ep.ShowYear, dir: showDir}
	if showDir != "" {
		si := a.showInfo(ctx, show.key, showDir, ep.Show, ep.ShowYear)
		show.meta = si.nfo
		if si.meta != nil && si.nfo == nil {
			show.meta = &NFO{Title: si.meta.Title, Year: si.meta.Year, Plot: si.meta.Summary, Genres: si.meta.Genres, IDs: si.meta.IDs}
		}
	}
	season := container{kind: ItemSeason, key: fmt.Sprintf("season:%s:%d", strings.ToLower(ep.Show), ep.Season),
		title: seasonTitle(ep.Season), season: ep.Season, dir: seasonDir}
	out.parents = []container{show, season}
	out.poster = sidecarPoster(a.root, out.f.abs, false)
}

func (a *analyser) showInfo(ctx context.Context, key, dir, title string, year int) *showInfo {
	a.mu.Lock()
	si := a.shows[key]
	if si == nil {
		si = &showInfo{}
		a.shows[key] = si
	}
	a.mu.Unlock()
	si.once.Do(func() {
		si.nfo = a.readNFO(filepath.Join(dir, "tvshow.nfo"))
		if si.nfo == nil && len(a.providers) > 0 {
			var r itemRow
			_, _ = a.lookup(ctx, LookupQuery{Kind: ItemShow, Title: title, Year: year}, &r)
			if r.summary != "" {
				si.meta = &Metadata{Title: title, Year: r.year, Summary: r.summary, Genres: r.genres, IDs: r.externalIDs}
			}
		}
	})
	return si
}

func seasonTitle(n int) string {
	if n == 0 {
		return "Specials"
	}
	return "Season " + strconv.Itoa(n)
}

func (a *analyser) track(out *analysed) {
	r := &out.row
	r.kind = ItemTrack
	t := ParseTrack(out.f.rel)
	if mi := r.media; mi != nil {
		// Tags beat file names for music.
		if v := mi.Tags["title"]; v != "" {
			t.Title = v
		}
		if v := firstNonEmpty(mi.Tags["album_artist"], mi.Tags["artist"]); v != "" {
			t.Artist = strings.TrimSpace(v)
		}
		if v := mi.Tags["album"]; v != "" {
			t.Album = strings.TrimSpace(v)
		}
		if n := atoiPrefix(mi.Tags["track"], 4); n > 0 {
			t.Track = n
		}
		if y := atoiPrefix(mi.Tags["date"], 4); y > 0 {
			t.Year = y
		}
	}
	r.title, r.track, r.year = t.Title, t.Track, t.Year
	if t.Artist == "" {
		t.Artist = unknownArtist
	}
	if t.Album == "" {
		t.Album = unknownAlbum
	}
	albumDir := filepath.Dir(out.f.abs)
	if t.Disc > 0 && filepath.Dir(albumDir) != filepath.Clean(a.lib.Location) {
		if reDiscDir.MatchString(filepath.Base(albumDir)) {
			albumDir = filepath.Dir(albumDir)
		}
	}
	artistDir := ""
	if len(splitDirs(out.f.rel)) >= 2 {
		artistDir = filepath.Dir(albumDir)
	}
	artist := container{kind: ItemArtist, key: "artist:" + strings.ToLower(t.Artist), title: t.Artist, dir: artistDir}
	album := container{kind: ItemAlbum, key: "album:" + strings.ToLower(t.Artist) + ":" + strings.ToLower(t.Album),
		title: t.Album, year: t.Year, dir: albumDir}
	if albumDir == filepath.Clean(a.lib.Location) {
		album.dir = ""
	}
	out.parents = []container{artist, album}
	out.poster = sidecarPoster(a.root, out.f.abs, false)
	if album.dir != "" {
		// A disc folder's own picture first (Album/CD2/cover.jpg), then the album's.
		if own := filepath.Dir(out.f.abs); own != albumDir {
			out.albumPoster = folderPoster(a.root, own)
		}
		if out.albumPoster == "" {
			out.albumPoster = folderPoster(a.root, albumDir)
		}
	}
}

// lookup asks the providers, in order, and fills empty fields of r from
// the first that answers; it returns that answer and provider.
func (a *analyser) lookup(ctx context.Context, q LookupQuery, r *itemRow) (Metadata, Provider) {
	for _, p := range a.providers {
		lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		md, err := p.Lookup(lctx, q)
		cancel()
		if err != nil {
			a.log.Debug("provider lookup failed", "provider", p.Name(), "title", q.Title, "err", err)
			continue
		}
		if r.year == 0 {
			r.year = md.Year
		}
		if r.summary == "" {
			r.summary = md.Summary
		}
		if len(r.genres) == 0 {
			r.genres = md.Genres
		}
		if r.externalIDs == nil {
			r.externalIDs = map[string]string{}
		}
		for k, v := range md.IDs {
			if r.externalIDs[k] == "" {
				r.externalIDs[k] = v
			}
		}
		return md, p
	}
	return Metadata{}, nil
}

// fetchPoster downloads a provider's poster as JPEG, or returns nil.
func fetchPoster(ctx context.Context, f PosterFetcher, url string) []byte {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	b, err := f.FetchPoster(ctx, url)
	if err != nil || len(b) > maxPosterBytes {
		return nil
	}
	if !isJPEG(b) {
		if b, err = pngToJPEG(b); err != nil {
			return nil
		}
	}
	return b
}

// readNFO parses a sidecar if it exists under the library root;
// unreadable ones are ignored.
func (a *analyser) readNFO(p string) *NFO {
	f, err := a.root.Open(p)
	if err != nil {
		return nil
	}
	defer f.Close()
	n, err := ParseNFO(f)
	if err != nil {
		return nil
	}
	return &n
}

// applyNFO lets sidecar metadata override what the file name said.
func applyNFO(r *itemRow, n *NFO) {
	if n == nil {
		return
	}
	if n.Title != "" {
		r.title = n.Title
	}
	if n.SortTitle != "" {
		r.sortTitle = n.SortTitle
	}
	if n.Year > 0 {
		r.year = n.Year
	}
	r.summary = n.Plot
	if len(n.Genres) > 0 {
		r.genres = n.Genres
	}
	if len(n.IDs) > 0 {
		r.externalIDs = n.IDs
	}
	if n.Season > 0 && r.kind == ItemEpisode {
		r.season = n.Season
	}
	if n.Episode > 0 && r.kind == ItemEpisode {
		r.episode = n.Episode
	}
	if r.durationMs == 0 && n.RuntimeMinutes > 0 {
		r.durationMs = int64(n.RuntimeMinutes) * 60_000
	}
}
