package supervision

import (
	"errors"
	"testing"
	"time"

	"github.com/switchboard-hq/switchboard/internal/errs"
)

func TestDayIsTheCalendarDayOfTheZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		at       time.Time
		loc      *time.Location
		from, to time.Time
	}{
		{time.Date(2025, 1, 15, 23, 30, 0, 0, time.UTC), time.UTC,
			time.Date(2025, 1, 15, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 16, 0, 0, 0, 0, time.UTC)},
		// 23:30 UTC is already the next day in Berlin.
		{time.Date(2025, 1, 15, 23, 30, 0, 0, time.UTC), berlin,
			time.Date(2025, 1, 15, 23, 0, 0, 0, time.UTC), time.Date(2025, 1, 16, 23, 0, 0, 0, time.UTC)},
		// The day clocks go forward has 23 hours.
		{time.Date(2025, 3, 30, 12, 0, 0, 0, time.UTC), berlin,
			time.Date(2025, 3, 29, 23, 0, 0, 0, time.UTC), time.Date(2025, 3, 30, 22, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		from, to := Day(c.at, c.loc)
		if !from.Equal(c.from) || !to.Equal(c.to) {
			t.Errorf("Day(%s, %s) = [%s, %s), want [%s, %s)", c.at, c.loc, from.UTC(), to.UTC(), c.from, c.to)
		}
	}
}

func TestCursorsRoundTripOnlyInTheirOrder(t *testing.T) {
	c := Cursor{At: time.Date(2025, 1, 15, 9, 30, 0, 123_000_000, time.UTC), ID: 42}
	for _, s := range []Sort{SortDuration, SortActivity, SortCreated} {
		got, err := parseCursor(s, c.encode(s))
		if err != nil || got != c {
			t.Errorf("%s: %+v, %v; want %+v", s, got, err, c)
		}
		for _, other := range []Sort{SortDuration, SortActivity, SortCreated} {
			if other == s {
				continue
			}
			if _, err := parseCursor(other, c.encode(s)); !errors.Is(err, errs.ErrInvalid) {
				t.Errorf("a %s cursor read as %s: %v", s, other, err)
			}
		}
	}
	for _, bad := range []string{"x", "!!", Cursor{ID: 0}.encode(SortDuration), "ZHVyYXRpb24uMS4y.x"} {
		if _, err := parseCursor(SortDuration, bad); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("parseCursor(%q) = %v, want invalid", bad, err)
		}
	}
	if c, err := parseCursor(SortDuration, ""); err != nil || !c.IsZero() {
		t.Errorf("the empty cursor = %+v, %v", c, err)
	}
}

func TestLimitsAreClamped(t *testing.T) {
	for in, want := range map[int]int{-5: DefaultLimit, 0: DefaultLimit, 1: 1, 200: 200, 201: MaxLimit, 1 << 30: MaxLimit} {
		if got := ClampLimit(in); got != want {
			t.Errorf("ClampLimit(%d) = %d, want %d", in, got, want)
		}
	}
}
