//go:build race

package udpbatch

// raceEnabled: sync.Pool drops items at random under the race detector.
const raceEnabled = true
