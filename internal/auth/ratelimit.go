package auth

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// failures counts failed attempts per key (an IP, an email) in token buckets:
// a key is blocked while its bucket is empty. Buckets idle long enough to be
// full again are forgotten, so memory stays bounded.
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

// blocked reports whether key has used up its failed attempts.
func (f *failures) blocked(key string, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.buckets[key]
	return ok && b.lim.TokensAt(now) < 1
}

// record counts one failed attempt of key.
func (f *failures) record(key string, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if now.Sub(f.swept) > time.Minute {
		refill := time.Duration(float64(f.burst) / float64(f.rate) * float64(time.Second))
		for k, b := range f.buckets {
			if now.Sub(b.used) > refill {
				delete(f.buckets, k)
			}
		}
		f.swept = now
	}
	b, ok := f.buckets[key]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(f.rate, f.burst)}
		f.buckets[key] = b
	}
	b.used = now
	b.lim.AllowN(now, 1)
}
