package cdn

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics counts what one node serves. Labels take a handful of fixed
// values; paths and viewers never become labels.
type metrics struct {
	hits          prometheus.Counter
	misses        prometheus.Counter
	coalesced     prometheus.Counter
	servedBytes   *prometheus.CounterVec // cache: hit, miss
	evictions     prometheus.Counter
	originErrors  *prometheus.CounterVec // kind: unreachable, status, auth, body, idle
	writeErrors   prometheus.Counter
	rejected      *prometheus.CounterVec // code
	cacheBytes    prometheus.Gauge
	cacheObjects  prometheus.Gauge
	fillsInFlight prometheus.Gauge
}

// newMetrics registers the node's metrics on reg; a nil reg leaves them
// unregistered, which suits tests and benchmarks. One registry holds one
// node: a second registration fails.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	const ns, sub = "marquee", "cdn"
	m := &metrics{
		hits: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "hits_total", Help: "Requests served from the local cache."}),
		misses: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "misses_total", Help: "Requests that went to the origin (fills and pass-throughs)."}),
		coalesced: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "coalesced_total", Help: "Requests that waited for another request's fill instead of asking the origin."}),
		servedBytes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "served_bytes_total", Help: "Body bytes written to viewers, by cache result (hit, miss)."}, []string{"cache"}),
		evictions: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "evictions_total", Help: "Cached objects removed to stay under the byte budget."}),
		originErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "origin_errors_total", Help: "Origin failures by kind (unreachable, status, auth, body)."}, []string{"kind"}),
		writeErrors: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "cache_write_errors_total", Help: "Fills that could not be written to disk; the viewer was served pass-through."}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "rejected_total", Help: "Viewer requests refused before reaching the cache, by error code."}, []string{"code"}),
		cacheBytes: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "cache_bytes", Help: "Bytes of cached objects on disk (bodies plus headers)."}),
		cacheObjects: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "cache_objects", Help: "Objects in the cache."}),
		fillsInFlight: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "fills_in_flight", Help: "Origin fetches currently filling the cache."}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.hits, m.misses, m.coalesced, m.servedBytes, m.evictions,
		m.originErrors, m.writeErrors, m.rejected, m.cacheBytes, m.cacheObjects, m.fillsInFlight} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("cdn: register metrics: %w", err)
		}
	}
	return m, nil
}
