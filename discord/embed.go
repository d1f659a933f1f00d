package discord

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"
)

// embedColor is Marquee's accent colour.
const embedColor = 0xE5A00D

// renderEmbed draws the now-playing embed: poster, title, year, progress
// line, state and viewer count.
func renderEmbed(np NowPlaying) *discordgo.MessageEmbed {
	e := &discordgo.MessageEmbed{
		Title:       truncate(np.Item.Title, 256),
		Description: progressLine(np),
		Color:       embedColor,
		Footer:      &discordgo.MessageEmbedFooter{Text: "Marquee watch party"},
	}
	if np.Item.Year > 0 {
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: "Year", Value: strconv.Itoa(np.Item.Year), Inline: true})
	}
	e.Fields = append(e.Fields,
		&discordgo.MessageEmbedField{Name: "State", Value: stateLabel(np.State), Inline: true},
		&discordgo.MessageEmbedField{Name: "Viewers", Value: strconv.Itoa(np.Viewers), Inline: true},
	)
	if np.Item.PosterURL != "" {
		e.Thumbnail = &discordgo.MessageEmbedThumbnail{URL: np.Item.PosterURL}
	}
	return e
}

// renderEnded is the embed once the party is over.
func renderEnded(title string) *discordgo.MessageEmbed {
	d := "The party is over. Thanks for watching!"
	if title != "" {
		d = "The party is over. Thanks for watching **" + title + "**!"
	}
	return &discordgo.MessageEmbed{Title: "Party ended", Description: d, Color: embedColor,
		Footer: &discordgo.MessageEmbedFooter{Text: "Marquee watch party"}}
}

// progressLine renders "▶ 12:34 ▬▬▬●▬▬▬▬ 1:45:00".
func progressLine(np NowPlaying) string {
	const cells = 16
	icon := map[string]string{"playing": "▶", "paused": "⏸", "loading": "⏳", "stopped": "⏹"}[np.State]
	if icon == "" {
		icon = "▶"
	}
	if np.Duration <= 0 {
		return fmt.Sprintf("%s %s", icon, formatDuration(np.Position))
	}
	at := int(int64(cells) * int64(min(np.Position, np.Duration)) / int64(np.Duration))
	bar := strings.Repeat("▬", at) + "●" + strings.Repeat("▬", cells-at)
	return fmt.Sprintf("%s %s %s %s", icon, formatDuration(np.Position), bar, formatDuration(np.Duration))
}

func stateLabel(s string) string {
	switch s {
	case "playing":
		return "Playing"
	case "paused":
		return "Paused"
	case "loading":
		return "Loading"
	case "stopped":
		return "Stopped"
	}
	return "Unknown"
}

// inviteButton is an action row with one link button to the invite URL.
func inviteButton(url string) discordgo.MessageComponent {
	return discordgo.ActionsRow{Components: []discordgo.MessageComponent{
		discordgo.Button{Label: "Join the party", Style: discordgo.LinkButton, URL: url},
	}}
}
