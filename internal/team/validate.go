package team

import (
	"net/mail"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/switchboard-hq/switchboard/internal/access"
	"github.com/switchboard-hq/switchboard/internal/errs"
)

// Limits on what people type into the administration forms.
const (
	MaxNameLength     = 100
	MaxEmailLength    = 254
	MinPasswordLength = 8
	MaxPasswordLength = 200
)

// NormalizeEmail trims and lowercases an email so that lookups and uniqueness
// ignore case.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

func checkEmail(field, email string) (string, error) {
	email = NormalizeEmail(email)
	if email == "" {
		return "", errs.Invalid(field, "email is required")
	}
	if len(email) > MaxEmailLength {
		return "", errs.Invalid(field, "email is too long")
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || addr.Name != "" {
		return "", errs.Invalid(field, "not a valid email address")
	}
	return email, nil
}

func checkName(field, name string, required bool) (string, error) {
	name = strings.TrimSpace(name)
	if required && name == "" {
		return "", errs.Invalid(field, "is required")
	}
	if utf8.RuneCountInString(name) > MaxNameLength {
		return "", errs.Invalid(field, "is longer than 100 characters")
	}
	if strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", errs.Invalid(field, "contains control characters")
	}
	return name, nil
}

// CheckPassword enforces the password policy.
func CheckPassword(field, password string) error {
	n := utf8.RuneCountInString(password)
	if n < MinPasswordLength {
		return errs.Invalid(field, "must be at least 8 characters")
	}
	if len(password) > MaxPasswordLength {
		return errs.Invalid(field, "must be at most 200 bytes")
	}
	return nil
}

func checkRights(rights []access.Right) ([]access.Right, error) {
	for _, r := range rights {
		if !r.Valid() {
			return nil, errs.Invalid("rights", "unknown right "+string(r))
		}
	}
	out := []access.Right{}
	for _, r := range access.AllRights {
		if slices.Contains(rights, r) {
			out = append(out, r)
		}
	}
	return out, nil
}
