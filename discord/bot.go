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
	s    *discordgo.Session
	http *http.Client

	mu       sync.Mutex
	ctx      context.Context // Run's context, for work started by events
	cancel   context.CancelFunc
	done     chan struct{}
	wg       sync.WaitGroup
	parties  map[string]*partySession // by guild id
	botID    string
	readies  int  // READY and DISCONNECT events: a new gateway session drops voice
	stopping bool // Run is shutting down: no new work
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
	s, err := discordgo.New("Bot " + p.Config.Token)
	if err != nil {
		return nil, fmt.Errorf("discord: session: %w", err)
	}
	s.Client = p.HTTPClient
	s.Dialer = &websocket.Dialer{TLSClientConfig: p.TLSConfig, HandshakeTimeout: 15 * time.Second, Proxy: http.ProxyFromEnvironment}
	s.Identify.Intents = discordgo.IntentsGuilds | discordgo.IntentsGuildVoiceStates
	s.SyncEvents = true // handlers only hand work to tracked goroutines
	s.LogLevel = -1     // discordgo would log with the std logger; we log events ourselves
	s.ShouldReconnectOnError = true
	s.ShouldReconnectVoiceOnSessionError = false // voice is ours
	s.MaxRestRetries = 2
	b := &Bot{p: p, cfg: p.Config, log: p.Logger.With("component", "discord"), m: m, s: s, http: p.HTTPClient,
		parties: map[string]*partySession{}, done: make(chan struct{})}
	return b, nil
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
	removers := []func(){
		b.s.AddHandler(b.onReady),
		b.s.AddHandler(b.onGuildCreate),
		b.s.AddHandler(b.onInteraction),
		b.s.AddHandler(b.onVoiceState),
		b.s.AddHandler(b.onVoiceServer),
		b.s.AddHandler(func(*discordgo.Session, *discordgo.Disconnect) {
			b.mu.Lock()
			b.readies++
			b.mu.Unlock()
			b.log.Warn("gateway disconnected; reconnecting")
		}),
		b.s.AddHandler(func(*discordgo.Session, *discordgo.Resumed) { b.log.Info("gateway resumed") }),
	}
	defer func() {
		for _, r := range removers {
			r()
		}
	}()
	if err := b.open(ctx); err != nil {
		b.mu.Lock()
		b.stopping = true
		b.mu.Unlock()
		b.wg.Wait()
		return nil // ctx ended while retrying
	}
	<-ctx.Done()
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
	err := b.s.Close()
	b.http.CloseIdleConnections()
	b.log.Info("discord bot stopped", "err", err)
	return nil
}

// open connects, retrying with backoff until it works or ctx ends.
func (b *Bot) open(ctx context.Context) error {
	delay := time.Second
	for {
		err := b.s.Open()
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
	b.mu.Unlock()
	b.log.Info("discord gateway ready", "guilds", len(r.Guilds))
}

// onGuildCreate registers the slash commands in each guild: guild commands
// are available at once, unlike global ones.
func (b *Bot) onGuildCreate(_ *discordgo.Session, g *discordgo.GuildCreate) {
	b.goWork(func(ctx context.Context) {
		if _, err := b.s.ApplicationCommandBulkOverwrite(b.cfg.ApplicationID, g.ID, commands(), discordgo.WithContext(ctx)); err != nil {
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
	return b.s.GatewayWriteStruct(struct {
		Op int  `json:"op"`
		D  data `json:"d"`
	}{4, data{GuildID: guildID, ChannelID: ch, SelfDeaf: true}})
}
