package forward

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// opusPacket is what the publisher sent.
type opusPacket struct {
	seq     uint16
	ts      uint32
	payload []byte
}

// TestOpusForwardedUntouchedWithDTX sends Opus with DTX gaps (timestamps
// jump while sequence numbers do not) and checks the viewer gets every
// packet bit-exact, with the same numbering, no fill, and sender reports
// whose RTP time matches the stream.
func TestOpusForwardedUntouchedWithDTX(t *testing.T) {
	metrics, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	sfuAPI, ccl := newSFUAPI(t, nil, CongestionParams{})
	clientAPI := newClientAPI(t, nil)
	pubPC, err := clientAPI.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus,
		ClockRate: 48000, Channels: 2}, "audio", "pub")
	if err != nil {
		t.Fatal(err)
	}
	pubSender, err := pubPC.AddTrack(track)
	if err != nil {
		t.Fatal(err)
	}
	sfuPC, err := sfuAPI.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	recv := NewReceiver(ReceiverParams{TrackID: "TR_audio", StreamID: "PA_pub", Kind: webrtc.RTPCodecTypeAudio,
		Codec: webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, PayloadType: 111},
		Metrics: metrics})
	added := make(chan struct{}, 1)
	sfuPC.OnTrack(func(tr *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
		if err := recv.AddLayer(tr, r); err != nil {
			t.Error(err)
		}
		added <- struct{}{}
	})
	connect(t, pubPC, sfuPC)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	var sent []opusPacket
	wg.Add(2)
	go func() { // drain the publisher's RTCP
		defer wg.Done()
		for {
			if _, _, err := pubSender.ReadRTCP(); err != nil {
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		seq, ts := uint16(65500), uint32(4_000_000_000)
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if i%50 >= 30 && i%50 < 45 && i%50 != 40 {
				ts += 960 // DTX: silence, nothing sent but one comfort-noise frame
				continue
			}
			payload := []byte{0xfc, byte(i), byte(i >> 8), 0x55}
			pkt := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts, PayloadType: 111},
				Payload: payload}
			mu.Lock()
			sent = append(sent, opusPacket{seq, ts, payload})
			mu.Unlock()
			_ = track.WriteRTP(&pkt)
			seq++
			ts += 960
		}
	}()
	defer func() {
		cancel()
		_ = recv.Close()
		_ = pubPC.GracefulClose()
		_ = sfuPC.GracefulClose()
		wg.Wait()
	}()
	select {
	case <-added:
	case <-time.After(20 * time.Second):
		t.Fatal("audio never arrived at the SFU")
	}

	s := newSubscriber(t, sfuAPI, ccl, clientAPI, recv, "listener", nil)
	defer s.close()
	waitFor(t, 30*time.Second, "150 audio packets and two sender reports", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.raw) >= 150 && len(s.srs) >= 2
	})
	s.mu.Lock()
	got, srs := s.raw, s.srs
	s.mu.Unlock()
	mu.Lock()
	defer mu.Unlock()
	bySeq := map[uint16]opusPacket{}
	for _, p := range sent {
		bySeq[p.seq] = p
	}
	for i, p := range got {
		want, ok := bySeq[p.SequenceNumber]
		if !ok {
			t.Fatalf("packet %d: seq %d was never sent", i, p.SequenceNumber)
		}
		if p.Timestamp != want.ts || !bytes.Equal(p.Payload, want.payload) || p.Padding {
			t.Fatalf("packet %d changed: ts %d payload % x, sent ts %d payload % x", i, p.Timestamp, p.Payload, want.ts, want.payload)
		}
		if i > 0 && p.SequenceNumber != got[i-1].SequenceNumber+1 {
			t.Fatalf("gap or fill: seq %d after %d", p.SequenceNumber, got[i-1].SequenceNumber)
		}
	}
	sr := srs[len(srs)-1]
	if sr.SSRC != got[0].SSRC || sr.PacketCount == 0 || int(sr.PacketCount) > len(got)+5 {
		t.Fatalf("sender report %+v for %d packets", sr, len(got))
	}
	// The SR's RTP time lies on the stream's timeline (within 2 s).
	last := got[len(got)-1].Timestamp
	if d := int32(sr.RTPTime - last); d < -96000 || d > 96000 {
		t.Fatalf("SR RTP time %d vs last packet %d", sr.RTPTime, last)
	}
}
