// Command loadgen drives a running Switchboard on loopback with inbound
// messages and agent websockets, and prints latency, throughput, errors and
// server memory. See internal/loadgen.
//
//	go run ./cmd/loadgen --url http://127.0.0.1:8080 --admin-email admin@example.com \
//	    --admin-password admin-password --rate 1000 --concurrency 64 --clients 1000 \
//	    --new-every 10 --agents 20 --duration 30s
//
// "loadgen seed" fills an empty database with a busy floor (1,000,000
// requests, 10,000 open) and "loadgen floor" times the Management views of a
// server running on it:
//
//	go run ./cmd/loadgen seed --database-url ./data/floor.db --requests 1000000
//	go run ./cmd/switchboard --database-url ./data/floor.db &
//	go run ./cmd/loadgen floor --url http://127.0.0.1:8080 --samples 200
//
// "loadgen sockets" holds idle website-visitor websockets instead and
// reports the server's memory per socket:
//
//	go run ./cmd/loadgen sockets --url http://127.0.0.1:8080 --sockets 10000 --hold 40s
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/switchboard-hq/switchboard/internal/loadgen"
)

const defaultDuration = 30 * time.Second

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "sockets":
			sockets(os.Args[2:])
			return
		case "seed":
			seed(os.Args[2:])
			return
		case "floor":
			floor(os.Args[2:])
			return
		}
	}
	var cfg loadgen.Config
	fs := flag.NewFlagSet("loadgen", flag.ExitOnError)
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8080", "base URL of the running server (loopback only)")
	fs.StringVar(&cfg.AdminEmail, "admin-email", os.Getenv("SWITCHBOARD_ADMIN_EMAIL"), "administrator email [SWITCHBOARD_ADMIN_EMAIL]")
	fs.StringVar(&cfg.AdminPassword, "admin-password", os.Getenv("SWITCHBOARD_ADMIN_PASSWORD"), "administrator password [SWITCHBOARD_ADMIN_PASSWORD]")
	fs.Float64Var(&cfg.Rate, "rate", 1000, "inbound messages per second (open loop); 0 = as fast as possible")
	fs.IntVar(&cfg.Concurrency, "concurrency", 64, "requests in flight at most")
	fs.IntVar(&cfg.Clients, "clients", 1000, "size of the pool of client ids")
	fs.IntVar(&cfg.NewEvery, "new-every", 10, "one message in N comes from a brand-new client (a new request); 0 = never")
	fs.IntVar(&cfg.Agents, "agents", 20, "agents listening on their own websocket")
	fs.DurationVar(&cfg.Duration, "duration", 0, "length of the send phase (default 30s unless --messages is set)")
	fs.Int64Var(&cfg.Messages, "messages", 0, "number of messages to send (0 = bounded by --duration only)")
	fs.DurationVar(&cfg.DrainTimeout, "drain", 0, "wait at most this long after sending for the sockets to catch up (default 10s)")
	fs.Uint64Var(&cfg.Seed, "seed", 0, "seed of the client choice (0 = random)")
	quiet := fs.Bool("quiet", false, "no progress lines on stderr")
	_ = fs.Parse(os.Args[1:])
	if cfg.Duration == 0 && cfg.Messages == 0 {
		cfg.Duration = defaultDuration
	}
	if !*quiet {
		cfg.Progress = os.Stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := loadgen.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	rep.Print(os.Stdout)
}

func sockets(args []string) {
	var cfg loadgen.SocketsConfig
	fs := flag.NewFlagSet("loadgen sockets", flag.ExitOnError)
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8080", "base URL of the running server (loopback only; start it with SWITCHBOARD_WIDGET_RATE_PER_IP=100000)")
	fs.StringVar(&cfg.AdminEmail, "admin-email", os.Getenv("SWITCHBOARD_ADMIN_EMAIL"), "administrator email [SWITCHBOARD_ADMIN_EMAIL]")
	fs.StringVar(&cfg.AdminPassword, "admin-password", os.Getenv("SWITCHBOARD_ADMIN_PASSWORD"), "administrator password [SWITCHBOARD_ADMIN_PASSWORD]")
	fs.IntVar(&cfg.Sockets, "sockets", 10000, "visitor websockets to hold open")
	fs.DurationVar(&cfg.Hold, "hold", 40*time.Second, "how long to hold them (longer than the server's 30 s ping interval)")
	fs.IntVar(&cfg.Concurrency, "concurrency", 64, "visitors started and sockets dialled at once")
	quiet := fs.Bool("quiet", false, "no progress lines on stderr")
	_ = fs.Parse(args)
	if !*quiet {
		cfg.Progress = os.Stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := loadgen.RunSockets(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	rep.Print(os.Stdout)
}

func seed(args []string) {
	cfg := loadgen.SeedConfig{Progress: os.Stderr}
	fs := flag.NewFlagSet("loadgen seed", flag.ExitOnError)
	fs.StringVar(&cfg.DatabaseURL, "database-url", "", "the empty database to fill (a SQLite file path or postgres://…)")
	fs.IntVar(&cfg.Requests, "requests", 1_000_000, "requests to store (10,000 of them open)")
	fs.IntVar(&cfg.Agents, "agents", 50, "agents on the floor")
	fs.IntVar(&cfg.Days, "days", 365, "spread the requests over this many days before now")
	fs.StringVar(&cfg.AdminEmail, "admin-email", "admin@example.com", "the administrator to create")
	fs.StringVar(&cfg.AdminPassword, "admin-password", "admin-password", "their password")
	_ = fs.Parse(args)
	if cfg.DatabaseURL == "" || cfg.Days < 1 {
		fmt.Fprintln(os.Stderr, "loadgen seed: --database-url and --days (at least 1) are required")
		os.Exit(2)
	}
	if err := loadgen.Seed(context.Background(), cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func floor(args []string) {
	fs := flag.NewFlagSet("loadgen floor", flag.ExitOnError)
	url := fs.String("url", "http://127.0.0.1:8080", "base URL of the running server (loopback only)")
	email := fs.String("admin-email", "admin@example.com", "administrator email")
	password := fs.String("admin-password", "admin-password", "administrator password")
	samples := fs.Int("samples", 200, "calls per endpoint")
	_ = fs.Parse(args)
	rep, err := loadgen.MeasureFloor(context.Background(), *url, *email, *password, *samples)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	rep.Print(os.Stdout)
}
