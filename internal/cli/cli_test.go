package cli

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-hq/switchboard/internal/storetest"
)

// run executes the command line with a fresh environment (no SWITCHBOARD_*
// variables leak in from the machine).
func run(t *testing.T, ctx context.Context, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Run(ctx, args, "1.2.3", &out, &errOut)
	return code, out.String(), errOut.String()
}

func clearEnv(t *testing.T) {
	for _, v := range []string{"DATABASE_URL", "ADDR", "PUBLIC_URL", "DATA_DIR", "ADMIN_EMAIL", "ADMIN_PASSWORD"} {
		t.Setenv("SWITCHBOARD_"+v, "")
	}
}

func TestEveryCommandHasHelp(t *testing.T) {
	clearEnv(t)
	for _, args := range [][]string{{"serve", "--help"}, {"migrate", "--help"}, {"admin", "create", "--help"}, {"admin", "reset-password", "--help"}, {"--help"}} {
		code, _, stderr := run(t, context.Background(), args...)
		if code != 0 || !strings.Contains(stderr, "Usage: switchboard") {
			t.Errorf("%v: exit %d, help %q", args, code, stderr)
		}
	}
	if code, out, _ := run(t, context.Background(), "help"); code != 0 || !strings.Contains(out, "switchboard migrate") {
		t.Errorf("help: %d %q", code, out)
	}
	if code, out, _ := run(t, context.Background(), "version"); code != 0 || out != "switchboard 1.2.3\n" {
		t.Errorf("version: %d %q", code, out)
	}
	if code, _, stderr := run(t, context.Background(), "frobnicate"); code != 2 || !strings.Contains(stderr, "unknown command") {
		t.Errorf("unknown command: %d %q", code, stderr)
	}
	if code, _, _ := run(t, context.Background(), "serve", "--no-such-flag"); code != 2 {
		t.Errorf("unknown flag: exit %d, want 2", code)
	}
}

func TestAdminCommandsOnBothEngines(t *testing.T) {
	clearEnv(t)
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			db := []string{"--database-url", e.URL, "--data-dir", t.TempDir()}
			if code, out, stderr := run(t, ctx, append([]string{"migrate"}, db...)...); code != 0 || !strings.Contains(out, "up to date") {
				t.Fatalf("migrate: %d %q %q", code, out, stderr)
			}
			code, out, stderr := run(t, ctx, append([]string{"admin", "create", "--email", "Boss@Example.com", "--name", "Boss"}, db...)...)
			if code != 0 || !strings.Contains(out, "Created the administrator boss@example.com") || !strings.Contains(out, "one-time password") {
				t.Fatalf("admin create: %d %q %q", code, out, stderr)
			}
			if code, _, stderr := run(t, ctx, append([]string{"admin", "create", "--email", "boss@example.com"}, db...)...); code != 1 || !strings.Contains(stderr, "already exists") {
				t.Errorf("creating the same admin twice: %d %q", code, stderr)
			}
			code, out, _ = run(t, ctx, append([]string{"admin", "reset-password", "--email", "boss@example.com", "--password", "a-new-password"}, db...)...)
			if code != 0 || !strings.Contains(out, "was reset") || strings.Contains(out, "a-new-password") {
				t.Errorf("reset-password: %d %q", code, out)
			}
			if code, _, stderr := run(t, ctx, append([]string{"admin", "reset-password", "--email", "nobody@example.com"}, db...)...); code != 1 || !strings.Contains(stderr, "not found") {
				t.Errorf("reset for an unknown agent: %d %q", code, stderr)
			}
			if code, _, _ := run(t, ctx, append([]string{"admin", "reset-password"}, db...)...); code != 2 {
				t.Errorf("reset without --email: exit %d, want 2", code)
			}
		})
	}
}

func TestServeStartsAndStopsOnSignal(t *testing.T) {
	clearEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var out, errOut bytes.Buffer
	go func() {
		done <- Run(ctx, []string{"serve", "--addr", addr, "--data-dir", dir, "--admin-email", "first@example.com"}, "test", &out, &errOut)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := http.Get("http://" + addr + "/readyz")
		if err == nil && res.StatusCode == 200 {
			res.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server never became ready: %v\n%s", err, errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d: %s", code, errOut.String())
	}
	for _, want := range []string{"Created the administrator first@example.com", "one-time password", filepath.Join(dir, "switchboard.db"), "Open http://" + addr} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("start-up output lacks %q:\n%s", want, out.String())
		}
	}
}
