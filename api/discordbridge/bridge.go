// Package discordbridge connects the Discord bot (package discord) to the
// control plane. It implements the bot's PartyControl, PartyInfo and
// ProblemReporter with the same party service and library the web app
// uses, and follows the party event stream so that the bot attaches to
// parties started in the web app with a Discord guild and text channel, and
// refreshes its embeds as soon as a party changes.
//
// # Who owns a Discord-started party
//
// /party start creates the party as the "discord" service account (role
// member, no password, so nobody can sign in as it), created on first use.
// Discord members are not Marquee accounts: the control roles configured
// per guild (discord.control_roles) decide who may drive a party from
// Discord, and everyone else joins through the invite link. The service
// account is the party's host; it is not counted as a viewer.
//
// # Catalog
//
// Discord searches every library (the service account is not limited to
// some libraries, as members can be).
package discordbridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/discord"
	"github.com/marquee-party/marquee/library"
	"github.com/marquee-party/marquee/party"
)

// ServiceUsername is the account that owns parties started from Discord.
const ServiceUsername = "discord"

// Accounts finds and creates the service account; *auth.Store implements it.
type Accounts interface {
	Users(ctx context.Context) ([]auth.User, error)
	CreateUser(ctx context.Context, n auth.NewUser) (auth.User, error)
}

