package httpapi

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// WidgetLimits are the rates the public widget endpoints allow.
type WidgetLimits struct {
	// PerIP is requests per second from one address, with a burst of three
	// seconds' worth (a page load makes two or three calls).
	PerIP float64
	// PerVisitor is messages per second one visitor may send (burst 10).
	PerVisitor float64
}

// DefaultWidgetLimits suit a public site; load tests raise them.
var DefaultWidgetLimits = WidgetLimits{PerIP: 20, PerVisitor: 1}

// keyedLimiter keeps a token bucket per key, forgetting idle ones.
type keyedLimiter[K comparable] struct {
	every rate.Limit
	burst int

	mu    sync.Mutex
	m     map[K]*entry
	swept time.Time
}

type entry struct {
	l    *rate.Limiter
	used time.Time
}

func newKeyedLimiter[K comparable](perSecond float64, burst int) *keyedLimiter[K] {
	return &keyedLimiter[K]{every: rate.Limit(perSecond), burst: burst, m: map[K]*entry{}, swept: time.Now()}
}

func (k *keyedLimiter[K]) allow(key K) bool {
	now := time.Now()
	k.mu.Lock()
	defer k.mu.Unlock()
	if now.Sub(k.swept) > time.Minute {
		// A bucket idle this long is full again: forgetting it changes nothing.
		for key, e := range k.m {
			if now.Sub(e.used) > time.Minute {
				delete(k.m, key)
			}
		}
		k.swept = now
	}
	e := k.m[key]
	if e == nil {
		e = &entry{l: rate.NewLimiter(k.every, k.burst)}
		k.m[key] = e
	}
	e.used = now
	return e.l.AllowN(now, 1)
}

// widgetLimiter holds the widget's rate limits.
type widgetLimiter struct {
	ip      *keyedLimiter[string]
	visitor *keyedLimiter[int64]
	typing  *keyedLimiter[int64]
}

func newWidgetLimiter(l WidgetLimits) *widgetLimiter {
	return &widgetLimiter{
		ip:      newKeyedLimiter[string](l.PerIP, int(max(3*l.PerIP, 10))),
		visitor: newKeyedLimiter[int64](l.PerVisitor, 10),
		typing:  newKeyedLimiter[int64](0.5, 1),
	}
}

func (w *widgetLimiter) allowIP(ip string) bool     { return w.ip.allow(ip) }
func (w *widgetLimiter) allowVisitor(id int64) bool { return w.visitor.allow(id) }
func (w *widgetLimiter) allowTyping(id int64) bool  { return w.typing.allow(id) }
