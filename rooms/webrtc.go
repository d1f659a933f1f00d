package rooms

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"

	"github.com/marquee-party/marquee/internal/udpbatch"
	"github.com/marquee-party/marquee/rooms/forward"
	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// mediaAPI is the pion API every peer connection of a Server is built from,
// plus the muxed sockets it owns.
type mediaAPI struct {
	api     *webrtc.API // connections that receive media (and may send)
	sendAPI *webrtc.API // connections that only send media: no receive-side interceptors
	ccl     *forward.CongestionControl
	writers *forward.WriterPool // every downtrack's writer turns
	udp     *udpbatch.Conn      // the muxed socket (nil with a port range)
	batch   bool                // hold each writer turn's packets for one send (rtc.gso)
	direct  *directMux          // send-only connections' own SRTP path (rtc.direct_srtp); nil: off
	closers []io.Closer

	// What directAPI builds a send-only connection's API from.
	sendSE webrtc.SettingEngine
	me     *webrtc.MediaEngine
	sendIR *interceptor.Registry
}

func (m *mediaAPI) Close() error {
	if m.writers != nil {
		m.writers.Close()
	}
	var errs []error
	for _, c := range m.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// newMediaAPI builds the SettingEngine (one muxed UDP port, NAT 1:1, no
// mDNS, GCM-first SRTP), the codecs we forward, and the interceptors.
//
// Interceptors come from forward.RegisterInterceptors: NACK generation
// towards publishers (RFC 4585 §6.2.1), receiver reports (RFC 3550 §6.4.2),
// TWCC feedback to publishers, and the TWCC header extension plus a GCC
// estimator on everything we send, so subscribers' transport-wide feedback
// (draft-holmer-rmcat-transport-wide-cc-extensions-01) drives each
// downtrack's layer choice. NACKs from subscribers and sender reports are
// the forwarder's own work.
func newMediaAPI(cfg RTCConfig, log *slog.Logger) (*mediaAPI, error) {
	out := &mediaAPI{}
	se := webrtc.SettingEngine{}
	se.SetSRTPProtectionProfiles(dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIncludeLoopbackCandidate(cfg.LoopbackCandidates)
	if cfg.NodeIP != "" {
		// 1:1 NAT: host candidates carry the node IP instead of the local one.
		if err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External: []string{cfg.NodeIP}, AsCandidateType: webrtc.ICECandidateTypeHost}); err != nil {
			return nil, fmt.Errorf("rtc.node_ip: %w", err)
		}
	}
	networks := []webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6}
	var bindIP net.IP
	if cfg.BindIP != "" {
		bindIP = net.ParseIP(cfg.BindIP)
		if bindIP.To4() != nil {
			networks = []webrtc.NetworkType{webrtc.NetworkTypeUDP4}
		}
		se.SetIPFilter(func(ip net.IP) bool { return ip.Equal(bindIP) })
	}
	if cfg.PortRangeStart != 0 {
		if err := se.SetEphemeralUDPPortRange(uint16(cfg.PortRangeStart), uint16(cfg.PortRangeEnd)); err != nil {
			return nil, fmt.Errorf("rtc.port_range: %w", err)
		}
	} else {
		conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: bindIP, Port: cfg.UDPPort})
		if err != nil {
			return nil, fmt.Errorf("rtc.udp_port: listen on %d: %w", cfg.UDPPort, err)
		}
		opts := udpbatch.Options{Logger: log, DisableGSO: !cfg.GSO}
		if cfg.DirectSRTP {
			out.direct = newDirectMux()
			opts.Intercept = out.direct.intercept
		}
		out.udp, out.batch = udpbatch.New(conn, opts), cfg.GSO
		mux := ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: out.udp})
		se.SetICEUDPMux(mux)
		out.closers = append(out.closers, mux)
	}
	if cfg.ICETCP {
		ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: bindIP, Port: cfg.UDPPort})
		if err != nil {
			_ = out.Close()
			return nil, fmt.Errorf("rtc.ice_tcp: listen on %d: %w", cfg.UDPPort, err)
		}
		mux := webrtc.NewICETCPMux(nil, ln, 64)
		se.SetICETCPMux(mux)
		out.closers = append(out.closers, mux)
		networks = append(networks, webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6)
	}
	se.SetNetworkTypes(networks)

	me, ir, ccl, err := mediaEngine()
	if err != nil {
		_ = out.Close()
		return nil, err
	}
	out.ccl = ccl
	sendME, err := sendMediaEngine(ccl)
	if err != nil {
		_ = out.Close()
		return nil, err
	}
	out.api = webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir))
	sendIR := &interceptor.Registry{}
	if err := ccl.RegisterSendOnly(sendIR); err != nil {
		_ = out.Close()
		return nil, err
	}
	// A send-only connection answers as the DTLS server (RFC 5763 §5:
	// a=setup:passive), which lets the direct path learn the negotiated
	// SRTP profile from the ServerHello it sends.
	if err := se.SetAnsweringDTLSRole(webrtc.DTLSRoleServer); err != nil {
		_ = out.Close()
		return nil, fmt.Errorf("answering dtls role: %w", err)
	}
	out.sendAPI = webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(sendME), webrtc.WithInterceptorRegistry(sendIR))
	out.sendSE, out.me, out.sendIR = se, sendME, sendIR
	// Started last: an error above returns before any goroutine runs.
	out.writers = forward.NewWriterPool(runtime.GOMAXPROCS(0), log)
	log.Debug("media api ready", "udp_port", cfg.UDPPort, "port_range", cfg.PortRangeStart != 0, "ice_tcp", cfg.ICETCP)
	return out, nil
}

