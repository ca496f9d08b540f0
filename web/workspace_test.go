package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/switchboard-hq/switchboard/internal/access"
	"github.com/switchboard-hq/switchboard/internal/app"
	"github.com/switchboard-hq/switchboard/internal/browsertest"
	"github.com/switchboard-hq/switchboard/internal/config"
	"github.com/switchboard-hq/switchboard/internal/storetest"
	"github.com/switchboard-hq/switchboard/internal/team"
)

func TestMain(m *testing.M) { browsertest.Main(m) }

// server is a real Switchboard on SQLite behind a real HTTP server.
type server struct {
	url string
	app *app.App
}

// startServer starts it; options change the configuration (e.g. point a
// messenger's API at a fake).
func startServer(t *testing.T, options ...func(*config.Config)) server {
	t.Helper()
	cfg := config.Config{
		DatabaseURL: storetest.SQLite(t).URL, DataDir: t.TempDir(),
		AdminEmail: "admin@example.com", AdminPassword: "admin-password",
		SessionLifetime: time.Hour, SessionIdle: time.Hour, SQLiteSynchronous: "NORMAL",
	}
	for _, o := range options {
		o(&cfg)
	}
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "test", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a.Start(ctx)
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(func() { srv.Close(); cancel(); a.Wait(); a.Close() })
	return server{url: srv.URL, app: a}
}

// do runs browser steps, each bounded in time, and fails the test on error.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	step, cancel := browsertest.Step(ctx)
	defer cancel()
	if err := chromedp.Do(step, steps...); err != nil {
		screenshot(t, ctx, what)
		t.Fatalf("%s: %v", what, err)
	}
}

// screenshot saves the page when a step fails (or when SWITCHBOARD_SCREENSHOTS
// names a folder), so a failure can be looked at.
func screenshot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("SWITCHBOARD_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	step, cancel := browsertest.Step(ctx)
	defer cancel()
	if png, err := chromedp.Run(step, chromedp.FullScreenshot(100)); err == nil {
		path := filepath.Join(dir, t.Name()+"-"+name+".png")
		os.MkdirAll(filepath.Dir(path), 0o755)
		os.WriteFile(path, png, 0o644)
		t.Logf("screenshot: %s", path)
	}
}

func login(t *testing.T, ctx context.Context, url, email, password string) {
	t.Helper()
	do(t, ctx, "log in as "+email,
		chromedp.Navigate(url+"/"),
		chromedp.WaitVisible(chromedp.CSS("#login-email")),
		chromedp.SendKeys(chromedp.CSS("#login-email"), email),
		chromedp.SendKeys(chromedp.CSS("#login-password"), password),
		chromedp.Click(chromedp.CSS("#login-submit")),
		chromedp.WaitVisible(chromedp.CSS("#logout")),
	)
}

// navigation returns the data-nav keys of the sidebar links, in order.
func navigation(t *testing.T, ctx context.Context) []string {
	t.Helper()
	step, cancel := browsertest.Step(ctx)
	defer cancel()
	keys, err := chromedp.Run(step, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#nav a[data-nav]')].map(a => a.dataset.nav)`))
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func TestAdministratorSetsUpAnAgentWhoSeesExactlyWhatTheRightsAllow(t *testing.T) {
	srv := startServer(t)
	admin := browsertest.Window(t)
	login(t, admin, srv.url, "admin@example.com", "admin-password")
	if got, want := navigation(t, admin), []string{"management", "unassigned", "all", "chat", "facebook", "vk", "viber", "ok", "telegram", "instagram", "whatsapp", "classic", "settings", "admin"}; !slices.Equal(got, want) {
		t.Errorf("administrator's navigation = %v, want %v", got, want)
	}

	do(t, admin, "create an agent",
		chromedp.Navigate(srv.url+"/#/admin/agents"),
		chromedp.WaitVisible(chromedp.CSS("#agent-email")),
		chromedp.SendKeys(chromedp.CSS("#agent-email"), "anna@example.com"),
		chromedp.SendKeys(chromedp.CSS("#agent-name"), "Anna Petrova"),
		chromedp.SendKeys(chromedp.CSS("#agent-password"), "anna-password"),
		chromedp.Click(chromedp.CSS("#agent-create")),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-agent-email="anna@example.com"]`)),
	)
	anna, err := srv.app.Team.AgentByEmail(context.Background(), access.System, "anna@example.com")
	if err != nil || anna.Name != "Anna Petrova" {
		t.Fatalf("the agent created in the browser is not stored: %+v %v", anna, err)
	}

	do(t, admin, "create a group with rights",
		chromedp.Navigate(srv.url+"/#/admin/groups"),
		chromedp.WaitVisible(chromedp.CSS("#group-name")),
		chromedp.SendKeys(chromedp.CSS("#group-name"), "First line"),
		chromedp.Click(chromedp.CSS(`input[name=right][value="omnichannel"]`)),
		chromedp.Click(chromedp.CSS(`input[name=right][value="omnichannel.unassigned"]`)),
		chromedp.Click(chromedp.CSS(`input[name=member][value="`+strconv.FormatInt(anna.ID, 10)+`"]`)),
		chromedp.Click(chromedp.CSS("#group-save")),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-group-name="First line"]`)),
		chromedp.Click(chromedp.CSS("#logout")),
		chromedp.WaitVisible(chromedp.CSS("#login-email")),
	)

	agent := browsertest.Window(t)
	login(t, agent, srv.url, "anna@example.com", "anna-password")
	if got, want := navigation(t, agent), []string{"unassigned", "all", "chat", "facebook", "vk", "viber", "ok", "telegram", "instagram", "whatsapp", "classic"}; !slices.Equal(got, want) {
		t.Errorf("agent with omnichannel + unassigned sees %v, want %v", got, want)
	}

	// The operator-status switch stores the status for everyone to see.
	do(t, agent, "go online",
		chromedp.WaitVisible(chromedp.CSS("#presence")),
		chromedp.SetValue(chromedp.CSS("#presence"), "online"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#presence').dispatchEvent(new Event('change', {bubbles: true}))`),
	)
	waitFor(t, "the agent's status to be stored as online", func() bool {
		a, err := srv.app.Team.Agent(context.Background(), access.System, anna.ID)
		return err == nil && a.Presence == team.Online
	})

	// A section the rights do not allow says so instead of showing anything.
	do(t, agent, "open Settings by its address",
		chromedp.Navigate(srv.url+"/#/settings"),
		chromedp.WaitVisible(chromedp.CSS("#forbidden")),
	)
}

func TestAgentWithoutTheOmnichannelRightSeesNoModule(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	// Sub-rights without omnichannel grant nothing.
	bob, _, err := srv.app.Team.CreateAgent(ctx, access.System, team.NewAgent{Email: "bob@example.com", Name: "Bob", Password: "bob-password"})
	if err != nil {
		t.Fatal(err)
	}
	rights := []access.Right{access.Management, access.Settings, access.Unassigned}
	name, members := "Orphan rights", []int64{bob.ID}
	if _, err := srv.app.Team.CreateGroup(ctx, access.System, team.GroupPatch{Name: &name, Rights: &rights, MemberIDs: &members}); err != nil {
		t.Fatal(err)
	}
	window := browsertest.Window(t)
	login(t, window, srv.url, "bob@example.com", "bob-password")
	do(t, window, "see the no-access message", chromedp.WaitVisible(chromedp.CSS("#no-access")))
	if got := navigation(t, window); len(got) != 0 {
		t.Errorf("an agent without omnichannel sees %v", got)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
