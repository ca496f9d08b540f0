package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/switchboard-hq/switchboard/internal/auth"
	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/team"
)

const agentColumns = `id, email, name, avatar, is_admin, active, presence, presence_since, created_at, away_reason_id`

type scanner interface{ Scan(dest ...any) error }

func scanAgent(row scanner) (team.Agent, error) {
	var a team.Agent
	var since, created int64
	var reason nullInt
	err := row.Scan(&a.ID, &a.Email, &a.Name, &a.Avatar, &a.Admin, &a.Active, &a.Presence, &since, &created, &reason)
	a.PresenceSince, a.CreatedAt, a.AwayReasonID = fromMillis(since), fromMillis(created), reason.id()
	a.GroupIDs = []int64{}
	return a, err
}

// CreateAgent stores a new agent.
func (db *DB) CreateAgent(ctx context.Context, a team.Agent, passwordHash string) (team.Agent, error) {
	err := db.tx(ctx, func(tx *txn) error {
		now := millis(tx.now)
		row := tx.queryRow(ctx, `INSERT INTO agents (email, name, password_hash, avatar, is_admin, active, presence, presence_since, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+agentColumns,
			a.Email, a.Name, passwordHash, a.Avatar, a.Admin, a.Active, a.Presence, now, now, now)
		var err error
		if a, err = scanAgent(row); err != nil {
			return err
		}
		return tx.logPresence(ctx, a.ID, a.Presence)
	})
	if isUniqueViolation(err) {
		return team.Agent{}, errs.Taken("email", "an agent with this email already exists")
	}
	if err != nil {
		return team.Agent{}, fmt.Errorf("store: create agent: %w", err)
	}
	return a, nil
}

// Agent returns one agent with its groups.
func (db *DB) Agent(ctx context.Context, id int64) (team.Agent, error) {
	return db.agentWhere(ctx, `id = ?`, id)
}

// AgentByEmail returns the agent with a normalized email.
func (db *DB) AgentByEmail(ctx context.Context, email string) (team.Agent, error) {
	return db.agentWhere(ctx, `email = ?`, email)
}

func (db *DB) agentWhere(ctx context.Context, where string, arg any) (team.Agent, error) {
	r := db.reader()
	a, err := scanAgent(r.queryRow(ctx, `SELECT `+agentColumns+` FROM agents WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return team.Agent{}, errs.NotFound("agent")
	}
	if err != nil {
		return team.Agent{}, fmt.Errorf("store: agent %v: %w", arg, err)
	}
	members, err := groupMembers(ctx, r, `WHERE agent_id = ?`, a.ID)
	if err != nil {
		return team.Agent{}, err
	}
	for _, m := range members {
		a.GroupIDs = append(a.GroupIDs, m.group)
	}
	return a, nil
}

// Agents lists every agent, active ones first, then by name.
func (db *DB) Agents(ctx context.Context) ([]team.Agent, error) {
	r := db.reader()
	rows, err := r.query(ctx, `SELECT `+agentColumns+` FROM agents ORDER BY active DESC, lower(name), id`)
	if err != nil {
		return nil, fmt.Errorf("store: list agents: %w", err)
	}
	defer rows.Close()
	agents := []team.Agent{}
	index := map[int64]int{}
	for rows.Next() {
		a, err := scanAgent(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list agents: %w", err)
		}
		index[a.ID] = len(agents)
		agents = append(agents, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list agents: %w", err)
	}
	members, err := groupMembers(ctx, r, ``)
	if err != nil {
		return nil, err
	}
	for _, m := range members {
		if i, ok := index[m.agent]; ok {
			agents[i].GroupIDs = append(agents[i].GroupIDs, m.group)
		}
	}
	return agents, nil
}

// CountAgents counts every agent, active or not.
func (db *DB) CountAgents(ctx context.Context) (int, error) {
	var n int
	if err := db.reader().queryRow(ctx, `SELECT COUNT(*) FROM agents`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count agents: %w", err)
	}
	return n, nil
}

// UpdateAgent stores an agent's details; see team.Store.
func (db *DB) UpdateAgent(ctx context.Context, a team.Agent) (team.Agent, error) {
	err := db.tx(ctx, func(tx *txn) error {
		now := millis(tx.now)
		if !a.Admin || !a.Active {
			// Lock every active administrator's row first: on PostgreSQL two
			// administrators demoting each other at once would otherwise each
			// count the other and leave none.
			if _, err := tx.exec(ctx, `UPDATE agents SET is_admin = is_admin WHERE is_admin = ? AND active = ?`, true, true); err != nil {
				return err
			}
		}
		if err := tx.execOne(ctx, "agent", `UPDATE agents SET email = ?, name = ?, is_admin = ?, active = ?, updated_at = ? WHERE id = ?`,
			a.Email, a.Name, a.Admin, a.Active, now, a.ID); err != nil {
			return err
		}
		if !a.Active {
			if _, err := tx.exec(ctx, `UPDATE agents SET presence = 'offline', presence_since = ? WHERE id = ? AND presence <> 'offline'`, now, a.ID); err != nil {
				return err
			}
			if err := tx.logPresence(ctx, a.ID, team.Offline); err != nil {
				return err
			}
			if _, err := tx.exec(ctx, `DELETE FROM sessions WHERE agent_id = ?`, a.ID); err != nil {
				return err
			}
		}
		var admins int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM agents WHERE is_admin = ? AND active = ?`, true, true).Scan(&admins); err != nil {
			return err
		}
		if admins == 0 {
			return errs.Conflict("last_admin", "this would leave no active administrator")
		}
		return nil
	})
	if isUniqueViolation(err) {
		return team.Agent{}, errs.Taken("email", "an agent with this email already exists")
	}
	if err != nil {
		return team.Agent{}, wrap(err, "update agent %d", a.ID)
	}
	return db.Agent(ctx, a.ID)
}

// SetAgentAvatar replaces an agent's avatar and returns the one it replaced;
// it touches nothing else, so it never undoes a concurrent administrator edit.
func (db *DB) SetAgentAvatar(ctx context.Context, id int64, avatar string) (team.Agent, string, error) {
	var old string
	err := db.tx(ctx, func(tx *txn) error {
		err := tx.queryRow(ctx, `SELECT avatar FROM agents WHERE id = ?`, id).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.NotFound("agent")
		}
		if err != nil {
			return err
		}
		_, err = tx.exec(ctx, `UPDATE agents SET avatar = ?, updated_at = ? WHERE id = ?`, avatar, millis(tx.now), id)
		return err
	})
	if err != nil {
		return team.Agent{}, "", wrap(err, "set avatar of agent %d", id)
	}
	a, err := db.Agent(ctx, id)
	return a, old, err
}

// SetAgentPassword stores a new password hash and ends the agent's other sessions.
func (db *DB) SetAgentPassword(ctx context.Context, id int64, passwordHash, keepSession string) error {
	err := db.tx(ctx, func(tx *txn) error {
		if err := tx.execOne(ctx, "agent", `UPDATE agents SET password_hash = ?, updated_at = ? WHERE id = ?`, passwordHash, millis(tx.now), id); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `DELETE FROM sessions WHERE agent_id = ? AND token_hash <> ?`, id, keepSession)
		return err
	})
	return wrap(err, "set password of agent %d", id)
}

// SetPresence stores an agent's operator status; the time it started changes
// only when the status does.
func (db *DB) SetPresence(ctx context.Context, id int64, p team.Presence, reasonID int64) (team.Agent, error) {
	err := db.tx(ctx, func(tx *txn) error {
		if err := tx.execOne(ctx, "agent", `UPDATE agents SET presence = ?, away_reason_id = ?,
			presence_since = CASE WHEN presence = ? AND COALESCE(away_reason_id, 0) = ? THEN presence_since ELSE ? END WHERE id = ?`,
			p, nullID(reasonID), p, reasonID, millis(tx.now), id); err != nil {
			return err
		}
		if err := tx.logPresence(ctx, id, p); err != nil {
			return err
		}
		return tx.emitPresence(ctx, id)
	})
	if err != nil {
		return team.Agent{}, wrap(err, "set presence of agent %d", id)
	}
	return db.Agent(ctx, id)
}

// logPresence ends the agent's current presence period and starts one of p,
// when p is a change (time Online, Away and Offline in the statistics).
func (tx *txn) logPresence(ctx context.Context, id int64, p team.Presence) error {
	now := millis(tx.now)
	res, err := tx.exec(ctx, `UPDATE presence_log SET ended_at = ? WHERE agent_id = ? AND ended_at IS NULL AND presence <> ?`, now, id, p)
	if err != nil {
		return err
	}
	changed, _ := res.RowsAffected()
	var open int
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM presence_log WHERE agent_id = ? AND ended_at IS NULL`, id).Scan(&open); err != nil {
		return err
	}
	if changed == 0 && open > 0 {
		return nil
	}
	_, err = tx.exec(ctx, `INSERT INTO presence_log (agent_id, presence, started_at) VALUES (?, ?, ?)`, id, p, now)
	return err
}

// PresenceData is what an agent.presence event says.
type PresenceData struct {
	AgentID        int64         `json:"agent_id"`
	Presence       team.Presence `json:"presence"`
	ReasonID       int64         `json:"reason_id,omitempty"`
	Reason         string        `json:"reason,omitempty"`
	Since          time.Time     `json:"since"`
	ConnectedUntil time.Time     `json:"connected_until"`
}

// emitPresence tells everyone an agent's operator status as it now is.
func (tx *txn) emitPresence(ctx context.Context, id int64) error {
	var d PresenceData
	var reason sql.NullString
	var reasonID nullInt
	var since, until int64
	err := tx.queryRow(ctx, `SELECT a.id, a.presence, a.away_reason_id, r.name, a.presence_since, a.connected_until
		FROM agents a LEFT JOIN away_reasons r ON r.id = a.away_reason_id WHERE a.id = ?`, id).
		Scan(&d.AgentID, &d.Presence, &reasonID, &reason, &since, &until)
	if err != nil {
		return err
	}
	d.ReasonID, d.Reason, d.Since, d.ConnectedUntil = reasonID.id(), reason.String, fromMillis(since), fromMillis(until)
	data, _ := json.Marshal(d)
	tx.emit(cv.Event{Kind: cv.EventAgentPresence, Data: data, AssigneeID: id})
	return nil
}

// MarkConnected records that a workspace tab of the agent is connected,
// vouching for them until the given time (the grace period on). A tab that
// comes back after the grace period ran out is news for the supervisors.
func (db *DB) MarkConnected(ctx context.Context, id int64, until time.Time) error {
	err := db.tx(ctx, func(tx *txn) error {
		var was int64
		if err := tx.queryRow(ctx, `SELECT connected_until FROM agents WHERE id = ?`, id).Scan(&was); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE agents SET connected_until = ? WHERE id = ?`, millis(until), id); err != nil {
			return err
		}
		if was < millis(tx.now) {
			return tx.emitPresence(ctx, id)
		}
		return nil
	})
	return wrap(err, "mark agent %d connected", id)
}

// Credentials finds the password hash of an agent by normalized email.
func (db *DB) Credentials(ctx context.Context, email string) (auth.Credentials, error) {
	var c auth.Credentials
	err := db.reader().queryRow(ctx, `SELECT id, password_hash, active FROM agents WHERE email = ?`, email).Scan(&c.AgentID, &c.PasswordHash, &c.Active)
	if errors.Is(err, sql.ErrNoRows) {
		return c, errs.NotFound("agent")
	}
	return c, wrap(err, "credentials")
}

// PasswordHash returns an agent's password hash.
func (db *DB) PasswordHash(ctx context.Context, agentID int64) (string, error) {
	var hash string
	err := db.reader().queryRow(ctx, `SELECT password_hash FROM agents WHERE id = ?`, agentID).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errs.NotFound("agent")
	}
	return hash, wrap(err, "password of agent %d", agentID)
}

// wrap prefixes a storage error with what was being done; domain errors pass
// through unchanged so their kind and message survive.
func wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	var domain *errs.Error
	if errors.As(err, &domain) {
		return err
	}
	return fmt.Errorf("store: "+format+": %w", append(args, err)...)
}
