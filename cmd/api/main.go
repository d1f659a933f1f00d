// Command api is Marquee's control plane: the library, users, parties,
// invites and the web app. It drives the ingest worker over its HTTP API
// and the SFU through LiveKit's RoomService. With discord.token set, the
// Discord bot (package discord, bridged by api/discordbridge) runs in this
// process too. Sub-commands: scan, bench, login-link (each has --help).
package main

import (
	"context"
	"io"
	"log/slog"
	"os"

	"github.com/asticode/go-astiav"

	"github.com/marquee-party/marquee/internal/cli"
	"github.com/marquee-party/marquee/internal/config"
	"github.com/marquee-party/marquee/internal/lifecycle"
	"github.com/marquee-party/marquee/internal/obs"
)

const summary = `Marquee's control plane: JSON API under /api (OpenAPI at /api/openapi.json),
the web app at /, /healthz /readyz /metrics. SQLite lives in <data_dir>/marquee.db.
On first start it creates the account "admin" and prints a one-time login link
on stdout (never in the logs). --dev binds 127.0.0.1:8080 with SFU keys
devkey/secret, worker secret devsecret, a well-known invite key and the
library root ./data/library. With discord.token (and discord.application_id)
set, the Discord bot runs in this process. Sub-commands: scan, bench, login-link.`

func main() { os.Exit(run()) }

func run() int {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "scan":
			return runScan(os.Args[2:])
		case "bench":
			return runBench(os.Args[2:])
		case "login-link":
			return runLoginLink(os.Args[2:], os.Stdout, os.Stderr)
		}
	}
	cfg := defaultConfig()
	log, loaded, err := cli.Start(os.Stderr, &cfg, &cfg.Log, config.Options{Name: "api", Summary: summary, Dev: applyDev}, os.Args[1:])
	if err != nil {
		return cli.Exit(os.Stderr, err)
	}
	astiav.SetLogLevel(astiav.LogLevelError)
	reg := obs.NewRegistry()
	ctx := context.Background()
	app, err := build(ctx, cfg, log, reg, os.Stdout)
	if err != nil {
		log.Error("start api", "err", err)
		return 1
	}
	defer app.close()
	log.Info("api starting", "listen", cfg.Listen, "publicURL", cfg.PublicURL, "dataDir", cfg.DataDir,
		"sfu", cfg.SFU.URL, "worker", cfg.Worker.URL, "dev", loaded.Dev)
	if err := lifecycle.Run(ctx, log, os.Exit, app.parts...); err != nil {
		log.Error("api stopped", "err", err)
		return 1
	}
	return 0
}

// loadConfig loads the API's config and logger for a sub-command that
// only uses the database (dbConfig's checks).
func loadConfig(stderr io.Writer, name, sum string, args []string) (apiConfig, *slog.Logger, error) {
	cfg := dbConfig(defaultConfig())
	dev := func(c any) { applyDev((*apiConfig)(c.(*dbConfig))) }
	log, _, err := cli.Start(stderr, &cfg, &cfg.Log, config.Options{Name: name, Summary: sum, Dev: dev, Output: stderr}, args)
	return apiConfig(cfg), log, err
}
