package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
)

const conversationColumns = `c.id, c.channel_id, c.channel_kind, c.client_id, cl.name, c.department_id, c.group_id, c.assignee_id,
	c.previous_assignee_id, c.status_id, c.mode, c.subject, c.unread, c.last_message_at, c.last_message_kind,
	c.last_message_preview, c.created_at, c.closed_at, c.assigned_at, c.assignee_replied, c.run_since, ` + clockColumns

const conversationFrom = ` FROM conversations c JOIN clients cl ON cl.id = c.client_id `

func scanConversation(row scanner) (cv.Conversation, error) {
	var c cv.Conversation
	var dept, group, assignee, prev nullInt
	var last, created int64
	var closed sql.NullInt64
	var clock clockScan
	var assignedAt, runSince nullInt
	err := row.Scan(append([]any{&c.ID, &c.ChannelID, &c.ChannelKind, &c.ClientID, &c.ClientName, &dept, &group, &assignee, &prev,
		&c.StatusID, &c.Mode, &c.Subject, &c.Unread, &last, &c.LastMessageKind, &c.LastMessagePreview, &created, &closed,
		&assignedAt, &c.Metering.AssigneeReplied, &runSince}, clock.dest()...)...)
	c.Metering.AssignedAt, c.Metering.RunSince = assignedAt.id(), runSince.id()
	c.DepartmentID, c.GroupID, c.AssigneeID, c.PreviousAssigneeID = dept.id(), group.id(), assignee.id(), prev.id()
	c.SLA = clock.state(closed.Valid)
	c.LastMessageAt, c.CreatedAt = fromMillis(last), fromMillis(created)
	if closed.Valid {
		t := fromMillis(closed.Int64)
		c.ClosedAt = &t
	}
	return c, err
}

// conversationData is the payload of every conversation event: the list row,
// and the message when one was added.
type conversationData struct {
	Conversation cv.Conversation `json:"conversation"`
	Message      *cv.Message     `json:"message,omitempty"`
}

// Conversation returns one request.
func (db *DB) Conversation(ctx context.Context, id int64) (cv.Conversation, error) {
	return loadConversation(ctx, db.reader(), id, false)
}

