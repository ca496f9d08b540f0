// Package schedule computes durations over business hours: a weekly set of
// wall-clock intervals in a time zone, minus holidays. SLA policies, clocks
// and statistics build on it.
//
// The rules, exactly:
//
//   - An Interval belongs to its weekday. Start < End is a shift within the
//     day; End <= Start (End != Start) is an overnight shift that runs past
//     midnight into the next day ("Fri 22:00–06:00" ends Saturday 06:00). A
//     whole day is 00:00–24:00; End == Start is invalid. Intervals must not
//     overlap anywhere in the weekly cycle (Saturday's overnight shift wraps
//     into Sunday); touching intervals (13:00 end, 13:00 start) are fine.
//   - Wall clock times are read in the schedule's time zone. A shift on date D
//     is open from the first instant the local clock reads its start on D (or
//     later) until the first instant it reads its end (or later). So a shift
//     across a daylight-saving change lasts the real elapsed time: Sat
//     22:00–06:00 over the spring change is 7 h, over the autumn change 9 h;
//     a start inside the skipped hour opens at the jump (02:30 → 03:00); an
//     end inside the repeated hour closes at its first pass. A 09:00–18:00
//     day is 9 h on the change day too.
//   - A holiday on date D cancels every shift that starts on D, including the
//     after-midnight part of an overnight shift; a shift that started the day
//     before runs to its end. Holidays are inclusive date ranges (To empty =
//     the single day From). A Yearly holiday ignores the years: it covers
//     every day whose month-day lies in From..To (a range may cross New Year,
//     e.g. 12-24..01-02); one on Feb 29 is observed in leap years only.
//   - Open time is half-open: [start, end). Instants may be in any location.
//   - DueAt gives up after Lookahead (400 days) in a row without open time,
//     NextChange after Lookahead without a flip; both then return Never (so
//     does DueAt past year 9999).
package schedule

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // time zones load on machines without zoneinfo too
	"unicode/utf8"

	"github.com/switchboard-hq/switchboard/internal/errs"
)

// Bounds of a schedule.
const (
	MaxIntervals = 100
	MaxHolidays  = 500
	MaxNameLen   = 100 // characters, for schedule and holiday names
)

// Lookahead is how long DueAt searches without meeting open time, and
// NextChange without meeting a flip, before they return Never.
const Lookahead = 400 * 24 * time.Hour

// Never is the far-future instant DueAt and NextChange return when there is
// no answer within Lookahead. Compare with Equal.
var Never = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// Clock is a wall-clock time of day in minutes since midnight, 00:00–24:00
// (24:00 only as an interval's end). In JSON it is "HH:MM".
type Clock int

// At is the clock time hour:minute.
func At(hour, minute int) Clock { return Clock(hour*60 + minute) }

const dayMinutes = 24 * 60

// ParseClock reads "HH:MM" (00:00–23:59, or 24:00).
func ParseClock(s string) (Clock, error) {
	if len(s) != 5 || s[2] != ':' || !digits(s[:2]) || !digits(s[3:]) {
		return 0, fmt.Errorf("clock %q is not HH:MM", s)
	}
	h, m := int(s[0]-'0')*10+int(s[1]-'0'), int(s[3]-'0')*10+int(s[4]-'0')
	if m > 59 || h > 24 || h == 24 && m != 0 {
		return 0, fmt.Errorf("clock %q is not a time between 00:00 and 24:00", s)
	}
	return At(h, m), nil
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func (c Clock) valid() bool { return c >= 0 && c <= dayMinutes }

// String is "HH:MM".
func (c Clock) String() string {
	if !c.valid() {
		return fmt.Sprintf("Clock(%d)", int(c))
	}
	return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60)
}

// MarshalText writes "HH:MM".
func (c Clock) MarshalText() ([]byte, error) {
	if !c.valid() {
		return nil, fmt.Errorf("clock %d minutes is out of range", int(c))
	}
	return []byte(c.String()), nil
}

