package obs

import (
	"encoding/json"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Readiness collects named checks that must pass before a service takes
// traffic. A service adds its checks at start-up; /readyz runs them all.
type Readiness struct {
	mu     sync.Mutex
	checks map[string]func() error
}

// NewReadiness returns an empty set of checks; with none, the service is ready.
func NewReadiness() *Readiness { return &Readiness{checks: map[string]func() error{}} }

// Add registers or replaces the check called name.
func (r *Readiness) Add(name string, check func() error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checks[name] = check
}

// failures runs every check and returns the failing ones by name.
func (r *Readiness) failures() map[string]string {
	r.mu.Lock()
	checks := make(map[string]func() error, len(r.checks))
	for k, v := range r.checks {
		checks[k] = v
	}
	r.mu.Unlock()
	failed := map[string]string{}
	for name, check := range checks {
		if err := check(); err != nil {
			failed[name] = err.Error()
		}
	}
	return failed
}

// NewRegistry returns a Prometheus registry holding the Go runtime and
// process collectors; services register their own metrics on it.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Mount adds /healthz, /readyz and /metrics to mux. /healthz answers 200
// while the process runs; /readyz answers 503 with the failing checks.
func Mount(mux *http.ServeMux, reg *prometheus.Registry, ready *Readiness) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		failed := map[string]string{}
		if ready != nil {
			failed = ready.failures()
		}
		w.Header().Set("Content-Type", "application/json")
		if len(failed) > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			_ = json.NewEncoder(w).Encode(map[string]any{"ready": false, "failing": failed})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"ready": true})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
}
