// Command switchboard runs the Switchboard helpdesk server and its admin commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/switchboard-hq/switchboard/internal/cli"
)

// version is set at release build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], version, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
