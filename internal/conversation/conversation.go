// Package conversation is the heart of Switchboard: requests (conversations),
// their messages, clients and the channels they come from, and the one write
// path every change goes through. JSON tags give the shape the API and the
// real-time events share.
package conversation

import (
	"encoding/json"
	"time"

	"github.com/switchboard-hq/switchboard/internal/sla"
)

// ChannelKind names a platform.
type ChannelKind string

// The channel kinds.
const (
	API       ChannelKind = "api"
	Widget    ChannelKind = "widget"
	Telegram  ChannelKind = "telegram"
	WhatsApp  ChannelKind = "whatsapp"
	Messenger ChannelKind = "messenger"
	Instagram ChannelKind = "instagram"
	Viber     ChannelKind = "viber"
	VK        ChannelKind = "vk"
	OK        ChannelKind = "ok"
)

// ChannelKinds lists every kind in the order of the workspace tabs.
var ChannelKinds = []ChannelKind{Widget, Messenger, VK, Viber, OK, Telegram, Instagram, WhatsApp, API}

// Valid reports whether k is a known kind.
func (k ChannelKind) Valid() bool {
	for _, c := range ChannelKinds {
		if c == k {
			return true
		}
	}
	return false
}

// Channel is one connected account.
type Channel struct {
	ID           int64       `json:"id"`
	Kind         ChannelKind `json:"kind"`
	Name         string      `json:"name"`
	DepartmentID int64       `json:"department_id,omitempty"`
	GroupID      int64       `json:"group_id,omitempty"`
	Active       bool        `json:"active"`
	CreatedAt    time.Time   `json:"created_at"`
	// Widget holds a website chat channel's settings (kind widget only).
	Widget *WidgetSettings `json:"widget,omitempty"`
	// Account is what a messenger channel shows of its account (the bot's
	// name, the phone number id); Secrets are its credentials, never shown.
	Account map[string]string `json:"account,omitempty"`
	Secrets map[string]string `json:"-"`
	// WebhookURL is where the platform sends updates (filled in when answering).
	WebhookURL string `json:"webhook_url,omitempty"`
}

// Outbound reports whether replies on this kind of channel go out through
// the outbox to a messaging platform (the widget's are pushed to the
// visitor; the API channel's are read by the integration).
func (k ChannelKind) Outbound() bool { return k != API && k != Widget }

// WidgetSettings are a website chat channel's own settings.
type WidgetSettings struct {
	// Origins are the sites allowed to embed the widget (scheme://host[:port]).
	Origins []string `json:"origins"`
	// StrictIdentity refuses visitor emails that come without a valid hash.
	StrictIdentity bool       `json:"strict_identity"`
	Appearance     Appearance `json:"appearance"`
	// IdentitySecret keys the HMAC of data-user-hash; only settings holders see it.
	IdentitySecret string `json:"identity_secret,omitempty"`
	// EmbedCode is the script tag to paste, filled in when answering.
	EmbedCode string `json:"embed_code,omitempty"`
}

// Appearance is the look of the widget: message colours (#rrggbb) and where
// the launcher sits.
type Appearance struct {
	AgentText         string `json:"agent_text"`
	AgentBackground   string `json:"agent_background"`
	VisitorText       string `json:"visitor_text"`
	VisitorBackground string `json:"visitor_background"`
	Position          string `json:"position"`
	// DepartmentAvatar shows the department's name and avatar instead of the
	// answering agent's ("Show a single department avatar in the widget").
	DepartmentAvatar bool `json:"department_avatar"`
}

// DefaultAppearance is how a new widget looks.
var DefaultAppearance = Appearance{
	AgentText: "#1f2933", AgentBackground: "#eef1f5",
	VisitorText: "#ffffff", VisitorBackground: "#2f6fde",
	Position: "right",
}

// StatusClass is what the product logic knows of a status.
type StatusClass string

// The status classes. Closing a request sets the default status of Closed.
const (
	ClassNew     StatusClass = "new"
	ClassOpen    StatusClass = "open"
	ClassWaiting StatusClass = "waiting"
	ClassClosed  StatusClass = "closed"
)

// Valid reports whether c is a known class.
func (c StatusClass) Valid() bool {
	return c == ClassNew || c == ClassOpen || c == ClassWaiting || c == ClassClosed
}

// Status is one entry of the configurable list of request statuses.
type Status struct {
	ID       int64       `json:"id"`
	Name     string      `json:"name"`
	Class    StatusClass `json:"class"`
	Position int         `json:"position"`
	Default  bool        `json:"is_default"`
}

// Mode says where a request is worked.
type Mode string

// Live requests are in the Omnichannel lists; classic ones left live chat by
// "Close and open the request" and are worked asynchronously.
const (
	Live    Mode = "live"
	Classic Mode = "classic"
)

