package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/switchboard-hq/switchboard/internal/supervision"
)

// ManagementChats returns one page of the open live requests in the order of
// q.Sort; see supervision.Store. Each order is an index scan without a
// sort: duration and created walk conversations_active_created up or down,
// activity walks conversations_live (or conversations_live_kind with a
// channel). The filters are applied within that scan, which never holds
// more than the open live requests. BenchmarkActiveChatsFirstPage checks
// the plans on both engines.
func (db *DB) ManagementChats(ctx context.Context, q supervision.ChatQuery, after supervision.Cursor, limit int) ([]supervision.Chat, error) {
	query, args := managementChatsQuery(db.dialect, q, after, limit)
	rows, err := db.reader().query(ctx, query, args...)
	out, err := collect(rows, err, func(row scanner) (supervision.Chat, error) {
		var ch supervision.Chat
		var err error
		ch.Conversation, err = scanConversation(withMore{row, []any{&ch.AssigneeName, &ch.DepartmentName}})
		return ch, err
	})
	for i := range out {
		if err == nil {
			err = db.reader().bindSLA(ctx, &out[i].Conversation)
		}
	}
	return out, wrap(err, "list active chats")
}

// managementChatsQuery is the SQL of one page of the active chats.
func managementChatsQuery(d dialect, q supervision.ChatQuery, after supervision.Cursor, limit int) (string, []any) {
	where := []string{`c.closed_at IS NULL`, `c.mode = 'live'`}
	var args []any
	// The keyset is spelled out rather than as a row comparison: PostgreSQL
	// estimates (a, b) > (x, y) far too low and would sort the rest of the
	// list instead of reading the index in order.
	var order, keyset string
	switch q.Sort {
	case supervision.SortActivity:
		order, keyset = `c.last_message_at DESC, c.id DESC`, `c.last_message_at <= ? AND (c.last_message_at < ? OR c.id < ?)`
	case supervision.SortCreated:
		order, keyset = `c.created_at DESC, c.id DESC`, `c.created_at <= ? AND (c.created_at < ? OR c.id < ?)`
	default:
		order, keyset = `c.created_at, c.id`, `c.created_at >= ? AND (c.created_at > ? OR c.id > ?)`
	}
	if q.Kind != "" {
		kind := `c.channel_kind = ?`
		if q.Sort != supervision.SortActivity && d == sqlite {
			// SQLite would pick conversations_live_kind for the equality and
			// sort every open request of the channel; the unary plus keeps
			// it on the order's index. (PostgreSQL has no unary plus on text
			// and weighs both indexes with its statistics.)
			kind = `+c.channel_kind = ?`
		}
		where, args = append(where, kind), append(args, q.Kind)
	}
	if q.DepartmentID != 0 {
		where, args = append(where, `c.department_id = ?`), append(args, q.DepartmentID)
	}
	if !after.IsZero() {
		where, args = append(where, keyset), append(args, millis(after.At), millis(after.At), after.ID)
	}
	query := `SELECT ` + conversationColumns + `, COALESCE(a.name, ''), COALESCE(d.name, '')` + conversationFrom +
		`LEFT JOIN agents a ON a.id = c.assignee_id LEFT JOIN departments d ON d.id = c.department_id
		WHERE ` + strings.Join(where, ` AND `) + ` ORDER BY ` + order + ` LIMIT ?`
	return query, append(args, limit)
}

// withMore scans the columns a scan function knows, then more.
type withMore struct {
	row  scanner
	more []any
}

func (w withMore) Scan(dest ...any) error { return w.row.Scan(append(dest, w.more...)...) }

// managementAgents is every active agent with the omnichannel right, with
// their presence, load, capacity and last reply; each per-agent figure is
// an index lookup (conversations_assignee, group_members, messages_author).
const managementAgents = `SELECT a.id, a.name, a.avatar, a.presence, COALESCE(r.name, ''), a.presence_since, a.connected_until,
	(SELECT COUNT(*) FROM conversations c WHERE c.assignee_id = a.id AND c.closed_at IS NULL AND c.mode = 'live'),
	COALESCE((SELECT MAX(dr.capacity) FROM group_members gm JOIN dispatch_rules dr ON dr.group_id = gm.group_id
		WHERE gm.agent_id = a.id AND dr.enabled = ?), 0),
	(SELECT m.created_at FROM messages m WHERE m.author_id = a.id AND m.kind = 'reply' ORDER BY m.created_at DESC LIMIT 1)
	FROM agents a LEFT JOIN away_reasons r ON r.id = a.away_reason_id AND a.presence = 'away'
	WHERE a.active = ? AND (a.is_admin = ? OR EXISTS (SELECT 1 FROM group_members gm JOIN agent_groups g ON g.id = gm.group_id
		WHERE gm.agent_id = a.id AND (' ' || g.rights || ' ') LIKE '% omnichannel %'))
	ORDER BY a.name, a.id`

