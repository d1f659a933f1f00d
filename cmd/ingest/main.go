// Command ingest is Marquee's ingest worker: it decodes library media with
// libav into simulcast VP8 (or H.264) and Opus, and publishes them into a
// party's room on the SFU, obeying the control plane's play, pause,
// resume, seek, skip and stop. `ingest bench` measures the pipeline.
package main

import (
	"context"
	"net/http"
	"os"

	"github.com/marquee-party/marquee/ingest"
	"github.com/marquee-party/marquee/internal/cli"
	"github.com/marquee-party/marquee/internal/config"
	"github.com/marquee-party/marquee/internal/lifecycle"
	"github.com/marquee-party/marquee/internal/obs"
)

const summary = `Marquee's ingest worker. Serves the private worker API (bearer secret)
and publishes each session into its SFU room as ingest-<sessionId>.
--dev binds 127.0.0.1:8090 with worker secret devsecret and SFU keys
devkey/secret. Sub-command: ingest bench --help.`

func main() { os.Exit(run()) }

func run() int {
	if len(os.Args) > 1 && os.Args[1] == "bench" {
		return runBench(os.Args[2:])
	}
	cfg := defaultConfig()
	log, loaded, err := cli.Start(os.Stderr, &cfg, &cfg.Log, config.Options{Name: "ingest", Summary: summary, Dev: applyDev}, os.Args[1:])
	if err != nil {
		return cli.Exit(os.Stderr, err)
	}
	routeLibraryLogs(log)
	reg := obs.NewRegistry()
	srv, err := ingest.New(ingest.Params{
		Config: cfg.ingest(),
		Connector: &ingest.LiveKitConnector{URL: cfg.SFU.URL, APIKey: cfg.SFU.APIKey,
			APISecret: cfg.SFU.APISecret, Logger: log},
		Logger: log, Registerer: reg,
	})
	if err != nil {
		log.Error("start ingest", "err", err)
		return 1
	}
	mux := http.NewServeMux()
	obs.Mount(mux, reg, obs.NewReadiness())
	api := srv.Handler()
	mux.Handle("/sessions", api)
	mux.Handle("/sessions/", api)
	log.Info("ingest starting", "listen", cfg.Listen, "sfu", cfg.SFU.URL, "codec", cfg.Media.VideoCodec, "dev", loaded.Dev)
	err = lifecycle.Run(context.Background(), log, os.Exit,
		lifecycle.ServeHTTP(log, "ingest", cfg.Listen, mux),
		func(ctx context.Context) error { <-ctx.Done(); srv.Close(); return nil })
	if err != nil {
		log.Error("ingest stopped", "err", err)
		return 1
	}
	return 0
}
