package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
)

// partySession is a party the bot is attached to: its guild, voice and text
// channels, its one embed message and its voice publisher. run owns the
// embed state; the mutex guards what commands and events read.
type partySession struct {
	b                                              *Bot
	id, room, guildID, voiceChannelID, textChannel string
	invite                                         string
	log                                            *slog.Logger

	voiceEvents chan voiceEvent
	dirty       chan struct{}
	endOnce     sync.Once
	ended       chan struct{}
	cancel      context.CancelFunc
	done        chan struct{}

	mu       sync.Mutex
	lastErr  error
	notified map[string]bool
}

// voiceEvent is a VOICE_STATE_UPDATE (about the bot) or VOICE_SERVER_UPDATE.
type voiceEvent struct {
	state  *discordgo.VoiceState
	server *discordgo.VoiceServerUpdate
}

// startParty handles /party start.
func (b *Bot) startParty(ctx context.Context, i *discordgo.Interaction, opts []*discordgo.ApplicationCommandInteractionDataOption) (reply, error) {
	if b.partyInGuild(i.GuildID) != nil {
		return reply{}, userErr("A party is already running here. End it with /party stop first.")
	}
	item, err := b.resolveItem(ctx, optionString(opts, "title"))
	if err != nil {
		return reply{}, err
	}
	vc := optionString(opts, "channel")
	if vc == "" && i.Member != nil && i.Member.User != nil {
		if vs, err := b.sess().State.VoiceState(i.GuildID, i.Member.User.ID); err == nil {
			vc = vs.ChannelID
		}
	}
	party, err := b.p.Parties.StartParty(ctx, StartRequest{ItemID: item.ID, GuildID: i.GuildID, VoiceChannelID: vc,
		TextChannelID: i.ChannelID, Host: requester(i)})
	if err != nil {
		return reply{}, err
	}
	if err := b.attach(party, i.GuildID, vc, i.ChannelID); err != nil {
		_ = b.p.Parties.Stop(ctx, party.ID)
		return reply{}, err
	}
	msg := "Party started: **" + itemLabel(item) + "**. Join in your browser: " + party.InviteURL
	if vc == "" {
		msg += "\nJoin a Stage channel and pass channel: to also hear it in Discord."
	}
	return reply{content: msg, invite: party.InviteURL}, nil
}

// Attach makes the bot follow a party that has Discord channels but was not
// started by a slash command (started in the web app, or running when the
// API restarted): it posts the embed in textChannelID and, when
// voiceChannelID is set, plays the audio there. It fails with ErrBusy when
// the guild already has a party, and ErrNotRunning when Run is not serving.
func (b *Bot) Attach(p Party, guildID, voiceChannelID, textChannelID string) error {
	if !isSnowflake(guildID) || !isSnowflake(textChannelID) || (voiceChannelID != "" && !isSnowflake(voiceChannelID)) {
		return fmt.Errorf("%w: guild and channel ids must be Discord snowflakes", ErrConfig)
	}
	return b.attach(p, guildID, voiceChannelID, textChannelID)
}

func (b *Bot) attach(p Party, guildID, vc, tc string) error {
	ps := &partySession{b: b, id: p.ID, room: p.Room, guildID: guildID, voiceChannelID: vc, textChannel: tc,
		invite: p.InviteURL, voiceEvents: make(chan voiceEvent, 16), dirty: make(chan struct{}, 1),
		ended: make(chan struct{}), done: make(chan struct{}), notified: map[string]bool{},
		log: b.log.With("party", p.ID, "guild", guildID)}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.parties[guildID] != nil {
		return userErr("A party is already running here. End it with /party stop first.")
	}
	if b.ctx == nil || b.stopping {
		return ErrNotRunning
	}
	b.parties[guildID] = ps
	b.m.parties.Inc()
	b.wg.Go(func() { ps.run(b.ctx) })
	return nil
}

// run keeps the embed current and the voice publisher going until the party
// ends or the bot stops.
func (ps *partySession) run(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	ps.mu.Lock()
	ps.cancel = cancel
	ps.mu.Unlock()
	defer close(ps.done)
	defer cancel()
	var wg sync.WaitGroup
	if ps.b.p.Audio != nil && ps.b.cfg.Voice.Enabled && ps.voiceChannelID != "" {
		wg.Go(func() { ps.voiceLoop(ctx) })
	}
	reason := ps.embedLoop(ctx)
	cancel()
	wg.Wait()
	if ps.voiceChannelID != "" {
		if err := ps.b.setVoiceChannel(ps.guildID, ""); err != nil {
			ps.log.Debug("leaving voice failed", "err", err)
		}
	}
	ps.b.mu.Lock()
	if ps.b.parties[ps.guildID] == ps {
		delete(ps.b.parties, ps.guildID)
	}
	ps.b.mu.Unlock()
	ps.b.m.parties.Dec()
	ps.log.Info("party detached", "reason", reason)
}