// managementMetrics sums, per agent, the metrics of the replies written in
// [from, to) by the agents listed in its IN (…) (docs/supervision.md,
// Metrics). It starts from each agent's replies of the window
// (messages_author, one index range per agent) and looks at each reply's
// request only around that reply (messages_conversation), never at whole
// histories.
//
// For each reply r of agent A in request C:
//
//   - assigned is when C was assigned to A: C.assigned_at when A holds C
//     since before r. When A held C before (the previous assignee, or an
//     assignment older than assigned_at's), it is the system line (take,
//     transfer, dispatch) just before A's first reply in C, else C's
//     creation. NULL when A never held C (a supervisor's reply): such a
//     reply counts only as a reply.
//   - prev is the reply (anyone's) just before r in C.
//   - r is a first reply when A wrote no reply in C between assigned and r:
//     prev tells at once unless someone else wrote it.
//   - asked is the first client message after both assigned and prev: the
//     start of the run of client messages that r answers; NULL when r
//     answers none.
//
// Both CTEs are materialized so that each correlated subquery runs once per
// reply.
const managementMetrics = `WITH r AS MATERIALIZED (
	SELECT m.id, m.conversation_id AS cid, m.author_id AS aid, m.created_at AS sent_at,
		CASE WHEN c.assignee_id = m.author_id AND c.assigned_at IS NOT NULL AND c.assigned_at <= m.created_at THEN c.assigned_at
		WHEN c.assignee_id = m.author_id OR c.previous_assignee_id = m.author_id THEN COALESCE(
			(SELECT e.created_at FROM messages e WHERE e.conversation_id = m.conversation_id AND e.kind = 'event' AND e.id < (
				SELECT f.id FROM messages f WHERE f.conversation_id = m.conversation_id AND f.kind = 'reply' AND f.author_id = m.author_id
				ORDER BY f.id LIMIT 1)
			ORDER BY e.id DESC LIMIT 1), c.created_at)
		END AS assigned,
		(SELECT p.id FROM messages p WHERE p.conversation_id = m.conversation_id AND p.kind = 'reply' AND p.id < m.id
			ORDER BY p.id DESC LIMIT 1) AS prev
	FROM messages m JOIN conversations c ON c.id = m.conversation_id
	WHERE m.author_id IN (%s) AND m.kind = 'reply' AND m.created_at >= ? AND m.created_at < ?
), s AS MATERIALIZED (
	SELECT r.aid, r.sent_at, r.assigned,
		CASE WHEN r.assigned IS NULL THEN 0
		WHEN pp.id IS NULL THEN 1
		WHEN pp.author_id = r.aid THEN CASE WHEN pp.created_at < r.assigned THEN 1 ELSE 0 END
		WHEN NOT EXISTS (SELECT 1 FROM messages q WHERE q.conversation_id = r.cid AND q.kind = 'reply'
			AND q.author_id = r.aid AND q.id < r.id AND q.created_at >= r.assigned) THEN 1 ELSE 0 END AS is_first,
		(SELECT cm.created_at FROM messages cm WHERE cm.conversation_id = r.cid AND cm.kind = 'client'
			AND cm.id > COALESCE(r.prev, 0) AND cm.id < r.id AND cm.created_at >= r.assigned
			ORDER BY cm.id LIMIT 1) AS asked
	FROM r LEFT JOIN messages pp ON pp.id = r.prev
)
SELECT aid, COUNT(*),
	CAST(SUM(is_first) AS BIGINT), CAST(COALESCE(SUM(CASE WHEN is_first = 1 THEN sent_at - assigned END), 0) AS BIGINT),
	COUNT(asked), CAST(COALESCE(SUM(sent_at - asked), 0) AS BIGINT)
FROM s GROUP BY aid`

// metricsQuery is managementMetrics for the agents ids.
func metricsQuery(ids []int64, from, to time.Time) (string, []any) {
	args := make([]any, 0, len(ids)+2)
	for _, id := range ids {
		args = append(args, id)
	}
	return fmt.Sprintf(managementMetrics, `?`+strings.Repeat(`, ?`, len(ids)-1)), append(args, millis(from), millis(to))
}

// ManagementAgents returns the agents at work; see supervision.Store.
func (db *DB) ManagementAgents(ctx context.Context) ([]supervision.Agent, error) {
	rows, err := db.reader().query(ctx, managementAgents, true, true, true)
	agents, err := collect(rows, err, func(row scanner) (supervision.Agent, error) {
		var a supervision.Agent
		var since, until int64
		var last sql.NullInt64
		err := row.Scan(&a.ID, &a.Name, &a.Avatar, &a.Presence, &a.Reason, &since, &until, &a.ActiveChats, &a.Capacity, &last)
		a.Since, a.ConnectedUntil = fromMillis(since), fromMillis(until)
		if last.Valid {
			t := fromMillis(last.Int64)
			a.LastReplyAt = &t
		}
		return a, err
	})
	return agents, wrap(err, "list agents at work")
}

// ManagementMetrics sums the metrics of the replies of the agents ids
// written in [from, to); see supervision.Store.
func (db *DB) ManagementMetrics(ctx context.Context, ids []int64, from, to time.Time) (map[int64]supervision.Sums, error) {
	out := map[int64]supervision.Sums{}
	if len(ids) == 0 || !from.Before(to) {
		return out, nil
	}
	query, args := metricsQuery(ids, from, to)
	rows, err := db.reader().query(ctx, query, args...)
	if err != nil {
		return nil, wrap(err, "metrics of agents")
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var m supervision.Sums
		if err := rows.Scan(&id, &m.Replies, &m.FirstReplies, &m.FirstReplyMillis, &m.Answers, &m.AnswerMillis); err != nil {
			return nil, wrap(err, "metrics of agents")
		}
		out[id] = m
	}
	return out, wrap(rows.Err(), "metrics of agents")
}
