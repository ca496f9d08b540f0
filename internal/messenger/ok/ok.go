// Package ok connects Switchboard to OK (Odnoklassniki) group messages
// through OK's Graph API (the "Bot API"): one channel is one group, reached
// with the group's bot access token. See shared/channels/ok.md for the
// protocol facts this follows (apiok.ru graph.user.* method pages).
//
// Decisions worth knowing (OK's documentation is thin; what it does not say
// is marked UNCONFIRMED there, and handled defensively here):
//   - OK signs nothing. Connect makes a 256-bit random secret and subscribes
//     the webhook at hookURL + "/" + secret; Verify compares the secret
//     segment (messenger.PathSecretHeader) in constant time. Reconnecting
//     subscribes a new URL first, then unsubscribes the old one.
//   - A client is its group-to-user chat: SenderID is recipient.chat_id
//     ("chat:…", where replies go), the idempotency key message.mid (else
//     chat_id:seq). sender.user_id only gives the profile link.
//   - Only MESSAGE_CREATED (or an untyped body with a message) becomes a client
//     message; MESSAGE_CALLBACK, CHAT_SYSTEM and every other event is Ignored.
//     OK documents no edits and no delivery or read receipts: replies stop at
//     "sent".
//   - Attachments with a URL (IMAGE, VIDEO, AUDIO, FILE, STICKER) are files
//     fetched from OK's CDN; one without a URL shows as "[OK attachment
//     TYPE]"; SHARE adds its link to the text, LOCATION a map link, CONTACT a
//     summary; INLINE_KEYBOARD is dropped; unknown types show as
//     "[unsupported message type: TYPE]".
//   - Replies: text parts of at most MaxText runes (UNCONFIRMED limit), then
//     one message per file (uploaded through fileUploadUrl: images as IMAGE,
//     everything else as FILE). Files are uploaded before anything is sent;
//     a send that OK answers "not ready" (upload still processing) is retried
//     within Send for a few seconds. Send returns the first message's id.
//   - OK has no idempotency key for sends: a reply that OK accepted but
//     Switchboard did not record as sent (a crash or timeout in between, or a
//     later part of the reply failing) is sent again on retry.
//   - The access token travels only in the access_token query parameter;
//     errors never show it.
package ok

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/messenger"
)

// DefaultBaseURL is OK's Graph API.
const DefaultBaseURL = "https://api.ok.ru/graph"

// JSONContentType is the Content-Type every Graph API POST must carry.
const JSONContentType = "application/json;charset=utf-8"

// The names of the account fields.
const (
	// FieldAccessToken is the group's bot access token (the one field asked).
	FieldAccessToken = "access_token"
	// Learned by Connect.
	FieldGroupID   = "group_id"
	FieldGroupName = "group_name"
	FieldGroupURL  = "group_url"
	// Made by Connect: the secret segment of the webhook URL, and the whole
	// subscribed URL (secret too, since it holds the segment).
	FieldWebhookSecret = "webhook_secret"
	FieldWebhookURL    = "webhook_url"
)

// Limits.
const (
	// MaxText is the longest text sent as one message, in runes. OK does not
	// document its limit (UNCONFIRMED): this stays below the usual 4096.
	MaxText = 4000
	// MaxAttachments is how many attachments OK takes in one message.
	MaxAttachments = 5
)

const (
	maxAnswer = 1 << 20 // bytes read from an API answer
	maxUpdate = 4 << 20 // bytes of a webhook body Parse accepts
	// RateLimitWait is what the outbox waits after OK's rate limit when OK
	// names no wait (OK documents no limits).
	RateLimitWait = time.Minute
	maxRetryAfter = time.Hour
)

// OK is the OK platform.
type OK struct {
	base   *url.URL
	client *http.Client
	// readyWaits are the pauses before resending an attachment that OK has
	// not finished processing.
	readyWaits []time.Duration
}

var _ messenger.Platform = (*OK)(nil)

// New returns the platform talking to the Graph API at baseURL (empty:
// DefaultBaseURL) through client (nil: a client with a 60 s timeout).
func New(baseURL string, client *http.Client) *OK {
	u, client := messenger.APIBase(baseURL, DefaultBaseURL), messenger.APIClient(client)
	return &OK{base: u, client: client,
		readyWaits: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}}
}

