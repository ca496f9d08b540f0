package loadgen

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard-hq/switchboard/internal/storetest"
)

// The load command seeds a busy floor into an empty database, a server runs
// on it, and the Management views are timed over HTTP (small here; the
// closing notes report 1,000,000 requests).
func TestSeedAFloorAndTimeTheManagementViews(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			if err := Seed(ctx, SeedConfig{DatabaseURL: e.URL, Requests: 20_000, Agents: 5, Days: 40, AdminEmail: adminEmail, AdminPassword: adminPassword}); err != nil {
				t.Fatal(err)
			}
			if err := Seed(ctx, SeedConfig{DatabaseURL: e.URL, Requests: 10, Agents: 1, AdminEmail: "x@example.com", AdminPassword: "password"}); err == nil {
				t.Error("seeding a database that has agents succeeded")
			}
			srv := startServer(t, e.URL, filepath.Join(t.TempDir(), "data"))
			rep, err := MeasureFloor(ctx, srv.URL, adminEmail, adminPassword, 3)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Latencies) != 11 {
				t.Fatalf("timed %d endpoints, want 11", len(rep.Latencies))
			}
			for path, l := range rep.Latencies {
				if len(l) != 3 || l[0] <= 0 || l[2] > time.Minute {
					t.Errorf("%s: %v", path, l)
				}
			}
		})
	}
}
