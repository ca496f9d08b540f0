package store

import (
	"context"
	"database/sql"
	"errors"
)

// Setting returns a team-wide setting's JSON, "" when it was never set.
func (db *DB) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := db.reader().queryRow(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, wrap(err, "setting %s", key)
}

// SetSetting stores a team-wide setting.
func (db *DB) SetSetting(ctx context.Context, key, value string) error {
	err := db.tx(ctx, func(tx *txn) error {
		_, err := tx.exec(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, key, value, millis(tx.now))
		return err
	})
	return wrap(err, "set setting %s", key)
}

// EnsureSetting stores value under key unless something is stored there
// already, and returns what is: instances starting together agree on the
// first one written.
func (db *DB) EnsureSetting(ctx context.Context, key, value string) (string, error) {
	err := db.tx(ctx, func(tx *txn) error {
		_, err := tx.exec(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING`, key, value, millis(tx.now))
		return err
	})
	if err != nil {
		return "", wrap(err, "ensure setting %s", key)
	}
	return db.Setting(ctx, key)
}