func loadConversation(ctx context.Context, r run, id int64, lock bool) (cv.Conversation, error) {
	q := `SELECT ` + conversationColumns + conversationFrom + `WHERE c.id = ?`
	if lock {
		q += r.d.forUpdate()
	}
	c, err := scanConversation(r.queryRow(ctx, q, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, errs.NotFound("request")
	}
	if err == nil {
		err = r.bindSLA(ctx, &c)
	}
	return c, wrap(err, "request %d", id)
}

// errDuplicate rolls back the delivery of a message stored before.
var errDuplicate = errors.New("duplicate message")

// lockChecked loads a request, locks it until commit, and applies check.
func lockChecked(ctx context.Context, tx *txn, id int64, check cv.Check) (cv.Conversation, error) {
	c, err := loadConversation(ctx, tx.run, id, true)
	if err == nil {
		err = check(c)
	}
	return c, err
}

// Ingest stores a client message; see conversation.Store. Concurrent calls
// share transactions (group commit, see ingest.go); each is answered only
// after its own message is committed.
func (db *DB) Ingest(ctx context.Context, ch cv.Channel, in cv.Inbound) (cv.IngestResult, error) {
	for attempt := 1; ; attempt++ {
		res, err := db.ingester.submit(ctx, ch, in)
		switch {
		case errors.Is(err, errDuplicate):
			return db.duplicate(ctx, ch.ID, in.ExternalID)
		case (isUniqueViolation(err) || isTransient(err)) && attempt < 5:
			// A concurrent first message of the same client, on another
			// instance, created the client, identity or request first (this
			// attempt joins them), or PostgreSQL broke a rare deadlock
			// between batches: the batch was rolled back whole, so retry.
			continue
		}
		return res, wrap(err, "ingest on channel %d", ch.ID)
	}
}

// ingest stores one client message within the transaction.
func (tx *txn) ingest(ctx context.Context, ch cv.Channel, in cv.Inbound) (cv.IngestResult, error) {
	var res cv.IngestResult
	now := millis(tx.now)
	clientID, identityID, err := tx.identity(ctx, ch.Kind, in.Sender)
	if err != nil {
		return res, err
	}
	// The row lock (PostgreSQL) keeps concurrent batches from losing each
	// other's unread counts and last-message updates.
	c, err := scanConversation(tx.queryRow(ctx, `SELECT `+conversationColumns+conversationFrom+
		`WHERE c.channel_id = ? AND c.client_id = ? AND c.closed_at IS NULL`+tx.d.forUpdate(), ch.ID, clientID))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if c, err = tx.openConversation(ctx, ch, clientID, identityID, in); err != nil {
			return res, err
		}
		res.Created = true
	case err != nil:
		return res, err
	}
	m := cv.Message{ConversationID: c.ID, Kind: cv.FromClient, Body: in.Text, Attachments: in.Attachments, CreatedAt: tx.now}
	var external any
	if in.ExternalID != "" {
		external = in.ExternalID
	}
	atts, _ := json.Marshal(nonNil(m.Attachments))
	err = tx.queryRow(ctx, `INSERT INTO messages (conversation_id, channel_id, kind, body, attachments, external_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (channel_id, external_id) WHERE external_id IS NOT NULL DO NOTHING RETURNING id`,
		c.ID, ch.ID, m.Kind, m.Body, string(atts), external, now).Scan(&m.ID)
	if errors.Is(err, sql.ErrNoRows) {
		// Stored before: roll back whatever this delivery created.
		return res, errDuplicate
	}
	if err != nil {
		return res, err
	}
	c.Unread++
	c.LastMessageAt, c.LastMessageKind, c.LastMessagePreview = tx.now, m.Kind, cv.Preview(m)
	if err := tx.clientWrote(ctx, &c, res.Created); err != nil {
		return res, err
	}
	if err := tx.updateTracked(ctx, &c, `unread = ?, last_message_at = ?, last_message_kind = ?, last_message_preview = ?, updated_at = ?`,
		c.Unread, now, c.LastMessageKind, c.LastMessagePreview, now); err != nil {
		return res, err
	}
	res.ConversationID, res.MessageID = c.ID, m.ID
	var evs []cv.Event
	if res.Created {
		evs = append(evs, conversationEvent(cv.EventConversationCreated, c, c.AssigneeID, conversationData{Conversation: c}))
	}
	evs = append(evs, conversationEvent(cv.EventMessageCreated, c, c.AssigneeID, conversationData{Conversation: c, Message: &m}))
	tx.emit(evs...)
	return res, nil
}

func (db *DB) duplicate(ctx context.Context, channelID int64, externalID string) (cv.IngestResult, error) {
	res := cv.IngestResult{Duplicate: true}
	err := db.reader().queryRow(ctx, `SELECT id, conversation_id FROM messages WHERE channel_id = ? AND external_id = ?`, channelID, externalID).
		Scan(&res.MessageID, &res.ConversationID)
	return res, wrap(err, "find duplicate message")
}

