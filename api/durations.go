package api

import (
	"math"
	"time"

	"github.com/marquee-party/marquee/internal/workerapi"
)

// MaxTokenLifetime is the longest lifetime an API token may ask for
// (expiresInSeconds); 0 asks for a token that never expires.
const MaxTokenLifetime = 10 * 365 * 24 * time.Hour

// secondsIn converts a request's whole seconds to a Duration after
// checking lo ≤ s ≤ hi, so that no value can overflow time.Duration (a
// wrapped product can land anywhere, even inside the range). Every
// duration a request carries goes through here or floatSecondsIn.
func secondsIn(field string, s int64, lo, hi time.Duration) (time.Duration, error) {
	if s < int64(lo/time.Second) || s > int64(hi/time.Second) {
		return 0, badRequest("%s must be between %d and %d seconds (%s to %s)",
			field, int64(lo/time.Second), int64(hi/time.Second), lo, hi)
	}
	return time.Duration(s) * time.Second, nil
}

// floatSecondsIn is secondsIn for fractional seconds.
func floatSecondsIn(field string, s float64, lo, hi time.Duration) (time.Duration, error) {
	if math.IsNaN(s) || s < lo.Seconds() || s > hi.Seconds() {
		return 0, badRequest("%s must be between %g and %g seconds (%s to %s)", field, lo.Seconds(), hi.Seconds(), lo, hi)
	}
	return time.Duration(s * float64(time.Second)), nil
}

// checkPosition refuses a playback position the worker could not turn
// into a time.Duration (workerapi.MaxPositionSeconds).
func checkPosition(field string, s *float64) error {
	if s != nil && !workerapi.ValidPosition(*s) {
		return badRequest("%s must be between 0 and %d seconds", field, workerapi.MaxPositionSeconds)
	}
	return nil
}
