package conversation

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gabriel-vasile/mimetype"

	"github.com/switchboard-hq/switchboard/internal/access"
	"github.com/switchboard-hq/switchboard/internal/errs"
)

// Limits on what people write and attach.
const (
	MaxBodyLength      = 10000
	MaxAttachmentBytes = 10 << 20
	MaxAttachments     = 5
	subjectLength      = 120
	previewLength      = 140
)

// Check decides, under the request's row lock, whether a write may go on: the
// store calls it with the request as it is inside the transaction.
type Check func(Conversation) error

// Store is the persistence of requests. Every write method runs in one
// transaction that also appends the events it caused, and calls its Check on
// the locked request first.
type Store interface {
	Channel(ctx context.Context, id int64) (Channel, error)
	// Ingest stores a client message: it finds or creates the client by its
	// identity and the open request of that client on the channel, or opens a
	// new one with the default New status. A repeated external id changes nothing.
	Ingest(ctx context.Context, ch Channel, in Inbound) (IngestResult, error)
	// Take assigns an unassigned open live request; ErrAlreadyTaken otherwise.
	Take(ctx context.Context, id, agentID int64) (Conversation, error)
	// AddMessage adds a reply, note or event line to an open request.
	AddMessage(ctx context.Context, id int64, check Check, m Message) (Message, error)
	// Transfer reassigns a request to another agent with an optional note.
	Transfer(ctx context.Context, id int64, check Check, byAgent, toAgent int64, note string) (Conversation, error)
	// Finish closes a request, or moves it to the classic interface, first
	// writing its transcript when merge is set.
	Finish(ctx context.Context, id int64, check Check, byAgent int64, classic, merge bool) (Conversation, error)
	// Unassign returns a request to the queue.
	Unassign(ctx context.Context, id int64, check Check, byAgent int64) (Conversation, error)
	SetStatus(ctx context.Context, id int64, check Check, byAgent, statusID int64) (Conversation, error)
	MarkRead(ctx context.Context, id, agentID int64) error
	Conversation(ctx context.Context, id int64) (Conversation, error)
	Messages(ctx context.Context, id, beforeID int64, limit int) ([]Message, error)
	Message(ctx context.Context, id int64) (Message, error)
	List(ctx context.Context, q ListQuery) ([]Conversation, error)
	Client(ctx context.Context, id int64) (Client, error)
	UpdateClient(ctx context.Context, c Client) (Client, error)
	ClientRequests(ctx context.Context, clientID int64) ([]Conversation, error)
	// AgentWorks reports whether an agent is active and holds the omnichannel right.
	AgentWorks(ctx context.Context, id int64) (bool, error)
	// WorksForClient reports whether the agent works an open request of the client.
	WorksForClient(ctx context.Context, agentID, clientID int64) (bool, error)
	CustomFields(ctx context.Context) ([]CustomField, error)
	// RetryDelivery queues a failed reply again.
	RetryDelivery(ctx context.Context, messageID int64, check Check) (Message, error)
	// OpenConversationOf finds the open request of a channel identity.
	OpenConversationOf(ctx context.Context, channelID int64, externalID string) (Conversation, error)
}

// Blobs stores attachments.
type Blobs interface {
	Put(ctx context.Context, name string, r io.Reader) error
	Open(ctx context.Context, name string) (io.ReadSeekCloser, error)
	Delete(ctx context.Context, name string) error
}

// Service runs the live chat: ingest, take, reply, note, transfer, close.
type Service struct {
	store  Store
	blobs  Blobs
	policy func(context.Context) (Policy, error)
}

// Policy is what the team-wide settings decide for requests.
type Policy struct {
	// MergeReplies writes a transcript when a chat ends.
	MergeReplies bool
	// ViewChannels and ViewStatuses narrow the Omnichannel lists (empty: all).
	ViewChannels []ChannelKind
	ViewStatuses []int64
}

// UsePolicy makes the service follow the team's settings; the app wires it.
func (s *Service) UsePolicy(f func(context.Context) (Policy, error)) { s.policy = f }

