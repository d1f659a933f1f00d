// Command cdn is a Marquee edge cache node: it serves signed viewer URLs for
// posters, HLS segments and downloads from local disk, fetching misses from
// the Marquee API. `cdn bench` measures the cache.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/marquee-party/marquee/cdn"
	"github.com/marquee-party/marquee/internal/cli"
	"github.com/marquee-party/marquee/internal/config"
	"github.com/marquee-party/marquee/internal/lifecycle"
	"github.com/marquee-party/marquee/internal/obs"
)

const summary = `Marquee's CDN node: an edge cache in front of the API (the origin) for
posters, HLS segments and downloads. Viewers reach it with URLs the API signs
(?exp=&sig=, HMAC-SHA256 with cdn.url_secret); misses are fetched once from
the origin with the bearer cdn.origin_token and kept on disk up to
cdn.max_bytes. With cdn.psk set the node registers with the API on start
(an HMAC challenge proves the key) and then uses its own credential and URL
key, kept in cdn.data_dir. --dev listens on 127.0.0.1:8081 in front of a --dev API on
127.0.0.1:8080 with the token devcdntoken, the secret devurlsecret and the key
devnodepresharedkey.
Sub-command: cdn bench --help.`

func main() { os.Exit(run()) }

func run() int {
	if len(os.Args) > 1 && os.Args[1] == "bench" {
		return runBench(os.Args[2:])
	}
	cfg := defaultConfig()
	log, loaded, err := cli.Start(os.Stderr, &cfg, &cfg.Log, config.Options{Name: "cdn", Summary: summary, Dev: applyDev}, os.Args[1:])
	if err != nil {
		return cli.Exit(os.Stderr, err)
	}
	reg := obs.NewRegistry()
	p, err := cfg.CDN.Params()
	if err != nil {
		fmt.Fprintf(os.Stderr, "cdn.%v\n", err)
		return 2
	}
	p.Logger, p.Registerer = log, reg
	if cfg.CDN.PSK != "" {
		if err := registerNode(&cfg, &p, log); err != nil {
			log.Error("cdn registration", "err", err)
			return 1
		}
	}
	node, err := cdn.New(p)
	if err != nil {
		log.Error("start cdn", "err", err)
		return 1
	}
	if p.Credential != "" { // set by registration
		tasks := node.StartTasks()
		defer tasks.Close() // after the heartbeats stop handing it tasks
		hb, err := node.StartHeartbeatWith(tasks)
		if err != nil {
			log.Error("start heartbeats", "err", err)
			return 1
		}
		defer hb.Close()
	}
	ready := obs.NewReadiness()
	ready.Add("origin", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		return node.Ping(ctx)
	})
	ops := http.NewServeMux()
	obs.Mount(ops, reg, ready)
	// Route by exact path rather than through the mux, so that unclean
	// viewer paths reach the node's checks instead of the mux's redirects.
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz", "/readyz", "/metrics":
			ops.ServeHTTP(w, r)
		default:
			node.ServeHTTP(w, r)
		}
	})
	log.Info("cdn starting", "listen", cfg.Listen, "origin", p.Origin.Redacted(), "cache_dir", cfg.CDN.CacheDir,
		"max_bytes", cfg.CDN.MaxBytes, "dev", loaded.Dev)
	if err := lifecycle.Run(context.Background(), log, os.Exit, lifecycle.ServeHTTP(log, "cdn", cfg.Listen, h)); err != nil {
		log.Error("cdn stopped", "err", err)
		return 1
	}
	return 0
}
