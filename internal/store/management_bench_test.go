package store

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-hq/switchboard/internal/access"
	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/supervision"
)

// benchNow is "now" of the management benchmarks: the open requests and
// today's replies lie in the hours before it.
var benchNow = time.Date(2030, 1, 1, 18, 0, 0, 0, time.UTC)

const benchAgents = 50

// benchSpan is the history the requests are spread over.
const benchSpan = 365 * 24 * time.Hour

// BenchmarkActiveChatsFirstPage measures the first page of Management →
// Active chats in each order (and with filters) with
// SWITCHBOARD_BENCH_REQUESTS requests stored (default 1,000,000), of which
// 10,000 are open; it checks first that each order is an index scan, and
// reports p50 and p99.
//
//	go test -run - -bench ActiveChats -benchtime 200x ./internal/store/
//	SWITCHBOARD_TEST_POSTGRES=postgres://… go test -run - -bench ActiveChats -benchtime 200x ./internal/store/
func BenchmarkActiveChatsFirstPage(b *testing.B) {
	for _, eng := range benchEngines(b) {
		db := openBench(b, eng)
		seedManagement(b, db, benchRequests())
		cases := []struct {
			name string
			q    supervision.ChatQuery
		}{
			{"duration", supervision.ChatQuery{Sort: supervision.SortDuration}},
			{"activity", supervision.ChatQuery{Sort: supervision.SortActivity}},
			{"created", supervision.ChatQuery{Sort: supervision.SortCreated}},
			{"activity/channel", supervision.ChatQuery{Sort: supervision.SortActivity, Kind: cv.Telegram}},
			{"duration/channel", supervision.ChatQuery{Sort: supervision.SortDuration, Kind: cv.Telegram}},
			{"created/department", supervision.ChatQuery{Sort: supervision.SortCreated, DepartmentID: 2}},
			{"duration/channel+department", supervision.ChatQuery{Sort: supervision.SortDuration, Kind: cv.API, DepartmentID: 2}},
		}
		svc := supervision.NewService(db)
		boss := access.Actor{Admin: true}
		for _, c := range cases {
			checkChatsPlan(b, db, c.q)
			b.Run(eng+"/"+c.name, func(b *testing.B) {
				ctx := context.Background()
				times := make([]time.Duration, 0, b.N)
				for b.Loop() {
					start := time.Now()
					page, err := svc.ActiveChats(ctx, boss, c.q)
					times = append(times, time.Since(start))
					if err != nil {
						b.Fatal(err)
					}
					if len(page.Chats) != supervision.DefaultLimit || page.Next == "" {
						b.Fatalf("a first page of %d chats, next %q", len(page.Chats), page.Next)
					}
				}
				reportPercentiles(b, times)
			})
		}
	}
}

// BenchmarkAgents measures Management → Agents: 50 agents with 10,000 open
// requests among them and their replies of today, over the same 1,000,000
// requests.
//
//	go test -run - -bench Agents -benchtime 200x ./internal/store/
func BenchmarkAgents(b *testing.B) {
	for _, eng := range benchEngines(b) {
		db := openBench(b, eng)
		seedManagement(b, db, benchRequests())
		checkMetricsPlan(b, db)
		boss := access.Actor{Admin: true}
		svc := supervision.NewService(db)
		b.Run(eng, func(b *testing.B) {
			ctx := context.Background()
			times := make([]time.Duration, 0, b.N)
			for b.Loop() {
				start := time.Now()
				agents, err := svc.Agents(ctx, boss, benchNow)
				times = append(times, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				if len(agents) != benchAgents || agents[0].Today.Replies == 0 || agents[0].Today.FirstReplySeconds == nil ||
					agents[0].Today.ReplySeconds == nil || agents[0].ActiveChats == 0 {
					b.Fatalf("%d agents, the first %+v", len(agents), agents[0])
				}
			}
			reportPercentiles(b, times)
		})
	}
}

func benchRequests() int {
	n := 1_000_000
	if v := os.Getenv("SWITCHBOARD_BENCH_REQUESTS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	return n
}

func reportPercentiles(b *testing.B, times []time.Duration) {
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(times[len(times)*99/100].Microseconds())/1000, "p99-ms")
}

// seedManagement stores n requests over a year with store.SeedFloor: 50
// agents in one group with an enabled dispatch rule; the newest 10,000
// requests are open and live, half of them assigned; the older ones closed
// with their conversations — about 11,000 replies today at a million.
func seedManagement(b *testing.B, db *DB, n int) {
	b.Helper()
	start := time.Now()
	seeded, err := db.SeedFloor(context.Background(), n, benchAgents, benchSpan, benchNow)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: seeded %d requests (%d open), %d messages (%d replies today) in %s", db.dialect.name(), seeded.Requests, seeded.Open,
		seeded.Messages, seeded.Replies, time.Since(start).Round(time.Millisecond))
}

