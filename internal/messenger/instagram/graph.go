package instagram

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
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-hq/switchboard/internal/messenger"
)

// maxAnswer bounds a Graph API JSON answer.
const maxAnswer = 1 << 20

// Waits asked of the outbox for rate limits.
const (
	rateWait      = time.Minute
	maxRetryAfter = time.Hour
)

// result is a Graph API answer.
type result struct {
	status int
	header http.Header
	body   []byte
}

// call does one Graph API request with the account's Page access token as a
// bearer token (never in the URL). Its error is a transport failure, with no
// secret in its text.
func (g *Instagram) call(ctx context.Context, acc messenger.Account, method, u, contentType string, body []byte) (*result, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	pu, err := url.Parse(u)
	if err != nil {
		return nil, &netError{msg: "instagram: bad request URL", err: err}
	}
	if secret := acc.Secrets[FieldAppSecret]; secret != "" {
		// Meta checks the proof when given, and requires it of apps with
		// "Require App Secret" on.
		q := pu.Query()
		q.Set("appsecret_proof", appSecretProof(secret, acc.Secrets[FieldAccessToken]))
		pu.RawQuery = q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, pu.String(), rd)
	if err != nil {
		return nil, &netError{msg: "instagram: bad request: " + redact(err.Error(), acc), err: err}
	}
	req.Header.Set("Authorization", "Bearer "+acc.Secrets[FieldAccessToken])
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := g.client.Do(req)
	if err != nil {
		// The request URL (with its appsecret_proof) stays out of the text.
		cause := err
		var ue *url.Error
		if errors.As(err, &ue) {
			cause = ue.Err
		}
		return nil, &netError{msg: "instagram: " + method + " " + pu.Host + ": " + redact(cause.Error(), acc), err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, &netError{msg: "instagram: reading the answer: " + redact(err.Error(), acc), err: err}
	}
	if len(data) > maxAnswer {
		return nil, &netError{msg: "instagram: the Graph API answer is too long"}
	}
	return &result{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// appSecretProof is Meta's appsecret_proof: the hex HMAC-SHA256 of the
// access token under the app secret.
func appSecretProof(appSecret, token string) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write([]byte(token))
	return hex.EncodeToString(mac.Sum(nil))
}

// invalidProof says whether Meta refused the appsecret_proof: the app secret
// is not the secret of the token's app.
func (e *graphError) invalidProof() bool {
	return e != nil && e.Code == 100 && strings.Contains(strings.ToLower(e.Message), "appsecret_proof")
}

// netError is a transport failure whose text was cleaned of secrets. The
// wrapped error is kept for errors.Is (timeouts, cancellation).
type netError struct {
	msg string
	err error
}

func (e *netError) Error() string { return e.msg }
func (e *netError) Unwrap() error { return e.err }

// graphError is the Graph API's {"error":{...}}.
type graphError struct {
	Code    int
	Subcode int
	Message string
	Title   string
	UserMsg string
}

func (r *result) graphError() *graphError {
	e := object(r.body).obj("error")
	if e == nil {
		return nil
	}
	code, err := strconv.Atoi(e.str("code"))
	if err != nil {
		return nil
	}
	sub, _ := strconv.Atoi(e.str("error_subcode"))
	return &graphError{
		Code:    code,
		Subcode: sub,
		Message: e.str("message"),
		Title:   e.str("error_user_title"),
		UserMsg: e.str("error_user_msg"),
	}
}

// text is the most telling explanation Meta gave.
func (e *graphError) text() string {
	for _, s := range []string{e.UserMsg, e.Message, e.Title} {
		if s = strings.TrimSpace(s); s != "" {
			return clip(s, 300)
		}
	}
	return ""
}

// temporaryCode says whether a Graph error code is worth retrying: rate
// limits (4, 17, 32, 613, 80002, 80006) and temporary failures (1, 2, 1200, -1).
func temporaryCode(code int) bool {
	switch code {
	case 1, 2, 4, 17, 32, 613, 1200, -1, 80002, 80006:
		return true
	}
	return false
}

// rateLimitCode says whether a Graph error code is a rate limit.
func rateLimitCode(code int) bool {
	switch code {
	case 4, 17, 32, 613, 80002, 80006:
		return true
	}
	return false
}

// Subcodes Meta documents for Instagram and Messenger sends.
const (
	subcodeNoUser          = 2534014 // "No matching user found" (Instagram)
	subcodeNoUserMessenger = 2018001
)

// sendError turns a failed Graph API answer to a send into a
// *messenger.SendError.
func sendError(r *result, acc messenger.Account) *messenger.SendError {
	ge := r.graphError()
	if ge == nil {
		switch {
		case r.status == http.StatusUnauthorized:
			return &messenger.SendError{Permanent: true, Broken: true,
				Reason: "Meta no longer accepts the channel's Page access token: reconnect the channel"}
		case r.status == http.StatusTooManyRequests:
			return &messenger.SendError{RetryAfter: max(retryAfter(r.header), rateWait),
				Reason: "Instagram rate limit reached (HTTP 429)"}
		default:
			return &messenger.SendError{RetryAfter: retryAfter(r.header),
				Reason: fmt.Sprintf("the Instagram Send API answered HTTP %d", r.status)}
		}
	}
	detail := redact(ge.text(), acc)
	withCode := func(prefix string) string {
		if detail == "" {
			return fmt.Sprintf("%s (error %d)", prefix, ge.Code)
		}
		return fmt.Sprintf("%s (error %d): %s", prefix, ge.Code, detail)
	}
	c := ge.Code
	switch {
	case c == 10:
		// Meta answers code 10 (subcode 2534022 on Instagram, 2018278 on
		// Messenger) to a reply outside the 24-hour window.
		return &messenger.SendError{Permanent: true, Reason: WindowClosedReason}
	case c == 551:
		return &messenger.SendError{Permanent: true,
			Reason: withCode("The customer cannot be reached on Instagram now (they may have blocked the account or deactivated their profile)")}
	case ge.invalidProof():
		return &messenger.SendError{Permanent: true, Broken: true,
			Reason: "Meta says the channel's app secret does not belong to the app of its Page access token: reconnect the channel"}
	case c == 100 && (ge.Subcode == subcodeNoUser || ge.Subcode == subcodeNoUserMessenger):
		return &messenger.SendError{Permanent: true,
			Reason: withCode("Instagram knows no such customer for this account")}
	case rateLimitCode(c):
		return &messenger.SendError{RetryAfter: max(retryAfter(r.header), rateWait),
			Reason: withCode("Instagram rate limit reached")}
	case c == 1 || c == 2 || c == 1200 || c == -1:
		return &messenger.SendError{RetryAfter: retryAfter(r.header),
			Reason: withCode("Instagram is temporarily unavailable")}
	case c == 190:
		return &messenger.SendError{Permanent: true, Broken: true,
			Reason: fmt.Sprintf("Meta no longer accepts the channel's Page access token (error %d): reconnect the channel", c)}
	case c >= 200 && c <= 299:
		return &messenger.SendError{Permanent: true, Broken: true,
			Reason: withCode("The channel's Page access token lacks a permission (instagram_manage_messages)")}
	case c == 368:
		return &messenger.SendError{Permanent: true, Broken: true,
			Reason: withCode("Meta has blocked the account from sending messages for now")}
	case c == 100:
		return &messenger.SendError{Permanent: true,
			Reason: withCode("Instagram refused the message")}
	default:
		// Unknown codes and 5xx: retry; the outbox gives up after a few.
		return &messenger.SendError{RetryAfter: retryAfter(r.header),
			Reason: withCode("Instagram did not accept the message")}
	}
}

// retryAfter reads a Retry-After header of seconds (0: none).
func retryAfter(h http.Header) time.Duration {
	if h == nil {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(h.Get("Retry-After")))
	if err != nil || n <= 0 {
		return 0
	}
	return min(time.Duration(n)*time.Second, maxRetryAfter)
}

// jobj is a JSON object read leniently: a field of an unexpected type reads
// as empty instead of failing the whole document.
type jobj map[string]json.RawMessage

// object decodes raw as a JSON object, or nil.
func object(raw []byte) jobj {
	var o jobj
	if json.Unmarshal(raw, &o) != nil {
		return nil
	}
	return o
}

// str is a string field, or the literal text of a number field (big ids
// stay exact: they never pass through float64).
func (o jobj) str(k string) string {
	raw, ok := o[k]
	if !ok || len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	if raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9') {
		var n json.Number
		if json.Unmarshal(raw, &n) == nil {
			return n.String()
		}
	}
	return ""
}

func (o jobj) obj(k string) jobj {
	if raw, ok := o[k]; ok {
		return object(raw)
	}
	return nil
}

func (o jobj) arr(k string) []json.RawMessage {
	var a []json.RawMessage
	if raw, ok := o[k]; ok && json.Unmarshal(raw, &a) == nil {
		return a
	}
	return nil
}

func (o jobj) has(k string) bool {
	raw, ok := o[k]
	return ok && string(raw) != "null"
}

func (o jobj) boolean(k string) bool {
	var b bool
	if raw, ok := o[k]; ok && json.Unmarshal(raw, &b) == nil {
		return b
	}
	return o.str(k) == "true"
}

// number is a numeric field (or a numeric string) as its literal text.
func (o jobj) number(k string) (string, bool) {
	s := strings.TrimSpace(o.str(k))
	if s == "" {
		return "", false
	}
	if _, err := strconv.ParseFloat(s, 64); err != nil {
		return "", false
	}
	return s, true
}

// clip shortens s to at most n runes.
func clip(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}
