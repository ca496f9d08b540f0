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

// SeedFloor fills an empty database with a busy team's history, for load
// tests and benchmarks: agents (ids 1..agents, Online or Away, connected,
// each with a working day of presence periods for every day of the span),
// one dispatched group, three departments, four channels, 100,000 clients
// and n requests spread evenly over span before now.
//
// The newest 10,000 requests are open and live, half of them assigned:
// each was taken 30 s after it came and answered 30 s later; every other
// one had a second question answered too. Each older request is closed:
// one in fifty unanswered (two messages); every other one taken 30 s after
// it came, answered within 15 minutes (a third of them past the default
// policy's 10-minute first response: breached), then three more questions
// answered, then closed — ten messages, with its replies recorded for the
// metrics. One in fifty was transferred, one in twenty reopened.
//
// It writes with a few set-based statements, so a million requests and ten
// million messages take minutes, not hours.
func (db *DB) SeedFloor(ctx context.Context, n, agents int, span time.Duration, now time.Time) (Seeded, error) {
	const clients = 100_000
	open := min(10_000, n)
	at := millis(now)
	step := max(1, span.Milliseconds()/int64(max(n, 1)))
	days := int(span/(24*time.Hour)) + 1
	seq := `WITH RECURSIVE seq(n) AS (SELECT CAST(1 AS BIGINT) UNION ALL SELECT n + 1 FROM seq WHERE n < ?) `
	assigned := `FROM conversations c WHERE c.closed_at IS NULL AND c.assignee_id IS NOT NULL`
	// The closed, answered requests: the first reply R1 = first_reply_at,
	// then question k (2..4) at R1 + (k-2) * 5 min + 1 min, answered
	// within 205 s; closed 15 minutes after R1.
	answered := `FROM conversations c WHERE c.closed_at IS NOT NULL AND c.assignee_id IS NOT NULL`
	question := func(k int) string { return fmt.Sprintf(`c.first_reply_at + %d`, (k-2)*300_000+60_000) }
	answer := func(k int) string { return fmt.Sprintf(`%s + (c.id * %d %% 200 + 5) * 1000`, question(k), k) }
	type statement struct {
		q    string
		args []any
	}
	statements := []statement{
		{seq + `INSERT INTO agents (id, email, name, password_hash, presence, presence_since, connected_until, created_at, updated_at)
			SELECT n, 'agent' || n || '@example.com', 'Agent ' || n, 'x', CASE WHEN n % 3 = 0 THEN 'away' ELSE 'online' END, 0, ?, 0, 0 FROM seq`,
			[]any{agents, at + 60_000}},
		// Every day of the span: Online 08:00–12:00, Away until 13:00, Online until 17:00 (UTC), Offline since.
		{seq + `INSERT INTO presence_log (agent_id, presence, started_at, ended_at)
			SELECT a.id, p.presence, d.start + p.from_ms, d.start + p.to_ms
			FROM agents a, (SELECT ? - (? - n) * 86400000 AS start FROM seq) d,
				(SELECT 'online' AS presence, 28800000 AS from_ms, 43200000 AS to_ms UNION ALL SELECT 'away', 43200000, 46800000
				UNION ALL SELECT 'online', 46800000, 61200000 UNION ALL SELECT 'offline', 61200000, 115200000) p`,
			[]any{days, at / 86_400_000 * 86_400_000, days}},
		{`INSERT INTO agent_groups (id, name, rights, created_at, updated_at) VALUES (1, 'Support', 'omnichannel omnichannel.unassigned', 0, 0)`, nil},
		{seq + `INSERT INTO group_members (group_id, agent_id) SELECT 1, n FROM seq`, []any{agents}},
		{`INSERT INTO dispatch_rules (group_id, enabled, capacity, updated_at) VALUES (1, ?, 5, 0)`, []any{true}},
		{`INSERT INTO departments (id, name, created_at, updated_at) VALUES (1, 'Sales', 0, 0), (2, 'Support', 0, 0), (3, 'Billing', 0, 0)`, nil},
		{`INSERT INTO channels (id, kind, name, department_id, group_id, created_at, updated_at) VALUES
			(1, 'api', 'Shop', 1, 1, 0, 0), (2, 'telegram', 'Bot', 2, 1, 0, 0), (3, 'widget', 'Site', 3, 1, 0, 0), (4, 'api', 'CRM', 2, 1, 0, 0)`, nil},
		{seq + `INSERT INTO clients (id, name, created_at, updated_at) SELECT n, 'Client ' || n, 0, 0 FROM seq`, []any{clients}},
		{seq + `INSERT INTO identities (id, client_id, kind, external_id, created_at) SELECT n, n, 'api', 'c' || n, 0 FROM seq`, []any{clients}},
		// Request n came (N - n) steps before now; an open one's last
		// message some minutes later, so that activity and creation disagree.
		{seq + `INSERT INTO conversations (id, channel_id, channel_kind, client_id, identity_id, department_id, group_id, assignee_id, assigned_at,
			status_id, mode, subject, last_message_at, last_message_kind, created_at, updated_at, closed_at,
			sla_policy_id, sla_measured, first_reply_at, reopened)
			SELECT n, n % 4 + 1, CASE n % 4 WHEN 1 THEN 'telegram' WHEN 2 THEN 'widget' ELSE 'api' END, n % ? + 1, n % ? + 1,
				CASE n % 4 WHEN 0 THEN 1 WHEN 2 THEN 3 ELSE 2 END, 1,
				CASE WHEN (n > ? AND n % 2 = 0) OR (n <= ? AND n % 50 <> 0) THEN n / 2 % ? + 1 END,
				CASE WHEN (n > ? AND n % 2 = 0) OR (n <= ? AND n % 50 <> 0) THEN ? - (? - n) * ? + 30000 END,
				CASE WHEN n <= ? THEN 4 ELSE 1 END, CASE WHEN n <= ? AND n % 97 = 0 THEN 'classic' ELSE 'live' END, 'Subject',
				? - (? - n) * ? + n * 7919 % 600 * 1000, 'client', ? - (? - n) * ?, ? - (? - n) * ?,
				CASE WHEN n <= ? THEN ? - (? - n) * ? + 60000 END,
				(SELECT id FROM sla_policies WHERE is_default), 1,
				CASE WHEN n <= ? AND n % 50 <> 0 THEN ? - (? - n) * ? + 30000 + n * 7919 % 900 * 1000 END, n % 20 = 0
			FROM seq`,
			[]any{n, clients, clients, n - open, n - open, agents, n - open, n - open, at, n, step, n - open, n - open,
				at, n, step, at, n, step, at, n, step, n - open, at, n, step, n - open, at, n, step}},
		{`UPDATE conversations SET first_reply_at = assigned_at + id % 60 * 1000 WHERE closed_at IS NULL AND assignee_id IS NOT NULL`, nil},
		// A closed request's close comes 15 minutes after its first reply;
		// the first response is breached past 10 minutes.
		{`UPDATE conversations SET closed_at = first_reply_at + 900000, last_message_at = first_reply_at + 900000, last_message_kind = 'event',
			resolution_business_ms = first_reply_at + 900000 - created_at,
			sla_breached = CASE WHEN first_reply_at - created_at > 600000 THEN 1 ELSE 0 END WHERE closed_at IS NOT NULL AND first_reply_at IS NOT NULL`, nil},
		{`UPDATE conversations SET resolution_business_ms = closed_at - created_at WHERE closed_at IS NOT NULL AND first_reply_at IS NULL`, nil},
		// The client's first message, then for the open assigned requests
		// the take, the answer, a second question and its answer.
		{`INSERT INTO messages (conversation_id, channel_id, kind, body, created_at)
			SELECT id, channel_id, 'client', 'Question', created_at FROM conversations ORDER BY id`, nil},
		{`INSERT INTO messages (conversation_id, channel_id, kind, author_id, body, created_at)
			SELECT c.id, c.channel_id, 'event', c.assignee_id, 'took the request', c.assigned_at FROM conversations c
			WHERE c.assignee_id IS NOT NULL ORDER BY c.id`, nil},
		{`INSERT INTO messages (conversation_id, channel_id, kind, author_id, body, created_at)
			SELECT c.id, c.channel_id, 'reply', c.assignee_id, 'Answer', c.assigned_at + c.id % 60 * 1000 ` + assigned + ` ORDER BY c.id`, nil},
		{`INSERT INTO messages (conversation_id, channel_id, kind, body, created_at)
			SELECT c.id, c.channel_id, 'client', 'Another question', c.assigned_at + 90000 ` + assigned + ` AND c.id % 4 = 0 ORDER BY c.id`, nil},
		{`INSERT INTO messages (conversation_id, channel_id, kind, author_id, body, created_at)
			SELECT c.id, c.channel_id, 'reply', c.assignee_id, 'Another answer', c.assigned_at + 90000 + c.id % 120 * 1000 ` + assigned + ` AND c.id % 4 = 0 ORDER BY c.id`, nil},
		// The closed requests' conversations.
		{`INSERT INTO messages (conversation_id, channel_id, kind, author_id, body, created_at)
			SELECT c.id, c.channel_id, 'reply', c.assignee_id, 'Answer', c.first_reply_at ` + answered + ` ORDER BY c.id`, nil},
	}
	for k := 2; k <= 4; k++ {
		statements = append(statements,
			statement{`INSERT INTO messages (conversation_id, channel_id, kind, body, created_at)
				SELECT c.id, c.channel_id, 'client', 'Another question', ` + question(k) + ` ` + answered + ` ORDER BY c.id`, nil},
			statement{`INSERT INTO messages (conversation_id, channel_id, kind, author_id, body, created_at)
				SELECT c.id, c.channel_id, 'reply', c.assignee_id, 'Another answer', ` + answer(k) + ` ` + answered + ` ORDER BY c.id`, nil})
	}
	statements = append(statements,
		statement{`INSERT INTO messages (conversation_id, channel_id, kind, body, created_at)
			SELECT c.id, c.channel_id, 'client', 'Thank you!', c.closed_at - 30000 ` + answered + ` ORDER BY c.id`, nil},
		statement{`INSERT INTO messages (conversation_id, channel_id, kind, author_id, body, created_at)
			SELECT c.id, c.channel_id, 'event', c.assignee_id, 'closed the request', c.closed_at FROM conversations c WHERE c.closed_at IS NOT NULL ORDER BY c.id`, nil},
		// The replies as the write path records them: the first from the
		// take; each later one answers the question just before it.
		statement{`INSERT INTO replies (message_id, conversation_id, agent_id, channel_id, department_id, group_id, sent_at,
				first_ms, first_business_ms, answer_ms, answer_business_ms)
			SELECT m.id, c.id, m.author_id, c.channel_id, c.department_id, c.group_id, m.created_at,
				CASE WHEN m.body = 'Answer' THEN m.created_at - c.assigned_at END, CASE WHEN m.body = 'Answer' THEN m.created_at - c.assigned_at END,
				CASE WHEN m.body = 'Answer' THEN NULL WHEN c.closed_at IS NULL THEN m.created_at - c.assigned_at - 90000
					ELSE (m.created_at - c.first_reply_at - 60000) % 300000 END,
				CASE WHEN m.body = 'Answer' THEN NULL WHEN c.closed_at IS NULL THEN m.created_at - c.assigned_at - 90000
					ELSE (m.created_at - c.first_reply_at - 60000) % 300000 END
			FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.kind = 'reply' ORDER BY m.id`, nil},
		statement{`INSERT INTO transfers (conversation_id, from_agent_id, to_agent_id, channel_id, department_id, group_id, at)
			SELECT c.id, c.assignee_id % ? + 1, c.assignee_id, c.channel_id, c.department_id, c.group_id, c.assigned_at + 20000
			FROM conversations c WHERE c.assignee_id IS NOT NULL AND c.id % 50 = 1 ORDER BY c.id`, []any{agents}},
		statement{`ANALYZE`, nil},
	)
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
