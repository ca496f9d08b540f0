// Package cli is the switchboard command line: serve, migrate, admin and
// version, each with --help. main only calls Run.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/switchboard-hq/switchboard/internal/access"
	"github.com/switchboard-hq/switchboard/internal/app"
	"github.com/switchboard-hq/switchboard/internal/config"
	"github.com/switchboard-hq/switchboard/internal/team"
)

const usage = `Switchboard — omnichannel live-chat helpdesk.

Usage:
  switchboard [serve] [flags]        start the server (the default command)
  switchboard migrate [flags]        apply pending database migrations and exit
  switchboard admin create [flags]   create an administrator
  switchboard admin reset-password [flags]
                                     set a new password for an agent
  switchboard version                print the version

Every flag can also be set with its SWITCHBOARD_* environment variable;
run "switchboard COMMAND --help" for the flags of a command.
`

// Run executes the command line args (without the program name) and returns
// the process exit code.
func Run(ctx context.Context, args []string, version string, stdout, stderr io.Writer) int {
	cfg, err := config.Load()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	c := &command{cfg: cfg, version: version, stdout: stdout, stderr: stderr}
	switch cmd {
	case "serve":
		err = c.serve(ctx, args)
	case "migrate":
		err = c.migrate(ctx, args)
	case "admin":
		err = c.admin(ctx, args)
	case "version":
		fmt.Fprintln(stdout, "switchboard", version)
	case "help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintln(stderr, "switchboard:", err)
		return 1
	}
}

var errUsage = errors.New("usage")

type command struct {
	cfg     config.Config
	version string
	stdout  io.Writer
	stderr  io.Writer
}

// flags returns a flag set for a subcommand whose --help explains it.
func (c *command) flags(name, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "Usage: switchboard %s [flags]\n\n%s\n\nFlags:\n", name, summary)
		fs.PrintDefaults()
	}
	return fs
}

func (c *command) parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(c.stderr, "unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	return nil
}

func (c *command) logger() *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(c.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(c.stderr, opts))
}

func (c *command) serve(ctx context.Context, args []string) error {
	fs := c.flags("serve", "Start the Switchboard server. On first start with an empty database it creates an\nadministrator and prints its one-time password.")
	c.cfg.ServeFlags(fs)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	a, err := app.New(ctx, c.cfg, c.logger(), c.version, c.stdout)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Run(ctx, c.stdout)
}

func (c *command) migrate(ctx context.Context, args []string) error {
	fs := c.flags("migrate", "Apply pending database migrations and exit. The server also does this on start;\nconcurrent starts on PostgreSQL are safe (one migrates, the others wait).")
	c.cfg.DatabaseFlags(fs)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	db, err := app.Open(ctx, c.cfg, c.logger())
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(c.stdout, "Database %s is up to date.\n", db.Engine())
	return nil
}

func (c *command) admin(ctx context.Context, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(c.stderr, "Usage: switchboard admin create|reset-password [flags]\n")
		return errUsage
	}
	sub, args := args[0], args[1:]
	var email, name, password string
	var fs *flag.FlagSet
	switch sub {
	case "create":
		fs = c.flags("admin create", "Create an administrator. Without --password a password is generated and printed once.")
		fs.StringVar(&name, "name", "Administrator", "display name")
	case "reset-password":
		fs = c.flags("admin reset-password", "Set a new password for an agent and end all of its sessions. Without\n--password a password is generated and printed once.")
	default:
		fmt.Fprintf(c.stderr, "unknown admin command %q: use create or reset-password\n", sub)
		return errUsage
	}
	fs.StringVar(&email, "email", "", "the agent's email (required)")
	fs.StringVar(&password, "password", "", "the new password (at least 8 characters)")
	c.cfg.DatabaseFlags(fs)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if email == "" {
		fmt.Fprintln(c.stderr, "--email is required")
		fs.Usage()
		return errUsage
	}
	a, err := app.New(ctx, c.cfg, c.logger(), c.version, io.Discard)
	if err != nil {
		return err
	}
	defer a.Close()
	if sub == "create" {
		agent, generated, err := a.Team.CreateAgent(ctx, access.System, team.NewAgent{Email: email, Name: name, Password: password, Admin: true})
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "Created the administrator %s.\n", agent.Email)
		if generated != "" {
			fmt.Fprintf(c.stdout, "Its one-time password is: %s\n", generated)
		}
		return nil
	}
	agent, err := a.Team.AgentByEmail(ctx, access.System, email)
	if err != nil {
		return err
	}
	newPassword, err := a.Team.ResetPassword(ctx, access.System, agent.ID, password)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "The password of %s was reset; all of its sessions have ended.\n", agent.Email)
	if password == "" {
		fmt.Fprintf(c.stdout, "The new password is: %s\n", newPassword)
	}
	return nil
}
