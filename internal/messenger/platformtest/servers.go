package platformtest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/switchboard-hq/switchboard/internal/messenger"
)

// Hook is a webhook endpoint doing with a platform what Switchboard's does:
// a GET is the handshake (403 when refused); a POST is verified (401),
// parsed (400) and its updates kept, but an Answer is the response body. A
// URL /hooks/{kind}/{id}/{secret} passes its secret in PathSecretHeader.
type Hook struct {
	*httptest.Server
	mu  sync.Mutex
	acc messenger.Account
	got []messenger.Update
}

// NewHook is p's webhook for acc, closed when the test ends.
func NewHook(t testing.TB, p messenger.Platform, acc messenger.Account) *Hook {
	h := &Hook{acc: acc}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Header.Del(messenger.PathSecretHeader)
		if parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/"); len(parts) == 4 && parts[0] == "hooks" {
			r.Header.Set(messenger.PathSecretHeader, parts[3])
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		if r.Method == http.MethodGet {
			answer, ok := p.Handshake(h.acc, r.URL.Query())
			if !ok {
				http.Error(w, "handshake refused", http.StatusForbidden)
				return
			}
			_, _ = io.WriteString(w, answer)
			return
		}
		if err := p.Verify(h.acc, r.Header, body); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		us, err := p.Parse(h.acc, body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for _, u := range us {
			if u.Kind == messenger.Answer {
				_, _ = io.WriteString(w, u.Answer)
			} else {
				h.got = append(h.got, u)
			}
		}
	}))
	t.Cleanup(h.Close)
	return h
}

// SetAccount changes the account the hook verifies and parses for (the one
// Connect returned).
func (h *Hook) SetAccount(acc messenger.Account) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.acc = acc
}

// Updates are the updates received so far, Answers left out.
func (h *Hook) Updates() []messenger.Update {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]messenger.Update(nil), h.got...)
}

// ReadResponse returns a reader of responses: it stops the test on a
// request error, and returns the status code and the body.
func ReadResponse(t testing.TB) func(*http.Response, error) (int, string) {
	return func(resp *http.Response, err error) (int, string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
}

// Foreign is a server on a host no platform may fetch from: the test fails
// at its end if the server was asked anything.
func Foreign(t testing.TB) *httptest.Server {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.WriteString(w, "foreign bytes")
	}))
	t.Cleanup(func() {
		srv.Close()
		if n := hits.Load(); n != 0 {
			t.Errorf("the foreign host was asked %d times", n)
		}
	})
	return srv
}

// Recorder is an API answering every request with one JSON body; it keeps
// the last request.
type Recorder struct {
	*httptest.Server
	mu   sync.Mutex
	req  *http.Request
	body []byte
}

// Record is a Recorder answering answer, closed when the test ends.
func Record(t testing.TB, answer []byte) *Recorder {
	rec := &Recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.req, rec.body = r.Clone(context.Background()), body
		rec.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(answer)
	}))
	t.Cleanup(rec.Close)
	return rec
}

// Last is the last request and its body.
func (rec *Recorder) Last() (*http.Request, []byte) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.req == nil {
		return &http.Request{URL: &url.URL{}, Header: http.Header{}}, nil
	}
	return rec.req, rec.body
}

// AllowedHosts checks allowed on each URL of hosts: whether files may come
// from there.
func AllowedHosts(t *testing.T, allowed func(*url.URL) bool, hosts map[string]bool) {
	t.Helper()
	for raw, want := range hosts {
		u, err := url.Parse(raw)
		if err != nil {
			t.Errorf("%s: %v", raw, err)
			continue
		}
		if got := allowed(u); got != want {
			t.Errorf("%s: %v", raw, got)
		}
	}
}