// close stops run without ending the party (bot shutdown).
func (ps *partySession) close() {
	ps.mu.Lock()
	cancel := ps.cancel
	ps.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// end marks the party over: run posts the final embed and detaches.
func (ps *partySession) end() { ps.endOnce.Do(func() { close(ps.ended) }) }

func (ps *partySession) markDirty() {
	select {
	case ps.dirty <- struct{}{}:
	default:
	}
}

func (ps *partySession) voiceEvent(ev voiceEvent) {
	select {
	case ps.voiceEvents <- ev:
	default:
		ps.log.Warn("voice event dropped: queue full")
	}
}

func (ps *partySession) problem() error {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.lastErr
}

// report records a problem for the API and posts msg once per key.
func (ps *partySession) report(ctx context.Context, key string, err error, msg string) {
	ps.mu.Lock()
	ps.lastErr = err
	seen := ps.notified[key]
	ps.notified[key] = true
	ps.mu.Unlock()
	ps.log.Warn("party problem", "err", err)
	if ps.b.p.Problems != nil {
		ps.b.p.Problems.ReportProblem(ps.id, err)
	}
	if !seen && msg != "" {
		if _, err := ps.b.sess().ChannelMessageSend(ps.textChannel, msg, discordgo.WithContext(ctx)); err != nil {
			ps.log.Warn("posting a notice failed", "err", err)
		}
	}
}

// embedLoop posts the embed, then edits it on changes and every
// RefreshInterval, never more often than EmbedInterval (changes coalesce).
func (ps *partySession) embedLoop(ctx context.Context) string {
	cfg := ps.b.cfg
	refresh := time.NewTicker(cfg.RefreshInterval)
	defer refresh.Stop()
	e := &embedWriter{ps: ps}
	pending := true
	var last time.Time
	var timer *time.Timer
	var timerC <-chan time.Time
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if pending && timerC == nil {
			wait := cfg.EmbedInterval - time.Since(last)
			if last.IsZero() {
				wait = 0
			}
			timer = time.NewTimer(max(wait, 0))
			timerC = timer.C
		}
		select {
		case <-ctx.Done():
			return "stopped"
		case <-ps.ended:
			if wait := cfg.EmbedInterval - time.Since(last); !last.IsZero() && wait > 0 {
				select {
				case <-ctx.Done():
					return "stopped"
				case <-time.After(wait):
				}
			}
			e.final(ctx)
			return "ended"
		case <-ps.dirty:
			pending = true
		case <-refresh.C:
			pending = true
		case <-timerC:
			timerC = nil
			pending = false
			last = time.Now()
			if over := e.write(ctx); over {
				e.final(ctx)
				return "party over"
			}
		}
	}
}

// embedWriter posts and edits the party's one embed message.
type embedWriter struct {
	ps        *partySession
	messageID string
	title     string
	lastEmbed *discordgo.MessageEmbed
}

// write renders now-playing and posts or edits the embed when it changed.
// It reports whether the party is over.
func (e *embedWriter) write(ctx context.Context) bool {
	ps := e.ps
	np, err := ps.b.p.Info.NowPlaying(ctx, ps.id)
	if errors.Is(err, ErrPartyOver) {
		return true
	}
	if err != nil {
		ps.log.Warn("now playing failed", "err", err)
		return false
	}
	if np.InviteURL == "" {
		np.InviteURL = ps.invite
	}
	e.title = np.Item.Title
	embed := renderEmbed(np)
	if reflect.DeepEqual(embed, e.lastEmbed) {
		return false
	}
	if e.put(ctx, embed, []discordgo.MessageComponent{inviteButton(np.InviteURL)}) {
		e.lastEmbed = embed
	}
	return false
}

// final replaces the embed with "Party ended" and drops the button.
func (e *embedWriter) final(ctx context.Context) {
	e.put(ctx, renderEnded(e.title), []discordgo.MessageComponent{})
}

// put posts or edits the message and reports whether it worked.
func (e *embedWriter) put(ctx context.Context, embed *discordgo.MessageEmbed, comps []discordgo.MessageComponent) bool {
	ps := e.ps
	var err error
	if e.messageID == "" {
		var m *discordgo.Message
		m, err = ps.b.sess().ChannelMessageSendComplex(ps.textChannel, &discordgo.MessageSend{Embeds: []*discordgo.MessageEmbed{embed},
			Components: comps}, discordgo.WithContext(ctx))
		if err == nil {
			e.messageID = m.ID
		}
	} else {
		embeds := []*discordgo.MessageEmbed{embed}
		_, err = ps.b.sess().ChannelMessageEditComplex(&discordgo.MessageEdit{ID: e.messageID, Channel: ps.textChannel,
			Embeds: &embeds, Components: &comps}, discordgo.WithContext(ctx))
	}
	if err != nil {
		if isStatus(err, 404) && e.messageID != "" {
			// Someone deleted the embed: post a fresh one next time.
			e.messageID = ""
			ps.markDirty()
			return false
		}
		if isStatus(err, 403) {
			ps.report(ctx, "embed", fmt.Errorf("%w: Send Messages/Embed Links in the text channel", ErrMissingPermission), "")
			return false
		}
		ps.log.Warn("writing the embed failed", "err", err)
		return false
	}
	ps.b.m.embedEdits.Inc()
	return true
}

// isForbidden reports a 403 from Discord's REST API.
func isForbidden(err error) bool { return isStatus(err, 403) }

// isStatus reports a REST error with the given HTTP status.
func isStatus(err error, status int) bool {
	var re *discordgo.RESTError
	return errors.As(err, &re) && re.Response != nil && re.Response.StatusCode == status
}
