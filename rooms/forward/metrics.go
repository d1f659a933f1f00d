package forward

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts forwarding work across every Receiver and DownTrack that
// shares it. One Metrics per process: pass it to every ReceiverParams.
// Labels carry only the media kind or a drop reason, never room or
// participant IDs.
type Metrics struct {
	packets        *prometheus.CounterVec
	bytes          *prometheus.CounterVec
	nacksReceived  prometheus.Counter
	nacksAnswered  prometheus.Counter
	plisForwarded  prometheus.Counter
	layerSwitches  prometheus.Counter
	packetsRED     prometheus.Counter
	dropped        *prometheus.CounterVec
	packetsVideo   prometheus.Counter
	packetsAudio   prometheus.Counter
	bytesVideo     prometheus.Counter
	bytesAudio     prometheus.Counter
	droppedQueue   prometheus.Counter
	droppedWaitKey prometheus.Counter
}

// Metric names, exported so the benchmark and dashboards can find them.
const (
	MetricPacketsForwarded = "marquee_sfu_forward_packets_total"
	MetricBytesForwarded   = "marquee_sfu_forward_bytes_total"
	MetricDroppedPackets   = "marquee_sfu_forward_dropped_packets_total"
)

// NewMetrics builds the forwarding counters and registers them on reg.
// A nil reg gives working counters that are not exported (for tests).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		packets: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricPacketsForwarded,
			Help: "RTP packets sent to subscribers (retransmissions excluded).",
		}, []string{"kind"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricBytesForwarded,
			Help: "RTP payload bytes sent to subscribers.",
		}, []string{"kind"}),
		nacksReceived: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "marquee_sfu_forward_nacks_received_total",
			Help: "Sequence numbers subscribers asked to be retransmitted (RFC 4585 generic NACK).",
		}),
		nacksAnswered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "marquee_sfu_forward_nacks_answered_total",
			Help: "Packets retransmitted from the packet cache in answer to a NACK.",
		}),
		plisForwarded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "marquee_sfu_forward_plis_forwarded_total",
			Help: "Key frame requests (PLI) sent to publishers after throttling.",
		}),
		layerSwitches: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "marquee_sfu_forward_layer_switches_total",
			Help: "Simulcast layer switches made by subscribers' DownTracks.",
		}),
		packetsRED: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "marquee_sfu_forward_red_packets_total",
			Help: "Audio packets sent as RED (RFC 2198) to subscribers that negotiated it, retransmissions excluded.",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricDroppedPackets,
			Help: "Packets not forwarded to a subscriber: queue full, or waiting for a key frame after a drop.",
		}, []string{"reason"}),
	}
	m.packetsVideo = m.packets.WithLabelValues("video")
	m.packetsAudio = m.packets.WithLabelValues("audio")
	m.bytesVideo = m.bytes.WithLabelValues("video")
	m.bytesAudio = m.bytes.WithLabelValues("audio")
	m.droppedQueue = m.dropped.WithLabelValues("queue_full")
	m.droppedWaitKey = m.dropped.WithLabelValues("await_keyframe")
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{
		m.packets, m.bytes, m.nacksReceived, m.nacksAnswered,
		m.plisForwarded, m.layerSwitches, m.packetsRED, m.dropped,
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("forward: register metrics: %w", err)
		}
	}
	return m, nil
}