// Kind is conversation.OK.
func (*OK) Kind() cv.ChannelKind { return cv.OK }

// Fields asks for the group's bot access token.
func (*OK) Fields() []messenger.Field {
	return []messenger.Field{{
		Name: FieldAccessToken, Label: "Group access token", Secret: true, Required: true,
		Help: "the group's bot API token: in the OK group, Manage → More → API access tokens (Bot API)",
	}}
}

// Connect checks the token with GET /me/info (which names the token's group)
// and subscribes the webhook at hookURL + "/" + a new random secret. An older
// subscription of this channel is removed afterwards.
func (o *OK) Connect(ctx context.Context, acc messenger.Account, hookURL string) (messenger.Account, error) {
	out := messenger.Account{ChannelID: acc.ChannelID, Public: map[string]string{}, Secrets: map[string]string{}}
	for k, v := range acc.Public {
		out.Public[k] = v
	}
	for k, v := range acc.Secrets {
		out.Secrets[k] = v
	}
	token := strings.TrimSpace(out.Secrets[FieldAccessToken])
	if token == "" {
		return acc, errs.Invalid(FieldAccessToken, "the group access token is required")
	}
	if !validToken(token) {
		return acc, errs.Invalid(FieldAccessToken, "this does not look like an OK access token")
	}
	out.Secrets[FieldAccessToken] = token
	hook, err := url.Parse(hookURL)
	if err != nil || hook.Host == "" || (hook.Scheme != "http" && hook.Scheme != "https") {
		return acc, errs.Invalid("webhook", "Switchboard's public URL is not an http(s) URL (SWITCHBOARD_PUBLIC_URL)")
	}

	res, err := o.call(ctx, token, http.MethodGet, "me/info", nil, nil)
	if err != nil {
		if ctx.Err() != nil {
			return acc, ctx.Err()
		}
		return acc, errs.Unavailable("cannot reach OK: " + err.Error())
	}
	if ae := res.apiError(); ae != nil {
		switch {
		case ae.temporary():
			return acc, errs.Unavailable("OK is not available now (" + redact(ae.text(), out) + "); try again later")
		default:
			return acc, errs.Invalid(FieldAccessToken, "OK does not accept this access token ("+redact(ae.text(), out)+")")
		}
	}
	info := object(res.body)
	if info == nil {
		return acc, errs.Unavailable("OK gave an unreadable answer; try again later")
	}
	groupID := strings.TrimSpace(info.str("group_id"))
	if groupID == "" {
		return acc, errs.Invalid(FieldAccessToken, "this is not a group's bot token: OK names no group for it (create the token in the group's settings)")
	}

	secret, err := newSecret()
	if err != nil {
		return acc, err
	}
	subscribed := strings.TrimRight(hookURL, "/") + "/" + secret
	res, err = o.call(ctx, token, http.MethodPost, "me/subscribe", nil, map[string]string{"url": subscribed})
	if err != nil {
		if ctx.Err() != nil {
			return acc, ctx.Err()
		}
		return acc, errs.Unavailable("cannot reach OK: " + redact(err.Error(), out, secret))
	}
	if ae := res.apiError(); ae != nil {
		switch {
		case ae.temporary():
			return acc, errs.Unavailable("OK is not available now (" + redact(ae.text(), out, secret) + "); try again later")
		case ae.tokenInvalid():
			return acc, errs.Invalid(FieldAccessToken, "OK does not accept this access token ("+redact(ae.text(), out, secret)+")")
		default:
			return acc, errs.Invalid("webhook", "OK refused the webhook ("+redact(ae.text(), out, secret)+
				"); Switchboard's public URL must be reachable from the internet (SWITCHBOARD_PUBLIC_URL)")
		}
	}
	if ok, present := object(res.body).boolean("success"); present && !ok {
		return acc, errs.Invalid("webhook", "OK did not subscribe the webhook; Switchboard's public URL must be reachable from the internet (SWITCHBOARD_PUBLIC_URL)")
	}

	// Rotation: the old URL stops working once the new secret is stored, so
	// it is removed from OK's list (best effort: OK drops dead URLs itself
	// after 8 hours of failures).
	if old := out.Secrets[FieldWebhookURL]; old != "" && old != subscribed {
		_, _ = o.call(ctx, token, http.MethodPost, "me/unsubscribe", nil, map[string]string{"url": old})
	}

	out.Public[FieldGroupID] = groupID
	out.Public[FieldGroupName] = strings.TrimSpace(info.str("name"))
	if n, ok := strings.CutPrefix(groupID, "group:"); ok && isDigits(n) {
		out.Public[FieldGroupURL] = "https://ok.ru/group/" + n
	}
	out.Secrets[FieldWebhookSecret] = secret
	out.Secrets[FieldWebhookURL] = subscribed
	return out, nil
}

