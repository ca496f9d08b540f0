package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/switchboard-hq/switchboard/internal/access"
	"github.com/switchboard-hq/switchboard/internal/auth"
	"github.com/switchboard-hq/switchboard/internal/errs"
)

// CreateSession stores a new login.
func (db *DB) CreateSession(ctx context.Context, s auth.Session) error {
	err := db.tx(ctx, func(tx *txn) error {
		_, err := tx.exec(ctx, `INSERT INTO sessions (token_hash, agent_id, created_at, last_seen_at, expires_at, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			s.TokenHash, s.AgentID, millis(s.CreatedAt), millis(s.LastSeenAt), millis(s.ExpiresAt), s.IP, s.UserAgent)
		return err
	})
	return wrap(err, "create session")
}

// Session returns a session of an active agent together with the agent's
// administrator flag and the rights of all its groups.
func (db *DB) Session(ctx context.Context, tokenHash string) (auth.Session, access.Actor, error) {
	r := db.reader()
	s := auth.Session{TokenHash: tokenHash}
	var actor access.Actor
	var created, seen, expires int64
	err := r.queryRow(ctx, `SELECT s.agent_id, s.created_at, s.last_seen_at, s.expires_at, s.ip, s.user_agent, a.is_admin
		FROM sessions s JOIN agents a ON a.id = s.agent_id WHERE s.token_hash = ? AND a.active = ?`, tokenHash, true).
		Scan(&s.AgentID, &created, &seen, &expires, &s.IP, &s.UserAgent, &actor.Admin)
	if errors.Is(err, sql.ErrNoRows) {
		return s, actor, errs.NotFound("session")
	}
	if err != nil {
		return s, actor, wrap(err, "session")
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = fromMillis(created), fromMillis(seen), fromMillis(expires)
	actor.AgentID = s.AgentID
	rows, err := r.query(ctx, `SELECT g.id, g.rights FROM group_members m JOIN agent_groups g ON g.id = m.group_id WHERE m.agent_id = ? ORDER BY g.id`, s.AgentID)
	if err != nil {
		return s, actor, wrap(err, "session rights")
	}
	defer rows.Close()
	for rows.Next() {
		var group int64
		var rights string
		if err := rows.Scan(&group, &rights); err != nil {
			return s, actor, wrap(err, "session rights")
		}
		actor.Groups = append(actor.Groups, group)
		actor.Granted = append(actor.Granted, splitRights(rights)...)
	}
	return s, actor, wrap(rows.Err(), "session rights")
}

// TouchSession records that a session was used.
func (db *DB) TouchSession(ctx context.Context, tokenHash string, at time.Time) error {
	err := db.tx(ctx, func(tx *txn) error {
		_, err := tx.exec(ctx, `UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?`, millis(at), tokenHash)
		return err
	})
	return wrap(err, "touch session")
}

// DeleteSession ends a login.
func (db *DB) DeleteSession(ctx context.Context, tokenHash string) error {
	err := db.tx(ctx, func(tx *txn) error {
		_, err := tx.exec(ctx, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash)
		return err
	})
	return wrap(err, "delete session")
}

// DeleteExpiredSessions removes sessions past their lifetime or unused since idleSince.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now, idleSince time.Time) (int64, error) {
	var n int64
	err := db.tx(ctx, func(tx *txn) error {
		res, err := tx.exec(ctx, `DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at < ?`, millis(now), millis(idleSince))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, wrap(err, "delete expired sessions")
}
