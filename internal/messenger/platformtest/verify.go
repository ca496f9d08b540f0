package platformtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/messenger"
)

// Signature is a platform's worked example of a signed webhook, written up
// in testdata/SIGNING.md: an HMAC-SHA256 of the exact body bytes.
type Signature struct {
	Platform messenger.Platform
	Account  messenger.Account
	Secret   string // the field of Account.Secrets keying the HMAC
	Header   string // the header that carries the signature
	Prefix   string // before the hex digest ("sha256=" at Meta)
	Fixture  string // the signed body in testdata
	Size     int    // its size, as SIGNING.md says
	Hex      string // its signature, as SIGNING.md says
	// ErrNo and ErrBad are what Verify returns for a missing and a wrong
	// signature.
	ErrNo, ErrBad error
	Sign          func(secret string, body []byte) string // the fake's signing
}

// Check checks Verify with the example: the exact bytes with the header
// pass; other bytes of the same JSON value, another digest, a malformed
// header or another secret do not.
func (s Signature) Check(t *testing.T) {
	t.Helper()
	raw, doc := Fixture(t, s.Fixture), Fixture(t, "SIGNING.md")
	if len(raw) != s.Size || !bytes.Contains(doc, fmt.Appendf(nil, "%d bytes", s.Size)) || !bytes.Contains(doc, []byte(s.Hex)) {
		t.Fatalf("%s is %d bytes; SIGNING.md names another size or signature", s.Fixture, len(raw))
	}
	verify := func(acc messenger.Account, sig string, body []byte) error {
		h := http.Header{}
		if sig != "" {
			h.Set(s.Header, sig)
		}
		return s.Platform.Verify(acc, h, body)
	}
	good := s.Prefix + s.Hex
	for _, sig := range []string{good, s.Prefix + strings.ToUpper(s.Hex)} {
		if err := verify(s.Account, sig, raw); err != nil {
			t.Errorf("%q refused: %v", sig, err)
		}
	}
	if got := s.Sign(s.Account.Secrets[s.Secret], raw); got != good {
		t.Errorf("the fake signs %s", got)
	}
	if err := verify(s.Account, "", raw); !errors.Is(err, s.ErrNo) {
		t.Errorf("no header: %v", err)
	}
	changed := []byte(s.Hex)
	changed[10] = map[bool]byte{true: 'd', false: 'c'}[changed[10] == 'c']
	if err := verify(s.Account, s.Prefix+string(changed), raw); !errors.Is(err, s.ErrBad) {
		t.Errorf("one digit changed: %v", err)
	}

	// The same JSON value in other bytes parses alike, but is not signed.
	reencoded, remarshalled := reserialise(t, raw)
	want, err := s.Platform.Parse(s.Account, raw)
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string][]byte{"re-encoded": reencoded, "re-marshalled": remarshalled, "a byte short": raw[:len(raw)-1]} {
		if bytes.Equal(body, raw) {
			t.Fatalf("%s body has the same bytes", name)
		}
		if err := verify(s.Account, good, body); !errors.Is(err, s.ErrBad) {
			t.Errorf("%s body: %v", name, err)
		}
		if got, err := s.Platform.Parse(s.Account, body); name != "a byte short" && (err != nil || !reflect.DeepEqual(got, want)) {
			t.Errorf("%s body parses to %s %v", name, Dump(got...), err)
		}
	}

	bad := []string{s.Prefix + s.Hex[:62], s.Prefix + "zz" + s.Hex[2:], good + "00", "sha1=" + s.Hex, "SHA256=" + s.Hex}
	if s.Prefix == "" {
		bad = append(bad, "sha256="+s.Hex)
	} else {
		bad = append(bad, s.Hex, s.Prefix, s.Prefix+" "+s.Hex)
	}
	for _, sig := range bad {
		if err := verify(s.Account, sig, raw); err == nil {
			t.Errorf("header %q accepted", sig)
		}
	}
	// Meta's legacy SHA-1 header is not the signature.
	if err := s.Platform.Verify(s.Account, http.Header{"X-Hub-Signature": {"sha1=0123456789abcdef0123456789abcdef01234567"}}, raw); !errors.Is(err, s.ErrNo) {
		t.Errorf("sha1 header only: %v", err)
	}

	acc := clone(s.Account)
	acc.Secrets[s.Secret] = "another secret"
	if err := verify(acc, good, raw); err == nil {
		t.Error("accepted with another secret")
	}
	delete(acc.Secrets, s.Secret)
	if err := verify(acc, good, raw); err == nil {
		t.Error("accepted without a secret")
	}
}

