package schedule

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// reference is a slow, independent reading of the rules: it lists every shift
// of every day by brute force, finding wall-clock instants by scanning the time
// line minute by minute.
type reference struct {
	s   Schedule
	loc *time.Location
}

func ref(s Schedule) reference {
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil {
		panic(err)
	}
	return reference{s, loc}
}

var refCache sync.Map // "zone y-m-d minute" → time.Time

// wall is the first instant at which loc's clock reads y-m-d 00:00 + minutes
// or later. Offsets are at most +14 h, so scanning starts 15 h early.
func (r reference) wall(y int, m time.Month, d, minutes int) time.Time {
	key := fmt.Sprint(r.loc, y, m, d, minutes)
	if v, ok := refCache.Load(key); ok {
		return v.(time.Time)
	}
	naive := time.Date(y, m, d, 0, minutes, 0, 0, time.UTC)
	for t := naive.Add(-15 * time.Hour); ; t = t.Add(time.Minute) {
		lt := t.In(r.loc)
		if !time.Date(lt.Year(), lt.Month(), lt.Day(), lt.Hour(), lt.Minute(), 0, 0, time.UTC).Before(naive) {
			refCache.Store(key, t)
			return t
		}
	}
}

func (r reference) holiday(y int, m time.Month, d int) bool {
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	md := int(m)*100 + d
	for _, h := range r.s.Holidays {
		f, l := h.From, h.Last()
		if h.Yearly {
			fm, lm := int(f.Month)*100+f.Day, int(l.Month)*100+l.Day
			if fm <= lm && md >= fm && md <= lm || fm > lm && (md >= fm || md <= lm) {
				return true
			}
			continue
		}
		if !day.Before(time.Date(f.Year, f.Month, f.Day, 0, 0, 0, 0, time.UTC)) &&
			!day.After(time.Date(l.Year, l.Month, l.Day, 0, 0, 0, 0, time.UTC)) {
			return true
		}
	}
	return false
}

// spans are the open spans of the shifts starting on the local days from
// the day before from's to the day after to's.
func (r reference) spans(from, to time.Time) [][2]time.Time {
	var out [][2]time.Time
	y, m, d := from.In(r.loc).Date()
	first := time.Date(y, m, d-1, 12, 0, 0, 0, time.UTC)
	y, m, d = to.In(r.loc).Date()
	last := time.Date(y, m, d+1, 12, 0, 0, 0, time.UTC)
	for day := first; !day.After(last); day = day.AddDate(0, 0, 1) {
		y, m, d := day.Date()
		if r.holiday(y, m, d) {
			continue
		}
		for _, iv := range r.s.Week {
			if iv.Day != day.Weekday() {
				continue
			}
			end := int(iv.End)
			if iv.End <= iv.Start {
				end += 24 * 60
			}
			a, b := r.wall(y, m, d, int(iv.Start)), r.wall(y, m, d, end)
			if a.Before(b) {
				out = append(out, [2]time.Time{a, b})
			}
		}
	}
	return out
}

func (r reference) businessTime(from, to time.Time) time.Duration {
	var total time.Duration
	for _, s := range r.spans(from, to) {
		a, b := s[0], s[1]
		if a.Before(from) {
			a = from
		}
		if b.After(to) {
			b = to
		}
		if b.After(a) {
			total += b.Sub(a)
		}
	}
	return total
}

func (r reference) isOpen(t time.Time) bool {
	for _, s := range r.spans(t, t) {
		if !t.Before(s[0]) && t.Before(s[1]) {
			return true
		}
	}
	return false
}

