package forward

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

func TestREDEncodeParse(t *testing.T) {
	big := bytes.Repeat([]byte{7}, 600)
	tests := []struct {
		name    string
		primary []byte
		red     []redBlock
		want    []REDBlock // what ParseRED gives back, oldest first
	}{
		{"primary alone", []byte{1, 2, 3}, nil,
			[]REDBlock{{PT: 111, Payload: []byte{1, 2, 3}}}},
		{"two redundant blocks", []byte{3, 3}, []redBlock{{[]byte{1}, 1920}, {[]byte{2, 2}, 960}},
			[]REDBlock{{111, 1920, []byte{1}}, {111, 960, []byte{2, 2}}, {111, 0, []byte{3, 3}}}},
		{"empty redundant block (DTX)", []byte{3}, []redBlock{{nil, 960}},
			[]REDBlock{{111, 960, []byte{}}, {111, 0, []byte{3}}}},
		{"largest offset and length", []byte{9}, []redBlock{{bytes.Repeat([]byte{5}, redMaxBlockLen), redMaxTSOffset}},
			[]REDBlock{{111, redMaxTSOffset, bytes.Repeat([]byte{5}, redMaxBlockLen)}, {111, 0, []byte{9}}}},
		{"oldest block left out past the size limit", big, []redBlock{{big, 1920}, {[]byte{2}, 960}},
			[]REDBlock{{111, 960, []byte{2}}, {111, 0, big}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf [1600]byte
			n := encodeRED(buf[:], 111, tt.primary, tt.red)
			if n == 0 || n > redMaxPayload {
				t.Fatalf("encoded %d bytes", n)
			}
			got, err := ParseRED(buf[:n], nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d blocks, want %d", len(got), len(tt.want))
			}
			for i := range got {
				g, w := got[i], tt.want[i]
				if g.PT != w.PT || g.TSOffset != w.TSOffset || !bytes.Equal(g.Payload, w.Payload) {
					t.Fatalf("block %d: PT %d offset %d len %d, want PT %d offset %d len %d",
						i, g.PT, g.TSOffset, len(g.Payload), w.PT, w.TSOffset, len(w.Payload))
				}
			}
		})
	}
}

func TestParseREDRejectsMalformed(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"no primary header", []byte{0x80 | 111, 0, 0x0f, 0x01}},
		{"truncated block header", []byte{0x80 | 111, 0, 0x0f}},
		{"block longer than the payload", []byte{0x80 | 111, 0, 0x0f, 0x05, 111, 1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseRED(tt.in, nil); !errors.Is(err, ErrMalformedRED) {
				t.Fatalf("err %v, want ErrMalformedRED", err)
			}
		})
	}
}

var (
	opusCodec = webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}, PayloadType: 111}
	redCodecParams = webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: MimeTypeRED, ClockRate: 48000, Channels: 2, SDPFmtpLine: "111/111"}, PayloadType: 63}
)

func TestREDCodecChoice(t *testing.T) {
	otherRED := redCodecParams
	otherRED.SDPFmtpLine = "109/109"
	bareRED := redCodecParams
	bareRED.SDPFmtpLine = ""
	tests := []struct {
		name   string
		pub    webrtc.RTPCodecParameters
		have   []webrtc.RTPCodecParameters
		wantPT uint8 // 0: plain forwarding
	}{
		{"subscriber offers RED over Opus", opusCodec, []webrtc.RTPCodecParameters{opusCodec, redCodecParams}, 111},
		{"subscriber without RED", opusCodec, []webrtc.RTPCodecParameters{opusCodec}, 0},
		{"RED over a type that is not Opus", opusCodec, []webrtc.RTPCodecParameters{opusCodec, otherRED}, 0},
		{"RED without fmtp takes the Opus type", opusCodec, []webrtc.RTPCodecParameters{opusCodec, bareRED}, 111},
		{"video never", vp8Codec, []webrtc.RTPCodecParameters{vp8Codec, redCodecParams, opusCodec}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, pt, ok := redCodec(tt.pub, tt.have)
			if !ok {
				pt = 0
			} else if c.MimeType != MimeTypeRED {
				t.Fatalf("codec %s", c.MimeType)
			}
			if pt != tt.wantPT {
				t.Fatalf("block PT %d, want %d", pt, tt.wantPT)
			}
		})
	}
}

