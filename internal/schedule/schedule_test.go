package schedule

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-hq/switchboard/internal/errs"
)

var (
	berlin  = mustLoad("Europe/Berlin")
	newYork = mustLoad("America/New_York")
	tokyo   = mustLoad("Asia/Tokyo")
)

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func clock(s string) Clock {
	c, err := ParseClock(s)
	if err != nil {
		panic(err)
	}
	return c
}

func date(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func iv(day time.Weekday, start, end string) Interval {
	return Interval{Day: day, Start: clock(start), End: clock(end)}
}

// days is the interval start–end on each of the days.
func days(start, end string, ds ...time.Weekday) []Interval {
	var out []Interval
	for _, d := range ds {
		out = append(out, iv(d, start, end))
	}
	return out
}

var (
	monFri  = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	allWeek = []time.Weekday{time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday,
		time.Friday, time.Saturday}
)

func compile(t testing.TB, s Schedule) *Compiled {
	t.Helper()
	c, err := s.Compile()
	if err != nil {
		t.Fatalf("compile %s: %v", s.Name, err)
	}
	return c
}

// at is a wall time in loc ("2025-01-10 17:00"); use only unambiguous times.
func at(loc *time.Location, s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		panic(err)
	}
	return t
}

func utc(s string) time.Time { return at(time.UTC, s) }

// The schedules of the tables.
var (
	// office: Mon–Fri 09:00–18:00 Berlin, 9 h a day, 45 h a week.
	office = Schedule{Name: "office", TimeZone: "Europe/Berlin", Week: days("09:00", "18:00", monFri...)}
	// officeHol: office with New Year, Christmas (two days) yearly and Easter
	// 2025 (Good Friday Apr 18 – Easter Monday Apr 21, across the weekend).
	officeHol = Schedule{Name: "office holidays", TimeZone: "Europe/Berlin", Week: office.Week, Holidays: []Holiday{
		{Name: "New Year", From: date("2020-01-01"), Yearly: true},
		{Name: "Christmas", From: date("2020-12-25"), To: date("2020-12-26"), Yearly: true},
		{Name: "Easter", From: date("2025-04-18"), To: date("2025-04-21")},
	}}
	// officeBreak: office closed Dec 24 – Jan 2 every year and on Feb 29.
	officeBreak = Schedule{Name: "office break", TimeZone: "Europe/Berlin", Week: office.Week, Holidays: []Holiday{
		{Name: "Winter break", From: date("2020-12-24"), To: date("2021-01-02"), Yearly: true},
		{Name: "Leap day", From: date("2024-02-29"), Yearly: true},
	}}
	// officeNested: office closed Dec 15–31 2025, with Dec 24 (yearly) and
	// Dec 20–22 (one-off) inside that range.
	officeNested = Schedule{Name: "office nested", TimeZone: "Europe/Berlin", Week: office.Week, Holidays: []Holiday{
		{From: date("2025-12-15"), To: date("2025-12-31")},
		{From: date("2020-12-24"), Yearly: true},
		{From: date("2025-12-20"), To: date("2025-12-22")},
	}}
	// split: Mon–Fri 09:00–13:00 and 14:00–18:00 Berlin, 8 h a day, 40 h a week.
	split = Schedule{Name: "split", TimeZone: "Europe/Berlin",
		Week: append(days("09:00", "13:00", monFri...), days("14:00", "18:00", monFri...)...)}
	// night: Fri 22:00–06:00 and Sat 22:00–06:00 Berlin.
	night = Schedule{Name: "night", TimeZone: "Europe/Berlin",
		Week: []Interval{iv(time.Friday, "22:00", "06:00"), iv(time.Saturday, "22:00", "06:00")}}
	// nightFriHol and nightSatHol: night with Friday May 2 2025, or
	// Saturday May 3 2025, a holiday.
	nightFriHol = Schedule{Name: "night", TimeZone: "Europe/Berlin", Week: night.Week,
		Holidays: []Holiday{{From: date("2025-05-02")}}}
	nightSatHol = Schedule{Name: "night", TimeZone: "Europe/Berlin", Week: night.Week,
		Holidays: []Holiday{{From: date("2025-05-03")}}}
	// daily: every day 09:00–18:00 Berlin, also on the Sundays of the DST
	// changes (Mar 30 and Oct 26 2025).
	daily = Schedule{Name: "daily", TimeZone: "Europe/Berlin", Week: days("09:00", "18:00", allWeek...)}
	// satNight: Sat 22:00–06:00 Berlin, across both DST changes of 2025.
	satNight = Schedule{Name: "sat night", TimeZone: "Europe/Berlin", Week: []Interval{iv(time.Saturday, "22:00", "06:00")}}
	// early: Sun 00:00–02:30 and 02:30–04:00 Berlin, ends and starts inside
	// the skipped (Mar 30) and the repeated (Oct 26) hour.
	early = Schedule{Name: "early", TimeZone: "Europe/Berlin",
		Week: []Interval{iv(time.Sunday, "00:00", "02:30"), iv(time.Sunday, "02:30", "04:00")}}
	// gap: Sun 02:00–03:00 Berlin, wholly inside the skipped hour of Mar 30.
	gap = Schedule{Name: "gap", TimeZone: "Europe/Berlin", Week: []Interval{iv(time.Sunday, "02:00", "03:00")}}
	// ny: Mon–Fri 09:00–17:00 and Sun 00:00–24:00 New York (Mar 9 and Nov 2
	// 2025 are DST Sundays).
	ny = Schedule{Name: "ny", TimeZone: "America/New_York",
		Week: append(days("09:00", "17:00", monFri...), iv(time.Sunday, "00:00", "24:00"))}
	// touch: shifts that touch across midnight and days.
	touch = Schedule{Name: "touch", TimeZone: "Europe/Berlin", Week: []Interval{
		iv(time.Monday, "00:00", "24:00"), iv(time.Tuesday, "00:00", "24:00"),
		iv(time.Thursday, "20:00", "00:00"), iv(time.Friday, "00:00", "02:00"),
		iv(time.Friday, "22:00", "06:00"), iv(time.Saturday, "06:00", "12:00"),
	}}
	// never has no intervals; allHol is office closed all year, every year.
	never  = Schedule{Name: "never", TimeZone: "Europe/Berlin"}
	allHol = Schedule{Name: "all holidays", TimeZone: "Europe/Berlin", Week: office.Week,
		Holidays: []Holiday{{From: date("2024-01-01"), To: date("2024-12-31"), Yearly: true}}}
)

