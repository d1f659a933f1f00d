package discordbridge

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics count what the bridge does; no party or guild ids as labels.
type metrics struct {
	attaches *prometheus.CounterVec
	problems prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		attaches: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "marquee_discordbridge_attaches_total",
			Help: "Parties started outside Discord that the bot was asked to follow, by outcome."}, []string{"outcome"}),
		problems: prometheus.NewCounter(prometheus.CounterOpts{Name: "marquee_discordbridge_problems_total",
			Help: "Discord problems reported by the bot (missing permission, DAVE required)."}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.attaches, m.problems} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, err
			}
		}
	}
	return m, nil
}
