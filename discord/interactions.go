package discord

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/bwmarrin/discordgo"
)

func (b *Bot) onInteraction(_ *discordgo.Session, i *discordgo.InteractionCreate) {
	b.goWork(func(ctx context.Context) {
		switch i.Type {
		case discordgo.InteractionApplicationCommand:
			b.handleCommand(ctx, i.Interaction)
		case discordgo.InteractionApplicationCommandAutocomplete:
			b.handleAutocomplete(ctx, i.Interaction)
		}
	})
}

// handleAutocomplete answers the focused title option with catalog matches.
func (b *Bot) handleAutocomplete(ctx context.Context, i *discordgo.Interaction) {
	_, opts := commandName(i.ApplicationCommandData())
	query := ""
	for _, o := range opts {
		if o.Focused {
			query, _ = o.Value.(string)
		}
	}
	items, err := b.p.Info.Search(ctx, query, 25)
	if err != nil {
		b.log.Warn("autocomplete search failed", "err", err)
	}
	choices := make([]*discordgo.ApplicationCommandOptionChoice, 0, len(items))
	for _, it := range items {
		choices = append(choices, &discordgo.ApplicationCommandOptionChoice{Name: truncate(itemLabel(it), 100), Value: it.ID})
	}
	err = b.sess().InteractionRespond(i, &discordgo.InteractionResponse{
		Type: discordgo.InteractionApplicationCommandAutocompleteResult,
		Data: &discordgo.InteractionResponseData{Choices: choices},
	}, discordgo.WithContext(ctx))
	if err != nil {
		b.log.Warn("autocomplete response failed", "err", err)
	}
}

// reply is what a command answers.
type reply struct {
	content string
	embed   *discordgo.MessageEmbed
	invite  string // adds a link button
}

// handleCommand checks roles, defers the response, runs the command and
// edits the response with the outcome.
func (b *Bot) handleCommand(ctx context.Context, i *discordgo.Interaction) {
	name, opts := commandName(i.ApplicationCommandData())
	log := b.log.With("command", name, "guild", i.GuildID)
	if i.GuildID == "" {
		b.respondNow(ctx, i, "Marquee commands work in servers, not in DMs.")
		return
	}
	if slices.Contains(controlCommands, name) && !b.cfg.mayControl(i.GuildID, i.Member) {
		b.m.commands.WithLabelValues(name, "refused").Inc()
		log.Info("command refused: member lacks a control role")
		b.respondNow(ctx, i, "You can't control parties here: ask for one of the server's party-control roles.")
		return
	}
	if err := b.sess().InteractionRespond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource},
		discordgo.WithContext(ctx)); err != nil {
		log.Warn("deferring the response failed", "err", err)
		return
	}
	r, err := b.runCommand(ctx, i, name, opts)
	outcome := "ok"
	if err != nil {
		outcome = "error"
		r = reply{content: b.publicMessage(log, err)}
	}
	b.m.commands.WithLabelValues(name, outcome).Inc()
	edit := &discordgo.WebhookEdit{Content: &r.content}
	if r.embed != nil {
		edit.Embeds = &[]*discordgo.MessageEmbed{r.embed}
	}
	if r.invite != "" {
		edit.Components = &[]discordgo.MessageComponent{inviteButton(r.invite)}
	}
	if _, err := b.sess().InteractionResponseEdit(i, edit, discordgo.WithContext(ctx)); err != nil {
		log.Warn("editing the response failed", "err", err)
	}
}

// respondNow answers at once, visible only to the caller.
func (b *Bot) respondNow(ctx context.Context, i *discordgo.Interaction, msg string) {
	err := b.sess().InteractionRespond(i, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Content: msg, Flags: discordgo.MessageFlagsEphemeral},
	}, discordgo.WithContext(ctx))
	if err != nil {
		b.log.Warn("responding failed", "err", err)
	}
}

// publicMessage turns an error into words for Discord users.
func (b *Bot) publicMessage(log interface{ Warn(string, ...any) }, err error) string {
	var pe PublicError
	switch {
	case errors.As(err, &pe):
		return pe.PublicMessage()
	case errors.Is(err, errNoParty):
		return "There is no party running in this server. Start one with /party start."
	case errors.Is(err, errUser):
		return err.Error()
	}
	log.Warn("command failed", "err", err)
	return "Sorry, that didn't work. The server log has the details."
}

