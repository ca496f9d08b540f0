package store

import (
	"context"
	"slices"
	"strings"
	"time"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/dispatch"
	"github.com/switchboard-hq/switchboard/internal/errs"
)

// DispatchRules returns the dispatcher's rules of every group (the defaults,
// off, for groups never configured).
func (db *DB) DispatchRules(ctx context.Context) ([]dispatch.Rule, error) {
	rows, err := db.reader().query(ctx, `SELECT g.id, COALESCE(r.enabled, ?), COALESCE(r.capacity, ?), COALESCE(r.requeue_after_minutes, 0), COALESCE(r.requeue_on_offline, ?)
		FROM agent_groups g LEFT JOIN dispatch_rules r ON r.group_id = g.id ORDER BY lower(g.name), g.id`, false, dispatch.DefaultCapacity, false)
	out, err := collect(rows, err, func(row scanner) (dispatch.Rule, error) {
		var r dispatch.Rule
		return r, row.Scan(&r.GroupID, &r.Enabled, &r.Capacity, &r.RequeueAfterMinutes, &r.RequeueOnOffline)
	})
	return out, wrap(err, "list dispatch rules")
}

// SetDispatchRule stores a group's rule.
func (db *DB) SetDispatchRule(ctx context.Context, r dispatch.Rule) (dispatch.Rule, error) {
	err := db.tx(ctx, func(tx *txn) error {
		var n int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM agent_groups WHERE id = ?`, r.GroupID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return errs.NotFound("group")
		}
		_, err := tx.exec(ctx, `INSERT INTO dispatch_rules (group_id, enabled, capacity, requeue_after_minutes, requeue_on_offline, updated_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (group_id) DO UPDATE SET enabled = excluded.enabled, capacity = excluded.capacity,
			requeue_after_minutes = excluded.requeue_after_minutes, requeue_on_offline = excluded.requeue_on_offline, updated_at = excluded.updated_at`,
			r.GroupID, r.Enabled, r.Capacity, r.RequeueAfterMinutes, r.RequeueOnOffline, millis(tx.now))
		return err
	})
	return r, wrap(err, "set dispatch rule of group %d", r.GroupID)
}

// dispatchLock serializes dispatch transactions on PostgreSQL, across
// instances too: each one reads load and eligibility after the previous
// one committed, so no request goes to two agents and no agent exceeds
// their capacity. (SQLite has one writer: that is the lock there.)
func (tx *txn) dispatchLock(ctx context.Context) error {
	if tx.d != postgres {
		return nil
	}
	// A key of this schema's own, apart from the event log's.
	_, err := tx.exec(ctx, `SELECT pg_advisory_xact_lock(?)`, tx.db.eventLock^0x2545F4914F6CDD1D)
	return err
}

type candidate struct {
	agent, load, lastAssigned int64
}

// Dispatch assigns waiting requests of the groups whose dispatcher is on to
// their eligible agents — members, active, Online and connected, below the
// group's capacity — the least loaded first, then who waited longest since
// their last assignment; the oldest requests first. It assigns at most limit
// and returns how many.
func (db *DB) Dispatch(ctx context.Context, limit int) (int, error) {
	// The dispatcher runs every second and on every change: deciding that
	// there is nothing to do costs a read, only assigning takes the writer.
	var waiting, free int
	now := millis(db.Now())
	if err := db.reader().queryRow(ctx, `SELECT
		(SELECT COUNT(*) FROM (SELECT 1 FROM conversations c JOIN dispatch_rules r ON r.group_id = c.group_id AND r.enabled = ?
			WHERE c.closed_at IS NULL AND c.mode = 'live' AND c.assignee_id IS NULL LIMIT 1) w),
		(SELECT COUNT(*) FROM (SELECT 1 FROM dispatch_rules r JOIN group_members gm ON gm.group_id = r.group_id JOIN agents a ON a.id = gm.agent_id
			WHERE r.enabled = ? AND a.active = ? AND a.presence = 'online' AND a.connected_until > ? LIMIT 1) f)`,
		true, true, true, now).Scan(&waiting, &free); err != nil {
		return 0, wrap(err, "look for requests to dispatch")
	}
	if waiting == 0 || free == 0 {
		return 0, nil
	}
	assigned := 0
	err := db.tx(ctx, func(tx *txn) error {
		if err := tx.dispatchLock(ctx); err != nil {
			return err
		}
		now := millis(tx.now)
		// Everyone who may take a request now, per group, with their load
		// (their open live requests, whatever group they came from).
		rows, err := tx.query(ctx, `SELECT gm.group_id, r.capacity, a.id, a.last_assigned_at,
			(SELECT COUNT(*) FROM conversations x WHERE x.assignee_id = a.id AND x.closed_at IS NULL AND x.mode = 'live')
			FROM dispatch_rules r JOIN group_members gm ON gm.group_id = r.group_id JOIN agents a ON a.id = gm.agent_id
			WHERE r.enabled = ? AND a.active = ? AND a.presence = 'online' AND a.connected_until > ?`, true, true, now)
		type member struct{ group, capacity, agent, last, load int64 }
		members, err := collect(rows, err, func(row scanner) (member, error) {
			var m member
			return m, row.Scan(&m.group, &m.capacity, &m.agent, &m.last, &m.load)
		})
		if err != nil {
			return err
		}
		load, last := map[int64]int64{}, map[int64]int64{}
		byGroup := map[int64][]member{}
		for _, m := range members {
			load[m.agent], last[m.agent] = m.load, m.last
			byGroup[m.group] = append(byGroup[m.group], m)
		}
		// The waiting requests of the groups where someone has room, oldest
		// first, a page at a time: requests nobody can take now never hold
		// up younger ones of other groups. Each page assigns at least its
		// first request; what a page leaves belongs to groups that stay full
		// until commit, so the next page no longer asks for them. The rows
		// are locked (PostgreSQL) before any agent's row is: a concurrent
		// Take or close waits, or is waited for, and is never overwritten.
		type waiting struct{ id, group, prev int64 }
		for assigned < limit {
			var groups []any
			for g, ms := range byGroup {
				if slices.ContainsFunc(ms, func(m member) bool { return load[m.agent] < m.capacity }) {
					groups = append(groups, g)
				}
			}
			if len(groups) == 0 {
				return nil
			}
			page := limit - assigned
			rows, err := tx.query(ctx, `SELECT c.id, c.group_id, COALESCE(c.previous_assignee_id, 0) FROM conversations c
				WHERE c.closed_at IS NULL AND c.mode = 'live' AND c.assignee_id IS NULL AND c.group_id IN (?`+strings.Repeat(`, ?`, len(groups)-1)+`)
				ORDER BY c.created_at, c.id LIMIT ?`+tx.d.forUpdate(), append(groups, page)...)
			queue, err := collect(rows, err, func(row scanner) (waiting, error) {
				var w waiting
				return w, row.Scan(&w.id, &w.group, &w.prev)
			})
			if err != nil {
				return err
			}
			for _, w := range queue {
				var best *member
				for i := range byGroup[w.group] {
					m := &byGroup[w.group][i]
					if load[m.agent] >= m.capacity {
						continue
					}
					if best == nil || better(m.agent, best.agent, load, last, w.prev) {
						best = m
					}
				}
				if best == nil {
					continue // this group filled up in this page
				}
				if _, err := tx.assign(ctx, w.id, best.agent, true); err != nil {
					return err
				}
				load[best.agent]++
				last[best.agent] = now
				assigned++
			}
			if len(queue) < page {
				return nil
			}
		}
		return nil
	})
	return assigned, wrap(err, "dispatch")
}

// better reports whether agent a should get the next request before agent b:
// fewer open chats; then not the agent the request was just taken back
// from; then the longest wait since their last assignment; then the lower id.
func better(a, b int64, load, last map[int64]int64, prev int64) bool {
	if load[a] != load[b] {
		return load[a] < load[b]
	}
	if (a == prev) != (b == prev) {
		return b == prev
	}
	if last[a] != last[b] {
		return last[a] < last[b]
	}
	return a < b
}

// Requeue returns to the queue the requests the dispatcher gave to an agent
// who has not answered within the group's time, and — where the group says
// so — the requests of agents who went Offline or lost their connection.
// It returns how many went back.
func (db *DB) Requeue(ctx context.Context, limit int) (int, error) {
	// Most rounds find nothing to take back: a read says so.
	probe, err := db.requeueCandidates(ctx, db.reader(), millis(db.Now()), 1)
	if err != nil || len(probe) == 0 {
		return 0, err
	}
	n := 0
	err = db.tx(ctx, func(tx *txn) error {
		if err := tx.dispatchLock(ctx); err != nil {
			return err
		}
		list, err := db.requeueCandidates(ctx, tx.run, millis(tx.now), limit)
		if err != nil {
			return err
		}
		for _, b := range list {
			c, err := loadConversation(ctx, tx.run, b.id, true)
			if err != nil {
				return err
			}
			if !c.Open() || c.Mode != cv.Live || c.AssigneeID != b.assignee {
				continue // closed, ended or handed on since it was found: nothing to take back
			}
			why := "went offline"
			if !b.offline {
				why = "did not answer in " + time.Duration(b.minutes*int64(time.Minute)).String()
			}
			if err := tx.unassign(ctx, &c, 0, "Returned to the queue: %s "+why, c.AssigneeID); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, wrap(err, "requeue")
}

// requeued is a request to take back from its assignee.
type requeued struct {
	id, assignee, minutes int64
	offline               bool
}

func (db *DB) requeueCandidates(ctx context.Context, r run, now int64, limit int) ([]requeued, error) {
	rows, err := r.query(ctx, `SELECT c.id, c.assignee_id, r.requeue_after_minutes,
			CASE WHEN r.requeue_on_offline AND EXISTS (SELECT 1 FROM agents a WHERE a.id = c.assignee_id AND (a.presence = 'offline' OR a.connected_until <= ?)) THEN 1 ELSE 0 END
			FROM conversations c JOIN dispatch_rules r ON r.group_id = c.group_id AND r.enabled = ?
			WHERE c.closed_at IS NULL AND c.mode = 'live' AND c.assignee_id IS NOT NULL AND (
				(r.requeue_on_offline AND EXISTS (SELECT 1 FROM agents a WHERE a.id = c.assignee_id AND (a.presence = 'offline' OR a.connected_until <= ?)))
				OR (r.requeue_after_minutes > 0 AND c.assigned_by_dispatcher AND c.assigned_at < CAST(? AS BIGINT) - r.requeue_after_minutes * 60000
					AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.kind = ? AND m.author_id = c.assignee_id AND m.created_at >= c.assigned_at)))
			ORDER BY c.id LIMIT ?`, now, true, now, now, cv.Reply, limit)
	list, err := collect(rows, err, func(row scanner) (requeued, error) {
		var b requeued
		var off int
		err := row.Scan(&b.id, &b.assignee, &b.minutes, &off)
		b.offline = off == 1
		return b, err
	})
	return list, wrap(err, "find requests to requeue")
}

// Unassign returns a request to the queue (a supervisor's "Back to queue").
func (db *DB) Unassign(ctx context.Context, id int64, check cv.Check, byAgent int64) (cv.Conversation, error) {
	var c cv.Conversation
	err := db.tx(ctx, func(tx *txn) error {
		var err error
		if c, err = lockChecked(ctx, tx, id, check); err != nil {
			return err
		}
		if c.AssigneeID == 0 {
			return errs.Conflict("not_assigned", "this request is already in the queue")
		}
		if c.Mode != cv.Live {
			return errs.Conflict("not_live", "this request is not in live chat")
		}
		return tx.unassign(ctx, &c, byAgent, "%s returned the request to the queue", byAgent)
	})
	return c, wrap(err, "unassign request %d", id)
}

// unassign takes a request from its assignee back to the queue, with a line.
func (tx *txn) unassign(ctx context.Context, c *cv.Conversation, byAgent int64, format string, agents ...int64) error {
	prev := c.AssigneeID
	c.Metering = cv.Metering{}
	if err := tx.updateTracked(ctx, c, `assignee_id = NULL, previous_assignee_id = ?, assigned_at = NULL, assigned_by_dispatcher = ?, updated_at = ?`,
		prev, false, millis(tx.now)); err != nil {
		return err
	}
	c.AssigneeID, c.PreviousAssigneeID = 0, prev
	line, err := tx.eventLine(ctx, c, byAgent, format, agents...)
	if err != nil {
		return err
	}
	ev := conversationEvent(cv.EventConversationReturned, *c, prev, conversationData{Conversation: *c, Message: &line})
	ev.Queued = true
	tx.emit(ev)
	return nil
}

// HeldRequests lists the agent's open requests in the given statuses.
func (db *DB) HeldRequests(ctx context.Context, agentID int64, statuses []int64) ([]int64, error) {
	if len(statuses) == 0 {
		return nil, nil
	}
	args := []any{agentID}
	for _, st := range statuses {
		args = append(args, st)
	}
	rows, err := db.reader().query(ctx, `SELECT id FROM conversations WHERE assignee_id = ? AND closed_at IS NULL
		AND status_id IN (?`+strings.Repeat(`, ?`, len(statuses)-1)+`) ORDER BY id LIMIT 100`, args...)
	out, err := collect(rows, err, scanInt64)
	return out, wrap(err, "requests held by agent %d", agentID)
}
