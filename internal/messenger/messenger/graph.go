package messenger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	msgr "github.com/switchboard-hq/switchboard/internal/messenger"
	"github.com/switchboard-hq/switchboard/internal/messenger/meta"
)

// Waits asked of the outbox.
const (
	// rateWait is the least wait after a rate limit (codes 4, 32, 613).
	rateWait      = time.Minute
	maxRetryAfter = time.Hour
)

// call does one Graph API request with the account's Page access token in
// the Authorization header and its appsecret_proof. Its error is a transport
// failure, with no secret in its text.
func (m *Messenger) call(ctx context.Context, acc msgr.Account, method, u, contentType string, body []byte) (*result, error) {
	if p := proof(acc); p != "" {
		if strings.Contains(u, "?") {
			u += "&appsecret_proof=" + p
		} else {
			u += "?appsecret_proof=" + p
		}
	}
	return meta.Call(ctx, m.client, meta.Request{
		Name: "messenger", Method: method, URL: u, ContentType: contentType, Body: body,
		Token:     acc.Secrets[FieldPageAccessToken],
		Redact:    func(s string) string { return redact(s, acc) },
		Transport: func(err error) string { return redact(transportText(err), acc) },
	})
}

// transportText is a transport error without the request's URL (which may
// hold a signed CDN link or the appsecret_proof).
func transportText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		host := ""
		if u, perr := url.Parse(ue.URL); perr == nil {
			host = u.Host
		}
		return fmt.Sprintf("%s %s: %v", ue.Op, host, ue.Err)
	}
	return err.Error()
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
	s := e.Message
	if s == "" {
		s = e.UserMsg
	}
	if s == "" {
		s = e.Title
	}
	return meta.Clip(strings.TrimSpace(s), 300)
}

// temporaryCode says whether a Graph error code is worth retrying.
func temporaryCode(code int) bool {
	switch code {
	case 1, 2, -1, 1200, 4, 32, 613:
		return true
	}
	return false
}

// windowClosed says whether ge is "sent outside of allowed window".
func (e *graphError) windowClosed() bool {
	return e.Code == 10 && (e.Subcode == 2018278 || strings.Contains(strings.ToLower(e.Message), "outside of allowed window"))
}

// sendError turns a failed Graph API answer into a *messenger.SendError.
func sendError(r *result, acc msgr.Account) *msgr.SendError {
	ge := graphErrorOf(r)
	if ge == nil {
		switch {
		case r.Status == http.StatusUnauthorized:
			return &msgr.SendError{Permanent: true, Broken: true,
				Reason: "Meta no longer accepts the Page access token: reconnect the channel"}
		case r.Status == http.StatusTooManyRequests:
			return &msgr.SendError{RetryAfter: max(meta.RetryAfter(r.Header, maxRetryAfter), rateWait),
				Reason: "Messenger rate limit reached (HTTP 429)"}
		default:
			return &msgr.SendError{RetryAfter: meta.RetryAfter(r.Header, maxRetryAfter),
				Reason: fmt.Sprintf("the Messenger Send API answered HTTP %d", r.Status)}
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
	case ge.windowClosed():
		return &msgr.SendError{Permanent: true, Reason: WindowClosedReason}
	case c == 551:
		return &msgr.SendError{Permanent: true,
			Reason: withCode("The customer cannot be reached on Messenger now: they may have blocked the Page or deactivated their account")}
	case c == 100 && ge.Subcode == 2018001:
		return &msgr.SendError{Permanent: true,
			Reason: withCode("Messenger knows no customer with this id for the Page")}
	case c == 190:
		return &msgr.SendError{Permanent: true, Broken: true,
			Reason: fmt.Sprintf("Meta no longer accepts the Page access token (error %d): reconnect the channel", c)}
	case c == 4 || c == 32 || c == 613:
		return &msgr.SendError{RetryAfter: max(meta.RetryAfter(r.Header, maxRetryAfter), usageWait(r.Header), rateWait),
			Reason: withCode("Messenger rate limit reached")}
	case c == 1 || c == 2 || c == -1 || c == 1200:
		return &msgr.SendError{RetryAfter: meta.RetryAfter(r.Header, maxRetryAfter),
			Reason: withCode("Messenger is temporarily unavailable")}
	case c == 10 || (c >= 200 && c <= 299):
		return &msgr.SendError{Permanent: true, Broken: true,
			Reason: withCode("The Page access token lacks a permission (pages_messaging)")}
	case c == 368:
		return &msgr.SendError{Permanent: true,
			Reason: withCode("Meta has blocked the Page from sending messages for now")}
	case c == 100:
		return &msgr.SendError{Permanent: true, Reason: withCode("Messenger refused the message")}
	default:
		// Unknown codes and 5xx: retry; the outbox gives up after a few.
		return &msgr.SendError{RetryAfter: meta.RetryAfter(r.Header, maxRetryAfter),
			Reason: withCode("Messenger did not accept the message")}
	}
}

// usageWait reads the largest estimated_time_to_regain_access (minutes) of
// an X-Business-Use-Case-Usage header (0: none).
func usageWait(h http.Header) time.Duration {
	v := h.Get("X-Business-Use-Case-Usage")
	if v == "" {
		return 0
	}
	var usage map[string][]map[string]json.RawMessage
	if json.Unmarshal([]byte(v), &usage) != nil {
		return 0
	}
	var most time.Duration
	for _, list := range usage {
		for _, u := range list {
			n, err := strconv.Atoi(meta.Object(u).Str("estimated_time_to_regain_access"))
			if err == nil && n > 0 {
				most = max(most, time.Duration(n)*time.Minute)
			}
		}
	}
	return min(most, maxRetryAfter)
}

// number is a numeric field (or a numeric string) of at most 40 characters
// as its literal text.
func number(o meta.Object, k string) (string, bool) {
	s, ok := o.Number(k)
	if !ok || len(s) > 40 {
		return "", false
	}
	return s, true
}

// netError is a transport failure whose text was cleaned of secrets.
type netError = meta.NetError
