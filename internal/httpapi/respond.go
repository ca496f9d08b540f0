package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/switchboard-hq/switchboard/internal/errs"
)

// maxJSONBody caps every JSON request body.
const maxJSONBody = 1 << 20

// errorBody is the one shape of every error response.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code     string  `json:"code"`
	Message  string  `json:"message"`
	Field    string  `json:"field,omitempty"`
	Requests []int64 `json:"requests,omitempty"`
}

var statusOfKind = []struct {
	kind   error
	status int
}{
	{errs.ErrInvalid, http.StatusUnprocessableEntity},
	{errs.ErrNotFound, http.StatusNotFound},
	{errs.ErrForbidden, http.StatusForbidden},
	{errs.ErrUnauthenticated, http.StatusUnauthorized},
	{errs.ErrConflict, http.StatusConflict},
	{errs.ErrRateLimited, http.StatusTooManyRequests},
	{errs.ErrUnavailable, http.StatusServiceUnavailable},
}

// badRequest is a request the server cannot read at all (as opposed to one it
// read and found invalid).
type badRequest struct {
	status int
	detail errorDetail
}

func (b *badRequest) Error() string { return b.detail.Message }

// writeError maps err to its status once for the whole API. Anything that is
// not a domain error is logged and shown only as an internal error.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var bad *badRequest
	if errors.As(err, &bad) {
		writeJSON(w, bad.status, errorBody{bad.detail})
		return
	}
	var domain *errs.Error
	if errors.As(err, &domain) {
		for _, m := range statusOfKind {
			if errors.Is(domain, m.kind) {
				writeJSON(w, m.status, errorBody{errorDetail{Code: domain.Code, Message: domain.Message, Field: domain.Field, Requests: domain.Requests}})
				return
			}
		}
	}
	if errors.Is(err, r.Context().Err()) {
		// The client went away; nobody reads this answer.
		w.WriteHeader(499)
		return
	}
	s.log.ErrorContext(r.Context(), "request failed", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("error", err))
	writeJSON(w, http.StatusInternalServerError, errorBody{errorDetail{Code: "internal_error", Message: "internal error"}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decode reads a JSON body into v. Malformed JSON, unknown fields, trailing
// data and oversized bodies are 400/413 with a reason.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeLimit(w, r, v, maxJSONBody)
}

// decodeLimit is decode with its own body limit.
func decodeLimit(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return &badRequest{http.StatusUnsupportedMediaType, errorDetail{Code: "unsupported_media_type", Message: "send application/json"}}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err == nil && bytes.Contains(body, []byte(`\u0000`)) {
		return &badRequest{http.StatusBadRequest, errorDetail{Code: "bad_request", Message: "text may not contain NUL characters"}}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err == nil {
		err = dec.Decode(v)
	}
	if err == nil && dec.More() {
		err = errors.New("unexpected data after the JSON value")
	}
	if err == nil {
		return nil
	}
	detail := errorDetail{Code: "bad_request", Message: "malformed JSON: " + err.Error()}
	var tooBig *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		return &badRequest{http.StatusRequestEntityTooLarge, errorDetail{Code: "too_large", Message: fmt.Sprintf("the body is larger than %d bytes", limit)}}
	case errors.Is(err, io.EOF):
		detail.Message = "the body is empty; send a JSON object"
	case errors.As(err, &typeErr):
		detail.Field = typeErr.Field
		detail.Message = fmt.Sprintf("%s must be %s", typeErr.Field, typeErr.Type)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		detail.Field = strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		detail.Message = "unknown field " + detail.Field
	}
	return &badRequest{http.StatusBadRequest, detail}
}
