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

// Client returns a client with identities, custom field values and the count
// of their requests.
func (db *DB) Client(ctx context.Context, id int64) (cv.Client, error) {
	r := db.reader()
	c := cv.Client{ID: id, Identities: []cv.Identity{}, Fields: map[int64]string{}}
	var created int64
	err := r.queryRow(ctx, `SELECT name, email, phone, created_at, (SELECT COUNT(*) FROM conversations WHERE client_id = ?) FROM clients WHERE id = ?`, id, id).
		Scan(&c.Name, &c.Email, &c.Phone, &created, &c.Requests)
	if errors.Is(err, sql.ErrNoRows) {
		return c, errs.NotFound("client")
	}
	if err != nil {
		return c, fmt.Errorf("store: client %d: %w", id, err)
	}
	c.CreatedAt = fromMillis(created)
	rows, err := r.query(ctx, `SELECT id, kind, external_id, profile FROM identities WHERE client_id = ? ORDER BY id`, id)
	if err != nil {
		return c, fmt.Errorf("store: identities of client %d: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var i cv.Identity
		var profile string
		if err := rows.Scan(&i.ID, &i.Kind, &i.ExternalID, &profile); err != nil {
			return c, fmt.Errorf("store: identities of client %d: %w", id, err)
		}
		_ = json.Unmarshal([]byte(profile), &i.Profile)
		c.Identities = append(c.Identities, i)
	}
	if err := rows.Err(); err != nil {
		return c, fmt.Errorf("store: identities of client %d: %w", id, err)
	}
	values, err := r.query(ctx, `SELECT field_id, value FROM client_field_values WHERE client_id = ?`, id)
	if err != nil {
		return c, fmt.Errorf("store: fields of client %d: %w", id, err)
	}
	defer values.Close()
	for values.Next() {
		var field int64
		var value string
		if err := values.Scan(&field, &value); err != nil {
			return c, fmt.Errorf("store: fields of client %d: %w", id, err)
		}
		c.Fields[field] = value
	}
	return c, wrap(values.Err(), "fields of client %d", id)
}

// UpdateClient stores a client's name, email, phone and custom field values
// (an empty value removes the field's value).
func (db *DB) UpdateClient(ctx context.Context, c cv.Client) (cv.Client, error) {
	err := db.tx(ctx, func(tx *txn) error {
		if err := tx.execOne(ctx, "client", `UPDATE clients SET name = ?, email = ?, phone = ?, updated_at = ?,
			email_verified = CASE WHEN lower(email) = lower(?) THEN email_verified ELSE ? END WHERE id = ?`, c.Name, c.Email, c.Phone, millis(tx.now), c.Email, false, c.ID); err != nil {
			return err
		}
		for field, value := range c.Fields {
			if _, err := tx.exec(ctx, `DELETE FROM client_field_values WHERE client_id = ? AND field_id = ?`, c.ID, field); err != nil {
				return err
			}
			if value == "" {
				continue
			}
			if _, err := tx.exec(ctx, `INSERT INTO client_field_values (client_id, field_id, value) VALUES (?, ?, ?)`, c.ID, field, value); err != nil {
				if isForeignKeyViolation(err) {
					return errs.Invalid("fields", "no such custom field")
				}
				return err
			}
		}
		return nil
	})
	if err != nil {
		return cv.Client{}, wrap(err, "update client %d", c.ID)
	}
	return db.Client(ctx, c.ID)
}
