// Package meta holds what the platforms on Meta's Graph API (WhatsApp Cloud
// API, Facebook Messenger, Instagram Messaging) share: webhook signature
// checks, the verification handshake, Graph API calls and their error
// envelope, secret redaction and a lenient JSON object reader.
package meta

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader carries the HMAC-SHA256 of a webhook body.
const SignatureHeader = "X-Hub-Signature-256"

// Handshake answers Meta's webhook verification request: the challenge
// when hub.mode is subscribe and hub.verify_token is verifyToken.
func Handshake(verifyToken string, query url.Values) (string, bool) {
	if verifyToken == "" || query.Get("hub.mode") != "subscribe" {
		return "", false
	}
	if subtle.ConstantTimeCompare([]byte(query.Get("hub.verify_token")), []byte(verifyToken)) != 1 {
		return "", false
	}
	challenge := query.Get("hub.challenge")
	if challenge == "" || len(challenge) > 512 {
		return "", false
	}
	return challenge, true
}

// Verify checks X-Hub-Signature-256 over the exact body bytes with the app
// secret. name prefixes its own errors; errNo is returned for a missing
// header and errBad (possibly wrapped) for a wrong one.
func Verify(name, appSecret string, header http.Header, body []byte, errNo, errBad error) error {
	if appSecret == "" {
		return errors.New(name + ": the channel has no app secret")
	}
	sig := header.Get(SignatureHeader)
	if sig == "" {
		return errNo
	}
	hexSum, ok := strings.CutPrefix(sig, "sha256=")
	if !ok {
		return fmt.Errorf("%w: not sha256=", errBad)
	}
	got, err := hex.DecodeString(hexSum)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%w: not a hex SHA-256", errBad)
	}
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return errBad
	}
	return nil
}

// AppSecretProof is Meta's appsecret_proof: the hex HMAC-SHA256 of the
// access token under the app secret.
func AppSecretProof(appSecret, token string) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write([]byte(token))
	return hex.EncodeToString(mac.Sum(nil))
}

// Redact removes secrets (the values of at least 4 bytes, and extra) from a
// text that came from outside.
func Redact(s string, secrets map[string]string, extra ...string) string {
	for _, v := range secrets {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	for _, v := range extra {
		if v != "" {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	return s
}

// RetryAfter reads a Retry-After header of seconds (0: none), at most most.
func RetryAfter(h http.Header, most time.Duration) time.Duration {
	if h == nil {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(h.Get("Retry-After")))
	if err != nil || n <= 0 {
		return 0
	}
	return min(time.Duration(n)*time.Second, most)
}

// Clip shortens s to at most n runes.
func Clip(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}
