package tmpbench

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/switchboard-hq/switchboard/internal/stats"
	"github.com/switchboard-hq/switchboard/internal/store"
)

func TestTime(t *testing.T) {
	url := os.Getenv("BENCH_DB")
	if url == "" {
		t.Skip()
	}
	db, err := store.Open(context.Background(), url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	q, _ := stats.ParseQuery(stats.Input{Period: "30d"}, time.UTC, time.Now())
	for range 2 {
		for _, f := range []struct {
			name string
			fn   func() error
		}{
			{"requests", func() error { _, err := db.StatsRequests(ctx, q); return err }},
			{"sla", func() error { _, err := db.StatsSLA(ctx, q); return err }},
			{"first", func() error { _, err := db.StatsDurations(ctx, q, stats.FirstResponse); return err }},
			{"reply", func() error { _, err := db.StatsDurations(ctx, q, stats.Reply); return err }},
			{"resolution", func() error { _, err := db.StatsDurations(ctx, q, stats.Resolution); return err }},
			{"agents", func() error { _, err := db.StatsAgents(ctx, q); return err }},
			{"arrivals", func() error { _, err := db.StatsArrivals(ctx, q, false); return err }},
			{"closedarr", func() error { _, err := db.StatsArrivals(ctx, q, true); return err }},
			{"channels", func() error { _, err := db.StatsChannels(ctx, q); return err }},
			{"breaches", func() error { _, err := db.StatsBreaches(ctx, q, 0, 51); return err }},
		} {
			start := time.Now()
			if err := f.fn(); err != nil {
				t.Fatal(f.name, err)
			}
			t.Logf("%-10s %s", f.name, time.Since(start))
		}
	}
}
