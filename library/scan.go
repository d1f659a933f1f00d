package library

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// maxReportedErrors caps Progress.Errors; the count goes on in ProbeErrors.
const maxReportedErrors = 50

// batchSize is how many analysed files one write transaction holds.
const batchSize = 64

// walk lists the media files under the library root. A file's fingerprint
// mtime is the newest of its own and of the sidecars (.nfo, pictures) in
// its folder. Unreadable folders, and media or sidecar links leading
// outside the root, are reported and skipped; an unreadable root fails
// the scan.
func walk(ctx context.Context, lib Library) (files []fileEntry, problems []string, err error) {
	root := filepath.Clean(lib.Location)
	sidecars := map[string]int64{} // folder → newest sidecar mtime
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return nil, nil, fmt.Errorf("%w: library root %q is not a readable folder", ErrInvalid, root)
	}
	lr, err := NewRoot(root)
	if err != nil {
		return nil, nil, err
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if err != nil {
			if p == root {
				return err
			}
			problems = append(problems, fmt.Sprintf("%s: %v", relTo(root, p), err))
			return nil
		}
		name := d.Name()
		if p != root && (strings.HasPrefix(name, ".") || name == "@eaDir" || name == "#recycle") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 && (isSidecarName(name) || isMediaName(lib.Kind, name)) {
			if err := lr.Check(p); errors.Is(err, ErrOutsideRoot) {
				problems = append(problems, fmt.Sprintf("%s: skipped: a link that leads outside the library root", relTo(root, p)))
				return nil
			}
		}
		if isSidecarName(name) {
			if fi, err := d.Info(); err == nil {
				dir := filepath.Dir(p)
				sidecars[dir] = max(sidecars[dir], fi.ModTime().UnixNano())
			}
			return nil
		}
		if !isMediaName(lib.Kind, name) {
			return nil
		}
		fi, err := os.Stat(p) // follows symlinks, unlike d.Info
		if err != nil || !fi.Mode().IsRegular() {
			return nil
		}
		files = append(files, fileEntry{rel: relTo(root, p), abs: p, size: fi.Size(), mtimeNs: fi.ModTime().UnixNano()})
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("library: walk %s: %w", root, err)
	}
	// A changed .nfo or poster beside a file makes the file count as changed.
	for i, f := range files {
		files[i].mtimeNs = max(f.mtimeNs, sidecars[filepath.Dir(f.abs)])
	}
	return files, problems, nil
}

// isSidecarName reports metadata and picture files that sit beside media.
func isSidecarName(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".nfo", ".jpg", ".jpeg", ".png":
		return true
	}
	return false
}

func relTo(root, p string) string {
	rel, err := filepath.Rel(root, p)
	if err != nil {
		return p
	}
	return filepath.ToSlash(rel)
}

type fileState struct{ id, size, mtimeNs int64 }

