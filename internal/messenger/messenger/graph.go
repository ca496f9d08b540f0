package messenger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	msgr "github.com/switchboard-hq/switchboard/internal/messenger"
)

// maxAnswer bounds a Graph API JSON answer.
const maxAnswer = 1 << 20

// Waits asked of the outbox.
const (
	// rateWait is the least wait after a rate limit (codes 4, 32, 613).
	rateWait      = time.Minute
	maxRetryAfter = time.Hour
)

// result is a Graph API answer.
type result struct {
	status int
	header http.Header
	body   []byte
}

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
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, &netError{msg: "messenger: bad request: " + redact(err.Error(), acc), err: err}
	}
	req.Header.Set("Authorization", "Bearer "+acc.Secrets[FieldPageAccessToken])
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return nil, &netError{msg: "messenger: " + redact(transportText(err), acc), err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, &netError{msg: "messenger: reading the answer: " + redact(err.Error(), acc), err: err}
	}
	if len(data) > maxAnswer {
		return nil, &netError{msg: "messenger: the Graph API answer is too long"}
	}
	return &result{status: resp.StatusCode, header: resp.Header, body: data}, nil
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

// netError is a transport failure whose text was cleaned of secrets.
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
	s := e.Message
	if s == "" {
		s = e.UserMsg
	}
	if s == "" {
		s = e.Title
	}
	return clip(strings.TrimSpace(s), 300)
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
	ge := r.graphError()
	if ge == nil {
		switch {
		case r.status == http.StatusUnauthorized:
			return &msgr.SendError{Permanent: true, Broken: true,
				Reason: "Meta no longer accepts the Page access token: reconnect the channel"}
		case r.status == http.StatusTooManyRequests:
			return &msgr.SendError{RetryAfter: max(retryAfter(r.header), rateWait),
				Reason: "Messenger rate limit reached (HTTP 429)"}
		default:
			return &msgr.SendError{RetryAfter: retryAfter(r.header),
				Reason: fmt.Sprintf("the Messenger Send API answered HTTP %d", r.status)}
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
		return &msgr.SendError{RetryAfter: max(retryAfter(r.header), usageWait(r.header), rateWait),
			Reason: withCode("Messenger rate limit reached")}
	case c == 1 || c == 2 || c == -1 || c == 1200:
		return &msgr.SendError{RetryAfter: retryAfter(r.header),
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
		return &msgr.SendError{RetryAfter: retryAfter(r.header),
			Reason: withCode("Messenger did not accept the message")}
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
			n, err := strconv.Atoi(jobj(u).str("estimated_time_to_regain_access"))
			if err == nil && n > 0 {
				most = max(most, time.Duration(n)*time.Minute)
			}
		}
	}
	return min(most, maxRetryAfter)
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

func (o jobj) has(k string) bool {
	_, ok := o[k]
	return ok
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
	if s == "" || len(s) > 40 {
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
