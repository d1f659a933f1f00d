package forward

import (
	"context"
	"encoding/binary"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/transport/v4/vnet"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// settingEngine returns a sealed loopback (or vnet) setting engine.
func settingEngine(n *vnet.Net) webrtc.SettingEngine {
	var se webrtc.SettingEngine
	se.SetSRTPProtectionProfiles(dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if n != nil {
		se.SetNet(n)
	} else {
		se.SetIncludeLoopbackCandidate(true)
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	}
	return se
}

// newSFUAPI builds the SFU's API the way rooms does.
func newSFUAPI(t testing.TB, n *vnet.Net, cp CongestionParams) (*webrtc.API, *CongestionControl) {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	ccl, err := RegisterInterceptors(m, ir, cp)
	if err != nil {
		t.Fatal(err)
	}
	se := settingEngine(n)
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), ccl
}

// newClientAPI builds a plain pion client: default interceptors (NACK
// generator, reports, TWCC feedback) plus any extra ones, innermost first.
// Extra interceptors see packets after SRTP, so a client that loses
// packets in one turns off SRTP replay protection to accept the resends.
func newClientAPI(t testing.TB, n *vnet.Net, inner ...interceptor.Factory) *webrtc.API {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	for _, f := range inner {
		ir.Add(f)
	}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		t.Fatal(err)
	}
	se := settingEngine(n)
	if len(inner) > 0 {
		se.DisableSRTPReplayProtection(true)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
}

// connect runs offer/answer between two PeerConnections (non-trickle).
func connect(t testing.TB, offerer, answerer *webrtc.PeerConnection) {
	t.Helper()
	offer, err := offerer.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gather := webrtc.GatheringCompletePromise(offerer)
	if err := offerer.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gather
	if err := answerer.SetRemoteDescription(*offerer.LocalDescription()); err != nil {
		t.Fatal(err)
	}
	answer, err := answerer.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gather = webrtc.GatheringCompletePromise(answerer)
	if err := answerer.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	<-gather
	if err := offerer.SetRemoteDescription(*answerer.LocalDescription()); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds or the (generous) limit passes.
func waitFor(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// vp8Layer describes one synthetic simulcast layer.
type vp8Layer struct {
	rid        string
	packets    int // per delta frame; key frames have 3x
	size       int // payload bytes per packet
	picIDStart uint16
}

// testLayers are small synthetic q/h/f layers (about 70, 380, 960 kbit/s).
var testLayers = []vp8Layer{
	{rid: "q", packets: 1, size: 300, picIDStart: 100},
	{rid: "h", packets: 2, size: 800, picIDStart: 20000},
	{rid: "f", packets: 4, size: 1000, picIDStart: 32700},
}

// publisher is a pion client sending synthetic VP8 simulcast at 30 fps,
// all layers on one RTP clock, answering PLIs with key frames.
type publisher struct {
	pc      *webrtc.PeerConnection
	tracks  []*webrtc.TrackLocalStaticRTP
	sender  *webrtc.RTPSender
	layers  []vp8Layer
	wantKey [3]atomic.Bool
	plis    [3]atomic.Int64
	wg      sync.WaitGroup
	cancel  context.CancelFunc
}

func newPublisher(t testing.TB, api *webrtc.API, layers []vp8Layer) *publisher {
	t.Helper()
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	p := &publisher{pc: pc, layers: layers}
	for i, l := range layers {
		tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8},
			"video", "pub", webrtc.WithRTPStreamID(l.rid))
		if err != nil {
			t.Fatal(err)
		}
		p.tracks = append(p.tracks, tr)
		if i == 0 {
			if p.sender, err = pc.AddTrack(tr); err != nil {
				t.Fatal(err)
			}
		} else if err := p.sender.AddEncoding(tr); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// start begins sending and reading RTCP; stop with close.
func (p *publisher) start() {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	for i, l := range p.layers {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for {
				pkts, _, err := p.sender.ReadSimulcastRTCP(l.rid)
				if err != nil {
					if ctx.Err() != nil || isClosedErr(err) {
						return
					}
					continue
				}
				for _, pkt := range pkts {
					if _, ok := pkt.(*rtcp.PictureLossIndication); ok {
						p.plis[i].Add(1)
						p.wantKey[i].Store(true)
					}
				}
			}
		}()
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.run(ctx)
	}()
}

func (p *publisher) run(ctx context.Context) {
	// Simulcast streams carry their MID and RID (RFC 8852) so the SFU can
	// tell the layers apart.
	var midID, ridID uint8
	for _, e := range p.sender.GetParameters().HeaderExtensions {
		switch e.URI {
		case "urn:ietf:params:rtp-hdrext:sdes:mid":
			midID = uint8(e.ID)
		case "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id":
			ridID = uint8(e.ID)
		}
	}
	mid := []byte("0")
	if tr := p.transceiver(); tr != nil {
		mid = []byte(tr.Mid())
	}
	tick := time.NewTicker(time.Second / 30)
	defer tick.Stop()
	seqs := []uint16{1000, 30000, 65000} // distinct bases, one wraps
	var frame uint32
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		ts := 5000 + frame*3000 // shared clock base
		for i, l := range p.layers {
			key := frame%60 == 0 || p.wantKey[i].Swap(false)
			pic := (l.picIDStart + uint16(frame)) & 0x7fff
			for _, pl := range vp8Frame(l, i, pic, uint8(frame), key) {
				pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seqs[i],
					Timestamp: ts, Marker: false}, Payload: pl}
				seqs[i]++
				if midID != 0 {
					_ = pkt.Header.SetExtension(midID, mid)
				}
				if ridID != 0 {
					_ = pkt.Header.SetExtension(ridID, []byte(l.rid))
				}
				_ = p.tracks[i].WriteRTP(&pkt)
			}
		}
		frame++
	}
}

