package loadgen

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/switchboard-hq/switchboard/internal/auth"
	"github.com/switchboard-hq/switchboard/internal/store"
	"github.com/switchboard-hq/switchboard/internal/team"
)

// SeedConfig describes a database to fill before a server starts on it.
type SeedConfig struct {
	DatabaseURL      string
	Requests, Agents int
	// Days spreads the requests over that many days before now.
	Days                      int
	AdminEmail, AdminPassword string
	Progress                  io.Writer
}

// Seed fills an empty Switchboard database with a busy floor (see
// store.SeedFloor) and an administrator to log in with.
func Seed(ctx context.Context, cfg SeedConfig) error {
	db, err := store.Open(ctx, cfg.DatabaseURL, store.Options{SQLiteSynchronous: "NORMAL"})
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	if n, err := db.CountAgents(ctx); err != nil || n > 0 {
		if err == nil {
			err = fmt.Errorf("loadgen: the database has agents already: seed an empty one")
		}
		return err
	}
	start := time.Now()
	seeded, err := db.SeedFloor(ctx, cfg.Requests, cfg.Agents, time.Duration(cfg.Days)*24*time.Hour, time.Now())
	if err != nil {
		return err
	}
	hash, err := auth.NewPasswords(1).Hash(ctx, cfg.AdminPassword)
	if err != nil {
		return err
	}
	if _, err := db.CreateAgent(ctx, team.Agent{Email: cfg.AdminEmail, Name: "Administrator", Admin: true, Active: true, Presence: team.Offline}, hash); err != nil {
		return err
	}
	progress(cfg.Progress, "seeded %d requests (%d open), %d messages, %d agents and the administrator %s in %s",
		seeded.Requests, seeded.Open, seeded.Messages, cfg.Agents, cfg.AdminEmail, time.Since(start).Round(time.Millisecond))
	return nil
}

// FloorReport is how fast the Management views answered.
type FloorReport struct {
	Samples int
	// Latencies by endpoint (with its query), sorted.
	Latencies map[string][]time.Duration
}

// MeasureFloor asks the Management endpoints samples times each, one call at
// a time, and records how long each answer took.
func MeasureFloor(ctx context.Context, base, email, password string, samples int) (*FloorReport, error) {
	s, err := NewSession(base, NewTransport(4))
	if err != nil {
		return nil, err
	}
	if err := s.Login(ctx, email, password); err != nil {
		return nil, fmt.Errorf("loadgen: log in: %w", err)
	}
	rep := &FloorReport{Samples: samples, Latencies: map[string][]time.Duration{}}
	paths := []string{
		"/api/v1/management/chats?sort=duration", "/api/v1/management/chats?sort=activity",
		"/api/v1/management/chats?sort=created", "/api/v1/management/chats?sort=activity&channel=telegram",
		"/api/v1/management/agents",
		// Management → Statistics over 30 days, whole and filtered.
		"/api/v1/stats/summary?period=30d", "/api/v1/stats/summary?period=30d&channel_id=2&agent_id=3",
		"/api/v1/stats/agents?period=30d", "/api/v1/stats/load?period=30d", "/api/v1/stats/load?period=30d&department_id=2",
		"/api/v1/stats/breaches?period=30d",
	}
	for range samples {
		for _, p := range paths {
			start := time.Now()
			if err := s.do(ctx, http.MethodGet, p, nil, nil, http.StatusOK); err != nil {
				return nil, err
			}
			rep.Latencies[p] = append(rep.Latencies[p], time.Since(start))
		}
	}
	for _, l := range rep.Latencies {
		slices.Sort(l)
	}
	return rep, nil
}

// Print writes p50 and p99 per endpoint.
func (r *FloorReport) Print(w io.Writer) {
	fmt.Fprintf(w, "Management endpoints, %d calls each, one at a time:\n", r.Samples)
	keys := make([]string, 0, len(r.Latencies))
	for k := range r.Latencies {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		l := r.Latencies[k]
		fmt.Fprintf(w, "  %-62s p50 %s  p99 %s\n", k, ms(l[len(l)/2]), ms(l[(len(l)*99)/100]))
	}
}
