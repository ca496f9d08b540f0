// Package filelink publishes stored files at signed, expiring URLs, for
// platforms that take files only as links a client's app downloads (Viber).
// The URL names the file, its type and name and when it expires, and an
// HMAC over all of them with a key the instances share; nothing else can be
// read through it.
package filelink

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Signer makes and checks file links.
type Signer struct {
	key  []byte
	base string
}

// New returns a signer for links under base (the public URL).
func New(key []byte, base string) *Signer {
	return &Signer{key: key, base: strings.TrimSuffix(base, "/")}
}

// Link is the URL of a stored file, valid until now+ttl.
func (s *Signer) Link(blob, contentType, name string, now time.Time, ttl time.Duration) string {
	exp := strconv.FormatInt(now.Add(ttl).Unix(), 10)
	q := url.Values{"type": {contentType}, "name": {name}}
	return s.base + "/files/" + exp + "/" + s.sign(blob, contentType, name, exp) + "/" + blob + "?" + q.Encode()
}

// Valid reports whether a link's parts were signed here and have not expired.
func (s *Signer) Valid(blob, contentType, name, exp, sig string, now time.Time) bool {
	until, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || now.Unix() > until {
		return false
	}
	return hmac.Equal([]byte(sig), []byte(s.sign(blob, contentType, name, exp)))
}

func (s *Signer) sign(blob, contentType, name, exp string) string {
	mac := hmac.New(sha256.New, s.key)
	for _, part := range []string{blob, contentType, name, exp} {
		mac.Write([]byte(part))
		mac.Write([]byte{0})
	}
	return hex.EncodeToString(mac.Sum(nil))
}