// fileIndex loads the fingerprints (size, mtime) of a library's files.
func (s *Service) fileIndex(ctx context.Context, libraryID int64) (map[string]fileState, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, key, size, mtime_ns FROM library_items
		WHERE library_id = ? AND kind IN ('movie', 'episode', 'track')`, libraryID)
	if err != nil {
		return nil, fmt.Errorf("library: file index: %w", err)
	}
	defer rows.Close()
	out := map[string]fileState{}
	for rows.Next() {
		var k string
		var st fileState
		if err := rows.Scan(&st.id, &k, &st.size, &st.mtimeNs); err != nil {
			return nil, fmt.Errorf("library: file index: %w", err)
		}
		out[k] = st
	}
	return out, rows.Err()
}

// scan runs one scan of lib, reporting through upd; full re-reads
// unchanged files too. Changed files are
// probed by workers in parallel; one writer saves them in short batches so
// the database is never locked while libav works.
func (s *Service) scan(ctx context.Context, lib Library, workers int, full bool, upd func(func(*Progress))) error {
	if lib.Source != SourceLocal {
		return fmt.Errorf("%w: library %d is a %s library; import it instead", ErrInvalid, lib.ID, lib.Source)
	}
	upd(func(p *Progress) { p.Phase = PhaseWalking })
	files, problems, err := walk(ctx, lib)
	if err != nil {
		return err
	}
	known, err := s.fileIndex(ctx, lib.ID)
	if err != nil {
		return err
	}
	seen := make(map[string]bool, len(files))
	var todo []fileEntry
	for _, f := range files {
		seen[f.rel] = true
		if k, ok := known[f.rel]; ok && !full && k.size == f.size && k.mtimeNs == f.mtimeNs {
			continue
		}
		todo = append(todo, f)
	}
	unchanged := len(files) - len(todo)
	s.metrics.files.WithLabelValues("unchanged").Add(float64(unchanged))
	for _, pr := range problems {
		s.log.Warn("scan: file skipped", "library", lib.ID, "problem", pr)
	}
	upd(func(p *Progress) {
		p.Phase, p.FilesTotal, p.FilesDone, p.Unchanged = PhaseProbing, len(files), unchanged, unchanged
		for _, pr := range problems {
			p.addError(pr)
		}
	})
	if err := s.processFiles(ctx, lib, workers, todo, known, upd); err != nil {
		return err
	}
	upd(func(p *Progress) { p.Phase, p.CurrentFile = PhaseCleaning, "" })
	var gone []int64
	if len(problems) == 0 { // a folder we could not read is not a vanished folder
		for k, st := range known {
			if !seen[k] {
				gone = append(gone, st.id)
			}
		}
	}
	return s.finishScan(ctx, lib, gone, upd)
}

func (s *Service) processFiles(ctx context.Context, lib Library, workers int, todo []fileEntry,
	known map[string]fileState, upd func(func(*Progress))) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	root, err := NewRoot(lib.Location)
	if err != nil {
		return err
	}
	an := &analyser{lib: lib, root: root, providers: s.providers, log: s.log, shows: map[string]*showInfo{}}
	in := make(chan fileEntry)
	results := make(chan analysed, workers)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(in)
		for _, f := range todo {
			select {
			case in <- f:
			case <-ctx.Done():
				return
			}
		}
	})
	for range max(workers, 1) {
		wg.Go(func() {
			for f := range in {
				upd(func(p *Progress) { p.CurrentFile = f.rel })
				a := an.analyse(ctx, f)
				select {
				case results <- a:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	go func() { wg.Wait(); close(results) }()
	defer func() {
		cancel()
		for range results { // let workers exit
		}
	}()
	w := &writer{s: s, lib: lib, root: root, ids: map[string]int64{}}
	for a := range results {
		batch := []analysed{a}
	fill:
		for len(batch) < batchSize {
			select {
			case more, ok := <-results:
				if !ok {
					break fill
				}
				batch = append(batch, more)
			default:
				break fill
			}
		}
		if err := w.flush(ctx, batch, known, upd); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// writer saves analysed files; ids caches containers saved in this scan.
type writer struct {
	s    *Service
	lib  Library
	root Root
	ids  map[string]int64
}

func (w *writer) flush(ctx context.Context, batch []analysed, known map[string]fileState, upd func(func(*Progress))) error {
	tx, err := w.s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("library: save batch: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	now := w.s.now().UnixMilli()
	for _, a := range batch {
		parent := int64(0)
		for _, c := range a.parents {
			id, err := w.container(ctx, tx, c, parent, now)
			if err != nil {
				return err
			}
			parent = id
		}
		a.row.parentID = parent
		a.row.posterPath = a.poster
		id, err := upsertItem(ctx, tx, a.row, now)
		if err != nil {
			return err
		}
		if a.poster == "" && a.posterJPEG != nil {
			out := w.s.cachedPosterPath(id)
			if err := writeFileAtomic(out, a.posterJPEG); err != nil {
				return err
			}
			if err := setPoster(ctx, tx, id, out); err != nil {
				return fmt.Errorf("library: save poster: %w", err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("library: save batch: %w", err)
	}
	for _, a := range batch {
		for _, n := range a.notes {
			w.s.log.Info("scan: metadata cut to the library's limits", "library", w.lib.ID, "file", a.f.rel, "note", n)
		}
		_, existed := known[a.f.rel]
		if existed {
			w.s.metrics.files.WithLabelValues("updated").Inc()
		} else {
			w.s.metrics.files.WithLabelValues("added").Inc()
		}
		if a.row.probeError != "" {
			w.s.metrics.probeErrors.Inc()
		}
		upd(func(p *Progress) {
			p.FilesDone++
			if existed {
				p.Updated++
			} else {
				p.Added++
			}
			if a.row.probeError != "" {
				p.ProbeErrors++
				p.addError(a.f.rel + ": " + a.row.probeError)
			}
			if a.warn != "" {
				p.addError(a.f.rel + ": poster: " + a.warn)
			}
			for _, n := range a.notes {
				p.addError(a.f.rel + ": metadata: " + n)
			}
		})
	}
	return nil
}

// container saves a show, season, artist or album once per scan.
func (w *writer) container(ctx context.Context, tx execer, c container, parent int64, now int64) (int64, error) {
	if id, ok := w.ids[c.key]; ok {
		return id, nil
	}
	r := itemRow{libraryID: w.lib.ID, parentID: parent, kind: c.kind, key: c.key, title: c.title, year: c.year,
		season: c.season}
	applyNFO(&r, c.meta)
	for _, n := range r.clamp() {
		w.s.log.Info("scan: metadata cut to the library's limits", "library", w.lib.ID, "item", c.key, "note", n)
	}
	if c.dir != "" {
		r.posterPath = folderPoster(w.root, c.dir)
	}
	if r.posterPath == "" && c.kind == ItemSeason && c.dir != "" {
		// Kodi also names season posters in the show folder: season01-poster.jpg.
		name := fmt.Sprintf("season%02d-poster.jpg", c.season)
		if c.season == 0 {
			name = "season-specials-poster.jpg"
		}
		if p := filepath.Join(filepath.Dir(c.dir), name); w.root.isFile(p) {
			r.posterPath = p
		}
	}
	id, err := upsertItem(ctx, tx, r, now)
	if err != nil {
		return 0, err
	}
	w.ids[c.key] = id
	return id, nil
}

// finishScan removes vanished files and empty containers, fills container
// posters and stamps the library.
func (s *Service) finishScan(ctx context.Context, lib Library, gone []int64, upd func(func(*Progress))) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("library: finish scan: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := s.deleteItems(ctx, tx, gone); err != nil {
		return fmt.Errorf("library: remove vanished: %w", err)
	}
	if _, err := s.pruneContainers(ctx, tx, lib.ID); err != nil {
		return fmt.Errorf("library: prune: %w", err)
	}
	if err := inheritPosters(ctx, tx, lib.ID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE libraries SET last_scan_at = ? WHERE id = ?`, s.now().UnixMilli(), lib.ID); err != nil {
		return fmt.Errorf("library: finish scan: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("library: finish scan: %w", err)
	}
	s.metrics.files.WithLabelValues("removed").Add(float64(len(gone)))
	upd(func(p *Progress) { p.Removed = len(gone) })
	return nil
}

// errCanceled reports whether a scan ended because it was canceled.
func errCanceled(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
