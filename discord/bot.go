package discord

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
)

// Params build a Bot.
type Params struct {
	Config   Config
	Parties  PartyControl
	Info     PartyInfo
	Audio    AudioSources    // nil: no voice publisher
	Problems ProblemReporter // optional
	Logger   *slog.Logger
	Registry prometheus.Registerer
	// HTTPClient carries REST calls and the voice websocket; nil uses a
	// client with a 20 s timeout. Tests pass discordtest's client.
	HTTPClient *http.Client
	// TLSConfig is used to dial the main gateway; nil uses system roots.
	TLSConfig *tls.Config
}

// Bot is the Discord bot. Run drives it; Close stops it.
type Bot struct {
	p    Params
	cfg  Config
	log  *slog.Logger
	m    *metrics
	http *http.Client

	mu        sync.Mutex
	s         *discordgo.Session // current session; replaced when a reconnect stalls
	ctx       context.Context    // Run's context, for work started by events
	cancel    context.CancelFunc
	done      chan struct{}
	wg        sync.WaitGroup
	parties   map[string]*partySession // by guild id
	botID     string
	readies   int       // READY and DISCONNECT events: a new gateway session drops voice
	stopping  bool      // Run is shutting down: no new work
	downSince time.Time // gateway disconnected and not ready again since
	abandoned []*discordgo.Session
}

// New validates the config and builds a Bot; it does not connect.
func New(p Params) (*Bot, error) {
	if err := p.Config.Validate(); err != nil {
		return nil, err
	}
	if !p.Config.Enabled() {
		return nil, fmt.Errorf("%w: discord.token is empty", ErrConfig)
	}
	if p.Parties == nil || p.Info == nil {
		return nil, errors.New("discord: Parties and Info are required")
	}
	def := DefaultConfig()
	if p.Config.EmbedInterval == 0 {
		p.Config.EmbedInterval = def.EmbedInterval
	}
	if p.Config.RefreshInterval == 0 {
		p.Config.RefreshInterval = def.RefreshInterval
	}
	if p.Config.GatewayStallTimeout == 0 {
		p.Config.GatewayStallTimeout = def.GatewayStallTimeout
	}
	if len(p.Config.Voice.Modes) == 0 {
		p.Config.Voice.Modes = def.Voice.Modes
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	if p.HTTPClient == nil {
		p.HTTPClient = &http.Client{Timeout: 20 * time.Second}
	}
	m, err := newMetrics(p.Registry)
	if err != nil {
		return nil, err
	}
	b := &Bot{p: p, cfg: p.Config, log: p.Logger.With("component", "discord"), m: m, http: p.HTTPClient,
		parties: map[string]*partySession{}, done: make(chan struct{})}
	if b.s, err = b.newSession(); err != nil {
		return nil, err
	}
	return b, nil
}

// newSession builds a discordgo session with our transport and settings.
func (b *Bot) newSession() (*discordgo.Session, error) {
	s, err := discordgo.New("Bot " + b.p.Config.Token)
	if err != nil {
		return nil, fmt.Errorf("discord: session: %w", err)
	}
	s.Client = b.p.HTTPClient
	s.Dialer = &websocket.Dialer{TLSClientConfig: b.p.TLSConfig, HandshakeTimeout: 15 * time.Second, Proxy: http.ProxyFromEnvironment}
	s.Identify.Intents = discordgo.IntentsGuilds | discordgo.IntentsGuildVoiceStates
	s.SyncEvents = true // handlers only hand work to tracked goroutines
	s.LogLevel = -1     // discordgo would log with the std logger; we log events ourselves
	s.ShouldReconnectOnError = true
	s.ShouldReconnectVoiceOnSessionError = false // voice is ours
	s.MaxRestRetries = 2
	return s, nil
}

// Run connects to the gateway and serves until ctx ends. Connection
// failures are logged and retried: the API keeps running without Discord.
func (b *Bot) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	b.mu.Lock()
	b.ctx, b.cancel = ctx, cancel
	b.mu.Unlock()
	defer close(b.done)
	defer cancel()
	s := b.sess()
	b.addHandlers(s)
	if err := b.open(ctx, s); err != nil {
		b.mu.Lock()
		b.stopping = true
		b.mu.Unlock()
		b.wg.Wait()
		return nil // ctx ended while retrying
	}
	b.watch(ctx)
	b.mu.Lock()
	b.stopping = true
	parties := make([]*partySession, 0, len(b.parties))
	for _, ps := range b.parties {
		parties = append(parties, ps)
	}
	b.mu.Unlock()
	for _, ps := range parties {
		ps.close()
	}
	b.wg.Wait()
	b.closeSession(b.sess())
	b.http.CloseIdleConnections()
	b.log.Info("discord bot stopped")
	return nil
}

