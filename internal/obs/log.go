// Package obs holds what every Marquee service shares for operations:
// structured logging, health and readiness probes, and Prometheus metrics.
package obs

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"golang.org/x/term"
)

// LogConfig is the logging part of every binary's config.
type LogConfig struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level" usage:"log level: debug, info, warn or error"`
	// Format is auto (text on a terminal, JSON otherwise), text or json.
	Format string `yaml:"format" usage:"log format: auto, text or json"`
}

// DefaultLogConfig logs at info in the format that suits the output.
func DefaultLogConfig() LogConfig { return LogConfig{Level: "info", Format: "auto"} }

// Validate checks the level and format names.
func (c LogConfig) Validate() error {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.Level)); err != nil {
		return fmt.Errorf("log.level: %q is not debug, info, warn or error", c.Level)
	}
	switch c.Format {
	case "auto", "text", "json":
		return nil
	}
	return fmt.Errorf("log.format: %q is not auto, text or json", c.Format)
}

// NewLogger builds the service logger writing to w. In auto format it writes
// text when w is a terminal and JSON otherwise, so log collectors get JSON.
func NewLogger(w io.Writer, c LogConfig) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	format := strings.ToLower(c.Format)
	if format == "auto" {
		format = "json"
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			format = "text"
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