// identity finds or creates the client behind a channel identity, and
// returns the client and the identity.
func (tx *txn) identity(ctx context.Context, kind cv.ChannelKind, s cv.Sender) (clientID, identityID int64, err error) {
	err = tx.queryRow(ctx, `SELECT client_id, id FROM identities WHERE kind = ? AND external_id = ?`, kind, s.ExternalID).Scan(&clientID, &identityID)
	if !errors.Is(err, sql.ErrNoRows) {
		return clientID, identityID, err
	}
	now := millis(tx.now)
	name := s.Name
	if name == "" {
		name = s.Profile.Name
	}
	if s.Verified && s.Email != "" {
		// A proven email is the same person as the client whose email was
		// proven too; an email someone merely typed proves nothing.
		err = tx.queryRow(ctx, `SELECT id FROM clients WHERE lower(email) = lower(?) AND email_verified ORDER BY id LIMIT 1`, s.Email).Scan(&clientID)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return 0, 0, err
		}
	}
	if clientID == 0 {
		if err := tx.queryRow(ctx, `INSERT INTO clients (name, email, email_verified, phone, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			name, s.Email, s.Verified && s.Email != "", s.Phone, now, now).Scan(&clientID); err != nil {
			return 0, 0, err
		}
	}
	profile, _ := json.Marshal(s.Profile)
	err = tx.queryRow(ctx, `INSERT INTO identities (client_id, kind, external_id, profile, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		clientID, kind, s.ExternalID, string(profile), now).Scan(&identityID)
	return clientID, identityID, err
}

// reopenWithin is how soon after a close a new request of the same client
// on the same channel counts as reopened (statistics).
const reopenWithin = 24 * time.Hour

// openConversation creates a new live request with the default New status.
func (tx *txn) openConversation(ctx context.Context, ch cv.Channel, clientID, identityID int64, in cv.Inbound) (cv.Conversation, error) {
	now := millis(tx.now)
	var id int64
	// A client back within a day of their last request here reopens the matter.
	err := tx.queryRow(ctx, `INSERT INTO conversations (channel_id, channel_kind, client_id, identity_id, department_id, group_id, status_id, mode, subject,
		last_message_at, created_at, updated_at, reopened)
		SELECT ?, ?, ?, ?, ?, ?, s.id, 'live', ?, ?, ?, ?, EXISTS (SELECT 1 FROM conversations p WHERE p.client_id = ? AND p.channel_id = ? AND p.closed_at >= ?)
		FROM statuses s WHERE s.class = 'new' AND s.is_default = ? RETURNING id`,
		ch.ID, ch.Kind, clientID, identityID, nullID(cmp.Or(in.DepartmentID, ch.DepartmentID)), nullID(cmp.Or(in.GroupID, ch.GroupID)),
		cv.Subject(in.Text), now, now, now, clientID, ch.ID, now-reopenWithin.Milliseconds(), true).Scan(&id)
	if err != nil {
		return cv.Conversation{}, fmt.Errorf("open request: %w", err)
	}
	if in.Sender.Profile != (cv.Profile{}) {
		// A new request shows where the client is now (the widget's page).
		profile, _ := json.Marshal(in.Sender.Profile)
		if _, err := tx.exec(ctx, `UPDATE identities SET profile = ? WHERE id = ?`, string(profile), identityID); err != nil {
			return cv.Conversation{}, fmt.Errorf("update profile: %w", err)
		}
	}
	return loadConversation(ctx, tx.run, id, false)
}

// OpenConversationOf finds the open request of a channel identity.
func (db *DB) OpenConversationOf(ctx context.Context, channelID int64, externalID string) (cv.Conversation, error) {
	c, err := scanConversation(db.reader().queryRow(ctx, `SELECT `+conversationColumns+conversationFrom+
		`JOIN identities i ON i.client_id = c.client_id AND i.kind = c.channel_kind
		WHERE c.channel_id = ? AND i.external_id = ? AND c.closed_at IS NULL`, channelID, externalID))
	if errors.Is(err, sql.ErrNoRows) {
		return c, errs.NotFound("request")
	}
	if err == nil {
		err = db.reader().bindSLA(ctx, &c)
	}
	return c, wrap(err, "open request on channel %d", channelID)
}

// Take assigns an unassigned open live request, moving a New one to the
// default Open status.
func (db *DB) Take(ctx context.Context, id, agentID int64) (cv.Conversation, error) {
	var c cv.Conversation
	err := db.tx(ctx, func(tx *txn) error {
		var err error
		c, err = tx.assign(ctx, id, agentID, false)
		return err
	})
	return c, wrap(err, "take request %d", id)
}

// assign gives an unassigned open live request to an agent, moving a New one
// to the default Open status: the one write behind both "Take the chat" and
// the dispatcher, with its line in the request and its event.
func (tx *txn) assign(ctx context.Context, id, agentID int64, byDispatcher bool) (cv.Conversation, error) {
	now := millis(tx.now)
	res, err := tx.exec(ctx, `UPDATE conversations SET assignee_id = ?, assigned_at = ?, assigned_by_dispatcher = ?, updated_at = ?,
		assignee_replied = FALSE, run_since = NULL, status_id = CASE WHEN status_id IN (SELECT id FROM statuses WHERE class = 'new')
			THEN (SELECT id FROM statuses WHERE class = 'open' AND is_default = ?) ELSE status_id END
		WHERE id = ? AND assignee_id IS NULL AND closed_at IS NULL AND mode = 'live'`, agentID, now, byDispatcher, now, true, id)
	if err != nil {
		return cv.Conversation{}, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return cv.Conversation{}, whyNotTaken(ctx, tx, id)
	}
	if _, err := tx.exec(ctx, `UPDATE agents SET last_assigned_at = ? WHERE id = ?`, now, agentID); err != nil {
		return cv.Conversation{}, err
	}
	c, err := loadConversation(ctx, tx.run, id, false)
	if err != nil {
		return c, err
	}
	format, author := "%s took the request", agentID
	if byDispatcher {
		format, author = "Assigned to %s by the dispatcher", 0
	}
	line, err := tx.eventLine(ctx, &c, author, format, agentID)
	if err != nil {
		return c, err
	}
	tx.emit(conversationEvent(cv.EventConversationAssigned, c, 0, conversationData{Conversation: c, Message: &line}))
	return c, nil
}

func whyNotTaken(ctx context.Context, tx *txn, id int64) error {
	c, err := loadConversation(ctx, tx.run, id, false)
	if err != nil {
		return err
	}
	switch {
	case !c.Open():
		return errs.Conflict("closed", "this request is closed")
	case c.AssigneeID != 0:
		var name string
		_ = tx.queryRow(ctx, `SELECT name FROM agents WHERE id = ?`, c.AssigneeID).Scan(&name)
		return errs.Conflict("already_taken", "already taken by "+name)
	}
	return errs.Conflict("not_live", "this request is not in live chat")
}

// eventLine writes a system line into the request and updates its last
// activity. format's %s verbs are filled with the names of the agents.
func (tx *txn) eventLine(ctx context.Context, c *cv.Conversation, author int64, format string, agents ...int64) (cv.Message, error) {
	names := make([]any, len(agents))
	for i, id := range agents {
		var name string
		if err := tx.queryRow(ctx, `SELECT name FROM agents WHERE id = ?`, id).Scan(&name); err != nil {
			return cv.Message{}, fmt.Errorf("agent %d: %w", id, err)
		}
		names[i] = name
	}
	return tx.insertMessage(ctx, c, cv.Message{Kind: cv.EventLine, AuthorID: author, Body: fmt.Sprintf(format, names...)})
}

// insertMessage stores a message of the request and moves its last activity.
func (tx *txn) insertMessage(ctx context.Context, c *cv.Conversation, m cv.Message) (cv.Message, error) {
	now := millis(tx.now)
	if m.Kind == cv.Reply {
		// A late reply still breached: the breach comes first.
		if err := tx.catchUp(ctx, c); err != nil {
			return m, err
		}
	}
	m.ConversationID, m.CreatedAt = c.ID, tx.now
	m.Attachments = nonNil(m.Attachments)
	atts, _ := json.Marshal(m.Attachments)
	if err := tx.queryRow(ctx, `INSERT INTO messages (conversation_id, channel_id, kind, author_id, body, attachments, delivery, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, c.ID, c.ChannelID, m.Kind, nullID(m.AuthorID), m.Body, string(atts), m.Delivery, now).Scan(&m.ID); err != nil {
		return m, fmt.Errorf("insert message: %w", err)
	}
	if m.Delivery == cv.DeliveryQueued {
		// The reply and its delivery job commit together.
		if err := tx.enqueue(ctx, m.ID, c.ID, c.ChannelID); err != nil {
			return m, err
		}
	}
	if m.Kind == cv.Reply {
		c.Unread = 0
		if err := tx.replied(ctx, c, m); err != nil {
			return m, err
		}
	}
	c.LastMessageAt, c.LastMessageKind, c.LastMessagePreview = tx.now, m.Kind, cv.Preview(m)
	err := tx.updateTracked(ctx, c, `unread = ?, last_message_at = ?, last_message_kind = ?, last_message_preview = ?, updated_at = ?`,
		c.Unread, now, c.LastMessageKind, c.LastMessagePreview, now)
	return m, err
}

// AddMessage adds a reply or note to an open request.
func (db *DB) AddMessage(ctx context.Context, id int64, check cv.Check, m cv.Message) (cv.Message, error) {
	err := db.tx(ctx, func(tx *txn) error {
		c, err := lockChecked(ctx, tx, id, check)
		if err != nil {
			return err
		}
		if m, err = tx.insertMessage(ctx, &c, m); err != nil {
			return err
		}
		tx.emit(conversationEvent(cv.EventMessageCreated, c, c.AssigneeID, conversationData{Conversation: c, Message: &m}))
		return nil
	})
	return m, wrap(err, "add message to request %d", id)
}

// Transfer reassigns an open request.
func (db *DB) Transfer(ctx context.Context, id int64, check cv.Check, byAgent, toAgent int64, note string) (cv.Conversation, error) {
	var c cv.Conversation
	err := db.tx(ctx, func(tx *txn) error {
		var err error
		if c, err = lockChecked(ctx, tx, id, check); err != nil {
			return err
		}
		prev := c.AssigneeID
		c.Metering = cv.Metering{AssignedAt: millis(tx.now)}
		if err := tx.updateTracked(ctx, &c, `assignee_id = ?, previous_assignee_id = ?, assigned_at = ?, assigned_by_dispatcher = ?, updated_at = ?`,
			toAgent, nullID(prev), millis(tx.now), false, millis(tx.now)); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `INSERT INTO transfers (conversation_id, from_agent_id, to_agent_id, channel_id, department_id, group_id, at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, id, nullID(prev), toAgent, c.ChannelID, nullID(c.DepartmentID), nullID(c.GroupID), millis(tx.now)); err != nil {
			return err
		}
		c.AssigneeID, c.PreviousAssigneeID = toAgent, prev
		line, err := tx.eventLine(ctx, &c, byAgent, "%s transferred the request to %s", byAgent, toAgent)
		if err != nil {
			return err
		}
		evs := []cv.Event{conversationEvent(cv.EventConversationTransferred, c, prev, conversationData{Conversation: c, Message: &line})}
		if note != "" {
			n, err := tx.insertMessage(ctx, &c, cv.Message{Kind: cv.Note, AuthorID: byAgent, Body: note})
			if err != nil {
				return err
			}
			// The note is for the receiver: the former assignee no longer sees the request.
			evs = append(evs, conversationEvent(cv.EventMessageCreated, c, c.AssigneeID, conversationData{Conversation: c, Message: &n}))
		}
		tx.emit(evs...)
		return nil
	})
	return c, wrap(err, "transfer request %d", id)
}

