package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-hq/switchboard/internal/app"
	"github.com/switchboard-hq/switchboard/internal/config"
	"github.com/switchboard-hq/switchboard/internal/storetest"
)

const (
	adminEmail    = "admin@example.com"
	adminPassword = "admin-password"
)

// env is a real Switchboard (real store, real router) behind a real HTTP server.
type env struct {
	t       testing.TB
	srv     *httptest.Server
	app     *app.App
	dataDir string
}

func newEnv(t testing.TB, e storetest.Engine) *env {
	t.Helper()
	dataDir := t.TempDir()
	cfg := config.Config{
		DatabaseURL: e.URL, DataDir: dataDir, AdminEmail: adminEmail, AdminPassword: adminPassword,
		SessionLifetime: time.Hour, SessionIdle: time.Hour, SQLiteSynchronous: "NORMAL",
	}
	log := slog.New(slog.NewTextHandler(testLogOutput(), nil))
	a, err := app.New(context.Background(), cfg, log, "test", io.Discard)
	if err != nil {
		t.Fatalf("start app on %s: %v", e.Name, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a.Start(ctx)
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(func() {
		srv.Close()
		cancel()
		a.Wait()
		a.Close()
	})
	return &env{t: t, srv: srv, app: a, dataDir: dataDir}
}

// eachEngine runs fn against a fresh server on every engine.
func eachEngine(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) { fn(t, newEnv(t, eng)) })
	}
}

// client is one browser: its own cookie jar.
type client struct {
	e    *env
	http *http.Client
}

func (e *env) anonymous() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, http: &http.Client{Jar: jar}}
}

func (e *env) login(email, password string) *client {
	e.t.Helper()
	c := e.anonymous()
	res := c.call("POST", "/api/v1/auth/login", map[string]string{"email": email, "password": password})
	if res.status != http.StatusOK {
		e.t.Fatalf("login %s: %d %s", email, res.status, res.body)
	}
	return c
}

func (e *env) admin() *client { return e.login(adminEmail, adminPassword) }

type response struct {
	status int
	body   []byte
	header http.Header
}

// decode reads the JSON answer into v.
func (r response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// errorCode returns error.code of an error answer.
func (r response) errorCode() (code, field string) {
	var b struct {
		Error struct{ Code, Field string }
	}
	_ = json.Unmarshal(r.body, &b)
	return b.Error.Code, b.Error.Field
}

// raw is a request body sent as is, with its content type.
type raw struct {
	contentType string
	data        []byte
}

// call sends body as JSON (or raw bytes, or a string of JSON) and returns the answer.
func (c *client) call(method, path string, body any, header ...string) response {
	c.e.t.Helper()
	var rd io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case raw:
		rd, contentType = bytes.NewReader(b.data), b.contentType
	case string:
		rd, contentType = strings.NewReader(b), "application/json"
	default:
		data, err := json.Marshal(b)
		if err != nil {
			c.e.t.Fatal(err)
		}
		rd, contentType = bytes.NewReader(data), "application/json"
	}
	req, err := http.NewRequest(method, c.e.srv.URL+path, rd)
	if err != nil {
		c.e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, body: data, header: res.Header}
}

// create posts body to path as c and returns the id of what was created.
func (c *client) create(path string, body any) int64 {
	c.e.t.Helper()
	res := c.call("POST", path, body)
	if res.status != http.StatusCreated {
		c.e.t.Fatalf("POST %s: %d %s", path, res.status, res.body)
	}
	var out struct {
		ID      int64
		Agent   struct{ ID int64 }
		Channel struct{ ID int64 }
	}
	res.decode(c.e.t, &out)
	return max(out.ID, out.Agent.ID, out.Channel.ID)
}

// createChannel connects an api channel and returns its id and token.
func createChannel(t testing.TB, admin *client, name string) (int64, string) {
	t.Helper()
	res := admin.call("POST", "/api/v1/channels", map[string]string{"kind": "api", "name": name})
	var out struct {
		Channel struct{ ID int64 }
		Token   string
	}
	res.decode(t, &out)
	if res.status != 201 || out.Token == "" {
		t.Fatalf("create channel: %d %s", res.status, res.body)
	}
	return out.Channel.ID, out.Token
}

// ingest posts a client message to an api channel and returns the request
// and message ids. A file (raw with data) is attached when given.
func ingest(t testing.TB, e *env, channel int64, token, sender, text string, file raw) (conversation, message int64) {
	t.Helper()
	body := map[string]any{"message_id": fmt.Sprintf("%s-%d", sender, counter()), "sender": map[string]string{"id": sender, "name": "Client " + sender}, "text": text}
	if len(file.data) > 0 {
		body["attachments"] = []map[string]string{{"filename": "photo.png", "data": base64.StdEncoding.EncodeToString(file.data)}}
	}
	res := e.anonymous().call("POST", fmt.Sprintf("/api/v1/channels/%d/inbound", channel), body, "Authorization", "Bearer "+token)
	var out struct {
		ConversationID int64 `json:"conversation_id"`
		MessageID      int64 `json:"message_id"`
	}
	res.decode(t, &out)
	if res.status != 200 {
		t.Fatalf("ingest: %d %s", res.status, res.body)
	}
	return out.ConversationID, out.MessageID
}

// pngBytes is a valid 1×1 PNG.
var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

// testLogOutput shows server logs when SWITCHBOARD_TEST_LOGS is set.
func testLogOutput() io.Writer {
	if os.Getenv("SWITCHBOARD_TEST_LOGS") != "" {
		return os.Stderr
	}
	return io.Discard
}
