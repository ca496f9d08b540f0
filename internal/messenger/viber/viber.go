// Package viber connects Switchboard to the Viber REST Bot API: one channel
// is one bot (one authentication token). See shared/channels/viber.md for the
// protocol facts this follows (https://developers.viber.com/docs/api/rest-bot-api/).
//
// Decisions worth knowing:
//   - Connect checks the token with get_account_info and registers the
//     webhook with set_webhook; Viber calls the webhook at once (event
//     "webhook", signed with the token) and refuses the registration unless
//     it answers 200. The channel's credentials are stored before Connect
//     runs, so that call verifies and is Ignored.
//   - Callbacks are authenticated by X-Viber-Content-Signature, the hex
//     HMAC-SHA256 of the exact body bytes keyed with the token.
//   - message_token (an int64 above 2^53) is never decoded through float64:
//     its literal digits are the external id, of client messages and replies.
//   - subscribed, unsubscribed, conversation_started and webhook events are
//     acknowledged and Ignored: they create no request. Viber has no edits,
//     no read receipts of client messages and no echoes of the bot's own
//     messages.
//   - Replies are plain text messages of at most 7000 UTF-16 code units (and
//     24 KiB of JSON text, within Viber's 30 KB request limit); longer text
//     is sent as several messages, cut at a line break or space where
//     possible. Send returns the message_token of the FIRST message sent; a
//     reply in several parts is not atomic (a failed later part makes a retry
//     resend the earlier ones).
//   - Viber has no upload API: a file goes as a public HTTPS link that Viber
//     downloads. Send uses the Linker given with WithFileLinks to publish a
//     file; without one a reply with files fails permanently, before
//     anything is sent, saying so.
//   - Every call sends the token in the X-Viber-Auth-Token header only (never
//     in a URL); texts Viber answers are cleaned of it before they reach an
//     error.
package viber

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/messenger"
)

// DefaultBaseURL is the Viber REST Bot API ("POST {base}/{method}").
const DefaultBaseURL = "https://chatapi.viber.com/pa"

// Headers of the API and of the callbacks.
const (
	// AuthHeader carries the bot's token on every API call.
	AuthHeader = "X-Viber-Auth-Token"
	// SignatureHeader carries the callback body's HMAC.
	SignatureHeader = "X-Viber-Content-Signature"
)

// The names of the account fields.
const (
	FieldToken        = "bot_token"
	FieldSenderName   = "sender_name"
	FieldSenderAvatar = "sender_avatar"
	// Learned by Connect.
	FieldAccountID = "account_id"
	FieldBotName   = "bot_name"
	FieldBotURI    = "bot_uri"
	FieldBotIcon   = "bot_icon"
	FieldWebhook   = "webhook_url"
)

// EventTypes are the callbacks set_webhook subscribes to ("message" always
// comes).
var EventTypes = []string{"delivered", "seen", "failed", "subscribed", "unsubscribed", "conversation_started"}

// Limits of the API ("Send Message").
const (
	MaxText          = 7000     // UTF-16 code units of a text message
	MaxCaption       = 768      // text of a picture message
	MaxSenderName    = 28       // runes of sender.name
	MaxPicture       = 1 << 20  // larger images go as files (iOS shows pictures up to 1 MB)
	MaxFileSend      = 50 << 20 // a file message
	MaxFileName      = 256      // runes of file_name
	maxTextJSONBytes = 24 << 10 // JSON text of one message's text, within the 30 KB request
)

const (
	maxAnswer = 1 << 20 // bytes read from a method's answer
	maxUpdate = 3 << 20 // bytes of a callback Parse accepts
	// tooManyWait is what the outbox waits after status 12: Viber allows 100
	// messages per user and hour without a reply from them.
	tooManyWait = 10 * time.Minute
)

// Linker publishes a reply's file at a public HTTPS URL that Viber can
// download (Viber takes files only as links), for long enough for Viber to
// fetch it.
type Linker func(ctx context.Context, f messenger.File) (url string, err error)

// Viber is the Viber platform.
type Viber struct {
	base   string
	host   *url.URL // scheme and host of base: Fetch may read from it
	client *http.Client
	link   Linker
}

var _ messenger.Platform = (*Viber)(nil)

// New returns the platform talking to baseURL (DefaultBaseURL when empty)
// through client (a client with a 60 s timeout when nil).
func New(baseURL string, client *http.Client) *Viber {
	u := messenger.APIBase(baseURL, DefaultBaseURL)
	return &Viber{base: u.String(), host: &url.URL{Scheme: u.Scheme, Host: u.Host}, client: messenger.APIClient(client)}
}

// WithFileLinks makes Send publish files with link (see Linker); without it
// replies with files fail. It returns v, and is meant for set-up time.
func (v *Viber) WithFileLinks(link Linker) *Viber {
	v.link = link
	return v
}

