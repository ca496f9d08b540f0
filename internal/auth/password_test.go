package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

// SetClock replaces the clock of s. It is defined in a test file of package
// auth so that the tests of package auth_test, which run against the real
// store (package store imports auth), can drive time.
func SetClock(s *Service, now func() time.Time) { s.now = now }

func TestPasswordHashVerifyRoundTrip(t *testing.T) {
	ctx := t.Context()
	p := NewPasswords(2)
	hash, err := p.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	prefix := fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$", argon2.Version, argonMemory, argonTime, argonThreads)
	if !strings.HasPrefix(hash, prefix) || strings.Count(hash, "$") != 5 {
		t.Errorf("hash %q is not a PHC argon2id string starting %q", hash, prefix)
	}
	if strings.Contains(hash, "correct horse") {
		t.Errorf("hash %q contains the password", hash)
	}
	for _, tc := range []struct {
		password string
		want     bool
	}{
		{"correct horse battery staple", true},
		{"correct horse battery stapl", false},
		{"Correct horse battery staple", false},
		{"", false},
	} {
		ok, err := p.Verify(ctx, hash, tc.password)
		if err != nil || ok != tc.want {
			t.Errorf("Verify(%q) = %v, %v; want %v, nil", tc.password, ok, err, tc.want)
		}
	}
}

func TestPasswordHashesAreSalted(t *testing.T) {
	ctx := t.Context()
	p := NewPasswords(1)
	a, err := p.Hash(ctx, "same password")
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Hash(ctx, "same password")
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Errorf("two hashes of one password are equal: %q", a)
	}
}

// phc builds an argon2id hash with the given parameters, cheap ones for tests.
func phc(password string, salt []byte, memory, time uint32, threads uint8) string {
	key := argon2.IDKey([]byte(password), salt, time, memory, threads, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, memory, time, threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

func TestPasswordVerifyUsesTheParametersOfTheHash(t *testing.T) {
	// Hashes made with other (older, cheaper) parameters keep working.
	hash := phc("old password", []byte("0123456789abcdef"), 64, 1, 2)
	p := NewPasswords(1)
	if ok, err := p.Verify(t.Context(), hash, "old password"); err != nil || !ok {
		t.Errorf("Verify with the right password = %v, %v", ok, err)
	}
	if ok, err := p.Verify(t.Context(), hash, "new password"); err != nil || ok {
		t.Errorf("Verify with a wrong password = %v, %v", ok, err)
	}
}

func TestPasswordVerifyRejectsMalformedHashes(t *testing.T) {
	good := phc("pw", []byte("0123456789abcdef"), 64, 1, 1)
	parts := strings.Split(good, "$")
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	tests := map[string]string{
		"empty":                "",
		"plain text":           "hunter22",
		"bcrypt":               "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"argon2i":              with(1, "argon2i"),
		"too few parts":        strings.Join(parts[:5], "$"),
		"too many parts":       good + "$extra",
		"other version":        with(2, "v=16"),
		"no version":           with(2, "x"),
		"no parameters":        with(3, ""),
		"garbled parameters":   with(3, "m=x,t=1,p=1"),
		"salt not base64":      with(4, "!!!"),
		"key not base64":       with(5, "!!!"),
		"empty key":            with(5, ""),
		"zero passes":          with(3, "m=64,t=0,p=1"),
		"zero threads":         with(3, "m=64,t=1,p=0"),
		"threads out of range": with(3, "m=64,t=1,p=256"),
	}
	for name, hash := range tests {
		t.Run(name, func(t *testing.T) {
			p := NewPasswords(1)
			ok, err := verifyNoPanic(t, p, hash, "pw")
			if err == nil || ok {
				t.Errorf("Verify(%q) = %v, %v; want false and an error", hash, ok, err)
			}
			if len(p.slots) != 0 {
				t.Errorf("Verify(%q) kept its slot: the next hash would wait forever", hash)
			}
		})
	}
}

// verifyNoPanic turns a panic of Verify into an error of the test.
func verifyNoPanic(t *testing.T, p *Passwords, hash, password string) (ok bool, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("Verify(%q) panicked: %v", hash, r)
			ok, err = false, errors.New("panicked")
		}
	}()
	return p.Verify(t.Context(), hash, password)
}

