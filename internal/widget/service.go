package widget

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchboard-hq/switchboard/internal/access"
	"github.com/switchboard-hq/switchboard/internal/auth"
	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/team"
)

const (
	// newVisitAfter is the silence after which a visitor's next page starts a new visit.
	newVisitAfter = 30 * time.Minute
	// heartbeatEvery is how often a visitor on the same page is written down.
	heartbeatEvery = 20 * time.Second
	// OnSiteWindow is how recently a visitor must have been seen to be on the site now.
	OnSiteWindow = 90 * time.Second
	pageSize     = 50
	urlLength    = 2000
)

// Store is the persistence of visitors and scripts.
type Store interface {
	Channel(ctx context.Context, id int64) (cv.Channel, error)
	CreateVisitor(ctx context.Context, v Visitor, tokenHash string) (Visitor, error)
	VisitorByToken(ctx context.Context, tokenHash string) (Visitor, error)
	// RecordVisit stores where the visitor is and who they say they are,
	// counting a page view or not (a heartbeat); a visit starts anew after a
	// silence of newVisitAfter.
	RecordVisit(ctx context.Context, v Visitor, pageView bool, newVisitAfter time.Duration) (Visitor, error)
	// Visitors lists the visitors seen since a time, with their open request.
	Visitors(ctx context.Context, since time.Time, limit int) ([]Visitor, error)
	// VisitorClient returns the client a visitor became by writing (0 before).
	VisitorClient(ctx context.Context, visitorID int64) (int64, error)
	// VisitorsOfClient returns the visitors who are that client.
	VisitorsOfClient(ctx context.Context, clientID int64) ([]int64, error)
	// VisitorMessages returns the client's visible messages on the channel
	// with after < id < before (0: no bound), oldest first: the newest limit
	// of them, or with after set the oldest.
	VisitorMessages(ctx context.Context, channelID, clientID, after, before int64, limit int) ([]cv.Message, error)
	OpenConversationOf(ctx context.Context, channelID int64, externalID string) (cv.Conversation, error)
	Message(ctx context.Context, id int64) (cv.Message, error)
	Conversation(ctx context.Context, id int64) (cv.Conversation, error)
	Scripts(ctx context.Context) ([]Script, error)
	CreateScript(ctx context.Context, s Script) (Script, error)
	UpdateScript(ctx context.Context, s Script) (Script, error)
	DeleteScript(ctx context.Context, id int64) error
	ReorderScripts(ctx context.Context, ids []int64) ([]Script, error)
	// WaitingQueue lists the requests waiting in the Unassigned queue, oldest first.
	WaitingQueue(ctx context.Context, limit int) ([]Waiting, error)
	// GroupOnline reports whether an active agent of the group (any agent
	// for group 0) is online.
	GroupOnline(ctx context.Context, groupID int64) (bool, error)
	Agent(ctx context.Context, id int64) (team.Agent, error)
	Department(ctx context.Context, id int64) (team.Department, error)
}

// Conversations is the ingest path and the attachments of package conversation.
type Conversations interface {
	Ingest(ctx context.Context, channelID int64, in cv.Inbound) (cv.IngestResult, error)
	ClientTyping(ctx context.Context, channelID int64, senderID string) (cv.Event, error)
	StoreAttachment(ctx context.Context, filename string, data []byte) (cv.Attachment, error)
	DropAttachments(ctx context.Context, atts []cv.Attachment)
	OpenAttachment(ctx context.Context, a cv.Attachment) (io.ReadSeekCloser, error)
}

// Countries finds the country of an IP address (a MaxMind-format database).
type Countries interface {
	Country(ip string) string
}

// Service serves visitors and the widget's settings.
type Service struct {
	store     Store
	convs     Conversations
	countries Countries
	now       func() time.Time
	cards     *cards
}

// UseTeamDepartmentAvatar makes the team-wide "Show a single department
// avatar in the widget" setting apply to every website chat (each channel
// can also ask for it on its own).
func (s *Service) UseTeamDepartmentAvatar(on func(context.Context) bool) { s.cards.teamAvatar = on }

// NewService returns the widget service; countries may be nil.
func NewService(store Store, convs Conversations, countries Countries) *Service {
	return &Service{store: store, convs: convs, countries: countries, now: time.Now, cards: newCards(store)}
}

// Session is what the widget learns when it starts on a page.
type Session struct {
	Token        string          `json:"token"`
	Visitor      Visitor         `json:"-"`
	VisitorJSON  sessionVisitor  `json:"visitor"`
	Appearance   cv.Appearance   `json:"appearance"`
	Team         Card            `json:"team"`
	Online       bool            `json:"online"`
	Form         bool            `json:"form"`
	Conversation *SessionRequest `json:"conversation"`
}

