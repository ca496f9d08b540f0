// Package storetest gives tests fresh databases on both engines and holds the
// behaviour suites that every engine must pass.
//
// SQLite runs always. PostgreSQL runs when SWITCHBOARD_TEST_POSTGRES names a
// server (e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable);
// each database gets its own schema, so parallel runs never collide. Under CI
// (CI=true) a missing PostgreSQL fails the test instead of skipping it.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver

	"github.com/switchboard-hq/switchboard/internal/store"
)

// PostgresEnv names the variable that points tests at a PostgreSQL server.
const PostgresEnv = "SWITCHBOARD_TEST_POSTGRES"

// Engine is a fresh, empty database on one engine.
type Engine struct {
	Name string // "sqlite" or "postgres"
	URL  string // what SWITCHBOARD_DATABASE_URL would be
}

// Engines returns one fresh database per engine available to the test.
func Engines(t testing.TB) []Engine {
	t.Helper()
	engines := []Engine{SQLite(t)}
	if pg, ok := Postgres(t); ok {
		engines = append(engines, pg)
	}
	return engines
}

// SQLite returns a fresh SQLite database file in the test's temp dir.
func SQLite(t testing.TB) Engine {
	return Engine{Name: "sqlite", URL: filepath.Join(t.TempDir(), "switchboard.db")}
}

// Postgres returns a fresh schema on the test PostgreSQL server, dropped when
// the test ends. Without a server it reports false (and fails under CI).
func Postgres(t testing.TB) (Engine, bool) {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set: PostgreSQL tests may not be skipped in CI", PostgresEnv)
		}
		t.Logf("PostgreSQL not tested: set %s=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable to run these tests on it too", PostgresEnv)
		return Engine{}, false
	}
	schema := "sbtest_" + strings.ToLower(rand.Text())
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open %s: %v", PostgresEnv, err)
	}
	defer admin.Close()
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create test schema on %s: %v", PostgresEnv, err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer admin.Close()
		_, _ = admin.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return Engine{Name: "postgres", URL: u.String()}, true
}

// Open opens and migrates the engine's database, closed when the test ends.
func Open(t testing.TB, e Engine) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, e.URL, store.Options{})
	if err != nil {
		t.Fatalf("open %s: %v", e.Name, err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", e.Name, err)
	}
	return db
}

// Each runs fn as a subtest on a fresh migrated database of every engine.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, e := range Engines(t) {
		t.Run(e.Name, func(t *testing.T) { fn(t, Open(t, e)) })
	}
}
