package vod

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	encodes  *prometheus.CounterVec // segments (and init segments) encoded, by rendition
	failures *prometheus.CounterVec // segments that failed, by reason
	requests *prometheus.CounterVec // segment requests by cache result (hit, miss)
	served   *prometheus.CounterVec // body bytes sent, by kind (playlist, init, segment)
	// cacheWrites counts segments made but not stored (full disk, too big).
	cacheWrites prometheus.Counter
	seconds     prometheus.Histogram
	// subtitle streams listed but not offered (image subtitles), by codec,
	// counted once per scanned source version
	unsupportedSubs *prometheus.CounterVec
	waiting         prometheus.Gauge // encodes waiting for a vod.workers slot
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		encodes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "marquee", Subsystem: "vod", Name: "segment_encodes_total",
			Help: "Segments encoded into the shared cache, by rendition (init segments count as index -1).",
		}, []string{"rendition"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "marquee", Subsystem: "vod", Name: "segment_failures_total",
			Help: "Segments that could not be made, by reason (source, encode, unsupported).",
		}, []string{"reason"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "marquee", Subsystem: "vod", Name: "segment_requests_total",
			Help: "Segment requests by cache result (hit, miss).",
		}, []string{"result"}),
		served: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "marquee", Subsystem: "vod", Name: "served_bytes_total",
			Help: "Body bytes sent to viewers and CDN nodes, by kind (playlist, init, segment).",
		}, []string{"kind"}),
		cacheWrites: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "marquee", Subsystem: "vod", Name: "cache_write_failures_total",
			Help: "Segments made but not stored in the cache (disk full or failing, or bigger than vod.max_bytes); they were served from memory.",
		}),
		seconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "marquee", Subsystem: "vod", Name: "segment_encode_seconds",
			Help:    "Time to encode one segment.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 12),
		}),
		unsupportedSubs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "marquee", Subsystem: "vod", Name: "subtitles_unsupported_total",
			Help: "Embedded subtitle streams that are listed but not offered (image subtitles: PGS, DVB, DVD), by codec.",
		}, []string{"codec"}),
		waiting: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "marquee", Subsystem: "vod", Name: "encodes_waiting",
			Help: "Encodes waiting for one of the vod.workers slots (the CPU budget is saturated while above 0).",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.encodes, m.failures, m.requests, m.served, m.cacheWrites, m.seconds, m.unsupportedSubs, m.waiting} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("vod: metrics: %w", err)
		}
	}
	return m, nil
}
