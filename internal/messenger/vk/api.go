package vk

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/switchboard-hq/switchboard/internal/messenger"
)

// maxAnswer bounds an API answer.
const maxAnswer = 1 << 20

// apiError is a failed method call: VK's {"error":{…}} (code > 0), or an
// HTTP answer that is not VK's JSON (code 0, status set).
type apiError struct {
	method string
	code   int
	msg    string
	status int
}

func (e *apiError) Error() string {
	if e.code == 0 {
		return fmt.Sprintf("vk %s: HTTP %d %s", e.method, e.status, e.msg)
	}
	return fmt.Sprintf("vk %s: error %d: %s", e.method, e.code, e.msg)
}

// netError is a transport failure whose text was cleaned of secrets.
type netError struct {
	msg string
	err error
}

func (e *netError) Error() string { return e.msg }
func (e *netError) Unwrap() error { return e.err }

// methodURL is {base}/method/{name}; it holds no secret.
func (v *VK) methodURL(method string) string {
	u := *v.base
	u.Path = strings.TrimRight(u.Path, "/") + "/method/" + method
	u.RawPath = ""
	return u.String()
}

// call posts params (form-encoded, with the account's token and Version) to
// a method and returns the value of "response". A transport failure is a
// *netError, anything else an *apiError; neither holds a secret.
func (v *VK) call(ctx context.Context, acc messenger.Account, method string, params url.Values) (json.RawMessage, error) {
	form := url.Values{}
	for k, vals := range params {
		form[k] = vals
	}
	form.Set("access_token", acc.Secrets[FieldAccessToken])
	form.Set("v", Version)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.methodURL(method), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, &netError{msg: "vk: bad request: " + redact(err.Error(), acc), err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := v.client.Do(req)
	if err != nil {
		return nil, &netError{msg: "vk: " + redact(err.Error(), acc), err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, &netError{msg: "vk: reading the answer: " + redact(err.Error(), acc), err: err}
	}
	if len(data) > maxAnswer {
		return nil, &apiError{method: method, status: resp.StatusCode, msg: "the answer is too long"}
	}
	top := object(data)
	if e := top.obj("error"); e != nil {
		code, _ := e.int("error_code")
		msg := clip(strings.TrimSpace(redact(e.str("error_msg"), acc)), 300)
		if code <= 0 {
			return nil, &apiError{method: method, status: resp.StatusCode, msg: "unreadable error: " + msg}
		}
		return nil, &apiError{method: method, code: int(code), msg: msg, status: resp.StatusCode}
	}
	if raw, ok := top["response"]; ok && resp.StatusCode/100 == 2 {
		return raw, nil
	}
	if resp.StatusCode/100 == 2 {
		return nil, &apiError{method: method, status: resp.StatusCode, msg: "unreadable answer"}
	}
	return nil, &apiError{method: method, status: resp.StatusCode, msg: http.StatusText(resp.StatusCode)}
}

// temporaryCode says whether a VK error code is worth retrying.
func temporaryCode(code int) bool {
	switch code {
	case 1, 6, 9, 10, 29:
		return true
	}
	return false
}

// jobj is a JSON object read leniently: a field of an unexpected type reads
// as empty instead of failing the whole document. Numbers are read as
// json.Number text, never through float64.
type jobj map[string]json.RawMessage

// object decodes raw as a JSON object, or nil.
func object(raw []byte) jobj {
	var o jobj
	if json.Unmarshal(raw, &o) != nil {
		return nil
	}
	return o
}

// array decodes raw as a JSON array, or nil.
func array(raw []byte) []json.RawMessage {
	var a []json.RawMessage
	if json.Unmarshal(raw, &a) != nil {
		return nil
	}
	return a
}

// strOK is a string field, or the literal text of a number field; ok says
// whether the field was one of those.
func (o jobj) strOK(k string) (string, bool) {
	raw, ok := o[k]
	if !ok || len(raw) == 0 {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	if raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9') {
		var n json.Number
		if json.Unmarshal(raw, &n) == nil {
			return n.String(), true
		}
	}
	return "", false
}

func (o jobj) str(k string) string {
	s, _ := o.strOK(k)
	return s
}

// int is an integer field (or an integer in a string), exactly.
func (o jobj) int(k string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(o.str(k)), 10, 64)
	return n, err == nil
}

// number is a numeric field as its literal text.
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

func (o jobj) obj(k string) jobj {
	if raw, ok := o[k]; ok {
		return object(raw)
	}
	return nil
}

func (o jobj) arr(k string) []json.RawMessage {
	if raw, ok := o[k]; ok {
		return array(raw)
	}
	return nil
}

// clip shortens s to at most n runes.
func clip(s string, n int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "")
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}
