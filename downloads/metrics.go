package downloads

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	jobs     *prometheus.GaugeVec   // jobs by state
	bytes    prometheus.Counter     // body bytes served
	resumes  prometheus.Counter     // range requests starting after byte 0
	refusals *prometheus.CounterVec // refusals by rule
	prepared *prometheus.CounterVec // items prepared, by result
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		jobs: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "marquee", Subsystem: "downloads", Name: "jobs",
			Help: "Download jobs by state (preparing, ready, downloaded, failed)."}, []string{"state"}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "marquee", Subsystem: "downloads", Name: "served_bytes_total",
			Help: "Bytes of downloaded files served by this origin."}),
		resumes: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "marquee", Subsystem: "downloads", Name: "resumes_total",
			Help: "Range requests for a download starting after its first byte (resumed downloads)."}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "marquee", Subsystem: "downloads", Name: "refusals_total",
			Help: "Requests refused by an owner's rule or a link check, by rule (may_download, original_allowed, max_profile, max_devices, max_concurrent_jobs, device_revoked, link_expired)."}, []string{"rule"}),
		prepared: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "marquee", Subsystem: "downloads", Name: "items_prepared_total",
			Help: "Job items prepared, by result (ok, failed)."}, []string{"result"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.jobs, m.bytes, m.resumes, m.refusals, m.prepared} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("downloads: metrics: %w", err)
		}
	}
	return m, nil
}
