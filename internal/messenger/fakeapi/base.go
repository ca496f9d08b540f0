// Package fakeapi is the scaffolding shared by the fake platform servers that
// tests use in place of Telegram, WhatsApp, Messenger, Instagram, Viber, VK
// and OK (telegramtest, whatsapptest, …), so that each fake keeps only what
// its platform does: the httptest.Server, one lock for the fake's state, the
// switch that takes the platform down, scripted failures of the next calls,
// call logs, files served as a CDN would, and posting webhooks.
package fakeapi

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
)

// Base is embedded by every fake. Its lock also guards the fake's own state
// (f.Lock() … f.Unlock()), so that a fake needs no mutex of its own. It is
// safe for concurrent use.
type Base struct {
	mu    sync.Mutex
	srv   *httptest.Server
	down  bool
	fails []*failure
}

// failure is a scripted answer for the next calls named any of calls.
type failure struct {
	calls  []string
	left   int
	status int
	body   string
}

// Lock locks the fake's state.
func (b *Base) Lock() { b.mu.Lock() }

// Unlock unlocks the fake's state.
func (b *Base) Unlock() { b.mu.Unlock() }

// Start serves h on a new httptest.Server, closed when the test ends, and
// returns the server's URL.
func (b *Base) Start(t testing.TB, h http.Handler) string {
	b.srv = httptest.NewServer(h)
	t.Cleanup(b.srv.Close)
	return b.srv.URL
}

// ServerURL is the URL Start returned: the server's root, where a fake's URL
// may add the path of the platform's API.
func (b *Base) ServerURL() string { return b.srv.URL }

// SetDown makes every request answer 502 Bad Gateway while down, as a
// platform's front end does when the service behind it is out.
func (b *Base) SetDown(down bool) {
	b.Lock()
	defer b.Unlock()
	b.down = down
}

// RefuseWhileDown answers 502 and reports true while the fake is down: with
// page as HTML (a platform's front end page), or a plain "Bad Gateway" when
// page is empty.
func (b *Base) RefuseWhileDown(w http.ResponseWriter, page string) bool {
	b.Lock()
	down := b.down
	b.Unlock()
	if !down {
		return false
	}
	if page == "" {
		http.Error(w, "Bad Gateway", http.StatusBadGateway)
		return true
	}
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(http.StatusBadGateway)
	_, _ = w.Write([]byte(page))
	return true
}

// GatewayPage is the 502 page of an nginx front end.
const GatewayPage = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\n"

// QueueFailures makes the next n calls named any of calls answer status with
// body (see NextFailure), after the failures queued before for them; the n
// calls are counted together.
func (b *Base) QueueFailures(n, status int, body string, calls ...string) {
	b.Lock()
	defer b.Unlock()
	b.fails = append(b.fails, &failure{calls: calls, left: n, status: status, body: body})
}

// ReplaceFailures makes the next n calls named call answer status with body,
// dropping what was queued for call before (n = 0 just drops it).
func (b *Base) ReplaceFailures(call string, n, status int, body string) {
	b.Lock()
	defer b.Unlock()
	b.fails = slices.DeleteFunc(b.fails, func(x *failure) bool { return slices.Contains(x.calls, call) })
	b.fails = append(b.fails, &failure{calls: []string{call}, left: n, status: status, body: body})
}

// NextFailure spends one of the failures scripted for call and returns its
// status and body; ok is false when none is left, and the call goes on.
func (b *Base) NextFailure(call string) (status int, body string, ok bool) {
	b.Lock()
	defer b.Unlock()
	for _, x := range b.fails {
		if x.left > 0 && slices.Contains(x.calls, call) {
			x.left--
			return x.status, x.body, true
		}
	}
	return 0, "", false
}

// Snapshot copies the list a fake keeps under l (its Base), for a test to read
// while the fake goes on appending.
func Snapshot[T any](l sync.Locker, list *[]T) []T {
	l.Lock()
	defer l.Unlock()
	return append([]T(nil), *list...)
}

// SnapshotWith is Snapshot of items that share memory with the fake (slices
// within), each copied by clone.
func SnapshotWith[T any](l sync.Locker, list *[]T, clone func(T) T) []T {
	l.Lock()
	defer l.Unlock()
	out := make([]T, len(*list))
	for i, x := range *list {
		out[i] = clone(x)
	}
	return out
}

// CallLog lists the calls a fake answered (methods, endpoints, downloads), in
// order, including the ones answered with an error. It is safe for
// concurrent use.
type CallLog struct {
	mu    sync.Mutex
	calls []string
}

// Add notes one call.
func (c *CallLog) Add(call string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, call)
}

// List is the calls noted so far.
func (c *CallLog) List() []string { return Snapshot(&c.mu, &c.calls) }
