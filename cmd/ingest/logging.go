package main

import (
	"log/slog"
	"strings"

	"github.com/asticode/go-astiav"
	"github.com/go-logr/logr"
	protolog "github.com/livekit/protocol/logger"
	lksdk "github.com/livekit/server-sdk-go/v2"
)

// routeLibraryLogs sends libav's errors and the LiveKit SDK's logs through
// log, instead of their own unstructured writers on stderr.
func routeLibraryLogs(log *slog.Logger) {
	libav := log.With("component", "libav")
	astiav.SetLogLevel(astiav.LogLevelError)
	astiav.SetLogCallback(func(_ astiav.Classer, _ astiav.LogLevel, _, msg string) {
		// An item's failure is reported with its own error; this is detail.
		libav.Warn(strings.TrimSpace(msg))
	})
	lksdk.SetLogger(protolog.LogRLogger(logr.FromSlogHandler(log.With("component", "livekit-sdk").Handler())))
}
