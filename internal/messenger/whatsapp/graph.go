package whatsapp

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/switchboard-hq/switchboard/internal/messenger"
	"github.com/switchboard-hq/switchboard/internal/messenger/meta"
)

// call does one Graph API request with the account's bearer token. Its error
// is a transport failure, with no secret in its text.
func (w *WhatsApp) call(ctx context.Context, acc messenger.Account, method, u, contentType string, body []byte) (*result, error) {
	return meta.Call(ctx, w.client, meta.Request{
		Name: "whatsapp", Method: method, URL: u, ContentType: contentType, Body: body,
		Token:     acc.Secrets[FieldAccessToken],
		Redact:    func(s string) string { return redact(s, acc) },
		Transport: func(err error) string { return redact(err.Error(), acc) },
	})
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
	s := e.Details
	if s == "" {
		s = e.Message
	}
	if s == "" {
		s = e.Title
	}
	return meta.Clip(strings.TrimSpace(s), 300)
}

// temporaryCode says whether a Graph error code is worth retrying.
func temporaryCode(code int) bool {
	switch code {
	case 130429, 131056, 80007, 4, 131000, 131016, 1, 2:
		return true
	}
	return false
}

// sendError turns a failed Graph API answer into a *messenger.SendError.
func sendError(r *result, acc messenger.Account) *messenger.SendError {
	ge := graphErrorOf(r)
	if ge == nil {
		switch {
		case r.Status == http.StatusUnauthorized:
			return &messenger.SendError{Permanent: true, Broken: true,
				Reason: "Meta no longer accepts the channel's access token: reconnect the channel"}
		default:
			return &messenger.SendError{RetryAfter: meta.RetryAfter(r.Header, maxRetryAfter),
				Reason: fmt.Sprintf("the WhatsApp Cloud API answered HTTP %d", r.Status)}
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
	case c == 131047:
		return &messenger.SendError{Permanent: true, Reason: WindowClosedReason}
	case c == 131056:
		return &messenger.SendError{RetryAfter: max(meta.RetryAfter(r.Header, maxRetryAfter), pairRateWait),
			Reason: withCode("Too many messages to this customer in a short time")}
	case c == 80007 || c == 4:
		return &messenger.SendError{RetryAfter: max(meta.RetryAfter(r.Header, maxRetryAfter), accountRateWait),
			Reason: withCode("WhatsApp rate limit of the account reached")}
	case c == 130429:
		return &messenger.SendError{RetryAfter: meta.RetryAfter(r.Header, maxRetryAfter),
			Reason: withCode("WhatsApp throughput limit reached")}
	case c == 131000 || c == 131016 || c == 1 || c == 2:
		return &messenger.SendError{RetryAfter: meta.RetryAfter(r.Header, maxRetryAfter),
			Reason: withCode("WhatsApp is temporarily unavailable")}
	case c == 190:
		return &messenger.SendError{Permanent: true, Broken: true,
			Reason: fmt.Sprintf("Meta no longer accepts the channel's access token (error %d): reconnect the channel", c)}
	case c == 10 || (c >= 200 && c <= 299):
		return &messenger.SendError{Permanent: true, Broken: true,
			Reason: withCode("The channel's access token lacks a permission")}
	case c == 368 || c == 131031:
		return &messenger.SendError{Permanent: true, Broken: true,
			Reason: withCode("The WhatsApp Business account is restricted or locked")}
	case c == 131026:
		return &messenger.SendError{Permanent: true,
			Reason: withCode("WhatsApp cannot deliver this message to the customer")}
	case c == 131052 || c == 131053:
		return &messenger.SendError{Permanent: true,
			Reason: withCode("WhatsApp could not process the attached file")}
	case c == 100 || c == 131008 || c == 131009:
		return &messenger.SendError{Permanent: true,
			Reason: withCode("WhatsApp refused the message")}
	default:
		// Unknown codes and 5xx: retry; the outbox gives up after a few.
		return &messenger.SendError{RetryAfter: meta.RetryAfter(r.Header, maxRetryAfter),
			Reason: withCode("WhatsApp did not accept the message")}
	}
}

// netError is a transport failure whose text was cleaned of secrets.
type netError = meta.NetError
