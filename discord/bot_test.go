package discord_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/marquee-party/marquee/discord"
	"github.com/marquee-party/marquee/discord/discordtest"
)

// TestMain checks for leaks. TestStalledGatewayGetsANewSession leaves one
// discordgo goroutine deadlocked on purpose (see Bot.watch).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/bwmarrin/discordgo.(*Session).reconnect"))
}

const (
	controlRole = "700000000000000001"
	inviteURL   = "https://marquee.test/join/abc123"
)

var (
	host     = discordtest.Member{UserID: "500000000000000001", Roles: []string{controlRole}}
	stranger = discordtest.Member{UserID: "500000000000000002", Roles: []string{"700000000000000999"}}
	catalog  = []discord.CatalogItem{
		{ID: "m1", Title: "Arrival", Year: 2016, MediaType: "movie", PosterURL: "https://img.test/arrival.jpg"},
		{ID: "m2", Title: "Arsenic and Old Lace", Year: 1944, MediaType: "movie"},
		{ID: "t1", Title: "Blue in Green", MediaType: "track"},
	}
)

// backend fakes the API side: PartyControl, PartyInfo and AudioSources.
type backend struct {
	mu       sync.Mutex
	clip     *discordtest.OpusClip
	started  []discord.StartRequest
	controls []discord.Control
	queued   []string
	stopped  bool
	np       discord.NowPlaying
	problems []error
	opens    int
}

func (f *backend) StartParty(_ context.Context, req discord.StartRequest) (discord.Party, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started = append(f.started, req)
	for _, it := range catalog {
		if it.ID == req.ItemID {
			f.np = discord.NowPlaying{Item: it, State: "playing", Duration: 116 * time.Minute, Viewers: 3, InviteURL: inviteURL}
		}
	}
	return discord.Party{ID: "party-1", Room: "room-party-1", InviteURL: inviteURL}, nil
}

func (f *backend) Stop(context.Context, string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = true
	return nil
}

func (f *backend) Enqueue(_ context.Context, _, itemID string, _ discord.Requester) (discord.QueueEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queued = append(f.queued, itemID)
	return discord.QueueEntry{ID: "q" + itemID}, nil
}

func (f *backend) Control(_ context.Context, _ string, c discord.Control) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.controls = append(f.controls, c)
	switch c.Action {
	case discord.ActionPause:
		f.np.State = "paused"
		f.clip.SetPaused(true)
	case discord.ActionResume:
		f.np.State = "playing"
		f.clip.SetPaused(false)
	case discord.ActionSeek:
		f.np.Position = c.Position
	}
	return nil
}

func (f *backend) Invite(context.Context, string) (string, error) { return inviteURL, nil }

func (f *backend) NowPlaying(context.Context, string) (discord.NowPlaying, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return discord.NowPlaying{}, fmt.Errorf("party-1: %w", discord.ErrPartyOver)
	}
	return f.np, nil
}

func (f *backend) Queue(context.Context, string) ([]discord.QueueEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var q []discord.QueueEntry
	for _, id := range f.queued {
		for _, it := range catalog {
			if it.ID == id {
				q = append(q, discord.QueueEntry{ID: "q" + id, Item: it})
			}
		}
	}
	return q, nil
}

func (f *backend) Search(_ context.Context, query string, limit int) ([]discord.CatalogItem, error) {
	var out []discord.CatalogItem
	for _, it := range catalog {
		if it.ID == query || strings.Contains(strings.ToLower(it.Title), strings.ToLower(query)) {
			out = append(out, it)
		}
	}
	return out[:min(len(out), limit)], nil
}

func (f *backend) Open(context.Context, string) (discord.OpusSource, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.opens++
	return f.clip, nil
}

func (f *backend) ReportProblem(_ string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.problems = append(f.problems, err)
}

func (f *backend) snapshot() backend {
	f.mu.Lock()
	defer f.mu.Unlock()
	return backend{started: append([]discord.StartRequest(nil), f.started...), controls: append([]discord.Control(nil), f.controls...),
		queued: append([]string(nil), f.queued...), stopped: f.stopped, problems: append([]error(nil), f.problems...), opens: f.opens}
}

