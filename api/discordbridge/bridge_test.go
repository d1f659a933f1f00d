package discordbridge_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/api/discordbridge"
	"github.com/marquee-party/marquee/discord"
	"github.com/marquee-party/marquee/discord/discordtest"
	"github.com/marquee-party/marquee/party"
)

// embedSays reports whether the channel's embed has title and a field or
// description containing want.
func embedSays(m discordtest.Message, title, want string) bool {
	if len(m.Embeds) == 0 {
		return false
	}
	e := m.Embeds[0]
	return e.Title == title && strings.Contains(fmt.Sprint(e.Fields)+e.Description, want)
}

// TestSlashCommandsDriveARealParty: /party start creates a party in the
// database with the guild and channels, the worker plays it, the embed with
// the invite link appears, a member without the control role is refused,
// and /pause, /queue add, /party stop reach the party service.
func TestSlashCommandsDriveARealParty(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	arrival := s.items["Arrival"]

	// Autocomplete searches the real catalog.
	id, err := s.fake.Interact(discordtest.InteractionAutocomplete, host, "party",
		sub("start", discordtest.Option{Name: "title", Type: 3, Value: "ar", Focused: true}))
	if err != nil {
		t.Fatal(err)
	}
	st := s.wait(t, "autocomplete", func(st *discordtest.State) bool { return len(st.Responses[id]) == 1 })
	if c := st.Responses[id][0].Choices; len(c) != 2 || c[0].Name != "Arrival (2000)" || c[0].Value != fmt.Sprint(arrival) {
		t.Fatalf("autocomplete choices = %+v", c)
	}

	r := s.command(t, host, "party", sub("start", itemOpt(arrival), discordtest.Option{Name: "channel", Type: 7, Value: s.o.StageChannelID}))
	if len(r.Buttons) != 1 || !strings.HasPrefix(r.Buttons[0].URL, publicURL+"/join/") || !strings.Contains(r.Content, r.Buttons[0].URL) {
		t.Fatalf("start response = %+v", r)
	}
	invite := r.Buttons[0].URL
	p := s.onlyParty(t)
	if p.GuildID != s.o.GuildID || p.VoiceChannelID != s.o.StageChannelID || p.TextChannelID != s.o.TextChannelID || p.Title != "Arrival" {
		t.Fatalf("party = %+v", p)
	}
	owner, err := s.accounts.User(ctx, p.OwnerID)
	if err != nil || owner.Username != discordbridge.ServiceUsername {
		t.Fatalf("owner = %+v, %v; want the discord service account", owner, err)
	}
	inv, _, err := s.parties.CheckInvite(ctx, inviteKey, strings.TrimPrefix(invite, publicURL+"/join/"))
	if err != nil || inv.PartyID != p.ID || inv.Role != party.RoleListener {
		t.Fatalf("invite = %+v, %v", inv, err)
	}
	eventually(t, "the worker playing Arrival", func() bool {
		ss := s.worker.Sessions()
		return len(ss) == 1 && ss[0].Room == p.Room && ss[0].Title == "Arrival" && ss[0].State == "playing"
	})
	st = s.wait(t, "the embed with the invite", func(st *discordtest.State) bool {
		m, ok := s.embed(st)
		return ok && embedSays(m, "Arrival", "Playing") && len(m.Buttons) == 1 && m.Buttons[0].URL == invite
	})
	if m, _ := s.embed(st); !strings.Contains(fmt.Sprint(m.Embeds[0].Fields), "2000") {
		t.Errorf("embed fields %v lack the year", m.Embeds[0].Fields)
	}
	// The poster is a signed link that opens without a session.
	if m, _ := s.embed(st); m.Embeds[0].Thumbnail == nil {
		t.Errorf("embed has no poster")
	} else {
		thumb := m.Embeds[0].Thumbnail.URL
		res, err := http.Get(s.api.URL + strings.TrimPrefix(thumb, publicURL))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if !strings.HasPrefix(thumb, publicURL+"/api/posters/") || res.StatusCode != 200 || !strings.HasSuffix(string(body), "Arrival") {
			t.Errorf("embed poster %q = %d %q", thumb, res.StatusCode, body)
		}
	}

	// A member without the control role is refused and nothing changes.
	r = s.command(t, stranger, "pause")
	if !strings.Contains(r.Content, "can't control") {
		t.Fatalf("stranger's /pause answered %+v", r)
	}
	if got := s.status(t, p.ID); got == party.StatusPaused {
		t.Fatalf("a stranger paused the party")
	}

	r = s.command(t, host, "pause")
	if r.Content != "Paused." {
		t.Fatalf("/pause answered %+v", r)
	}
	if got := s.status(t, p.ID); got != party.StatusPaused {
		t.Fatalf("status after /pause = %s", got)
	}
	eventually(t, "the worker paused", func() bool { return s.worker.Sessions()[0].State == "paused" })
	s.wait(t, "the embed showing Paused", func(st *discordtest.State) bool {
		m, ok := s.embed(st)
		return ok && embedSays(m, "Arrival", "Paused")
	})
	if r = s.command(t, host, "resume"); r.Content != "Playing." {
		t.Fatalf("/resume answered %+v", r)
	}
	// What the party service refuses is explained in words.
	if r = s.command(t, host, "resume"); r.Content != "That can't be done right now: cannot resume a party that is playing." {
		t.Fatalf("second /resume answered %+v", r)
	}

	if r = s.command(t, host, "queue", sub("add", str("title", "blade"))); !strings.Contains(r.Content, "Blade Runner") {
		t.Fatalf("/queue add answered %+v", r)
	}
	q, err := s.parties.Queue(ctx, p.ID)
	if err != nil || len(q) != 2 || q[1].Title != "Blade Runner" || q[1].SourceID != fmt.Sprint(s.items["Blade Runner"]) {
		t.Fatalf("queue = %+v, %v", q, err)
	}
	if r = s.command(t, host, "queue", sub("list")); !strings.Contains(r.Content, "Blade Runner (2002)") || strings.Contains(r.Content, "Arrival") {
		t.Fatalf("/queue list answered %+v", r)
	}

	if r = s.command(t, host, "party", sub("stop")); !strings.Contains(r.Content, "Party ended") {
		t.Fatalf("/party stop answered %+v", r)
	}
	if got := s.status(t, p.ID); got != party.StatusStopped {
		t.Fatalf("status after /party stop = %s", got)
	}
	s.wait(t, "the final embed", func(st *discordtest.State) bool {
		m, ok := s.embed(st)
		return ok && m.Embeds[0].Title == "Party ended" && len(m.Buttons) == 0
	})
}