// Finish closes a request, or moves it to the classic interface.
func (db *DB) Finish(ctx context.Context, id int64, check cv.Check, byAgent int64, classic, merge bool) (cv.Conversation, error) {
	var c cv.Conversation
	err := db.tx(ctx, func(tx *txn) error {
		var err error
		if c, err = lockChecked(ctx, tx, id, check); err != nil {
			return err
		}
		if merge {
			if err := tx.transcript(ctx, &c); err != nil {
				return err
			}
		}
		if classic {
			return tx.toClassic(ctx, &c, byAgent)
		}
		return tx.close(ctx, &c, byAgent, 0)
	})
	return c, wrap(err, "finish request %d", id)
}

// transcript writes the chat's correspondence as one post ("merge replies
// after the chat has been completed"): client messages and replies, each
// with its time (UTC) and author; the single messages stay.
func (tx *txn) transcript(ctx context.Context, c *cv.Conversation) error {
	rows, err := tx.query(ctx, `SELECT m.kind, m.body, m.attachments, m.created_at, COALESCE(a.name, ''), cl.name
		FROM messages m JOIN conversations x ON x.id = m.conversation_id JOIN clients cl ON cl.id = x.client_id
		LEFT JOIN agents a ON a.id = m.author_id
		WHERE m.conversation_id = ? AND m.kind IN (?, ?) ORDER BY m.id`, c.ID, cv.FromClient, cv.Reply)
	lines, err := collect(rows, err, func(row scanner) (string, error) {
		var kind, body, atts, agent, client string
		var at int64
		if err := row.Scan(&kind, &body, &atts, &at, &agent, &client); err != nil {
			return "", err
		}
		who := client
		if cv.MessageKind(kind) == cv.Reply {
			who = agent
		}
		var files []cv.Attachment
		_ = json.Unmarshal([]byte(atts), &files)
		for _, f := range files {
			body = strings.TrimSpace(body + " [" + f.Filename + "]")
		}
		return fromMillis(at).Format("2006-01-02 15:04") + " " + who + ": " + body, nil
	})
	if err != nil || len(lines) == 0 {
		return err
	}
	m, err := tx.insertMessage(ctx, c, cv.Message{Kind: cv.Transcript, Body: strings.Join(lines, "\n")})
	if err != nil {
		return err
	}
	tx.emit(conversationEvent(cv.EventMessageCreated, *c, c.AssigneeID, conversationData{Conversation: *c, Message: &m}))
	return nil
}

