package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/widget"
)

const visitorFields = `id, channel_id, name, email, verified, ip, country, page_url, page_title, referrer, pages_viewed, visit_started_at, last_seen_at`

var visitorColumns = prefixed("v.", visitorFields)

// prefixed qualifies a list of columns with a table alias.
func prefixed(alias, columns string) string {
	return alias + strings.ReplaceAll(columns, ", ", ", "+alias)
}

func scanVisitor(row scanner, more ...any) (widget.Visitor, error) {
	var v widget.Visitor
	var started, seen int64
	err := row.Scan(append([]any{&v.ID, &v.ChannelID, &v.Name, &v.Email, &v.Verified, &v.IP, &v.Country, &v.PageURL, &v.PageTitle,
		&v.Referrer, &v.PagesViewed, &started, &seen}, more...)...)
	v.VisitStartedAt, v.LastSeenAt = fromMillis(started), fromMillis(seen)
	return v, err
}

// collect scans every row with scan.
func collect[T any](rows *sql.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// scanInt64 reads a row of one integer (an id) for collect.
func scanInt64(row scanner) (int64, error) {
	var v int64
	return v, row.Scan(&v)
}

// CreateVisitor stores a new visitor with the hash of their token.
func (db *DB) CreateVisitor(ctx context.Context, v widget.Visitor, tokenHash string) (widget.Visitor, error) {
	err := db.tx(ctx, func(tx *txn) error {
		now := millis(tx.now)
		return tx.queryRow(ctx, `INSERT INTO visitors (channel_id, token_hash, visit_started_at, last_seen_at, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			v.ChannelID, tokenHash, now, now, now).Scan(&v.ID)
	})
	return v, wrap(err, "create visitor")
}

// VisitorByToken finds the visitor holding a token.
func (db *DB) VisitorByToken(ctx context.Context, tokenHash string) (widget.Visitor, error) {
	v, err := scanVisitor(db.reader().queryRow(ctx, `SELECT `+visitorColumns+` FROM visitors v WHERE v.token_hash = ?`, tokenHash))
	if errors.Is(err, sql.ErrNoRows) {
		return v, errs.NotFound("visitor")
	}
	return v, wrap(err, "find visitor")
}

// RecordVisit stores where a visitor is and who they said they are.
func (db *DB) RecordVisit(ctx context.Context, v widget.Visitor, pageView bool, newVisitAfter time.Duration) (widget.Visitor, error) {
	id := v.ID
	err := db.tx(ctx, func(tx *txn) error {
		now := millis(tx.now)
		gone := now - newVisitAfter.Milliseconds()
		view := 0
		if pageView {
			view = 1
		}
		var err error
		v, err = scanVisitor(tx.queryRow(ctx, `UPDATE visitors SET
			visit_started_at = CASE WHEN last_seen_at < ? THEN ? ELSE visit_started_at END,
			pages_viewed = CASE WHEN last_seen_at < ? THEN 1 ELSE pages_viewed + ? END,
			referrer = CASE WHEN last_seen_at < ? OR referrer = '' THEN ? ELSE referrer END,
			name = ?, email = ?, verified = ?, ip = ?, country = ?, page_url = ?, page_title = ?, last_seen_at = ?
			WHERE id = ? RETURNING `+visitorFields,
			gone, now, gone, view, gone, v.Referrer, v.Name, v.Email, v.Verified, v.IP, v.Country, v.PageURL, v.PageTitle, now, id))
		if errors.Is(err, sql.ErrNoRows) {
			return errs.NotFound("visitor")
		}
		return err
	})
	return v, wrap(err, "record visit of visitor %d", id)
}

// Visitors lists the visitors seen since a time, latest first, with the
// open request of those who are chatting.
func (db *DB) Visitors(ctx context.Context, since time.Time, limit int) ([]widget.Visitor, error) {
	rows, err := db.reader().query(ctx, `SELECT `+visitorColumns+`,
		(SELECT MAX(c.id) FROM identities i JOIN conversations c ON c.client_id = i.client_id AND c.channel_id = v.channel_id AND c.closed_at IS NULL
			WHERE i.kind = ? AND i.external_id = CAST(v.id AS TEXT))
		FROM visitors v WHERE v.last_seen_at >= ? ORDER BY v.last_seen_at DESC, v.id DESC LIMIT ?`, cv.Widget, millis(since), limit)
	out, err := collect(rows, err, func(row scanner) (widget.Visitor, error) {
		var chatting nullInt
		v, err := scanVisitor(row, &chatting)
		v.ConversationID = chatting.id()
		return v, err
	})
	return out, wrap(err, "list visitors")
}

// VisitorClient returns the client a visitor became by writing, 0 before.
func (db *DB) VisitorClient(ctx context.Context, visitorID int64) (int64, error) {
	var client int64
	err := db.reader().queryRow(ctx, `SELECT client_id FROM identities WHERE kind = ? AND external_id = ?`, cv.Widget, strconv.FormatInt(visitorID, 10)).Scan(&client)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return client, wrap(err, "client of visitor %d", visitorID)
}

// VisitorsOfClient returns the visitors who are that client.
func (db *DB) VisitorsOfClient(ctx context.Context, clientID int64) ([]int64, error) {
	rows, err := db.reader().query(ctx, `SELECT external_id FROM identities WHERE client_id = ? AND kind = ?`, clientID, cv.Widget)
	ids, err := collect(rows, err, func(row scanner) (int64, error) {
		var ext string
		if err := row.Scan(&ext); err != nil {
			return 0, err
		}
		id, _ := strconv.ParseInt(ext, 10, 64)
		return id, nil
	})
	return ids, wrap(err, "visitors of client %d", clientID)
}

// VisitorMessages returns the client's messages on a channel that a visitor
// sees (their own and the replies), oldest first.
func (db *DB) VisitorMessages(ctx context.Context, channelID, clientID, after, before int64, limit int) ([]cv.Message, error) {
	q := `SELECT ` + prefixed("m.", messageColumns) + ` FROM messages m JOIN conversations c ON c.id = m.conversation_id
		WHERE c.channel_id = ? AND c.client_id = ? AND m.kind IN (?, ?)`
	args := []any{channelID, clientID, cv.FromClient, cv.Reply}
	order := ` ORDER BY m.id DESC LIMIT ?`
	if after > 0 {
		q += ` AND m.id > ?`
		args = append(args, after)
		order = ` ORDER BY m.id LIMIT ?`
	}
	if before > 0 {
		q += ` AND m.id < ?`
		args = append(args, before)
	}
	rows, err := db.reader().query(ctx, q+order, append(args, limit)...)
	out, err := collect(rows, err, scanMessage)
	if err != nil {
		return nil, fmt.Errorf("store: visitor messages: %w", err)
	}
	if after == 0 {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out, nil
}

// GroupOnline reports whether an active agent of the group, or of any group
// for 0, is online.
func (db *DB) GroupOnline(ctx context.Context, groupID int64) (bool, error) {
	q := `SELECT COUNT(*) FROM agents a WHERE a.active = ? AND a.presence = 'online'`
	args := []any{true}
	if groupID != 0 {
		q += ` AND EXISTS (SELECT 1 FROM group_members gm WHERE gm.agent_id = a.id AND gm.group_id = ?)`
		args = append(args, groupID)
	}
	var n int
	err := db.reader().queryRow(ctx, q+` LIMIT 1`, args...).Scan(&n)
	return n > 0, wrap(err, "online agents of group %d", groupID)
}

// WaitingQueue lists the requests waiting in the Unassigned queue, oldest
// first (the queue's own index).
func (db *DB) WaitingQueue(ctx context.Context, limit int) ([]widget.Waiting, error) {
	rows, err := db.reader().query(ctx, `SELECT id, channel_id, client_id, COALESCE(group_id, 0) FROM conversations
		WHERE closed_at IS NULL AND mode = 'live' AND assignee_id IS NULL ORDER BY created_at, id LIMIT ?`, limit)
	out, err := collect(rows, err, func(row scanner) (widget.Waiting, error) {
		var w widget.Waiting
		return w, row.Scan(&w.ID, &w.ChannelID, &w.ClientID, &w.GroupID)
	})
	return out, wrap(err, "waiting queue")
}
