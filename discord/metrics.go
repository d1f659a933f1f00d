package discord

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/marquee-party/marquee/discord/voice"
)

// metrics of the bot. Labels have few values: command names and outcomes.
type metrics struct {
	commands    *prometheus.CounterVec
	embedEdits  prometheus.Counter
	parties     prometheus.Gauge
	voiceErrors *prometheus.CounterVec
	voice       *voice.Metrics
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "marquee", Subsystem: "discord", Name: "commands_total",
			Help: "Slash commands by name and outcome (ok, refused, error).",
		}, []string{"command", "outcome"}),
		embedEdits: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "marquee", Subsystem: "discord", Name: "embed_writes_total",
			Help: "Now-playing embed posts and edits.",
		}),
		parties: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "marquee", Subsystem: "discord", Name: "parties",
			Help: "Parties the bot is attached to.",
		}),
		voiceErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "marquee", Subsystem: "discord", Name: "voice_errors_total",
			Help: "Voice connections that ended with an error, by kind.",
		}, []string{"kind"}),
	}
	var err error
	if m.voice, err = voice.NewMetrics(reg); err != nil {
		return nil, err
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.commands, m.embedEdits, m.parties, m.voiceErrors} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, err
			}
		}
	}
	return m, nil
}