// UnmarshalText reads "HH:MM".
func (c *Clock) UnmarshalText(b []byte) error {
	v, err := ParseClock(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// Date is a civil date. In JSON it is "YYYY-MM-DD"; the zero Date is "".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate reads "YYYY-MM-DD".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("date %q is not a YYYY-MM-DD date", s)
	}
	return Date{t.Year(), t.Month(), t.Day()}, nil
}

// IsZero reports whether d is the zero Date (unset).
func (d Date) IsZero() bool { return d == Date{} }

func (d Date) valid() bool {
	if d.Year < 1 || d.Year > 9999 {
		return false
	}
	y, m, dd := time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Date()
	return y == d.Year && m == d.Month && dd == d.Day
}

// String is "YYYY-MM-DD" ("" for the zero Date).
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// MarshalText writes "YYYY-MM-DD".
func (d Date) MarshalText() ([]byte, error) {
	if !d.IsZero() && !d.valid() {
		return nil, fmt.Errorf("date %d-%d-%d is not valid", d.Year, int(d.Month), d.Day)
	}
	return []byte(d.String()), nil
}

// UnmarshalText reads "YYYY-MM-DD" ("" is the zero Date).
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

func (d Date) days() int64 { return daysFromCivil(int64(d.Year), int(d.Month), d.Day) }

func (d Date) monthDay() int { return int(d.Month)*32 + d.Day }

// Interval is a weekly shift: open on Day from Start to End, past midnight
// into the next day when End <= Start. In JSON the day is a lowercase English
// name: {"day":"monday","start":"09:00","end":"18:00"}.
type Interval struct {
	Day   time.Weekday
	Start Clock
	End   Clock
}

// Overnight reports whether the interval runs past midnight.
func (iv Interval) Overnight() bool { return iv.End <= iv.Start }

// minutes is the nominal length.
func (iv Interval) minutes() int {
	if iv.Overnight() {
		return dayMinutes - int(iv.Start) + int(iv.End)
	}
	return int(iv.End - iv.Start)
}

type intervalJSON struct {
	Day   string `json:"day"`
	Start Clock  `json:"start"`
	End   Clock  `json:"end"`
}

// MarshalJSON writes {"day":"monday","start":"09:00","end":"18:00"}.
func (iv Interval) MarshalJSON() ([]byte, error) {
	if iv.Day < time.Sunday || iv.Day > time.Saturday {
		return nil, fmt.Errorf("weekday %d is out of range", int(iv.Day))
	}
	return json.Marshal(intervalJSON{strings.ToLower(iv.Day.String()), iv.Start, iv.End})
}

// UnmarshalJSON reads {"day":"monday","start":"09:00","end":"18:00"}.
func (iv *Interval) UnmarshalJSON(b []byte) error {
	var v intervalJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	for d := time.Sunday; d <= time.Saturday; d++ {
		if strings.EqualFold(v.Day, d.String()) {
			*iv = Interval{Day: d, Start: v.Start, End: v.End}
			return nil
		}
	}
	return fmt.Errorf("day %q is not a weekday name like monday", v.Day)
}

// Holiday closes the dates From..To (inclusive; To empty means From only),
// every year when Yearly.
type Holiday struct {
	Name   string `json:"name"`
	From   Date   `json:"from"`
	To     Date   `json:"to,omitzero"`
	Yearly bool   `json:"yearly"`
}

// Last is the holiday's last date (To, or From when To is empty).
func (h Holiday) Last() Date {
	if h.To.IsZero() {
		return h.From
	}
	return h.To
}

// Schedule is business hours: weekly intervals in a time zone, minus holidays.
type Schedule struct {
	Name     string     `json:"name"`
	TimeZone string     `json:"time_zone"`
	Week     []Interval `json:"week"`
	Holidays []Holiday  `json:"holidays"`
}

