package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/sla"
)

// slaCacheTTL is how long another instance's change to the policies or
// business hours may go unseen; this instance's own changes apply at once.
const slaCacheTTL = 2 * time.Second

// slaCache holds the compiled policies: every new request, reply and status
// change consults them. The mutex guards the fields only: a reload reads
// through the caller's own connection (its transaction, or the read pool),
// so that transactions waiting for one another never wait for a connection
// held by a waiting transaction.
type slaCache struct {
	mu     sync.Mutex
	book   *sla.Book
	loaded time.Time
}

// slaBook returns the policies with their compiled business hours, reading
// them through r when the cache is stale.
func (r run) slaBook(ctx context.Context) (*sla.Book, error) {
	c := &r.db.sla
	c.mu.Lock()
	book, fresh := c.book, c.book != nil && time.Since(c.loaded) < slaCacheTTL
	c.mu.Unlock()
	if fresh {
		return book, nil
	}
	started := time.Now()
	hours, err := r.businessHours(ctx)
	if err != nil {
		return nil, err
	}
	policies, err := r.slaPolicies(ctx)
	if err != nil {
		return nil, err
	}
	if book, err = sla.NewBook(hours, policies); err != nil {
		return nil, fmt.Errorf("store: SLA policies: %w", err)
	}
	c.mu.Lock()
	if started.After(c.loaded) {
		c.book, c.loaded = book, started
	}
	c.mu.Unlock()
	return book, nil
}

func (db *DB) forgetSLABook() {
	db.sla.mu.Lock()
	db.sla.book, db.sla.loaded = nil, time.Time{}
	db.sla.mu.Unlock()
}

// bindSLA attaches each request's policy to its clocks, for their JSON.
func (r run) bindSLA(ctx context.Context, cs ...*cv.Conversation) error {
	book, err := r.slaBook(ctx)
	if err != nil {
		return err
	}
	for _, c := range cs {
		c.SLA.Bind(book.Plan(c.SLA.PolicyID), r.db.Now)
	}
	return nil
}

// The clock columns of a request, in the order of clockScan.dest.
const clockColumns = `c.sla_policy_id, c.sla_measured, c.sla_first_due, c.sla_next_due, c.sla_resolution_due, c.sla_paused_at,
	c.sla_breached, c.sla_next_breaches, c.sla_next_met, c.sla_paused_ms, c.first_reply_at, c.awaiting_since`

// trackSet writes a request's clocks and its metering, from trackArgs.
const trackSet = `sla_policy_id = ?, sla_measured = ?, sla_first_due = ?, sla_next_due = ?, sla_resolution_due = ?, sla_paused_at = ?,
	sla_breached = ?, sla_next_breaches = ?, sla_next_met = ?, sla_paused_ms = ?, first_reply_at = ?, awaiting_since = ?, sla_next_at = ?,
	assignee_replied = ?, run_since = ?`

// clockScan reads clockColumns.
type clockScan struct {
	policy, first, next, resolution, paused, firstReply, awaiting nullInt
	measured, breached, nextBreaches, nextMet                     int
	pausedMS                                                      int64
}

func (cs *clockScan) dest() []any {
	return []any{&cs.policy, &cs.measured, &cs.first, &cs.next, &cs.resolution, &cs.paused, &cs.breached, &cs.nextBreaches,
		&cs.nextMet, &cs.pausedMS, &cs.firstReply, &cs.awaiting}
}

func (cs *clockScan) state(closed bool) *sla.State {
	return &sla.State{
		PolicyID: cs.policy.id(), Measured: cs.measured, Due: [3]int64{cs.first.id(), cs.next.id(), cs.resolution.id()},
		PausedAt: cs.paused.id(), Breached: cs.breached, NextBreaches: cs.nextBreaches, NextMet: cs.nextMet, PausedMS: cs.pausedMS,
		FirstReplyAt: cs.firstReply.id(), AwaitingSince: cs.awaiting.id(), Closed: closed,
	}
}

