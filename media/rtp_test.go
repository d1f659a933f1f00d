package media

import (
	"bytes"
	"testing"

	"github.com/pion/rtp/codecs"
)

func TestVP8PayloaderPictureID(t *testing.T) {
	p := &VP8Payloader{pictureID: 0x7ffe}
	frame := bytes.Repeat([]byte{1, 2, 3}, 1000)
	var ids []uint16
	for range 3 {
		payloads := p.Payload(1200, frame)
		if len(payloads) != 3 {
			t.Fatalf("%d payloads", len(payloads))
		}
		var got []byte
		for i, pl := range payloads {
			var d codecs.VP8Packet
			body, err := d.Unmarshal(pl)
			if err != nil {
				t.Fatal(err)
			}
			if d.I != 1 || (d.S == 1) != (i == 0) {
				t.Fatalf("descriptor %+v", d)
			}
			if i == 0 {
				ids = append(ids, d.PictureID)
			}
			got = append(got, body...)
		}
		if !bytes.Equal(got, frame) {
			t.Fatal("reassembled frame differs")
		}
	}
	// Wraps from 0x7fff to 1, never 0.
	if ids[0] != 0x7fff || ids[1] != 1 || ids[2] != 2 {
		t.Fatalf("picture IDs %v", ids)
	}
}

func TestPacketizer(t *testing.T) {
	p, err := NewPacketizer(CodecVP8)
	if err != nil {
		t.Fatal(err)
	}
	pkts := p.Packetize(Frame{Data: make([]byte, 3000), Timestamp: 1234})
	for i, pk := range pkts {
		if pk.Timestamp != 1234 || pk.Marker != (i == len(pkts)-1) || pk.SequenceNumber != pkts[0].SequenceNumber+uint16(i) {
			t.Fatalf("packet %d: %+v", i, pk.Header)
		}
	}
	if _, err := NewPacketizer("theora"); err == nil {
		t.Fatal("no error for unknown codec")
	}
}
