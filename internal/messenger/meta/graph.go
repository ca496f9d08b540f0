package meta

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
)

// MaxAnswer bounds a Graph API JSON answer.
const MaxAnswer = 1 << 20

// Result is a Graph API answer.
type Result struct {
	Status int
	Header http.Header
	Body   []byte
}

// Request is one Graph API call.
type Request struct {
	// Name prefixes the error texts ("whatsapp").
	Name                     string
	Method, URL, ContentType string
	Body                     []byte
	// Token is sent as the bearer token.
	Token string
	// Redact cleans a text of the account's secrets.
	Redact func(string) string
	// Transport is the text (after "name: ") of a failed round trip; it
	// must leave no secret in it.
	Transport func(err error) string
}

// Call does one Graph API request. Its error is a *NetError: a transport
// failure, with no secret in its text.
func Call(ctx context.Context, client *http.Client, r Request) (*Result, error) {
	var rd io.Reader
	if r.Body != nil {
		rd = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, rd)
	if err != nil {
		return nil, &NetError{Msg: r.Name + ": bad request: " + r.Redact(err.Error()), Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+r.Token)
	req.Header.Set("Accept", "application/json")
	if r.ContentType != "" {
		req.Header.Set("Content-Type", r.ContentType)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, &NetError{Msg: r.Name + ": " + r.Transport(err), Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswer+1))
	if err != nil {
		return nil, &NetError{Msg: r.Name + ": reading the answer: " + r.Redact(err.Error()), Err: err}
	}
	if len(data) > MaxAnswer {
		return nil, &NetError{Msg: r.Name + ": the Graph API answer is too long"}
	}
	return &Result{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

// NetError is a transport failure whose text was cleaned of secrets. The
// wrapped error is kept for errors.Is (timeouts, cancellation).
type NetError struct {
	Msg string
	Err error
}

func (e *NetError) Error() string { return e.Msg }
func (e *NetError) Unwrap() error { return e.Err }

// GraphError is the Graph API's {"error":{...}}.
type GraphError struct {
	Code    int
	Subcode int
	Message string
	Title   string // error_user_title
	UserMsg string // error_user_msg
	Details string // error_data.details
}

// GraphError reads the answer's error envelope, or nil.
func (r *Result) GraphError() *GraphError {
	e := ParseObject(r.Body).Obj("error")
	if e == nil {
		return nil
	}
	code, err := strconv.Atoi(e.Str("code"))
	if err != nil {
		return nil
	}
	sub, _ := strconv.Atoi(e.Str("error_subcode"))
	return &GraphError{
		Code:    code,
		Subcode: sub,
		Message: e.Str("message"),
		Title:   e.Str("error_user_title"),
		UserMsg: e.Str("error_user_msg"),
		Details: e.Obj("error_data").Str("details"),
	}
}