// explain returns the query plan of query, one line per step.
func explain(b *testing.B, db *DB, query string, args ...any) string {
	b.Helper()
	prefix := `EXPLAIN QUERY PLAN `
	if db.dialect == postgres {
		prefix = `EXPLAIN `
	}
	rows, err := db.read.QueryContext(context.Background(), db.dialect.rebind(prefix+query), args...)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			b.Fatal(err)
		}
		lines = append(lines, fmt.Sprint(vals[len(vals)-1]))
	}
	return strings.Join(lines, "\n")
}

// checkChatsPlan fails unless the page is read from the order's partial
// index, without sorting and without scanning the requests.
func checkChatsPlan(b *testing.B, db *DB, q supervision.ChatQuery) {
	b.Helper()
	// The first page, and the second one after the first's last row.
	first, err := db.ManagementChats(context.Background(), q, supervision.Cursor{}, supervision.DefaultLimit)
	if err != nil || len(first) == 0 {
		b.Fatalf("first page: %d rows, %v", len(first), err)
	}
	last := first[len(first)-1]
	second := supervision.Cursor{At: last.CreatedAt, ID: last.ID}
	if q.Sort == supervision.SortActivity {
		second.At = last.LastMessageAt
	}
	for _, after := range []supervision.Cursor{{}, second} {
		query, args := managementChatsQuery(db.dialect, q, after, supervision.DefaultLimit+1)
		plan := explain(b, db, query, args...)
		index := "conversations_active_created"
		if q.Sort == supervision.SortActivity {
			index = "conversations_live"
		}
		bad := []string{"TEMP B-TREE", "SCAN c\n", "Seq Scan on conversations", "Sort"}
		ok := strings.Contains(plan, index)
		for _, s := range bad {
			ok = ok && !strings.Contains(plan+"\n", s)
		}
		if !ok {
			b.Fatalf("%s: active chats %+v (cursor %v) is no scan of %s:\n%s", db.dialect.name(), q, !after.IsZero(), index, plan)
		}
		b.Logf("%s: plan of %+v (cursor %v):\n%s", db.dialect.name(), q, !after.IsZero(), plan)
	}
}

// checkMetricsPlan fails unless today's replies are found by messages_author
// and nothing scans the messages.
func checkMetricsPlan(b *testing.B, db *DB) {
	b.Helper()
	from, to := supervision.Day(benchNow, time.UTC)
	ids := make([]int64, benchAgents)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	query, args := metricsQuery(ids, from, to)
	plan := explain(b, db, query, args...)
	if !strings.Contains(plan, "replies_agent") || strings.Contains(plan, "Seq Scan") {
		b.Fatalf("%s: the metrics do not read replies_agent:\n%s", db.dialect.name(), plan)
	}
	b.Logf("%s: plan of the metrics:\n%s", db.dialect.name(), plan)
	plan = explain(b, db, managementAgents, true, true, true)
	if strings.Contains(plan, "Seq Scan on messages") || strings.Contains(plan, "Seq Scan on conversations") || strings.Contains(plan+"\n", "SCAN m\n") {
		b.Fatalf("%s: the agents query scans a big table:\n%s", db.dialect.name(), plan)
	}
	b.Logf("%s: plan of the agents:\n%s", db.dialect.name(), plan)
}