// reserialise decodes a JSON body and encodes it again, without and with
// Go's HTML escaping.
func reserialise(t testing.TB, raw []byte) (reencoded, remarshalled []byte) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	remarshalled, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), remarshalled
}

// MetaHandshake checks Meta's verification request: the challenge comes
// back for hub.mode subscribe with the account's verify token (the secret
// tokenField), and for nothing else.
func MetaHandshake(t *testing.T, p messenger.Platform, acc messenger.Account, tokenField string) {
	t.Helper()
	token := acc.Secrets[tokenField]
	q := func(mode, token, challenge string) url.Values {
		return url.Values{"hub.mode": {mode}, "hub.verify_token": {token}, "hub.challenge": {challenge}}
	}
	if body, ok := p.Handshake(acc, q("subscribe", token, "1158201444")); !ok || body != "1158201444" {
		t.Errorf("right token: %q %v", body, ok)
	}
	refused := map[string]url.Values{
		"wrong token":    q("subscribe", "wrong", "1158201444"),
		"prefix token":   q("subscribe", token[:5], "1158201444"),
		"wrong mode":     q("unsubscribe", token, "1158201444"),
		"no challenge":   q("subscribe", token, ""),
		"long challenge": q("subscribe", token, strings.Repeat("1", 513)),
		"nothing":        {},
	}
	for name, secret := range acc.Secrets {
		if name != tokenField {
			refused[name+" as the token"] = q("subscribe", secret, "1")
		}
	}
	for name, v := range refused {
		if body, ok := p.Handshake(acc, v); ok || body != "" {
			t.Errorf("%s: %q %v", name, body, ok)
		}
	}
	acc = clone(acc)
	acc.Secrets[tokenField] = ""
	if _, ok := p.Handshake(acc, q("subscribe", "", "1")); ok {
		t.Error("empty verify token accepted")
	}
}

// SecretHeader checks Verify of a platform whose webhooks carry the
// channel's secret (the secret field) in header: only the exact secret
// passes, whatever the body's bytes, and a refusal is a 401 naming no secret.
func SecretHeader(t *testing.T, p messenger.Platform, acc messenger.Account, header, field string, body []byte) {
	t.Helper()
	secret := acc.Secrets[field]
	h := func(v string) http.Header {
		hdr := http.Header{}
		if v != "" {
			hdr.Set(header, v)
		}
		return hdr
	}
	_, reserialised := reserialise(t, body)
	if bytes.Equal(reserialised, body) {
		t.Fatal("re-serialising did not change the bytes")
	}
	for _, b := range [][]byte{body, reserialised} {
		if err := p.Verify(acc, h(secret), b); err != nil {
			t.Errorf("the right secret is refused: %v", err)
		}
	}
	last := map[bool]string{true: "1", false: "0"}[strings.HasSuffix(secret, "0")]
	for name, v := range map[string]string{
		"missing": "", "wrong": secret[:len(secret)-1] + last, "prefix": secret[:len(secret)/2],
		"longer": secret + "0", "upper case": strings.ToUpper(secret),
	} {
		if v == secret {
			continue
		}
		err := p.Verify(acc, h(v), body)
		if !errors.Is(err, errs.ErrUnauthenticated) {
			t.Errorf("%s secret: %v, want unauthenticated (401)", name, err)
		}
		NoSecret(t, err, acc)
	}
	without := clone(acc)
	delete(without.Secrets, field)
	if err := p.Verify(without, h(""), body); err == nil {
		t.Error("a channel without a webhook secret accepts anything")
	}
}