// Params build a Bridge.
type Params struct {
	Parties  *party.Service
	Library  *library.Service
	Accounts Accounts
	// PublicURL prefixes invite links, as in the web app.
	PublicURL string
	// InviteSecret keys the invites' HMAC (the API's invite.secret).
	InviteSecret []byte
	// InviteTTL is the lifetime of the listener invites shown in Discord
	// (default 24 h); a link is re-minted when half of it has passed.
	InviteTTL time.Duration
	// ResyncInterval is how often every party is checked for one the bot
	// should follow, in case an event was missed (default 1 min).
	ResyncInterval time.Duration
	// PosterURL returns a link to an item's poster that works without a
	// session (api.Server.ExternalPosterURL); embeds go without a poster
	// when nil or when it fails.
	PosterURL func(ctx context.Context, itemID int64) (string, error)
	// Now is the clock; time.Now when nil.
	Now        func() time.Time
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Bridge is the API side of the Discord bot. Its methods are safe for
// concurrent use; Run follows the party events.
type Bridge struct {
	p   Params
	log *slog.Logger
	m   *metrics

	mu        sync.Mutex
	serviceID int64
	// followed holds the parties the bot follows (or is about to, for a
	// party being started by /party start).
	followed map[int64]bool
	// refused remembers why Attach failed, to log each reason once.
	refused map[int64]string
	invites map[int64]invite
}

// invite is a cached listener link.
type invite struct {
	url   string
	epoch uint32
	exp   time.Time
}

// New checks p and returns a Bridge.
func New(p Params) (*Bridge, error) {
	if p.Parties == nil || p.Library == nil || p.Accounts == nil {
		return nil, errors.New("discordbridge: Parties, Library and Accounts are required")
	}
	if len(p.InviteSecret) < 16 {
		return nil, errors.New("discordbridge: InviteSecret must be at least 16 bytes")
	}
	if p.InviteTTL <= 0 {
		p.InviteTTL = 24 * time.Hour
	}
	if p.ResyncInterval <= 0 {
		p.ResyncInterval = time.Minute
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(p.Registerer)
	if err != nil {
		return nil, err
	}
	return &Bridge{p: p, log: p.Logger.With("component", "discordbridge"), m: m,
		followed: map[int64]bool{}, refused: map[int64]string{}, invites: map[int64]invite{}}, nil
}

// ReportProblem implements discord.ProblemReporter: Discord trouble of a
// party (a missing permission, a channel that needs DAVE) is logged and
// recorded as the party's "problem" event, so the API and the web app can
// show the host what to fix, not only the Discord channel.
func (b *Bridge) ReportProblem(partyID string, err error) {
	b.m.problems.Inc()
	b.log.Warn("discord problem", "party", partyID, "err", err)
	id, perr := strconv.ParseInt(partyID, 10, 64)
	if perr != nil {
		return
	}
	msg := err.Error()
	var pm interface{ PublicMessage() string }
	if errors.As(err, &pm) {
		msg = pm.PublicMessage()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if rerr := b.p.Parties.ReportProblem(ctx, id, "discord", msg); rerr != nil {
		b.log.Warn("discord problem not recorded", "party", partyID, "err", rerr)
	}
}

// serviceAccount returns the id of the "discord" account, creating it on
// first use.
func (b *Bridge) serviceAccount(ctx context.Context) (int64, error) {
	b.mu.Lock()
	id := b.serviceID
	b.mu.Unlock()
	if id != 0 {
		return id, nil
	}
	for attempt := 0; ; attempt++ {
		users, err := b.p.Accounts.Users(ctx)
		if err != nil {
			return 0, fmt.Errorf("discordbridge: service account: %w", err)
		}
		for _, u := range users {
			if u.Username == ServiceUsername {
				id = u.ID
			}
		}
		if id == 0 {
			u, err := b.p.Accounts.CreateUser(ctx, auth.NewUser{Username: ServiceUsername, DisplayName: "Discord", Role: auth.RoleMember})
			if errors.Is(err, auth.ErrConflict) && attempt == 0 {
				continue // created concurrently: look again
			}
			if err != nil {
				return 0, fmt.Errorf("discordbridge: service account: %w", err)
			}
			b.log.Info("created the discord service account", "user", u.ID)
			id = u.ID
		}
		b.mu.Lock()
		b.serviceID = id
		b.mu.Unlock()
		return id, nil
	}
}

// parseID turns the bot's string party id into the party service's.
func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("discordbridge: party %q: %w", s, party.ErrNotFound)
	}
	return id, nil
}

func formatID(id int64) string { return strconv.FormatInt(id, 10) }

// follow records that the bot follows a party; forget undoes it once the
// party is over, so a later replay from the web app attaches it again.
func (b *Bridge) follow(id int64) {
	b.mu.Lock()
	b.followed[id] = true
	delete(b.refused, id)
	b.mu.Unlock()
}

func (b *Bridge) forget(id int64) {
	b.mu.Lock()
	delete(b.followed, id)
	delete(b.invites, id)
	b.mu.Unlock()
}

func (b *Bridge) following(id int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.followed[id]
}

// publicError carries words for Discord users (discord.PublicError).
type publicError struct {
	msg string
	err error
}

func (e *publicError) Error() string         { return e.err.Error() }
func (e *publicError) Unwrap() error         { return e.err }
func (e *publicError) PublicMessage() string { return e.msg }

// public gives the party and library errors people can act on a message
// Discord shows as is; other errors stay generic (and are logged by the bot).
func public(err error) error {
	var msg string
	switch {
	case err == nil:
		return nil
	case errors.Is(err, party.ErrBadTransition):
		msg = "That can't be done right now"
		if _, why, ok := strings.Cut(err.Error(), party.ErrBadTransition.Error()+": "); ok {
			msg += ": " + why
		}
		msg += "."
	case errors.Is(err, party.ErrNothingToPlay):
		msg = "Nothing is queued. Add something with /queue add."
	case errors.Is(err, party.ErrResolve):
		msg = "That item can't be played: its media is missing or unreadable."
	case errors.Is(err, party.ErrWorker):
		msg = "The player is unavailable right now. Try again in a moment."
	case errors.Is(err, party.ErrNotFound), errors.Is(err, library.ErrNotFound):
		msg = "That party or item no longer exists."
	case errors.Is(err, party.ErrInvalid):
		msg = "That request isn't valid."
	default:
		return err
	}
	return &publicError{msg: msg, err: err}
}

// Interface checks.
var (
	_ discord.PartyControl    = (*Bridge)(nil)
	_ discord.PartyInfo       = (*Bridge)(nil)
	_ discord.ProblemReporter = (*Bridge)(nil)
)
