package auth

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// failures limits failed attempts per key (an IP, an email) with token
// buckets. An attempt takes a token before its outcome is known, so that
// concurrent guesses cannot all slip through; a success gives it back.
// Buckets idle long enough to be full again are forgotten, so memory stays
// bounded.
type failures struct {
	mu      sync.Mutex
	rate    rate.Limit
	burst   int
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	used time.Time
}

func newFailures(perMinute, burst int) *failures {
	return &failures{rate: rate.Limit(float64(perMinute) / 60), burst: burst, buckets: map[string]*bucket{}}
}

// attempt takes a token for key. It reports false when the key has used up
// its failures; otherwise the caller calls succeeded when the attempt did not
// fail, which returns the token.
func (f *failures) attempt(key string, now time.Time) (succeeded func(), ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sweep(now)
	b, found := f.buckets[key]
	if !found {
		b = &bucket{lim: rate.NewLimiter(f.rate, f.burst)}
		f.buckets[key] = b
	}
	b.used = now
	r := b.lim.ReserveN(now, 1)
	if !r.OK() || r.DelayFrom(now) > 0 {
		r.CancelAt(now)
		return nil, false
	}
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		r.CancelAt(now)
	}, true
}

func (f *failures) sweep(now time.Time) {
	if now.Sub(f.swept) < time.Minute {
		return
	}
	refill := time.Duration(float64(f.burst) / float64(f.rate) * float64(time.Second))
	for k, b := range f.buckets {
		if now.Sub(b.used) > refill {
			delete(f.buckets, k)
		}
	}
	f.swept = now
}