// onlyCurrent wraps an event handler so that it ignores events from a
// session other than the current one. The result has the concrete handler
// type discordgo.AddHandler dispatches on.
func onlyCurrent[E any](current func(*discordgo.Session) bool, h func(*discordgo.Session, E)) func(*discordgo.Session, E) {
	return func(x *discordgo.Session, e E) {
		if current(x) {
			h(x, e)
		}
	}
}

// addHandlers routes s's events to the bot. Events from a session that was
// replaced are ignored.
func (b *Bot) addHandlers(s *discordgo.Session) {
	current := func(x *discordgo.Session) bool { return x == b.sess() }
	s.AddHandler(onlyCurrent(current, b.onReady))
	s.AddHandler(onlyCurrent(current, b.onGuildCreate))
	s.AddHandler(onlyCurrent(current, b.onInteraction))
	s.AddHandler(onlyCurrent(current, b.onVoiceState))
	s.AddHandler(onlyCurrent(current, b.onVoiceServer))
	s.AddHandler(func(x *discordgo.Session, _ *discordgo.Disconnect) {
		if !current(x) {
			return
		}
		b.mu.Lock()
		b.readies++
		if b.downSince.IsZero() {
			b.downSince = time.Now()
		}
		b.mu.Unlock()
		b.log.Warn("gateway disconnected; reconnecting")
	})
	s.AddHandler(func(x *discordgo.Session, _ *discordgo.Resumed) {
		if current(x) {
			b.gatewayUp()
			b.log.Info("gateway resumed")
		}
	})
}

func (b *Bot) gatewayUp() {
	b.mu.Lock()
	b.downSince = time.Time{}
	b.mu.Unlock()
}

// watch serves until ctx ends and replaces a session whose reconnect has
// stalled. discordgo (pinned master) deadlocks when the gateway answers a
// Resume with opcode 9 Invalid Session during Open: Open holds the session
// lock and the op 9 handler calls CloseWithCode, which takes it again.
func (b *Bot) watch(ctx context.Context) {
	stall := b.cfg.GatewayStallTimeout
	tick := time.NewTicker(max(stall/4, 100*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		b.mu.Lock()
		down := b.downSince
		b.mu.Unlock()
		if down.IsZero() || time.Since(down) < stall {
			continue
		}
		b.log.Error("gateway reconnect stalled; starting a new session", "down_for", time.Since(down).Round(time.Second))
		s, err := b.newSession()
		if err != nil {
			b.log.Error("new session failed", "err", err)
			continue
		}
		b.addHandlers(s)
		b.mu.Lock()
		b.abandoned = append(b.abandoned, b.s) // stuck: closing it would block too
		b.s = s
		b.downSince = time.Now()
		b.mu.Unlock()
		if err := b.open(ctx, s); err != nil {
			return
		}
	}
}

// closeSession closes s, giving up after a few seconds: a stalled discordgo
// session blocks in Close forever.
func (b *Bot) closeSession(s *discordgo.Session) {
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err != nil {
			b.log.Debug("closing the gateway", "err", err)
		}
	case <-time.After(5 * time.Second):
		b.log.Warn("closing the gateway is stuck; leaving it")
	}
}

// sess returns the current discordgo session.
func (b *Bot) sess() *discordgo.Session {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.s
}

