package sfusource_test

import (
	"context"
	"encoding/binary"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/marquee-party/marquee/rooms/roomstest"

	"github.com/livekit/protocol/auth"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/marquee-party/marquee/discord"
	"github.com/marquee-party/marquee/discord/discordtest"
	"github.com/marquee-party/marquee/discord/sfusource"
)

// party is the smallest API side: one party in room "party-e2e".
type party struct{}

func (*party) StartParty(context.Context, discord.StartRequest) (discord.Party, error) {
	return discord.Party{ID: "p1", Room: "party-e2e", InviteURL: "https://marquee.test/j/1"}, nil
}
func (*party) Stop(context.Context, string) error { return nil }
func (*party) Enqueue(context.Context, string, string, discord.Requester) (discord.QueueEntry, error) {
	return discord.QueueEntry{}, nil
}
func (*party) Control(context.Context, string, discord.Control) error { return nil }
func (*party) Invite(context.Context, string) (string, error)         { return "https://marquee.test/j/1", nil }
func (*party) NowPlaying(context.Context, string) (discord.NowPlaying, error) {
	return discord.NowPlaying{Item: discord.CatalogItem{ID: "m1", Title: "Arrival"}, State: "playing"}, nil
}
func (*party) Queue(context.Context, string) ([]discord.QueueEntry, error) { return nil, nil }
func (*party) Search(context.Context, string, int) ([]discord.CatalogItem, error) {
	return []discord.CatalogItem{{ID: "m1", Title: "Arrival"}}, nil
}

// stampedFrame is a valid Opus packet (TOC 0xFC) carrying its index and
// the time it was published.
func stampedFrame(i int, at time.Time) []byte {
	b := binary.BigEndian.AppendUint32([]byte{0xFC}, uint32(i))
	return binary.BigEndian.AppendUint64(b, uint64(at.UnixNano()))
}

// TestSFUToDiscordStage: an ingest publishes Opus into the real SFU; the
// bot, started by a slash command, subscribes as a hidden participant and
// plays the same Opus bytes on the fake Discord's Stage; a paused playback
// packet ends in five silence frames.
func TestSFUToDiscordStage(t *testing.T) {
	url := roomstest.Start(t, roomstest.Options{}).URL
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	tok, err := auth.NewAccessToken(apiKey, apiSecret).SetIdentity("ingest-e2e").
		SetVideoGrant(&auth.VideoGrant{RoomJoin: true, Room: "party-e2e"}).SetValidFor(time.Hour).ToJWT()
	if err != nil {
		t.Fatal(err)
	}
	ingest, err := lksdk.ConnectToRoomWithToken(url, tok, lksdk.NewRoomCallback())
	if err != nil {
		t.Fatal(err)
	}
	defer ingest.Disconnect()
	track, err := lksdk.NewLocalSampleTrack(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.LocalParticipant.PublishTrack(track, &lksdk.TrackPublicationOptions{Name: "audio"}); err != nil {
		t.Fatal(err)
	}
	pctx, stopAudio := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stopAudio()
	wg.Go(func() {
		start := time.Now()
		for i := 0; ; i++ {
			due := start.Add(time.Duration(i) * 20 * time.Millisecond)
			select {
			case <-pctx.Done():
				return
			case <-time.After(time.Until(due)):
			}
			_ = track.WriteSample(media.Sample{Data: stampedFrame(i, time.Now()), Duration: 20 * time.Millisecond}, nil)
		}
	})

	fake, err := discordtest.New(discordtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	o := fake.Options()
	sources, err := sfusource.New(sfusource.Config{URL: url, APIKey: apiKey, APISecret: apiSecret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := discord.DefaultConfig()
	cfg.Token, cfg.ApplicationID = o.Token, o.ApplicationID
	cfg.ControlRoles = map[string]string{o.GuildID: "7"}
	p := &party{}
	bot, err := discord.New(discord.Params{Config: cfg, Parties: p, Info: p, Audio: sources,
		HTTPClient: fake.HTTPClient(), TLSConfig: fake.TLSConfig()})
	if err != nil {
		t.Fatal(err)
	}
	runDone := make(chan error, 1)
	go func() { runDone <- bot.Run(ctx) }()
	defer func() { _ = bot.Close(); <-runDone }()
	if err := fake.Wait(20*time.Second, func(s *discordtest.State) bool { return len(s.Commands) > 0 }); err != nil {
		t.Fatal(err)
	}
	if _, err := fake.Interact(discordtest.InteractionCommand, discordtest.Member{UserID: "9", Roles: []string{"7"}}, "party",
		discordtest.Option{Name: "start", Type: 1, Options: []discordtest.Option{{Name: "title", Type: 3, Value: "m1"},
			{Name: "channel", Type: 7, Value: o.StageChannelID}}}); err != nil {
		t.Fatal(err)
	}
	if err := fake.Wait(30*time.Second, func(s *discordtest.State) bool { return len(s.AudioPackets()) >= 150 }); err != nil {
		t.Fatalf("audio from the SFU on the Stage: %v", err)
	}
	st := fake.Snapshot()
	var lat []time.Duration
	last := -1
	for _, pk := range st.AudioPackets() {
		if len(pk.Opus) != 13 || pk.Opus[0] != 0xFC || !pk.ValidOpus {
			t.Fatalf("packet is not a published frame: % x", pk.Opus)
		}
		i := int(binary.BigEndian.Uint32(pk.Opus[1:]))
		if i <= last {
			t.Fatalf("frame %d after %d", i, last)
		}
		last = i
		lat = append(lat, pk.Arrival.Sub(time.Unix(0, int64(binary.BigEndian.Uint64(pk.Opus[5:])))))
	}
	slices.Sort(lat)
	t.Logf("ingest→SFU→Discord latency over %d frames: median %v, p95 %v; packet interval median %v",
		len(lat), lat[len(lat)/2], lat[len(lat)*95/100], discordtest.MedianInterval(st.AudioPackets()))

	// Pause: the ingest announces it and stops sending.
	if err := ingest.LocalParticipant.PublishDataPacket(&lksdk.UserDataPacket{Topic: "marquee.playback",
		Payload: []byte(`{"type":"playback","state":"paused"}`)}, lksdk.WithDataPublishReliable(true)); err != nil {
		t.Fatal(err)
	}
	stopAudio()
	if err := fake.Wait(20*time.Second, func(s *discordtest.State) bool {
		return len(s.Speaking) > 1 && s.Speaking[len(s.Speaking)-1] == 0
	}); err != nil {
		t.Fatalf("speaking off after pause: %v", err)
	}
	time.Sleep(100 * time.Millisecond)
	if span, silent := fake.Snapshot().SilenceTail(); span != 5 || !silent {
		t.Errorf("after the last audio: %d packets by seq (all silence %v), want 5 silence frames", span, silent)
	}
}
