// Package errs holds the few kinds of failure the domain reports, so that every
// transport (HTTP today, channel webhooks and workers later) maps them once.
package errs

import (
	"errors"
	"fmt"
)

// Kinds of failure. Compare with errors.Is; an *Error of that kind matches.
var (
	ErrNotFound        = errors.New("not found")
	ErrForbidden       = errors.New("forbidden")
	ErrUnauthenticated = errors.New("unauthenticated")
	ErrConflict        = errors.New("conflict")
	ErrInvalid         = errors.New("invalid")
	ErrRateLimited     = errors.New("rate limited")
	ErrUnavailable     = errors.New("unavailable")
)

// Error is a domain failure with a stable lower_snake code, a message fit for a
// user, and the offending field for validation failures.
type Error struct {
	Kind    error
	Code    string
	Message string
	Field   string
	// Requests names the requests the failure is about (those that keep an
	// agent from going Offline).
	Requests []int64
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Message)
	}
	return e.Message
}

// Is makes errors.Is(err, ErrNotFound) true for an *Error of that kind.
func (e *Error) Is(target error) bool { return e.Kind == target }

// NotFound reports an unknown id; what names the kind of thing ("agent").
func NotFound(what string) error {
	return &Error{Kind: ErrNotFound, Code: "not_found", Message: what + " not found"}
}

// Forbidden reports an action the actor's rights do not allow.
func Forbidden(message string) error {
	return &Error{Kind: ErrForbidden, Code: "forbidden", Message: message}
}

// Unauthenticated reports a missing or failed authentication.
func Unauthenticated(code, message string) error {
	return &Error{Kind: ErrUnauthenticated, Code: code, Message: message}
}

// Conflict reports a write that clashes with the stored state.
func Conflict(code, message string) error {
	return &Error{Kind: ErrConflict, Code: code, Message: message}
}

// Taken reports a value of field that must be unique and is already used.
func Taken(field, message string) error {
	return &Error{Kind: ErrConflict, Code: field + "_taken", Field: field, Message: message}
}

// Invalid reports a validation failure of one field.
func Invalid(field, message string) error {
	return &Error{Kind: ErrInvalid, Code: "validation_failed", Field: field, Message: message}
}

// RateLimited reports too many attempts.
func RateLimited(message string) error {
	return &Error{Kind: ErrRateLimited, Code: "rate_limited", Message: message}
}

// Unavailable reports that the server cannot take the request now (it is
// shutting down); the client should retry.
func Unavailable(message string) error {
	return &Error{Kind: ErrUnavailable, Code: "unavailable", Message: message}
}

// IsNotFound reports whether err is of the not-found kind.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
