package sfubench

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestParseProcStat(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    procSample
		wantErr bool
	}{
		{
			name: "plain",
			in:   "4242 (sfu) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 50 0 0 20 0 12 0 100 1000000 2048 18446744073709551615",
			want: procSample{cpu: 3 * time.Second, rss: 2048 * 4096},
		},
		{
			name: "command with spaces and parens",
			in:   "7 (a b) (c)) R 1 7 7 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 5 100 10 0",
			want: procSample{cpu: 30 * time.Millisecond, rss: 10 * 4096},
		},
		{name: "truncated", in: "7 (sfu) S 1 2 3", wantErr: true},
		{name: "no command", in: "garbage", wantErr: true},
		{name: "not numbers", in: "7 (sfu) S 1 7 7 0 -1 0 0 0 0 0 x y 0 0 20 0 1 0 5 100 z 0", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseProcStat(tt.in, 4096)
			if tt.wantErr {
				if !errors.Is(err, ErrBadProcStat) {
					t.Fatalf("err = %v, want ErrBadProcStat", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestSumCounter(t *testing.T) {
	page := `# HELP marquee_sfu_forward_packets_total RTP packets sent.
# TYPE marquee_sfu_forward_packets_total counter
marquee_sfu_forward_packets_total{kind="audio"} 1500
marquee_sfu_forward_packets_total{kind="video"} 2.5e+06
marquee_sfu_forward_packets_total_other 99
marquee_sfu_forward_bytes_total{kind="video"} 7
`
	got, err := sumCounter(strings.NewReader(page), "marquee_sfu_forward_packets_total")
	if err != nil || got != 2_501_500 {
		t.Fatalf("got %v, %v", got, err)
	}
	if _, err := sumCounter(strings.NewReader("m{a=\"b\"} nope\n"), "m"); err == nil {
		t.Fatal("bad value accepted")
	}
}

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var out []time.Duration
		for _, x := range v {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	tests := []struct {
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{nil, 0.5, 0},
		{ms(7), 0.95, 7 * time.Millisecond},
		{ms(5, 1, 3, 2, 4), 0.5, 3 * time.Millisecond},
		{ms(10, 20, 30, 40, 50, 60, 70, 80, 90, 100), 0.95, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := percentile(tt.in, tt.p); got != tt.want {
			t.Errorf("percentile(%v, %v) = %v, want %v", tt.in, tt.p, got, tt.want)
		}
	}
}

func TestParseFlags(t *testing.T) {
	var out bytes.Buffer
	o, err := parseFlags([]string{"--viewers=10, 50", "--duration=5s"}, &out)
	if err != nil || len(o.viewers) != 2 || o.viewers[1] != 50 || o.duration != 5*time.Second {
		t.Fatalf("got %+v, %v", o, err)
	}
	if _, err := parseFlags([]string{"--viewers=10,x"}, &out); err == nil {
		t.Fatal("bad viewer count accepted")
	}
	if _, err := parseFlags([]string{"--help"}, &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	if code := Main(t.Context(), []string{"--help"}, &out); code != 0 || !strings.Contains(out.String(), "--viewers") && !strings.Contains(out.String(), "-viewers") {
		t.Fatalf("Main --help = %d, output %q", code, out.String())
	}
}

func TestVP8Packets(t *testing.T) {
	pkts := vp8Packets(8333, 0x1234, 9, true)
	if len(pkts) != 8 {
		t.Fatalf("%d packets", len(pkts))
	}
	for i, p := range pkts {
		if p[0]&0x80 == 0 || p[1]&0x80 == 0 || p[2]&0x80 == 0 || uint16(p[2]&0x7f)<<8|uint16(p[3]) != 0x1234 || p[4] != 9 {
			t.Fatalf("packet %d descriptor % x", i, p[:5])
		}
		if start := p[0]&0x10 != 0; start != (i == 0) {
			t.Fatalf("packet %d S bit %v", i, start)
		}
	}
	if pkts[0][5]&1 != 0 {
		t.Fatal("key frame has P bit set")
	}
}

func TestMedianAndSpread(t *testing.T) {
	rs := []result{{usPerPacket: 9}, {usPerPacket: 7}, {usPerPacket: 8}, {usPerPacket: 12}}
	if m := median(rs); m.usPerPacket != 8 {
		t.Fatalf("median of 4 = %v, want the lower middle 8", m.usPerPacket)
	}
	if m := median(rs[:3]); m.usPerPacket != 8 {
		t.Fatalf("median of 3 = %v, want 8", m.usPerPacket)
	}
	if lo, hi := spread(rs); lo != 7 || hi != 12 {
		t.Fatalf("spread = %v-%v, want 7-12", lo, hi)
	}
	if rs[0].usPerPacket != 9 {
		t.Fatal("median reordered its argument")
	}
	if _, err := parseFlags([]string{"--runs=0"}, io.Discard); err == nil {
		t.Fatal("--runs=0 accepted")
	}
}