// AlwaysOpen is the default 24/7 schedule.
func AlwaysOpen() Schedule {
	s := Schedule{Name: "24/7", TimeZone: "UTC", Holidays: []Holiday{}}
	for d := time.Sunday; d <= time.Saturday; d++ {
		s.Week = append(s.Week, Interval{Day: d, Start: At(0, 0), End: At(24, 0)})
	}
	return s
}

// Validate checks s; failures are errs.Invalid naming the field ("time_zone",
// "week[2].end", "week[3]" for an overlap, "holidays[0].to", ...).
func (s Schedule) Validate() error {
	_, err := s.validate()
	return err
}

func (s Schedule) validate() (*time.Location, error) {
	if strings.TrimSpace(s.Name) == "" {
		return nil, errs.Invalid("name", "is required")
	}
	if utf8.RuneCountInString(s.Name) > MaxNameLen {
		return nil, errs.Invalid("name", fmt.Sprintf("must be at most %d characters", MaxNameLen))
	}
	if s.TimeZone == "" {
		return nil, errs.Invalid("time_zone", "is required")
	}
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil || s.TimeZone == "Local" {
		return nil, errs.Invalid("time_zone", "is not a time zone name like Europe/Berlin")
	}
	if len(s.Week) > MaxIntervals {
		return nil, errs.Invalid("week", fmt.Sprintf("must have at most %d intervals", MaxIntervals))
	}
	for i, iv := range s.Week {
		f := fmt.Sprintf("week[%d]", i)
		switch {
		case iv.Day < time.Sunday || iv.Day > time.Saturday:
			return nil, errs.Invalid(f+".day", "is not a weekday")
		case iv.Start < 0 || iv.Start >= dayMinutes:
			return nil, errs.Invalid(f+".start", "must be between 00:00 and 23:59")
		case !iv.End.valid():
			return nil, errs.Invalid(f+".end", "must be between 00:00 and 24:00")
		case iv.End == iv.Start:
			return nil, errs.Invalid(f+".end", "must differ from start (a whole day is 00:00–24:00)")
		}
	}
	if err := overlaps(s.Week); err != nil {
		return nil, err
	}
	if len(s.Holidays) > MaxHolidays {
		return nil, errs.Invalid("holidays", fmt.Sprintf("must have at most %d holidays", MaxHolidays))
	}
	for i, h := range s.Holidays {
		f := fmt.Sprintf("holidays[%d]", i)
		switch {
		case utf8.RuneCountInString(h.Name) > MaxNameLen:
			return nil, errs.Invalid(f+".name", fmt.Sprintf("must be at most %d characters", MaxNameLen))
		case h.From.IsZero():
			return nil, errs.Invalid(f+".from", "is required")
		case !h.From.valid():
			return nil, errs.Invalid(f+".from", "is not a valid date")
		case !h.To.IsZero() && !h.To.valid():
			return nil, errs.Invalid(f+".to", "is not a valid date")
		case h.Last().days() < h.From.days():
			return nil, errs.Invalid(f+".to", "is before from")
		case h.Yearly && h.Last().days() >= Date{h.From.Year + 1, h.From.Month, 1}.days()+int64(h.From.Day)-1:
			// From plus a year (Feb 29 + 1 year = Mar 1)
			return nil, errs.Invalid(f+".to", "a yearly holiday must be shorter than a year")
		}
	}
	return loc, nil
}