// Kind is conversation.Viber.
func (*Viber) Kind() cv.ChannelKind { return cv.Viber }

// Fields asks for the token, and optionally the name and picture replies
// are sent under.
func (*Viber) Fields() []messenger.Field {
	return []messenger.Field{
		{Name: FieldToken, Label: "Authentication token", Secret: true, Required: true,
			Help: "the bot's token, shown in the Viber Admin Panel (or when the bot was created)"},
		{Name: FieldSenderName, Label: "Sender name",
			Help: "the name replies are shown under, at most 28 characters; empty: the bot's name"},
		{Name: FieldSenderAvatar, Label: "Sender picture URL",
			Help: "an HTTPS link to the picture shown with replies; empty: the bot's icon"},
	}
}

// Connect checks the token with get_account_info and registers hookURL with
// set_webhook (Viber calls it before answering).
func (v *Viber) Connect(ctx context.Context, acc messenger.Account, hookURL string) (messenger.Account, error) {
	out := messenger.Account{ChannelID: acc.ChannelID, Public: map[string]string{}, Secrets: map[string]string{}}
	for k, val := range acc.Public {
		out.Public[k] = val
	}
	for k, val := range acc.Secrets {
		out.Secrets[k] = val
	}
	token := strings.TrimSpace(out.Secrets[FieldToken])
	if token == "" {
		return acc, errs.Invalid(FieldToken, "the authentication token is required")
	}
	if !validToken(token) {
		return acc, errs.Invalid(FieldToken, "this does not look like a Viber authentication token")
	}
	out.Secrets[FieldToken] = token
	name := strings.TrimSpace(out.Public[FieldSenderName])
	if utf8.RuneCountInString(name) > MaxSenderName || strings.ContainsFunc(name, unicode.IsControl) {
		return acc, errs.Invalid(FieldSenderName, fmt.Sprintf("the sender name has at most %d characters", MaxSenderName))
	}
	out.Public[FieldSenderName] = name
	avatar := strings.TrimSpace(out.Public[FieldSenderAvatar])
	if avatar != "" && !httpsURL(avatar) {
		return acc, errs.Invalid(FieldSenderAvatar, "the sender picture must be an https:// link")
	}
	out.Public[FieldSenderAvatar] = avatar

	info, err := v.call(ctx, token, "get_account_info", struct{}{})
	if err != nil {
		return acc, connectError(ctx, err, token, FieldToken)
	}
	set := map[string]any{"url": hookURL, "event_types": EventTypes, "send_name": true, "send_photo": true}
	if _, err := v.call(ctx, token, "set_webhook", set); err != nil {
		return acc, connectError(ctx, err, token, FieldWebhook)
	}

	out.Public[FieldAccountID] = clip(info.str("id"), 100)
	out.Public[FieldBotName] = clip(strings.TrimSpace(info.str("name")), 200)
	out.Public[FieldBotURI] = clip(info.str("uri"), 200)
	if icon := info.str("icon"); httpsURL(icon) {
		out.Public[FieldBotIcon] = icon
	} else {
		delete(out.Public, FieldBotIcon)
	}
	out.Public[FieldWebhook] = hookURL
	return out, nil
}

// connectError explains a failed get_account_info or set_webhook; field is
// the one a refusal other than of the token is about.
func connectError(ctx context.Context, err error, token, field string) error {
	var ae *apiError
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case !errors.As(err, &ae), ae.code < 0:
		return errs.Unavailable("cannot reach Viber: " + redact(err.Error(), token))
	case ae.code == 2:
		return errs.Invalid(FieldToken, "Viber does not accept this token")
	case ae.code == 7 || ae.code == 8 || ae.code == 9 || ae.code == 15:
		return errs.Invalid(FieldToken, "Viber refuses this bot: "+statusName(ae))
	case field == FieldWebhook:
		return errs.Invalid(FieldWebhook, "Viber could not register the webhook ("+statusName(ae)+
			"); Switchboard's public URL must be HTTPS with a certificate of a public CA, reachable from the internet (SWITCHBOARD_PUBLIC_URL)")
	default:
		return errs.Invalid(field, "Viber refused the token: "+statusName(ae))
	}
}

// Handshake: Viber has none.
func (*Viber) Handshake(messenger.Account, url.Values) (string, bool) { return "", false }

// Errors of Verify.
var (
	ErrNoSignature  = errors.New("viber: missing " + SignatureHeader + " header")
	ErrBadSignature = errors.New("viber: callback signature does not match")
)

// Verify checks X-Viber-Content-Signature over the exact body bytes, keyed
// with the channel's token.
func (*Viber) Verify(acc messenger.Account, header http.Header, body []byte) error {
	token := acc.Secrets[FieldToken]
	if token == "" {
		return errors.New("viber: the channel has no token; connect it again")
	}
	sig := strings.TrimSpace(header.Get(SignatureHeader))
	if sig == "" {
		return ErrNoSignature
	}
	got, err := hex.DecodeString(sig)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%w: not a hex SHA-256", ErrBadSignature)
	}
	mac := hmac.New(sha256.New, []byte(token))
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return ErrBadSignature
	}
	return nil
}

