// Package discord runs Marquee's Discord bot: slash commands that start and
// control parties, one now-playing embed per party with the invite link, and
// a voice publisher that plays the party's audio on a Stage channel.
//
// # Where it runs
//
// The bot runs inside cmd/api when discord.token is configured: New builds
// it from a Config plus the small interfaces below, and Run is a lifecycle
// part. Running in the API process keeps one source of truth for parties
// (PartyControl calls are in-process) and needs no extra service to deploy.
//
// Parties started with /party start are followed automatically. The API
// calls Attach for a party started in the web app with a Discord guild and
// channels (or on start-up, for parties that were running), PartyChanged to
// refresh the embed at once, and Problem to show Discord trouble (missing
// permission, DAVE required) on the party page.
//
// # What the API side implements
//
//   - PartyControl: start, stop, enqueue, control (pause/resume/seek/skip),
//     invite link — the same party API the web app uses;
//   - PartyInfo: now playing, queue, catalog search (for autocomplete);
//   - AudioSources: opens a party room's Opus audio; package
//     discord/sfusource implements it as a hidden LiveKit subscriber.
//
// # Protocols
//
// Gateway and REST go through github.com/bwmarrin/discordgo (pinned master,
// whose voice encryption is current). Voice does not: package discord/voice
// is our own client (voice gateway v8, AEAD "RTP size" encryption, no
// re-encoding). Stage channels follow "Modify Current User Voice State"
// (https://discord.com/developers/docs/resources/voice#modify-current-user-voice-state):
// join, then PATCH suppress:false (needs MUTE_MEMBERS), else
// request_to_speak_timestamp and a message saying so.
//
// # Not supported
//
// DAVE end-to-end encryption, which Discord requires in normal voice channels
// since March 2026: such a channel closes the voice connection with 4017 and
// the bot tells the channel to use a Stage channel. The party itself goes on
// in the browsers.
//
// # Tests
//
// discord/discordtest is a fake Discord speaking the real protocols over TLS
// on loopback. Params.HTTPClient and Params.TLSConfig point the bot at it;
// discordgo's package-level endpoint variables are never modified.
package discord
