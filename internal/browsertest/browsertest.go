// Package browsertest drives Debian's Chromium headless from Go tests. One
// browser is started per test binary and shared by all of its tests; each
// Window is an isolated browser context with its own cookies, like a second
// person on another computer.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ExecPath is where Debian installs Chromium (`apt-get install chromium`).
const ExecPath = "/usr/bin/chromium"

var (
	once       sync.Once
	browserCtx context.Context
	stop       context.CancelFunc
	startErr   error
)

func start(userDataDir string) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(ExecPath),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(userDataDir),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	// The first Do starts the browser; no timeout on it, since a cancelled
	// first context kills the browser.
	if err := chromedp.Do(ctx); err != nil {
		startErr = err
	}
	browserCtx = ctx
	stop = func() {
		cancelBrowser()
		cancelAlloc()
		os.RemoveAll(userDataDir)
	}
}

// Main runs the tests of a package and closes the shared browser after them.
// Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if stop != nil {
		stop()
	}
	os.Exit(code)
}

// Window returns a context for a new isolated browser window, closed when the
// test ends, with a per-step timeout. Without Chromium the test is skipped
// locally and fails under CI.
func Window(t *testing.T) context.Context {
	t.Helper()
	if _, err := exec.LookPath(ExecPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Chromium is missing at %s: browser tests may not be skipped in CI", ExecPath)
		}
		t.Skipf("browser test skipped: Chromium is not installed at %s (apt-get install chromium)", ExecPath)
	}
	once.Do(func() {
		dir, err := os.MkdirTemp("", "switchboard-chromium-")
		if err != nil {
			startErr = err
			return
		}
		start(dir)
	})
	if startErr != nil {
		t.Fatalf("start Chromium: %v", startErr)
	}
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	// Open the tab now, outside any step timeout, which would close it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a browser window: %v", err)
	}
	return ctx
}

// Step bounds one browser step so that a missing element fails the test
// instead of hanging it.
func Step(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, 10*time.Second)
}
