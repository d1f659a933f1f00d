package party

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the party service's counters; no party or user ids as labels.
type metrics struct {
	transitions  *prometheus.CounterVec
	events       *prometheus.CounterVec
	workerEvents *prometheus.CounterVec
	plays        prometheus.Counter
	workerErrors prometheus.Counter
	workersLost  prometheus.Counter
	recoveries   prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "marquee_party_status_transitions_total",
			Help: "Party status changes, by new status."}, []string{"status"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "marquee_party_events_total",
			Help: "Party events recorded, by type."}, []string{"type"}),
		workerEvents: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "marquee_party_worker_events_total",
			Help: "Ingest worker callbacks received, by type."}, []string{"type"}),
		plays: prometheus.NewCounter(prometheus.CounterOpts{Name: "marquee_party_plays_total",
			Help: "Play requests sent to the ingest worker."}),
		workerErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "marquee_party_worker_errors_total",
			Help: "Ingest worker requests that failed."}),
		workersLost: prometheus.NewCounter(prometheus.CounterOpts{Name: "marquee_party_workers_lost_total",
			Help: "Worker sessions declared lost after missed heartbeats."}),
		recoveries: prometheus.NewCounter(prometheus.CounterOpts{Name: "marquee_party_recoveries_total",
			Help: "Lost worker sessions re-created and resumed."}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.transitions, m.events, m.workerEvents, m.plays, m.workerErrors,
		m.workersLost, m.recoveries} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, err
			}
		}
	}
	return m, nil
}
