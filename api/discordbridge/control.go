package discordbridge

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/marquee-party/marquee/discord"
	"github.com/marquee-party/marquee/library"
	"github.com/marquee-party/marquee/party"
)

// StartParty implements discord.PartyControl: it creates a party owned by
// the service account with the guild and channels, queues the item and
// plays it. A party that cannot start is deleted rather than left behind.
func (b *Bridge) StartParty(ctx context.Context, req discord.StartRequest) (discord.Party, error) {
	it, err := b.item(ctx, req.ItemID)
	if err != nil {
		return discord.Party{}, public(err)
	}
	owner, err := b.serviceAccount(ctx)
	if err != nil {
		return discord.Party{}, err
	}
	p, err := b.p.Parties.Create(ctx, owner, party.NewParty{Title: clip(library.DisplayTitle(it), 200), GuildID: req.GuildID,
		VoiceChannelID: req.VoiceChannelID, TextChannelID: req.TextChannelID})
	if err != nil {
		return discord.Party{}, public(err)
	}
	// The bot attaches this party itself once we return: the event follower
	// must not attach it first.
	b.follow(p.ID)
	fail := func(err error) (discord.Party, error) {
		b.forget(p.ID)
		if derr := b.p.Parties.Delete(context.WithoutCancel(ctx), p.ID); derr != nil {
			b.log.Warn("deleting a party that failed to start", "party", p.ID, "err", derr)
		}
		return discord.Party{}, public(err)
	}
	if _, err := b.p.Parties.Enqueue(ctx, p.ID, newEntry(it)); err != nil {
		return fail(err)
	}
	if _, err := b.p.Parties.Play(ctx, p.ID, party.PlayOptions{}); err != nil {
		return fail(err)
	}
	url, err := b.inviteURL(ctx, p)
	if err != nil {
		return fail(err)
	}
	b.log.Info("party started from discord", "party", p.ID, "guild", req.GuildID, "item", it.ID, "by", req.Host.UserID)
	return discord.Party{ID: formatID(p.ID), Room: p.Room, InviteURL: url}, nil
}

// Stop implements discord.PartyControl.
func (b *Bridge) Stop(ctx context.Context, partyID string) error {
	id, err := parseID(partyID)
	if err != nil {
		return public(err)
	}
	if _, err := b.p.Parties.Stop(ctx, id); err != nil {
		return public(err)
	}
	b.forget(id)
	return nil
}

// Enqueue implements discord.PartyControl.
func (b *Bridge) Enqueue(ctx context.Context, partyID, itemID string, by discord.Requester) (discord.QueueEntry, error) {
	id, err := parseID(partyID)
	if err != nil {
		return discord.QueueEntry{}, public(err)
	}
	it, err := b.item(ctx, itemID)
	if err != nil {
		return discord.QueueEntry{}, public(err)
	}
	e, err := b.p.Parties.Enqueue(ctx, id, newEntry(it))
	if err != nil {
		return discord.QueueEntry{}, public(err)
	}
	b.log.Info("queued from discord", "party", id, "item", it.ID, "by", by.UserID)
	return discord.QueueEntry{ID: formatID(e.ID), Item: entryItem(e)}, nil
}

// Control implements discord.PartyControl with the web app's pause,
// resume, seek and skip.
func (b *Bridge) Control(ctx context.Context, partyID string, c discord.Control) error {
	id, err := parseID(partyID)
	if err != nil {
		return public(err)
	}
	switch c.Action {
	case discord.ActionPause:
		_, err = b.p.Parties.Pause(ctx, id)
	case discord.ActionResume:
		_, err = b.p.Parties.Resume(ctx, id)
	case discord.ActionSeek:
		_, err = b.p.Parties.Seek(ctx, id, c.Position.Seconds())
	case discord.ActionSkip:
		_, err = b.p.Parties.Skip(ctx, id)
	default:
		err = fmt.Errorf("%w: unknown action %q", party.ErrInvalid, c.Action)
	}
	return public(err)
}

// Invite implements discord.PartyControl: a listener link, the same kind
// the web app mints.
func (b *Bridge) Invite(ctx context.Context, partyID string) (string, error) {
	id, err := parseID(partyID)
	if err != nil {
		return "", public(err)
	}
	p, err := b.p.Parties.Get(ctx, id)
	if err != nil {
		return "", public(err)
	}
	return b.inviteURL(ctx, p)
}

// inviteURL returns the party's cached listener link, minting a new one
// when half its lifetime has passed or the party's invites were revoked.
func (b *Bridge) inviteURL(_ context.Context, p party.Party) (string, error) {
	now := b.p.Now()
	b.mu.Lock()
	inv, ok := b.invites[p.ID]
	b.mu.Unlock()
	if ok && inv.epoch == p.InviteEpoch && inv.exp.Sub(now) > b.p.InviteTTL/2 {
		return inv.url, nil
	}
	exp := now.Add(b.p.InviteTTL)
	tok, err := party.SignInvite(b.p.InviteSecret, party.Invite{PartyID: p.ID, Role: party.RoleListener, ExpiresAt: exp,
		Epoch: p.InviteEpoch})
	if err != nil {
		return "", err
	}
	inv = invite{url: strings.TrimRight(b.p.PublicURL, "/") + "/join/" + tok, epoch: p.InviteEpoch, exp: exp}
	b.mu.Lock()
	b.invites[p.ID] = inv
	b.mu.Unlock()
	return inv.url, nil
}

// item looks up a catalog item by the id the bot got from Search.
func (b *Bridge) item(ctx context.Context, itemID string) (library.Item, error) {
	id, err := strconv.ParseInt(itemID, 10, 64)
	if err != nil {
		return library.Item{}, fmt.Errorf("discordbridge: item %q: %w", itemID, library.ErrNotFound)
	}
	return b.p.Library.Item(ctx, id)
}

// newEntry describes a library item for the queue; with the API's catalog
// configured the party service fills the same fields itself.
func newEntry(it library.Item) party.NewEntry {
	return party.NewEntry{MediaType: party.MediaType(it.Kind), SourceID: strconv.FormatInt(it.ID, 10),
		Title: library.DisplayTitle(it), Year: it.Year, RuntimeSeconds: float64(it.DurationMs) / 1000}
}

// clip shortens s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