// Errors whose text is meant for users.
var (
	errNoParty = errors.New("no party")
	errUser    = errors.New("")
)

func userErr(format string, args ...any) error {
	return fmt.Errorf("%s%w", fmt.Sprintf(format, args...), errUser)
}

func (b *Bot) runCommand(ctx context.Context, i *discordgo.Interaction, name string, opts []*discordgo.ApplicationCommandInteractionDataOption) (reply, error) {
	if name == "party start" {
		return b.startParty(ctx, i, opts)
	}
	ps := b.partyInGuild(i.GuildID)
	if ps == nil {
		return reply{}, errNoParty
	}
	switch name {
	case "party stop":
		if err := b.p.Parties.Stop(ctx, ps.id); err != nil {
			return reply{}, err
		}
		ps.end()
		return reply{content: "Party ended. Thanks for watching!"}, nil
	case "queue add":
		item, err := b.resolveItem(ctx, optionString(opts, "title"))
		if err != nil {
			return reply{}, err
		}
		if _, err := b.p.Parties.Enqueue(ctx, ps.id, item.ID, requester(i)); err != nil {
			return reply{}, err
		}
		ps.markDirty()
		return reply{content: "Added to the queue: " + itemLabel(item)}, nil
	case "queue list":
		return b.queueList(ctx, ps)
	case "pause", "resume", "skip":
		if err := b.p.Parties.Control(ctx, ps.id, Control{Action: name}); err != nil {
			return reply{}, err
		}
		ps.markDirty()
		return reply{content: map[string]string{"pause": "Paused.", "resume": "Playing.", "skip": "Skipped."}[name]}, nil
	case "seek":
		pos, err := parsePosition(optionString(opts, "position"))
		if err != nil {
			return reply{}, userErr("%v. Try /seek 12:34.", err)
		}
		if err := b.p.Parties.Control(ctx, ps.id, Control{Action: ActionSeek, Position: pos}); err != nil {
			return reply{}, err
		}
		ps.markDirty()
		return reply{content: "Jumped to " + formatDuration(pos) + "."}, nil
	case "nowplaying":
		np, err := b.p.Info.NowPlaying(ctx, ps.id)
		if err != nil {
			return reply{}, err
		}
		return reply{embed: renderEmbed(np), invite: np.InviteURL}, nil
	case "invite":
		url, err := b.p.Parties.Invite(ctx, ps.id)
		if err != nil {
			return reply{}, err
		}
		return reply{content: "Join the party: " + url, invite: url}, nil
	}
	return reply{}, userErr("Unknown command %q.", name)
}

func (b *Bot) queueList(ctx context.Context, ps *partySession) (reply, error) {
	q, err := b.p.Info.Queue(ctx, ps.id)
	if err != nil {
		return reply{}, err
	}
	if len(q) == 0 {
		return reply{content: "The queue is empty. Add something with /queue add."}, nil
	}
	var sb strings.Builder
	for n, e := range q {
		if n == 20 {
			fmt.Fprintf(&sb, "…and %d more", len(q)-n)
			break
		}
		fmt.Fprintf(&sb, "%d. %s\n", n+1, itemLabel(e.Item))
	}
	return reply{content: sb.String()}, nil
}

// resolveItem maps a title option (an item id picked from autocomplete, or
// free text) to a catalog item.
func (b *Bot) resolveItem(ctx context.Context, v string) (CatalogItem, error) {
	if strings.TrimSpace(v) == "" {
		return CatalogItem{}, userErr("Tell me what to play.")
	}
	items, err := b.p.Info.Search(ctx, v, 5)
	if err != nil {
		return CatalogItem{}, err
	}
	for _, it := range items {
		if it.ID == v {
			return it, nil
		}
	}
	if len(items) == 0 {
		return CatalogItem{}, userErr("Nothing in the library matches %q.", truncate(v, 80))
	}
	return items[0], nil
}

func requester(i *discordgo.Interaction) Requester {
	if i.Member != nil && i.Member.User != nil {
		return Requester{UserID: i.Member.User.ID, Username: i.Member.User.Username}
	}
	return Requester{}
}

func itemLabel(it CatalogItem) string {
	if it.Year > 0 {
		return fmt.Sprintf("%s (%d)", it.Title, it.Year)
	}
	return it.Title
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
