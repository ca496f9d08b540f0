package loadgen

import (
	"fmt"
	"slices"
	"sync/atomic"
	"time"
)

// Distribution summarises recorded durations exactly: every sample is kept
// and sorted, so percentiles are true order statistics (nearest rank), not
// histogram estimates.
type Distribution struct {
	N                       int
	Min, P50, P95, P99, Max time.Duration
	Mean                    time.Duration
}

// Summarize sorts samples in place and returns their distribution.
func Summarize(samples []time.Duration) Distribution {
	if len(samples) == 0 {
		return Distribution{}
	}
	slices.Sort(samples)
	var sum time.Duration
	for _, s := range samples {
		sum += s
	}
	return Distribution{
		N: len(samples), Min: samples[0], Max: samples[len(samples)-1], Mean: sum / time.Duration(len(samples)),
		P50: Percentile(samples, 50), P95: Percentile(samples, 95), P99: Percentile(samples, 99),
	}
}

// Percentile returns the nearest-rank p-th percentile of sorted samples: the
// smallest sample with at least p% of the samples at or below it.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(float64(len(sorted))*p/100 + 0.9999999999)
	rank = max(1, min(rank, len(sorted)))
	return sorted[rank-1]
}

func (d Distribution) String() string {
	if d.N == 0 {
		return "no samples"
	}
	return fmt.Sprintf("p50 %s  p95 %s  p99 %s  (min %s, mean %s, max %s; n=%d)",
		ms(d.P50), ms(d.P95), ms(d.P99), ms(d.Min), ms(d.Mean), ms(d.Max), d.N)
}

// ms formats a duration in milliseconds with a precision that suits it.
func ms(d time.Duration) string {
	f := float64(d) / float64(time.Millisecond)
	switch {
	case f < 10:
		return fmt.Sprintf("%.3f ms", f)
	case f < 1000:
		return fmt.Sprintf("%.1f ms", f)
	default:
		return fmt.Sprintf("%.0f ms", f)
	}
}

// chunkBits sizes the chunks of the per-message tables.
const (
	chunkBits = 16
	chunkSize = 1 << chunkBits
	maxChunks = 4096 // 268M messages, far more than any run
)

// table is a lock-free growable array of int64 indexed by message number.
// Chunks are allocated on first write; a missing chunk reads as zero.
type table struct {
	chunks [maxChunks]atomic.Pointer[[chunkSize]atomic.Int64]
}

func (t *table) chunk(n int64, create bool) *[chunkSize]atomic.Int64 {
	i := n >> chunkBits
	if i < 0 || i >= maxChunks {
		return nil
	}
	c := t.chunks[i].Load()
	if c == nil && create {
		c = new([chunkSize]atomic.Int64)
		if !t.chunks[i].CompareAndSwap(nil, c) {
			c = t.chunks[i].Load()
		}
	}
	return c
}

func (t *table) store(n, v int64) {
	if c := t.chunk(n, true); c != nil {
		c[n&(chunkSize-1)].Store(v)
	}
}

func (t *table) load(n int64) int64 {
	if c := t.chunk(n, false); c != nil {
		return c[n&(chunkSize-1)].Load()
	}
	return 0
}

func (t *table) add(n, d int64) int64 {
	if c := t.chunk(n, true); c != nil {
		return c[n&(chunkSize-1)].Add(d)
	}
	return 0
}

// storeMin stores v at n if the slot is empty (zero) or holds more than v.
func (t *table) storeMin(n, v int64) {
	c := t.chunk(n, true)
	if c == nil {
		return
	}
	slot := &c[n&(chunkSize-1)]
	for {
		old := slot.Load()
		if old != 0 && old <= v {
			return
		}
		if slot.CompareAndSwap(old, v) {
			return
		}
	}
}