// TestWebAppPartyWithGuildIsFollowed: a party created and played in the
// web app with a Discord guild and text channel gets its embed, follows the
// web app's controls at once, and takes slash commands.
func TestWebAppPartyWithGuildIsFollowed(t *testing.T) {
	s := newStack(t)
	web := s.member(t)
	var v struct {
		ID int64 `json:"id"`
	}
	web.do("POST", "/api/parties", map[string]any{"itemId": s.items["Blade Runner"], "guildId": s.o.GuildID,
		"textChannelId": s.o.TextChannelID}, &v)
	path := fmt.Sprintf("/api/parties/%d/control", v.ID)
	web.do("POST", path, map[string]any{"action": "play"}, nil)
	s.wait(t, "the embed of the web app's party", func(st *discordtest.State) bool {
		m, ok := s.embed(st)
		return ok && embedSays(m, "Blade Runner", "") && len(m.Buttons) == 1 && strings.HasPrefix(m.Buttons[0].URL, publicURL+"/join/")
	})
	eventually(t, "playing", func() bool { return s.status(t, v.ID) == party.StatusPlaying })
	web.do("POST", path, map[string]any{"action": "pause"}, nil)
	s.wait(t, "the embed showing Paused", func(st *discordtest.State) bool {
		m, ok := s.embed(st)
		return ok && embedSays(m, "Blade Runner", "Paused")
	})
	if r := s.command(t, host, "resume"); r.Content != "Playing." {
		t.Fatalf("/resume answered %+v", r)
	}
	if got := s.status(t, v.ID); got != party.StatusPlaying {
		t.Fatalf("status after /resume = %s", got)
	}
	web.do("POST", path, map[string]any{"action": "stop"}, nil)
	s.wait(t, "the final embed", func(st *discordtest.State) bool {
		m, ok := s.embed(st)
		return ok && m.Embeds[0].Title == "Party ended"
	})
	if n := len(s.fake.Snapshot().MessagesIn(s.o.TextChannelID)); n != 1 {
		t.Errorf("%d messages in the text channel, want the one embed", n)
	}
}