func TestBusinessTime(t *testing.T) {
	h := time.Hour
	tests := []struct {
		name     string
		s        Schedule
		from, to time.Time
		want     time.Duration
	}{
		// office, Mon–Fri 09:00–18:00 Berlin
		{"inside open time", office, at(berlin, "2025-01-14 10:00"), at(berlin, "2025-01-14 12:30"), 2*h + 30*time.Minute},
		{"inside closed time, weekend", office, at(berlin, "2025-01-11 10:00"), at(berlin, "2025-01-12 20:00"), 0},
		{"inside closed time, night", office, at(berlin, "2025-01-14 18:00"), at(berlin, "2025-01-15 09:00"), 0},
		{"closed to open", office, at(berlin, "2025-01-14 07:00"), at(berlin, "2025-01-14 10:15"), h + 15*time.Minute},
		{"open to closed", office, at(berlin, "2025-01-14 17:30"), at(berlin, "2025-01-14 20:00"), 30 * time.Minute},
		// Fri 17:00–18:00 + Mon 09:00–10:00
		{"across a weekend", office, at(berlin, "2025-01-10 17:00"), at(berlin, "2025-01-13 10:00"), 2 * h},
		// the same instants given in UTC and in Tokyo
		{"instants in other locations", office, utc("2025-01-10 16:00"), at(tokyo, "2025-01-13 18:00"), 2 * h},
		{"to before from", office, at(berlin, "2025-01-14 12:00"), at(berlin, "2025-01-14 10:00"), 0},
		{"to equals from", office, at(berlin, "2025-01-14 12:00"), at(berlin, "2025-01-14 12:00"), 0},
		{"sub-second ends", office, at(berlin, "2025-01-14 10:00").Add(250 * time.Millisecond),
			at(berlin, "2025-01-14 10:00").Add(time.Second + 750*time.Millisecond), 1500 * time.Millisecond},
		{"sub-second from at opening", office, at(berlin, "2025-01-14 09:00").Add(250 * time.Millisecond),
			at(berlin, "2025-01-14 10:00"), h - 250*time.Millisecond},
		// touch opens Mon 00:00: half a second of Monday
		{"sub-second to just after a day start", touch, at(berlin, "2025-01-12 23:00"),
			at(berlin, "2025-01-13 00:00").Add(500 * time.Millisecond), 500 * time.Millisecond},
		// Jan 6 (Mon) + 8 weeks = Mar 3 (Mon): 8 × 45 h
		{"eight weeks", office, at(berlin, "2025-01-06 09:00"), at(berlin, "2025-03-03 09:00"), 360 * h},
		// the spring DST change is on Sunday Mar 30: 5 × 9 h, though 167 h really pass
		{"week across spring DST", office, at(berlin, "2025-03-24 09:00"), at(berlin, "2025-03-31 09:00"), 45 * h},
		// 520 weeks from Mon Jan 6 2025 (3652 days to Jan 6 2035, less 12) = Mon Dec 25 2034: 520 × 45 h
		{"ten years", office, at(berlin, "2025-01-06 09:00"), at(berlin, "2034-12-25 09:00"), 23400 * h},

		// officeHol: 2025 has 261 weekdays (52 weeks + Wed Dec 31); Jan 1 (Wed),
		// Dec 25 (Thu), Dec 26 (Fri), Apr 18 (Fri), Apr 21 (Mon) are holidays:
		// 256 × 9 h
		{"year with holidays", officeHol, at(berlin, "2025-01-01 00:00"), at(berlin, "2026-01-01 00:00"), 2304 * h},
		// Thu Apr 17 + Tue Apr 22, the holiday range Fri–Mon spans the weekend
		{"holiday range across a weekend", officeHol, at(berlin, "2025-04-17 00:00"), at(berlin, "2025-04-23 00:00"), 18 * h},
		{"from inside a holiday", officeHol, at(berlin, "2025-12-25 10:00"), at(berlin, "2025-12-29 10:00"), h},
		// officeBreak: Mon Dec 22, Tue Dec 23, (Dec 24 – Jan 2 closed), Mon–Thu Jan 5–8: 6 × 9 h
		{"yearly range across New Year", officeBreak, at(berlin, "2025-12-22 00:00"), at(berlin, "2026-01-09 00:00"), 54 * h},
		// 2028 is a leap year: Mon Feb 28 + (Tue Feb 29 closed) + Wed Mar 1
		{"Feb 29 in a leap year", officeBreak, at(berlin, "2028-02-28 00:00"), at(berlin, "2028-03-02 00:00"), 18 * h},
		// 2027 is not: Fri Feb 26 + Mon Mar 1
		{"Feb 29 in a common year", officeBreak, at(berlin, "2027-02-26 00:00"), at(berlin, "2027-03-02 00:00"), 18 * h},

		// Fri Dec 12 + Thu Jan 1, Fri Jan 2, Mon Jan 5: 4 × 9 h
		{"holidays inside holidays", officeNested, at(berlin, "2025-12-12 00:00"), at(berlin, "2026-01-06 00:00"), 36 * h},

		// split, Mon–Fri 09:00–13:00 and 14:00–18:00
		{"split: across the break", split, at(berlin, "2025-01-14 12:00"), at(berlin, "2025-01-14 15:00"), 2 * h},
		{"split: the break only", split, at(berlin, "2025-01-14 13:00"), at(berlin, "2025-01-14 14:00"), 0},
		{"split: a day", split, at(berlin, "2025-01-14 00:00"), at(berlin, "2025-01-15 00:00"), 8 * h},
		// Fri 17:00–18:00 + Mon 09:00–13:00 + 14:00–14:30
		{"split: across a weekend", split, at(berlin, "2025-01-10 17:00"), at(berlin, "2025-01-13 14:30"), 5*h + 30*time.Minute},

		// night, Fri and Sat 22:00–06:00
		{"overnight: a weekend", night, at(berlin, "2025-01-10 00:00"), at(berlin, "2025-01-13 00:00"), 16 * h},
		// Friday's shift 03:00–06:00 + Saturday's 22:00–23:00
		{"overnight: parts of two shifts", night, at(berlin, "2025-01-11 03:00"), at(berlin, "2025-01-11 23:00"), 4 * h},
		// the after-midnight part of Saturday's shift, on Sunday
		{"overnight: after midnight", night, at(berlin, "2025-01-12 01:00"), at(berlin, "2025-01-12 12:00"), 5 * h},
		// the Friday holiday cancels Fri 22:00 – Sat 06:00; Sat 22:00 – Sun 06:00 stays
		{"overnight: holiday on its first day", nightFriHol, at(berlin, "2025-05-02 00:00"), at(berlin, "2025-05-05 00:00"), 8 * h},
		// the Saturday holiday keeps Friday's shift into Saturday and cancels Saturday's
		{"overnight: holiday on its second day", nightSatHol, at(berlin, "2025-05-02 00:00"), at(berlin, "2025-05-05 00:00"), 8 * h},
		{"overnight: no holiday", night, at(berlin, "2025-05-02 00:00"), at(berlin, "2025-05-05 00:00"), 16 * h},

		// DST in Berlin: the wall-clock day is 9 h on the change Sundays too
		{"daily: spring DST weekend", daily, at(berlin, "2025-03-29 00:00"), at(berlin, "2025-04-01 00:00"), 27 * h},
		{"daily: autumn DST weekend", daily, at(berlin, "2025-10-25 00:00"), at(berlin, "2025-10-28 00:00"), 27 * h},
		// Sat Mar 29 22:00 CET (21:00Z) – Sun 06:00 CEST (04:00Z): 7 h
		{"overnight over spring DST", satNight, at(berlin, "2025-03-29 12:00"), at(berlin, "2025-03-30 12:00"), 7 * h},
		// Sat Oct 25 22:00 CEST (20:00Z) – Sun 06:00 CET (05:00Z): 9 h
		{"overnight over autumn DST", satNight, at(berlin, "2025-10-25 12:00"), at(berlin, "2025-10-26 12:00"), 9 * h},
		// Mar 15 (8 h) + Mar 22 (8 h) + Mar 29 (7 h)
		{"three Saturday nights with DST", satNight, at(berlin, "2025-03-15 00:00"), at(berlin, "2025-04-05 00:00"), 23 * h},
		// 00:00 CET (Mar 29 23:00Z) – 02:30 (skipped) opens until 03:00 CEST (01:00Z) = 2 h,
		// then 03:00 CEST (01:00Z) – 04:00 CEST (02:00Z) = 1 h
		{"early: spring DST", early, at(berlin, "2025-03-29 12:00"), at(berlin, "2025-03-31 00:00"), 3 * h},
		{"early: spring DST, first shift", early, utc("2025-03-29 23:00"), utc("2025-03-30 01:00"), 2 * h},
		// 00:00 CEST (Oct 25 22:00Z) – first 02:30 (CEST, 00:30Z) = 2 h 30,
		// then 00:30Z – 04:00 CET (03:00Z) = 2 h 30
		{"early: autumn DST", early, at(berlin, "2025-10-25 12:00"), at(berlin, "2025-10-27 00:00"), 5 * h},
		{"early: autumn DST, until the second 02:00", early, utc("2025-10-25 22:00"), utc("2025-10-26 01:00"), 3 * h},
		{"early: ordinary Sunday", early, at(berlin, "2025-03-22 12:00"), at(berlin, "2025-03-24 00:00"), 4 * h},
		// 02:00–03:00 does not exist on Mar 30; on Oct 26 it runs from the
		// first 02:00 (CEST, 00:00Z) to 03:00 CET (02:00Z)
		{"gap: skipped hour", gap, at(berlin, "2025-03-29 12:00"), at(berlin, "2025-03-31 00:00"), 0},
		{"gap: repeated hour", gap, at(berlin, "2025-10-25 12:00"), at(berlin, "2025-10-27 00:00"), 2 * h},
		{"gap: ordinary Sunday", gap, at(berlin, "2025-03-22 12:00"), at(berlin, "2025-03-24 00:00"), h},

		// New York, Mon–Fri 09:00–17:00 and Sun 00:00–24:00.
		// Fri Mar 7 12:00–17:00 EST + Sun Mar 9 (23 h) + Mon Mar 10 09:00–12:00 EDT
		{"ny: spring DST weekend", ny, at(newYork, "2025-03-07 12:00"), at(newYork, "2025-03-10 12:00"), 31 * h},
		// Sun Nov 2 00:00 EDT (04:00Z) – Mon 00:00 EST (05:00Z Nov 3) = 25 h
		{"ny: autumn DST Sunday", ny, at(newYork, "2025-11-01 00:00"), at(newYork, "2025-11-03 00:00"), 25 * h},
		{"ny: ordinary Sunday", ny, at(newYork, "2025-03-15 00:00"), at(newYork, "2025-03-17 00:00"), 24 * h},

		// touching shifts: Thu 20:00–00:00 + Fri 00:00–02:00
		{"touch: across midnight", touch, at(berlin, "2025-01-09 20:00"), at(berlin, "2025-01-10 02:00"), 6 * h},

		{"never open", never, at(berlin, "2025-01-01 00:00"), at(berlin, "2026-01-01 00:00"), 0},
		{"all holidays", allHol, at(berlin, "2025-01-01 00:00"), at(berlin, "2027-01-01 00:00"), 0},
		{"24/7", AlwaysOpen(), at(berlin, "2025-03-29 00:00"), at(berlin, "2025-03-31 00:00"), 47 * h},
		// Go's ZoneBounds ends 2040 on Dec 31 (golang/go#81583): Dec 30, 31, Jan 1 × 9 h
		{"daily: end of a leap year after 2037", daily, at(berlin, "2040-12-30 00:00"), at(berlin, "2041-01-02 00:00"), 27 * h},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := compile(t, tt.s)
			if got := c.BusinessTime(tt.from, tt.to); got != tt.want {
				t.Errorf("BusinessTime(%v, %v) = %v, want %v", tt.from, tt.to, got, tt.want)
			}
			if got := ref(tt.s).businessTime(tt.from, tt.to); tt.to.Sub(tt.from) < 60*24*time.Hour && got != tt.want {
				t.Errorf("reference = %v, want %v (bad table?)", got, tt.want)
			}
		})
	}
}

