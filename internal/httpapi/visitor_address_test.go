package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/switchboard-hq/switchboard/internal/app"
	"github.com/switchboard-hq/switchboard/internal/config"
	"github.com/switchboard-hq/switchboard/internal/geoip/geoiptest"
	"github.com/switchboard-hq/switchboard/internal/storetest"
)

// Behind the site's reverse proxy, a visitor's address is the one the proxy
// saw, and the Visitors list names its country from the configured database.
func TestVisitorsAddressAndCountryBehindATrustedProxy(t *testing.T) {
	cfg := config.Config{
		DatabaseURL: storetest.SQLite(t).URL, DataDir: t.TempDir(), AdminEmail: adminEmail, AdminPassword: adminPassword,
		SessionLifetime: time.Hour, SessionIdle: time.Hour, SQLiteSynchronous: "NORMAL",
		TrustedProxies: "127.0.0.1, 10.0.0.0/8",
		GeoIPDatabase:  geoiptest.Write(t, map[string]geoiptest.Country{"81.2.69.0/24": {ISOCode: "GB", Name: "United Kingdom"}}),
	}
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "test", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a.Start(ctx)
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(func() { srv.Close(); cancel(); a.Wait(); a.Close() })
	e := &env{t: t, srv: srv, app: a}
	admin := e.admin()
	channel := admin.create("/api/v1/channels", map[string]any{"kind": "widget", "name": "Shop",
		"widget": map[string]any{"origins": []string{"https://shop.example.com"}}})
	visitor := e.anonymous()

	for _, tc := range []struct {
		forwardedFor, wantIP, wantCountry string
	}{
		{"81.2.69.160", "81.2.69.160", "United Kingdom"},
		// A client cannot pose as another by adding its own header: only
		// what trusted proxies appended counts.
		{"1.2.3.4, 81.2.69.7, 10.1.2.3", "81.2.69.7", "United Kingdom"},
		{"", "127.0.0.1", ""},
	} {
		page := "https://shop.example.com/from-" + tc.wantIP
		header := []string{"Origin", "https://shop.example.com"}
		if tc.forwardedFor != "" {
			header = append(header, "X-Forwarded-For", tc.forwardedFor)
		}
		if res := visitor.call("POST", fmt.Sprintf("/widget/%d/session", channel), map[string]string{"page_url": page}, header...); res.status != http.StatusOK {
			t.Fatalf("session: %d %s", res.status, res.body)
		}
		var list struct {
			Visitors []struct {
				IP      string `json:"ip"`
				Country string `json:"country"`
				PageURL string `json:"page_url"`
			} `json:"visitors"`
		}
		admin.call("GET", "/api/v1/visitors", nil).decode(t, &list)
		found := false
		for _, v := range list.Visitors {
			if v.PageURL == page {
				found = true
				if v.IP != tc.wantIP || v.Country != tc.wantCountry {
					t.Errorf("X-Forwarded-For %q: visitor at %q from %q, want %q from %q", tc.forwardedFor, v.IP, v.Country, tc.wantIP, tc.wantCountry)
				}
			}
		}
		if !found {
			t.Errorf("X-Forwarded-For %q: the visitor is not in the list", tc.forwardedFor)
		}
	}
}
