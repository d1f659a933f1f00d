package rooms

import "github.com/prometheus/client_golang/prometheus"

// metrics are the SFU's Prometheus series. Labels carry only small fixed
// sets (kind, reason), never room or participant IDs. Per-packet counters
// that the forwarder owns (packets/bytes forwarded, NACKs, PLIs, layer
// switches, drops) are registered by it on the same registry.
type metrics struct {
	rooms           prometheus.Gauge
	participants    prometheus.Gauge
	tracks          *prometheus.GaugeVec
	joins           *prometheus.CounterVec
	signalErrors    *prometheus.CounterVec
	dataPackets     *prometheus.CounterVec
	dataRefused     prometheus.Counter
	permissionDenys *prometheus.CounterVec
	limitRefusals   *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		rooms: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "marquee", Subsystem: "sfu", Name: "rooms",
			Help: "Rooms currently open."}),
		participants: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "marquee", Subsystem: "sfu", Name: "participants",
			Help: "Participants currently in a room."}),
		tracks: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "marquee", Subsystem: "sfu", Name: "published_tracks",
			Help: "Published tracks receiving media, by kind."}, []string{"kind"}),
		joins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "marquee", Subsystem: "sfu", Name: "joins_total",
			Help: "Signal connections, by path (rtc, rtc_v1) and result (ok, resumed, unauthorized, denied, limited, error)."},
			[]string{"path", "result"}),
		signalErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "marquee", Subsystem: "sfu", Name: "signal_errors_total",
			Help: "Client signal messages rejected, by reason (malformed, unexpected, denied)."}, []string{"reason"}),
		dataPackets: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "marquee", Subsystem: "sfu", Name: "data_packets_total",
			Help: "Data packets relayed to a recipient, by kind (reliable, lossy)."}, []string{"kind"}),
		dataRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "marquee", Subsystem: "sfu", Name: "data_packets_refused_total",
			Help: "Data packets dropped because the sender lacks canPublishData."}),
		permissionDenys: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "marquee", Subsystem: "sfu", Name: "permission_denied_total",
			Help: "Requests refused for a missing grant, by action (publish, data, subscribe, metadata, admin)."},
			[]string{"action"}),
		limitRefusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "marquee", Subsystem: "sfu", Name: "limit_refusals_total",
			Help: "Joins and updates refused for a size or rate limit, by what (name, identity, room_name, metadata, attributes, join_rate, metadata_rate)."},
			[]string{"what"}),
	}
	if reg != nil {
		reg.MustRegister(m.rooms, m.participants, m.tracks, m.joins, m.signalErrors, m.dataPackets, m.dataRefused,
			m.permissionDenys, m.limitRefusals)
	}
	return m
}
