package sla

import (
	"errors"
	"testing"
	"time"

	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/schedule"
)

func TestPolicyValidateNamesTheField(t *testing.T) {
	valid := func() Policy {
		return Policy{Name: "VIP", ScheduleID: 1, Targets: map[Target]int64{FirstResponse: 300}}
	}
	cases := []struct {
		name  string
		edit  func(p *Policy)
		field string
	}{
		{"valid", func(*Policy) {}, ""},
		{"no name", func(p *Policy) { p.Name = "  " }, "name"},
		{"no business hours", func(p *Policy) { p.ScheduleID = 0 }, "business_hours_id"},
		{"a target of 0", func(p *Policy) { p.Targets[FirstResponse] = 0 }, "targets.first_response"},
		{"a negative target", func(p *Policy) { p.Targets[Resolution] = -60 }, "targets.resolution"},
		{"a target over a year", func(p *Policy) { p.Targets[NextResponse] = 366 * 86400 }, "targets.next_response"},
		{"an unknown target", func(p *Policy) { p.Targets["lunch"] = 60 }, "targets.lunch"},
		{"warning at 100 %", func(p *Policy) { p.WarningPercent = 100 }, "warning_percent"},
		{"an unknown action", func(p *Policy) { p.OnBreach = "escalate" }, "on_breach"},
		{"conditions on the default", func(p *Policy) { p.Default, p.Channels = true, []int64{3} }, "channels"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := valid()
			c.edit(&p)
			p.Normalize()
			err := p.Validate()
			var e *errs.Error
			switch {
			case c.field == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.field == "":
			case !errors.As(err, &e) || e.Field != c.field || !errors.Is(err, errs.ErrInvalid):
				t.Fatalf("err = %v, want invalid %s", err, c.field)
			}
		})
	}
}

func TestNormalizeDefaultsTheWarningAndSortsConditions(t *testing.T) {
	p := Policy{Name: " VIP ", Channels: []int64{3, 1, 3}}
	p.Normalize()
	if p.Name != "VIP" || p.WarningPercent != DefaultWarning || len(p.Channels) != 2 || p.Channels[0] != 1 || p.Departments == nil || p.Targets == nil {
		t.Fatalf("%+v", p)
	}
}

func TestHuman(t *testing.T) {
	for d, want := range map[time.Duration]string{
		45 * time.Second:              "45 s",
		10 * time.Minute:              "10 min",
		90 * time.Minute:              "1 h 30 min",
		8 * time.Hour:                 "8 h",
		50*time.Hour + 5*time.Minute:  "2 d 2 h",
		24*time.Hour + 30*time.Second: "1 d 30 s",
		0:                             "0 s",
	} {
		if got := Human(d); got != want {
			t.Errorf("Human(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestMatchesAndFirstMatchWins(t *testing.T) {
	always := Hours{ID: 1}
	always.Schedule = schedule.AlwaysOpen()
	book, err := NewBook([]Hours{always}, []Policy{
		{ID: 1, Name: "Telegram sales", ScheduleID: 1, Channels: []int64{7}, Departments: []int64{2}},
		{ID: 2, Name: "Telegram", ScheduleID: 1, Channels: []int64{7}},
		{ID: 3, Name: "Default", ScheduleID: 1, Default: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ channel, department, want int64 }{{7, 2, 1}, {7, 0, 2}, {7, 5, 2}, {8, 2, 3}} {
		if got := book.For(c.channel, c.department).Policy.ID; got != c.want {
			t.Errorf("channel %d department %d: policy %d, want %d", c.channel, c.department, got, c.want)
		}
	}
}