func (s *Service) currentPolicy(ctx context.Context) (Policy, error) {
	if s.policy == nil {
		return Policy{}, nil
	}
	return s.policy(ctx)
}

// NewService returns the conversation service.
func NewService(store Store, blobs Blobs) *Service {
	return &Service{store: store, blobs: blobs}
}

// Sender is the client as a channel identifies them.
type Sender struct {
	ExternalID string
	Name       string
	Email      string
	Phone      string
	Profile    Profile
	// Verified says the email was proven by the channel (a widget visitor's
	// data-user-hash): a new identity then joins the client with that email.
	Verified bool
}

// Inbound is one client message from any channel: the one ingest path.
type Inbound struct {
	// ExternalID is the platform's message id; redelivery of the same id
	// changes nothing. Empty means the platform gives none.
	ExternalID  string
	Sender      Sender
	Text        string
	Attachments []Attachment
	SentAt      time.Time
	// DepartmentID and GroupID route a new request instead of the channel's
	// own (a widget script matched the page); zero keeps the channel's.
	DepartmentID int64
	GroupID      int64
}

// IngestResult says what an inbound message did.
type IngestResult struct {
	ConversationID int64
	MessageID      int64
	// Created is true when the message opened a new request.
	Created bool
	// Duplicate is true when the external id was already stored.
	Duplicate bool
}

// Ingest stores a client message arriving on a channel. It is the one inbound
// function: the API channel, the widget and every messenger call it.
func (s *Service) Ingest(ctx context.Context, channelID int64, in Inbound) (IngestResult, error) {
	ch, err := s.store.Channel(ctx, channelID)
	if err != nil {
		return IngestResult{}, err
	}
	if !ch.Active {
		return IngestResult{}, errs.Conflict("channel_disabled", "this channel is disabled")
	}
	in.Text = strings.TrimSpace(CleanText(in.Text))
	in.Sender.Name = CleanText(in.Sender.Name)
	if in.Text == "" && len(in.Attachments) == 0 {
		return IngestResult{}, errs.Invalid("text", "the message is empty")
	}
	if utf8.RuneCountInString(in.Text) > MaxBodyLength {
		return IngestResult{}, errs.Invalid("text", fmt.Sprintf("the message is longer than %d characters", MaxBodyLength))
	}
	if in.Sender.ExternalID == "" {
		return IngestResult{}, errs.Invalid("sender.id", "the sender needs an id")
	}
	if len(in.ExternalID) > 200 || len(in.Sender.ExternalID) > 200 {
		return IngestResult{}, errs.Invalid("id", "ids are at most 200 bytes")
	}
	in.Sender.Name = clip(strings.TrimSpace(in.Sender.Name), 200)
	return s.store.Ingest(ctx, ch, in)
}

// ClientTyping returns the ephemeral event telling the agents of the client's
// open request on the channel that the client is typing (none when there is
// no open request).
func (s *Service) ClientTyping(ctx context.Context, channelID int64, senderID string) (Event, error) {
	c, err := s.store.OpenConversationOf(ctx, channelID, senderID)
	if errs.IsNotFound(err) {
		return Event{}, nil
	}
	if err != nil {
		return Event{}, err
	}
	return Event{
		Kind: EventTyping, ConversationID: c.ID, Data: []byte(`{"who":"client","conversation_id":` + fmt.Sprint(c.ID) + `}`),
		CreatedAt: time.Now().UTC(), AssigneeID: c.AssigneeID, GroupID: c.GroupID, Queued: c.AssigneeID == 0 && c.Mode == Live,
	}, nil
}

// AgentTyping returns the ephemeral event telling the client (a widget
// visitor) and the request's other viewers that the actor is typing a reply.
func (s *Service) AgentTyping(ctx context.Context, actor access.Actor, id int64) (Event, error) {
	c, err := s.writable(ctx, actor, id, false)
	if err != nil {
		return Event{}, err
	}
	data, _ := json.Marshal(struct {
		Who            string `json:"who"`
		ConversationID int64  `json:"conversation_id"`
		AgentID        int64  `json:"agent_id"`
		ChannelID      int64  `json:"channel_id"`
		ClientID       int64  `json:"client_id"`
	}{"agent", c.ID, actor.AgentID, c.ChannelID, c.ClientID})
	return Event{Kind: EventTyping, ConversationID: c.ID, Data: data, CreatedAt: time.Now().UTC(),
		AssigneeID: c.AssigneeID, GroupID: c.GroupID, Queued: c.AssigneeID == 0 && c.Mode == Live}, nil
}

