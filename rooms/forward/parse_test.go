package forward

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestParseVP8Descriptor(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    vp8Descriptor
		wantErr bool
	}{
		{name: "minimal key frame", in: []byte{0x10, 0x00},
			want: vp8Descriptor{size: 1, start: true, keyframe: true}},
		{name: "minimal delta frame", in: []byte{0x10, 0x01},
			want: vp8Descriptor{size: 1, start: true}},
		{name: "continuation packet", in: []byte{0x00, 0xff},
			want: vp8Descriptor{size: 1}},
		{name: "7-bit PictureID", in: []byte{0x90, 0x80, 0x15, 0x00},
			want: vp8Descriptor{size: 3, start: true, hasPicID: true, picID: 0x15, keyframe: true}},
		{name: "15-bit PictureID, TL0PICIDX, TID/KEYIDX", in: []byte{0x90, 0xf0, 0xab, 0xcd, 0x07, 0x45, 0x01},
			want: vp8Descriptor{size: 6, start: true, hasPicID: true, picID: 0x2bcd, hasTL0: true, tl0PicIdx: 7,
				hasTK: true, tk: 0x45, tkFlags: vp8T | vp8K}},
		{name: "non-reference partition 2", in: []byte{0xa2, 0x40, 0x09, 0xee},
			want: vp8Descriptor{size: 3, nonRef: true, partitionID: 2, hasTL0: true, tl0PicIdx: 9}},
		{name: "empty", in: nil, wantErr: true},
		{name: "X without extension byte", in: []byte{0x80}, wantErr: true},
		{name: "I without PictureID", in: []byte{0x80, 0x80}, wantErr: true},
		{name: "M without second byte", in: []byte{0x80, 0x80, 0x81}, wantErr: true},
		{name: "L without TL0PICIDX", in: []byte{0x80, 0x40}, wantErr: true},
		{name: "T without TID byte", in: []byte{0x80, 0x20}, wantErr: true},
		{name: "start without payload header", in: []byte{0x10}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseVP8Descriptor(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrMalformedPayload) {
					t.Fatalf("err = %v, want ErrMalformedPayload", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestWriteVP8Descriptor(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		pic  uint16
		tl0  uint8
		want []byte
	}{
		{name: "adds a 15-bit PictureID where there was none", in: []byte{0x10, 0x00},
			pic: 0x1234, want: []byte{0x90, 0x80, 0x92, 0x34}},
		{name: "widens a 7-bit PictureID", in: []byte{0x90, 0x80, 0x15, 0x01},
			pic: 0x7fff, want: []byte{0x90, 0x80, 0xff, 0xff}},
		{name: "rewrites TL0PICIDX and keeps TID/KEYIDX", in: []byte{0x90, 0xf0, 0xab, 0xcd, 0x07, 0x45, 0x01},
			pic: 3, tl0: 200, want: []byte{0x90, 0xf0, 0x80, 0x03, 200, 0x45}},
		{name: "keeps N and PID", in: []byte{0xa2, 0x40, 0x09, 0xee},
			pic: 1, tl0: 10, want: []byte{0xa2, 0xc0, 0x80, 0x01, 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := parseVP8Descriptor(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, maxVP8DescriptorSize)
			n := writeVP8Descriptor(buf, &d, tt.pic, tt.tl0)
			if !bytes.Equal(buf[:n], tt.want) {
				t.Fatalf("wrote % x, want % x", buf[:n], tt.want)
			}
			// The rewritten descriptor parses back to the same fields.
			out := append(buf[:n:n], tt.in[d.size:]...)
			back, err := parseVP8Descriptor(out)
			if err != nil {
				t.Fatal(err)
			}
			if back.picID != tt.pic || back.keyframe != d.keyframe || back.start != d.start || back.tk != d.tk {
				t.Fatalf("round trip %+v from %+v", back, d)
			}
		})
	}
}

func TestIsH264Keyframe(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    bool
		wantErr bool
	}{
		{name: "IDR single NAL", in: []byte{0x65, 0x88}, want: true},
		{name: "SPS single NAL", in: []byte{0x67, 0x42}, want: true},
		{name: "non-IDR slice", in: []byte{0x41, 0x9a}},
		{name: "PPS alone", in: []byte{0x68, 0xce}},
		{name: "STAP-A with SPS and PPS", in: []byte{0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce}, want: true},
		{name: "STAP-A with IDR second", in: []byte{0x78, 0x00, 0x01, 0x06, 0x00, 0x02, 0x65, 0x88}, want: true},
		{name: "STAP-A without key", in: []byte{0x78, 0x00, 0x02, 0x41, 0x9a}},
		{name: "FU-A IDR start", in: []byte{0x7c, 0x85, 0x88}, want: true},
		{name: "FU-A IDR middle", in: []byte{0x7c, 0x05, 0x88}},
		{name: "FU-A non-IDR start", in: []byte{0x7c, 0x81, 0x9a}},
		{name: "empty", in: nil, wantErr: true},
		{name: "FU-A without header", in: []byte{0x7c}, wantErr: true},
		{name: "STAP-A truncated size", in: []byte{0x78, 0x00}, wantErr: true},
		{name: "STAP-A size past end", in: []byte{0x78, 0x00, 0x09, 0x65}, wantErr: true},
		{name: "STAP-A zero size", in: []byte{0x78, 0x00, 0x00}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := isH264Keyframe(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrMalformedPayload) {
					t.Fatalf("err = %v, want ErrMalformedPayload", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func FuzzParseVP8Descriptor(f *testing.F) {
	f.Add([]byte{0x90, 0xf0, 0xab, 0xcd, 0x07, 0x45, 0x01})
	f.Add([]byte{0x10, 0x00})
	f.Add([]byte{0x80, 0x80, 0x81})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := parseVP8Descriptor(b)
		if err != nil {
			return
		}
		if d.size > len(b) {
			t.Fatalf("size %d beyond %d bytes", d.size, len(b))
		}
		buf := make([]byte, maxVP8DescriptorSize+len(b))
		n := writeVP8Descriptor(buf, &d, d.picID&0x7fff, d.tl0PicIdx)
		n += copy(buf[n:], b[d.size:])
		back, err := parseVP8Descriptor(buf[:n])
		if err != nil {
			t.Fatalf("rewritten descriptor does not parse: %v", err)
		}
		if back.picID != d.picID || back.tl0PicIdx != d.tl0PicIdx || back.keyframe != d.keyframe ||
			back.start != d.start || back.partitionID != d.partitionID || back.tk != d.tk {
			t.Fatalf("round trip %+v != %+v", back, d)
		}
	})
}

func FuzzIsH264Keyframe(f *testing.F) {
	f.Add([]byte{0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce})
	f.Add([]byte{0x7c, 0x85, 0x88})
	f.Add([]byte{0x65})
	f.Fuzz(func(t *testing.T, b []byte) {
		key, err := isH264Keyframe(b)
		if err != nil && key {
			t.Fatal("key frame reported with an error")
		}
	})
}

func TestKeyframeRequestsThrottled(t *testing.T) {
	now := time.Unix(1000, 0)
	var sent []uint32
	r := NewReceiver(ReceiverParams{
		RequestKeyframe: func(ssrc uint32) { sent = append(sent, ssrc) },
		Now:             func() time.Time { return now },
	})
	defer r.Close()
	r.layers[0] = &layer{ssrc: 11}
	r.layers[2] = &layer{ssrc: 33}
	steps := []struct {
		advance time.Duration
		layer   int8
		want    bool
	}{
		{0, 2, true},
		{0, 2, false},
		{100 * time.Millisecond, 2, false},
		{0, 0, true}, // layers are throttled separately
		{399 * time.Millisecond, 2, false},
		{1 * time.Millisecond, 2, true},
		{0, 1, false}, // no such layer
		{10 * time.Second, 2, true},
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		if got := r.requestKeyframe(s.layer); got != s.want {
			t.Fatalf("step %d: sent=%v, want %v", i, got, s.want)
		}
	}
	if want := []uint32{33, 11, 33, 33}; len(sent) != len(want) {
		t.Fatalf("sent %v, want %v", sent, want)
	}
}

func TestQualityForDimensions(t *testing.T) {
	tests := []struct {
		w, h int
		want Quality
	}{
		{0, 0, QualityHigh},
		{320, 180, QualityLow},
		{300, 100, QualityLow},
		{400, 225, QualityMedium},
		{640, 360, QualityMedium},
		{1280, 720, QualityHigh},
		{1920, 1080, QualityHigh},
	}
	for _, tt := range tests {
		if got := qualityForDimensions(defaultDimensions, tt.w, tt.h); got != tt.want {
			t.Errorf("%dx%d: got %v, want %v", tt.w, tt.h, got, tt.want)
		}
	}
}
