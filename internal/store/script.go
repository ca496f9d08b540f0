package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/widget"
)

const scriptColumns = `id, name, match_kind, pattern, department_id, group_id, request_form, active, position`

func scanScript(row scanner) (widget.Script, error) {
	var s widget.Script
	var dept, group nullInt
	err := row.Scan(&s.ID, &s.Name, &s.Match, &s.Pattern, &dept, &group, &s.RequestForm, &s.Active, &s.Position)
	s.DepartmentID, s.GroupID = dept.id(), group.id()
	return s, err
}

// Scripts lists the widget scripts in the order they are tried.
func (db *DB) Scripts(ctx context.Context) ([]widget.Script, error) {
	return db.scripts(ctx, db.reader())
}

func (db *DB) scripts(ctx context.Context, r run) ([]widget.Script, error) {
	rows, err := r.query(ctx, `SELECT `+scriptColumns+` FROM scripts ORDER BY position, id`)
	out, err := collect(rows, err, scanScript)
	return out, wrap(err, "list scripts")
}

// CreateScript stores a script last in the order.
func (db *DB) CreateScript(ctx context.Context, s widget.Script) (widget.Script, error) {
	err := db.tx(ctx, func(tx *txn) error {
		if err := checkRouteRefs(ctx, tx, s.DepartmentID, s.GroupID); err != nil {
			return err
		}
		now := millis(tx.now)
		var err error
		s, err = scanScript(tx.queryRow(ctx, `INSERT INTO scripts (name, match_kind, pattern, department_id, group_id, request_form, active, position, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM scripts), ?, ?) RETURNING `+scriptColumns,
			s.Name, s.Match, s.Pattern, nullID(s.DepartmentID), nullID(s.GroupID), s.RequestForm, s.Active, now, now))
		return err
	})
	return s, wrap(err, "create script")
}

// UpdateScript stores a script's fields (not its position).
func (db *DB) UpdateScript(ctx context.Context, s widget.Script) (widget.Script, error) {
	id := s.ID
	err := db.tx(ctx, func(tx *txn) error {
		if err := checkRouteRefs(ctx, tx, s.DepartmentID, s.GroupID); err != nil {
			return err
		}
		var err error
		s, err = scanScript(tx.queryRow(ctx, `UPDATE scripts SET name = ?, match_kind = ?, pattern = ?, department_id = ?, group_id = ?, request_form = ?, active = ?, updated_at = ?
			WHERE id = ? RETURNING `+scriptColumns,
			s.Name, s.Match, s.Pattern, nullID(s.DepartmentID), nullID(s.GroupID), s.RequestForm, s.Active, millis(tx.now), id))
		if errors.Is(err, sql.ErrNoRows) {
			return errs.NotFound("script")
		}
		return err
	})
	return s, wrap(err, "update script %d", id)
}

// DeleteScript removes a script.
func (db *DB) DeleteScript(ctx context.Context, id int64) error {
	err := db.tx(ctx, func(tx *txn) error {
		return tx.execOne(ctx, "script", `DELETE FROM scripts WHERE id = ?`, id)
	})
	return wrap(err, "delete script %d", id)
}

// ReorderScripts sets the positions; ids must name every script exactly once.
func (db *DB) ReorderScripts(ctx context.Context, ids []int64) ([]widget.Script, error) {
	var out []widget.Script
	err := db.tx(ctx, func(tx *txn) error {
		list, err := db.scripts(ctx, tx.run)
		if err != nil {
			return err
		}
		known := make(map[int64]bool, len(list))
		for _, s := range list {
			known[s.ID] = true
		}
		if len(ids) != len(list) {
			return errs.Invalid("ids", "must list every script exactly once")
		}
		for i, id := range ids {
			if !known[id] {
				return errs.Invalid("ids", "must list every script exactly once")
			}
			delete(known, id)
			if _, err := tx.exec(ctx, `UPDATE scripts SET position = ?, updated_at = ? WHERE id = ?`, i+1, millis(tx.now), id); err != nil {
				return err
			}
		}
		out, err = db.scripts(ctx, tx.run)
		return err
	})
	return out, wrap(err, "reorder scripts")
}
