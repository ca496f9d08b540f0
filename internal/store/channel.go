package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
)

const channelColumns = `id, kind, name, department_id, group_id, active, settings, secrets, created_at`

func scanChannel(row scanner) (cv.Channel, error) {
	var c cv.Channel
	var dept, group nullInt
	var created int64
	var settings, secrets string
	err := row.Scan(&c.ID, &c.Kind, &c.Name, &dept, &group, &c.Active, &settings, &secrets, &created)
	c.DepartmentID, c.GroupID, c.CreatedAt = dept.id(), group.id(), fromMillis(created)
	if err != nil {
		return c, err
	}
	switch {
	case c.Kind == cv.Widget:
		c.Widget = &cv.WidgetSettings{}
		err = json.Unmarshal([]byte(settings), c.Widget)
	case c.Kind.Outbound():
		var s struct{ Account map[string]string }
		if err = json.Unmarshal([]byte(settings), &s); err == nil {
			c.Account = s.Account
			err = json.Unmarshal([]byte(secrets), &c.Secrets)
		}
	}
	if err != nil {
		return c, fmt.Errorf("settings of channel %d: %w", c.ID, err)
	}
	return c, nil
}

// channelSettings is what the settings and secrets columns keep of a channel.
func channelSettings(c cv.Channel) (settings, secrets string) {
	var s any = struct{}{}
	switch {
	case c.Widget != nil:
		w := *c.Widget
		w.EmbedCode = ""
		s = w
	case c.Account != nil:
		s = struct {
			Account map[string]string `json:"account"`
		}{c.Account}
	}
	data, _ := json.Marshal(s)
	sec, _ := json.Marshal(nonNilMap(c.Secrets))
	return string(data), string(sec)
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// Channel returns a channel that has not been removed.
func (db *DB) Channel(ctx context.Context, id int64) (cv.Channel, error) {
	c, err := scanChannel(db.reader().queryRow(ctx, `SELECT `+channelColumns+` FROM channels WHERE id = ? AND removed_at IS NULL`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, errs.NotFound("channel")
	}
	return c, wrap(err, "channel %d", id)
}

// ChannelToken returns the hash of a channel's API token.
func (db *DB) ChannelToken(ctx context.Context, id int64) (string, error) {
	var hash string
	err := db.reader().queryRow(ctx, `SELECT token_hash FROM channels WHERE id = ? AND removed_at IS NULL`, id).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errs.NotFound("channel")
	}
	return hash, wrap(err, "channel %d token", id)
}

// Channels lists the channels that have not been removed, by kind and name.
func (db *DB) Channels(ctx context.Context) ([]cv.Channel, error) {
	rows, err := db.reader().query(ctx, `SELECT `+channelColumns+` FROM channels WHERE removed_at IS NULL ORDER BY kind, lower(name), id`)
	if err != nil {
		return nil, fmt.Errorf("store: list channels: %w", err)
	}
	defer rows.Close()
	out := []cv.Channel{}
	for rows.Next() {
		c, err := scanChannel(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list channels: %w", err)
		}
		out = append(out, c)
	}
	return out, wrap(rows.Err(), "list channels")
}

// checkRouteRefs names the field of a department or group that does not
// exist (channels and scripts route requests to both).
func checkRouteRefs(ctx context.Context, tx *txn, departmentID, groupID int64) error {
	for _, ref := range []struct {
		field, table, what string
		id                 int64
	}{{"department_id", "departments", "department", departmentID}, {"group_id", "agent_groups", "group", groupID}} {
		if ref.id == 0 {
			continue
		}
		var n int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM `+ref.table+` WHERE id = ?`, ref.id).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return errs.Invalid(ref.field, "no such "+ref.what)
		}
	}
	return nil
}

// CreateChannel stores a channel with the hash of its API token.
func (db *DB) CreateChannel(ctx context.Context, c cv.Channel, tokenHash string) (cv.Channel, error) {
	err := db.tx(ctx, func(tx *txn) error {
		if err := checkRouteRefs(ctx, tx, c.DepartmentID, c.GroupID); err != nil {
			return err
		}
		now := millis(tx.now)
		settings, secrets := channelSettings(c)
		var err error
		c, err = scanChannel(tx.queryRow(ctx, `INSERT INTO channels (kind, name, department_id, group_id, active, token_hash, settings, secrets, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+channelColumns, c.Kind, c.Name, nullID(c.DepartmentID), nullID(c.GroupID), c.Active, tokenHash, settings, secrets, now, now))
		return err
	})
	return c, wrap(err, "create channel")
}

// UpdateChannel stores a channel's name, department, group, activity and settings.
func (db *DB) UpdateChannel(ctx context.Context, c cv.Channel) (cv.Channel, error) {
	id := c.ID
	err := db.tx(ctx, func(tx *txn) error {
		if err := checkRouteRefs(ctx, tx, c.DepartmentID, c.GroupID); err != nil {
			return err
		}
		settings, secrets := channelSettings(c)
		var err error
		c, err = scanChannel(tx.queryRow(ctx, `UPDATE channels SET name = ?, department_id = ?, group_id = ?, active = ?, settings = ?, secrets = ?, updated_at = ?
			WHERE id = ? AND removed_at IS NULL RETURNING `+channelColumns, c.Name, nullID(c.DepartmentID), nullID(c.GroupID), c.Active, settings, secrets, millis(tx.now), id))
		if errors.Is(err, sql.ErrNoRows) {
			return errs.NotFound("channel")
		}
		return err
	})
	return c, wrap(err, "update channel %d", id)
}

// SetChannelToken replaces a channel's API token hash.
func (db *DB) SetChannelToken(ctx context.Context, id int64, tokenHash string) error {
	err := db.tx(ctx, func(tx *txn) error {
		return tx.execOne(ctx, "channel", `UPDATE channels SET token_hash = ?, updated_at = ? WHERE id = ? AND removed_at IS NULL`, tokenHash, millis(tx.now), id)
	})
	return wrap(err, "set token of channel %d", id)
}

// RemoveChannel hides a channel and stops it; its requests and history stay.
func (db *DB) RemoveChannel(ctx context.Context, id int64) error {
	err := db.tx(ctx, func(tx *txn) error {
		now := millis(tx.now)
		// Its credentials go with it: history stays, the account's keys do not.
		return tx.execOne(ctx, "channel", `UPDATE channels SET removed_at = ?, active = ?, token_hash = '', secrets = '{}', updated_at = ? WHERE id = ? AND removed_at IS NULL`, now, false, now, id)
	})
	return wrap(err, "remove channel %d", id)
}

// DeleteNewChannel deletes a channel that never connected (its platform
// refused the credentials), which nothing refers to yet.
func (db *DB) DeleteNewChannel(ctx context.Context, id int64) error {
	err := db.tx(ctx, func(tx *txn) error {
		return tx.execOne(ctx, "channel", `DELETE FROM channels WHERE id = ? AND NOT EXISTS (SELECT 1 FROM conversations WHERE channel_id = ?)`, id, id)
	})
	return wrap(err, "delete new channel %d", id)
}