func (tx *txn) toClassic(ctx context.Context, c *cv.Conversation, byAgent int64) error {
	if err := tx.catchUp(ctx, c); err != nil {
		return err
	}
	c.SLA.EndChat()
	if err := tx.updateTracked(ctx, c, `mode = 'classic', updated_at = ?`, millis(tx.now)); err != nil {
		return err
	}
	prevMode := c.Mode
	c.Mode = cv.Classic
	line, err := tx.eventLine(ctx, c, byAgent, "%s ended the chat and kept the request open", byAgent)
	if err != nil {
		return err
	}
	ev := conversationEvent(cv.EventConversationUpdated, *c, c.AssigneeID, conversationData{Conversation: *c, Message: &line})
	ev.Queued = prevMode == cv.Live && c.AssigneeID == 0
	tx.emit(ev)
	return nil
}

// close closes the request with statusID, or the default closed status.
func (tx *txn) close(ctx context.Context, c *cv.Conversation, byAgent, statusID int64) error {
	now := millis(tx.now)
	if statusID == 0 {
		if err := tx.queryRow(ctx, `SELECT id FROM statuses WHERE class = 'closed' AND is_default = ?`, true).Scan(&statusID); err != nil {
			return fmt.Errorf("default closed status: %w", err)
		}
	}
	if err := tx.catchUp(ctx, c); err != nil {
		return err
	}
	p, err := tx.plan(ctx, c)
	if err != nil {
		return err
	}
	resolution := c.SLA.Close(p, millis(c.CreatedAt), now)
	if err := tx.updateTracked(ctx, c, `closed_at = ?, status_id = ?, updated_at = ?, resolution_business_ms = ?`, now, statusID, now, resolution); err != nil {
		return err
	}
	wasQueued := c.Mode == cv.Live && c.AssigneeID == 0
	closed := tx.now
	c.ClosedAt, c.StatusID = &closed, statusID
	line, err := tx.eventLine(ctx, c, byAgent, "%s closed the request", byAgent)
	if err != nil {
		return err
	}
	ev := conversationEvent(cv.EventConversationClosed, *c, c.AssigneeID, conversationData{Conversation: *c, Message: &line})
	ev.Queued = wasQueued
	tx.emit(ev)
	return nil
}