func TestDueAt(t *testing.T) {
	h := time.Hour
	tests := []struct {
		name string
		s    Schedule
		from time.Time
		d    time.Duration
		want time.Time
	}{
		{"within a day", office, at(berlin, "2025-01-14 10:00"), 3 * h, at(berlin, "2025-01-14 13:00")},
		{"zero while open", office, at(berlin, "2025-01-14 10:00"), 0, at(berlin, "2025-01-14 10:00")},
		{"zero while closed", office, at(berlin, "2025-01-11 10:00"), 0, at(berlin, "2025-01-13 09:00")},
		{"zero at closing", office, at(berlin, "2025-01-14 18:00"), 0, at(berlin, "2025-01-15 09:00")},
		{"negative is zero", office, at(berlin, "2025-01-11 10:00"), -h, at(berlin, "2025-01-13 09:00")},
		// Fri 17:00–18:00 (1 h) + Mon 09:00–10:00
		{"across a weekend", office, at(berlin, "2025-01-10 17:00"), 2 * h, at(berlin, "2025-01-13 10:00")},
		{"ends at closing", office, at(berlin, "2025-01-14 10:00"), 8 * h, at(berlin, "2025-01-14 18:00")},
		{"in another location", office, utc("2025-01-10 16:00"), 2 * h, at(berlin, "2025-01-13 10:00")},
		{"sub-second", office, at(berlin, "2025-01-14 17:59").Add(59*time.Second + 500*time.Millisecond), time.Second,
			at(berlin, "2025-01-15 09:00").Add(500 * time.Millisecond)},
		// 520 weeks × 45 h from Mon Jan 6 2025 09:00 end on the Friday of the last week
		{"ten years", office, at(berlin, "2025-01-06 09:00"), 23400 * h, at(berlin, "2034-12-22 18:00")},
		// Thu Apr 17 17:00–18:00, Easter Fri–Mon closed, Tue Apr 22 09:00–10:00
		{"over a holiday range", officeHol, at(berlin, "2025-04-17 17:00"), 2 * h, at(berlin, "2025-04-22 10:00")},
		// 2304 h is the whole of 2025 (see TestBusinessTime): the last open
		// hour is Wed Dec 31 17:00–18:00
		{"a year with holidays", officeHol, at(berlin, "2025-01-01 00:00"), 2304 * h, at(berlin, "2025-12-31 18:00")},
		// Tue Dec 23 17:00–18:00, Dec 24 – Fri Jan 2 closed, Mon Jan 5 09:00–10:00
		{"over the yearly break", officeBreak, at(berlin, "2025-12-23 17:00"), 2 * h, at(berlin, "2026-01-05 10:00")},
		// Mon Feb 28 2028 17:00–18:00, Tue Feb 29 closed, Wed Mar 1 09:00–10:00
		{"over Feb 29", officeBreak, at(berlin, "2028-02-28 17:00"), 2 * h, at(berlin, "2028-03-01 10:00")},

		// Fri Dec 12 17:00–18:00, Dec 15–31 closed, Thu Jan 1 09:00–10:00
		{"over holidays inside holidays", officeNested, at(berlin, "2025-12-12 17:00"), 2 * h, at(berlin, "2026-01-01 10:00")},

		// split: 12:30–13:00 (30 min) + 14:00–14:30
		{"split: over the break", split, at(berlin, "2025-01-14 12:30"), h, at(berlin, "2025-01-14 14:30")},
		{"split: ends at the break", split, at(berlin, "2025-01-14 12:00"), h, at(berlin, "2025-01-14 13:00")},
		{"split: zero in the break", split, at(berlin, "2025-01-14 13:30"), 0, at(berlin, "2025-01-14 14:00")},
		{"split: a week", split, at(berlin, "2025-01-13 09:00"), 40 * h, at(berlin, "2025-01-17 18:00")},
		{"split: a week and a minute", split, at(berlin, "2025-01-13 09:00"), 40*h + time.Minute, at(berlin, "2025-01-20 09:01")},
		// 52 × 40 h from Mon Jan 6 2025: the 52nd week starts Mon Dec 29, ends Fri Jan 2 2026
		{"split: 52 weeks", split, at(berlin, "2025-01-06 09:00"), 52 * 40 * h, at(berlin, "2026-01-02 18:00")},

		// night: Sat 05:00–06:00 (Friday's shift) + Sat 22:00–23:00
		{"overnight: between shifts", night, at(berlin, "2025-01-11 05:00"), 2 * h, at(berlin, "2025-01-11 23:00")},
		{"overnight: into the next day", night, at(berlin, "2025-01-10 23:00"), 3 * h, at(berlin, "2025-01-11 02:00")},
		// Fri May 2 is a holiday: its shift is gone; Sat 22:00 + 1 h
		{"overnight: holiday on its first day", nightFriHol, at(berlin, "2025-05-02 12:00"), h, at(berlin, "2025-05-03 23:00")},
		// Sat May 3 is a holiday: Friday's shift still runs into it (8 h), then next Friday
		{"overnight: holiday on its second day", nightSatHol, at(berlin, "2025-05-02 12:00"), 9 * h, at(berlin, "2025-05-09 23:00")},

		// DST: Sat Mar 29 22:00 CET (21:00Z) + 7 h = Sun 06:00 CEST (04:00Z), the end of the shift
		{"overnight over spring DST", satNight, at(berlin, "2025-03-29 21:00"), 7 * h, utc("2025-03-30 04:00")},
		// 7 h that night, 30 min from Sat Apr 5 22:00 CEST
		{"overnight over spring DST, more", satNight, at(berlin, "2025-03-29 21:00"), 7*h + 30*time.Minute, at(berlin, "2025-04-05 22:30")},
		// Sat Oct 25 22:00 CEST (20:00Z) + 8 h = 04:00Z = Sun 05:00 CET
		{"overnight over autumn DST", satNight, at(berlin, "2025-10-25 21:00"), 8 * h, utc("2025-10-26 04:00")},
		// 00:00 CET (23:00Z) + 2 h = 01:00Z = 03:00 CEST, the end of the first shift
		{"early: spring, first shift", early, utc("2025-03-29 23:00"), 2 * h, utc("2025-03-30 01:00")},
		{"early: spring, second shift", early, utc("2025-03-29 23:00"), 2*h + 30*time.Minute, utc("2025-03-30 01:30")},
		// 00:00 CEST (22:00Z) + 2 h 30 = the first 02:30 (00:30Z)
		{"early: autumn, first shift", early, utc("2025-10-25 22:00"), 2*h + 30*time.Minute, utc("2025-10-26 00:30")},
		{"early: autumn, into the repeated hour", early, utc("2025-10-25 22:00"), 3*h + 30*time.Minute, utc("2025-10-26 01:30")},
		// Mar 30 has no 02:00–03:00; Apr 6 02:00 CEST (00:00Z) + 30 min
		{"gap: skipped hour", gap, at(berlin, "2025-03-29 12:00"), 30 * time.Minute, utc("2025-04-06 00:30")},

		// New York: Sat Mar 8 → Sun Mar 9 00:00 EST (05:00Z) + 23 h = Mon 00:00 EDT (04:00Z)
		{"ny: spring Sunday to its end", ny, at(newYork, "2025-03-08 10:00"), 23 * h, utc("2025-03-10 04:00")},
		{"ny: spring Sunday and an hour", ny, at(newYork, "2025-03-08 10:00"), 24 * h, at(newYork, "2025-03-10 10:00")},
		// Sun Nov 2 00:00 EDT (04:00Z) + 25 h = Mon 00:00 EST (05:00Z)
		{"ny: autumn Sunday to its end", ny, at(newYork, "2025-11-01 12:00"), 25 * h, utc("2025-11-03 05:00")},

		{"never open", never, at(berlin, "2025-01-01 00:00"), h, Never},
		{"never open, zero", never, at(berlin, "2025-01-01 00:00"), 0, Never},
		{"all holidays", allHol, at(berlin, "2025-01-01 00:00"), h, Never},
		{"24/7", AlwaysOpen(), at(berlin, "2025-03-29 12:00"), 24 * h, at(berlin, "2025-03-30 13:00")},
		// Dec 30 17:00–18:00, Dec 31 (9 h), Jan 1 09:00–10:00, over golang/go#81583
		{"daily: end of a leap year after 2037", daily, at(berlin, "2040-12-30 17:00"), 11 * h, at(berlin, "2041-01-01 10:00")},
		// 1039 nights × 8 h from Sat Feb 24 2024 (20 spring 7 h and 20 autumn 9 h
		// nights cancel out): the last is Feb 24 2024 + 1038 weeks (7266 days;
		// Feb 24 2044 is 7305 days on, less 39) = Sat Jan 16 2044, ending Sunday 06:00
		{"sat night: twenty years", satNight, at(berlin, "2024-02-20 12:00"), 1039 * 8 * h, at(berlin, "2044-01-17 06:00")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := compile(t, tt.s)
			got := c.DueAt(tt.from, tt.d)
			if !got.Equal(tt.want) {
				t.Fatalf("DueAt(%v, %v) = %v, want %v", tt.from, tt.d, got, tt.want)
			}
			if got.Equal(Never) {
				return
			}
			if got.Location() != tt.from.Location() {
				t.Errorf("DueAt in %v, want from's location %v", got.Location(), tt.from.Location())
			}
			if bt := c.BusinessTime(tt.from, got); bt != max(tt.d, 0) {
				t.Errorf("BusinessTime(from, DueAt) = %v, want %v", bt, tt.d)
			}
		})
	}
}

