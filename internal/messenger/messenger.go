// Package messenger is the framework every messaging platform plugs into
// (Telegram, WhatsApp, and the others after them): one package per platform
// implements Platform, and the registry built in package app maps a channel
// kind to it. Webhooks, the durable outbox and the channel settings call
// platforms only through this interface.
package messenger

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
)

// Account is a connected account as its platform needs it: public fields that
// the settings show (a bot's name, a phone number id, the webhook URL), and
// secrets (tokens, app secrets) that are stored but never shown or logged.
type Account struct {
	ChannelID int64
	Public    map[string]string
	Secrets   map[string]string
}

// Field is one thing an administrator enters to connect an account.
type Field struct {
	Name     string `json:"name"`
	Label    string `json:"label"`
	Secret   bool   `json:"secret"`
	Required bool   `json:"required"`
	Help     string `json:"help,omitempty"`
}

// Platform is one messaging platform.
type Platform interface {
	Kind() cv.ChannelKind
	// Fields lists what connecting asks for; Connect finds them in the
	// account's Public (non-secret fields) and Secrets maps.
	Fields() []Field
	// Connect checks the credentials with the platform and prepares the
	// account (registering the webhook at hookURL where the platform allows
	// it). It returns the account to store, with anything it learned (the
	// bot's name) and any secret it made (the webhook secret) added. Wrong
	// credentials are an *errs.Error naming the field.
	Connect(ctx context.Context, acc Account, hookURL string) (Account, error)
	// Handshake answers a GET on the webhook (Meta's verification request):
	// the body to answer with 200, or ok false for 403. Platforms without a
	// handshake answer ok false.
	Handshake(acc Account, query url.Values) (body string, ok bool)
	// Verify checks that a webhook POST comes from the platform, over the
	// exact bytes received. It is called before Parse; an error means 401.
	// A platform without signatures (OK) checks the secret segment of its
	// webhook URL, which arrives in the PathSecretHeader header (set only by
	// Switchboard from the URL; a client's own header of that name is dropped).
	Verify(acc Account, header http.Header, body []byte) error
	// Parse turns a verified webhook body into what happened, in order. It
	// never panics on any input.
	Parse(acc Account, body []byte) ([]Update, error)
	// Send delivers a reply to a client and returns the platform's id of
	// the sent message. Failures are *SendError (or network errors, which
	// are retried).
	Send(ctx context.Context, acc Account, to string, m Outgoing) (externalID string, err error)
	// Fetch downloads a file a client sent, only from the platform's own
	// hosts, at most MaxFile bytes.
	Fetch(ctx context.Context, acc Account, f FileRef) (File, error)
	// Profile looks a client up with the platform (name, avatar, profile
	// link) when their messages do not say who they are; platforms whose
	// updates carry the name answer an empty Profile.
	Profile(ctx context.Context, acc Account, senderID string) (Profile, error)
}

// PathSecretHeader carries the secret segment of a webhook URL
// (/hooks/{kind}/{id}/{secret}) to Verify.
const PathSecretHeader = "X-Switchboard-Path-Secret"

// Profile is what a platform tells about a client.
type Profile struct {
	Name       string
	AvatarURL  string
	ProfileURL string
}

// MaxFile is the largest file fetched from a platform.
const MaxFile = cv.MaxAttachmentBytes

// UpdateKind says what a webhook update is.
type UpdateKind string

// The kinds of updates.
const (
	// Message is a client's message: a new one, or a redelivery of it.
	Message UpdateKind = "message"
	// Edit changes the text of a client message sent before.
	Edit UpdateKind = "edit"
	// Status reports the delivery of a reply.
	Status UpdateKind = "status"
	// Ignored is acknowledged and logged at debug level (Reason says why).
	Ignored UpdateKind = "ignored"
	// Answer is what the platform expects as the webhook's response body
	// (VK's confirmation string, its "ok"); without one the answer is JSON.
	Answer UpdateKind = "answer"
)

// Update is one thing a webhook reported.
type Update struct {
	Kind    UpdateKind
	Message *Inbound // Message and Edit
	Status  *DeliveryStatus
	Reason  string // Ignored
	Answer  string // Answer
}

// Inbound is a client message as the platform sent it.
type Inbound struct {
	// ExternalID is unique per channel (Telegram: "chat:message").
	ExternalID string
	// SenderID is the client's id on the platform (the identity), and also
	// where replies go.
	SenderID   string
	SenderName string
	Phone      string
	ProfileURL string
	ChatURL    string
	Text       string
	Files      []FileRef
	SentAt     time.Time
}

// FileRef names a file to Fetch.
type FileRef struct {
	ID          string
	Filename    string
	ContentType string
	Size        int64
}

// File is a fetched file, or a reply's file to send.
type File struct {
	Filename    string
	ContentType string
	Data        []byte
	// Blob names the stored file of a reply: a platform that takes files
	// only as links publishes it through its Linker.
	Blob string
}

// The delivery states of a reply, in the order they only ever move forward
// (failed can come at any point).
const (
	Queued    = cv.DeliveryQueued
	Sent      = cv.DeliverySent
	Delivered = cv.DeliveryDelivered
	Read      = cv.DeliveryRead
	Failed    = cv.DeliveryFailed
)

// DeliveryStatus is the platform's news about a reply sent before: one
// reply by its id, or — with UpTo — every reply of the conversation up to
// the one with ExternalID, or every reply to Recipient sent at or before
// Before (a watermark, Messenger's read receipts).
type DeliveryStatus struct {
	ExternalID string
	State      string
	Error      string
	UpTo       bool
	Recipient  string
	Before     time.Time
}

// Outgoing is a reply to send.
type Outgoing struct {
	Text  string
	Files []File
	// Key is the same for every attempt to send this reply: platforms that
	// take an idempotency key (VK's random_id) make retries safe with it.
	Key string
}

// SendError is a failed send as the platform explained it.
type SendError struct {
	// Permanent errors are not retried; Reason is shown to the agent.
	Permanent bool
	// RetryAfter is the wait the platform asked for (0: the outbox's backoff).
	RetryAfter time.Duration
	// Broken says the channel's credentials no longer work.
	Broken bool
	Reason string
}

func (e *SendError) Error() string {
	if e.Permanent {
		return "permanent: " + e.Reason
	}
	return fmt.Sprintf("temporary (retry after %s): %s", e.RetryAfter, e.Reason)
}

// AsSendError returns err as a *SendError, or nil.
func AsSendError(err error) *SendError {
	var se *SendError
	if errors.As(err, &se) {
		return se
	}
	return nil
}

// Registry maps channel kinds to their platforms.
type Registry map[cv.ChannelKind]Platform

// NewRegistry registers platforms by their kind.
func NewRegistry(ps ...Platform) Registry {
	r := Registry{}
	for _, p := range ps {
		r[p.Kind()] = p
	}
	return r
}

// APIBase parses a platform's API base URL (empty: fallback) without a
// trailing slash, query, fragment or credentials. A malformed one is a
// configuration mistake: it becomes an address that fails every request
// rather than a guess.
func APIBase(baseURL, fallback string) *url.URL {
	baseURL = strings.TrimRight(strings.TrimSpace(baseURL), "/")
	if baseURL == "" {
		baseURL = fallback
	}
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return &url.URL{Scheme: "https", Host: "invalid.invalid"}
	}
	u.RawQuery, u.Fragment, u.User, u.RawPath = "", "", nil, ""
	return u
}

// APIClient is client, or one with a 60-second timeout when nil.
func APIClient(client *http.Client) *http.Client {
	if client == nil {
		return &http.Client{Timeout: 60 * time.Second}
	}
	return client
}
