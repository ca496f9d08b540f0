package store

import (
	"context"
	"fmt"
	"time"
)

// Seeded is what SeedFloor wrote.
type Seeded struct {
	Requests, Open, Messages, Replies int
}

// SeedFloor fills an empty database with a busy team's floor, for load tests
// and benchmarks: agents (ids 1..agents, Online or Away, connected), one
// dispatched group, three departments, four channels, 100,000 clients and n
// requests of which 10,000 are open (half of them assigned), with their
// messages and today's replies, all in the hours before now. It writes with
// a few set-based statements, so a million requests take seconds.
func (db *DB) SeedFloor(ctx context.Context, n, agents int, now time.Time) (Seeded, error) {
	const clients = 100_000
	open := min(10_000, n)
	at := millis(now)
	seq := `WITH RECURSIVE seq(n) AS (SELECT CAST(1 AS BIGINT) UNION ALL SELECT n + 1 FROM seq WHERE n < ?) `
	assigned := `FROM conversations c WHERE c.closed_at IS NULL AND c.assignee_id IS NOT NULL`
	statements := []struct {
		q    string
		args []any
	}{
		{seq + `INSERT INTO agents (id, email, name, password_hash, presence, presence_since, connected_until, created_at, updated_at)
			SELECT n, 'agent' || n || '@example.com', 'Agent ' || n, 'x', CASE WHEN n % 3 = 0 THEN 'away' ELSE 'online' END, 0, ?, 0, 0 FROM seq`,
			[]any{agents, at + 60_000}},
		{`INSERT INTO agent_groups (id, name, rights, created_at, updated_at) VALUES (1, 'Support', 'omnichannel omnichannel.unassigned', 0, 0)`, nil},
		{seq + `INSERT INTO group_members (group_id, agent_id) SELECT 1, n FROM seq`, []any{agents}},
		{`INSERT INTO dispatch_rules (group_id, enabled, capacity, updated_at) VALUES (1, ?, 5, 0)`, []any{true}},
		{`INSERT INTO departments (id, name, created_at, updated_at) VALUES (1, 'Sales', 0, 0), (2, 'Support', 0, 0), (3, 'Billing', 0, 0)`, nil},
		{`INSERT INTO channels (id, kind, name, department_id, group_id, created_at, updated_at) VALUES
			(1, 'api', 'Shop', 1, 1, 0, 0), (2, 'telegram', 'Bot', 2, 1, 0, 0), (3, 'widget', 'Site', 3, 1, 0, 0), (4, 'api', 'CRM', 2, 1, 0, 0)`, nil},
		{seq + `INSERT INTO clients (id, name, created_at, updated_at) SELECT n, 'Client ' || n, 0, 0 FROM seq`, []any{clients}},
		{seq + `INSERT INTO identities (id, client_id, kind, external_id, created_at) SELECT n, n, 'api', 'c' || n, 0 FROM seq`, []any{clients}},
		// Request n came (N - n) seconds before now; its last message some
		// minutes later, so that activity and creation disagree.
		{seq + `INSERT INTO conversations (id, channel_id, channel_kind, client_id, identity_id, department_id, group_id, assignee_id, assigned_at,
			status_id, mode, subject, last_message_at, last_message_kind, created_at, updated_at, closed_at)
			SELECT n, n % 4 + 1, CASE n % 4 WHEN 1 THEN 'telegram' WHEN 2 THEN 'widget' ELSE 'api' END, n % ? + 1, n % ? + 1,
				CASE n % 4 WHEN 0 THEN 1 WHEN 2 THEN 3 ELSE 2 END, 1,
				CASE WHEN n > ? AND n % 2 = 0 THEN n / 2 % ? + 1 END, CASE WHEN n > ? AND n % 2 = 0 THEN ? - (? - n) * 1000 + 30000 END,
				1, CASE WHEN n <= ? AND n % 97 = 0 THEN 'classic' ELSE 'live' END, 'Subject',
				? - (? - n) * 1000 + n * 7919 % 600 * 1000, 'client', ? - (? - n) * 1000, ? - (? - n) * 1000,
				CASE WHEN n > ? THEN NULL ELSE ? - (? - n) * 1000 END FROM seq`,
			[]any{n, clients, clients, n - open, agents, n - open, at, n, n - open, at, n, at, n, at, n, n - open, at, n}},
		// The client's first message, then for the assigned requests the
		// take, the answer, a second question and its answer.
		{`INSERT INTO messages (conversation_id, channel_id, kind, body, created_at)
			SELECT id, channel_id, 'client', 'Question', created_at FROM conversations ORDER BY id`, nil},
		{`INSERT INTO messages (conversation_id, channel_id, kind, author_id, body, created_at)
			SELECT c.id, c.channel_id, 'event', c.assignee_id, 'took the request', c.assigned_at ` + assigned + ` ORDER BY c.id`, nil},
		{`INSERT INTO messages (conversation_id, channel_id, kind, author_id, body, created_at)
			SELECT c.id, c.channel_id, 'reply', c.assignee_id, 'Answer', c.assigned_at + c.id % 60 * 1000 ` + assigned + ` ORDER BY c.id`, nil},
		{`INSERT INTO messages (conversation_id, channel_id, kind, body, created_at)
			SELECT c.id, c.channel_id, 'client', 'Another question', c.assigned_at + 90000 ` + assigned + ` AND c.id % 4 = 0 ORDER BY c.id`, nil},
		{`INSERT INTO messages (conversation_id, channel_id, kind, author_id, body, created_at)
			SELECT c.id, c.channel_id, 'reply', c.assignee_id, 'Another answer', c.assigned_at + 90000 + c.id % 120 * 1000 ` + assigned + ` AND c.id % 4 = 0 ORDER BY c.id`, nil},
		{`ANALYZE`, nil},
	}
	for _, st := range statements {
		if _, err := db.write.ExecContext(ctx, db.dialect.rebind(st.q), st.args...); err != nil {
			return Seeded{}, fmt.Errorf("store: seed: %w", err)
		}
	}
	if db.dialect == postgres {
		// The rows above chose their ids: the identity sequences move past them.
		for _, table := range []string{"agents", "agent_groups", "departments", "channels", "clients", "identities", "conversations"} {
			if _, err := db.write.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('`+table+`', 'id'), (SELECT MAX(id) FROM `+table+`))`); err != nil {
				return Seeded{}, fmt.Errorf("store: seed: move the %s sequence: %w", table, err)
			}
		}
	}
	out := Seeded{Requests: n, Open: open}
	err := db.read.QueryRowContext(ctx, db.dialect.rebind(`SELECT COUNT(*), COUNT(CASE WHEN kind = 'reply' THEN 1 END) FROM messages`)).Scan(&out.Messages, &out.Replies)
	return out, wrap(err, "count seeded messages")
}
