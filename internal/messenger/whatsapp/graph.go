package whatsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/switchboard-hq/switchboard/internal/messenger"
)

// maxAnswer bounds a Graph API JSON answer.
const maxAnswer = 1 << 20

// result is a Graph API answer.
type result struct {
	status int
	header http.Header
	body   []byte
}

// call does one Graph API request with the account's bearer token. Its error
// is a transport failure, with no secret in its text.
func (w *WhatsApp) call(ctx context.Context, acc messenger.Account, method, u, contentType string, body []byte) (*result, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, &netError{msg: "whatsapp: bad request: " + redact(err.Error(), acc), err: err}
	}
	req.Header.Set("Authorization", "Bearer "+acc.Secrets[FieldAccessToken])
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return nil, &netError{msg: "whatsapp: " + redact(err.Error(), acc), err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, &netError{msg: "whatsapp: reading the answer: " + redact(err.Error(), acc), err: err}
	}
	if len(data) > maxAnswer {
		return nil, &netError{msg: "whatsapp: the Graph API answer is too long"}
	}
	return &result{status: resp.StatusCode, header: resp.Header, body: data}, nil
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
	Details string
	Title   string
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
		Details: e.obj("error_data").str("details"),
		Title:   e.str("error_user_title"),
	}
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
	return clip(strings.TrimSpace(s), 300)
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
	ge := r.graphError()
	if ge == nil {
		switch {
		case r.status == http.StatusUnauthorized:
			return &messenger.SendError{Permanent: true, Broken: true,
				Reason: "Meta no longer accepts the channel's access token: reconnect the channel"}
		default:
			return &messenger.SendError{RetryAfter: retryAfter(r.header),
				Reason: fmt.Sprintf("the WhatsApp Cloud API answered HTTP %d", r.status)}
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
		return &messenger.SendError{RetryAfter: max(retryAfter(r.header), pairRateWait),
			Reason: withCode("Too many messages to this customer in a short time")}
	case c == 80007 || c == 4:
		return &messenger.SendError{RetryAfter: max(retryAfter(r.header), accountRateWait),
			Reason: withCode("WhatsApp rate limit of the account reached")}
	case c == 130429:
		return &messenger.SendError{RetryAfter: retryAfter(r.header),
			Reason: withCode("WhatsApp throughput limit reached")}
	case c == 131000 || c == 131016 || c == 1 || c == 2:
		return &messenger.SendError{RetryAfter: retryAfter(r.header),
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
		return &messenger.SendError{RetryAfter: retryAfter(r.header),
			Reason: withCode("WhatsApp did not accept the message")}
	}
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

// str is a string field, or the literal text of a number field.
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