// overlaps reports the first pair of intervals that overlap in the weekly
// cycle, naming the later one in the list.
func overlaps(week []Interval) error {
	const weekMinutes = 7 * dayMinutes
	type piece struct{ start, end, idx int }
	var ps []piece
	for i, iv := range week {
		a := int(iv.Day)*dayMinutes + int(iv.Start)
		b := a + iv.minutes()
		if b > weekMinutes { // Saturday's overnight shift wraps into Sunday
			ps = append(ps, piece{a, weekMinutes, i}, piece{0, b - weekMinutes, i})
		} else {
			ps = append(ps, piece{a, b, i})
		}
	}
	slices.SortFunc(ps, func(x, y piece) int { return x.start - y.start })
	reach, by := 0, -1 // the furthest end so far, and whose it is
	for _, p := range ps {
		if by >= 0 && p.start < reach {
			first, second := min(by, p.idx), max(by, p.idx)
			return errs.Invalid(fmt.Sprintf("week[%d]", second), fmt.Sprintf("overlaps week[%d]", first))
		}
		if p.end > reach {
			reach, by = p.end, p.idx
		}
	}
	return nil
}

// Compiled is a validated schedule ready for queries. It is immutable and
// safe for concurrent use.
type Compiled struct {
	loc    *time.Location
	days   [7][]shift // by weekday, sorted by start
	week   int64      // nominal open seconds per week
	always bool       // open all week, no holidays
	oneOff []dayRange // sorted, merged
	yearly []yearlyRule
}

// shift is an interval in seconds from its day's local midnight; end may
// pass 86400 (overnight).
type shift struct{ start, end int64 }

// dayRange is an inclusive range of day numbers (days since 1970-01-01).
type dayRange struct{ from, to int64 }

// yearlyRule covers the days whose month-day (month*32+day) lies in
// from..to, or outside to..from when wrap.
type yearlyRule struct {
	from, to int
	wrap     bool
}

// Compile validates s and prepares it for queries.
func (s Schedule) Compile() (*Compiled, error) {
	loc, err := s.validate()
	if err != nil {
		return nil, err
	}
	c := &Compiled{loc: loc}
	for _, iv := range s.Week {
		st := int64(iv.Start) * 60
		c.days[iv.Day] = append(c.days[iv.Day], shift{st, st + int64(iv.minutes())*60})
		c.week += int64(iv.minutes()) * 60
	}
	for d := range c.days {
		slices.SortFunc(c.days[d], func(x, y shift) int { return int(x.start - y.start) })
	}
	for _, h := range s.Holidays {
		if !h.Yearly {
			c.oneOff = append(c.oneOff, dayRange{h.From.days(), h.Last().days()})
			continue
		}
		f, t := h.From.monthDay(), h.Last().monthDay()
		c.yearly = append(c.yearly, yearlyRule{f, t, t < f})
	}
	c.oneOff = merge(c.oneOff)
	c.always = c.week == 7*86400 && len(s.Holidays) == 0
	return c, nil
}

// Location is the schedule's time zone.
func (c *Compiled) Location() *time.Location { return c.loc }

func merge(rs []dayRange) []dayRange {
	slices.SortFunc(rs, func(x, y dayRange) int {
		switch {
		case x.from < y.from:
			return -1
		case x.from > y.from:
			return 1
		}
		return 0
	})
	out := rs[:0]
	for _, r := range rs {
		if n := len(out); n > 0 && r.from <= out[n-1].to+1 {
			out[n-1].to = max(out[n-1].to, r.to)
			continue
		}
		out = append(out, r)
	}
	return out
}

const (
	daySeconds = 86400
	farPast    = -1 << 62
	farFuture  = 1 << 62
	lookahead  = int64(Lookahead / time.Second)
	nsPerSec   = int64(time.Second)
)

var maxDay = daysFromCivil(9999, 12, 31)

// IsOpen reports whether t is within business hours.
func (c *Compiled) IsOpen(t time.Time) bool {
	if c.always {
		return true
	}
	ts := t.Unix()
	w := c.walk(t)
	for {
		a, b, ok := w.next(ts + 1)
		if !ok {
			return false
		}
		if a <= ts && ts < b {
			return true
		}
	}
}

