package party

import (
	"errors"
	"testing"
)

func TestStatusMachine(t *testing.T) {
	// Every allowed transition, written out independently of the table in
	// status.go; every other (status, event) pair must be refused.
	allowed := []struct {
		from Status
		ev   Event
		to   Status
	}{
		{StatusDraft, EvEnqueue, StatusQueued},
		{StatusDraft, EvQueueEmptied, StatusDraft},
		{StatusDraft, EvStop, StatusStopped},
		{StatusQueued, EvEnqueue, StatusQueued},
		{StatusQueued, EvQueueEmptied, StatusDraft},
		{StatusQueued, EvPlay, StatusConnecting},
		{StatusQueued, EvStop, StatusStopped},
		{StatusConnecting, EvEnqueue, StatusConnecting},
		{StatusConnecting, EvQueueEmptied, StatusConnecting},
		{StatusConnecting, EvPlay, StatusConnecting},
		{StatusConnecting, EvStarted, StatusPlaying},
		{StatusConnecting, EvPaused, StatusPaused},
		{StatusConnecting, EvFinished, StatusStopped},
		{StatusConnecting, EvStop, StatusStopped},
		{StatusConnecting, EvFail, StatusError},
		{StatusPlaying, EvEnqueue, StatusPlaying},
		{StatusPlaying, EvQueueEmptied, StatusPlaying},
		{StatusPlaying, EvPlay, StatusConnecting},
		{StatusPlaying, EvStarted, StatusPlaying},
		{StatusPlaying, EvPaused, StatusPaused},
		{StatusPlaying, EvFinished, StatusStopped},
		{StatusPlaying, EvStop, StatusStopped},
		{StatusPlaying, EvFail, StatusError},
		{StatusPaused, EvEnqueue, StatusPaused},
		{StatusPaused, EvQueueEmptied, StatusPaused},
		{StatusPaused, EvPlay, StatusConnecting},
		{StatusPaused, EvStarted, StatusPlaying},
		{StatusPaused, EvPaused, StatusPaused},
		{StatusPaused, EvFinished, StatusStopped},
		{StatusPaused, EvStop, StatusStopped},
		{StatusPaused, EvFail, StatusError},
		{StatusStopped, EvEnqueue, StatusStopped},
		{StatusStopped, EvQueueEmptied, StatusStopped},
		{StatusStopped, EvPlay, StatusConnecting},
		{StatusStopped, EvStop, StatusStopped},
		{StatusError, EvEnqueue, StatusError},
		{StatusError, EvQueueEmptied, StatusError},
		{StatusError, EvPlay, StatusConnecting},
		{StatusError, EvStop, StatusStopped},
		{StatusError, EvFail, StatusError},
	}
	events := []Event{EvEnqueue, EvQueueEmptied, EvPlay, EvStarted, EvPaused, EvFinished, EvStop, EvFail}
	want := map[[2]string]Status{}
	for _, a := range allowed {
		want[[2]string{string(a.from), string(a.ev)}] = a.to
	}
	for _, from := range Statuses {
		for _, ev := range events {
			t.Run(string(from)+"/"+string(ev), func(t *testing.T) {
				got, err := Next(from, ev)
				to, ok := want[[2]string{string(from), string(ev)}]
				if ok {
					if err != nil || got != to {
						t.Fatalf("Next(%s, %s) = %s, %v; want %s", from, ev, got, err, to)
					}
					return
				}
				if !errors.Is(err, ErrBadTransition) || got != from {
					t.Fatalf("Next(%s, %s) = %s, %v; want refusal", from, ev, got, err)
				}
			})
		}
	}
}