func (p *publisher) transceiver() *webrtc.RTPTransceiver {
	for _, tr := range p.pc.GetTransceivers() {
		if tr.Sender() == p.sender {
			return tr
		}
	}
	return nil
}

func (p *publisher) close() {
	if p.cancel != nil {
		p.cancel()
	}
	_ = p.pc.GracefulClose()
	p.wg.Wait()
}

// vp8Frame packetizes one synthetic frame: a full VP8 payload descriptor
// (15-bit PictureID, TL0PICIDX) per packet, the VP8 payload header's P bit
// clear on key frames, then filler bytes naming the layer.
func vp8Frame(l vp8Layer, layerIdx int, pic uint16, tl0 uint8, key bool) [][]byte {
	n := l.packets
	if key {
		n *= 3
	}
	out := make([][]byte, n)
	for i := range n {
		b := make([]byte, l.size)
		b[0] = vp8X
		if i == 0 {
			b[0] |= vp8S
		}
		b[1] = vp8I | vp8L
		binary.BigEndian.PutUint16(b[2:], vp8M<<8|pic)
		b[4] = tl0
		body := b[5:]
		for j := range body {
			body[j] = byte('0' + layerIdx)
		}
		if i == 0 {
			body[0] = 0x01 // P=1: inter frame
			if key {
				body[0] = 0x00
			}
		}
		out[i] = b
	}
	return out
}

// received is one packet as a subscriber saw it.
type received struct {
	seq      uint16
	ts       uint32
	pic      uint16
	layer    byte
	keyframe bool
	at       time.Time
}

// subscriber is a pion client receiving one forwarded track.
type subscriber struct {
	client *webrtc.PeerConnection // the viewer
	sfu    *webrtc.PeerConnection // the SFU's side of the viewer
	dt     *DownTrack
	ssrc   atomic.Uint32
	mu     sync.Mutex
	got    []received
	raw    []*rtp.Packet
	srs    []*rtcp.SenderReport
	wg     sync.WaitGroup
}

