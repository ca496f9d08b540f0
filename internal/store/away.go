package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/team"
)

// AwayReasons lists the reasons for being Away, in their order.
func (db *DB) AwayReasons(ctx context.Context) ([]team.AwayReason, error) {
	rows, err := db.reader().query(ctx, `SELECT id, name FROM away_reasons ORDER BY position, id`)
	out, err := collect(rows, err, func(row scanner) (team.AwayReason, error) {
		var r team.AwayReason
		return r, row.Scan(&r.ID, &r.Name)
	})
	return out, wrap(err, "list away reasons")
}

// CreateAwayReason adds a reason last.
func (db *DB) CreateAwayReason(ctx context.Context, name string) (team.AwayReason, error) {
	r := team.AwayReason{Name: name}
	err := db.tx(ctx, func(tx *txn) error {
		return tx.queryRow(ctx, `INSERT INTO away_reasons (name, position, created_at)
			VALUES (?, (SELECT COALESCE(MAX(position), 0) + 1 FROM away_reasons), ?) RETURNING id`, name, millis(tx.now)).Scan(&r.ID)
	})
	if isUniqueViolation(err) {
		return r, errs.Taken("name", "there is a reason with this name already")
	}
	return r, wrap(err, "create away reason")
}

// RenameAwayReason renames a reason.
func (db *DB) RenameAwayReason(ctx context.Context, id int64, name string) (team.AwayReason, error) {
	err := db.tx(ctx, func(tx *txn) error {
		return tx.execOne(ctx, "away reason", `UPDATE away_reasons SET name = ? WHERE id = ?`, name, id)
	})
	if isUniqueViolation(err) {
		return team.AwayReason{}, errs.Taken("name", "there is a reason with this name already")
	}
	return team.AwayReason{ID: id, Name: name}, wrap(err, "rename away reason %d", id)
}

// DeleteAwayReason removes a reason; agents Away for it stay Away.
func (db *DB) DeleteAwayReason(ctx context.Context, id int64) error {
	err := db.tx(ctx, func(tx *txn) error {
		var n int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM away_reasons WHERE id = ?`, id).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return errs.NotFound("away reason")
		}
		rows, err := tx.query(ctx, `SELECT id FROM agents WHERE away_reason_id = ?`, id)
		away, err := collect(rows, err, scanInt64)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE agents SET away_reason_id = NULL WHERE away_reason_id = ?`, id); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `DELETE FROM away_reasons WHERE id = ?`, id); err != nil {
			return err
		}
		// Those Away for it stay Away, with no reason now: supervisors see it.
		for _, agent := range away {
			if err := tx.emitPresence(ctx, agent); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, sql.ErrNoRows) {
		return errs.NotFound("away reason")
	}
	return wrap(err, "delete away reason %d", id)
}
