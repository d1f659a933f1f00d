package discordbridge

import (
	"errors"
	"fmt"
	"testing"

	"github.com/marquee-party/marquee/discord"
	"github.com/marquee-party/marquee/library"
	"github.com/marquee-party/marquee/party"
)

func TestPublicMessages(t *testing.T) {
	other := errors.New("disk on fire")
	tests := []struct {
		err  error
		want string // "" means not public
	}{
		{fmt.Errorf("%w: cannot pause a party that is stopped", party.ErrBadTransition), "That can't be done right now: cannot pause a party that is stopped."},
		{party.ErrNothingToPlay, "Nothing is queued. Add something with /queue add."},
		{fmt.Errorf("%w: no file", party.ErrResolve), "That item can't be played: its media is missing or unreadable."},
		{&party.WorkerError{Status: 503}, "The player is unavailable right now. Try again in a moment."},
		{fmt.Errorf("party: %w", party.ErrNotFound), "That party or item no longer exists."},
		{fmt.Errorf("%w: item 7", library.ErrNotFound), "That party or item no longer exists."},
		{fmt.Errorf("%w: title", party.ErrInvalid), "That request isn't valid."},
		{other, ""},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			err := public(tt.err)
			var pe discord.PublicError
			switch {
			case tt.want == "" && errors.As(err, &pe):
				t.Fatalf("public(%v) = %q, want it kept private", tt.err, pe.PublicMessage())
			case tt.want != "" && (!errors.As(err, &pe) || pe.PublicMessage() != tt.want):
				t.Fatalf("public(%v) = %v, want %q", tt.err, err, tt.want)
			case !errors.Is(err, tt.err):
				t.Fatalf("public(%v) lost the cause", tt.err)
			}
		})
	}
}

func TestClip(t *testing.T) {
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{{"abc", 5, "abc"}, {"abcdef", 3, "abc"}, {"aéb", 2, "a"}, {"aéb", 3, "aé"}} {
		if got := clip(tt.in, tt.n); got != tt.want {
			t.Errorf("clip(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}