// TestInstant checks wall clock → instant around DST changes whatever zone
// segment the walker has cached: one long before, just before, or after (so
// that a repeated hour must still resolve to its first pass).
func TestInstant(t *testing.T) {
	for _, tc := range []struct {
		zone string
		at   time.Time // near a change
	}{
		{"Europe/Berlin", utc("2025-03-30 01:00")}, {"Europe/Berlin", utc("2025-10-26 01:00")},
		{"America/New_York", utc("2025-03-09 07:00")}, {"America/New_York", utc("2025-11-02 06:00")},
		{"Australia/Lord_Howe", utc("2025-04-05 15:00")}, {"Australia/Lord_Howe", utc("2025-10-04 15:30")},
		{"Pacific/Apia", utc("2011-12-30 10:00")}, {"Europe/Berlin", utc("2040-12-31 12:00")},
	} {
		s := Schedule{Name: "x", TimeZone: tc.zone}
		c := compile(t, s)
		r := ref(s)
		for dt := -30 * time.Hour; dt <= 30*time.Hour; dt += 30 * time.Minute {
			lt := tc.at.Add(dt).In(r.loc)
			y, m, d := lt.Date()
			minutes := lt.Hour()*60 + lt.Minute()
			l := daysFromCivil(int64(y), int(m), d)*daySeconds + int64(minutes)*60
			want := r.wall(y, m, d, minutes).Unix()
			for _, seed := range []time.Duration{-60 * time.Hour, -26 * time.Hour, -2 * time.Hour, 0, 2 * time.Hour, 30 * time.Hour} {
				w := c.walk(tc.at.Add(dt + seed))
				if got := w.instant(l); got != want {
					t.Fatalf("%s: instant(%v) with the zone of %v cached = %v, want %v", tc.zone, lt,
						tc.at.Add(dt+seed), time.Unix(got, 0).UTC(), time.Unix(want, 0).UTC())
				}
			}
		}
	}
}

// randomSchedule makes a valid schedule of random, non-overlapping shifts
// (some overnight, some touching) and random holidays in zone tz.
func randomSchedule(rng *rand.Rand, tz string) Schedule {
	s := Schedule{Name: "random", TimeZone: tz}
	const week = 7 * 24 * 60
	// cut points on the weekly cycle in 30-minute steps; shifts between
	// alternate (or, sometimes, consecutive) points
	n := 2 + rng.IntN(12)
	points := map[int]bool{}
	for len(points) < 2*n {
		points[rng.IntN(week/30)*30] = true
	}
	var ps []int
	for p := range points {
		ps = append(ps, p)
	}
	for i := range ps { // insertion sort keeps it dependency free
		for j := i; j > 0 && ps[j] < ps[j-1]; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
	off := rng.IntN(2)            // start with an open or a closed stretch
	rot := rng.IntN(week/30) * 30 // turn the week so that shifts may wrap Saturday into Sunday
	for i := off; i+1 < len(ps); i += 2 {
		a, b := ps[i], ps[i+1]
		// a shift is at most 23:30 long; longer stretches become several
		for a < b {
			l := min(b-a, 23*60+30)
			if rng.IntN(3) == 0 && l > 60 {
				l = 30 + rng.IntN(l/30)*30 // touching pieces
			}
			r := (a + rot) % week
			day, start := r/(24*60), r%(24*60)
			end := (start + l) % (24 * 60)
			if end == 0 && start+l == 24*60 && rng.IntN(2) == 0 {
				end = 24 * 60
			}
			s.Week = append(s.Week, Interval{Day: time.Weekday(day), Start: Clock(start), End: Clock(end)})
			a += l
		}
	}
	for range rng.IntN(6) {
		y := 2023 + rng.IntN(4)
		from := time.Date(y, time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
		if rng.IntN(8) == 0 {
			from = time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)
		}
		to := from.AddDate(0, 0, rng.IntN(4)*rng.IntN(4))
		h := Holiday{From: Date{from.Year(), from.Month(), from.Day()}, Yearly: rng.IntN(2) == 0}
		if to.After(from) {
			h.To = Date{to.Year(), to.Month(), to.Day()}
		}
		s.Holidays = append(s.Holidays, h)
	}
	return s
}

// interesting instants: DST changes of 2025 in several zones, New Year, a
// leap day.
var hotSpots = []time.Time{
	utc("2025-03-30 01:00"), utc("2025-10-26 01:00"), // EU
	utc("2025-03-09 07:00"), utc("2025-11-02 06:00"), // US
	utc("2025-04-05 15:00"), utc("2025-10-04 15:30"), // Lord Howe (30 min DST)
	utc("2025-01-01 00:00"), utc("2024-02-29 12:00"),
	utc("2011-12-30 10:00"), // Samoa skipped Dec 30 2011
	utc("2040-12-31 12:00"), // ZoneBounds is wrong here (golang/go#81583)
}

var zones = []string{"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Apia"}

func randomInstant(rng *rand.Rand, spread time.Duration) time.Time {
	base := hotSpots[rng.IntN(len(hotSpots))]
	t := base.Add(time.Duration(rng.Int64N(int64(2*spread))) - spread)
	switch rng.IntN(3) {
	case 0:
		t = t.Truncate(30 * time.Minute) // on a shift boundary, often
	case 1:
		t = t.Truncate(time.Second)
	}
	locs := []*time.Location{time.UTC, berlin, tokyo, newYork}
	return t.In(locs[rng.IntN(len(locs))])
}

func schedulesForProperties(rng *rand.Rand) []Schedule {
	out := []Schedule{office, officeHol, officeBreak, officeNested, split, night, nightFriHol, nightSatHol, daily, satNight,
		early, gap, ny, touch, never, allHol}
	for i := range 30 {
		out = append(out, randomSchedule(rng, zones[i%len(zones)]))
	}
	return out
}

// TestAgainstReference compares every query with the brute-force reading on
// short spans around DST changes.
func TestAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	samples := 25
	if testing.Short() {
		samples = 5
	}
	for _, s := range schedulesForProperties(rng) {
		c := compile(t, s)
		r := ref(s)
		for range samples {
			from := randomInstant(rng, 10*24*time.Hour)
			to := from.Add(time.Duration(rng.Int64N(int64(9 * 24 * time.Hour))))
			if got, want := c.BusinessTime(from, to), r.businessTime(from, to); got != want {
				t.Fatalf("%s %s %v: BusinessTime(%v, %v) = %v, reference %v", s.Name, s.TimeZone, s.Week, from, to, got, want)
			}
			if got, want := c.IsOpen(from), r.isOpen(from); got != want {
				t.Fatalf("%s %s %v: IsOpen(%v) = %v, reference %v", s.Name, s.TimeZone, s.Week, from, got, want)
			}
		}
	}
}

