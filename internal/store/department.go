package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/team"
)

const departmentColumns = `id, name, display_name, avatar, created_at`

func scanDepartment(row scanner) (team.Department, error) {
	var d team.Department
	var created int64
	err := row.Scan(&d.ID, &d.Name, &d.DisplayName, &d.Avatar, &created)
	d.CreatedAt = fromMillis(created)
	return d, err
}

func departmentError(err error, doing string) error {
	if isUniqueViolation(err) {
		return errs.Taken("name", "a department with this name already exists")
	}
	return wrap(err, "%s", doing)
}

// CreateDepartment stores a department.
func (db *DB) CreateDepartment(ctx context.Context, d team.Department) (team.Department, error) {
	err := db.tx(ctx, func(tx *txn) error {
		now := millis(tx.now)
		var err error
		d, err = scanDepartment(tx.queryRow(ctx, `INSERT INTO departments (name, display_name, avatar, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?) RETURNING `+departmentColumns, d.Name, d.DisplayName, d.Avatar, now, now))
		return err
	})
	return d, departmentError(err, "create department")
}

// Department returns one department.
func (db *DB) Department(ctx context.Context, id int64) (team.Department, error) {
	d, err := scanDepartment(db.reader().queryRow(ctx, `SELECT `+departmentColumns+` FROM departments WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, errs.NotFound("department")
	}
	return d, wrap(err, "department %d", id)
}

// Departments lists every department by name.
func (db *DB) Departments(ctx context.Context) ([]team.Department, error) {
	rows, err := db.reader().query(ctx, `SELECT `+departmentColumns+` FROM departments ORDER BY lower(name), id`)
	if err != nil {
		return nil, fmt.Errorf("store: list departments: %w", err)
	}
	defer rows.Close()
	out := []team.Department{}
	for rows.Next() {
		d, err := scanDepartment(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list departments: %w", err)
		}
		out = append(out, d)
	}
	return out, wrap(rows.Err(), "list departments")
}

// UpdateDepartment stores a department's names and avatar.
func (db *DB) UpdateDepartment(ctx context.Context, d team.Department) (team.Department, error) {
	id := d.ID
	err := db.tx(ctx, func(tx *txn) error {
		var err error
		d, err = scanDepartment(tx.queryRow(ctx, `UPDATE departments SET name = ?, display_name = ?, updated_at = ? WHERE id = ? RETURNING `+departmentColumns,
			d.Name, d.DisplayName, millis(tx.now), d.ID))
		if errors.Is(err, sql.ErrNoRows) {
			return errs.NotFound("department")
		}
		return err
	})
	return d, departmentError(err, fmt.Sprintf("update department %d", id))
}

// SetDepartmentAvatar replaces a department's avatar and returns the one it
// replaced; it touches nothing else.
func (db *DB) SetDepartmentAvatar(ctx context.Context, id int64, avatar string) (team.Department, string, error) {
	var old string
	var d team.Department
	err := db.tx(ctx, func(tx *txn) error {
		err := tx.queryRow(ctx, `SELECT avatar FROM departments WHERE id = ?`, id).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.NotFound("department")
		}
		if err != nil {
			return err
		}
		d, err = scanDepartment(tx.queryRow(ctx, `UPDATE departments SET avatar = ?, updated_at = ? WHERE id = ? RETURNING `+departmentColumns, avatar, millis(tx.now), id))
		return err
	})
	return d, old, wrap(err, "set avatar of department %d", id)
}

// DeleteDepartment removes a department.
func (db *DB) DeleteDepartment(ctx context.Context, id int64) error {
	err := db.tx(ctx, func(tx *txn) error {
		return tx.execOne(ctx, "department", `DELETE FROM departments WHERE id = ?`, id)
	})
	return wrap(err, "delete department %d", id)
}