// Handshake: OK has none.
func (*OK) Handshake(messenger.Account, url.Values) (string, bool) { return "", false }

// Verify compares the secret segment of the webhook URL, which Switchboard
// passes in messenger.PathSecretHeader, with the channel's webhook secret.
func (*OK) Verify(acc messenger.Account, header http.Header, _ []byte) error {
	want := acc.Secrets[FieldWebhookSecret]
	got := header.Get(messenger.PathSecretHeader)
	switch {
	case want == "":
		return errs.Unauthenticated("webhook_unverified", "the channel has no webhook secret; connect it again")
	case got == "":
		return errs.Unauthenticated("webhook_unverified", "the webhook URL has no secret segment")
	case subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1:
		return errs.Unauthenticated("webhook_unverified", "wrong secret segment in the webhook URL")
	}
	return nil
}

// Profile: OK documents no method that returns another user's profile, and
// the webhooks carry the sender's name (UNCONFIRMED); when one does not, the
// client is "OK user {chat}".
func (*OK) Profile(_ context.Context, _ messenger.Account, senderID string) (messenger.Profile, error) {
	id := strings.TrimPrefix(strings.TrimSpace(senderID), "chat:")
	if id == "" || !validChatID(senderID) {
		return messenger.Profile{}, nil
	}
	return messenger.Profile{Name: "OK user " + id}, nil
}

// ---------------------------------------------------------------- helpers

