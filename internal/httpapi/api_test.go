package httpapi_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestBadInputIsRefusedWithAReasonAndChangesNothing(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		admin := e.admin()
		admin.create("/api/v1/agents", map[string]string{"email": "taken@example.com", "name": "Taken"})
		cases := []struct {
			name, method, path string
			body               any
			status             int
			code, field        string
		}{
			{"malformed JSON", "POST", "/api/v1/agents", `{"email":`, 400, "bad_request", ""},
			{"empty body", "POST", "/api/v1/agents", raw{"application/json", nil}, 400, "bad_request", ""},
			{"unknown field", "POST", "/api/v1/agents", `{"email":"a@example.com","name":"A","role":"boss"}`, 400, "bad_request", "role"},
			{"wrong type", "POST", "/api/v1/agents", `{"email":"a@example.com","name":42}`, 400, "bad_request", "name"},
			{"trailing data", "POST", "/api/v1/agents", `{"email":"a@example.com","name":"A"} {}`, 400, "bad_request", ""},
			{"not JSON at all", "POST", "/api/v1/agents", raw{"text/plain", []byte("hello")}, 415, "unsupported_media_type", ""},
			{"body too large", "POST", "/api/v1/agents", raw{"application/json", bytes.Repeat([]byte(" "), 2<<20)}, 413, "too_large", ""},
			{"invalid email", "POST", "/api/v1/agents", map[string]string{"email": "not-an-email", "name": "A"}, 422, "validation_failed", "email"},
			{"email with a display name", "POST", "/api/v1/agents", map[string]string{"email": "Anna <a@example.com>", "name": "A"}, 422, "validation_failed", "email"},
			{"over-long email", "POST", "/api/v1/agents", map[string]string{"email": strings.Repeat("a", 250) + "@example.com", "name": "A"}, 422, "validation_failed", "email"},
			{"missing name", "POST", "/api/v1/agents", map[string]string{"email": "a@example.com"}, 422, "validation_failed", "name"},
			{"over-long name", "POST", "/api/v1/agents", map[string]string{"email": "a@example.com", "name": strings.Repeat("é", 101)}, 422, "validation_failed", "name"},
			{"short password", "POST", "/api/v1/agents", map[string]string{"email": "a@example.com", "name": "A", "password": "short"}, 422, "validation_failed", "password"},
			{"email taken, in another case", "POST", "/api/v1/agents", map[string]string{"email": "TAKEN@example.com", "name": "A"}, 409, "email_taken", "email"},
			{"unknown right", "POST", "/api/v1/groups", map[string]any{"name": "G", "rights": []string{"omnichannel", "superpowers"}}, 422, "validation_failed", "rights"},
			{"unknown member", "POST", "/api/v1/groups", map[string]any{"name": "G", "member_ids": []int{999}}, 422, "validation_failed", "member_ids"},
			{"group without a name", "POST", "/api/v1/groups", map[string]any{"rights": []string{"omnichannel"}}, 422, "validation_failed", "name"},
			{"unknown agent", "GET", "/api/v1/agents/999", nil, 404, "not_found", ""},
			{"id that is no number", "GET", "/api/v1/agents/abc", nil, 404, "not_found", ""},
			{"patch unknown group", "PATCH", "/api/v1/groups/999", map[string]string{"name": "X"}, 404, "not_found", ""},
			{"unknown presence", "PUT", "/api/v1/me/presence", map[string]string{"presence": "sleeping"}, 422, "validation_failed", "presence"},
			{"avatar that is no image", "PUT", "/api/v1/agents/1/avatar", raw{"image/png", []byte("<svg onload=alert(1)>")}, 422, "validation_failed", "avatar"},
			{"avatar over 1 MiB", "PUT", "/api/v1/agents/1/avatar", raw{"image/png", append(append([]byte{}, pngBytes...), make([]byte, 1<<20)...)}, 422, "validation_failed", "avatar"},
			{"removing your own admin flag", "PATCH", "/api/v1/agents/1", map[string]bool{"is_admin": false}, 422, "validation_failed", "is_admin"},
			{"deactivating yourself", "PATCH", "/api/v1/agents/1", map[string]bool{"active": false}, 422, "validation_failed", "active"},
			{"unknown route", "GET", "/api/v1/nothing", nil, 404, "not_found", ""},
		}
		for _, c := range cases {
			res := admin.call(c.method, c.path, c.body)
			code, field := res.errorCode()
			if res.status != c.status || code != c.code || field != c.field {
				t.Errorf("%s: got %d %s field %q, want %d %s field %q (%s)", c.name, res.status, code, field, c.status, c.code, c.field, res.body)
			}
		}
		var list struct{ Agents []any }
		admin.call("GET", "/api/v1/agents", nil).decode(t, &list)
		if len(list.Agents) != 2 {
			t.Errorf("after refused requests there are %d agents, want the 2 created before", len(list.Agents))
		}
		var groups struct{ Groups []any }
		admin.call("GET", "/api/v1/groups", nil).decode(t, &groups)
		if len(groups.Groups) != 0 {
			t.Errorf("refused group creations left %d groups", len(groups.Groups))
		}
	})
}

