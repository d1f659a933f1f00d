// Package library is Marquee's media catalog: libraries (folders typed
// movies, shows or music, or views imported from Jellyfin), their items,
// scans, posters, manual edits and playback resolution. It stores
// everything in the control plane's SQLite database (migration
// internal/store/migrations/0002_library.sql) and writes no HTTP handlers:
// the control plane (cmd/api) calls this Go API from its own.
//
// # Catalog
//
//	svc, err := library.New(library.Params{DB: db, DataDir: dir, Logger: log, Registerer: reg})
//	lib, err := svc.CreateLibrary(ctx, "Films", "/srv/films", library.KindMovies)
//	libs, err := svc.Libraries(ctx)             // filter by the caller's access
//	items, err := svc.Items(ctx, library.Query{LibraryIDs: allowed, ParentID: 0, Search: "matrix"})
//	it, err := svc.Item(ctx, id)                // check it.LibraryID against access
//	it, err = svc.EditItem(ctx, id, library.Edit{Title: &t}) // survives rescans
//	it, err = svc.ResetEdits(ctx, id)
//	f, err := svc.PosterFile(ctx, id)           // JPEG to serve; ErrNoPoster if none
//	err = svc.DeleteLibrary(ctx, id)
//
// Items form trees: movie; show → season → episode; artist → album →
// track. Query with ParentID 0 lists the top level; every Item carries its
// LibraryID so the control plane can enforce per-library access (pass
// Query.LibraryIDs = the libraries a user may see; an empty non-nil slice
// returns nothing).
//
// # Scans
//
// A Scanner owns the scan goroutine; scans run one at a time, are
// recursive and incremental (files with unchanged size and mtime are
// skipped; vanished files are removed, unless a folder could not be read),
// and probe changed files through libav in a worker pool. A file libav
// cannot read becomes an item with ProbeError set; it never stops a scan.
//
//	sc := library.NewScanner(library.ScannerParams{Service: svc, Logger: log})
//	defer sc.Close()                            // cancels a running scan, waits
//	err := sc.Scan(ctx, lib.ID)                 // ErrScanRunning if queued/running
//	err = sc.ScanFull(ctx, lib.ID)              // re-read every file (e.g. TMDB just enabled)
//	p := sc.Progress(lib.ID)                    // snapshot: state, percent, files, current file, errors
//	ch, stop := sc.Subscribe(lib.ID)            // latest-wins stream of Progress, for SSE
//	sc.Cancel(lib.ID)
//
// Subscribe(0) follows every library through one latest-wins channel, so
// with several scans queued a slow reader may miss one library's final
// state; subscribe per library when each final state matters.
//
// RunScanCLI runs one scan for a `scan` sub-command with a terminal
// progress bar (plain lines when not a terminal); package
// library/scanbench times scans for a `bench` sub-command.
//
// Metadata comes from file names (ParseMovie, ParseEpisode, ParseTrack),
// Kodi/Jellyfin .nfo sidecars (ParseNFO), container tags (music), and
// optional Providers (library/tmdb), which are off unless configured.
// A changed .nfo or picture in a file's folder counts as a change of
// the file. Posters come from sidecar pictures, embedded cover art, a provider, or a
// frame grabbed at 10% of the runtime and scaled to 300 px, cached in
// DataDir/posters/<item id>.jpg. A track without a picture of its own
// shows its album's: the album folder's cover.jpg or folder.jpg, else the
// album's poster.
//
// # Playback
//
//	tg, err := svc.ResolvePlayback(ctx, id, library.ResolveOptions{Played: historyFn})
//	// tg.MediaType, tg.Title and tg.Playback are the fields of the ingest's
//	// POST /sessions/{id}/play; set tg.Playback.PosterURL to your poster route.
//
// A show or season resolves to its first unplayed episode (regular seasons
// before specials), an artist or album to its first track. Local items
// play from their file path (the ingest's media.roots must include the
// library folders); Jellyfin items from stream and download URLs, which
// carry the Jellyfin API key: do not log them.
package library