// BusinessTime is the open time within [from, to); 0 when to <= from. It
// saturates at the largest Duration (some 292 years).
func (c *Compiled) BusinessTime(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	if c.always {
		return to.Sub(from)
	}
	fs, fn := from.Unix(), int64(from.Nanosecond())
	ts, tn := to.Unix(), int64(to.Nanosecond())
	lo, limit := fs, ts // whole seconds within [from, to]; day starts >= to end the walk
	if fn > 0 {
		lo++
	}
	if tn > 0 {
		limit++
	}
	w := c.walk(from)
	var total time.Duration
	for {
		if w.i == 0 {
			if n := w.skipWeeks(lo, ts, farFuture); n > 0 {
				total = addSeconds(total, n*c.week)
				continue
			}
		}
		a, b, ok := w.next(limit)
		if !ok {
			return total
		}
		// clip [a, b) to [from, to), in (seconds, nanoseconds)
		as, an, bs, bn := a, int64(0), b, int64(0)
		if a <= fs {
			as, an = fs, fn
		}
		if b > ts {
			bs, bn = ts, tn
		}
		if d := (bs-as)*nsPerSec + bn - an; d > 0 {
			total = addNanos(total, d)
		}
	}
}

// DueAt is the instant at which d of business time has passed since from:
// BusinessTime(from, DueAt(from, d)) == d. For d <= 0 it is the first open
// instant at or after from. It is Never when Lookahead passes in a row
// without open time (a schedule with no intervals, holidays covering
// everything) or the answer lies past year 9999. The result is in from's
// location.
func (c *Compiled) DueAt(from time.Time, d time.Duration) time.Time {
	d = max(d, 0)
	if c.always {
		return from.Add(d)
	}
	fs, fn := from.Unix(), int64(from.Nanosecond())
	lo := fs
	if fn > 0 {
		lo++
	}
	w := c.walk(from)
	remaining := int64(d)
	lastOpen := fs
	for {
		if w.i == 0 && c.week > 0 {
			// skip whole weeks while the answer lies beyond them
			if n := w.skipWeeks(lo, farFuture, (remaining-1)/(c.week*nsPerSec)); n > 0 {
				remaining -= n * c.week * nsPerSec
				lastOpen = w.day*daySeconds - w.zo
				continue
			}
		}
		a, b, ok := w.next(lastOpen + lookahead)
		if !ok {
			return Never
		}
		if b <= fs {
			continue
		}
		as, an := a, int64(0)
		if a <= fs {
			as, an = fs, fn
		}
		avail := (b-as)*nsPerSec - an
		if remaining <= avail {
			return time.Unix(as, an+remaining).In(from.Location())
		}
		remaining -= avail
		lastOpen = b
	}
}

// NextChange is the first instant after t at which IsOpen flips, or Never
// when none comes within Lookahead.
func (c *Compiled) NextChange(t time.Time) time.Time {
	if c.always {
		return Never
	}
	ts := t.Unix()
	w := c.walk(t)
	for {
		a, b, ok := w.next(ts + lookahead)
		if !ok {
			return Never
		}
		if b <= ts {
			continue
		}
		if a > ts { // closed at t
			return time.Unix(a, 0).In(t.Location())
		}
		// open at t: find the end of the run of touching shifts
		end := b
		for {
			if end-ts > lookahead {
				return Never
			}
			a2, b2, ok := w.next(end + 1)
			if !ok || a2 != end {
				return time.Unix(end, 0).In(t.Location())
			}
			end = b2
		}
	}
}

func addNanos(total time.Duration, ns int64) time.Duration {
	if int64(total) > 1<<63-1-ns {
		return 1<<63 - 1
	}
	return total + time.Duration(ns)
}

func addSeconds(total time.Duration, s int64) time.Duration {
	if s > (1<<63-1)/nsPerSec {
		return 1<<63 - 1
	}
	return addNanos(total, s*nsPerSec)
}

