package store_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

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