// Take assigns an unassigned request to the actor.
func (s *Service) Take(ctx context.Context, actor access.Actor, id int64) (Conversation, error) {
	if err := actor.Require(access.Unassigned); err != nil {
		return Conversation{}, err
	}
	c, err := s.store.Conversation(ctx, id)
	if err != nil {
		return Conversation{}, err
	}
	// Whoever had the request in their queue learns why they cannot take it
	// (already taken, closed), even though it has just left their view.
	if v := ViewerOf(actor); !v.All && !v.servedBy(c.GroupID) {
		return Conversation{}, errs.NotFound("request")
	}
	return s.store.Take(ctx, id, actor.AgentID)
}

// Upload is a file attached to a reply.
type Upload struct {
	Filename string
	Content  io.Reader
}

// Post adds a reply or an internal note by the actor. Only the assignee (or a
// supervisor) writes in a request.
func (s *Service) Post(ctx context.Context, actor access.Actor, id int64, kind MessageKind, body string, uploads []Upload) (Message, error) {
	if kind != Reply && kind != Note {
		return Message{}, errs.Invalid("kind", "must be reply or note")
	}
	c, err := s.writable(ctx, actor, id, kind == Note)
	if err != nil {
		return Message{}, err
	}
	body = strings.TrimSpace(CleanText(body))
	if utf8.RuneCountInString(body) > MaxBodyLength {
		return Message{}, errs.Invalid("body", fmt.Sprintf("the message is longer than %d characters", MaxBodyLength))
	}
	if body == "" && len(uploads) == 0 {
		return Message{}, errs.Invalid("body", "the message is empty")
	}
	if len(uploads) > MaxAttachments {
		return Message{}, errs.Invalid("files", fmt.Sprintf("at most %d files per message", MaxAttachments))
	}
	atts, err := s.storeUploads(ctx, uploads)
	if err != nil {
		return Message{}, err
	}
	m := Message{ConversationID: c.ID, Kind: kind, AuthorID: actor.AgentID, Body: body, Attachments: atts}
	if kind == Reply && c.ChannelKind.Outbound() {
		m.Delivery = DeliveryQueued // the store adds its delivery job
	}
	stored, err := s.store.AddMessage(ctx, id, mayWrite(actor), m)
	if err != nil {
		s.DropAttachments(ctx, atts)
	}
	return stored, err
}

// RetryDelivery sends a reply that failed again ("Retry" in the chat).
func (s *Service) RetryDelivery(ctx context.Context, actor access.Actor, messageID int64) (Message, error) {
	m, err := s.store.Message(ctx, messageID)
	if err != nil {
		return Message{}, err
	}
	if _, err := s.writable(ctx, actor, m.ConversationID, false); err != nil {
		return Message{}, err
	}
	return s.store.RetryDelivery(ctx, messageID, mayWrite(actor))
}

// Transfer hands a request to another agent, with a note for them.
func (s *Service) Transfer(ctx context.Context, actor access.Actor, id, to int64, note string) (Conversation, error) {
	c, err := s.writable(ctx, actor, id, false)
	if err != nil {
		return Conversation{}, err
	}
	if to == c.AssigneeID {
		return Conversation{}, errs.Invalid("agent_id", "the request is already theirs")
	}
	if ok, err := s.store.AgentWorks(ctx, to); err != nil {
		return Conversation{}, err
	} else if !ok {
		return Conversation{}, errs.Invalid("agent_id", "no active agent with the omnichannel right")
	}
	note = strings.TrimSpace(note)
	if utf8.RuneCountInString(note) > MaxBodyLength {
		return Conversation{}, errs.Invalid("note", "the note is too long")
	}
	return s.store.Transfer(ctx, id, mayWrite(actor), actor.AgentID, to, note)
}

