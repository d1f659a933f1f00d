// Package cli holds the opening every Marquee binary shares: load the
// config in the fixed order, build the logger from it, and turn a config
// failure into the right exit code.
package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/marquee-party/marquee/internal/config"
	"github.com/marquee-party/marquee/internal/obs"
)

// Start loads cfg with config.Load, then builds the logger from *logCfg,
// which must point into cfg, writing to stderr. It warns once about
// MARQUEE_* variables that name no key, since those are usually typos.
// When it returns an error, main should return Exit(stderr, err).
func Start(stderr io.Writer, cfg any, logCfg *obs.LogConfig, opts config.Options, args []string) (*slog.Logger, config.Loaded, error) {
	loaded, err := config.Load(cfg, opts, args)
	if err != nil {
		return nil, loaded, err
	}
	if err := logCfg.Validate(); err != nil {
		return nil, loaded, fmt.Errorf("%s: invalid config: %w", opts.Name, err)
	}
	log := obs.NewLogger(stderr, *logCfg)
	if len(loaded.UnknownEnv) > 0 {
		log.Warn("unknown MARQUEE_ variables", "names", loaded.UnknownEnv)
	}
	return log, loaded, nil
}

// Exit turns Start's error into a process exit code: 0 after --help
// (the usage is already written), otherwise 2 with the error printed.
func Exit(stderr io.Writer, err error) int {
	if errors.Is(err, config.ErrHelp) {
		return 0
	}
	fmt.Fprintln(stderr, err)
	return 2
}
