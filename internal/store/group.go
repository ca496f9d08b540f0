package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/switchboard-hq/switchboard/internal/access"
	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/team"
)

// Rights are stored space-separated in one column: a group has at most five.
func joinRights(rs []access.Right) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, " ")
}

func splitRights(s string) []access.Right {
	out := []access.Right{}
	for _, f := range strings.Fields(s) {
		out = append(out, access.Right(f))
	}
	return out
}

type membership struct{ group, agent int64 }

// groupMembers lists memberships matching an optional WHERE clause, in a
// stable order, with one query.
func groupMembers(ctx context.Context, r run, where string, args ...any) ([]membership, error) {
	rows, err := r.query(ctx, `SELECT group_id, agent_id FROM group_members `+where+` ORDER BY group_id, agent_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: group members: %w", err)
	}
	defer rows.Close()
	var out []membership
	for rows.Next() {
		var m membership
		if err := rows.Scan(&m.group, &m.agent); err != nil {
			return nil, fmt.Errorf("store: group members: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

const groupColumns = `id, name, rights, created_at`

func scanGroup(row scanner) (team.Group, error) {
	var g team.Group
	var rights string
	var created int64
	err := row.Scan(&g.ID, &g.Name, &rights, &created)
	g.Rights, g.CreatedAt, g.MemberIDs = splitRights(rights), fromMillis(created), []int64{}
	return g, err
}

// CreateGroup stores a group and its members.
func (db *DB) CreateGroup(ctx context.Context, g team.Group) (team.Group, error) {
	err := db.tx(ctx, func(tx *txn) error {
		now := millis(tx.now)
		err := tx.queryRow(ctx, `INSERT INTO agent_groups (name, rights, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING id`,
			g.Name, joinRights(g.Rights), now, now).Scan(&g.ID)
		if err != nil {
			return err
		}
		return setMembers(ctx, tx, g.ID, g.MemberIDs)
	})
	if err != nil {
		return team.Group{}, groupError(err, "create group")
	}
	return db.Group(ctx, g.ID)
}

func setMembers(ctx context.Context, tx *txn, groupID int64, agentIDs []int64) error {
	if _, err := tx.exec(ctx, `DELETE FROM group_members WHERE group_id = ?`, groupID); err != nil {
		return err
	}
	for _, id := range agentIDs {
		if _, err := tx.exec(ctx, `INSERT INTO group_members (group_id, agent_id) VALUES (?, ?)`, groupID, id); err != nil {
			return err
		}
	}
	return nil
}

func groupError(err error, doing string) error {
	switch {
	case isUniqueViolation(err):
		return errs.Taken("name", "a group with this name already exists")
	case isForeignKeyViolation(err):
		return errs.Invalid("member_ids", "names an agent that does not exist")
	}
	return wrap(err, "%s", doing)
}

// Group returns one group with its members.
func (db *DB) Group(ctx context.Context, id int64) (team.Group, error) {
	r := db.reader()
	g, err := scanGroup(r.queryRow(ctx, `SELECT `+groupColumns+` FROM agent_groups WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return team.Group{}, errs.NotFound("group")
	}
	if err != nil {
		return team.Group{}, fmt.Errorf("store: group %d: %w", id, err)
	}
	members, err := groupMembers(ctx, r, `WHERE group_id = ?`, id)
	if err != nil {
		return team.Group{}, err
	}
	for _, m := range members {
		g.MemberIDs = append(g.MemberIDs, m.agent)
	}
	return g, nil
}

// Groups lists every group by name, with members.
func (db *DB) Groups(ctx context.Context) ([]team.Group, error) {
	r := db.reader()
	rows, err := r.query(ctx, `SELECT `+groupColumns+` FROM agent_groups ORDER BY lower(name), id`)
	if err != nil {
		return nil, fmt.Errorf("store: list groups: %w", err)
	}
	defer rows.Close()
	groups := []team.Group{}
	index := map[int64]int{}
	for rows.Next() {
		g, err := scanGroup(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list groups: %w", err)
		}
		index[g.ID] = len(groups)
		groups = append(groups, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list groups: %w", err)
	}
	members, err := groupMembers(ctx, r, ``)
	if err != nil {
		return nil, err
	}
	for _, m := range members {
		if i, ok := index[m.group]; ok {
			groups[i].MemberIDs = append(groups[i].MemberIDs, m.agent)
		}
	}
	return groups, nil
}

// UpdateGroup stores a group's name, rights and members.
func (db *DB) UpdateGroup(ctx context.Context, g team.Group) (team.Group, error) {
	err := db.tx(ctx, func(tx *txn) error {
		if err := tx.execOne(ctx, "group", `UPDATE agent_groups SET name = ?, rights = ?, updated_at = ? WHERE id = ?`,
			g.Name, joinRights(g.Rights), millis(tx.now), g.ID); err != nil {
			return err
		}
		return setMembers(ctx, tx, g.ID, g.MemberIDs)
	})
	if err != nil {
		return team.Group{}, groupError(err, fmt.Sprintf("update group %d", g.ID))
	}
	return db.Group(ctx, g.ID)
}

// DeleteGroup removes a group and its memberships.
func (db *DB) DeleteGroup(ctx context.Context, id int64) error {
	err := db.tx(ctx, func(tx *txn) error {
		return tx.execOne(ctx, "group", `DELETE FROM agent_groups WHERE id = ?`, id)
	})
	return wrap(err, "delete group %d", id)
}