// TestProperties checks, on many schedules and random instants, that
//   - BusinessTime(from, DueAt(from, d)) == d, and DueAt is the earliest such instant,
//   - BusinessTime is additive and within [0, to-from],
//   - NextChange is the first flip of IsOpen.
func TestProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	samples := 150
	if testing.Short() {
		samples = 20
	}
	for _, s := range schedulesForProperties(rng) {
		c := compile(t, s)
		for range samples {
			spread := []time.Duration{24 * time.Hour, 30 * 24 * time.Hour, 700 * 24 * time.Hour}[rng.IntN(3)]
			a := randomInstant(rng, spread)
			b := a.Add(time.Duration(rng.Int64N(int64(spread))))
			cc := b.Add(time.Duration(rng.Int64N(int64(spread))))
			if rng.IntN(10) == 0 {
				b = a
			}
			checkProperties(t, c, s, a, b, cc, time.Duration(rng.Int64N(int64(spread/2))))
		}
	}
}

func checkProperties(t *testing.T, c *Compiled, s Schedule, a, b, cc time.Time, d time.Duration) {
	t.Helper()
	name := s.Name + " " + s.TimeZone
	ab, bc, ac := c.BusinessTime(a, b), c.BusinessTime(b, cc), c.BusinessTime(a, cc)
	if ab+bc != ac {
		t.Fatalf("%s %v: BusinessTime %v→%v (%v) + %v→%v (%v) != %v", name, s.Week, a, b, ab, b, cc, bc, ac)
	}
	if ac < 0 || ac > cc.Sub(a) {
		t.Fatalf("%s: BusinessTime(%v, %v) = %v outside [0, %v]", name, a, cc, ac, cc.Sub(a))
	}
	if got := c.BusinessTime(cc, a); got != 0 && cc.After(a) {
		t.Fatalf("%s: BusinessTime backwards = %v", name, got)
	}
	due := c.DueAt(a, d)
	if due.Equal(Never) {
		if c.week > 0 && len(s.Holidays) == 0 {
			t.Fatalf("%s: DueAt(%v, %v) = Never with open hours", name, a, d)
		}
	} else {
		if due.Before(a) {
			t.Fatalf("%s: DueAt(%v, %v) = %v before from", name, a, d, due)
		}
		if got := c.BusinessTime(a, due); got != d {
			t.Fatalf("%s %v: BusinessTime(%v, DueAt(%v) = %v) = %v", name, s.Week, a, d, due, got)
		}
		if d > 0 {
			if got := c.BusinessTime(a, due.Add(-1)); got != d-1 {
				t.Fatalf("%s: DueAt(%v, %v) = %v is not the earliest (%v a ns before)", name, a, d, due, got)
			}
		} else if !c.IsOpen(due) {
			t.Fatalf("%s: DueAt(%v, 0) = %v is closed", name, a, due)
		}
		// adding up: the due instant of d1 + d2 is d2 after the due instant of d1
		d1 := d / 3
		if d1 > 0 && d-d1 > 0 {
			if mid := c.DueAt(a, d1); !c.DueAt(mid, d-d1).Equal(due) {
				t.Fatalf("%s: DueAt(DueAt(%v, %v), %v) = %v, want %v", name, a, d1, d-d1, c.DueAt(mid, d-d1), due)
			}
		}
	}
	open := c.IsOpen(a)
	next := c.NextChange(a)
	if next.Equal(Never) {
		if bt := c.BusinessTime(a, a.Add(30*24*time.Hour)); open && bt != 30*24*time.Hour || !open && bt != 0 {
			t.Fatalf("%s: NextChange(%v) = Never but business time in 30 days is %v (open %v)", name, a, bt, open)
		}
		return
	}
	if !next.After(a) {
		t.Fatalf("%s: NextChange(%v) = %v not after", name, a, next)
	}
	if c.IsOpen(next) == open {
		t.Fatalf("%s: NextChange(%v) = %v does not flip IsOpen (%v)", name, a, next, open)
	}
	// no flip in between: all open, or all closed
	want := time.Duration(0)
	if open {
		want = next.Sub(a)
	}
	if got := c.BusinessTime(a, next); got != want {
		t.Fatalf("%s %v: BusinessTime(%v, NextChange = %v) = %v, want %v (open %v)", name, s.Week, a, next, got, want, open)
	}
}

