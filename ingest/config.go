package ingest

import (
	"errors"
	"time"

	"github.com/marquee-party/marquee/media"
)

// Config is what a Server needs besides its collaborators.
type Config struct {
	// Secret is the bearer secret of the worker API and of callbacks.
	Secret string
	// MediaRoots are the directories local paths must lie in.
	MediaRoots []string
	// Media tunes the pipeline.
	Media media.Config
	// HeartbeatInterval between heartbeat events (1 s), unless a session's
	// CreateSession asks for another (workerapi.CreateSession.HeartbeatMs).
	HeartbeatInterval time.Duration
	// PlaybackInterval between marquee.playback messages (1 s).
	PlaybackInterval time.Duration
	// JoinTimeout bounds joining the SFU room.
	JoinTimeout time.Duration
	// CallbackTimeout bounds one callback POST.
	CallbackTimeout time.Duration
}

// DefaultConfig returns the contract's intervals and the media defaults.
func DefaultConfig() Config {
	return Config{
		Media:             media.DefaultConfig(),
		HeartbeatInterval: time.Second,
		PlaybackInterval:  time.Second,
		JoinTimeout:       15 * time.Second,
		CallbackTimeout:   5 * time.Second,
	}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	if len(c.Secret) < 8 {
		return errors.New("ingest: worker secret must be at least 8 characters")
	}
	if c.HeartbeatInterval <= 0 || c.PlaybackInterval <= 0 || c.JoinTimeout <= 0 || c.CallbackTimeout <= 0 {
		return errors.New("ingest: intervals and timeouts must be positive")
	}
	return c.Media.Validate()
}