// Conversation is a request: one client issue on one channel. Its ID is the
// request number shown to people. Zero ids mean "none".
type Conversation struct {
	ID                 int64       `json:"id"`
	ChannelID          int64       `json:"channel_id"`
	ChannelKind        ChannelKind `json:"channel_kind"`
	ClientID           int64       `json:"client_id"`
	ClientName         string      `json:"client_name"`
	DepartmentID       int64       `json:"department_id,omitempty"`
	GroupID            int64       `json:"group_id,omitempty"`
	AssigneeID         int64       `json:"assignee_id,omitempty"`
	PreviousAssigneeID int64       `json:"previous_assignee_id,omitempty"`
	StatusID           int64       `json:"status_id"`
	Mode               Mode        `json:"mode"`
	Subject            string      `json:"subject"`
	Unread             int         `json:"unread"`
	LastMessageAt      time.Time   `json:"last_message_at"`
	LastMessageKind    MessageKind `json:"last_message_kind"`
	LastMessagePreview string      `json:"last_message_preview"`
	CreatedAt          time.Time   `json:"created_at"`
	ClosedAt           *time.Time  `json:"closed_at"`
	// SLA is the request's clocks; its JSON is their view at the time of writing.
	SLA *sla.State `json:"sla,omitempty"`
	// Metering is what the reply metrics follow.
	Metering Metering `json:"-"`
}

// Metering is what the reply metrics (docs/supervision.md) need of a
// request, in unix ms: when its assignee got it, whether they replied
// since, and when the client's current run of unanswered messages since
// then began (0 = none).
type Metering struct {
	AssignedAt      int64
	AssigneeReplied bool
	RunSince        int64
}

// Open reports whether the request is not closed.
func (c Conversation) Open() bool { return c.ClosedAt == nil }

// MessageKind says who wrote a message and who sees it.
type MessageKind string

// The message kinds. Notes never reach the client. (DESIGN.md adds
// "transcript", written at close when merging replies is on.)
const (
	FromClient MessageKind = "client"
	Reply      MessageKind = "reply"
	Note       MessageKind = "note"
	EventLine  MessageKind = "event"
	// Transcript is the whole correspondence in one post, written at close
	// when "merge replies" is on.
	Transcript MessageKind = "transcript"
)

// Attachment is a file stored in the blob store.
type Attachment struct {
	Blob        string `json:"blob"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
}

// The delivery states of a reply to a messenger: queued in the outbox, then
// sent, delivered and read as the platform reports (never moving back), or
// failed with the platform's reason.
const (
	DeliveryQueued    = "queued"
	DeliverySent      = "sent"
	DeliveryDelivered = "delivered"
	DeliveryRead      = "read"
	DeliveryFailed    = "failed"
)

// Message is one line of the correspondence.
type Message struct {
	ID             int64        `json:"id"`
	ConversationID int64        `json:"conversation_id"`
	Kind           MessageKind  `json:"kind"`
	AuthorID       int64        `json:"author_id,omitempty"`
	Body           string       `json:"body"`
	Attachments    []Attachment `json:"attachments"`
	Delivery       string       `json:"delivery,omitempty"`
	DeliveryError  string       `json:"delivery_error,omitempty"`
	CreatedAt      time.Time    `json:"created_at"`
	// EditedAt is set when the client edited the message on their platform.
	EditedAt *time.Time `json:"edited_at,omitempty"`
}

// Profile is what a channel tells about a client's identity: links to the
// profile and the correspondence on the platform, and for the widget where the
// visitor came from.
type Profile struct {
	Name      string `json:"name,omitempty"`
	AvatarURL string `json:"avatar_url,omitempty"`
	URL       string `json:"url,omitempty"`
	ChatURL   string `json:"chat_url,omitempty"`
	PageURL   string `json:"page_url,omitempty"`
	Referrer  string `json:"referrer,omitempty"`
	IP        string `json:"ip,omitempty"`
}

// Identity is a client as one platform knows it.
type Identity struct {
	ID         int64       `json:"id"`
	Kind       ChannelKind `json:"kind"`
	ExternalID string      `json:"external_id"`
	Profile    Profile     `json:"profile"`
}

// Client is a customer.
type Client struct {
	ID         int64            `json:"id"`
	Name       string           `json:"name"`
	Email      string           `json:"email"`
	Phone      string           `json:"phone"`
	Identities []Identity       `json:"identities"`
	Fields     map[int64]string `json:"fields"`
	Requests   int              `json:"requests"`
	CreatedAt  time.Time        `json:"created_at"`
}

// Event is one committed change, in the global order of seq.
type Event struct {
	Seq            int64           `json:"seq"`
	Kind           string          `json:"kind"`
	ConversationID int64           `json:"conversation_id,omitempty"`
	Data           json.RawMessage `json:"data"`
	CreatedAt      time.Time       `json:"created_at"`
	// Who may see it: the assignee before and after the change, the serving
	// group, and whether the request was or is in the Unassigned queue.
	AssigneeID     int64 `json:"-"`
	PrevAssigneeID int64 `json:"-"`
	GroupID        int64 `json:"-"`
	Queued         bool  `json:"-"`
}

// Event kinds.
const (
	EventConversationCreated     = "conversation.created"
	EventConversationUpdated     = "conversation.updated"
	EventConversationAssigned    = "conversation.assigned"
	EventConversationClosed      = "conversation.closed"
	EventMessageCreated          = "message.created"
	EventMessageUpdated          = "message.updated"
	EventConversationTransferred = "conversation.transferred"
	EventConversationReturned    = "conversation.returned"
	EventConversationStatus      = "conversation.status_changed"
	EventConversationRead        = "conversation.read"
	EventAgentPresence           = "agent.presence"
	EventTyping                  = "typing"
	EventSLABreached             = "conversation.sla_breached"
)
