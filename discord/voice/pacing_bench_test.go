package voice_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/marquee-party/marquee/discord/discordtest"
	"github.com/marquee-party/marquee/discord/voice"
)

// BenchmarkPacedDelivery runs the publisher against the fake over TLS and
// loopback UDP and reports the median packet interval and the median and
// 95th-percentile latency from a frame's due time at the source to its
// arrival at the fake (queueing + pacing + encryption + UDP).
func BenchmarkPacedDelivery(b *testing.B) {
	fake, err := discordtest.New(discordtest.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer fake.Close()
	cred := fake.NewVoiceSession(fake.Options().StageChannelID)
	c, err := voice.New(voice.Params{Endpoint: cred.Endpoint, ServerID: cred.GuildID, UserID: cred.UserID,
		SessionID: cred.SessionID, Token: cred.Token, HTTPClient: fake.HTTPClient(), Source: discordtest.NewOpusClip()})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	want := max(b.N, 250) // at least 5 s of audio
	if err := fake.Wait(time.Duration(want)*40*time.Millisecond+10*time.Second, func(s *discordtest.State) bool {
		return len(s.AudioPackets()) >= want
	}); err != nil {
		b.Fatal(err)
	}
	cancel()
	<-done
	pkts := fake.Snapshot().AudioPackets()
	var lat []time.Duration
	for _, p := range pkts {
		if d, ok := discordtest.ClipLatency(p); ok {
			lat = append(lat, d)
		}
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(discordtest.MedianInterval(pkts)), "ms-interval-median")
	b.ReportMetric(ms(lat[len(lat)/2]), "ms-latency-median")
	b.ReportMetric(ms(lat[len(lat)*95/100]), "ms-latency-p95")
	b.ReportMetric(0, "ns/op")
}