// trackArgs are the values of trackSet.
func trackArgs(c *cv.Conversation) []any {
	s := c.SLA
	return []any{nullID(s.PolicyID), s.Measured, nullID(s.Due[0]), nullID(s.Due[1]), nullID(s.Due[2]), nullID(s.PausedAt),
		s.Breached, s.NextBreaches, s.NextMet, s.PausedMS, nullID(s.FirstReplyAt), nullID(s.AwaitingSince), nullID(s.NextAt()),
		c.Metering.AssigneeReplied, nullID(c.Metering.RunSince)}
}

// updateTracked updates a request: set (with its arguments), its clocks and its metering.
func (tx *txn) updateTracked(ctx context.Context, c *cv.Conversation, set string, args ...any) error {
	if set != "" {
		set += ", "
	}
	_, err := tx.exec(ctx, `UPDATE conversations SET `+set+trackSet+` WHERE id = ?`, append(append(args, trackArgs(c)...), c.ID)...)
	return err
}

// plan returns the plan a request's clocks run against (nil when none).
func (tx *txn) plan(ctx context.Context, c *cv.Conversation) (*sla.Plan, error) {
	book, err := tx.slaBook(ctx)
	if err != nil || c.SLA.PolicyID == 0 {
		return nil, err
	}
	return book.Plan(c.SLA.PolicyID), nil
}

// clientWrote moves the clocks for a client message: a new request starts
// them under the first policy that matches it; a client answering a request
// that waited for them returns it to the default Open status and resumes them.
func (tx *txn) clientWrote(ctx context.Context, c *cv.Conversation, created bool) error {
	now := millis(tx.now)
	if created {
		book, err := tx.slaBook(ctx)
		if err != nil {
			return err
		}
		p := book.For(c.ChannelID, c.DepartmentID)
		c.SLA.Start(p, now)
		c.SLA.Bind(p, tx.db.Now)
		return nil
	}
	p, err := tx.plan(ctx, c)
	if err != nil {
		return err
	}
	c.SLA.Bind(p, tx.db.Now)
	if c.SLA.PausedAt != 0 {
		c.SLA.Resume(p, now)
		if err := tx.queryRow(ctx, `SELECT id FROM statuses WHERE class = 'open' AND is_default = ?`, true).Scan(&c.StatusID); err != nil {
			return fmt.Errorf("default open status: %w", err)
		}
		if _, err := tx.exec(ctx, `UPDATE conversations SET status_id = ? WHERE id = ?`, c.StatusID, c.ID); err != nil {
			return err
		}
	}
	c.SLA.ClientWrote(p, now, c.Mode == cv.Live)
	if c.AssigneeID != 0 && c.Metering.RunSince == 0 {
		c.Metering.RunSince = now
	}
	return nil
}