// SetStatus changes an open request's status; a status of the closed class closes it.
func (db *DB) SetStatus(ctx context.Context, id int64, check cv.Check, byAgent, statusID int64) (cv.Conversation, error) {
	var c cv.Conversation
	err := db.tx(ctx, func(tx *txn) error {
		var err error
		if c, err = lockChecked(ctx, tx, id, check); err != nil {
			return err
		}
		var name string
		var class cv.StatusClass
		err = tx.queryRow(ctx, `SELECT name, class FROM statuses WHERE id = ?`, statusID).Scan(&name, &class)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.Invalid("status_id", "no such status")
		}
		if err != nil {
			return err
		}
		if class == cv.ClassClosed {
			return tx.close(ctx, &c, byAgent, statusID)
		}
		if statusID == c.StatusID {
			return nil
		}
		// Waiting for the client freezes the clocks; any other status runs them.
		if err := tx.catchUp(ctx, &c); err != nil {
			return err
		}
		if class == cv.ClassWaiting {
			c.SLA.Pause(millis(tx.now))
		} else {
			p, err := tx.plan(ctx, &c)
			if err != nil {
				return err
			}
			c.SLA.Resume(p, millis(tx.now))
		}
		if err := tx.updateTracked(ctx, &c, `status_id = ?, updated_at = ?`, statusID, millis(tx.now)); err != nil {
			return err
		}
		c.StatusID = statusID
		line, err := tx.eventLine(ctx, &c, byAgent, "%s set the status to "+strings.ReplaceAll(name, "%", "%%"), byAgent)
		if err != nil {
			return err
		}
		tx.emit(conversationEvent(cv.EventConversationStatus, c, c.AssigneeID, conversationData{Conversation: c, Message: &line}))
		return nil
	})
	return c, wrap(err, "set status of request %d", id)
}