// open connects s, retrying with backoff until it works or ctx ends.
func (b *Bot) open(ctx context.Context, s *discordgo.Session) error {
	delay := time.Second
	for {
		err := s.Open()
		if err == nil {
			return nil
		}
		b.log.Error("discord gateway connect failed; retrying", "err", err, "in", delay)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, 5*time.Minute)
	}
}

// Close stops Run and waits for it.
func (b *Bot) Close() error {
	b.mu.Lock()
	cancel := b.cancel
	b.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	<-b.done
	return nil
}

// PartyChanged tells the bot that a party changed (item, state, viewers) so
// its embed is refreshed soon, within the edit rate limit.
func (b *Bot) PartyChanged(partyID string) {
	if ps := b.partyByID(partyID); ps != nil {
		ps.markDirty()
	}
}

// Problem returns the last Discord problem of a party (e.g. a missing
// permission), or nil.
func (b *Bot) Problem(partyID string) error {
	if ps := b.partyByID(partyID); ps != nil {
		return ps.problem()
	}
	return nil
}

// goWork runs fn in a tracked goroutine under Run's context; nothing starts
// once Run is stopping (so wg.Add never races wg.Wait).
func (b *Bot) goWork(fn func(ctx context.Context)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ctx == nil || b.stopping {
		return
	}
	ctx := b.ctx
	b.wg.Go(func() { fn(ctx) })
}

func (b *Bot) onReady(_ *discordgo.Session, r *discordgo.Ready) {
	b.mu.Lock()
	b.botID = r.User.ID
	b.readies++
	b.downSince = time.Time{}
	b.mu.Unlock()
	b.log.Info("discord gateway ready", "guilds", len(r.Guilds))
}

// onGuildCreate registers the slash commands in each guild: guild commands
// are available at once, unlike global ones.
func (b *Bot) onGuildCreate(_ *discordgo.Session, g *discordgo.GuildCreate) {
	b.goWork(func(ctx context.Context) {
		if _, err := b.sess().ApplicationCommandBulkOverwrite(b.cfg.ApplicationID, g.ID, commands(), discordgo.WithContext(ctx)); err != nil {
			b.log.Error("registering slash commands failed", "guild", g.ID, "err", err)
		}
	})
}

func (b *Bot) onVoiceState(_ *discordgo.Session, v *discordgo.VoiceStateUpdate) {
	b.mu.Lock()
	mine := v.VoiceState != nil && v.UserID == b.botID
	ps := b.parties[v.GuildID]
	b.mu.Unlock()
	if mine && ps != nil {
		ps.voiceEvent(voiceEvent{state: v.VoiceState})
	}
}

func (b *Bot) onVoiceServer(_ *discordgo.Session, v *discordgo.VoiceServerUpdate) {
	b.mu.Lock()
	ps := b.parties[v.GuildID]
	b.mu.Unlock()
	if ps != nil {
		ps.voiceEvent(voiceEvent{server: v})
	}
}

func (b *Bot) partyByID(id string) *partySession {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, ps := range b.parties {
		if ps.id == id {
			return ps
		}
	}
	return nil
}

func (b *Bot) partyInGuild(guildID string) *partySession {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.parties[guildID]
}

// gatewaySessions counts gateway disconnects and READY events; when it
// changed during a voice session, a 4014 may come from the gateway session
// being dropped rather than from a kick.
func (b *Bot) gatewaySessions() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.readies
}

func (b *Bot) botUserID() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.botID
}

// setVoiceChannel sends opcode 4; an empty channel leaves. It uses
// GatewayWriteStruct, which fails cleanly while the gateway reconnects.
func (b *Bot) setVoiceChannel(guildID, channelID string) error {
	var ch *string
	if channelID != "" {
		ch = &channelID
	}
	type data struct {
		GuildID   string  `json:"guild_id"`
		ChannelID *string `json:"channel_id"`
		SelfMute  bool    `json:"self_mute"`
		SelfDeaf  bool    `json:"self_deaf"`
	}
	return b.sess().GatewayWriteStruct(struct {
		Op int  `json:"op"`
		D  data `json:"d"`
	}{4, data{GuildID: guildID, ChannelID: ch, SelfDeaf: true}})
}
