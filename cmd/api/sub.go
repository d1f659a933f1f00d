package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/marquee-party/marquee/api"
	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/internal/cli"
	"github.com/marquee-party/marquee/library"
	"github.com/marquee-party/marquee/library/scanbench"
)

// runScan scans one folder from the command line with a progress bar,
// using the same database as the server (data_dir and the other keys).
func runScan(args []string) int {
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	kind := fs.String("kind", "", "library kind of a new library: movies, shows or music")
	name := fs.String("name", "", "name of a new library (default: the folder name)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: api scan --kind movies|shows|music [--name N] <folder> [-- api flags such as --data_dir or --dev]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitFlag(err)
	}
	if fs.NArg() < 1 {
		fs.Usage()
		return 2
	}
	cfg, log, err := loadConfig(os.Stderr, "api scan", "Scan a library folder into the database.", trimDashes(fs.Args()[1:]))
	if err != nil {
		return cli.Exit(os.Stderr, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	db, err := openStore(ctx, cfg.DataDir, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer db.Close()
	lib, err := library.New(library.Params{DB: db, DataDir: cfg.DataDir, Logger: log})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	err = library.RunScanCLI(ctx, os.Stdout, library.ScanCLIParams{Service: lib, Path: fs.Arg(0),
		Kind: library.Kind(*kind), Name: *name, Workers: cfg.Library.Workers})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// runBench times a first and an incremental scan of a generated library.
func runBench(args []string) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var p scanbench.Params
	fs.IntVar(&p.Files, "files", 2000, "files in the generated library")
	fs.IntVar(&p.Clips, "clips", 5, "real clips among them (the rest are stubs)")
	fs.IntVar(&p.Runs, "runs", 3, "runs; medians are printed")
	fs.IntVar(&p.Workers, "workers", 0, "probe workers (0: one per CPU)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: api bench [flags]: library scan figures, one line each, medians")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitFlag(err)
	}
	if err := scanbench.Run(context.Background(), os.Stdout, p); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// runLoginLink mints a one-time login link for an account (e.g. when the
// first-start link was lost) and prints it on stdout.
func runLoginLink(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("login-link", flag.ContinueOnError)
	fs.SetOutput(stderr)
	user := fs.String("user", "admin", "username")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: api login-link [--user NAME] [-- api flags such as --data_dir, --public_url or --dev]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitFlag(err)
	}
	cfg, log, err := loadConfig(stderr, "api login-link", "Print a one-time login link.", trimDashes(fs.Args()))
	if err != nil {
		return cli.Exit(stderr, err)
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "marquee.db")); err != nil {
		fmt.Fprintf(stderr, "login-link: no database in data_dir %q (%v): start the API once (./scripts/run.sh), or pass the server's data_dir: api login-link --user NAME -- --data_dir DIR\n", cfg.DataDir, err)
		return 1
	}
	ctx := context.Background()
	db, err := openStore(ctx, cfg.DataDir, log)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer db.Close()
	accounts := auth.New(db, auth.Config{})
	users, err := accounts.Users(ctx)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	for _, u := range users {
		if u.Username == *user {
			secret, err := accounts.CreateLoginLink(ctx, u.ID, api.LoginLinkTTL)
			if err != nil {
				fmt.Fprintln(stderr, err)
				return 1
			}
			fmt.Fprintln(stdout, api.LoginURL(cfg.PublicURL, secret))
			return 0
		}
	}
	fmt.Fprintf(stderr, "login-link: no user %q in %s\n", *user, filepath.Join(cfg.DataDir, "marquee.db"))
	return 1
}

// trimDashes drops a "--" separating sub-command flags from api flags.
func trimDashes(args []string) []string {
	if len(args) > 0 && args[0] == "--" {
		return args[1:]
	}
	return args
}

func exitFlag(err error) int {
	if err == flag.ErrHelp {
		return 0
	}
	return 2
}