// mediaEngine is the MediaEngine, interceptors and congestion control of
// connections that receive media.
func mediaEngine() (*webrtc.MediaEngine, *interceptor.Registry, *forward.CongestionControl, error) {
	me := &webrtc.MediaEngine{}
	if err := registerCodecs(me, false); err != nil {
		return nil, nil, nil, err
	}
	ir := &interceptor.Registry{}
	ccl, err := forward.RegisterInterceptors(me, ir, forward.CongestionParams{})
	if err != nil {
		return nil, nil, nil, err
	}
	return me, ir, ccl, nil
}

// sendMediaEngine is the MediaEngine of connections that only send media
// (classic subscriber connections). It adds RED for Opus (RFC 2198), which
// subscribers such as Chromium then negotiate and the forwarder encodes
// from the publisher's plain Opus; publishers' connections do not offer
// it, so what they send stays plain Opus for every subscriber.
func sendMediaEngine(ccl *forward.CongestionControl) (*webrtc.MediaEngine, error) {
	me := &webrtc.MediaEngine{}
	if err := registerCodecs(me, true); err != nil {
		return nil, err
	}
	if err := ccl.ConfigureSendEngine(me); err != nil {
		return nil, err
	}
	return me, nil
}

// registerCodecs registers Marquee's codecs and audio header extensions on
// me, with RED for Opus when red is set. Codec payload types match what
// browsers commonly offer (Chromium: Opus 111, RED 63), which keeps the SDP
// answers small; any offered type is remapped by pion anyway.
func registerCodecs(me *webrtc.MediaEngine, red bool) error {
	videoFB := []webrtc.RTCPFeedback{
		{Type: "goog-remb"}, {Type: webrtc.TypeRTCPFBTransportCC},
	}
	codecs := []struct {
		webrtc.RTPCodecParameters
		kind webrtc.RTPCodecType
	}{
		{webrtc.RTPCodecParameters{PayloadType: 111, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1",
			RTCPFeedback: []webrtc.RTCPFeedback{{Type: webrtc.TypeRTCPFBTransportCC}}}}, webrtc.RTPCodecTypeAudio},
		{webrtc.RTPCodecParameters{PayloadType: 96, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: videoFB}}, webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{PayloadType: 125, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeH264, ClockRate: 90000, RTCPFeedback: videoFB,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}}, webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{PayloadType: 108, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeH264, ClockRate: 90000, RTCPFeedback: videoFB,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f"}}, webrtc.RTPCodecTypeVideo},
	}
	if red {
		codecs = append(codecs, struct {
			webrtc.RTPCodecParameters
			kind webrtc.RTPCodecType
		}{webrtc.RTPCodecParameters{PayloadType: 63, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: forward.MimeTypeRED, ClockRate: 48000, Channels: 2, SDPFmtpLine: "111/111"}}, webrtc.RTPCodecTypeAudio})
	}
	for _, c := range codecs {
		if err := me.RegisterCodec(c.RTPCodecParameters, c.kind); err != nil {
			return fmt.Errorf("register codec %s: %w", c.MimeType, err)
		}
	}
	if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.SDESMidURI}, webrtc.RTPCodecTypeAudio); err != nil {
		return err
	}
	return me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI}, webrtc.RTPCodecTypeAudio)
}
