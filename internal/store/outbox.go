package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/outbox"
)

// The states of an outbox job.
const (
	jobPending = "pending"
	jobDone    = "done"
	jobFailed  = "failed"
)

// enqueue adds the delivery job of a reply, due now.
func (tx *txn) enqueue(ctx context.Context, messageID, conversationID, channelID int64) error {
	now := millis(tx.now)
	_, err := tx.exec(ctx, `INSERT INTO outbox (message_id, conversation_id, channel_id, state, next_attempt_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, messageID, conversationID, channelID, jobPending, now, now, now)
	return wrap(err, "enqueue reply %d", messageID)
}

// ClaimJobs leases up to limit due jobs to owner until now+lease: the oldest
// pending job of each request whose earlier jobs are all finished, so a
// request's replies go out one at a time and in order. On PostgreSQL, locked
// rows are skipped, so instances never lease the same job.
func (db *DB) ClaimJobs(ctx context.Context, owner string, lease time.Duration, limit int) ([]outbox.Job, error) {
	const due = `SELECT o.id FROM outbox o
		WHERE o.state = ? AND o.next_attempt_at <= ? AND o.lease_until < ?
		AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.conversation_id = o.conversation_id AND p.state = ? AND p.id < o.id)
		ORDER BY o.next_attempt_at, o.id LIMIT ?`
	// Workers poll often: looking costs a read, only leasing takes the writer.
	var found int64
	now := millis(db.Now())
	err := db.reader().queryRow(ctx, due, jobPending, now, now, jobPending, 1).Scan(&found)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap(err, "look for outbox jobs")
	}
	var jobs []outbox.Job
	err = db.tx(ctx, func(tx *txn) error {
		now := millis(tx.now)
		rows, err := tx.query(ctx, due+tx.d.skipLocked(), jobPending, now, now, jobPending, limit)
		ids, err := collect(rows, err, scanInt64)
		if err != nil {
			return err
		}
		for _, id := range ids {
			var j outbox.Job
			err := tx.queryRow(ctx, `UPDATE outbox SET lease_owner = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?
				WHERE id = ? RETURNING id, message_id, conversation_id, channel_id, attempts`, owner, now+lease.Milliseconds(), now, id).
				Scan(&j.ID, &j.MessageID, &j.ConversationID, &j.ChannelID, &j.Attempts)
			if err != nil {
				return err
			}
			jobs = append(jobs, j)
		}
		return nil
	})
	return jobs, wrap(err, "claim outbox jobs")
}

// JobRecipient returns who a job's reply goes to: the platform id of the
// request's client identity.
func (db *DB) JobRecipient(ctx context.Context, conversationID int64) (string, error) {
	var to string
	err := db.reader().queryRow(ctx, `SELECT i.external_id FROM conversations c JOIN identities i ON i.id = c.identity_id WHERE c.id = ?`, conversationID).Scan(&to)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errs.NotFound("request")
	}
	return to, wrap(err, "recipient of request %d", conversationID)
}

// finishJob ends a job still leased by owner and moves its reply's delivery
// state, telling the workspace. A job whose lease was lost (another worker
// has it now) changes nothing.
func (db *DB) finishJob(ctx context.Context, j outbox.Job, owner, state, delivery, reason, externalID string) error {
	err := db.tx(ctx, func(tx *txn) error {
		now := millis(tx.now)
		if err := tx.execOne(ctx, "outbox job", `UPDATE outbox SET state = ?, last_error = ?, lease_owner = '', lease_until = 0, updated_at = ?
			WHERE id = ? AND lease_owner = ? AND state = ?`, state, reason, now, j.ID, owner, jobPending); err != nil {
			return err
		}
		var external any
		if externalID != "" {
			// An id another message has (a platform that reuses ids, a
			// fake) is not kept: the reply's later statuses cannot be
			// matched then, but it is recorded as sent and never sent again.
			var n int
			if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM messages WHERE channel_id = ? AND external_id = ?`, j.ChannelID, externalID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				external = externalID
			}
		}
		if _, err := tx.exec(ctx, `UPDATE messages SET delivery = ?, delivery_error = ?, external_id = COALESCE(?, external_id) WHERE id = ?`,
			delivery, reason, external, j.MessageID); err != nil {
			return err
		}
		return tx.emitMessageUpdated(ctx, j.MessageID)
	})
	return wrap(err, "finish outbox job %d", j.ID)
}

