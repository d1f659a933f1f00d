package discordbridge

import (
	"context"
	"errors"
	"time"

	"github.com/marquee-party/marquee/discord"
	"github.com/marquee-party/marquee/party"
)

// Follower is what Run drives; *discord.Bot implements it.
type Follower interface {
	// Attach makes the bot follow a party started outside Discord.
	Attach(p discord.Party, guildID, voiceChannelID, textChannelID string) error
	// PartyChanged refreshes a followed party's embed soon.
	PartyChanged(partyID string)
}

// retrySoon is how long Run waits before looking again when the bot was not
// running yet (start-up) or the event stream was cut off.
const retrySoon = time.Second

// Run follows every party's events until ctx ends. A change to a party the
// bot follows refreshes its embed; a party that plays with a Discord guild
// and text channel but that the bot does not follow yet (started in the web
// app, or running when the API restarted) is attached. Every party is also
// checked at start and every ResyncInterval, in case an event was missed.
func (b *Bridge) Run(ctx context.Context, f Follower) error {
	resync := time.NewTimer(0)
	defer resync.Stop()
	var sub *party.Subscription
	defer func() {
		if sub != nil {
			sub.Close()
		}
	}()
	var events <-chan party.PartyEvent
	// heartbeat state by party: a heartbeat only matters when it changes.
	beats := map[int64]string{}
	for {
		if sub == nil {
			sub = b.p.Parties.SubscribeAll()
			events = sub.C
		}
		select {
		case <-ctx.Done():
			return nil
		case <-resync.C:
			next := b.p.ResyncInterval
			clear(beats)
			if b.resync(ctx, f) {
				next = retrySoon
			}
			resync.Reset(next)
		case ev, ok := <-events:
			if !ok && ctx.Err() != nil {
				return nil // the party service stopped first at shutdown
			}
			if !ok {
				// Cut off for lagging, or the party service stopped: catch up
				// from the database after a pause.
				sub, events = nil, nil
				b.log.Warn("party event stream closed; resubscribing")
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(retrySoon):
				}
				resync.Reset(0)
				continue
			}
			if ev.Type == heartbeatEvent {
				st := playbackState(ev.Payload)
				if seen, ok := beats[ev.PartyID]; ok && seen == st {
					continue // progress only: the bot refreshes it on its own clock
				}
				beats[ev.PartyID] = st
			}
			if b.following(ev.PartyID) {
				f.PartyChanged(formatID(ev.PartyID))
				continue
			}
			if p, err := b.p.Parties.Get(ctx, ev.PartyID); err == nil && b.consider(ctx, p, f) {
				resync.Reset(retrySoon)
			}
		}
	}
}

// heartbeatEvent is the party service's ephemeral position update.
const heartbeatEvent = "worker.heartbeat"

// playbackState reads a heartbeat's playbackState.
func playbackState(payload any) string {
	if m, ok := payload.(map[string]any); ok {
		if s, ok := m["playbackState"].(string); ok {
			return s
		}
	}
	return ""
}

// resync considers every party; it reports whether one should be retried
// soon because the bot was not running yet.
func (b *Bridge) resync(ctx context.Context, f Follower) bool {
	ps, err := b.p.Parties.List(ctx, 0, true)
	if err != nil {
		if ctx.Err() == nil {
			b.log.Warn("listing parties to follow", "err", err)
		}
		return false
	}
	retry := false
	for _, p := range ps {
		if !b.following(p.ID) && b.consider(ctx, p, f) {
			retry = true
		}
	}
	return retry
}

// consider attaches p when it plays in a Discord guild and the bot does
// not follow it yet. It reports whether to retry because the bot was not
// running.
func (b *Bridge) consider(ctx context.Context, p party.Party, f Follower) bool {
	if !p.Status.Active() || p.GuildID == "" || p.TextChannelID == "" || b.following(p.ID) {
		b.mu.Lock()
		delete(b.refused, p.ID)
		b.mu.Unlock()
		return false
	}
	url, err := b.inviteURL(ctx, p)
	if err == nil {
		err = f.Attach(discord.Party{ID: formatID(p.ID), Room: p.Room, InviteURL: url}, p.GuildID, p.VoiceChannelID, p.TextChannelID)
	}
	switch {
	case err == nil:
		b.follow(p.ID)
		b.m.attaches.WithLabelValues("attached").Inc()
		b.log.Info("discord follows a party started in the web app", "party", p.ID, "guild", p.GuildID)
		return false
	case errors.Is(err, discord.ErrNotRunning):
		return true
	}
	b.mu.Lock()
	seen := b.refused[p.ID] == err.Error()
	b.refused[p.ID] = err.Error()
	b.mu.Unlock()
	if !seen {
		b.m.attaches.WithLabelValues("refused").Inc()
		b.log.Warn("discord cannot follow a party", "party", p.ID, "guild", p.GuildID, "err", err)
	}
	return false
}
