package store

import (
	"context"
	"fmt"
	"strings"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/templates"
)

// Templates lists every template by tag.
func (db *DB) Templates(ctx context.Context) ([]templates.Template, error) {
	rows, err := db.reader().query(ctx, `SELECT id, tag, content, channels FROM templates ORDER BY lower(tag)`)
	if err != nil {
		return nil, fmt.Errorf("store: templates: %w", err)
	}
	defer rows.Close()
	out := []templates.Template{}
	for rows.Next() {
		var t templates.Template
		var channels string
		if err := rows.Scan(&t.ID, &t.Tag, &t.Content, &channels); err != nil {
			return nil, fmt.Errorf("store: templates: %w", err)
		}
		t.Channels = []cv.ChannelKind{}
		for _, k := range strings.Fields(channels) {
			t.Channels = append(t.Channels, cv.ChannelKind(k))
		}
		out = append(out, t)
	}
	return out, wrap(rows.Err(), "templates")
}

// SaveTemplate creates or updates a template.
func (db *DB) SaveTemplate(ctx context.Context, t templates.Template) (templates.Template, error) {
	kinds := make([]string, len(t.Channels))
	for i, k := range t.Channels {
		kinds[i] = string(k)
	}
	channels := strings.Join(kinds, " ")
	err := db.tx(ctx, func(tx *txn) error {
		now := millis(tx.now)
		if t.ID == 0 {
			return tx.queryRow(ctx, `INSERT INTO templates (tag, content, channels, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
				t.Tag, t.Content, channels, now, now).Scan(&t.ID)
		}
		return tx.execOne(ctx, "template", `UPDATE templates SET tag = ?, content = ?, channels = ?, updated_at = ? WHERE id = ?`, t.Tag, t.Content, channels, now, t.ID)
	})
	if isUniqueViolation(err) {
		return t, errs.Taken("tag", "a template with this tag already exists")
	}
	return t, wrap(err, "save template")
}

// DeleteTemplate removes a template.
func (db *DB) DeleteTemplate(ctx context.Context, id int64) error {
	err := db.tx(ctx, func(tx *txn) error {
		return tx.execOne(ctx, "template", `DELETE FROM templates WHERE id = ?`, id)
	})
	return wrap(err, "delete template %d", id)
}
