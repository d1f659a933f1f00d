package discordbridge_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/marquee-party/marquee/api/discordbridge"
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
