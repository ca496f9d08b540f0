package tmpbench

import (
	"database/sql"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

func TestExp(t *testing.T) {
	path := os.Getenv("BENCH_FILE")
	if path == "" {
		t.Skip()
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Now().Add(-30 * 24 * time.Hour).UnixMilli()
	to := time.Now().UnixMilli()
	for _, stmt := range []string{
		`CREATE INDEX IF NOT EXISTS x_first ON replies (sent_at, first_ms, first_business_ms, channel_id, department_id, group_id, agent_id) WHERE first_ms IS NOT NULL`,
		`CREATE INDEX IF NOT EXISTS x_answer ON replies (sent_at, answer_ms, answer_business_ms, channel_id, department_id, group_id, agent_id) WHERE answer_ms IS NOT NULL`,
	} {
		start := time.Now()
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
		t.Logf("index %s", time.Since(start))
	}
	for range 3 {
		start := time.Now()
		rows, _ := db.Query(`SELECT answer_ms, answer_business_ms FROM replies WHERE sent_at >= ? AND sent_at < ? AND answer_ms IS NOT NULL`, from, to)
		n := 0
		for rows.Next() {
			var a, b int64
			rows.Scan(&a, &b)
			n++
		}
		rows.Close()
		t.Logf("rows: %d in %s", n, time.Since(start))
		start = time.Now()
		var s1, s2 string
		db.QueryRow(`SELECT group_concat(answer_ms), group_concat(answer_business_ms) FROM replies WHERE sent_at >= ? AND sent_at < ? AND answer_ms IS NOT NULL`, from, to).Scan(&s1, &s2)
		vals := strings.Split(s1, ",")
		for _, v := range vals {
			strconv.ParseInt(v, 10, 64)
		}
		t.Logf("concat: %d in %s", len(vals), time.Since(start))
		start = time.Now()
		var c int64
		db.QueryRow(`SELECT COUNT(*) FROM replies WHERE sent_at >= ? AND sent_at < ? AND answer_ms IS NOT NULL`, from, to).Scan(&c)
		t.Logf("count: %d in %s", c, time.Since(start))
		start = time.Now()
		rows, _ = db.Query(`SELECT agent_id, COUNT(*), SUM(answer_ms) FROM replies WHERE sent_at >= ? AND sent_at < ? AND answer_ms IS NOT NULL GROUP BY agent_id`, from, to)
		for rows.Next() {
		}
		rows.Close()
		t.Logf("group by agent: %s", time.Since(start))
	}
}
