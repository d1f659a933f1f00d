// Command sfu is Marquee's selective forwarding unit. It speaks LiveKit's
// signalling protocol so the stock LiveKit clients work against it.
package main

import (
	"context"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/marquee-party/marquee/internal/cli"
	"github.com/marquee-party/marquee/internal/config"
	"github.com/marquee-party/marquee/internal/lifecycle"
	"github.com/marquee-party/marquee/internal/obs"
	"github.com/marquee-party/marquee/internal/sfubench"
	"github.com/marquee-party/marquee/rooms"
)

const summary = `Marquee's SFU: LiveKit signalling on /rtc (two peer connections) and
/rtc/v1 (one), LiveKit's Twirp RoomService under /twirp, media on one muxed
UDP port. --dev binds 127.0.0.1 with the key pair devkey/secret.
"sfu bench --help" describes the load benchmark sub-command.`

func main() {
	if len(os.Args) > 1 && os.Args[1] == "bench" {
		// `sfu bench`: run this SFU in a child process under load (see --help).
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := sfubench.Main(ctx, os.Args[2:], os.Stdout)
		stop()
		os.Exit(code)
	}
	os.Exit(run())
}

func run() int {
	cfg := defaultConfig()
	log, loaded, err := cli.Start(os.Stderr, &cfg, &cfg.Log, config.Options{Name: "sfu", Summary: summary, Dev: applyDev}, os.Args[1:])
	if err != nil {
		return cli.Exit(os.Stderr, err)
	}
	reg := obs.NewRegistry()
	srv, err := rooms.NewServer(rooms.Params{Config: cfg.SFU, Logger: log, Registerer: reg})
	if err != nil {
		log.Error("start sfu", "err", err)
		return 1
	}
	mux := http.NewServeMux()
	obs.Mount(mux, reg, obs.NewReadiness())
	mux.Handle("/", srv)
	log.Info("sfu starting", "listen", cfg.Listen, "udp_port", cfg.SFU.RTC.UDPPort, "turn", cfg.SFU.TURN.Enabled, "dev", loaded.Dev)
	err = lifecycle.Run(context.Background(), log, os.Exit,
		lifecycle.ServeHTTP(log, "sfu", cfg.Listen, mux), srv.Run)
	if err != nil {
		log.Error("sfu stopped", "err", err)
		return 1
	}
	return 0
}
