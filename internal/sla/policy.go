// Package sla holds the Omnichannel module's service levels: policies with
// their targets, and the clocks each request runs against them over business
// hours (package schedule). The store keeps a request's clock state with the
// request and changes it in the same transaction as the message or command
// that moves it; docs/sla.md describes the rules.
package sla

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/schedule"
)

// Target is one of the three things a policy measures.
type Target string

// The targets, in the order they are shown.
const (
	// FirstResponse runs from the client's first message to the first agent reply.
	FirstResponse Target = "first_response"
	// NextResponse runs from each later unanswered client message to the next agent reply.
	NextResponse Target = "next_response"
	// Resolution runs from the request's creation to its close.
	Resolution Target = "resolution"
)

// Targets lists every target.
var Targets = []Target{FirstResponse, NextResponse, Resolution}

// Valid reports whether t is a known target.
func (t Target) Valid() bool { return slices.Contains(Targets, t) }

// bit is the target's flag in a request's breach mask.
func (t Target) bit() int { return 1 << slices.Index(Targets, t) }

// Label is the target's name in event lines.
func (t Target) Label() string { return strings.ReplaceAll(string(t), "_", " ") }

// Action is what happens to an assigned request when one of its targets is breached.
type Action string

// The breach actions.
const (
	NoAction Action = ""
	// Requeue returns the request to the Unassigned queue; where the group's
	// dispatcher is on, it reassigns it, to another agent before the one it
	// was taken from.
	Requeue Action = "requeue"
)

// Bounds of a policy.
const (
	MaxTarget       = 365 * 24 * time.Hour
	MaxNameLen      = 100
	DefaultWarning  = 80
	DefaultFirstDue = 10 * time.Minute // the spec's reference product's first response in chats
)

// Policy is a set of targets and the requests it applies to. Policies are
// ordered; the first whose conditions match a new request applies. The
// default policy has no conditions and comes last.
type Policy struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Position int    `json:"position"`
	Default  bool   `json:"default"`
	// ScheduleID names the business hours the clocks run in.
	ScheduleID int64 `json:"business_hours_id"`
	// Targets in seconds; a missing target is not measured.
	Targets map[Target]int64 `json:"targets"`
	// WarningPercent of a target spent turns its clock to the warning state.
	WarningPercent int `json:"warning_percent"`
	// Channels and Departments restrict the policy (empty = any).
	Channels    []int64 `json:"channels"`
	Departments []int64 `json:"departments"`
	OnBreach    Action  `json:"on_breach"`
}

// Target returns a target's duration, zero when the policy does not measure it.
func (p Policy) Target(t Target) time.Duration {
	return time.Duration(p.Targets[t]) * time.Second
}

// Normalize fills defaults and makes lists non-nil.
func (p *Policy) Normalize() {
	p.Name = strings.TrimSpace(p.Name)
	if p.WarningPercent == 0 {
		p.WarningPercent = DefaultWarning
	}
	if p.Targets == nil {
		p.Targets = map[Target]int64{}
	}
	p.Channels, p.Departments = nonNil(p.Channels), nonNil(p.Departments)
	slices.Sort(p.Channels)
	slices.Sort(p.Departments)
	p.Channels, p.Departments = slices.Compact(p.Channels), slices.Compact(p.Departments)
}

// Validate checks a normalized policy; failures name the field.
func (p Policy) Validate() error {
	switch {
	case p.Name == "":
		return errs.Invalid("name", "is required")
	case utf8.RuneCountInString(p.Name) > MaxNameLen:
		return errs.Invalid("name", fmt.Sprintf("must be at most %d characters", MaxNameLen))
	case p.ScheduleID <= 0:
		return errs.Invalid("business_hours_id", "is required")
	case p.WarningPercent < 1 || p.WarningPercent > 99:
		return errs.Invalid("warning_percent", "must be between 1 and 99")
	case p.OnBreach != NoAction && p.OnBreach != Requeue:
		return errs.Invalid("on_breach", `must be "" (nothing) or "requeue"`)
	case p.Default && (len(p.Channels) > 0 || len(p.Departments) > 0):
		return errs.Invalid("channels", "the default policy applies to every request and takes no conditions")
	}
	for t, secs := range p.Targets {
		field := "targets." + string(t)
		switch {
		case !t.Valid():
			return errs.Invalid(field, "is not a target (first_response, next_response, resolution)")
		case secs <= 0:
			return errs.Invalid(field, "must be at least 1 second (leave it out to not measure it)")
		case time.Duration(secs)*time.Second > MaxTarget:
			return errs.Invalid(field, "must be at most 365 days")
		}
	}
	return nil
}

// Matches reports whether the policy applies to a new request of the channel
// and department.
func (p Policy) Matches(channelID, departmentID int64) bool {
	return (len(p.Channels) == 0 || slices.Contains(p.Channels, channelID)) &&
		(len(p.Departments) == 0 || slices.Contains(p.Departments, departmentID))
}

// Human writes a target the way people say it: "10 min", "1 h 30 min", "2 d 4 h", "45 s".
func Human(d time.Duration) string {
	secs := int64(d / time.Second)
	units := []struct {
		n    int64
		name string
	}{{86400, "d"}, {3600, "h"}, {60, "min"}, {1, "s"}}
	var parts []string
	for _, u := range units {
		if v := secs / u.n; v > 0 && len(parts) < 2 {
			parts = append(parts, fmt.Sprintf("%d %s", v, u.name))
			secs -= v * u.n
		}
	}
	if len(parts) == 0 {
		return "0 s"
	}
	return strings.Join(parts, " ")
}

// Hours is a stored business-hours schedule.
type Hours struct {
	ID      int64 `json:"id"`
	Default bool  `json:"default"`
	schedule.Schedule
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