// payloadWriter keeps what a DownTrack wrote.
type payloadWriter struct {
	pts      []uint8
	payloads [][]byte
	ts       []uint32
}

func (w *payloadWriter) WriteRTP(h *rtp.Header, p []byte) (int, error) {
	w.pts = append(w.pts, h.PayloadType)
	w.payloads = append(w.payloads, append([]byte(nil), p...))
	w.ts = append(w.ts, h.Timestamp)
	return len(p) + 12, nil
}

func (w *payloadWriter) Write(b []byte) (int, error) { return len(b), nil }

type redContext struct {
	fakeContext
	have []webrtc.RTPCodecParameters
	w    webrtc.TrackLocalWriter
}

func (c redContext) CodecParameters() []webrtc.RTPCodecParameters { return c.have }
func (c redContext) WriteStream() webrtc.TrackLocalWriter         { return c.w }

// TestDownTrackEncodesRED forwards Opus to a subscriber that negotiated
// RED and checks each packet carries the two before it, so any one lost
// packet (or two in a row) is recovered from the next; a subscriber
// without RED gets the Opus packets as they came.
func TestDownTrackEncodesRED(t *testing.T) {
	for _, withRED := range []bool{true, false} {
		t.Run(map[bool]string{true: "red", false: "plain"}[withRED], func(t *testing.T) {
			now := time.Unix(5000, 0)
			r := NewReceiver(ReceiverParams{Kind: webrtc.RTPCodecTypeAudio, Codec: opusCodec, Now: func() time.Time { return now }})
			defer r.Close()
			l := &layer{quality: QualityLow, ssrc: 7}
			r.layers[0] = l
			d := NewDownTrack(r, DownTrackParams{SubscriberID: "s"})
			_ = d.Close()
			w := &payloadWriter{}
			have := []webrtc.RTPCodecParameters{opusCodec}
			if withRED {
				have = append(have, redCodecParams)
			}
			codec, err := d.Bind(redContext{have: have, w: w})
			if err != nil {
				t.Fatal(err)
			}
			if got := codec.MimeType == MimeTypeRED; got != withRED {
				t.Fatalf("bound %s", codec.MimeType)
			}
			d.selectLayer()
			opus := func(seq uint16) []byte { return []byte{0xfc, byte(seq), byte(seq >> 8)} }
			for seq := uint16(65534); seq != 4; seq++ { // across the wrap
				raw, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: 1000 + uint32(seq+2)*960},
					Payload: opus(seq)}).Marshal()
				p, ok := r.parse(l, raw)
				if !ok {
					t.Fatal("parse")
				}
				l.cache.put(p)
				d.forward(queued{p: p})
			}
			if len(w.payloads) != 6 {
				t.Fatalf("wrote %d packets", len(w.payloads))
			}
			for i, pl := range w.payloads {
				seq := uint16(65534) + uint16(i)
				if !withRED {
					if w.pts[i] != 111 || !bytes.Equal(pl, opus(seq)) {
						t.Fatalf("packet %d: PT %d payload %x", i, w.pts[i], pl)
					}
					continue
				}
				if w.pts[i] != 63 {
					t.Fatalf("packet %d: PT %d, want RED's 63", i, w.pts[i])
				}
				blocks, err := ParseRED(pl, nil)
				if err != nil {
					t.Fatal(err)
				}
				if want := min(i, redDistance) + 1; len(blocks) != want {
					t.Fatalf("packet %d: %d blocks, want %d", i, len(blocks), want)
				}
				for j, b := range blocks {
					back := uint16(len(blocks) - 1 - j)
					if b.PT != 111 || b.TSOffset != uint32(back)*960 || !bytes.Equal(b.Payload, opus(seq-back)) {
						t.Fatalf("packet %d block %d: PT %d offset %d payload %x", i, j, b.PT, b.TSOffset, b.Payload)
					}
				}
			}
		})
	}
}
