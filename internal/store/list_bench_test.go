package store

import (
	"context"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
)

// BenchmarkListFirstPage measures the first page of each request list with
// SWITCHBOARD_BENCH_REQUESTS requests stored (default 1,000,000), of which
// 10,000 are open: half unassigned, half assigned. It reports p50 and p99.
//
//	go test -run - -bench ListFirstPage ./internal/store/
//	SWITCHBOARD_TEST_POSTGRES=postgres://… go test -run - -bench ListFirstPage ./internal/store/
func BenchmarkListFirstPage(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("SWITCHBOARD_BENCH_REQUESTS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	for _, eng := range benchEngines(b) {
		db := openBench(b, eng)
		seedRequests(b, db, n)
		queue := cv.Viewer{AgentID: 2, Queue: true, Groups: []int64{1}}
		cases := []struct {
			name string
			q    cv.ListQuery
		}{
			{"unassigned/supervisor", cv.ListQuery{View: cv.ViewUnassigned, Viewer: cv.Viewer{All: true}, Limit: 50}},
			{"unassigned/agent", cv.ListQuery{View: cv.ViewUnassigned, Viewer: queue, Limit: 50}},
			{"all chats/supervisor", cv.ListQuery{View: cv.ViewChats, Viewer: cv.Viewer{All: true}, Limit: 50}},
			{"all chats/agent", cv.ListQuery{View: cv.ViewChats, Viewer: queue, Limit: 50}},
			{"channel tab/supervisor", cv.ListQuery{View: cv.ViewChats, Viewer: cv.Viewer{All: true}, Kind: cv.API, Limit: 50}},
			{"classic/supervisor", cv.ListQuery{View: cv.ViewClassic, Viewer: cv.Viewer{All: true}, Limit: 50}},
		}
		for _, c := range cases {
			b.Run(eng+"/"+c.name, func(b *testing.B) {
				ctx := context.Background()
				times := make([]time.Duration, 0, b.N)
				for b.Loop() {
					start := time.Now()
					page, err := db.List(ctx, c.q)
					times = append(times, time.Since(start))
					if err != nil {
						b.Fatal(err)
					}
					if len(page) == 0 && c.q.View != cv.ViewClassic {
						b.Fatal("empty page")
					}
				}
				slices.Sort(times)
				b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(times[len(times)*99/100].Microseconds())/1000, "p99-ms")
			})
		}
	}
}

func benchEngines(b *testing.B) []string {
	engines := []string{"sqlite"}
	if os.Getenv("SWITCHBOARD_TEST_POSTGRES") != "" {
		engines = append(engines, "postgres")
	}
	return engines
}

func openBench(b *testing.B, engine string) *DB {
	ctx := context.Background()
	url := b.TempDir() + "/bench.db"
	if engine == "postgres" {
		base := os.Getenv("SWITCHBOARD_TEST_POSTGRES")
		admin, err := Open(ctx, base, Options{})
		if err != nil {
			b.Fatal(err)
		}
		schema := "sbbench_" + strconv.FormatInt(time.Now().UnixNano(), 36)
		if _, err := admin.write.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { admin.write.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`); admin.Close() })
		url = base + "&search_path=" + schema
	}
	db, err := Open(ctx, url, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	return db
}

// seedRequests stores n requests in a few statements: clients and
// identities for 100,000 clients, one channel and group, and requests of
// which the newest 10,000 are open.
func seedRequests(b *testing.B, db *DB, n int) {
	b.Helper()
	start := time.Now()
	ctx := context.Background()
	const clients = 100_000
	open := min(10_000, n)
	seq := `WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?) `
	statements := []struct {
		q    string
		args []any
	}{
		{`INSERT INTO agents (id, email, name, password_hash, presence_since, created_at, updated_at) VALUES (1, 'a1@example.com', 'A', 'x', 0, 0, 0), (2, 'a2@example.com', 'B', 'x', 0, 0, 0)`, nil},
		{`INSERT INTO agent_groups (id, name, rights, created_at, updated_at) VALUES (1, 'Support', 'omnichannel omnichannel.unassigned', 0, 0)`, nil},
		{`INSERT INTO channels (id, kind, name, group_id, created_at, updated_at) VALUES (1, 'api', 'Bench', 1, 0, 0)`, nil},
		{seq + `INSERT INTO clients (id, name, created_at, updated_at) SELECT n, 'Client', 0, 0 FROM seq`, []any{clients}},
		{seq + `INSERT INTO identities (id, client_id, kind, external_id, created_at) SELECT n, n, 'api', 'c' || n, 0 FROM seq`, []any{clients}},
		{seq + `INSERT INTO conversations (id, channel_id, channel_kind, client_id, identity_id, group_id, assignee_id, status_id, mode, subject,
			last_message_at, created_at, updated_at, closed_at)
			SELECT n, 1, 'api', n % ? + 1, n % ? + 1, 1, CASE WHEN n > ? AND n % 2 = 0 THEN 1 END, 1,
				CASE WHEN n % 97 = 0 THEN 'classic' ELSE 'live' END, 'Subject', n * 1000, n * 1000, n * 1000,
				CASE WHEN n > ? THEN NULL ELSE n * 1000 END FROM seq`, []any{n, clients, clients, n - open, n - open}},
	}
	for _, st := range statements {
		if _, err := db.write.ExecContext(ctx, db.dialect.rebind(st.q), st.args...); err != nil {
			b.Fatalf("seed: %v", err)
		}
	}
	if db.dialect == postgres {
		if _, err := db.write.ExecContext(ctx, `ANALYZE`); err != nil {
			b.Fatal(err)
		}
	} else if _, err := db.write.ExecContext(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d requests (%d open) in %s", n, open, time.Since(start).Round(time.Millisecond))
}
