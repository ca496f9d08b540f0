package store_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/stats"
	"github.com/switchboard-hq/switchboard/internal/supervision"

	"github.com/switchboard-hq/switchboard/internal/store"
	"github.com/switchboard-hq/switchboard/internal/storetest"
	"github.com/switchboard-hq/switchboard/internal/team"
)

func TestTeam(t *testing.T) { storetest.Each(t, storetest.Team) }

func TestSessions(t *testing.T) { storetest.Each(t, storetest.Sessions) }

func TestIngest(t *testing.T) { storetest.Each(t, storetest.Ingest) }

func TestWidget(t *testing.T) { storetest.Each(t, storetest.Widget) }

func TestOutbox(t *testing.T) { storetest.Each(t, storetest.Outbox) }

func TestManagement(t *testing.T) { storetest.Each(t, storetest.Management) }

func TestDispatch(t *testing.T) { storetest.Each(t, storetest.Dispatch) }

func TestSLA(t *testing.T) { storetest.Each(t, storetest.SLA) }

func TestStatistics(t *testing.T) { storetest.Each(t, storetest.Stats) }

func TestSLABreachesOnceOnTwoInstances(t *testing.T) {
	e, ok := storetest.Postgres(t)
	if !ok {
		return
	}
	storetest.SLATwoInstances(t, storetest.Open(t, e))
}

// migrationCount is how many migrations the engine has.
func migrationCount(t *testing.T, engine string) int {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("migrations", engine, "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations for %s: %v", engine, err)
	}
	return len(files)
}

func open(t *testing.T, e storetest.Engine) *store.DB {
	t.Helper()
	db, err := store.Open(t.Context(), e.URL, store.Options{})
	if err != nil {
		t.Fatalf("open %s: %v", e.Name, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestMigrateTwiceIsANoOp(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := t.Context()
			db := open(t, e)
			if db.Engine() != e.Name {
				t.Errorf("Engine() = %q, want %q", db.Engine(), e.Name)
			}
			n, err := db.Migrate(ctx)
			if err != nil || n != migrationCount(t, e.Name) {
				t.Fatalf("first Migrate = %d, %v; want %d", n, err, migrationCount(t, e.Name))
			}
			if _, err := db.CreateAgent(ctx, team.Agent{Email: "kept@example.com", Name: "Kept", Admin: true, Active: true, Presence: team.Offline}, "hash"); err != nil {
				t.Fatal(err)
			}
			if n, err := db.Migrate(ctx); err != nil || n != 0 {
				t.Errorf("second Migrate = %d, %v; want 0, nil", n, err)
			}
			// Another instance on the same database finds nothing to do either.
			again := open(t, e)
			if n, err := again.Migrate(ctx); err != nil || n != 0 {
				t.Errorf("Migrate from a second instance = %d, %v; want 0, nil", n, err)
			}
			if ok, err := again.MigrationsCurrent(ctx); err != nil || !ok {
				t.Errorf("MigrationsCurrent = %v, %v; want true", ok, err)
			}
			if n, err := again.CountAgents(ctx); err != nil || n != 1 {
				t.Errorf("after migrating again: %d agents, %v; want the 1 stored before", n, err)
			}
		})
	}
}

func TestMigrationsCurrentReportsPending(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := t.Context()
			db := open(t, e)
			if ok, err := db.MigrationsCurrent(ctx); err != nil || ok {
				t.Errorf("MigrationsCurrent on an empty database = %v, %v; want false", ok, err)
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if ok, err := db.MigrationsCurrent(ctx); err != nil || !ok {
				t.Errorf("MigrationsCurrent after Migrate = %v, %v; want true", ok, err)
			}
		})
	}
}