func TestIsOpenAndNextChange(t *testing.T) {
	tests := []struct {
		name string
		s    Schedule
		t    time.Time
		open bool
		next time.Time
	}{
		{"office: open", office, at(berlin, "2025-01-14 10:00"), true, at(berlin, "2025-01-14 18:00")},
		{"office: opening instant", office, at(berlin, "2025-01-14 09:00"), true, at(berlin, "2025-01-14 18:00")},
		{"office: closing instant", office, at(berlin, "2025-01-10 18:00"), false, at(berlin, "2025-01-13 09:00")},
		{"office: a nanosecond before closing", office, at(berlin, "2025-01-14 18:00").Add(-1), true, at(berlin, "2025-01-14 18:00")},
		{"office: weekend", office, at(berlin, "2025-01-11 12:00"), false, at(berlin, "2025-01-13 09:00")},
		{"office: in UTC", office, utc("2025-01-14 08:30"), true, utc("2025-01-14 17:00")},
		{"holiday", officeHol, at(berlin, "2025-12-25 10:00"), false, at(berlin, "2025-12-29 09:00")},
		{"split: break", split, at(berlin, "2025-01-14 13:00"), false, at(berlin, "2025-01-14 14:00")},
		{"night: after midnight", night, at(berlin, "2025-01-11 05:59"), true, at(berlin, "2025-01-11 06:00")},
		{"night: morning", night, at(berlin, "2025-01-11 06:00"), false, at(berlin, "2025-01-11 22:00")},
		{"night: Sunday morning", night, at(berlin, "2025-01-12 05:00"), true, at(berlin, "2025-01-12 06:00")},
		{"night: Friday holiday", nightFriHol, at(berlin, "2025-05-03 05:00"), false, at(berlin, "2025-05-03 22:00")},
		{"night: Saturday holiday", nightSatHol, at(berlin, "2025-05-03 05:00"), true, at(berlin, "2025-05-03 06:00")},
		{"night: Saturday holiday, evening", nightSatHol, at(berlin, "2025-05-03 23:00"), false, at(berlin, "2025-05-09 22:00")},
		// 02:45 CET, the second pass (01:45Z), is in the second shift (00:30Z–03:00Z)
		{"early: repeated hour, second pass", early, utc("2025-10-26 01:45"), true, utc("2025-10-26 03:00")},
		{"early: repeated hour, first pass", early, utc("2025-10-26 00:45"), true, utc("2025-10-26 03:00")},
		{"early: before the spring jump", early, utc("2025-03-30 00:59"), true, utc("2025-03-30 02:00")},
		{"gap: repeated hour, second pass", gap, utc("2025-10-26 01:30"), true, utc("2025-10-26 02:00")},
		{"gap: skipped hour", gap, utc("2025-03-30 01:00"), false, utc("2025-04-06 00:00")},
		{"ny: autumn Sunday, second 01:30", ny, utc("2025-11-02 06:30"), true, utc("2025-11-03 05:00")},
		{"ny: spring Sunday", ny, at(newYork, "2025-03-09 12:00"), true, utc("2025-03-10 04:00")},
		{"touch: whole days", touch, at(berlin, "2025-01-13 10:00"), true, at(berlin, "2025-01-15 00:00")},
		{"touch: Wednesday", touch, at(berlin, "2025-01-15 10:00"), false, at(berlin, "2025-01-16 20:00")},
		{"touch: over midnight", touch, at(berlin, "2025-01-16 21:00"), true, at(berlin, "2025-01-17 02:00")},
		{"touch: overnight into a morning shift", touch, at(berlin, "2025-01-17 23:00"), true, at(berlin, "2025-01-18 12:00")},
		{"never", never, at(berlin, "2025-01-14 10:00"), false, Never},
		{"all holidays", allHol, at(berlin, "2025-01-14 10:00"), false, Never},
		{"24/7", AlwaysOpen(), at(berlin, "2025-01-14 10:00"), true, Never},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := compile(t, tt.s)
			if got := c.IsOpen(tt.t); got != tt.open {
				t.Errorf("IsOpen(%v) = %v, want %v", tt.t, got, tt.open)
			}
			if got := ref(tt.s).isOpen(tt.t); got != tt.open {
				t.Errorf("reference IsOpen = %v (bad table?)", got)
			}
			if got := c.NextChange(tt.t); !got.Equal(tt.next) {
				t.Errorf("NextChange(%v) = %v, want %v", tt.t, got, tt.next)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	ok := func() Schedule {
		return Schedule{Name: "ok", TimeZone: "Europe/Berlin", Week: days("09:00", "18:00", monFri...)}
	}
	with := func(f func(*Schedule)) Schedule { s := ok(); f(&s); return s }
	many := func(n int, x Holiday) []Holiday {
		out := make([]Holiday, n)
		for i := range out {
			out[i] = x
		}
		return out
	}
	tests := []struct {
		name  string
		s     Schedule
		field string // "" = valid
	}{
		{"valid", ok(), ""},
		{"24/7", AlwaysOpen(), ""},
		{"no intervals", Schedule{Name: "x", TimeZone: "UTC"}, ""},
		{"touching shifts", with(func(s *Schedule) {
			s.Week = []Interval{iv(time.Monday, "09:00", "13:00"), iv(time.Monday, "13:00", "18:00")}
		}), ""},
		{"overnight touching Sunday", with(func(s *Schedule) {
			s.Week = []Interval{iv(time.Saturday, "22:00", "00:00"), iv(time.Sunday, "00:00", "06:00")}
		}), ""},
		{"overnight wrapping the week", with(func(s *Schedule) {
			s.Week = []Interval{iv(time.Saturday, "22:00", "06:00"), iv(time.Sunday, "06:00", "10:00")}
		}), ""},
		{"yearly just under a year", with(func(s *Schedule) {
			s.Holidays = []Holiday{{From: date("2024-03-01"), To: date("2025-02-28"), Yearly: true}}
		}), ""},
		{"yearly from Feb 29 to Feb 28", with(func(s *Schedule) {
			s.Holidays = []Holiday{{From: date("2024-02-29"), To: date("2025-02-28"), Yearly: true}}
		}), ""},
		{"long one-off range", with(func(s *Schedule) {
			s.Holidays = []Holiday{{From: date("2024-03-01"), To: date("2029-02-28")}}
		}), ""},
		{"most intervals", with(func(s *Schedule) {
			s.Week = nil
			for i := range MaxIntervals {
				s.Week = append(s.Week, Interval{Day: time.Weekday(i % 7), Start: Clock(i / 7 * 60), End: Clock(i/7*60 + 30)})
			}
		}), ""},

		{"no name", with(func(s *Schedule) { s.Name = "  " }), "name"},
		{"long name", with(func(s *Schedule) { s.Name = strings.Repeat("ä", MaxNameLen+1) }), "name"},
		{"no time zone", with(func(s *Schedule) { s.TimeZone = "" }), "time_zone"},
		{"unknown time zone", with(func(s *Schedule) { s.TimeZone = "Mars/Olympus_Mons" }), "time_zone"},
		{"server's local zone", with(func(s *Schedule) { s.TimeZone = "Local" }), "time_zone"},
		{"too many intervals", with(func(s *Schedule) {
			s.Week = nil
			for i := range MaxIntervals + 1 {
				s.Week = append(s.Week, Interval{Day: time.Weekday(i % 7), Start: Clock(i / 7 * 60), End: Clock(i/7*60 + 30)})
			}
		}), "week"},
		{"bad weekday", with(func(s *Schedule) { s.Week[1].Day = 7 }), "week[1].day"},
		{"negative weekday", with(func(s *Schedule) { s.Week[1].Day = -1 }), "week[1].day"},
		{"start 24:00", with(func(s *Schedule) { s.Week[2].Start = At(24, 0) }), "week[2].start"},
		{"negative start", with(func(s *Schedule) { s.Week[2].Start = -5 }), "week[2].start"},
		{"end past 24:00", with(func(s *Schedule) { s.Week[3].End = At(24, 1) }), "week[3].end"},
		{"negative end", with(func(s *Schedule) { s.Week[3].End = -1 }), "week[3].end"},
		{"end equals start", with(func(s *Schedule) { s.Week[0].End = s.Week[0].Start }), "week[0].end"},
		{"whole day as 00:00–00:00", with(func(s *Schedule) { s.Week = []Interval{iv(time.Monday, "00:00", "00:00")} }), "week[0].end"},
		{"overlapping split shifts", with(func(s *Schedule) {
			s.Week = []Interval{iv(time.Monday, "09:00", "13:00"), iv(time.Monday, "12:00", "18:00")}
		}), "week[1]"},
		{"duplicate", with(func(s *Schedule) { s.Week = append(s.Week, s.Week[2]) }), "week[5]"},
		{"names the later one", with(func(s *Schedule) {
			s.Week = []Interval{iv(time.Tuesday, "10:00", "11:00"), iv(time.Monday, "09:00", "18:00"), iv(time.Monday, "17:00", "19:00")}
		}), "week[2]"},
		{"later in the list, earlier in the week", with(func(s *Schedule) {
			s.Week = []Interval{iv(time.Monday, "12:00", "18:00"), iv(time.Monday, "09:00", "13:00")}
		}), "week[1]"},
		{"contained", with(func(s *Schedule) {
			s.Week = []Interval{iv(time.Monday, "08:00", "20:00"), iv(time.Monday, "10:00", "11:00"), iv(time.Monday, "19:00", "21:00")}
		}), "week[1]"},
		{"overnight into the next shift", with(func(s *Schedule) {
			s.Week = []Interval{iv(time.Monday, "22:00", "06:00"), iv(time.Tuesday, "05:00", "09:00")}
		}), "week[1]"},
		{"Saturday overnight into Sunday", with(func(s *Schedule) {
			s.Week = []Interval{iv(time.Sunday, "05:00", "10:00"), iv(time.Saturday, "22:00", "06:00")}
		}), "week[1]"},
		{"too many holidays", with(func(s *Schedule) { s.Holidays = many(MaxHolidays+1, Holiday{From: date("2025-01-01")}) }), "holidays"},
		{"most holidays", with(func(s *Schedule) { s.Holidays = many(MaxHolidays, Holiday{From: date("2025-01-01")}) }), ""},
		{"holiday without from", with(func(s *Schedule) { s.Holidays = []Holiday{{Name: "x"}} }), "holidays[0].from"},
		{"holiday from Feb 30", with(func(s *Schedule) {
			s.Holidays = []Holiday{{From: date("2025-01-01")}, {From: Date{2025, 2, 30}}}
		}), "holidays[1].from"},
		{"holiday year 0", with(func(s *Schedule) { s.Holidays = []Holiday{{From: Date{0, 1, 1}}} }), "holidays[0].from"},
		{"holiday to invalid", with(func(s *Schedule) {
			s.Holidays = []Holiday{{From: date("2025-01-01"), To: Date{2025, 13, 1}}}
		}), "holidays[0].to"},
		{"holiday ends before it starts", with(func(s *Schedule) {
			s.Holidays = []Holiday{{From: date("2025-01-01")}, {From: date("2025-12-26"), To: date("2025-12-24")}}
		}), "holidays[1].to"},
		{"yearly holiday of a year", with(func(s *Schedule) {
			s.Holidays = []Holiday{{From: date("2024-03-01"), To: date("2025-03-01"), Yearly: true}}
		}), "holidays[0].to"},
		{"yearly holiday from Feb 29 for a year", with(func(s *Schedule) {
			s.Holidays = []Holiday{{From: date("2024-02-29"), To: date("2025-03-01"), Yearly: true}}
		}), "holidays[0].to"},
		{"holiday name too long", with(func(s *Schedule) {
			s.Holidays = []Holiday{{Name: strings.Repeat("x", MaxNameLen+1), From: date("2025-01-01")}}
		}), "holidays[0].name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.Validate()
			_, cerr := tt.s.Compile()
			if (err == nil) != (cerr == nil) {
				t.Fatalf("Validate = %v but Compile = %v", err, cerr)
			}
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want valid", err)
				}
				return
			}
			var e *errs.Error
			if !errors.As(err, &e) || !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("Validate = %#v, want errs.Invalid(%q, ...)", err, tt.field)
			}
			if e.Field != tt.field || e.Message == "" {
				t.Errorf("Validate = %v (field %q), want field %q", err, e.Field, tt.field)
			}
		})
	}
}