type env struct {
	reg  *prometheus.Registry
	fake *discordtest.Server
	bot  *discord.Bot
	be   *backend
	o    discordtest.Options
}

func newEnv(t *testing.T, mods ...func(*discord.Config)) *env {
	t.Helper()
	fake, err := discordtest.New(discordtest.Options{HeartbeatInterval: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	o := fake.Options()
	be := &backend{clip: discordtest.NewOpusClip()}
	cfg := discord.DefaultConfig()
	cfg.Token, cfg.ApplicationID = o.Token, o.ApplicationID
	cfg.ControlRoles = map[string]string{o.GuildID: controlRole}
	cfg.EmbedInterval, cfg.RefreshInterval = 300*time.Millisecond, 400*time.Millisecond
	for _, m := range mods {
		m(&cfg)
	}
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	reg := prometheus.NewRegistry()
	bot, err := discord.New(discord.Params{Config: cfg, Parties: be, Info: be, Audio: be, Problems: be, Logger: log, Registry: reg,
		HTTPClient: fake.HTTPClient(), TLSConfig: fake.TLSConfig()})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- bot.Run(context.Background()) }()
	t.Cleanup(func() {
		_ = bot.Close()
		if err := <-errc; err != nil {
			t.Errorf("Run: %v", err)
		}
		fake.Close()
	})
	e := &env{reg: reg, fake: fake, bot: bot, be: be, o: o}
	e.wait(t, "command registration", func(s *discordtest.State) bool { return len(s.Commands) == 8 })
	return e
}

func (e *env) wait(t *testing.T, what string, cond func(*discordtest.State) bool) *discordtest.State {
	t.Helper()
	if err := e.fake.Wait(20*time.Second, cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
	return e.fake.Snapshot()
}

// command runs a slash command and waits for its final response.
func (e *env) command(t *testing.T, m discordtest.Member, name string, opts ...discordtest.Option) discordtest.InteractionResponse {
	t.Helper()
	id, err := e.fake.Interact(discordtest.InteractionCommand, m, name, opts...)
	if err != nil {
		t.Fatal(err)
	}
	st := e.wait(t, "response to /"+name, func(s *discordtest.State) bool {
		r := s.Responses[id]
		return len(r) > 0 && (r[len(r)-1].Type != 5)
	})
	r := st.Responses[id]
	return r[len(r)-1]
}

// counter sums a counter's series whose label has value.
func counter(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
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
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label && lp.GetValue() == value {
					sum += m.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}

func sub(name string, opts ...discordtest.Option) discordtest.Option {
	return discordtest.Option{Name: name, Type: 1, Options: opts}
}

func str(name, v string) discordtest.Option { return discordtest.Option{Name: name, Type: 3, Value: v} }

func (e *env) startParty(t *testing.T, channelID string) discordtest.InteractionResponse {
	t.Helper()
	return e.command(t, host, "party", sub("start", str("title", "m1"), discordtest.Option{Name: "channel", Type: 7, Value: channelID}))
}

func TestCommandsRegisteredWithAutocomplete(t *testing.T) {
	e := newEnv(t)
	st := e.fake.Snapshot()
	want := map[string]bool{"party": true, "queue": true, "pause": true, "resume": true, "seek": true, "skip": true, "nowplaying": true, "invite": true}
	for _, c := range st.Commands {
		delete(want, c.Name)
		if c.Name == "party" && !strings.Contains(strings.Join(c.Autocomplete, ","), "start.title") {
			t.Errorf("party start title lacks autocomplete: %v", c.Autocomplete)
		}
	}
	if len(want) != 0 {
		t.Errorf("commands missing: %v", want)
	}
	id, err := e.fake.Interact(discordtest.InteractionAutocomplete, host, "party",
		sub("start", discordtest.Option{Name: "title", Type: 3, Value: "ar", Focused: true}))
	if err != nil {
		t.Fatal(err)
	}
	st = e.wait(t, "autocomplete", func(s *discordtest.State) bool { return len(s.Responses[id]) == 1 })
	r := st.Responses[id][0]
	if r.Type != 8 || len(r.Choices) != 2 || r.Choices[0].Name != "Arrival (2016)" || r.Choices[0].Value != "m1" {
		t.Errorf("autocomplete = %+v", r)
	}
}

func TestSlashCommandStartsPartyWithEmbedAndStageAudio(t *testing.T) {
	e := newEnv(t)
	r := e.startParty(t, e.o.StageChannelID)
	if !strings.Contains(r.Content, inviteURL) || len(r.Buttons) != 1 || r.Buttons[0].URL != inviteURL {
		t.Fatalf("start response = %+v", r)
	}
	st := e.wait(t, "embed", func(s *discordtest.State) bool { return len(s.MessagesIn(e.o.TextChannelID)) == 1 })
	m := st.MessagesIn(e.o.TextChannelID)[0]
	if len(m.Embeds) != 1 || m.Embeds[0].Title != "Arrival" || m.Embeds[0].Thumbnail == nil ||
		m.Embeds[0].Thumbnail.URL != "https://img.test/arrival.jpg" {
		t.Fatalf("embed = %+v", m.Embeds)
	}
	fields := fmt.Sprint(m.Embeds[0].Fields)
	for _, want := range []string{"2016", "Playing", "Viewers 3"} {
		if !strings.Contains(fields, want) {
			t.Errorf("embed fields %s lack %q", fields, want)
		}
	}
	if !strings.Contains(m.Embeds[0].Description, "1:56:00") {
		t.Errorf("progress line = %q", m.Embeds[0].Description)
	}
	if len(m.Buttons) != 1 || m.Buttons[0].URL != inviteURL || m.Buttons[0].Style != 5 {
		t.Errorf("buttons = %+v, want one link button to the invite", m.Buttons)
	}
	if got := e.be.snapshot().started; len(got) != 1 || got[0].VoiceChannelID != e.o.StageChannelID ||
		got[0].TextChannelID != e.o.TextChannelID || got[0].GuildID != e.o.GuildID || got[0].Host.UserID != host.UserID {
		t.Errorf("StartParty got %+v", got)
	}

	// The bot joins the Stage, unsuppresses itself and delivers audio.
	st = e.wait(t, "audio on the Stage", func(s *discordtest.State) bool { return len(s.AudioPackets()) >= 50 })
	if len(st.VoiceJoins) == 0 || st.VoiceJoins[0].ChannelID != e.o.StageChannelID {
		t.Errorf("voice joins = %+v", st.VoiceJoins)
	}
	if len(st.VoiceStatePatch) == 0 || st.VoiceStatePatch[0].Suppress == nil || *st.VoiceStatePatch[0].Suppress || st.VoiceStatePatch[0].Status != 204 {
		t.Errorf("voice state patches = %+v, want suppress:false accepted", st.VoiceStatePatch)
	}
	pkts := st.AudioPackets()
	for _, p := range pkts {
		if !p.ValidOpus {
			t.Fatalf("invalid Opus % x", p.Opus)
		}
	}
	if med := discordtest.MedianInterval(pkts); med < 15*time.Millisecond || med > 25*time.Millisecond {
		t.Errorf("median packet interval = %v, want about 20 ms", med)
	}

	// /pause: five silence frames, then nothing.
	if r := e.command(t, host, "pause"); r.Content != "Paused." {
		t.Fatalf("pause response = %+v", r)
	}
	e.wait(t, "speaking off", func(s *discordtest.State) bool { return len(s.Speaking) > 0 && s.Speaking[len(s.Speaking)-1] == 0 })
	time.Sleep(100 * time.Millisecond)
	n := len(e.fake.Snapshot().Packets)
	time.Sleep(200 * time.Millisecond)
	st = e.fake.Snapshot()
	if len(st.Packets) != n {
		t.Fatalf("%d packets while paused", len(st.Packets)-n)
	}
	if span, silent := st.SilenceTail(); span != 5 || !silent {
		t.Fatalf("after the last audio: %d packets by seq, all silence %v; want 5 silence frames", span, silent)
	}
	e.wait(t, "embed shows Paused", func(s *discordtest.State) bool {
		ms := s.MessagesIn(e.o.TextChannelID)
		return len(ms) == 1 && strings.Contains(fmt.Sprint(ms[0].Embeds[0].Fields), "Paused")
	})

	// /party stop: final embed, voice left, no new message.
	if r := e.command(t, host, "party", sub("stop")); !strings.Contains(r.Content, "ended") {
		t.Fatalf("stop response = %+v", r)
	}
	e.wait(t, "final embed and leave", func(s *discordtest.State) bool {
		ms := s.MessagesIn(e.o.TextChannelID)
		return len(ms) == 1 && ms[0].Embeds[0].Title == "Party ended" && len(ms[0].Buttons) == 0 &&
			len(s.VoiceJoins) >= 2 && s.VoiceJoins[len(s.VoiceJoins)-1].ChannelID == ""
	})
}

func TestVoiceResumesAfter4015(t *testing.T) {
	e := newEnv(t)
	e.startParty(t, e.o.StageChannelID)
	e.wait(t, "audio", func(s *discordtest.State) bool { return len(s.AudioPackets()) >= 10 })
	e.fake.CloseVoice(4015)
	st := e.wait(t, "resume", func(s *discordtest.State) bool { return len(s.VoiceResumes) == 1 })
	n := len(st.AudioPackets())
	st = e.wait(t, "audio after resume", func(s *discordtest.State) bool { return len(s.AudioPackets()) >= n+25 })
	if st.VoiceIdentifies != 1 || len(st.VoiceJoins) != 1 {
		t.Errorf("identifies = %d, joins = %d: want a resume, not a rejoin", st.VoiceIdentifies, len(st.VoiceJoins))
	}
}

func TestGatewayReconnectKeepsTheParty(t *testing.T) {
	e := newEnv(t)
	e.startParty(t, e.o.StageChannelID)
	e.wait(t, "audio", func(s *discordtest.State) bool { return len(s.AudioPackets()) >= 10 })
	e.fake.DropGateway()
	st := e.wait(t, "gateway resume", func(s *discordtest.State) bool { return s.Resumes == 1 })
	n := len(st.AudioPackets())
	e.wait(t, "audio goes on", func(s *discordtest.State) bool { return len(s.AudioPackets()) >= n+25 })
	if r := e.command(t, host, "nowplaying"); len(r.Embeds) != 1 || r.Embeds[0].Title != "Arrival" {
		t.Errorf("nowplaying after reconnect = %+v", r)
	}
}

// TestStalledGatewayGetsANewSession: the gateway answers the bot's Resume
// with opcode 9, on which discordgo deadlocks; the watchdog starts a new
// session, the bot answers commands again and voice comes back.
func TestStalledGatewayGetsANewSession(t *testing.T) {
	e := newEnv(t, func(c *discord.Config) { c.GatewayStallTimeout = 2 * time.Second })
	e.startParty(t, e.o.StageChannelID)
	e.wait(t, "audio", func(s *discordtest.State) bool { return len(s.AudioPackets()) >= 10 })
	e.fake.RejectResumes(true)
	e.fake.DropGateway()
	st := e.wait(t, "a new session", func(s *discordtest.State) bool { return s.Resumes >= 1 && s.Identifies == 2 })
	n := len(st.AudioPackets())
	e.wait(t, "audio after the new session", func(s *discordtest.State) bool { return len(s.AudioPackets()) >= n+25 })
	if r := e.command(t, host, "nowplaying"); len(r.Embeds) != 1 {
		t.Errorf("nowplaying on the new session = %+v", r)
	}
}

func TestGatewayNewSessionRejoinsVoice(t *testing.T) {
	e := newEnv(t)
	e.startParty(t, e.o.StageChannelID)
	e.wait(t, "audio", func(s *discordtest.State) bool { return len(s.AudioPackets()) >= 10 })
	if err := e.fake.InvalidateSession(); err != nil {
		t.Fatal(err)
	}
	st := e.wait(t, "second identify and voice rejoin", func(s *discordtest.State) bool {
		return s.Identifies == 2 && len(s.VoiceJoins) >= 2 && s.VoiceIdentifies >= 2
	})
	n := len(st.AudioPackets())
	st = e.wait(t, "audio after rejoin", func(s *discordtest.State) bool { return len(s.AudioPackets()) >= n+25 })
	if len(st.VoiceCloses) == 0 || st.VoiceCloses[0] != 4014 {
		t.Errorf("voice closes = %v, want 4014 first", st.VoiceCloses)
	}
	for _, m := range st.MessagesIn(e.o.TextChannelID) {
		if strings.Contains(m.Content, "disconnected") {
			t.Errorf("a routine gateway re-identify was reported to the channel: %q", m.Content)
		}
	}
}

func TestEndedAudioIsReopened(t *testing.T) {
	e := newEnv(t)
	e.startParty(t, e.o.StageChannelID)
	e.wait(t, "audio", func(s *discordtest.State) bool { return len(s.AudioPackets()) >= 10 })
	e.be.mu.Lock()
	old := e.be.clip
	e.be.clip = discordtest.NewOpusClip()
	e.be.mu.Unlock()
	_ = old.Close() // the SFU room went away
	st := e.wait(t, "silence after the source ended", func(s *discordtest.State) bool {
		return slices.Contains(s.Speaking, 0)
	})
	n := len(st.AudioPackets())
	e.wait(t, "audio from the reopened source", func(s *discordtest.State) bool { return len(s.AudioPackets()) >= n+25 })
	if got := e.be.snapshot().opens; got != 2 {
		t.Errorf("opens = %d, want 2", got)
	}
}

func TestNormalVoiceChannelGetsStageAdvice(t *testing.T) {
	e := newEnv(t)
	e.startParty(t, e.o.VoiceChannelID)
	st := e.wait(t, "Stage advice", func(s *discordtest.State) bool {
		for _, m := range s.MessagesIn(e.o.TextChannelID) {
			if strings.Contains(m.Content, "Stage channel") {
				return true
			}
		}
		return false
	})
	if len(st.VoiceCloses) != 1 || st.VoiceCloses[0] != 4017 {
		t.Errorf("voice closes = %v, want [4017]", st.VoiceCloses)
	}
	time.Sleep(300 * time.Millisecond)
	if st := e.fake.Snapshot(); st.VoiceIdentifies != 1 {
		t.Errorf("voice identifies = %d, want 1: no reconnect loop", st.VoiceIdentifies)
	}
	if err := e.bot.Problem("party-1"); err == nil || !strings.Contains(err.Error(), "DAVE") {
		t.Errorf("Problem = %v, want the DAVE error", err)
	}
}

func TestStageSpeakRefusedRequestsToSpeak(t *testing.T) {
	e := newEnv(t)
	e.fake.SetVoiceStatePatchStatus(403)
	e.startParty(t, e.o.StageChannelID)
	st := e.wait(t, "request to speak and notice", func(s *discordtest.State) bool {
		asked := false
		for _, p := range s.VoiceStatePatch {
			asked = asked || p.RequestToSpeak != nil
		}
		for _, m := range s.MessagesIn(e.o.TextChannelID) {
			if asked && strings.Contains(m.Content, "Mute Members") {
				return true
			}
		}
		return false
	})
	if st.VoiceStatePatch[0].Status != 403 {
		t.Errorf("first patch = %+v, want the refused suppress:false", st.VoiceStatePatch[0])
	}
	if p := e.be.snapshot().problems; len(p) == 0 || !strings.Contains(p[0].Error(), "missing permission") {
		t.Errorf("reported problems = %v", p)
	}
}

func TestForbiddenUserIsRefused(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name string
		opts []discordtest.Option
	}{
		{"party", []discordtest.Option{sub("start", str("title", "m1"))}},
		{"pause", nil},
		{"seek", []discordtest.Option{str("position", "1:00")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.command(t, stranger, tc.name, tc.opts...)
			if r.Type != 4 || r.Flags&64 == 0 || !strings.Contains(r.Content, "can't control") {
				t.Errorf("response = %+v, want an ephemeral refusal", r)
			}
		})
	}
	if got := e.be.snapshot(); len(got.started) != 0 || len(got.controls) != 0 {
		t.Errorf("backend was called: started %v, controls %v", got.started, got.controls)
	}
	if got := counter(t, e.reg, "marquee_discord_commands_total", "outcome", "refused"); got != 3 {
		t.Errorf("refused commands metric = %v, want 3", got)
	}
	// Reading commands stay open to everyone.
	if r := e.command(t, stranger, "invite"); !strings.Contains(r.Content, "no party") {
		t.Errorf("invite without party = %+v", r)
	}
}

func TestQueueSeekAndRateLimitedEdits(t *testing.T) {
	e := newEnv(t)
	e.startParty(t, e.o.StageChannelID)
	e.wait(t, "embed", func(s *discordtest.State) bool { return len(s.MessagesIn(e.o.TextChannelID)) == 1 })
	if r := e.command(t, host, "queue", sub("add", str("title", "blue"))); !strings.Contains(r.Content, "Blue in Green") {
		t.Errorf("queue add = %+v", r)
	}
	if r := e.command(t, stranger, "queue", sub("list")); !strings.Contains(r.Content, "1. Blue in Green") {
		t.Errorf("queue list = %+v", r)
	}
	if r := e.command(t, host, "seek", str("position", "soon")); !strings.Contains(r.Content, "mm:ss") {
		t.Errorf("bad seek = %+v", r)
	}
	begin := time.Now()
	before := e.fake.Snapshot().MessageEdits
	for _, pos := range []string{"1:00", "2:00", "3:00", "4:00", "1:02:03"} {
		e.command(t, host, "seek", str("position", pos))
	}
	e.wait(t, "embed at 1:02:03", func(s *discordtest.State) bool {
		ms := s.MessagesIn(e.o.TextChannelID)
		return len(ms) == 1 && strings.Contains(ms[0].Embeds[0].Description, "1:02:03")
	})
	edits := e.fake.Snapshot().MessageEdits - before
	// At most one edit per EmbedInterval (300 ms), plus one in flight.
	if limit := int(time.Since(begin)/(300*time.Millisecond)) + 1; edits > limit {
		t.Errorf("%d embed edits in %v, limit %d", edits, time.Since(begin), limit)
	}
	if got := e.be.snapshot().controls; len(got) != 5 || got[4].Position != time.Hour+2*time.Minute+3*time.Second {
		t.Errorf("controls = %+v", got)
	}
}

func TestAttachFollowsAWebAppParty(t *testing.T) {
	e := newEnv(t)
	e.be.mu.Lock()
	e.be.np = discord.NowPlaying{Item: catalog[2], State: "playing", Duration: 5 * time.Minute, Viewers: 1}
	e.be.mu.Unlock()
	p := discord.Party{ID: "party-1", Room: "room-party-1", InviteURL: inviteURL}
	if err := e.bot.Attach(p, "guild", e.o.StageChannelID, e.o.TextChannelID); !errors.Is(err, discord.ErrConfig) {
		t.Errorf("Attach with a bad guild id = %v, want ErrConfig", err)
	}
	if err := e.bot.Attach(p, e.o.GuildID, e.o.StageChannelID, e.o.TextChannelID); err != nil {
		t.Fatal(err)
	}
	if err := e.bot.Attach(p, e.o.GuildID, e.o.StageChannelID, e.o.TextChannelID); err == nil {
		t.Error("second Attach in the same guild succeeded")
	}
	st := e.wait(t, "embed and audio", func(s *discordtest.State) bool {
		ms := s.MessagesIn(e.o.TextChannelID)
		return len(ms) == 1 && len(s.AudioPackets()) >= 10
	})
	m := st.MessagesIn(e.o.TextChannelID)[0]
	if m.Embeds[0].Title != "Blue in Green" || len(m.Buttons) != 1 || m.Buttons[0].URL != inviteURL {
		t.Errorf("embed = %+v, buttons %+v (invite falls back to the party's)", m.Embeds[0], m.Buttons)
	}
	// A moderator deletes the embed: the next change posts a new one.
	e.fake.DeleteMessage(m.ID)
	e.be.mu.Lock()
	e.be.np.Viewers = 4
	e.be.mu.Unlock()
	e.bot.PartyChanged("party-1")
	e.wait(t, "a new embed", func(s *discordtest.State) bool {
		ms := s.MessagesIn(e.o.TextChannelID)
		return len(ms) == 1 && ms[0].ID != m.ID && strings.Contains(fmt.Sprint(ms[0].Embeds[0].Fields), "Viewers 4")
	})
	if err := e.bot.Problem("party-1"); err != nil {
		t.Errorf("Problem = %v", err)
	}
}