// replied moves the clocks and the metering for an agent reply and
// records it in the replies the metrics read (docs/supervision.md): a
// first reply of the assignee since they got the request, and the answer
// to the client's run of messages since then.
func (tx *txn) replied(ctx context.Context, c *cv.Conversation, m cv.Message) error {
	now := millis(tx.now)
	c.SLA.Replied(now)
	if m.AuthorID == 0 {
		return nil
	}
	p, err := tx.plan(ctx, c)
	if err != nil {
		return err
	}
	span := func(from int64) (calendar, business any) {
		if p == nil {
			return now - from, now - from
		}
		return now - from, p.Business(from, now)
	}
	var first, firstBusiness, answer, answerBusiness any
	mt := &c.Metering
	if m.AuthorID == c.AssigneeID && mt.AssignedAt != 0 && mt.AssignedAt <= now {
		if !mt.AssigneeReplied {
			first, firstBusiness = span(mt.AssignedAt)
			mt.AssigneeReplied = true
		}
		if mt.RunSince != 0 {
			answer, answerBusiness = span(mt.RunSince)
		}
	}
	// Anyone's reply ends the client's run.
	mt.RunSince = 0
	_, err = tx.exec(ctx, `INSERT INTO replies (message_id, conversation_id, agent_id, channel_id, department_id, group_id, sent_at,
		first_ms, first_business_ms, answer_ms, answer_business_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, c.ID, m.AuthorID, c.ChannelID, nullID(c.DepartmentID), nullID(c.GroupID), now, first, firstBusiness, answer, answerBusiness)
	return err
}

// BusinessHours lists the schedules, the default first.
func (db *DB) BusinessHours(ctx context.Context) ([]sla.Hours, error) {
	return db.reader().businessHours(ctx)
}

func (r run) businessHours(ctx context.Context) ([]sla.Hours, error) {
	rows, err := r.query(ctx, `SELECT id, is_default, definition FROM business_hours ORDER BY is_default DESC, lower(name), id`)
	out, err := collect(rows, err, func(row scanner) (sla.Hours, error) {
		var h sla.Hours
		var def string
		if err := row.Scan(&h.ID, &h.Default, &def); err != nil {
			return h, err
		}
		return h, json.Unmarshal([]byte(def), &h.Schedule)
	})
	return out, wrap(err, "list business hours")
}

// SaveBusinessHours creates (ID 0) or replaces a validated schedule.
func (db *DB) SaveBusinessHours(ctx context.Context, h sla.Hours) (sla.Hours, error) {
	def, err := json.Marshal(h.Schedule)
	if err != nil {
		return h, err
	}
	err = db.tx(ctx, func(tx *txn) error {
		now := millis(tx.now)
		if h.ID == 0 {
			h.Default = false
			return tx.queryRow(ctx, `INSERT INTO business_hours (name, definition, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING id`,
				h.Name, string(def), now, now).Scan(&h.ID)
		}
		if err := tx.queryRow(ctx, `SELECT is_default FROM business_hours WHERE id = ?`, h.ID).Scan(&h.Default); errors.Is(err, sql.ErrNoRows) {
			return errs.NotFound("business hours")
		} else if err != nil {
			return err
		}
		_, err := tx.exec(ctx, `UPDATE business_hours SET name = ?, definition = ?, updated_at = ? WHERE id = ?`, h.Name, string(def), now, h.ID)
		return err
	})
	if isUniqueViolation(err) {
		return h, errs.Taken("name", "there are business hours with this name already")
	}
	db.forgetSLABook()
	return h, wrap(err, "save business hours")
}

// DeleteBusinessHours removes a schedule no policy uses; the default stays.
func (db *DB) DeleteBusinessHours(ctx context.Context, id int64) error {
	err := db.tx(ctx, func(tx *txn) error {
		var isDefault bool
		if err := tx.queryRow(ctx, `SELECT is_default FROM business_hours WHERE id = ?`, id).Scan(&isDefault); errors.Is(err, sql.ErrNoRows) {
			return errs.NotFound("business hours")
		} else if err != nil {
			return err
		}
		if isDefault {
			return errs.Conflict("default_business_hours", "the default business hours cannot be removed")
		}
		var used string
		err := tx.queryRow(ctx, `SELECT name FROM sla_policies WHERE business_hours_id = ? ORDER BY position LIMIT 1`, id).Scan(&used)
		if err == nil {
			return errs.Conflict("business_hours_in_use", "the SLA policy "+used+" uses these business hours")
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err = tx.exec(ctx, `DELETE FROM business_hours WHERE id = ?`, id)
		return err
	})
	db.forgetSLABook()
	return wrap(err, "delete business hours %d", id)
}

// SLAPolicies lists the policies in the order they are tried, the default last.
func (db *DB) SLAPolicies(ctx context.Context) ([]sla.Policy, error) {
	return db.reader().slaPolicies(ctx)
}

func (r run) slaPolicies(ctx context.Context) ([]sla.Policy, error) {
	rows, err := r.query(ctx, `SELECT id, name, position, is_default, business_hours_id, targets, warning_percent,
		channels, departments, on_breach FROM sla_policies ORDER BY is_default, position, id`)
	out, err := collect(rows, err, func(row scanner) (sla.Policy, error) {
		var p sla.Policy
		var targets, channels, departments string
		if err := row.Scan(&p.ID, &p.Name, &p.Position, &p.Default, &p.ScheduleID, &targets, &p.WarningPercent,
			&channels, &departments, &p.OnBreach); err != nil {
			return p, err
		}
		err := errors.Join(json.Unmarshal([]byte(targets), &p.Targets), json.Unmarshal([]byte(channels), &p.Channels),
			json.Unmarshal([]byte(departments), &p.Departments))
		return p, err
	})
	return out, wrap(err, "list SLA policies")
}

// SaveSLAPolicy creates (ID 0, placed before the default) or replaces a
// validated policy; its business hours, channels and departments must exist.
func (db *DB) SaveSLAPolicy(ctx context.Context, p sla.Policy) (sla.Policy, error) {
	targets, _ := json.Marshal(p.Targets)
	channels, _ := json.Marshal(p.Channels)
	departments, _ := json.Marshal(p.Departments)
	err := db.tx(ctx, func(tx *txn) error {
		now := millis(tx.now)
		if err := tx.mustExist(ctx, "business_hours_id", "business_hours", []int64{p.ScheduleID}); err != nil {
			return err
		}
		if err := tx.mustExist(ctx, "channels", "channels", p.Channels); err != nil {
			return err
		}
		if err := tx.mustExist(ctx, "departments", "departments", p.Departments); err != nil {
			return err
		}
		if p.ID == 0 {
			p.Default = false
			return tx.queryRow(ctx, `INSERT INTO sla_policies (name, position, business_hours_id, targets, warning_percent, channels, departments, on_breach, created_at, updated_at)
				VALUES (?, (SELECT COALESCE(MAX(position), 0) + 1 FROM sla_policies WHERE NOT is_default), ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id, position`,
				p.Name, p.ScheduleID, string(targets), p.WarningPercent, string(channels), string(departments), p.OnBreach, now, now).Scan(&p.ID, &p.Position)
		}
		if err := tx.queryRow(ctx, `SELECT is_default, position FROM sla_policies WHERE id = ?`, p.ID).Scan(&p.Default, &p.Position); errors.Is(err, sql.ErrNoRows) {
			return errs.NotFound("SLA policy")
		} else if err != nil {
			return err
		}
		if p.Default && (len(p.Channels) > 0 || len(p.Departments) > 0) {
			return errs.Invalid("channels", "the default policy applies to every request and takes no conditions")
		}
		_, err := tx.exec(ctx, `UPDATE sla_policies SET name = ?, business_hours_id = ?, targets = ?, warning_percent = ?, channels = ?, departments = ?,
			on_breach = ?, updated_at = ? WHERE id = ?`, p.Name, p.ScheduleID, string(targets), p.WarningPercent, string(channels), string(departments), p.OnBreach, now, p.ID)
		return err
	})
	if isUniqueViolation(err) {
		return p, errs.Taken("name", "there is an SLA policy with this name already")
	}
	db.forgetSLABook()
	return p, wrap(err, "save SLA policy")
}

// mustExist fails with field named when one of ids is not a row of table.
func (tx *txn) mustExist(ctx context.Context, field, table string, ids []int64) error {
	for _, id := range ids {
		var n int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM `+table+` WHERE id = ?`, id).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return errs.Invalid(field, fmt.Sprintf("%d does not exist", id))
		}
	}
	return nil
}