// MarkRead clears the unread counter.
func (db *DB) MarkRead(ctx context.Context, id, agentID int64) error {
	err := db.tx(ctx, func(tx *txn) error {
		c, err := loadConversation(ctx, tx.run, id, true)
		if err != nil {
			return err
		}
		if c.Unread == 0 {
			return nil
		}
		if _, err := tx.exec(ctx, `UPDATE conversations SET unread = 0 WHERE id = ?`, id); err != nil {
			return err
		}
		c.Unread = 0
		tx.emit(conversationEvent(cv.EventConversationRead, c, c.AssigneeID, conversationData{Conversation: c}))
		return nil
	})
	return wrap(err, "mark request %d read", id)
}

const messageColumns = `id, conversation_id, kind, author_id, body, attachments, delivery, delivery_error, created_at, edited_at`

func scanMessage(row scanner) (cv.Message, error) {
	var m cv.Message
	var author, edited nullInt
	var atts string
	var created int64
	err := row.Scan(&m.ID, &m.ConversationID, &m.Kind, &author, &m.Body, &atts, &m.Delivery, &m.DeliveryError, &created, &edited)
	m.AuthorID, m.CreatedAt = author.id(), fromMillis(created)
	if edited.valid {
		t := fromMillis(edited.id())
		m.EditedAt = &t
	}
	if err == nil {
		err = json.Unmarshal([]byte(atts), &m.Attachments)
	}
	return m, err
}

// Messages returns up to limit messages before the message id before (0 for
// the newest), oldest first.
func (db *DB) Messages(ctx context.Context, id, before int64, limit int) ([]cv.Message, error) {
	q := `SELECT ` + messageColumns + ` FROM messages WHERE conversation_id = ?`
	args := []any{id}
	if before > 0 {
		q += ` AND id < ?`
		args = append(args, before)
	}
	rows, err := db.reader().query(ctx, q+` ORDER BY id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("store: messages of %d: %w", id, err)
	}
	defer rows.Close()
	out := []cv.Message{}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("store: messages of %d: %w", id, err)
		}
		out = append(out, m)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, wrap(rows.Err(), "messages of %d", id)
}

// Message returns one message.
func (db *DB) Message(ctx context.Context, id int64) (cv.Message, error) {
	m, err := scanMessage(db.reader().queryRow(ctx, `SELECT `+messageColumns+` FROM messages WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return m, errs.NotFound("message")
	}
	return m, wrap(err, "message %d", id)
}