func TestConcurrentMigrationsOnPostgres(t *testing.T) {
	e, ok := storetest.Postgres(t)
	if !ok {
		t.Skip("needs PostgreSQL")
	}
	ctx := t.Context()
	dbs := []*store.DB{open(t, e), open(t, e)}
	applied := make([]int, len(dbs))
	failures := make([]error, len(dbs))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, db := range dbs {
		wg.Go(func() {
			<-start
			applied[i], failures[i] = db.Migrate(ctx)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range failures {
		if err != nil {
			t.Errorf("instance %d: Migrate: %v", i, err)
		}
	}
	// Each migration ran exactly once, in one of the two.
	if want := migrationCount(t, "postgres"); applied[0]+applied[1] != want {
		t.Errorf("the instances applied %v migrations, want %d in all", applied, want)
	}
	for i, db := range dbs {
		if ok, err := db.MigrationsCurrent(ctx); err != nil || !ok {
			t.Errorf("instance %d: MigrationsCurrent = %v, %v; want true", i, ok, err)
		}
	}
	if _, err := dbs[1].CreateAgent(ctx, team.Agent{Email: "after@example.com", Name: "After", Active: true, Presence: team.Offline}, "hash"); err != nil {
		t.Errorf("the migrated schema does not take an agent: %v", err)
	}
}

func TestOpenAcceptsSQLitePathsAndURLs(t *testing.T) {
	dir := t.TempDir()
	for _, url := range []string{filepath.Join(dir, "plain.db"), "sqlite://" + filepath.Join(dir, "url.db"), "sqlite:" + filepath.Join(dir, "short.db"), filepath.Join(dir, "sub", "dir", "nested.db")} {
		db, err := store.Open(context.Background(), url, store.Options{SQLiteSynchronous: "full"})
		if err != nil {
			t.Errorf("Open(%q): %v", url, err)
			continue
		}
		if db.Engine() != "sqlite" {
			t.Errorf("Open(%q).Engine() = %q", url, db.Engine())
		}
		if err := db.Ping(t.Context()); err != nil {
			t.Errorf("Open(%q).Ping: %v", url, err)
		}
		db.Close()
	}
	for _, name := range []string{"plain.db", "url.db", "short.db", "sub/dir/nested.db"} {
		if matches, _ := filepath.Glob(filepath.Join(dir, name)); len(matches) != 1 {
			t.Errorf("no database file %s", name)
		}
	}
	if _, err := store.Open(context.Background(), "", store.Options{}); err == nil {
		t.Error("Open of an empty path succeeded")
	}
}

// The SLA and statistics migration on a database written before it: the
// replies are recorded as the former query counted them, and what the
// write path follows from then on (first reply, the assignee's reply, the
// client's open run of messages, missed requests) is right at once.
func TestTheSLAMigrationKeepsTheMetricsOfExistingRequests(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := t.Context()
			db := open(t, e)
			if err := db.MigrateTo(ctx, 6); err != nil {
				t.Fatal(err)
			}
			day := time.Date(2030, 6, 3, 0, 0, 0, 0, time.UTC)
			at := func(hh, mm int) int64 {
				return day.Add(time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute).UnixMilli()
			}
			for _, st := range []struct {
				q    string
				args []any
			}{
				{`INSERT INTO agents (id, email, name, password_hash, presence, presence_since, created_at, updated_at) VALUES (1, 'anna@example.com', 'Anna', 'x', 'online', 0, 0, 0)`, nil},
				{`INSERT INTO channels (id, kind, name, created_at, updated_at) VALUES (1, 'api', 'Shop', 0, 0)`, nil},
				{`INSERT INTO clients (id, name, created_at, updated_at) VALUES (1, 'Ivan', 0, 0), (2, 'Olga', 0, 0)`, nil},
				{`INSERT INTO identities (id, client_id, kind, external_id, created_at) VALUES (1, 1, 'api', 'ivan', 0), (2, 2, 'api', 'olga', 0)`, nil},
				// Request 1: taken at 10:00, answered at 10:01, asked again at 10:05 (open).
				// Request 2: taken at 10:00, answered at 10:03, closed at 10:10.
				{`INSERT INTO conversations (id, channel_id, channel_kind, client_id, identity_id, assignee_id, assigned_at, status_id, mode,
					last_message_at, created_at, updated_at, closed_at) VALUES
					(1, 1, 'api', 1, 1, 1, ?, 2, 'live', ?, ?, ?, NULL), (2, 1, 'api', 2, 2, 1, ?, 4, 'live', ?, ?, ?, ?)`,
					[]any{at(10, 0), at(10, 5), at(9, 59), at(10, 5), at(10, 0), at(10, 10), at(9, 58), at(10, 10), at(10, 10)}},
				// (in this order: the ids follow the times)
				{`INSERT INTO messages (conversation_id, channel_id, kind, author_id, body, created_at) VALUES
					(1, 1, 'client', NULL, 'Hi', ?), (2, 1, 'client', NULL, 'Hello', ?),
					(1, 1, 'event', 1, 'Anna took the request', ?), (2, 1, 'event', 1, 'Anna took the request', ?),
					(1, 1, 'reply', 1, 'Yes?', ?), (2, 1, 'reply', 1, 'Hello!', ?),
					(1, 1, 'client', NULL, 'Where is my order?', ?), (2, 1, 'event', 1, 'Anna closed the request', ?)`,
					[]any{at(9, 59), at(9, 58), at(10, 0), at(10, 0), at(10, 1), at(10, 3), at(10, 5), at(10, 10)}},
			} {
				if err := db.Exec(ctx, st.q, st.args...); err != nil {
					t.Fatalf("%s: %v", st.q, err)
				}
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			db.Now = func() time.Time { return day.Add(10*time.Hour + 20*time.Minute) }
			if _, err := db.AddMessage(ctx, 1, func(cv.Conversation) error { return nil }, cv.Message{Kind: cv.Reply, AuthorID: 1, Body: "On its way"}); err != nil {
				t.Fatal(err)
			}
			sums, err := db.ManagementMetrics(ctx, []int64{1}, day, day.Add(24*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			// First replies 1 and 3 minutes after the takes; the question of
			// 10:05 answered at 10:20.
			if got, want := sums[1], (supervision.Sums{Replies: 3, FirstReplies: 2, FirstReplyMillis: 4 * 60_000, Answers: 1, AnswerMillis: 15 * 60_000}); got != want {
				t.Errorf("Anna's day: %+v, want %+v", got, want)
			}
			q, err := stats.ParseQuery(stats.Input{Period: "custom", From: "2030-06-03", To: "2030-06-03"}, time.UTC, day)
			if err != nil {
				t.Fatal(err)
			}
			requests, _, err := db.StatsSummary(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if requests != (stats.Requests{New: 2, Closed: 1}) {
				t.Errorf("the day's requests: %+v (the closed one was answered: not missed)", requests)
			}
		})
	}
}