// newSubscriber connects a viewer to recv through a DownTrack.
func newSubscriber(t testing.TB, sfuAPI *webrtc.API, ccl *CongestionControl, clientAPI *webrtc.API,
	recv *Receiver, id string, tune func(*DownTrackParams)) *subscriber {
	t.Helper()
	s := &subscriber{}
	var err error
	if s.sfu, err = sfuAPI.NewPeerConnection(webrtc.Configuration{}); err != nil {
		t.Fatal(err)
	}
	if s.client, err = clientAPI.NewPeerConnection(webrtc.Configuration{}); err != nil {
		t.Fatal(err)
	}
	params := DownTrackParams{SubscriberID: id, Estimator: ccl.Estimator(s.sfu)}
	if tune != nil {
		tune(&params)
	}
	s.dt = NewDownTrack(recv, params)
	if params.SubscriberID == "low" {
		s.dt.SetMaxQuality(QualityLow)
	}
	sender, err := s.sfu.AddTrack(s.dt)
	if err != nil {
		t.Fatal(err)
	}
	s.dt.Start(sender)
	if err := recv.AddDownTrack(s.dt); err != nil {
		t.Fatal(err)
	}
	s.client.OnTrack(func(tr *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
		s.ssrc.Store(uint32(tr.SSRC()))
		s.wg.Add(2)
		go s.readRTCP(r)
		defer s.wg.Done()
		for {
			pkt, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			s.record(pkt)
		}
	})
	connect(t, s.sfu, s.client)
	return s
}

func (s *subscriber) readRTCP(r *webrtc.RTPReceiver) {
	defer s.wg.Done()
	for {
		pkts, _, err := r.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			if sr, ok := p.(*rtcp.SenderReport); ok {
				s.mu.Lock()
				s.srs = append(s.srs, sr)
				s.mu.Unlock()
			}
		}
	}
}

func (s *subscriber) record(pkt *rtp.Packet) {
	s.mu.Lock()
	s.raw = append(s.raw, pkt)
	s.mu.Unlock()
	d, err := parseVP8Descriptor(pkt.Payload)
	if err != nil || len(pkt.Payload) <= d.size+1 {
		return
	}
	r := received{seq: pkt.SequenceNumber, ts: pkt.Timestamp, pic: d.picID, keyframe: d.keyframe,
		layer: pkt.Payload[len(pkt.Payload)-1], at: time.Now()}
	s.mu.Lock()
	s.got = append(s.got, r)
	s.mu.Unlock()
}

func (s *subscriber) packets() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.got...)
}

func (s *subscriber) close() {
	_ = s.dt.Close()
	_ = s.sfu.GracefulClose()
	_ = s.client.GracefulClose()
	s.wg.Wait()
}

// sfuPublisherSide accepts the publisher on the SFU and feeds recv.
func sfuPublisherSide(t testing.TB, api *webrtc.API, pub *publisher, params ReceiverParams) (*webrtc.PeerConnection, *Receiver) {
	t.Helper()
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	params.Codec = webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, PayloadType: 96}
	params.Kind = webrtc.RTPCodecTypeVideo
	params.RequestKeyframe = func(ssrc uint32) {
		_ = pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}})
	}
	recv := NewReceiver(params)
	layers := make(chan struct{}, 3)
	pc.OnTrack(func(tr *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
		if err := recv.AddLayer(tr, r); err != nil {
			t.Error(err)
		}
		layers <- struct{}{}
	})
	connect(t, pub.pc, pc)
	pub.start()
	for range len(pub.layers) {
		select {
		case <-layers:
		case <-time.After(20 * time.Second):
			t.Fatal("publisher layers never arrived")
		}
	}
	return pc, recv
}

// counterValue reads a counter from reg by name (summing label values).
func counterValue(t testing.TB, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}
