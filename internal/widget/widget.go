// Package widget is the website chat: visitors and their bearer tokens, the
// scripts that route a page's chats, the verified identity of data-user-hash,
// and the visitor's side of a request (history, sending, the request form).
// Messages go through the one ingest path of package conversation.
package widget

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
)

// Visitor is someone on a site where the widget runs.
type Visitor struct {
	ID             int64     `json:"id"`
	ChannelID      int64     `json:"channel_id"`
	Name           string    `json:"name"`
	Email          string    `json:"email"`
	Verified       bool      `json:"verified"`
	IP             string    `json:"ip"`
	Country        string    `json:"country"`
	PageURL        string    `json:"page_url"`
	PageTitle      string    `json:"page_title"`
	Referrer       string    `json:"referrer"`
	PagesViewed    int       `json:"pages_viewed"`
	VisitStartedAt time.Time `json:"visit_started_at"`
	LastSeenAt     time.Time `json:"last_seen_at"`
	// ConversationID is the visitor's open request, when they are chatting
	// (filled in by the visitors list).
	ConversationID int64 `json:"conversation_id,omitempty"`
}

// ExternalID is the visitor's identity id on the widget channel kind.
func (v Visitor) ExternalID() string { return externalID(v.ID) }

// Visit is what the widget reports of the page the visitor is on.
type Visit struct {
	PageURL   string
	PageTitle string
	Referrer  string
	IP        string
	Country   string
}

// Match says how a script compares its pattern with the page URL.
type Match string

// The match kinds of a script.
const (
	Exact    Match = "exact"
	Contains Match = "contains"
)

// Script routes the chats of matching pages.
type Script struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	Match        Match  `json:"match"`
	Pattern      string `json:"pattern"`
	DepartmentID int64  `json:"department_id,omitempty"`
	GroupID      int64  `json:"group_id,omitempty"`
	RequestForm  bool   `json:"request_form"`
	Active       bool   `json:"active"`
	Position     int    `json:"position"`
}

// Matches reports whether the script applies to a page URL.
func (s Script) Matches(pageURL string) bool {
	if !s.Active || s.Pattern == "" {
		return false
	}
	if s.Match == Exact {
		return strings.TrimSuffix(pageURL, "/") == strings.TrimSuffix(s.Pattern, "/")
	}
	return strings.Contains(strings.ToLower(pageURL), strings.ToLower(s.Pattern))
}

// Route is where a page's chats go.
type Route struct {
	DepartmentID int64
	GroupID      int64
	RequestForm  bool
}

// RouteFor returns the route of the first active script matching the page, or
// the channel's own department and group.
func RouteFor(scripts []Script, ch cv.Channel, pageURL string) Route {
	for _, s := range scripts {
		if s.Matches(pageURL) {
			return Route{DepartmentID: s.DepartmentID, GroupID: s.GroupID, RequestForm: s.RequestForm}
		}
	}
	return Route{DepartmentID: ch.DepartmentID, GroupID: ch.GroupID}
}

// IdentityHash is the data-user-hash of an email: lowercase hex HMAC-SHA256
// of the trimmed, lowercased email keyed with the channel's identity secret.
func IdentityHash(secret, email string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strings.ToLower(strings.TrimSpace(email))))
	return hex.EncodeToString(mac.Sum(nil))
}

// VerifyIdentity reports whether hash proves the email.
func VerifyIdentity(secret, email, hash string) bool {
	if secret == "" || email == "" || hash == "" {
		return false
	}
	return hmac.Equal([]byte(IdentityHash(secret, email)), []byte(strings.ToLower(strings.TrimSpace(hash))))
}

// Card is who the visitor sees answering: an agent, or the department.
type Card struct {
	Name      string `json:"name"`
	AvatarURL string `json:"avatar_url"`
}

// File is an attachment as the visitor downloads it.
type File struct {
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	URL         string `json:"url"`
}

// Who wrote a message, as the visitor sees it.
const (
	FromVisitor = "visitor"
	FromAgent   = "agent"
)

// Message is a message as the visitor sees it; internal notes and the
// workspace's event lines never reach them.
type Message struct {
	ID             int64     `json:"id"`
	ConversationID int64     `json:"conversation_id"`
	From           string    `json:"from"`
	Body           string    `json:"body"`
	Attachments    []File    `json:"attachments"`
	Author         *Card     `json:"author"`
	CreatedAt      time.Time `json:"created_at"`
}

// ForVisitor reports whether a message kind reaches the visitor.
func ForVisitor(k cv.MessageKind) bool { return k == cv.FromClient || k == cv.Reply }