// DeleteSLAPolicy removes a policy; the default stays. Requests under it
// keep their due instants (breaches are still recorded) but no longer show clocks.
func (db *DB) DeleteSLAPolicy(ctx context.Context, id int64) error {
	err := db.tx(ctx, func(tx *txn) error {
		var isDefault bool
		if err := tx.queryRow(ctx, `SELECT is_default FROM sla_policies WHERE id = ?`, id).Scan(&isDefault); errors.Is(err, sql.ErrNoRows) {
			return errs.NotFound("SLA policy")
		} else if err != nil {
			return err
		}
		if isDefault {
			return errs.Conflict("default_policy", "the default SLA policy cannot be removed")
		}
		_, err := tx.exec(ctx, `DELETE FROM sla_policies WHERE id = ?`, id)
		return err
	})
	db.forgetSLABook()
	return wrap(err, "delete SLA policy %d", id)
}

// OrderSLAPolicies sets the order in which policies are tried: ids must
// list every policy but the default, which stays last.
func (db *DB) OrderSLAPolicies(ctx context.Context, ids []int64) error {
	err := db.tx(ctx, func(tx *txn) error {
		rows, err := tx.query(ctx, `SELECT id FROM sla_policies WHERE NOT is_default`)
		have, err := collect(rows, err, scanInt64)
		if err != nil {
			return err
		}
		seen := map[int64]bool{}
		for _, id := range ids {
			seen[id] = true
		}
		if len(seen) != len(ids) || len(ids) != len(have) {
			return errs.Invalid("ids", "must list every policy but the default once")
		}
		for _, id := range have {
			if !seen[id] {
				return errs.Invalid("ids", fmt.Sprintf("policy %d is missing", id))
			}
		}
		for i, id := range ids {
			if _, err := tx.exec(ctx, `UPDATE sla_policies SET position = ? WHERE id = ?`, i+1, id); err != nil {
				return err
			}
		}
		return nil
	})
	db.forgetSLABook()
	return wrap(err, "order SLA policies")
}