// TestRunningPartyIsFollowedAtStart: a party that was playing with a
// Discord guild when the API (re)started gets its embed.
func TestRunningPartyIsFollowedAtStart(t *testing.T) {
	var id int64
	s := newStack(t, func(s *stack) {
		ctx := context.Background()
		u, err := s.accounts.CreateUser(ctx, auth.NewUser{Username: "bob", Role: auth.RoleMember})
		if err != nil {
			t.Fatal(err)
		}
		p, err := s.parties.Create(ctx, u.ID, party.NewParty{Title: "Late show", GuildID: s.o.GuildID, TextChannelID: s.o.TextChannelID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.parties.Enqueue(ctx, p.ID, party.NewEntry{SourceID: fmt.Sprint(s.items["Arrival"])}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.parties.Play(ctx, p.ID, party.PlayOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "playing", func() bool { return s.status(t, p.ID) == party.StatusPlaying })
		id = p.ID
	})
	st := s.wait(t, "the embed of the running party", func(st *discordtest.State) bool {
		m, ok := s.embed(st)
		return ok && embedSays(m, "Arrival", "Playing")
	})
	m, _ := s.embed(st)
	inv, _, err := s.parties.CheckInvite(context.Background(), inviteKey, strings.TrimPrefix(m.Buttons[0].URL, publicURL+"/join/"))
	if err != nil || inv.PartyID != id {
		t.Fatalf("embed invite = %+v, %v", inv, err)
	}
	if r := s.command(t, host, "pause"); r.Content != "Paused." {
		t.Fatalf("/pause answered %+v", r)
	}
}

// TestBridgeAnswers checks the PartyInfo side without Discord: search by
// id and title, and the end of a party.
func TestBridgeAnswers(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	b, err := discordbridge.New(discordbridge.Params{Parties: s.parties, Library: s.lib, Accounts: s.accounts,
		PublicURL: publicURL, InviteSecret: inviteKey})
	if err != nil {
		t.Fatal(err)
	}
	blade := fmt.Sprint(s.items["Blade Runner"])
	items, err := b.Search(ctx, blade, 5)
	if err != nil || len(items) == 0 || items[0].ID != blade || items[0].Title != "Blade Runner" || items[0].Year != 2002 {
		t.Fatalf("search by id = %+v, %v", items, err)
	}
	if items, err = b.Search(ctx, "ARS", 5); err != nil || len(items) != 1 || items[0].Title != "Arsenic and Old Lace" {
		t.Fatalf("search by title = %+v, %v", items, err)
	}
	for _, id := range []string{"999999", "nope"} {
		if _, err := b.NowPlaying(ctx, id); !errors.Is(err, discord.ErrPartyOver) {
			t.Errorf("NowPlaying(%q) = %v, want ErrPartyOver", id, err)
		}
	}
	var pe discord.PublicError
	if _, err := b.StartParty(ctx, discord.StartRequest{ItemID: "424242", GuildID: s.o.GuildID, TextChannelID: s.o.TextChannelID}); !errors.As(err, &pe) ||
		pe.PublicMessage() != "That party or item no longer exists." {
		t.Fatalf("StartParty of a missing item = %v", err)
	}
	// A party whose media cannot be resolved is not left behind.
	if _, err := s.db.Exec(`UPDATE library_items SET path = '' WHERE id = ?`, s.items["Arrival"]); err != nil {
		t.Fatal(err)
	}
	_, err = b.StartParty(ctx, discord.StartRequest{ItemID: fmt.Sprint(s.items["Arrival"]), GuildID: s.o.GuildID, TextChannelID: s.o.TextChannelID})
	if !errors.As(err, &pe) {
		t.Fatalf("StartParty of unplayable media = %v", err)
	}
	if ps, _ := s.parties.List(ctx, 0, true); len(ps) != 0 {
		t.Errorf("parties after a failed start = %+v", ps)
	}
	np, err := b.StartParty(ctx, discord.StartRequest{ItemID: blade, GuildID: s.o.GuildID, TextChannelID: s.o.TextChannelID})
	if err != nil {
		t.Fatal(err)
	}
	now, err := b.NowPlaying(ctx, np.ID)
	if err != nil || now.Item.Title != "Blade Runner" || now.Duration != 10*time.Minute || now.Viewers != 0 || now.InviteURL != np.InviteURL {
		t.Fatalf("NowPlaying = %+v, %v", now, err)
	}
	// Discord trouble reaches the party's event log, where the API and the
	// web app read it, with the message Discord users would see.
	b.ReportProblem(np.ID, fmt.Errorf("voice: %w", discord.ErrDAVERequired))
	pid, _ := strconv.ParseInt(np.ID, 10, 64)
	evs, err := s.parties.Events(ctx, pid, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var problem string
	for _, ev := range evs {
		if ev.Type == "problem" {
			raw, _ := json.Marshal(ev.Payload)
			problem = string(raw)
		}
	}
	if !strings.Contains(problem, `"source":"discord"`) || !strings.Contains(problem, "use a Stage channel") {
		t.Fatalf("problem event = %q in %+v", problem, evs)
	}
	if err := b.Stop(ctx, np.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.NowPlaying(ctx, np.ID); !errors.Is(err, discord.ErrPartyOver) {
		t.Errorf("NowPlaying after Stop = %v, want ErrPartyOver", err)
	}
}