// CompleteJob records a sent reply and its platform id.
func (db *DB) CompleteJob(ctx context.Context, j outbox.Job, owner, externalID string) error {
	return db.finishJob(ctx, j, owner, jobDone, cv.DeliverySent, "", externalID)
}

// FailJob gives a reply up with the platform's reason.
func (db *DB) FailJob(ctx context.Context, j outbox.Job, owner, reason string) error {
	return db.finishJob(ctx, j, owner, jobFailed, cv.DeliveryFailed, reason, "")
}

// RetryJob releases a job to be tried again at a later time.
func (db *DB) RetryJob(ctx context.Context, j outbox.Job, owner string, at time.Time, reason string) error {
	err := db.tx(ctx, func(tx *txn) error {
		return tx.execOne(ctx, "outbox job", `UPDATE outbox SET next_attempt_at = ?, last_error = ?, lease_owner = '', lease_until = 0, updated_at = ?
			WHERE id = ? AND lease_owner = ? AND state = ?`, millis(at), reason, millis(tx.now), j.ID, owner, jobPending)
	})
	return wrap(err, "retry outbox job %d", j.ID)
}

// RetryDelivery queues a failed reply again (the agent's "Retry").
func (db *DB) RetryDelivery(ctx context.Context, messageID int64, check cv.Check) (cv.Message, error) {
	var m cv.Message
	err := db.tx(ctx, func(tx *txn) error {
		var err error
		if m, err = scanMessage(tx.queryRow(ctx, `SELECT `+messageColumns+` FROM messages WHERE id = ?`+tx.d.lockRow(), messageID)); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return errs.NotFound("message")
			}
			return err
		}
		c, err := lockChecked(ctx, tx, m.ConversationID, check)
		if err != nil {
			return err
		}
		if m.Kind != cv.Reply || m.Delivery != cv.DeliveryFailed {
			return errs.Conflict("not_failed", "only a reply that failed to send can be sent again")
		}
		if err := tx.enqueue(ctx, m.ID, c.ID, c.ChannelID); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE messages SET delivery = ?, delivery_error = '' WHERE id = ?`, cv.DeliveryQueued, m.ID); err != nil {
			return err
		}
		m.Delivery, m.DeliveryError = cv.DeliveryQueued, ""
		return tx.emitMessageUpdated(ctx, m.ID)
	})
	return m, wrap(err, "retry delivery of message %d", messageID)
}

// deliveryRank orders delivery states: a state never moves back.
var deliveryRank = map[string]int{cv.DeliveryQueued: 1, cv.DeliverySent: 2, cv.DeliveryDelivered: 3, cv.DeliveryRead: 4}

// SetDelivery applies a platform's delivery status to the reply it sent as
// externalID. Unknown ids and states that would move backwards change nothing.
func (db *DB) SetDelivery(ctx context.Context, channelID int64, externalID, state, reason string) error {
	err := db.tx(ctx, func(tx *txn) error {
		var id int64
		var current string
		err := tx.queryRow(ctx, `SELECT id, delivery FROM messages WHERE channel_id = ? AND external_id = ? AND kind = ?`+tx.d.lockRow(),
			channelID, externalID, cv.Reply).Scan(&id, &current)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if state != cv.DeliveryFailed && deliveryRank[state] <= deliveryRank[current] || current == state {
			return nil
		}
		if _, err := tx.exec(ctx, `UPDATE messages SET delivery = ?, delivery_error = ? WHERE id = ?`, state, reason, id); err != nil {
			return err
		}
		return tx.emitMessageUpdated(ctx, id)
	})
	return wrap(err, "set delivery on channel %d", channelID)
}

// SetDeliveryUpTo applies a status that means "everything up to here": the
// replies of the conversation of the reply with externalID up to it, or —
// without an id — the replies to the recipient's identity on the channel
// sent at or before a time. States only move forward; a few hundred recent
// replies at most are touched (older ones moved long ago).
func (db *DB) SetDeliveryUpTo(ctx context.Context, channelID int64, recipient, externalID string, before time.Time, state string) error {
	err := db.tx(ctx, func(tx *txn) error {
		var lower []any
		for s, rank := range deliveryRank {
			if rank < deliveryRank[state] {
				lower = append(lower, s)
			}
		}
		if len(lower) == 0 {
			return nil
		}
		in := `(?` + strings.Repeat(`, ?`, len(lower)-1) + `)`
		var q string
		var args []any
		if externalID != "" {
			q = `SELECT m.id FROM messages m JOIN messages last ON last.channel_id = ? AND last.external_id = ? AND last.kind = ?
				WHERE m.conversation_id = last.conversation_id AND m.id <= last.id AND m.kind = ? AND m.delivery IN ` + in + ` ORDER BY m.id DESC LIMIT 200`
			args = append([]any{channelID, externalID, cv.Reply, cv.Reply}, lower...)
		} else {
			q = `SELECT m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id JOIN identities i ON i.id = c.identity_id
				WHERE c.channel_id = ? AND i.external_id = ? AND m.kind = ? AND m.created_at <= ? AND m.delivery IN ` + in + ` ORDER BY m.id DESC LIMIT 200`
			args = append([]any{channelID, recipient, cv.Reply, millis(before)}, lower...)
		}
		rows, err := tx.query(ctx, q, args...)
		ids, err := collect(rows, err, scanInt64)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := tx.exec(ctx, `UPDATE messages SET delivery = ? WHERE id = ?`, state, id); err != nil {
				return err
			}
			if err := tx.emitMessageUpdated(ctx, id); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap(err, "set delivery up to on channel %d", channelID)
}

// EditClientMessage applies a client's edit of a message sent before: the
// text changes and is marked edited (the workspace shows "edited"). An
// unknown message changes nothing.
func (db *DB) EditClientMessage(ctx context.Context, channelID int64, externalID, text string) error {
	err := db.tx(ctx, func(tx *txn) error {
		var id int64
		err := tx.queryRow(ctx, `SELECT id FROM messages WHERE channel_id = ? AND external_id = ? AND kind = ?`+tx.d.lockRow(),
			channelID, externalID, cv.FromClient).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE messages SET body = ?, edited_at = ? WHERE id = ?`, text, millis(tx.now), id); err != nil {
			return err
		}
		return tx.emitMessageUpdated(ctx, id)
	})
	return wrap(err, "edit message on channel %d", channelID)
}

// HasMessage reports whether a channel message with this platform id is stored.
func (db *DB) HasMessage(ctx context.Context, channelID int64, externalID string) (bool, error) {
	var n int
	err := db.reader().queryRow(ctx, `SELECT COUNT(*) FROM messages WHERE channel_id = ? AND external_id = ?`, channelID, externalID).Scan(&n)
	return n > 0, wrap(err, "find message on channel %d", channelID)
}

// emitMessageUpdated tells the request's viewers that a message changed.
func (tx *txn) emitMessageUpdated(ctx context.Context, messageID int64) error {
	m, err := scanMessage(tx.queryRow(ctx, `SELECT `+messageColumns+` FROM messages WHERE id = ?`, messageID))
	if err != nil {
		return err
	}
	c, err := loadConversation(ctx, tx.run, m.ConversationID, false)
	if err != nil {
		return err
	}
	tx.emit(conversationEvent(cv.EventMessageUpdated, c, c.AssigneeID, conversationData{Conversation: c, Message: &m}))
	return nil
}