func TestPasswordsWaitForASlotAndGiveUpWithTheContext(t *testing.T) {
	p := NewPasswords(1)
	p.slots <- struct{}{} // the only slot is busy
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := p.Hash(ctx, "password"); !errors.Is(err, context.Canceled) {
		t.Errorf("Hash with every slot busy and a cancelled context: %v", err)
	}
	good := phc("pw", []byte("0123456789abcdef"), 64, 1, 1)
	if ok, err := p.Verify(ctx, good, "pw"); !errors.Is(err, context.Canceled) || ok {
		t.Errorf("Verify with every slot busy and a cancelled context: %v, %v", ok, err)
	}
	<-p.slots
	if ok, err := p.Verify(t.Context(), good, "pw"); err != nil || !ok {
		t.Errorf("Verify once the slot is free: %v, %v", ok, err)
	}
	if len(p.slots) != 0 {
		t.Errorf("Verify kept its slot")
	}
	if NewPasswords(0).slots == nil || cap(NewPasswords(0).slots) != 1 {
		t.Errorf("NewPasswords(0) does not allow one hash at a time")
	}
}

func TestHashToken(t *testing.T) {
	a, b := HashToken("token-a"), HashToken("token-b")
	if a != HashToken("token-a") {
		t.Error("HashToken is not deterministic")
	}
	if a == b || len(a) != 64 || strings.Trim(a, "0123456789abcdef") != "" {
		t.Errorf("HashToken gave %q and %q", a, b)
	}
	// The hash of the empty token is a well-known constant; it must not be empty.
	if HashToken("") != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("HashToken is not hex SHA-256: %q", HashToken(""))
	}
}

func TestFailures(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	f := newFailures(5, 3) // 5 a minute after a burst of 3
	fail := func(key string, at time.Time) bool {
		_, ok := f.attempt(key, at)
		return ok
	}
	for i := range 3 {
		if !fail("a", t0) {
			t.Fatalf("attempt %d refused within the burst of 3", i+1)
		}
	}
	if fail("a", t0) {
		t.Error("attempt allowed after the burst of failures")
	}
	if !fail("b", t0) {
		t.Error("another key shares the bucket")
	}
	// 5 a minute: one failure more every 12 s.
	if fail("a", t0.Add(11*time.Second)) {
		t.Error("allowed before a failure refilled")
	}
	if !fail("a", t0.Add(12*time.Second)) {
		t.Error("refused after a failure refilled")
	}
	if fail("a", t0.Add(12*time.Second)) {
		t.Error("one refilled failure allowed two")
	}

	// Successes give their token back: they never use up the bucket.
	for i := range 10 {
		succeeded, ok := f.attempt("s", t0)
		if !ok {
			t.Fatalf("attempt %d after %d successes refused", i+1, i)
		}
		succeeded()
	}

	// Buckets idle long enough to be full again are forgotten.
	fail("c", t0.Add(10*time.Minute))
	f.mu.Lock()
	_, keptA := f.buckets["a"]
	_, keptC := f.buckets["c"]
	f.mu.Unlock()
	if keptA || !keptC {
		t.Errorf("after a sweep: bucket a kept %v (want false), bucket c kept %v (want true)", keptA, keptC)
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"", 3, ""}, {"abc", 3, "abc"}, {"abcd", 3, "abc"},
		// A character cut in half is dropped, not stored as invalid UTF-8.
		{"abé", 3, "ab"}, {"abé", 4, "abé"}, {"a€", 3, "a"},
	} {
		if got := truncate(tc.in, tc.n); got != tc.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
