package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
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
	if err == nil {
		bound := make([]*cv.Conversation, len(out))
		for i := range out {
			bound[i] = &out[i].Conversation
		}
		err = db.reader().bindSLA(ctx, bound...)
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

// replySumsQuery sums, per agent, the replies of the agents listed (ids
// placeholders) that match where (docs/supervision.md, Metrics), from the
// replies the write path recorded with what each counts for
// (replies_agent: one index range per agent).
func replySumsQuery(ids int, where string) string {
	return `SELECT r.agent_id, COUNT(*), COUNT(r.first_ms), CAST(COALESCE(SUM(r.first_ms), 0) AS BIGINT),
		COUNT(r.answer_ms), CAST(COALESCE(SUM(r.answer_ms), 0) AS BIGINT)
		FROM replies r WHERE r.agent_id IN (?` + strings.Repeat(`, ?`, ids-1) + `) AND ` + where + ` GROUP BY r.agent_id`
}

// metricsQuery is the day's sums of the agents ids for Management → Agents.
func metricsQuery(ids []int64, from, to time.Time) (string, []any) {
	args := make([]any, 0, len(ids)+2)
	for _, id := range ids {
		args = append(args, id)
	}
	return replySumsQuery(len(ids), `r.sent_at >= ? AND r.sent_at < ?`), append(args, millis(from), millis(to))
}

// replySums runs a replySumsQuery.
func (r run) replySums(ctx context.Context, query string, args ...any) (map[int64]supervision.Sums, error) {
	out := map[int64]supervision.Sums{}
	rows, err := r.query(ctx, query, args...)
	_, err = collect(rows, err, func(row scanner) (int, error) {
		var id int64
		var m supervision.Sums
		err := row.Scan(&id, &m.Replies, &m.FirstReplies, &m.FirstReplyMillis, &m.Answers, &m.AnswerMillis)
		out[id] = m
		return 0, err
	})
	return out, err
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
	if len(ids) == 0 || !from.Before(to) {
		return map[int64]supervision.Sums{}, nil
	}
	query, args := metricsQuery(ids, from, to)
	sums, err := db.reader().replySums(ctx, query, args...)
	return sums, wrap(err, "metrics of agents")
}