func TestLogin(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		admin := e.admin()
		admin.create("/api/v1/agents", map[string]string{"email": "anna@example.com", "name": "Anna", "password": "anna-password"})
		anon := e.anonymous()

		wrong := anon.call("POST", "/api/v1/auth/login", map[string]string{"email": "anna@example.com", "password": "nope-nope"})
		unknown := anon.call("POST", "/api/v1/auth/login", map[string]string{"email": "bob@example.com", "password": "nope-nope"})
		if wrong.status != 401 || string(wrong.body) != string(unknown.body) {
			t.Errorf("a wrong password (%d %s) and an unknown email (%d %s) must answer alike", wrong.status, wrong.body, unknown.status, unknown.body)
		}
		if code, _ := wrong.errorCode(); code != "invalid_credentials" {
			t.Errorf("wrong password code %q", code)
		}

		ok := anon.call("POST", "/api/v1/auth/login", map[string]string{"email": " ANNA@example.com ", "password": "anna-password"})
		if ok.status != 200 {
			t.Fatalf("login with another case of the email: %d %s", ok.status, ok.body)
		}
		cookie := ok.header.Get("Set-Cookie")
		for _, attr := range []string{"switchboard_session=", "HttpOnly", "SameSite=Lax", "Path=/"} {
			if !strings.Contains(cookie, attr) {
				t.Errorf("session cookie %q lacks %s", cookie, attr)
			}
		}
		if anon.call("GET", "/api/v1/me", nil).status != 200 {
			t.Error("the session cookie does not authenticate")
		}
		if res := anon.call("POST", "/api/v1/auth/logout", nil); res.status != 204 {
			t.Fatalf("logout: %d", res.status)
		}
		if res := anon.call("GET", "/api/v1/me", nil); res.status != 401 {
			t.Errorf("after logout /me answers %d", res.status)
		}

		// Ten failures for one account block it for a while, even with the right password.
		for i := 0; i < 10; i++ {
			anon.call("POST", "/api/v1/auth/login", map[string]string{"email": "anna@example.com", "password": fmt.Sprintf("guess-%d", i)})
		}
		res := anon.call("POST", "/api/v1/auth/login", map[string]string{"email": "anna@example.com", "password": "anna-password"})
		if code, _ := res.errorCode(); res.status != 429 || code != "rate_limited" {
			t.Errorf("after 11 failures: %d %s, want 429 rate_limited", res.status, res.body)
		}
	})
}

func TestDeactivationAndPasswordResetEndSessions(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		admin := e.admin()
		id := admin.create("/api/v1/agents", map[string]string{"email": "anna@example.com", "name": "Anna", "password": "anna-password"})
		anna := e.login("anna@example.com", "anna-password")
		path := fmt.Sprintf("/api/v1/agents/%d", id)

		if res := admin.call("PATCH", path, map[string]bool{"active": false}); res.status != 200 {
			t.Fatalf("deactivate: %d %s", res.status, res.body)
		}
		if res := anna.call("GET", "/api/v1/me", nil); res.status != 401 {
			t.Errorf("a deactivated agent's session still works: %d", res.status)
		}
		if res := e.anonymous().call("POST", "/api/v1/auth/login", map[string]string{"email": "anna@example.com", "password": "anna-password"}); res.status != 401 {
			t.Errorf("a deactivated agent can log in: %d", res.status)
		}
		var a struct {
			Active   bool
			Presence string
		}
		admin.call("GET", path, nil).decode(t, &a)
		if a.Active || a.Presence != "offline" {
			t.Errorf("deactivated agent is active=%v presence=%s", a.Active, a.Presence)
		}

		admin.call("PATCH", path, map[string]bool{"active": true})
		anna = e.login("anna@example.com", "anna-password")
		var reset struct{ Password string }
		res := admin.call("POST", path+"/password", nil)
		res.decode(t, &reset)
		if res.status != 200 || len(reset.Password) < 8 {
			t.Fatalf("reset: %d %s", res.status, res.body)
		}
		if res := anna.call("GET", "/api/v1/me", nil); res.status != 401 {
			t.Errorf("after a password reset the old session still works: %d", res.status)
		}
		anna = e.login("anna@example.com", reset.Password)

		// Changing one's own password keeps this session and ends the others.
		other := e.login("anna@example.com", reset.Password)
		if res := anna.call("PUT", "/api/v1/me/password", map[string]string{"current_password": "wrong-one", "new_password": "brand-new-pass"}); res.status != 422 {
			t.Errorf("change with a wrong current password: %d", res.status)
		}
		if res := anna.call("PUT", "/api/v1/me/password", map[string]string{"current_password": reset.Password, "new_password": "brand-new-pass"}); res.status != 204 {
			t.Fatalf("change password: %d %s", res.status, res.body)
		}
		if anna.call("GET", "/api/v1/me", nil).status != 200 || other.call("GET", "/api/v1/me", nil).status != 401 {
			t.Error("changing the password must keep this session and end the others")
		}
	})
}