type sessionVisitor struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Email    string `json:"email"`
	Verified bool   `json:"verified"`
}

// SessionRequest is the visitor's latest request on the channel.
type SessionRequest struct {
	ID   int64 `json:"id"`
	Open bool  `json:"open"`
}

// SessionInput is what the widget sends when it starts on a page.
type SessionInput struct {
	Token     string `json:"token"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	Hash      string `json:"hash"`
	PageURL   string `json:"page_url"`
	PageTitle string `json:"page_title"`
	Referrer  string `json:"referrer"`
}

// Channel returns an active widget channel, the one thing every visitor call
// starts from.
func (s *Service) Channel(ctx context.Context, id int64) (cv.Channel, error) {
	ch, err := s.cards.channel(ctx, id)
	if err != nil {
		return ch, err
	}
	if ch.Kind != cv.Widget || ch.Widget == nil {
		return ch, errs.NotFound("channel")
	}
	if !ch.Active {
		return ch, errs.Conflict("channel_disabled", "this chat is switched off")
	}
	return ch, nil
}

// StartSession starts or resumes a visitor on a page of the channel's site.
func (s *Service) StartSession(ctx context.Context, ch cv.Channel, in SessionInput, ip string) (Session, error) {
	name := clip(strings.TrimSpace(cv.CleanText(in.Name)), 200)
	email := strings.TrimSpace(in.Email)
	if email != "" {
		if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > 254 {
			return Session{}, errs.Invalid("email", "is not an email address")
		}
	}
	verified := VerifyIdentity(ch.Widget.IdentitySecret, email, in.Hash)
	if email != "" && !verified && ch.Widget.StrictIdentity {
		return Session{}, &errs.Error{Kind: errs.ErrForbidden, Code: "identity_unverified", Message: "this site requires a verified identity to chat; please sign in again"}
	}
	visit := s.visit(in.PageURL, in.PageTitle, in.Referrer, ip)
	var v Visitor
	var token string
	if in.Token != "" {
		found, err := s.store.VisitorByToken(ctx, auth.HashToken(in.Token))
		if err == nil && found.ChannelID == ch.ID {
			v, token = found, in.Token
		} else if err != nil && !errs.IsNotFound(err) {
			return Session{}, err
		}
	}
	if token != "" && v.Email != "" && email != "" && !strings.EqualFold(v.Email, email) {
		// Someone else signed in on this browser: a new visitor, so that one
		// person never reads another's history.
		token = ""
	}
	now := s.now()
	if token == "" {
		token = "sbv_" + strings.ToLower(rand.Text()+rand.Text())
		created, err := s.store.CreateVisitor(ctx, Visitor{ChannelID: ch.ID, VisitStartedAt: now, LastSeenAt: now}, auth.HashToken(token))
		if err != nil {
			return Session{}, err
		}
		v = created
	}
	if name != "" {
		v.Name = name
	}
	if email != "" {
		v.Email, v.Verified = email, verified
	}
	v = applyVisit(v, visit)
	v, err := s.store.RecordVisit(ctx, v, true, newVisitAfter) // a reload is a page view too
	if err != nil {
		return Session{}, err
	}
	out := Session{Token: token, Visitor: v, Appearance: ch.Widget.Appearance,
		VisitorJSON: sessionVisitor{ID: v.ID, Name: v.Name, Email: v.Email, Verified: v.Verified}}
	if out.Appearance == (cv.Appearance{}) {
		out.Appearance = cv.DefaultAppearance
	}
	scripts, err := s.store.Scripts(ctx)
	if err != nil {
		return Session{}, err
	}
	route := RouteFor(scripts, ch, v.PageURL)
	if route.DepartmentID != 0 {
		out.Team, _ = s.cards.department(ctx, route.DepartmentID)
	}
	if out.Online, err = s.store.GroupOnline(ctx, route.GroupID); err != nil {
		return Session{}, err
	}
	if c, err := s.store.OpenConversationOf(ctx, ch.ID, v.ExternalID()); err == nil {
		out.Conversation = &SessionRequest{ID: c.ID, Open: true}
	} else if !errs.IsNotFound(err) {
		return Session{}, err
	}
	out.Form = route.RequestForm && !out.Online && out.Conversation == nil
	return out, nil
}

// Authenticate returns the visitor a bearer token belongs to on an active
// widget channel. Another channel's token is as good as none.
func (s *Service) Authenticate(ctx context.Context, ch cv.Channel, token string) (Visitor, error) {
	denied := errs.Unauthenticated("invalid_token", "start a chat session first")
	if token == "" {
		return Visitor{}, denied
	}
	v, err := s.store.VisitorByToken(ctx, auth.HashToken(token))
	if errs.IsNotFound(err) || (err == nil && v.ChannelID != ch.ID) {
		return Visitor{}, denied
	}
	return v, err
}

// RecordPage notes the page the visitor is on: a page view when the URL
// changed, a heartbeat otherwise.
func (s *Service) RecordPage(ctx context.Context, v Visitor, pageURL, pageTitle, ip string) error {
	visit := s.visit(pageURL, pageTitle, "", ip)
	if visit.PageURL == v.PageURL && s.now().Sub(v.LastSeenAt) < heartbeatEvery {
		return nil // seen a moment ago: nothing worth a write
	}
	visit.Referrer = v.Referrer
	_, err := s.store.RecordVisit(ctx, applyVisit(v, visit), visit.PageURL != v.PageURL, newVisitAfter)
	return err
}

func applyVisit(v Visitor, visit Visit) Visitor {
	v.PageURL, v.PageTitle, v.IP, v.Country = visit.PageURL, visit.PageTitle, visit.IP, visit.Country
	if visit.Referrer != "" {
		v.Referrer = visit.Referrer
	}
	return v
}

func (s *Service) visit(pageURL, title, referrer, ip string) Visit {
	v := Visit{PageURL: clip(strings.TrimSpace(pageURL), urlLength), PageTitle: clip(strings.TrimSpace(cv.CleanText(title)), 300),
		Referrer: clip(strings.TrimSpace(referrer), urlLength), IP: ip}
	if s.countries != nil {
		v.Country = s.countries.Country(ip)
	}
	return v
}

// History returns a page of the visitor's messages on the channel: the
// latest, those before a message id, or those after one (catching up).
func (s *Service) History(ctx context.Context, ch cv.Channel, v Visitor, after, before int64) ([]Message, error) {
	client, err := s.store.VisitorClient(ctx, v.ID)
	if err != nil || client == 0 {
		return []Message{}, err
	}
	ms, err := s.store.VisitorMessages(ctx, ch.ID, client, after, before, pageSize)
	if err != nil {
		return nil, err
	}
	return s.present(ctx, ch, nil, ms), nil
}

// present turns stored messages into what the visitor sees.
// departments gives the department of the requests already known (the
// pusher has them at hand); the others are read when the channel shows a
// department avatar.
func (s *Service) present(ctx context.Context, ch cv.Channel, departments map[int64]int64, ms []cv.Message) []Message {
	if departments == nil {
		departments = map[int64]int64{}
	}
	out := make([]Message, 0, len(ms))
	for _, m := range ms {
		if !ForVisitor(m.Kind) {
			continue
		}
		vm := Message{ID: m.ID, ConversationID: m.ConversationID, From: FromVisitor, Body: m.Body, CreatedAt: m.CreatedAt, Attachments: make([]File, 0, len(m.Attachments))}
		for i, a := range m.Attachments {
			vm.Attachments = append(vm.Attachments, File{Filename: a.Filename, ContentType: a.ContentType, Size: a.Size,
				URL: fmt.Sprintf("/widget/%d/files/%d/%d", ch.ID, m.ID, i)})
		}
		if m.Kind == cv.Reply {
			vm.From = FromAgent
			dept, ok := departments[m.ConversationID]
			if !ok && s.cards.single(ctx, ch) {
				if c, err := s.store.Conversation(ctx, m.ConversationID); err == nil {
					dept = c.DepartmentID
				}
				departments[m.ConversationID] = dept
			}
			card := s.cards.answering(ctx, ch, dept, m.AuthorID)
			vm.Author = &card
		}
		out = append(out, vm)
	}
	return out
}

// Send writes the visitor's message into their open request, or opens one
// routed by the scripts for their page. key makes retries safe: the same key
// returns the message stored the first time.
func (s *Service) Send(ctx context.Context, ch cv.Channel, v Visitor, text, key string, files []cv.Upload) (Message, error) {
	if key == "" || len(key) > 64 {
		return Message{}, errs.Invalid("key", "a message key of 1 to 64 characters is required")
	}
	if len(files) > cv.MaxAttachments {
		return Message{}, errs.Invalid("file", fmt.Sprintf("at most %d files per message", cv.MaxAttachments))
	}
	if utf8.RuneCountInString(strings.TrimSpace(text)) > cv.MaxBodyLength {
		return Message{}, errs.Invalid("text", fmt.Sprintf("the message is longer than %d characters", cv.MaxBodyLength))
	}
	var atts []cv.Attachment
	for _, f := range files {
		data, err := io.ReadAll(io.LimitReader(f.Content, cv.MaxAttachmentBytes+1))
		if err != nil {
			s.convs.DropAttachments(ctx, atts)
			return Message{}, err
		}
		if len(data) > cv.MaxAttachmentBytes {
			s.convs.DropAttachments(ctx, atts)
			return Message{}, errs.Invalid("file", fmt.Sprintf("%s is larger than %d MiB", f.Filename, cv.MaxAttachmentBytes>>20))
		}
		a, err := s.convs.StoreAttachment(ctx, f.Filename, data)
		if err != nil {
			s.convs.DropAttachments(ctx, atts)
			return Message{}, err
		}
		atts = append(atts, a)
	}
	m, err := s.ingest(ctx, ch, v, v.Name, v.Email, text, "visitor:"+strconv.FormatInt(v.ID, 10)+":"+key, atts)
	if err != nil {
		s.convs.DropAttachments(ctx, atts)
	}
	return m, err
}

// SubmitForm turns the request form into a request: the visitor's name and
// email become the client's, the message its first line.
func (s *Service) SubmitForm(ctx context.Context, ch cv.Channel, v Visitor, name, email, message string) (Message, error) {
	name = clip(strings.TrimSpace(cv.CleanText(name)), 200)
	email = strings.TrimSpace(email)
	if name == "" {
		return Message{}, errs.Invalid("name", "please tell us your name")
	}
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || len(email) > 254 {
		return Message{}, errs.Invalid("email", "please give an email address we can answer to")
	}
	if strings.TrimSpace(message) == "" {
		return Message{}, errs.Invalid("message", "please write your question")
	}
	if v.Verified && !strings.EqualFold(email, v.Email) {
		v.Verified = false
	}
	return s.ingest(ctx, ch, v, name, email, message, "", nil)
}

func (s *Service) ingest(ctx context.Context, ch cv.Channel, v Visitor, name, email, text, externalID string, atts []cv.Attachment) (Message, error) {
	scripts, err := s.store.Scripts(ctx)
	if err != nil {
		return Message{}, err
	}
	route := RouteFor(scripts, ch, v.PageURL)
	if name == "" {
		name = fmt.Sprintf("Visitor %d", v.ID)
	}
	in := cv.Inbound{
		ExternalID: externalID, Text: text, Attachments: atts, SentAt: s.now(),
		DepartmentID: route.DepartmentID, GroupID: route.GroupID,
		Sender: cv.Sender{ExternalID: v.ExternalID(), Name: name, Email: email, Verified: v.Verified && strings.EqualFold(email, v.Email),
			Profile: cv.Profile{PageURL: v.PageURL, Referrer: v.Referrer, IP: v.IP}},
	}
	res, err := s.convs.Ingest(ctx, ch.ID, in)
	if err != nil {
		return Message{}, err
	}
	m, err := s.store.Message(ctx, res.MessageID)
	if err != nil {
		return Message{}, err
	}
	return s.present(ctx, ch, nil, []cv.Message{m})[0], nil
}

// Typing returns the ephemeral event telling the agents the visitor types.
func (s *Service) Typing(ctx context.Context, ch cv.Channel, v Visitor) (cv.Event, error) {
	return s.convs.ClientTyping(ctx, ch.ID, v.ExternalID())
}

// Attachment opens a file of the visitor's own request.
func (s *Service) Attachment(ctx context.Context, ch cv.Channel, v Visitor, messageID int64, index int) (cv.Attachment, io.ReadSeekCloser, error) {
	notFound := errs.NotFound("file")
	m, err := s.store.Message(ctx, messageID)
	if err != nil || !ForVisitor(m.Kind) || index < 0 || index >= len(m.Attachments) {
		return cv.Attachment{}, nil, notFound
	}
	c, err := s.store.Conversation(ctx, m.ConversationID)
	if err != nil {
		return cv.Attachment{}, nil, notFound
	}
	client, err := s.store.VisitorClient(ctx, v.ID)
	if err != nil || client == 0 || c.ClientID != client || c.ChannelID != ch.ID {
		return cv.Attachment{}, nil, notFound
	}
	a := m.Attachments[index]
	f, err := s.convs.OpenAttachment(ctx, a)
	return a, f, err
}

// Visitors lists who is on the sites now (Management → Visitors).
func (s *Service) Visitors(ctx context.Context, actor access.Actor) ([]Visitor, error) {
	if err := actor.Require(access.Management); err != nil {
		return nil, err
	}
	return s.store.Visitors(ctx, s.now().Add(-OnSiteWindow), 500)
}

func externalID(visitorID int64) string { return strconv.FormatInt(visitorID, 10) }

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