// Close ends the request.
func (s *Service) Close(ctx context.Context, actor access.Actor, id int64) (Conversation, error) {
	if _, err := s.writable(ctx, actor, id, false); err != nil {
		return Conversation{}, err
	}
	p, err := s.currentPolicy(ctx)
	if err != nil {
		return Conversation{}, err
	}
	return s.store.Finish(ctx, id, mayWrite(actor), actor.AgentID, false, p.MergeReplies)
}

// Unassign returns a request to the queue (supervisors' "Back to queue").
func (s *Service) Unassign(ctx context.Context, actor access.Actor, id int64) (Conversation, error) {
	if err := actor.Require(access.Management); err != nil {
		return Conversation{}, err
	}
	if _, err := s.visible(ctx, actor, id); err != nil {
		return Conversation{}, err
	}
	return s.store.Unassign(ctx, id, mayWrite(actor), actor.AgentID)
}

// CloseToClassic ends the chat but keeps the request open in the classic
// request interface ("Close and open the request").
func (s *Service) CloseToClassic(ctx context.Context, actor access.Actor, id int64) (Conversation, error) {
	c, err := s.writable(ctx, actor, id, false)
	if err != nil {
		return Conversation{}, err
	}
	if c.Mode == Classic {
		return Conversation{}, errs.Conflict("already_classic", "the request is already in the classic interface")
	}
	p, err := s.currentPolicy(ctx)
	if err != nil {
		return Conversation{}, err
	}
	return s.store.Finish(ctx, id, mayWrite(actor), actor.AgentID, true, p.MergeReplies)
}

// SetStatus changes the request's status.
func (s *Service) SetStatus(ctx context.Context, actor access.Actor, id, statusID int64) (Conversation, error) {
	if _, err := s.writable(ctx, actor, id, false); err != nil {
		return Conversation{}, err
	}
	return s.store.SetStatus(ctx, id, mayWrite(actor), actor.AgentID, statusID)
}

// MarkRead clears the unread counter of the actor's request.
func (s *Service) MarkRead(ctx context.Context, actor access.Actor, id int64) error {
	c, err := s.visible(ctx, actor, id)
	if err != nil {
		return err
	}
	if c.AssigneeID != actor.AgentID || c.Unread == 0 {
		return nil
	}
	return s.store.MarkRead(ctx, id, actor.AgentID)
}

// Conversation returns a request the actor may see.
func (s *Service) Conversation(ctx context.Context, actor access.Actor, id int64) (Conversation, error) {
	return s.visible(ctx, actor, id)
}

// Messages returns a page of a request's messages, newest last, before the
// message id before (0 for the latest).
func (s *Service) Messages(ctx context.Context, actor access.Actor, id, before int64, limit int) ([]Message, error) {
	if _, err := s.visible(ctx, actor, id); err != nil {
		return nil, err
	}
	return s.store.Messages(ctx, id, before, clampLimit(limit))
}

// Attachment opens the index-th attachment of a message the actor may see.
func (s *Service) Attachment(ctx context.Context, actor access.Actor, messageID int64, index int) (Attachment, io.ReadSeekCloser, error) {
	m, err := s.store.Message(ctx, messageID)
	if err != nil {
		return Attachment{}, nil, err
	}
	if _, err := s.visible(ctx, actor, m.ConversationID); err != nil {
		return Attachment{}, nil, err
	}
	if index < 0 || index >= len(m.Attachments) {
		return Attachment{}, nil, errs.NotFound("attachment")
	}
	a := m.Attachments[index]
	f, err := s.OpenAttachment(ctx, a)
	return a, f, err
}

// OpenAttachment opens a stored file; the caller has checked who asks.
func (s *Service) OpenAttachment(ctx context.Context, a Attachment) (io.ReadSeekCloser, error) {
	return s.blobs.Open(ctx, a.Blob)
}

