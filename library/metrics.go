package library

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the library's Prometheus series.
type metrics struct {
	scans       *prometheus.CounterVec
	files       *prometheus.CounterVec
	scanSeconds prometheus.Histogram
	probeErrors prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		scans: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "marquee", Subsystem: "library", Name: "scans_total",
			Help: "Library scans by outcome (done, failed, canceled).",
		}, []string{"outcome"}),
		files: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "marquee", Subsystem: "library", Name: "scan_files_total",
			Help: "Files seen by scans, by result (added, updated, unchanged, removed).",
		}, []string{"result"}),
		scanSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "marquee", Subsystem: "library", Name: "scan_duration_seconds",
			Help:    "Duration of library scans.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 14),
		}),
		probeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "marquee", Subsystem: "library", Name: "probe_errors_total",
			Help: "Files libav could not probe (kept as items with a probe error).",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.scans, m.files, m.scanSeconds, m.probeErrors} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("library: metrics: %w", err)
		}
	}
	return m, nil
}
