package instagram

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard-hq/switchboard/internal/messenger"
	"github.com/switchboard-hq/switchboard/internal/messenger/meta"
)

// Waits asked of the outbox for rate limits.
const (
	rateWait      = time.Minute
	maxRetryAfter = time.Hour
)

// call does one Graph API request with the account's Page access token as a
// bearer token (never in the URL). Its error is a transport failure, with no
// secret in its text.
func (g *Instagram) call(ctx context.Context, acc messenger.Account, method, u, contentType string, body []byte) (*result, error) {
	pu, err := url.Parse(u)
	if err != nil {
		return nil, &netError{Msg: "instagram: bad request URL", Err: err}
	}
	if secret := acc.Secrets[FieldAppSecret]; secret != "" {
		// Meta checks the proof when given, and requires it of apps with
		// "Require App Secret" on.
		q := pu.Query()
		q.Set("appsecret_proof", meta.AppSecretProof(secret, acc.Secrets[FieldAccessToken]))
		pu.RawQuery = q.Encode()
	}
	return meta.Call(ctx, g.client, meta.Request{
		Name: "instagram", Method: method, URL: pu.String(), ContentType: contentType, Body: body,
		Token:  acc.Secrets[FieldAccessToken],
		Redact: func(s string) string { return redact(s, acc) },
		Transport: func(err error) string {
			// The request URL (with its appsecret_proof) stays out of the text.
			cause := err
			var ue *url.Error
			if errors.As(err, &ue) {
				cause = ue.Err
			}
			return method + " " + pu.Host + ": " + redact(cause.Error(), acc)
		},
	})
}

// invalidProof says whether Meta refused the appsecret_proof: the app secret
// is not the secret of the token's app.
func (e *graphError) invalidProof() bool {
	return e != nil && e.Code == 100 && strings.Contains(strings.ToLower(e.Message), "appsecret_proof")
}

// result is a Graph API answer.
type result = meta.Result

// graphError is the Graph API's {"error":{...}}.
type graphError struct{ meta.GraphError }

// graphErrorOf reads r's error envelope, or nil.
func graphErrorOf(r *result) *graphError {
	ge := r.GraphError()
	if ge == nil {
		return nil
	}
	return &graphError{*ge}
}

// text is the most telling explanation Meta gave.
func (e *graphError) text() string {
	for _, s := range []string{e.UserMsg, e.Message, e.Title} {
		if s = strings.TrimSpace(s); s != "" {
			return meta.Clip(s, 300)
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
	ge := graphErrorOf(r)
	if ge == nil {
		switch {
		case r.Status == http.StatusUnauthorized:
			return &messenger.SendError{Permanent: true, Broken: true,
				Reason: "Meta no longer accepts the channel's Page access token: reconnect the channel"}
		case r.Status == http.StatusTooManyRequests:
			return &messenger.SendError{RetryAfter: max(meta.RetryAfter(r.Header, maxRetryAfter), rateWait),
				Reason: "Instagram rate limit reached (HTTP 429)"}
		default:
			return &messenger.SendError{RetryAfter: meta.RetryAfter(r.Header, maxRetryAfter),
				Reason: fmt.Sprintf("the Instagram Send API answered HTTP %d", r.Status)}
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
		return &messenger.SendError{RetryAfter: max(meta.RetryAfter(r.Header, maxRetryAfter), rateWait),
			Reason: withCode("Instagram rate limit reached")}
	case c == 1 || c == 2 || c == 1200 || c == -1:
		return &messenger.SendError{RetryAfter: meta.RetryAfter(r.Header, maxRetryAfter),
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
		return &messenger.SendError{RetryAfter: meta.RetryAfter(r.Header, maxRetryAfter),
			Reason: withCode("Instagram did not accept the message")}
	}
}

// netError is a transport failure whose text was cleaned of secrets.
type netError = meta.NetError