// validToken accepts what goes into a query parameter without surprises.
func validToken(s string) bool {
	if len(s) < 4 || len(s) > 1024 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// validChatID accepts OK's chat ids ("chat:C3ecb9d02a600"): short, and only
// characters that need no escaping in a URL path.
func validChatID(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ':' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return s != "." && s != ".."
}

func isDigits(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// newSecret is 32 random bytes in hex: 64 characters safe in a URL path.
func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("ok: webhook secret: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// redact removes the account's secrets (and extra ones) from a text that
// came from outside.
func redact(s string, acc messenger.Account, extra ...string) string {
	for _, v := range acc.Secrets {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	for _, v := range extra {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	return s
}

// ---------------------------------------------------------------- API calls

// result is a Graph API answer.
type result struct {
	status int
	header http.Header
	body   []byte
}

// netError is a transport failure whose text was cleaned of the token.
type netError struct {
	msg string
	err error
}

func (e *netError) Error() string { return e.msg }
func (e *netError) Unwrap() error { return e.err }

// cleanNetError keeps a transport error's cause without the URL (which
// holds the token) and without the token anywhere in its text.
func cleanNetError(prefix string, err error, token string) error {
	inner := err
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		inner = ue.Err
	}
	msg := inner.Error()
	if token != "" {
		msg = strings.ReplaceAll(msg, token, "[redacted]")
	}
	if token != "" && strings.Contains(inner.Error(), token) {
		inner = errors.New(msg)
	}
	return &netError{msg: prefix + msg, err: inner}
}

// endpoint is {base}/{path}?{query}&access_token={token}.
func (o *OK) endpoint(path string, query url.Values, token string) string {
	u := *o.base
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("access_token", token)
	u.Path = strings.TrimRight(u.Path, "/") + "/" + path
	u.RawQuery = q.Encode()
	return u.String()
}

// call does one Graph API request; a POST carries body as JSON. Its error is
// a transport failure, with no token in its text.
func (o *OK) call(ctx context.Context, token, method, path string, query url.Values, body any) (*result, error) {
	var rd io.Reader
	if body != nil {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(body); err != nil {
			return nil, fmt.Errorf("ok: encoding the request: %w", err)
		}
		rd = bytes.NewReader(bytes.TrimRight(buf.Bytes(), "\n"))
	}
	req, err := http.NewRequestWithContext(ctx, method, o.endpoint(path, query, token), rd)
	if err != nil {
		return nil, cleanNetError("ok: bad request: ", err, token)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", JSONContentType)
	}
	resp, err := o.client.Do(req)
	if err != nil {
		return nil, cleanNetError("ok: ", err, token)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, cleanNetError("ok: reading the answer: ", err, token)
	}
	if len(data) > maxAnswer {
		return nil, &netError{msg: "ok: the Graph API answer is too long"}
	}
	return &result{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// apiError is a failed answer: OK's {"error_code", "error_msg"} (which OK
// may send with HTTP 200), or an HTTP status other than 2xx.
type apiError struct {
	status     int
	code       int
	name       string // error_msg before " : ", e.g. PARAM_SESSION_EXPIRED
	msg        string // the whole error_msg
	retryAfter time.Duration
}

// apiError reads a failure from r, or nil for a successful answer.
func (r *result) apiError() *apiError {
	o := object(r.body)
	code := 0
	if s, ok := o.integer("error_code"); ok {
		code = int(max(min(s, 1<<30), -1<<30))
	}
	msg := strings.TrimSpace(o.str("error_msg"))
	if code == 0 && msg == "" {
		if r.status/100 == 2 {
			return nil
		}
		return &apiError{status: r.status, retryAfter: retryAfter(r.header)}
	}
	name, _, _ := strings.Cut(msg, ":")
	return &apiError{status: r.status, code: code, name: strings.ToUpper(strings.TrimSpace(name)), msg: clip(msg, 300),
		retryAfter: retryAfter(r.header)}
}

// text is the explanation: "error_msg (error N)" or "HTTP N".
func (e *apiError) text() string {
	switch {
	case e.msg != "" && e.code != 0:
		return fmt.Sprintf("%s (error %d)", e.msg, e.code)
	case e.msg != "":
		return e.msg
	case e.code != 0:
		return fmt.Sprintf("error %d", e.code)
	}
	return fmt.Sprintf("HTTP %d %s", e.status, http.StatusText(e.status))
}

// tokenInvalid: the session/token errors of OK's REST convention.
func (e *apiError) tokenInvalid() bool {
	switch e.code {
	case 102, 103, 104:
		return true
	}
	for _, n := range []string{"PARAM_SESSION_EXPIRED", "PARAM_SESSION_KEY", "INVALID_TOKEN", "PARAM_SIGNATURE"} {
		if strings.Contains(e.name, n) {
			return true
		}
	}
	return e.code == 0 && e.msg == "" && e.status == http.StatusUnauthorized
}

// rateLimited: FLOOD_BLOCKED (8), LIMIT_REACHED (11), TOTAL_LIMIT_REACHED
// (18), an error named *LIMIT*/*FLOOD*, or HTTP 429.
func (e *apiError) rateLimited() bool {
	switch e.code {
	case 8, 11, 18:
		return true
	}
	return e.status == http.StatusTooManyRequests || strings.Contains(e.name, "LIMIT") || strings.Contains(e.name, "FLOOD")
}

// temporary: OK's UNKNOWN (1), SERVICE (2) and SYSTEM (9999) errors, HTTP
// 5xx, and rate limits.
func (e *apiError) temporary() bool {
	switch e.code {
	case 1, 2, 9999:
		return true
	}
	return e.status >= 500 || e.rateLimited()
}

// notReady: an uploaded attachment OK is still processing (UNCONFIRMED
// wording: OK's bot platform says "attachment.not.ready").
func (e *apiError) notReady() bool {
	l := strings.ToLower(e.msg)
	return strings.Contains(l, "not.ready") || strings.Contains(l, "not ready") || strings.Contains(l, "not_ready") ||
		strings.Contains(l, "processing")
}

// retryAfter reads a Retry-After header of seconds (0: none).
func retryAfter(h http.Header) time.Duration {
	if h == nil {
		return 0
	}
	var n int
	if _, err := fmt.Sscan(strings.TrimSpace(h.Get("Retry-After")), &n); err != nil || n <= 0 {
		return 0
	}
	return min(time.Duration(n)*time.Second, maxRetryAfter)
}
