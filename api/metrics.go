package api

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the API's request counters, labelled by route pattern (a
// fixed set), never by id.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	sse      prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "marquee_api_requests_total",
			Help: "API requests by route pattern and status class."}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "marquee_api_request_seconds",
			Help: "API request latency by route pattern.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 8)}, []string{"route"}),
		sse: prometheus.NewGauge(prometheus.GaugeOpts{Name: "marquee_api_sse_streams",
			Help: "Open server-sent-event streams."}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.sse} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, err
			}
		}
	}
	return m, nil
}