// slaLock serializes breach rounds, also across instances on PostgreSQL
// (SQLite has one writer anyway).
func (tx *txn) slaLock(ctx context.Context) error {
	if tx.d != postgres {
		return nil
	}
	_, err := tx.exec(ctx, `SELECT pg_advisory_xact_lock(?)`, tx.db.eventLock^0x5A1B2C3D4E5F6071)
	return err
}

// Breach records the breaches that are due: for each request whose
// earliest running clock has passed, once, a line in the request and a
// conversation.sla_breached event (seen by the assignee, the group while it
// is queued, and supervisors), and the policy's action. It handles at most
// limit requests and returns how many breached.
func (db *DB) Breach(ctx context.Context, limit int) (int, error) {
	// Most rounds find nothing due: a read says so.
	var probe int
	err := db.reader().queryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM conversations WHERE sla_next_at <= ? LIMIT 1) d`, millis(db.Now())).Scan(&probe)
	if err != nil || probe == 0 {
		return 0, wrap(err, "look for SLA breaches")
	}
	n := 0
	err = db.tx(ctx, func(tx *txn) error {
		if err := tx.slaLock(ctx); err != nil {
			return err
		}
		now := millis(tx.now)
		rows, err := tx.query(ctx, `SELECT id FROM conversations WHERE sla_next_at <= ? ORDER BY sla_next_at LIMIT ?`, now, limit)
		ids, err := collect(rows, err, scanInt64)
		if err != nil {
			return err
		}
		for _, id := range ids {
			c, err := loadConversation(ctx, tx.run, id, true)
			if err != nil {
				return err
			}
			hit := c.SLA.Breach(now)
			if len(hit) == 0 {
				// Its clocks moved since it was found (a reply, a pause).
				if err := tx.updateTracked(ctx, &c, ""); err != nil {
					return err
				}
				continue
			}
			if err := tx.breached(ctx, &c, hit, true); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, wrap(err, "record SLA breaches")
}

// breachData is the payload of conversation.sla_breached.
type breachData struct {
	Conversation cv.Conversation `json:"conversation"`
	Message      *cv.Message     `json:"message"`
	Targets      []sla.Target    `json:"targets"`
}

// catchUp records the breaches already due before a reply, close or status
// moves the clocks: the scheduler may not have come round yet, and a late
// answer must not pass for one in time. The policy's action is not taken:
// the request is being worked on.
func (tx *txn) catchUp(ctx context.Context, c *cv.Conversation) error {
	if hit := c.SLA.Breach(millis(tx.now)); len(hit) > 0 {
		return tx.breached(ctx, c, hit, false)
	}
	return nil
}

// breached writes the line and event of a breach and, when act, the policy's action.
func (tx *txn) breached(ctx context.Context, c *cv.Conversation, hit []sla.Target, act bool) error {
	p, err := tx.plan(ctx, c)
	if err != nil {
		return err
	}
	var what []string
	for _, t := range hit {
		label := t.Label()
		if p != nil && p.Policy.Target(t) > 0 {
			label += " (" + sla.Human(p.Policy.Target(t)) + ")"
		}
		what = append(what, label)
	}
	line, err := tx.insertMessage(ctx, c, cv.Message{Kind: cv.EventLine, Body: "SLA breached: " + strings.Join(what, ", ")})
	if err != nil {
		return err
	}
	tx.emit(conversationEvent(cv.EventSLABreached, *c, c.AssigneeID, breachData{Conversation: *c, Message: &line, Targets: hit}))
	if !act || p == nil || p.Policy.OnBreach != sla.Requeue || c.AssigneeID == 0 || c.Mode != cv.Live {
		return nil
	}
	return tx.unassign(ctx, c, 0, "Returned to the queue: %s missed the SLA", c.AssigneeID)
}