func TestPresenceIsStoredAndShownToOthers(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		admin := e.admin()
		id := admin.create("/api/v1/agents", map[string]string{"email": "anna@example.com", "name": "Anna", "password": "anna-password"})
		admin.create("/api/v1/groups", map[string]any{"name": "Support", "rights": []string{"omnichannel"}, "member_ids": []int64{id}})
		anna := e.login("anna@example.com", "anna-password")
		if res := anna.call("PUT", "/api/v1/me/presence", map[string]string{"presence": "away"}); res.status != 200 {
			t.Fatalf("set presence: %d %s", res.status, res.body)
		}
		var a struct{ Presence string }
		admin.call("GET", fmt.Sprintf("/api/v1/agents/%d", id), nil).decode(t, &a)
		if a.Presence != "away" {
			t.Errorf("others see presence %q, want away", a.Presence)
		}
	})
}

func TestAvatarsAreServedPublicly(t *testing.T) {
	e := newEnv(t, sqliteEngine(t))
	admin := e.admin()
	dept := admin.create("/api/v1/departments", map[string]string{"name": "Sales", "display_name": "Sales team"})
	res := admin.call("PUT", fmt.Sprintf("/api/v1/departments/%d/avatar", dept), raw{"image/png", pngBytes})
	var d struct {
		AvatarURL string `json:"avatar_url"`
	}
	res.decode(t, &d)
	if res.status != 200 || !strings.HasPrefix(d.AvatarURL, "/avatars/") {
		t.Fatalf("upload: %d %s", res.status, res.body)
	}
	img := e.anonymous().call("GET", d.AvatarURL, nil)
	if img.status != 200 || !bytes.Equal(img.body, pngBytes) || img.header.Get("Content-Type") != "image/png" {
		t.Fatalf("avatar served as %d %s", img.status, img.header.Get("Content-Type"))
	}
	admin.call("DELETE", fmt.Sprintf("/api/v1/departments/%d/avatar", dept), nil)
	if res := e.anonymous().call("GET", d.AvatarURL, nil); res.status != 404 {
		t.Errorf("a removed avatar is still served: %d", res.status)
	}
	if res := e.anonymous().call("GET", "/avatars/..%2f..%2fswitchboard.db", nil); res.status != 404 {
		t.Errorf("path traversal through avatars: %d", res.status)
	}
}

func TestCrossOriginWritesAreRefused(t *testing.T) {
	e := newEnv(t, sqliteEngine(t))
	admin := e.admin()
	res := admin.call("POST", "/api/v1/departments", map[string]string{"name": "Evil"}, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	if code, _ := res.errorCode(); res.status != 403 || code != "cross_origin" {
		t.Errorf("cross-site write: %d %s", res.status, res.body)
	}
	res = admin.call("POST", "/api/v1/departments", map[string]string{"name": "Good"}, "Sec-Fetch-Site", "same-origin")
	if res.status != 201 {
		t.Errorf("same-origin write: %d %s", res.status, res.body)
	}
}

func TestWorkspaceAndSystemEndpoints(t *testing.T) {
	e := newEnv(t, sqliteEngine(t))
	anon := e.anonymous()
	page := anon.call("GET", "/", nil)
	csp := page.header.Get("Content-Security-Policy")
	if page.status != 200 || !strings.Contains(csp, "script-src 'self' 'sha256-") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("workspace page %d with CSP %q", page.status, csp)
	}
	if page.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("no nosniff header")
	}
	if res := anon.call("GET", "/assets/app.js", nil); res.status != 200 || !strings.Contains(res.header.Get("Content-Type"), "javascript") || res.header.Get("ETag") == "" {
		t.Errorf("app.js: %d %s etag %q", res.status, res.header.Get("Content-Type"), res.header.Get("ETag"))
	}
	if res := anon.call("GET", "/readyz", nil); res.status != 200 {
		t.Errorf("readyz: %d %s", res.status, res.body)
	}
	if res := anon.call("GET", "/healthz", nil); res.status != 200 {
		t.Errorf("healthz: %d", res.status)
	}
	metrics := anon.call("GET", "/metrics", nil)
	for _, series := range []string{`switchboard_http_requests_total{method="GET",route="/readyz",status="200"}`, "switchboard_http_request_duration_seconds_bucket", "go_sql_open_connections"} {
		if !strings.Contains(string(metrics.body), series) {
			t.Errorf("/metrics lacks %s", series)
		}
	}
	if res := anon.call("GET", "/api/v1/me", nil); res.status != http.StatusUnauthorized {
		t.Errorf("/me without a session: %d", res.status)
	}
}
