package store

import (
	"context"
	"encoding/json"
	"fmt"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
)

// Statuses lists request statuses by position.
func (db *DB) Statuses(ctx context.Context) ([]cv.Status, error) {
	rows, err := db.reader().query(ctx, `SELECT id, name, class, position, is_default FROM statuses ORDER BY position, id`)
	if err != nil {
		return nil, fmt.Errorf("store: statuses: %w", err)
	}
	defer rows.Close()
	out := []cv.Status{}
	for rows.Next() {
		var s cv.Status
		if err := rows.Scan(&s.ID, &s.Name, &s.Class, &s.Position, &s.Default); err != nil {
			return nil, fmt.Errorf("store: statuses: %w", err)
		}
		out = append(out, s)
	}
	return out, wrap(rows.Err(), "statuses")
}

// SaveStatus creates or updates a status, keeping one default per class.
func (db *DB) SaveStatus(ctx context.Context, s cv.Status) (cv.Status, error) {
	err := db.tx(ctx, func(tx *txn) error {
		now := millis(tx.now)
		if s.Default {
			if _, err := tx.exec(ctx, `UPDATE statuses SET is_default = ? WHERE class = ? AND id <> ?`, false, s.Class, s.ID); err != nil {
				return err
			}
		}
		if s.ID == 0 {
			return tx.queryRow(ctx, `INSERT INTO statuses (name, class, position, is_default, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
				s.Name, s.Class, s.Position, s.Default, now, now).Scan(&s.ID)
		}
		_, err := tx.exec(ctx, `UPDATE statuses SET name = ?, class = ?, position = ?, is_default = ?, updated_at = ? WHERE id = ?`,
			s.Name, s.Class, s.Position, s.Default, now, s.ID)
		return err
	})
	if isUniqueViolation(err) {
		return s, errs.Taken("name", "a status with this name already exists")
	}
	return s, wrap(err, "save status")
}

// DeleteStatus removes a status no request uses.
func (db *DB) DeleteStatus(ctx context.Context, id int64) error {
	err := db.tx(ctx, func(tx *txn) error {
		var used int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM conversations WHERE status_id = ? LIMIT 1) u`, id).Scan(&used); err != nil {
			return err
		}
		if used > 0 {
			return errs.Conflict("status_in_use", "requests have this status")
		}
		return tx.execOne(ctx, "status", `DELETE FROM statuses WHERE id = ?`, id)
	})
	return wrap(err, "delete status %d", id)
}

// CustomFields lists client fields by position.
func (db *DB) CustomFields(ctx context.Context) ([]cv.CustomField, error) {
	rows, err := db.reader().query(ctx, `SELECT id, name, type, options, position FROM custom_fields ORDER BY position, id`)
	if err != nil {
		return nil, fmt.Errorf("store: custom fields: %w", err)
	}
	defer rows.Close()
	out := []cv.CustomField{}
	for rows.Next() {
		var f cv.CustomField
		var options string
		if err := rows.Scan(&f.ID, &f.Name, &f.Type, &options, &f.Position); err != nil {
			return nil, fmt.Errorf("store: custom fields: %w", err)
		}
		_ = json.Unmarshal([]byte(options), &f.Options)
		out = append(out, f)
	}
	return out, wrap(rows.Err(), "custom fields")
}

// SaveCustomField creates or updates a custom field.
func (db *DB) SaveCustomField(ctx context.Context, f cv.CustomField) (cv.CustomField, error) {
	options, _ := json.Marshal(nonNil(f.Options))
	err := db.tx(ctx, func(tx *txn) error {
		now := millis(tx.now)
		if f.ID == 0 {
			return tx.queryRow(ctx, `INSERT INTO custom_fields (name, type, options, position, created_at, updated_at)
				VALUES (?, ?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM custom_fields), ?, ?) RETURNING id, position`,
				f.Name, f.Type, string(options), now, now).Scan(&f.ID, &f.Position)
		}
		return tx.execOne(ctx, "custom field", `UPDATE custom_fields SET name = ?, type = ?, options = ?, position = ?, updated_at = ? WHERE id = ?`,
			f.Name, f.Type, string(options), f.Position, now, f.ID)
	})
	if isUniqueViolation(err) {
		return f, errs.Taken("name", "a field with this name already exists")
	}
	return f, wrap(err, "save custom field")
}

// DeleteCustomField removes a field and every value of it.
func (db *DB) DeleteCustomField(ctx context.Context, id int64) error {
	err := db.tx(ctx, func(tx *txn) error {
		if _, err := tx.exec(ctx, `DELETE FROM client_field_values WHERE field_id = ?`, id); err != nil {
			return err
		}
		return tx.execOne(ctx, "custom field", `DELETE FROM custom_fields WHERE id = ?`, id)
	})
	return wrap(err, "delete custom field %d", id)
}
