package downloads

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/marquee-party/marquee/library"
	"github.com/marquee-party/marquee/vod"
)

// DefaultTTL is how long links and offline copies last without a
// check-in (downloads.ttl).
const DefaultTTL = 30 * 24 * time.Hour

// Catalog is what downloads needs of the library (library.Service).
type Catalog interface {
	Item(ctx context.Context, id int64) (library.Item, error)
	PlayOrder(ctx context.Context, id int64) ([]library.Item, error)
	MediaRoot(ctx context.Context, it library.Item) (library.Root, string, error)
}

// Media opens a source in the VOD segment cache (vod.Service).
type Media interface {
	Export(open vod.Opener, path string) (*vod.Export, error)
}

// Signer signs and checks expiring URLs (cdn.Signer).
type Signer interface {
	Sign(path string, exp time.Time) string
	Verify(r *http.Request, now time.Time) error
}

// User is the caller of a Service method: who, whether an admin, and which
// libraries they may see (the API's access rules).
type User struct {
	ID     int64
	Admin  bool
	CanSee func(ctx context.Context, libraryID int64) (bool, error)
}

// Params configures a Service.
type Params struct {
	DB      *sql.DB
	Catalog Catalog
	Media   Media // nil: only the original profile can be prepared
	Signer  Signer
	Dir     string        // downloads.dir
	TTL     time.Duration // downloads.ttl; DefaultTTL when 0
	Workers int           // items prepared at once (vod.workers); 1 when 0
	// PublicBase prefixes file URLs (a CDN node's URL); empty: relative.
	PublicBase string
	Now        func() time.Time
	Log        *slog.Logger
	Registerer prometheus.Registerer
}

// Service owns download jobs, devices and rules. Its lock guards only
// memory; SQLite writes and file I/O happen outside it.
type Service struct {
	p    Params
	st   records
	m    *metrics
	log  *slog.Logger
	ctx  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup
	wake chan struct{}
	// wrap wraps the writer of a file being prepared (tests: a full disk).
	wrap func(io.Writer) io.Writer

	mu      sync.Mutex
	jobs    map[string]*job
	order   []string // job ids by creation
	devices map[string]*device
	queue   []task
	subs    map[int64]map[*sub]struct{}
}

// device is a Device with its owner.
type device struct {
	Device
	userID int64
}

// job is a Job in memory.
type job struct {
	id, deviceID, profile, fallback string
	userID                          int64
	created                         time.Time
	items                           []*jitem
	ctx                             context.Context
	cancel                          context.CancelFunc
}

// jitem is a JobItem in memory: file is its prepared file's name under
// Dir, or "" for an original; done/total count segments while preparing.
type jitem struct {
	itemID                       int64
	title, kind, filename, state string
	size, durationMs             int64
	file, etag, err              string
	done, total                  int
	subs                         []subFile
}

type task struct {
	jobID  string
	itemID int64
}

// New opens the downloads folder, loads jobs and devices, queues
// unfinished items again and starts the workers; Close stops them.
func New(p Params) (*Service, error) {
	if p.DB == nil || p.Catalog == nil || p.Signer == nil || p.Dir == "" {
		return nil, errors.New("downloads: DB, Catalog, Signer and Dir are required")
	}
	if p.TTL <= 0 {
		p.TTL = DefaultTTL
	}
	p.Workers = max(p.Workers, 1)
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(p.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("downloads.dir: %w", err)
	}
	// Temp files of preparations cut short by a crash are never finished.
	if left, err := filepath.Glob(filepath.Join(p.Dir, ".prep-*")); err == nil {
		for _, f := range left {
			_ = os.Remove(f)
		}
	}
	m, err := newMetrics(p.Registerer)
	if err != nil {
		return nil, err
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &Service{p: p, st: records{p.DB}, m: m, log: p.Log, ctx: ctx, stop: stop, wake: make(chan struct{}, 1),
		jobs: map[string]*job{}, devices: map[string]*device{}, subs: map[int64]map[*sub]struct{}{}}
	if err := s.load(ctx); err != nil {
		stop()
		return nil, err
	}
	for i := 0; i < p.Workers; i++ {
		s.wg.Add(1)
		go s.worker()
	}
	s.wg.Add(1)
	go s.pruneLoop()
	return s, nil
}

// load reads devices and jobs; items cut short by a stop are queued again.
func (s *Service) load(ctx context.Context) error {
	ds, err := s.st.devices(ctx)
	if err != nil {
		return err
	}
	for i := range ds {
		s.devices[ds[i].ID] = &ds[i]
	}
	js, err := s.st.jobs(ctx)
	if err != nil {
		return err
	}
	for _, j := range js {
		j.ctx, j.cancel = context.WithCancel(s.ctx)
		if d := s.devices[j.deviceID]; d == nil || d.Revoked {
			j.cancel() // a revoked device's jobs stay cancelled
		}
		s.jobs[j.id] = j
		s.order = append(s.order, j.id)
		for _, it := range j.items {
			if it.state == ItemQueued || it.state == ItemPreparing {
				it.state = ItemQueued
				s.queue = append(s.queue, task{j.id, it.itemID})
			}
		}
	}
	s.updateGauges()
	return nil
}

// Close cancels every preparation, then waits for the workers.
func (s *Service) Close() {
	s.stop()
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, subs := range s.subs {
		for sb := range subs {
			close(sb.c)
		}
	}
	s.subs = map[int64]map[*sub]struct{}{}
}

// TTL is downloads.ttl.
func (s *Service) TTL() time.Duration { return s.p.TTL }

func newID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Rules returns a user's rules (defaults when the owner set none).
func (s *Service) Rules(ctx context.Context, userID int64, admin bool) (Rules, error) {
	return s.st.rules(ctx, userID, admin)
}

// SetRules stores a user's rules.
func (s *Service) SetRules(ctx context.Context, userID int64, r Rules) error {
	if err := r.Validate(); err != nil {
		return err
	}
	return s.st.setRules(ctx, userID, r)
}

// Profiles lists the profiles with whether u may use each.
func (s *Service) Profiles(ctx context.Context, u User) ([]ProfileInfo, error) {
	r, err := s.Rules(ctx, u.ID, u.Admin)
	if err != nil {
		return nil, err
	}
	return r.Profiles(), nil
}

// refused counts a refusal by its rule and returns it.
func (s *Service) refused(e *Error) *Error {
	rule := e.Rule
	if rule == "" {
		rule = e.Code
	}
	s.m.refusals.WithLabelValues(rule).Inc()
	return e
}

func (s *Service) updateGauges() {
	counts := map[string]int{JobPreparing: 0, JobReady: 0, JobDownloaded: 0, JobFailed: 0}
	for _, j := range s.jobs {
		counts[j.state()]++
	}
	for st, n := range counts {
		s.m.jobs.WithLabelValues(st).Set(float64(n))
	}
}
