package ingest

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the ingest worker's Prometheus metrics.
type Metrics struct {
	sessions         prometheus.Gauge
	events           *prometheus.CounterVec
	failures         prometheus.Counter
	panics           prometheus.Counter
	callbackErrors   prometheus.Counter
	callbackDrops    prometheus.Counter
	keyframeRequests prometheus.Counter
	videoFrames      prometheus.Counter
	audioFrames      prometheus.Counter
	authFailures     prometheus.Counter
	encodeSeconds    prometheus.Histogram
}

// NewMetrics registers the metrics on reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "marquee", Subsystem: "ingest", Name: name, Help: help})
	}
	m := &Metrics{
		sessions: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "marquee", Subsystem: "ingest",
			Name: "sessions", Help: "Sessions running."}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "marquee", Subsystem: "ingest",
			Name: "events_total", Help: "Events sent to the control plane, by type."}, []string{"type"}),
		failures:         c("item_failures_total", "Items that failed on every source."),
		panics:           c("panics_total", "Panics recovered in sessions and pipelines."),
		callbackErrors:   c("callback_errors_total", "Callback POSTs that failed."),
		callbackDrops:    c("callback_drops_total", "Events dropped because the callback queue was full."),
		keyframeRequests: c("keyframe_requests_total", "PLI/FIR keyframe requests from the SFU."),
		videoFrames:      c("video_frames_total", "Encoded video frames sent (all layers)."),
		audioFrames:      c("audio_frames_total", "Opus packets sent."),
		authFailures:     c("auth_failures_total", "Worker API requests refused for a missing or wrong secret."),
		encodeSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "marquee", Subsystem: "ingest",
			Name: "video_encode_seconds", Help: "Time to scale and encode one source frame into every layer.",
			Buckets: prometheus.ExponentialBuckets(0.002, 2, 10)}),
	}
	if reg != nil {
		reg.MustRegister(m.sessions, m.events, m.failures, m.panics, m.callbackErrors, m.callbackDrops,
			m.keyframeRequests, m.videoFrames, m.audioFrames, m.authFailures, m.encodeSeconds)
	}
	return m
}
