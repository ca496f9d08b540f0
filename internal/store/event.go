package store

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/switchboard-hq/switchboard/internal/conversation"
)

// emit records events to append to the log when the transaction commits.
func (tx *txn) emit(evs ...conversation.Event) {
	tx.pending = append(tx.pending, evs...)
}

// flushEvents appends the transaction's events to the log, right before its
// commit, and remembers the last seq for the after-commit wake-up.
//
// Sequence numbers must never become visible out of order. SQLite has one
// writer at a time, so commit order is seq order. On PostgreSQL the appender
// takes a transaction-scoped advisory lock first, held until commit, so that
// no transaction can commit seq N+1 while N is still in flight — also across
// instances sharing the database. Events are appended last in every
// transaction, in one statement, to keep that lock short. The NOTIFY is sent
// by PostgreSQL only when the transaction commits.
func (tx *txn) flushEvents(ctx context.Context) error {
	evs := tx.pending
	if len(evs) == 0 {
		return nil
	}
	if tx.d == postgres {
		// The wake-up rides on the lock statement: PostgreSQL delivers it
		// only at commit, and listeners read whatever is new then.
		if _, err := tx.exec(ctx, `SELECT pg_advisory_xact_lock(?), pg_notify(?, '')`, tx.db.eventLock, tx.db.notifyChannel); err != nil {
			return fmt.Errorf("lock the event log: %w", err)
		}
	}
	// One statement reads the head and appends: its snapshot is taken after
	// the lock was granted, so it sees every earlier event.
	var b strings.Builder
	b.WriteString(`INSERT INTO events (seq, kind, conversation_id, assignee_id, prev_assignee_id, group_id, queued, payload, created_at)
		SELECT (SELECT COALESCE(MAX(seq), 0) FROM events) + v.i, v.kind, v.conversation_id, v.assignee_id, v.prev_assignee_id, v.group_id, v.queued, v.payload, v.created_at FROM (`)
	args := make([]any, 0, len(evs)*9)
	for i, e := range evs {
		if i > 0 {
			b.WriteString(` UNION ALL `)
		}
		// Typed, because PostgreSQL reads untyped parameters of a UNION as text.
		b.WriteString(`SELECT CAST(? AS BIGINT) AS i, CAST(? AS TEXT) AS kind, CAST(? AS BIGINT) AS conversation_id, CAST(? AS BIGINT) AS assignee_id,
			CAST(? AS BIGINT) AS prev_assignee_id, CAST(? AS BIGINT) AS group_id, CAST(? AS BOOLEAN) AS queued, CAST(? AS TEXT) AS payload, CAST(? AS BIGINT) AS created_at`)
		args = append(args, i+1, e.Kind, nullID(e.ConversationID), nullID(e.AssigneeID), nullID(e.PrevAssigneeID),
			nullID(e.GroupID), e.Queued, string(e.Data), millis(tx.now))
	}
	b.WriteString(`) v RETURNING seq`)
	rows, err := tx.query(ctx, b.String(), args...)
	if err != nil {
		return fmt.Errorf("append events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		if err := rows.Scan(&seq); err != nil {
			return fmt.Errorf("append events: %w", err)
		}
		tx.lastSeq = max(tx.lastSeq, seq)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("append events: %w", err)
	}
	return nil
}

// conversationEvent builds an event about c carrying data, visible by the
// rules of conversation.Viewer. prevAssignee is the assignee before the change.
func conversationEvent(kind string, c conversation.Conversation, prevAssignee int64, data any) conversation.Event {
	payload, _ := json.Marshal(data)
	return conversation.Event{
		Kind: kind, ConversationID: c.ID, Data: payload,
		AssigneeID: c.AssigneeID, PrevAssigneeID: prevAssignee, GroupID: c.GroupID,
		Queued: c.Mode == conversation.Live && (c.AssigneeID == 0 || prevAssignee == 0),
	}
}

// EventsAfter returns up to limit events with seq greater than after, in order.
func (db *DB) EventsAfter(ctx context.Context, after int64, limit int) ([]conversation.Event, error) {
	rows, err := db.reader().query(ctx, `SELECT seq, kind, conversation_id, assignee_id, prev_assignee_id, group_id, queued, payload, created_at
		FROM events WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: events after %d: %w", after, err)
	}
	defer rows.Close()
	var out []conversation.Event
	for rows.Next() {
		var e conversation.Event
		var conv, assignee, prev, group nullInt
		var payload string
		var created int64
		if err := rows.Scan(&e.Seq, &e.Kind, &conv, &assignee, &prev, &group, &e.Queued, &payload, &created); err != nil {
			return nil, fmt.Errorf("store: events after %d: %w", after, err)
		}
		e.ConversationID, e.AssigneeID, e.PrevAssigneeID, e.GroupID = conv.id(), assignee.id(), prev.id(), group.id()
		e.Data, e.CreatedAt = json.RawMessage(payload), fromMillis(created)
		out = append(out, e)
	}
	return out, wrap(rows.Err(), "events after %d", after)
}

// LastSeq returns the newest event's seq, 0 when there is none.
func (db *DB) LastSeq(ctx context.Context) (int64, error) {
	var seq int64
	err := db.reader().queryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM events`).Scan(&seq)
	return seq, wrap(err, "last seq")
}

// schemaKeys derives, from the schema name, the advisory lock key and the
// NOTIFY channel, so that databases sharing one server never share either.
func schemaKeys(schema string) (int64, string) {
	h := fnv.New64a()
	h.Write([]byte("switchboard events " + schema))
	return int64(h.Sum64() >> 1), "switchboard_" + schema
}

// nullInt scans a nullable id; zero means none.
type nullInt struct {
	v     int64
	valid bool
}

func (n *nullInt) Scan(src any) error {
	if src == nil {
		n.v, n.valid = 0, false
		return nil
	}
	switch v := src.(type) {
	case int64:
		n.v = v
	case int32:
		n.v = int64(v)
	default:
		return fmt.Errorf("nullInt: unexpected %T", src)
	}
	n.valid = true
	return nil
}

func (n nullInt) id() int64 { return n.v }

// nullID stores a zero id as NULL.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
