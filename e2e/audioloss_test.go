//go:build audioloss

package e2e

// The Chromium half of scripts/audioloss.sh: run as root inside a network
// namespace of its own (loopback only), it drops LOSS % of the SFU's RTP
// audio with nftables and reads Chromium's own concealment figures
// (getStats concealedSamples) at a listener. Built only with -tags
// audioloss: it measures, it asserts nothing.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestAudioLossChromium(t *testing.T) {
	loss, _ := strconv.Atoi(os.Getenv("LOSS"))
	secs, _ := strconv.Atoi(os.Getenv("SECS"))
	if loss <= 0 || secs <= 0 {
		t.Fatal("set LOSS (percent) and SECS")
	}
	s := startTestSFU(t)
	page := ServeSFUPage(t)
	b := StartChrome(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(secs+90)*time.Second)
	defer cancel()
	view := toneListener(ctx, t, b, s, page, "lossy")
	view.WaitTrue(ctx, `audioStats().then(a => a.samples > 48000 * 2)`)
	// The SFU's media port, as the listener's selected candidate pair has it.
	var port int
	if err := view.Eval(`state.audio.receiver.getStats().then(st => { let id = ''; let p = 0;
		st.forEach(s => { if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') id = s.remoteCandidateId; });
		st.forEach(s => { if (s.id === id) p = s.port; }); return p; })`, &port); err != nil || port == 0 {
		t.Fatalf("SFU port %d: %v", port, err)
	}
	// RTP from the SFU whose payload type (byte 1, less the marker bit) is
	// Opus (111) or RED (63): its audio, not its video or RTCP.
	rules := fmt.Sprintf("table inet audioloss {\n chain out {\n type filter hook output priority 0;\n"+
		" udp sport %d @th,73,7 { 63, 111 } numgen random mod 100 < %d drop\n }\n}\n", port, loss)
	cmd := exec.Command("nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("nft", "delete", "table", "inet", "audioloss").Run() })
	type stats struct {
		Mime                              string
		Packets, Lost, Samples, Concealed float64
	}
	var a0, a1 stats
	if err := view.Eval(`audioStats()`, &a0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Duration(secs) * time.Second)
	if err := view.Eval(`audioStats()`, &a1); err != nil {
		t.Fatal(err)
	}
	samples, concealed := a1.Samples-a0.Samples, a1.Concealed-a0.Concealed
	red := s.sum(t, "marquee_sfu_forward_red_packets_total", nil) > 0
	t.Logf("AUDIOLOSS chromium red=%v loss=%d%% packets=%.0f lost=%.0f samples=%.0f concealed=%.0f concealed_ratio=%.2f%%",
		red, loss, a1.Packets-a0.Packets, a1.Lost-a0.Lost, samples, concealed, 100*concealed/max(samples, 1))
}
