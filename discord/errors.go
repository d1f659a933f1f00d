package discord

import "errors"

// Errors of the discord package. Problems that people must fix in Discord
// (permissions, channel kind) are also posted in the party's text channel.
var (
	// ErrConfig reports an invalid Config.
	ErrConfig = errors.New("discord: invalid config")
	// ErrPartyOver is what PartyInfo returns (wrapped) for a party that ended.
	ErrPartyOver = errors.New("discord: party is over")
	// ErrMissingPermission means the bot lacks a Discord permission, e.g.
	// MUTE_MEMBERS to speak on a Stage.
	ErrMissingPermission = errors.New("discord: missing permission")
	// ErrDAVERequired means the voice channel requires DAVE end-to-end
	// encryption, which the publisher does not implement (close code 4017).
	ErrDAVERequired = errors.New("discord: voice channel requires DAVE end-to-end encryption; use a Stage channel")
	// ErrVoiceDisconnected means Discord ended the voice connection (4014):
	// the bot was moved, kicked or the channel was deleted.
	ErrVoiceDisconnected = errors.New("discord: disconnected from the voice channel")
	// ErrNotRunning means the bot is not connected (Run not called or
	// stopping).
	ErrNotRunning = errors.New("discord: bot is not running")
)

// PublicError is implemented by errors whose message may be shown to
// Discord users as is. Other errors are logged and shown generically.
type PublicError interface {
	error
	PublicMessage() string
}
