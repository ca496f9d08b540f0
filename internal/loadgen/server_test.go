package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The real server binary is built once per test run (without -race, even
// when the tests run with it) into a temporary directory removed at the end.
var (
	binDir   string
	buildMu  sync.Mutex
	binPath  string
	buildErr error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

const (
	adminEmail    = "admin@example.com"
	adminPassword = "admin-password"
)

// serverBinary builds ./cmd/switchboard on first use.
func serverBinary(t *testing.T) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if binPath == "" && buildErr == nil {
		binPath, buildErr = build()
	}
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func build() (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		if root := os.Getenv("GOROOT"); root != "" {
			goTool = filepath.Join(root, "bin", "go")
		} else {
			return "", fmt.Errorf("no go tool to build the server: %w", err)
		}
	}
	if binDir, err = os.MkdirTemp("", "switchboard-loadgen-"); err != nil {
		return "", err
	}
	out := filepath.Join(binDir, "switchboard")
	cmd := exec.Command(goTool, "build", "-o", out, "github.com/switchboard-hq/switchboard/cmd/switchboard")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the server: %v\n%s", err, msg)
	}
	return out, nil
}

// server is a running switchboard process on loopback.
type server struct {
	URL    string
	cmd    *exec.Cmd
	exited chan struct{}
	out    *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// startServer runs the server on a free loopback port over the database and
// data dir, and waits until /readyz answers 200. The process is killed when
// the test ends if it still runs.
func startServer(t *testing.T, databaseURL, dataDir string) *server {
	t.Helper()
	bin := serverBinary(t)
	for attempt := 1; ; attempt++ {
		s, err := tryStart(bin, databaseURL, dataDir)
		if err == nil {
			t.Cleanup(s.Kill)
			return s
		}
		// Another process may take the free port between our probe and the
		// server's listen; try another one.
		if attempt < 3 && strings.Contains(err.Error(), "address already in use") {
			continue
		}
		t.Fatalf("start the server: %v", err)
	}
}

func tryStart(bin, databaseURL, dataDir string) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "serve", "--addr", addr, "--data-dir", dataDir, "--database-url", databaseURL,
		"--admin-email", adminEmail, "--admin-password", adminPassword, "--log-level", "warn")
	// Only the flags configure it: no SWITCHBOARD_* setting of the caller leaks in.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SWITCHBOARD_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	s := &server{URL: "http://" + addr, cmd: cmd, exited: make(chan struct{}), out: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = s.out, s.out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		_ = cmd.Wait()
		close(s.exited)
	}()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return nil, fmt.Errorf("the server exited before it was ready:\n%s", s.out)
		default:
		}
		if resp, err := client.Get(s.URL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	s.Kill()
	return nil, fmt.Errorf("the server was not ready within a minute:\n%s", s.out)
}

// Kill sends SIGKILL and waits for the process to be gone.
func (s *server) Kill() {
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// login returns an HTTP session logged in as email.
func login(ctx context.Context, t *testing.T, s *server, transport http.RoundTripper, email, password string) *Session {
	t.Helper()
	sess, err := NewSession(s.URL, transport)
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Login(ctx, email, password); err != nil {
		t.Fatalf("log in as %s: %v", email, err)
	}
	return sess
}
