package discord

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/marquee-party/marquee/internal/workerapi"
)

// commands are the slash commands registered in every guild
// ("Application Commands": CHAT_INPUT with SUB_COMMAND options).
func commands() []*discordgo.ApplicationCommand {
	title := func(desc string) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "title",
			Description: desc, Required: true, Autocomplete: true}
	}
	sub := func(name, desc string, opts ...*discordgo.ApplicationCommandOption) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionSubCommand, Name: name, Description: desc, Options: opts}
	}
	simple := func(name, desc string) *discordgo.ApplicationCommand {
		return &discordgo.ApplicationCommand{Name: name, Description: desc}
	}
	return []*discordgo.ApplicationCommand{
		{Name: "party", Description: "Start or stop a watch party", Options: []*discordgo.ApplicationCommandOption{
			sub("start", "Start a party with something from the library", title("What to watch or hear"),
				&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionChannel, Name: "channel",
					Description:  "Stage channel for the audio (default: the one you are in)",
					ChannelTypes: []discordgo.ChannelType{discordgo.ChannelTypeGuildStageVoice, discordgo.ChannelTypeGuildVoice}}),
			sub("stop", "End the party"),
		}},
		{Name: "queue", Description: "The party's queue", Options: []*discordgo.ApplicationCommandOption{
			sub("add", "Add something to the queue", title("What to add")),
			sub("list", "Show what's coming up"),
		}},
		simple("pause", "Pause the party"),
		simple("resume", "Resume the party"),
		{Name: "seek", Description: "Jump to a time", Options: []*discordgo.ApplicationCommandOption{
			{Type: discordgo.ApplicationCommandOptionString, Name: "position", Description: "mm:ss or h:mm:ss", Required: true},
		}},
		simple("skip", "Skip to the next item"),
		simple("nowplaying", "Show what's playing"),
		simple("invite", "Get the invite link"),
	}
}

// controlCommands need a control role; the others are open to everyone.
var controlCommands = []string{"party start", "party stop", "queue add", "pause", "resume", "seek", "skip"}

// commandName returns "party start" for sub-commands, "pause" otherwise, and
// the options of the innermost level.
func commandName(d discordgo.ApplicationCommandInteractionData) (string, []*discordgo.ApplicationCommandInteractionDataOption) {
	if len(d.Options) == 1 && d.Options[0].Type == discordgo.ApplicationCommandOptionSubCommand {
		return d.Name + " " + d.Options[0].Name, d.Options[0].Options
	}
	return d.Name, d.Options
}

// mayControl reports whether member may run control commands in guildID:
// one of the configured roles, or, in guilds without configured roles,
// Administrator or Manage Server.
func (c Config) mayControl(guildID string, m *discordgo.Member) bool {
	if m == nil {
		return false
	}
	roles := c.roles(guildID)
	if roles == nil {
		return m.Permissions&(discordgo.PermissionAdministrator|discordgo.PermissionManageGuild) != 0
	}
	for _, r := range m.Roles {
		if slices.Contains(roles, r) {
			return true
		}
	}
	return false
}

// optionString returns the string value of the named option.
func optionString(opts []*discordgo.ApplicationCommandInteractionDataOption, name string) string {
	for _, o := range opts {
		if o.Name == name {
			if s, ok := o.Value.(string); ok {
				return s
			}
		}
	}
	return ""
}

// parsePosition parses "ss", "mm:ss" or "h:mm:ss".
func parsePosition(s string) (time.Duration, error) {
	parts := strings.Split(strings.TrimSpace(s), ":")
	if len(parts) > 3 || parts[0] == "" {
		return 0, fmt.Errorf("%q is not mm:ss", s)
	}
	var total int
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || (i > 0 && n > 59) {
			return 0, fmt.Errorf("%q is not mm:ss", s)
		}
		if n > workerapi.MaxPositionSeconds {
			return 0, fmt.Errorf("%q is past the end of any media", s)
		}
		total = total*60 + n // at most 60·MaxPositionSeconds+59: no overflow
		if total > workerapi.MaxPositionSeconds {
			return 0, fmt.Errorf("%q is past the end of any media", s)
		}
	}
	return time.Duration(total) * time.Second, nil
}

// formatDuration renders 1:02:03 or 2:03.
func formatDuration(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d/time.Hour), int(d/time.Minute)%60, int(d/time.Second)%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%d:%02d", m, s)
}