// List returns a page of one of the request lists.
func (s *Service) List(ctx context.Context, actor access.Actor, q ListQuery) ([]Conversation, error) {
	if err := actor.Require(access.Omnichannel); err != nil {
		return nil, err
	}
	switch q.View {
	case ViewUnassigned:
		if err := actor.Require(access.Unassigned); err != nil {
			return nil, err
		}
	case ViewChats, ViewClassic:
	default:
		return nil, errs.Invalid("view", "must be unassigned, chats or classic")
	}
	if q.Kind != "" && !q.Kind.Valid() {
		return nil, errs.Invalid("channel", "unknown channel kind")
	}
	q.Viewer = ViewerOf(actor)
	q.Limit = clampLimit(q.Limit)
	if q.View != ViewClassic {
		// Settings → Omnichannel decides what the Omnichannel lists show.
		p, err := s.currentPolicy(ctx)
		if err != nil {
			return nil, err
		}
		q.Kinds, q.Statuses = p.ViewChannels, p.ViewStatuses
	}
	return s.store.List(ctx, q)
}

// Client returns the client of a request the actor may see, with the count of
// their requests.
func (s *Service) Client(ctx context.Context, actor access.Actor, conversationID int64) (Client, error) {
	c, err := s.visible(ctx, actor, conversationID)
	if err != nil {
		return Client{}, err
	}
	return s.store.Client(ctx, c.ClientID)
}

// ClientPatch changes the client fields that are set.
type ClientPatch struct {
	Name   *string
	Email  *string
	Phone  *string
	Fields map[int64]string
}

// UpdateClient edits the client of a request the actor works.
func (s *Service) UpdateClient(ctx context.Context, actor access.Actor, conversationID int64, p ClientPatch) (Client, error) {
	c, err := s.writable(ctx, actor, conversationID, false)
	if err != nil {
		return Client{}, err
	}
	cl, err := s.store.Client(ctx, c.ClientID)
	if err != nil {
		return Client{}, err
	}
	if p.Name != nil {
		cl.Name = clip(strings.TrimSpace(*p.Name), 200)
	}
	if p.Email != nil {
		cl.Email = strings.TrimSpace(*p.Email)
		if cl.Email != "" && !strings.Contains(cl.Email, "@") || len(cl.Email) > 254 {
			return Client{}, errs.Invalid("email", "not a valid email address")
		}
	}
	if p.Phone != nil {
		cl.Phone = strings.TrimSpace(*p.Phone)
		if len(cl.Phone) > 40 {
			return Client{}, errs.Invalid("phone", "is too long")
		}
	}
	if p.Fields != nil {
		defs, err := s.store.CustomFields(ctx)
		if err != nil {
			return Client{}, err
		}
		if err := CheckValues(defs, p.Fields); err != nil {
			return Client{}, err
		}
		cl.Fields = p.Fields
	}
	return s.store.UpdateClient(ctx, cl)
}

// PreviousRequests lists the other requests of the client of a request.
func (s *Service) PreviousRequests(ctx context.Context, actor access.Actor, conversationID int64) ([]Conversation, error) {
	c, err := s.visible(ctx, actor, conversationID)
	if err != nil {
		return nil, err
	}
	all, err := s.store.ClientRequests(ctx, c.ClientID)
	if err != nil {
		return nil, err
	}
	v := ViewerOf(actor)
	out := all[:0]
	for _, r := range all {
		if r.ID != c.ID && (!r.Open() || v.SeesConversation(r)) {
			out = append(out, r)
		}
	}
	return out, nil
}

// visible loads a request, hiding it as not found when the actor may not see it.
func (s *Service) visible(ctx context.Context, actor access.Actor, id int64) (Conversation, error) {
	if err := actor.Require(access.Omnichannel); err != nil {
		return Conversation{}, err
	}
	c, err := s.store.Conversation(ctx, id)
	if err != nil {
		return Conversation{}, err
	}
	if !ViewerOf(actor).SeesConversation(c) && !s.readsPrevious(ctx, actor, c) {
		return Conversation{}, errs.NotFound("request")
	}
	return c, nil
}

// readsPrevious lets an agent open, read-only, the closed earlier requests of
// a client whose request they work ("Show previous requests"). Open requests
// of the client that others work stay theirs.
func (s *Service) readsPrevious(ctx context.Context, actor access.Actor, c Conversation) bool {
	if c.Open() {
		return false
	}
	ok, err := s.store.WorksForClient(ctx, actor.AgentID, c.ClientID)
	return err == nil && ok
}