func TestJSON(t *testing.T) {
	s := Schedule{Name: "Office", TimeZone: "Europe/Berlin",
		Week: []Interval{iv(time.Monday, "09:00", "18:00"), iv(time.Friday, "22:00", "06:00"), iv(time.Sunday, "00:00", "24:00")},
		Holidays: []Holiday{
			{Name: "Christmas", From: date("2020-12-25"), To: date("2020-12-26"), Yearly: true},
			{Name: "Founding day", From: date("2025-06-01")},
		}}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"name":"Office","time_zone":"Europe/Berlin","week":[` +
		`{"day":"monday","start":"09:00","end":"18:00"},{"day":"friday","start":"22:00","end":"06:00"},` +
		`{"day":"sunday","start":"00:00","end":"24:00"}],"holidays":[` +
		`{"name":"Christmas","from":"2020-12-25","to":"2020-12-26","yearly":true},` +
		`{"name":"Founding day","from":"2025-06-01","yearly":false}]}`
	if string(b) != want {
		t.Errorf("marshal:\n got %s\nwant %s", b, want)
	}
	var back Schedule
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(back)
	if string(b2) != want {
		t.Errorf("round trip:\n got %s\nwant %s", b2, want)
	}
	if back.Holidays[1].To != (Date{}) || back.Week[1].Start != At(22, 0) || back.Week[1].Day != time.Friday {
		t.Errorf("unmarshal: %+v", back)
	}
	// "to": "" is the same as no to
	var h Holiday
	if err := json.Unmarshal([]byte(`{"from":"2025-06-01","to":""}`), &h); err != nil || !h.To.IsZero() || h.Last() != date("2025-06-01") {
		t.Errorf("empty to: %+v, %v", h, err)
	}
	for _, bad := range []string{
		`{"week":[{"day":"funday","start":"09:00","end":"18:00"}]}`,
		`{"week":[{"day":"monday","start":"9:00","end":"18:00"}]}`,
		`{"week":[{"day":"monday","start":"09:00","end":"24:30"}]}`,
		`{"week":[{"day":"monday","start":"09:60","end":"18:00"}]}`,
		`{"week":[{"day":"monday","start":"ab:cd","end":"18:00"}]}`,
		`{"week":[{"day":1,"start":"09:00","end":"18:00"}]}`,
		`{"holidays":[{"from":"2025-02-30"}]}`,
		`{"holidays":[{"from":"25-01-01"}]}`,
	} {
		var s Schedule
		if err := json.Unmarshal([]byte(bad), &s); err == nil {
			t.Errorf("unmarshal %s: no error", bad)
		}
	}
	// day names are case-insensitive on input
	var x Interval
	if err := json.Unmarshal([]byte(`{"day":"Saturday","start":"22:00","end":"06:00"}`), &x); err != nil || x != iv(time.Saturday, "22:00", "06:00") {
		t.Errorf("unmarshal Saturday: %+v, %v", x, err)
	}
	if _, err := json.Marshal(Interval{Day: 9}); err == nil {
		t.Error("marshal weekday 9: no error")
	}
	if _, err := json.Marshal(Holiday{From: Date{2025, 2, 30}}); err == nil {
		t.Error("marshal Feb 30: no error")
	}
}

func TestClockAndDate(t *testing.T) {
	for s, want := range map[string]Clock{"00:00": 0, "09:05": 545, "23:59": 1439, "24:00": 1440} {
		if c, err := ParseClock(s); err != nil || c != want || c.String() != s {
			t.Errorf("ParseClock(%q) = %v (%d), %v", s, c, int(c), err)
		}
	}
	for _, s := range []string{"", "9:00", "24:01", "25:00", "12:60", "12-00", "+1:00", "1200", "12:000"} {
		if _, err := ParseClock(s); err == nil {
			t.Errorf("ParseClock(%q): no error", s)
		}
	}
	if d := date("2024-02-29"); d != (Date{2024, time.February, 29}) || d.String() != "2024-02-29" {
		t.Errorf("ParseDate = %v", d)
	}
	for _, s := range []string{"2025-02-29", "2025-1-1", "20250101", "", "2025-13-01"} {
		if _, err := ParseDate(s); err == nil {
			t.Errorf("ParseDate(%q): no error", s)
		}
	}
	// the civil day arithmetic agrees with package time over four centuries
	for day := daysFromCivil(1900, 1, 1); day <= daysFromCivil(2300, 1, 1); day++ {
		tt := time.Unix(day*86400, 0).UTC()
		y, m, d := civilFromDays(day)
		if y != int64(tt.Year()) || m != int(tt.Month()) || d != tt.Day() || weekday(day) != tt.Weekday() ||
			daysFromCivil(y, m, d) != day {
			t.Fatalf("day %d: %d-%d-%d %v, want %v", day, y, m, d, weekday(day), tt)
		}
	}
}

// TestAlwaysOpenGeneralPath runs the 24/7 schedule, and a 24/7 week in DST
// zones, through the general code instead of its shortcut.
func TestAlwaysOpenGeneralPath(t *testing.T) {
	for _, tz := range []string{"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"} {
		s := AlwaysOpen()
		s.TimeZone = tz
		// split the week differently: overnight shifts from 12:00 to 12:00 next day
		s2 := Schedule{Name: "noon to noon", TimeZone: tz}
		for d := time.Sunday; d <= time.Saturday; d++ {
			s2.Week = append(s2.Week, iv(d, "12:00", "00:00"), iv(d, "00:00", "12:00"))
		}
		for _, s := range []Schedule{s, s2} {
			c := compile(t, s)
			c.always = false
			from := at(time.UTC, "2025-01-01 00:00")
			for _, span := range []time.Duration{time.Minute, 30 * time.Hour, 100 * 24 * time.Hour, 800 * 24 * time.Hour} {
				for k := range 40 {
					f := from.Add(time.Duration(k)*7*time.Hour*24 + time.Duration(k)*time.Minute*37)
					if got := c.BusinessTime(f, f.Add(span)); got != span {
						t.Fatalf("%s %s: BusinessTime(%v, +%v) = %v", tz, s.Name, f, span, got)
					}
					if got := c.DueAt(f, span); !got.Equal(f.Add(span)) {
						t.Fatalf("%s %s: DueAt(%v, %v) = %v", tz, s.Name, f, span, got)
					}
					if !c.IsOpen(f) {
						t.Fatalf("%s: closed at %v", tz, f)
					}
				}
			}
			if got := c.NextChange(from); !got.Equal(Never) {
				t.Errorf("%s: NextChange = %v, want Never", tz, got)
			}
		}
	}
}

func TestNeverLimits(t *testing.T) {
	c := compile(t, office)
	// far in the future the search stops at year 9999
	if got := c.DueAt(at(berlin, "9999-12-01 00:00"), 1000*time.Hour); !got.Equal(Never) {
		t.Errorf("DueAt near year 9999 = %v", got)
	}
	// a huge duration saturates instead of overflowing
	if got := c.BusinessTime(at(berlin, "0001-01-01 00:00"), at(berlin, "9999-01-01 00:00")); got != 1<<63-1 {
		t.Errorf("BusinessTime over 9998 years = %v", got)
	}
	// a holiday further away than Lookahead on a 24/7 week: no change within Lookahead
	s := AlwaysOpen()
	s.Holidays = []Holiday{{From: date("2030-01-01")}}
	c = compile(t, s)
	if got := c.NextChange(utc("2025-01-01 00:00")); !got.Equal(Never) {
		t.Errorf("NextChange = %v, want Never", got)
	}
	if got := c.NextChange(utc("2029-06-01 00:00")); !got.Equal(utc("2030-01-01 00:00")) {
		t.Errorf("NextChange = %v, want the holiday", got)
	}
	// a shift once in 400+ days is still found by DueAt: the lookahead
	// counts days without open time, holidays closing most of the year
	s = Schedule{Name: "rare", TimeZone: "UTC", Week: office.Week, Holidays: []Holiday{
		{From: date("2024-01-02"), To: date("2024-12-31"), Yearly: true}}}
	c = compile(t, s)
	// Jan 1 2026 is a Thursday, open 09:00–18:00; Jan 1 2027 a Friday
	if got := c.DueAt(utc("2025-06-01 00:00"), 10*time.Hour); !got.Equal(utc("2027-01-01 10:00")) {
		t.Errorf("DueAt rare = %v", got)
	}
}