// walker emits the open spans of a compiled schedule in time order, shift by
// shift, starting from a day. It caches the time zone's current offset so that
// turning wall clock into instants is arithmetic away from changes.
type walker struct {
	c      *Compiled
	day    int64 // day number of the shifts being emitted
	i      int   // next shift of the day; 0 = the day is not entered yet
	shifts []shift
	// zone segment: offset zo holds for instants in [zs, ze)
	zs, ze, zo int64
	cal        calendar
}

func (c *Compiled) walk(t time.Time) walker {
	y, m, d := t.In(c.loc).Date()
	w := walker{c: c, day: daysFromCivil(int64(y), int(m), d) - 1, cal: calendar{c: c}}
	w.setZone(t.Unix())
	return w
}

// setZone caches the zone segment holding instant x.
func (w *walker) setZone(x int64) {
	t := time.Unix(x, 0).In(w.c.loc)
	_, off := t.Zone()
	st, en := t.ZoneBounds()
	w.zo, w.zs, w.ze = int64(off), farPast, farFuture
	if !st.IsZero() {
		w.zs = st.Unix()
	}
	if !en.IsZero() {
		w.ze = en.Unix()
	}
	// Check the bounds: in leap years served by a zone's TZ rule (after
	// 2037) ZoneBounds ends the last segment a day early, before x
	// (golang/go#81583).
	if w.zs > x || w.zs > farPast && w.offset(w.zs) != w.zo {
		w.zs = x
	}
	if w.ze <= x || w.ze < farFuture && w.offset(w.ze-1) != w.zo {
		w.ze = w.changeAfter(x)
	}
}

func (w *walker) offset(x int64) int64 {
	_, off := time.Unix(x, 0).In(w.c.loc).Zone()
	return int64(off)
}