// Profile asks get_user_details for the client's name and picture (Viber
// allows two calls per user in 12 hours; callbacks normally carry the name).
// Viber users have no profile page.
func (v *Viber) Profile(ctx context.Context, acc messenger.Account, senderID string) (messenger.Profile, error) {
	token := acc.Secrets[FieldToken]
	if !validToken(token) {
		return messenger.Profile{}, errors.New("viber: the channel has no valid token")
	}
	if !validUserID(senderID) {
		return messenger.Profile{}, errors.New("viber: not a Viber user id")
	}
	res, err := v.call(ctx, token, "get_user_details", map[string]string{"id": senderID})
	if err != nil {
		return messenger.Profile{}, err
	}
	u := res.obj("user")
	p := messenger.Profile{Name: clip(strings.TrimSpace(u.str("name")), 200)}
	if a := u.str("avatar"); httpsURL(a) {
		p.AvatarURL = a
	}
	return p, nil
}

// ---------------------------------------------------------------- helpers

// validToken accepts what can go into a header: printable ASCII without
// spaces (Viber tokens are hex groups joined by "-").
func validToken(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for _, c := range []byte(s) {
		if c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// validUserID accepts a subscriber id as Viber gives them (base64-like).
func validUserID(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for _, c := range []byte(s) {
		if c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

func httpsURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil && len(s) <= 2000
}

// redact removes the token from a text that came from outside.
func redact(s, token string) string {
	if len(token) >= 4 {
		s = strings.ReplaceAll(s, token, "[redacted]")
	}
	return s
}

// clip shortens s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// ---------------------------------------------------------------- API calls

// apiError is an answer other than status 0.
type apiError struct {
	method     string
	httpStatus int
	code       int // Viber's status; -1 when the answer had none
	message    string
	retryAfter time.Duration
}

func (e *apiError) Error() string {
	if e.code < 0 {
		return fmt.Sprintf("viber %s: HTTP %d %s", e.method, e.httpStatus, e.message)
	}
	return fmt.Sprintf("viber %s: status %d %s", e.method, e.code, e.message)
}

// statusName is "status N: message".
func statusName(e *apiError) string {
	if e.message == "" {
		return fmt.Sprintf("status %d", e.code)
	}
	return fmt.Sprintf("status %d: %s", e.code, e.message)
}

// netError is a transport failure whose text was cleaned of the token.
type netError struct {
	msg string
	err error
}

func (e *netError) Error() string { return e.msg }
func (e *netError) Unwrap() error { return e.err }

// call posts params as JSON to a method and returns the answer's object.
// Transport failures come back as *netError, answers other than status 0 as
// *apiError.
func (v *Viber) call(ctx context.Context, token, method string, params any) (jobj, error) {
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(params); err != nil {
		return nil, fmt.Errorf("viber %s: %w", method, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.base+"/"+method, bytes.NewReader(bytes.TrimRight(body.Bytes(), "\n")))
	if err != nil {
		return nil, &netError{msg: "viber " + method + ": " + redact(err.Error(), token), err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set(AuthHeader, token)
	resp, err := v.client.Do(req)
	if err != nil {
		return nil, &netError{msg: "viber " + method + ": " + redact(err.Error(), token), err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, &netError{msg: "viber " + method + ": reading the answer: " + redact(err.Error(), token), err: err}
	}
	if len(raw) > maxAnswer {
		return nil, &apiError{method: method, httpStatus: resp.StatusCode, code: -1, message: "answer too long"}
	}
	if resp.StatusCode/100 != 2 {
		return nil, &apiError{method: method, httpStatus: resp.StatusCode, code: -1,
			message: http.StatusText(resp.StatusCode), retryAfter: retryAfter(resp.Header)}
	}
	a := object(raw)
	status, ok := a.integer("status")
	if a == nil || !ok {
		return nil, &apiError{method: method, httpStatus: resp.StatusCode, code: -1, message: "unreadable answer"}
	}
	if status != 0 {
		code := 999 // not a documented status
		if status > 0 && status < 1<<30 {
			code = int(status)
		}
		return nil, &apiError{method: method, httpStatus: resp.StatusCode, code: code,
			message: clip(redact(strings.TrimSpace(a.str("status_message")), token), 300)}
	}
	return a, nil
}

// retryAfter reads a Retry-After header of seconds (0: none), at most an hour.
func retryAfter(h http.Header) time.Duration {
	var n int
	if _, err := fmt.Sscanf(strings.TrimSpace(h.Get("Retry-After")), "%d", &n); err != nil || n <= 0 {
		return 0
	}
	return min(time.Duration(n)*time.Second, time.Hour)
}
