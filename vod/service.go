package vod

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/marquee-party/marquee/vod/segcache"
	"github.com/prometheus/client_golang/prometheus"
)

// Opener opens a library file by its path; library.Root is one (it
// refuses files outside the library root after symlinks).
type Opener interface {
	Open(name string) (*os.File, error)
}

// Config is the vod.* configuration.
type Config struct {
	CacheDir       string        // where segments live (vod.cache_dir)
	MaxBytes       int64         // cache bound (vod.max_bytes)
	SegmentSeconds int           // segment duration D (vod.segment_seconds)
	Workers        int           // segments encoded at once, all items together (vod.workers)
	Lookahead      int           // segments encoded beyond the furthest request
	Idle           time.Duration // an encoder with no requests this long stops
}

// DefaultConfig returns the defaults; CacheDir has none.
func DefaultConfig() Config {
	return Config{MaxBytes: 20 << 30, SegmentSeconds: 4, Workers: 1, Lookahead: 3, Idle: 30 * time.Second}
}

// Validate reports the first bad setting.
func (c Config) Validate() error {
	switch {
	case c.CacheDir == "":
		return errors.New("vod.cache_dir is empty: set a directory for the segment cache")
	case c.MaxBytes < 1<<20:
		return fmt.Errorf("vod.max_bytes is %d: give the segment cache at least 1 MiB", c.MaxBytes)
	case c.SegmentSeconds < 1 || c.SegmentSeconds > 30:
		return fmt.Errorf("vod.segment_seconds is %d: use 1 to 30 (HLS players expect about 2 to 10)", c.SegmentSeconds)
	case c.Workers < 1:
		return fmt.Errorf("vod.workers is %d: use at least 1", c.Workers)
	case c.Lookahead < 0:
		return fmt.Errorf("vod lookahead is %d: use 0 or more", c.Lookahead)
	}
	return nil
}

// Service makes and serves HLS renditions of library files from the
// shared segment cache. Each (source, rendition) has one encoder
// goroutine that owns its libav pipeline: concurrent requests for a cold
// segment queue on it and are answered by one encode.
type Service struct {
	cfg      Config
	segTicks int64
	cache    *segcache.Cache
	m        *metrics
	log      *slog.Logger
	workers  chan struct{}
	ctx      context.Context
	stop     context.CancelFunc
	wg       sync.WaitGroup
	sidecars sidecarCache // parsed subtitle files (sidecar.go); its own lock

	mu        sync.Mutex
	timelines map[string]*timelineEntry // by source ID
	encoders  map[string]*encoder       // by source ID + rendition
}

type timelineEntry struct {
	path  string
	ready chan struct{}
	tl    *Timeline
	err   error
}

// New opens the cache (rebuilding its index from disk) and returns the
// service; Close stops its encoders.
func New(cfg Config, reg prometheus.Registerer, log *slog.Logger) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c, err := segcache.Open(cfg.CacheDir, cfg.MaxBytes)
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	ctx, stop := context.WithCancel(context.Background())
	return &Service{cfg: cfg, segTicks: int64(cfg.SegmentSeconds) * clock, cache: c, m: m, log: log,
		workers: make(chan struct{}, cfg.Workers), ctx: ctx, stop: stop,
		timelines: map[string]*timelineEntry{}, encoders: map[string]*encoder{}}, nil
}

// Close stops every encoder and waits for them.
func (s *Service) Close() {
	s.stop()
	s.wg.Wait()
}

// item is one request's view of a source: its identity and timeline.
type item struct {
	open Opener
	path string
	src  segcache.Source
	tl   *Timeline
}

// item stats path through open (the item's library root) and returns its timeline, scanning
// it once per source identity.
func (s *Service) item(open Opener, path string) (*item, error) {
	f, err := open.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSource, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSource, err)
	}
	src := segcache.StatSource(filepath.Clean(path), fi)
	id := src.ID()
	s.mu.Lock()
	e, ok := s.timelines[id]
	if !ok {
		for old, oe := range s.timelines {
			if oe.path == src.Path {
				delete(s.timelines, old) // an older version of the file
			}
		}
		e = &timelineEntry{path: src.Path, ready: make(chan struct{})}
		s.timelines[id] = e
	}
	s.mu.Unlock()
	if !ok {
		s.cache.Invalidate(src) // the file changed: older versions go
		e.tl, e.err = scan(f, s.segTicks)
		if e.err == nil {
			s.noteUnsupported(src.Path, e.tl)
		}
		close(e.ready)
		if e.err != nil {
			s.mu.Lock()
			delete(s.timelines, id) // retried on the next request
			s.mu.Unlock()
		}
	}
	<-e.ready
	if e.err != nil {
		return nil, e.err
	}
	return &item{open: open, path: path, src: src, tl: e.tl}, nil
}

func (s *Service) key(it *item, r Rendition, k int) segcache.Key {
	return segcache.Key{Source: it.src, Rendition: r.Name, Settings: settingsHash(r, s.segTicks), Index: k}
}

// object returns segment k (segcache.InitIndex: the init segment) of
// rendition name, from the cache or encoded on demand.
func (s *Service) object(ctx context.Context, it *item, name string, k int) (*os.File, error) {
	r, ok := findRendition(it.tl, name)
	if !ok || k < segcache.InitIndex || k >= it.tl.view(r).Segments() {
		return nil, fmt.Errorf("%w: rendition %q segment %d", ErrNotFound, name, k)
	}
	key := s.key(it, r, k)
	if f, err := s.cache.Open(key); err == nil {
		s.m.requests.WithLabelValues("hit").Inc()
		return f, nil
	}
	s.m.requests.WithLabelValues("miss").Inc()
	// A small cache may evict the segment between its making and this
	// read (the encoder's lookahead goes on): ask again, a few times. A
	// segment the cache would not take comes back in an uncachedError.
	for attempt := 1; ; attempt++ {
		reply := make(chan error, 1)
		if err := s.send(ctx, it, r, request{k: k, reply: reply}); err != nil {
			return nil, err
		}
		select {
		case err := <-reply:
			if err != nil {
				return nil, err
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		f, err := s.cache.Open(key)
		if err == nil || attempt == 3 {
			return f, err
		}
	}
}

// send queues req on the (source, rendition) encoder, starting it if needed.
func (s *Service) send(ctx context.Context, it *item, r Rendition, req request) error {
	id := it.src.ID() + "/" + r.Name
	s.mu.Lock()
	e, ok := s.encoders[id]
	if !ok {
		e = &encoder{s: s, id: id, it: it, r: r, tl: it.tl.view(r), reqs: make(chan request, 64)}
		s.encoders[id] = e
		s.wg.Add(1)
		go e.run(s.ctx)
	}
	// Sent under the lock, so an encoder that found its queue empty and
	// left the map cannot miss it.
	defer s.mu.Unlock()
	select {
	case e.reqs <- req:
		return nil
	default:
		return fmt.Errorf("%w: %d requests already wait for %s", ErrBusy, cap(e.reqs), r.Name)
	}
}

// noteUnsupported counts and logs the subtitle streams of a newly scanned
// source that cannot be offered.
func (s *Service) noteUnsupported(path string, tl *Timeline) {
	for _, st := range tl.Subtitles {
		if !st.Supported {
			s.m.unsupportedSubs.WithLabelValues(st.Codec).Inc()
			s.log.Info("vod: subtitle stream not offered", "source", path, "stream", st.Stream, "codec", st.Codec, "reason", st.Reason)
		}
	}
}
