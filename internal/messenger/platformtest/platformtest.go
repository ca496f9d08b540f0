// Package platformtest holds what the tests of the messaging platforms
// share: fixtures in testdata, golden parses, fuzzing rules, a webhook
// endpoint, signature and handshake checks, and common assertions. Only
// tests import it.
package platformtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/messenger"
)

// Fixture is the file name in the test's testdata folder.
func Fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Glob names the fixtures in testdata that match pattern; there must be some.
func Glob(t testing.TB, pattern string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixture matches %s: %v", pattern, err)
	}
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = filepath.Base(p)
	}
	return names
}

// Dump shows updates in failure messages.
func Dump(us ...messenger.Update) string {
	b, _ := json.Marshal(us)
	return string(b)
}

// NoSecret fails when err's text holds a secret of acc, or one of more.
func NoSecret(t testing.TB, err error, acc messenger.Account, more ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range append(slices.Collect(maps.Values(acc.Secrets)), more...) {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("error text holds a secret: %q", err)
		}
	}
}

// Redacted fails unless err is an error whose text holds no secret of acc,
// nor one of more.
func Redacted(t testing.TB, err error, acc messenger.Account, more ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	NoSecret(t, err, acc, more...)
}

// ErrField is what an error of Connect blames: the field of an *errs.Error,
// or "unavailable" when the platform could not be asked.
func ErrField(err error) string {
	var e *errs.Error
	if !errors.As(err, &e) {
		return fmt.Sprintf("not an errs.Error: %v", err)
	}
	if e.Kind == errs.ErrUnavailable {
		return "unavailable"
	}
	return e.Field
}

// SendError is err as a *SendError; the test stops when it is none.
func SendError(t testing.TB, err error) *messenger.SendError {
	t.Helper()
	se := messenger.AsSendError(err)
	if se == nil {
		t.Fatalf("err = %v, want a SendError", err)
	}
	return se
}

// Unreachable checks err from Send to an API nobody answers: a plain error,
// which the outbox retries, naming no secret of acc, nor one of more.
func Unreachable(t testing.TB, err error, acc messenger.Account, more ...string) {
	t.Helper()
	if err == nil || messenger.AsSendError(err) != nil {
		t.Errorf("unreachable: %v, want a network error", err)
	}
	NoSecret(t, err, acc, more...)
}

// Required checks that Connect blames each of fields when it is left blank:
// a secret of spaces, or an empty public field.
func Required(t *testing.T, p messenger.Platform, acc messenger.Account, fields ...string) {
	t.Helper()
	for _, f := range fields {
		a := clone(acc)
		if _, ok := a.Secrets[f]; ok {
			a.Secrets[f] = " "
		} else {
			a.Public[f] = ""
		}
		if _, err := p.Connect(context.Background(), a, ""); ErrField(err) != f {
			t.Errorf("missing %s: %v", f, err)
		}
	}
}

// SendConcurrently calls send n times at once; each must return a new id.
func SendConcurrently(t *testing.T, n int, send func(i int) (string, error)) {
	t.Helper()
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			id, err := send(i)
			if err != nil {
				t.Error(err)
			}
			ids[i] = id
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, id := range ids {
		if id == "" || seen[id] {
			t.Errorf("id %q empty or repeated", id)
		}
		seen[id] = true
	}
}

// JSONEqual fails unless got and want are the same JSON value.
func JSONEqual(t testing.TB, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("not JSON: %s", got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// DeadURL is a URL where nothing answers.
func DeadURL(t testing.TB) string {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	return srv.URL
}

// clone copies acc's maps, so a test may change the copy.
func clone(acc messenger.Account) messenger.Account {
	acc.Public, acc.Secrets = maps.Clone(acc.Public), maps.Clone(acc.Secrets)
	if acc.Public == nil {
		acc.Public = map[string]string{}
	}
	if acc.Secrets == nil {
		acc.Secrets = map[string]string{}
	}
	return acc
}
