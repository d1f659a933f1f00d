package voice

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts what the voice clients of one process send. One Metrics is
// shared by all connections; it has no per-guild labels.
type Metrics struct {
	framesSent    prometheus.Counter
	silenceSent   prometheus.Counter
	framesDropped prometheus.Counter
	underruns     prometheus.Counter
	reconnects    *prometheus.CounterVec
}

// NewMetrics registers the voice metrics on reg. A nil reg gives unregistered
// counters, which is handy in tests.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		framesSent: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "marquee", Subsystem: "discord_voice", Name: "frames_sent_total",
			Help: "Opus frames sent to Discord voice servers.",
		}),
		silenceSent: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "marquee", Subsystem: "discord_voice", Name: "silence_frames_sent_total",
			Help: "Silence frames sent before a break in transmission.",
		}),
		framesDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "marquee", Subsystem: "discord_voice", Name: "frames_dropped_total",
			Help: "Frames dropped to keep the voice queue under its latency budget.",
		}),
		underruns: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "marquee", Subsystem: "discord_voice", Name: "underruns_total",
			Help: "20 ms slots with no frame while playing.",
		}),
		reconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "marquee", Subsystem: "discord_voice", Name: "reconnects_total",
			Help: "Voice gateway reconnects by kind (resume, identify).",
		}, []string{"kind"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.framesSent, m.silenceSent, m.framesDropped, m.underruns, m.reconnects} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, err
			}
		}
	}
	return m, nil
}
