// Package ingest runs watch-party ingest sessions: each session joins one
// party room on the SFU as participant ingest-<sessionId>, plays the
// items the control plane sends it through the media pipeline, obeys
// pause/resume/seek/skip/stop, publishes marquee.playback sync messages,
// and reports events and heartbeats to the control plane's callback URL.
//
// Server exposes the private worker API (see the brief's "Ingest worker
// API" contract); every route except the ops endpoints needs the shared
// bearer secret. Sessions are isolated: each owns its pipeline in one
// goroutine, and a failure or panic in one never reaches another.
package ingest