// changeAfter is the first instant after x with another offset than x's,
// or x plus a day when there is none by then.
func (w *walker) changeAfter(x int64) int64 {
	lo, hi := x, x+daySeconds
	if w.offset(hi) == w.zo {
		return hi
	}
	for hi-lo > 1 {
		if mid := lo + (hi-lo)/2; w.offset(mid) == w.zo {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}

// instant is the first instant at which the local clock reads the wall time
// l (seconds since 1970-01-01 00:00 local) or later.
func (w *walker) instant(l int64) int64 {
	// Offsets stay within ±26 h, so an instant two days into a zone segment
	// cannot also be read in the previous one.
	if i := l - w.zo; i >= w.zs+2*daySeconds && i < w.ze {
		return i
	}
	w.setZone(l - 26*3600)
	for {
		i := l - w.zo
		if i < w.zs { // the clock jumped past l at zs
			return w.zs
		}
		if i < w.ze {
			return i
		}
		w.setZone(w.ze)
	}
}

// next returns the next non-empty open span [a, b) in Unix seconds among the
// shifts of days that start before limit; ok is false when there is none.
func (w *walker) next(limit int64) (a, b int64, ok bool) {
	for {
		if w.i == 0 {
			if w.day > maxDay || w.instant(w.day*daySeconds) >= limit {
				return 0, 0, false
			}
			w.shifts = w.c.days[weekday(w.day)]
			if len(w.shifts) > 0 && w.cal.isHoliday(w.day) {
				w.shifts = nil
			}
		}
		if w.i >= len(w.shifts) {
			w.day, w.i = w.day+1, 0
			continue
		}
		s := w.shifts[w.i]
		w.i++
		base := w.day * daySeconds
		a, b = w.instant(base+s.start), w.instant(base+s.end)
		if w.i == len(w.shifts) {
			w.day, w.i = w.day+1, 0
		}
		if a < b {
			return a, b, true
		}
	}
}

// skipWeeks passes over up to maxN whole weeks from the current day start
// when no holiday and no zone change falls in them and all their shifts lie
// within [lo, hi]; each such week is open for exactly c.week seconds. It
// returns the number of weeks skipped.
func (w *walker) skipWeeks(lo, hi, maxN int64) int64 {
	if w.c.week == 0 || maxN <= 0 {
		return 0
	}
	d := w.day
	if i := d*daySeconds - w.zo; i < w.zs+2*daySeconds || i >= w.ze || i < lo {
		return 0
	}
	n := min(maxN, (maxDay-d)/7)
	if h := w.cal.nextHolidayStart(d); h < farFuture {
		n = min(n, (h-d)/7)
	}
	// the shifts of days d..d+7n-1 end by local midnight of day d+7n+1
	lastDay := floorDiv(min(hi, w.ze-1)+w.zo, daySeconds) - 1
	n = min(n, (lastDay-d)/7)
	if n <= 0 {
		return 0
	}
	w.day += 7 * n
	return n
}

// calendar answers holiday questions for a walk, one year at a time when
// there are yearly holidays.
type calendar struct {
	c           *Compiled
	first, last int64 // days covered by r
	built       bool
	r           []dayRange
}

func (cal *calendar) ensure(day int64) {
	if cal.built && day >= cal.first && day <= cal.last {
		return
	}
	cal.built = true
	c := cal.c
	if len(c.yearly) == 0 {
		cal.first, cal.last, cal.r = farPast, farFuture, c.oneOff
		return
	}
	y, _, _ := civilFromDays(day)
	jan1, dec31 := daysFromCivil(y, 1, 1), daysFromCivil(y, 12, 31)
	cal.first, cal.last = jan1, dec31
	cal.r = cal.r[:0]
	k, _ := slices.BinarySearchFunc(c.oneOff, jan1, func(r dayRange, d int64) int { return cmp(r.to, d) })
	for ; k < len(c.oneOff) && c.oneOff[k].from <= dec31; k++ {
		cal.r = append(cal.r, dayRange{max(c.oneOff[k].from, jan1), min(c.oneOff[k].to, dec31)})
	}
	leap := isLeap(y)
	// first day of year y on or after month-day md, last day on or before
	firstOn := func(md int) int64 {
		if md == 2*32+29 && !leap {
			md = 3*32 + 1
		}
		return daysFromCivil(y, md/32, md%32)
	}
	lastOn := func(md int) int64 {
		if md == 2*32+29 && !leap {
			md = 2*32 + 28
		}
		return daysFromCivil(y, md/32, md%32)
	}
	for _, r := range c.yearly {
		if r.wrap {
			cal.r = append(cal.r, dayRange{jan1, lastOn(r.to)}, dayRange{firstOn(r.from), dec31})
		} else if f, t := firstOn(r.from), lastOn(r.to); f <= t {
			cal.r = append(cal.r, dayRange{f, t})
		}
	}
	cal.r = merge(cal.r)
}

// find is the index of the first range ending on or after day.
func (cal *calendar) find(day int64) int {
	cal.ensure(day)
	k, _ := slices.BinarySearchFunc(cal.r, day, func(r dayRange, d int64) int { return cmp(r.to, d) })
	return k
}

func (cal *calendar) isHoliday(day int64) bool {
	k := cal.find(day)
	return k < len(cal.r) && cal.r[k].from <= day
}

// nextHolidayStart is a day on or after day such that no holiday falls in
// between: the next holiday, or the end of the year known.
func (cal *calendar) nextHolidayStart(day int64) int64 {
	k := cal.find(day)
	if k < len(cal.r) {
		return max(cal.r[k].from, day)
	}
	if cal.last >= farFuture {
		return farFuture
	}
	return cal.last + 1
}

func cmp(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func isLeap(y int64) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// weekday of day number z (1970-01-01 was a Thursday).
func weekday(z int64) time.Weekday { return time.Weekday((z%7 + 11) % 7) }

// daysFromCivil is the number of days from 1970-01-01 to y-m-d (proleptic
// Gregorian), after Howard Hinnant's algorithm.
func daysFromCivil(y int64, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := int64((m + 9) % 12)
	doy := (153*mp+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y int64, m, d int) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		m = int(mp + 3)
	} else {
		m = int(mp - 9)
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}