// List returns one page of a request list, keyset-paginated in the order of
// the list's index.
func (db *DB) List(ctx context.Context, q cv.ListQuery) ([]cv.Conversation, error) {
	var where []string
	var args []any
	order := `c.last_message_at DESC, c.id DESC`
	keyset := `(c.last_message_at, c.id) < (?, ?)`
	switch q.View {
	case cv.ViewUnassigned:
		where = append(where, `c.closed_at IS NULL`, `c.mode = 'live'`, `c.assignee_id IS NULL`)
		order, keyset = `c.created_at, c.id`, `(c.created_at, c.id) > (?, ?)`
	case cv.ViewChats:
		where = append(where, `c.closed_at IS NULL`, `c.mode = 'live'`)
	case cv.ViewClassic:
		where = append(where, `c.mode = 'classic'`)
	}
	if !q.Viewer.All {
		cond, a := visibleTo(q.Viewer, q.View)
		where, args = append(where, cond), append(args, a...)
	}
	if q.Kind != "" {
		where, args = append(where, `c.channel_kind = ?`), append(args, q.Kind)
	}
	if q.StatusID != 0 {
		where, args = append(where, `c.status_id = ?`), append(args, q.StatusID)
	}
	if len(q.Kinds) > 0 {
		where = append(where, `c.channel_kind IN (?`+strings.Repeat(`, ?`, len(q.Kinds)-1)+`)`)
		for _, k := range q.Kinds {
			args = append(args, k)
		}
	}
	if len(q.Statuses) > 0 {
		where = append(where, `c.status_id IN (?`+strings.Repeat(`, ?`, len(q.Statuses)-1)+`)`)
		for _, st := range q.Statuses {
			args = append(args, st)
		}
	}
	if !q.After.IsZero() {
		where, args = append(where, keyset), append(args, millis(q.After.At), q.After.ID)
	}
	query := `SELECT ` + conversationColumns + conversationFrom + `WHERE ` + strings.Join(where, ` AND `) + ` ORDER BY ` + order + ` LIMIT ?`
	return db.conversations(ctx, query, append(args, q.Limit)...)
}

// visibleTo is the SQL of conversation.Viewer.SeesConversation for one list.
func visibleTo(v cv.Viewer, view cv.View) (string, []any) {
	mine := `c.assignee_id = ?`
	if !v.Queue || view == cv.ViewClassic {
		return mine, []any{v.AgentID}
	}
	queue := `(c.assignee_id IS NULL AND c.closed_at IS NULL AND (c.group_id IS NULL`
	args := []any{v.AgentID}
	if len(v.Groups) > 0 {
		queue += ` OR c.group_id IN (?` + strings.Repeat(`, ?`, len(v.Groups)-1) + `)`
		for _, g := range v.Groups {
			args = append(args, g)
		}
	}
	if view == cv.ViewUnassigned {
		return queue + `))`, args[1:]
	}
	return `(` + mine + ` OR ` + queue + `)))`, args
}

func (db *DB) conversations(ctx context.Context, query string, args ...any) ([]cv.Conversation, error) {
	rows, err := db.reader().query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list requests: %w", err)
	}
	defer rows.Close()
	out := []cv.Conversation{}
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list requests: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list requests: %w", err)
	}
	bound := make([]*cv.Conversation, len(out))
	for i := range out {
		bound[i] = &out[i]
	}
	return out, db.reader().bindSLA(ctx, bound...)
}

// ClientRequests lists every request of a client, newest first.
func (db *DB) ClientRequests(ctx context.Context, clientID int64) ([]cv.Conversation, error) {
	return db.conversations(ctx, `SELECT `+conversationColumns+conversationFrom+`WHERE c.client_id = ? ORDER BY c.created_at DESC, c.id DESC LIMIT 200`, clientID)
}

// AgentWorks reports whether an agent is active and may work requests: an
// administrator, or a member of a group with the omnichannel right.
func (db *DB) AgentWorks(ctx context.Context, id int64) (bool, error) {
	var n int
	err := db.reader().queryRow(ctx, `SELECT COUNT(*) FROM agents a WHERE a.id = ? AND a.active = ? AND (a.is_admin = ? OR EXISTS (
		SELECT 1 FROM group_members m JOIN agent_groups g ON g.id = m.group_id
		WHERE m.agent_id = a.id AND (' ' || g.rights || ' ') LIKE '% omnichannel %'))`, id, true, true).Scan(&n)
	return n > 0, wrap(err, "agent %d", id)
}

// WorksForClient reports whether the agent is the assignee of an open request
// of the client.
func (db *DB) WorksForClient(ctx context.Context, agentID, clientID int64) (bool, error) {
	var n int
	err := db.reader().queryRow(ctx, `SELECT COUNT(*) FROM conversations WHERE client_id = ? AND assignee_id = ? AND closed_at IS NULL`, clientID, agentID).Scan(&n)
	return n > 0, wrap(err, "requests of client %d", clientID)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