// FuzzDueAt checks the properties for fuzzed instants and durations on a
// few schedules.
func FuzzDueAt(f *testing.F) {
	f.Add(int64(1743296400), int64(3600e9), int64(7200), uint8(0))       // 2025-03-30 01:00Z
	f.Add(int64(1761440400), int64(9*3600e9), int64(86400*30), uint8(4)) // 2025-10-26 01:00Z
	f.Add(int64(1741503600), int64(23*3600e9), int64(3*86400), uint8(11))
	f.Add(int64(1735689600), int64(0), int64(0), uint8(2))
	f.Add(int64(1735689599), int64(1), int64(1), uint8(7))
	rng := rand.New(rand.NewPCG(5, 6))
	scheds := schedulesForProperties(rng)
	compiled := make([]*Compiled, len(scheds))
	for i, s := range scheds {
		compiled[i] = compile(f, s)
	}
	f.Fuzz(func(t *testing.T, from, d, span int64, which uint8) {
		const lo, hi = 946684800, 4102444800 // 2000 … 2100
		from = lo + (from%(hi-lo)+(hi-lo))%(hi-lo)
		d = (d%(1<<53) + 1<<53) % (1 << 53) // up to ~104 days
		span = (span%(1<<26) + 1<<26) % (1 << 26)
		i := int(which) % len(scheds)
		a := time.Unix(from, d%1e9)
		checkProperties(t, compiled[i], scheds[i], a, a.Add(time.Duration(span)*time.Second/3), a.Add(time.Duration(span)*time.Second),
			time.Duration(d))
	})
}

func benchSchedule(b *testing.B) *Compiled {
	return compile(b, officeHol)
}

func BenchmarkBusinessTimeYear(b *testing.B) {
	c := benchSchedule(b)
	from, to := at(berlin, "2025-01-01 10:17"), at(berlin, "2026-01-01 10:17")
	for b.Loop() {
		if c.BusinessTime(from, to) == 0 {
			b.Fatal("zero")
		}
	}
}

func BenchmarkDueAtYear(b *testing.B) {
	c := benchSchedule(b)
	from := at(berlin, "2025-01-01 10:17")
	for b.Loop() {
		if c.DueAt(from, 2300*time.Hour).Equal(Never) {
			b.Fatal("never")
		}
	}
}

func BenchmarkBusinessTimeDay(b *testing.B) {
	c := benchSchedule(b)
	from, to := at(berlin, "2025-01-14 10:17"), at(berlin, "2025-01-15 10:17")
	for b.Loop() {
		c.BusinessTime(from, to)
	}
}

func BenchmarkDueAtHours(b *testing.B) {
	c := benchSchedule(b)
	from := at(berlin, "2025-01-14 17:17")
	for b.Loop() {
		c.DueAt(from, 4*time.Hour)
	}
}

func BenchmarkIsOpen(b *testing.B) {
	c := benchSchedule(b)
	t := at(berlin, "2025-01-14 17:17")
	for b.Loop() {
		c.IsOpen(t)
	}
}

func BenchmarkBusinessTimeTenYearsNewYork(b *testing.B) {
	c := compile(b, ny)
	from, to := at(newYork, "2025-01-01 10:17"), at(newYork, "2035-01-01 10:17")
	for b.Loop() {
		c.BusinessTime(from, to)
	}
}