// writable loads an open request the actor may write in: its assignee, or a
// supervisor. Notes may also be left by supervisors on any request.
func (s *Service) writable(ctx context.Context, actor access.Actor, id int64, note bool) (Conversation, error) {
	c, err := s.visible(ctx, actor, id)
	if err != nil {
		return Conversation{}, err
	}
	return c, mayWrite(actor)(c)
}

// mayWrite is the rule for writing in a request: it is open, and the actor is
// its assignee or a supervisor. The service checks it before a write, and the
// store again under the row lock, so a write racing a transfer or a close
// never lands in a request that is no longer the actor's.
func mayWrite(actor access.Actor) Check {
	return func(c Conversation) error {
		if !c.Open() {
			return errs.Conflict("closed", "this request is closed")
		}
		if c.AssigneeID != actor.AgentID && !actor.Can(access.Management) {
			if c.AssigneeID == 0 {
				return errs.Conflict("not_taken", "take the request first")
			}
			return errs.Forbidden("this request is assigned to another agent")
		}
		return nil
	}
}

func (s *Service) storeUploads(ctx context.Context, uploads []Upload) ([]Attachment, error) {
	atts := []Attachment{}
	for _, u := range uploads {
		data, err := io.ReadAll(io.LimitReader(u.Content, MaxAttachmentBytes+1))
		if err != nil {
			s.DropAttachments(ctx, atts)
			return nil, fmt.Errorf("conversation: read upload: %w", err)
		}
		a, err := s.StoreAttachment(ctx, u.Filename, data)
		if err != nil {
			s.DropAttachments(ctx, atts)
			return nil, err
		}
		atts = append(atts, a)
	}
	return atts, nil
}

// StoreAttachment checks and stores one file: its type is sniffed from the
// content, never taken from the sender.
func (s *Service) StoreAttachment(ctx context.Context, filename string, data []byte) (Attachment, error) {
	if len(data) == 0 {
		return Attachment{}, errs.Invalid("files", "a file is empty")
	}
	if len(data) > MaxAttachmentBytes {
		return Attachment{}, errs.Invalid("files", fmt.Sprintf("a file is larger than %d MiB", MaxAttachmentBytes>>20))
	}
	kind := mimetype.Detect(data)
	name := cleanFilename(filename, kind.Extension())
	blob := "attachments/" + time.Now().UTC().Format("2006/01") + "/" + strings.ToLower(rand.Text()) + kind.Extension()
	if err := s.blobs.Put(ctx, blob, bytes.NewReader(data)); err != nil {
		return Attachment{}, fmt.Errorf("conversation: store attachment: %w", err)
	}
	return Attachment{Blob: blob, Filename: name, ContentType: kind.String(), Size: int64(len(data))}, nil
}

// DropAttachments deletes stored files of a message that was not stored.
func (s *Service) DropAttachments(ctx context.Context, atts []Attachment) {
	for _, a := range atts {
		_ = s.blobs.Delete(ctx, a.Blob)
	}
}

// cleanFilename keeps a display name: no folders, no control characters, and
// no bidirectional overrides (which can disguise a file's real extension).
func cleanFilename(name, ext string) string {
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			return -1
		}
		return r
	}, name)
	if name == "" || name == "." || name == ".." || name == "/" {
		name = "file" + ext
	}
	return clip(name, 200)
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

func clampLimit(n int) int {
	if n <= 0 || n > 200 {
		return 50
	}
	return n
}

// CleanText makes text storable on both engines: invalid UTF-8 is replaced
// and NUL characters (which PostgreSQL text cannot hold) are dropped.
func CleanText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

// Subject is the first line of the first client message.
func Subject(text string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(text), "\n")
	return clip(strings.TrimSpace(line), subjectLength)
}

// Preview is the short text shown in lists for a message.
func Preview(m Message) string {
	text := strings.Join(strings.Fields(m.Body), " ")
	if text == "" && len(m.Attachments) > 0 {
		text = "📎 " + m.Attachments[0].Filename
	}
	return clip(text, previewLength)
}
