package sla

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/switchboard-hq/switchboard/internal/schedule"
)

// Plan is a policy with its business hours compiled: what a request's clocks
// run against.
type Plan struct {
	Policy Policy
	Hours  *schedule.Compiled
}

// dueAt is the instant (unix ms) a target of d falls due when its clock runs from ms.
func (p *Plan) dueAt(ms int64, d time.Duration) int64 {
	return p.Hours.DueAt(time.UnixMilli(ms), d).UnixMilli()
}

// Business is the business time between two instants (unix ms), in ms.
func (p *Plan) Business(from, to int64) int64 {
	if to <= from {
		return 0
	}
	return p.Hours.BusinessTime(time.UnixMilli(from), time.UnixMilli(to)).Milliseconds()
}

// State is what a request stores of its SLA: the instants (unix ms) its
// running clocks fall due, indexed like Targets (0 = not running), and what
// is needed to move them. The store changes it only through the methods
// below, in the transaction of the message or command that moves the clocks.
type State struct {
	PolicyID int64
	// Measured flags the targets the policy measured when the request began.
	Measured int
	Due      [3]int64
	// PausedAt is when the request started waiting for the client (clocks frozen).
	PausedAt int64
	// Breached flags the targets whose current clock is breached; a next
	// response's flag clears with the reply, NextBreaches keeps the count.
	Breached     int
	NextBreaches int
	// NextMet counts the next-response clocks answered in time.
	NextMet int
	// FirstReplyAt is the first agent reply; AwaitingSince the oldest client
	// message no reply has answered yet.
	FirstReplyAt  int64
	AwaitingSince int64
	// PausedMS is the business time spent waiting for the client, which
	// business-time resolution leaves out.
	PausedMS int64

	// Closed and plan only shape the JSON: the request is closed; the
	// policy the clocks run against (nil when it was deleted).
	Closed bool
	plan   *Plan
	now    func() time.Time
}

func index(t Target) int { return slices.Index(Targets, t) }

// Start starts the clocks of a new request at its first client message.
func (s *State) Start(p *Plan, now int64) {
	s.AwaitingSince = now
	if p == nil {
		return
	}
	s.PolicyID = p.Policy.ID
	for _, t := range Targets {
		d := p.Policy.Target(t)
		if d <= 0 {
			continue
		}
		s.Measured |= t.bit()
		if t != NextResponse {
			s.Due[index(t)] = p.dueAt(now, d)
		}
	}
}

// ClientWrote notes a client message: the first unanswered one after a
// reply starts the next-response clock (in live chat only). While paused,
// the new clock starts frozen at its full target.
func (s *State) ClientWrote(p *Plan, now int64, live bool) {
	if s.AwaitingSince != 0 {
		return
	}
	s.AwaitingSince = now
	if p == nil || s.FirstReplyAt == 0 || !live || s.Measured&NextResponse.bit() == 0 {
		return
	}
	if d := p.Policy.Target(NextResponse); d > 0 {
		from := now
		if s.PausedAt != 0 {
			from = s.PausedAt
		}
		s.Due[index(NextResponse)] = p.dueAt(from, d)
		s.Breached &^= NextResponse.bit()
	}
}

// Replied notes an agent reply: it stops the first or next response
// clock. Clocks already due must be flagged first (Breach): what is not
// flagged by now was answered in time.
func (s *State) Replied(now int64) {
	askedAt, first := s.AwaitingSince, s.FirstReplyAt == 0
	if first {
		s.FirstReplyAt = now
		s.Due[index(FirstResponse)] = 0
	} else if askedAt != 0 {
		if s.Due[index(NextResponse)] != 0 && s.Breached&NextResponse.bit() == 0 {
			s.NextMet++
		}
		s.Due[index(NextResponse)] = 0
		s.Breached &^= NextResponse.bit()
	}
	s.AwaitingSince = 0
}

// Pause freezes the clocks while the request waits for the client.
func (s *State) Pause(now int64) {
	if s.PausedAt == 0 {
		s.PausedAt = now
	}
}

// Resume restarts frozen clocks with the business time they had left.
func (s *State) Resume(p *Plan, now int64) {
	if s.PausedAt == 0 {
		return
	}
	for i, due := range s.Due {
		switch {
		case due <= s.PausedAt:
		case p != nil:
			s.Due[i] = p.dueAt(now, time.Duration(p.Business(s.PausedAt, due))*time.Millisecond)
		default:
			// The policy is gone: the clock moves by the wait, every second counted.
			s.Due[i] = due + now - s.PausedAt
		}
	}
	if p != nil {
		s.PausedMS += p.Business(s.PausedAt, now)
	}
	s.PausedAt = 0
}

// EndChat stops the response clocks when the chat ends but the request
// stays open in the classic interface; resolution runs on.
func (s *State) EndChat() {
	s.Due[index(FirstResponse)], s.Due[index(NextResponse)] = 0, 0
}

// Close stops every clock. It returns the request's resolution time in
// business time (ms), without the time it waited for the client.
func (s *State) Close(p *Plan, createdAt, now int64) (businessMS int64) {
	s.Resume(p, now)
	s.Due = [3]int64{}
	s.Closed = true
	if p == nil {
		return now - createdAt
	}
	return max(p.Business(createdAt, now)-s.PausedMS, 0)
}

// NextAt is the earliest instant a running clock breaches (0 = none): the
// key of the index the breach scheduler scans.
func (s *State) NextAt() int64 {
	if s.PausedAt != 0 {
		return 0
	}
	var next int64
	for i, due := range s.Due {
		if due != 0 && s.Breached&Targets[i].bit() == 0 && (next == 0 || due < next) {
			next = due
		}
	}
	return next
}

// Breach flags the running clocks that are due at now and returns their targets.
func (s *State) Breach(now int64) []Target {
	if s.PausedAt != 0 {
		return nil
	}
	var hit []Target
	for i, due := range s.Due {
		t := Targets[i]
		if due != 0 && due <= now && s.Breached&t.bit() == 0 {
			s.Breached |= t.bit()
			if t == NextResponse {
				s.NextBreaches++
			}
			hit = append(hit, t)
		}
	}
	return hit
}

// WasBreached reports whether the target was ever breached on this request.
func (s *State) WasBreached(t Target) bool {
	if t == NextResponse {
		return s.NextBreaches > 0
	}
	return s.Breached&t.bit() != 0
}

// Bind attaches the plan the clocks run against and the clock that reads
// the time, for the JSON view.
func (s *State) Bind(p *Plan, now func() time.Time) { s.plan, s.now = p, now }

// Clock is one target as the UI shows it. A running clock's time left is
// its business time left at as_of; Open lists the business-hours intervals
// from as_of until it falls due, so a client can count down exactly,
// pausing outside them, without knowing the schedule.
type Clock struct {
	Target      Target         `json:"target"`
	Seconds     int64          `json:"seconds"`
	State       string         `json:"state"`
	DueAt       *time.Time     `json:"due_at,omitempty"`
	LeftSeconds int64          `json:"left_seconds"`
	Open        [][2]time.Time `json:"open,omitempty"`
}

// The states of a Clock.
const (
	Idle     = "idle"     // nothing to answer (next response) or stopped
	Running  = "running"  // counting down
	Paused   = "paused"   // waiting for the client
	Met      = "met"      // answered or resolved in time
	Breached = "breached" // the target passed
)

// maxOpen bounds the intervals a clock lists; a client that reaches the
// last one waits for the next update.
const maxOpen = 16

// View is a request's SLA as the lists and the chat header show it.
type View struct {
	PolicyID       int64     `json:"policy_id"`
	Policy         string    `json:"policy"`
	WarningPercent int       `json:"warning_percent"`
	Paused         bool      `json:"paused"`
	AsOf           time.Time `json:"as_of"`
	Clocks         []Clock   `json:"clocks"`
}

// View describes the clocks at now; nil without a plan.
func (s *State) View(now time.Time) *View {
	p := s.plan
	if p == nil {
		return nil
	}
	ms := now.UnixMilli()
	v := &View{PolicyID: p.Policy.ID, Policy: p.Policy.Name, WarningPercent: p.Policy.WarningPercent,
		Paused: s.PausedAt != 0, AsOf: now.UTC(), Clocks: []Clock{}}
	for i, t := range Targets {
		// The targets measured since the request began, whatever the policy says now.
		if s.Measured&t.bit() == 0 {
			continue
		}
		c := Clock{Target: t, Seconds: int64(p.Policy.Target(t) / time.Second), State: Idle}
		due := s.Due[i]
		switch {
		case s.Breached&t.bit() != 0 || (t != NextResponse && s.WasBreached(t)):
			c.State = Breached
		case due != 0 && s.PausedAt != 0 && due > s.PausedAt:
			c.State, c.LeftSeconds = Paused, p.Business(s.PausedAt, due)/1000
		case due != 0 && (due <= ms || due <= s.PausedAt):
			c.State = Breached
		case due != 0:
			c.State, c.LeftSeconds, c.Open = Running, p.Business(ms, due)/1000, p.open(now, time.UnixMilli(due))
			if len(c.Open) == 0 {
				// No business hours before it falls due (a schedule that never opens).
				c.State = Paused
			}
		case t == FirstResponse && s.FirstReplyAt != 0, t == Resolution && s.Closed:
			c.State = Met
		}
		if due != 0 {
			at := time.UnixMilli(due).UTC()
			c.DueAt = &at
		}
		v.Clocks = append(v.Clocks, c)
	}
	return v
}

// open lists the business-hours intervals between from and to.
func (p *Plan) open(from, to time.Time) [][2]time.Time {
	var out [][2]time.Time
	t := from
	for len(out) < maxOpen && t.Before(to) {
		next := p.Hours.NextChange(t)
		if next.After(to) {
			next = to
		}
		if p.Hours.IsOpen(t) {
			out = append(out, [2]time.Time{t.UTC(), next.UTC()})
		}
		t = next
	}
	return out
}

// MarshalJSON writes the view at the current time.
func (s *State) MarshalJSON() ([]byte, error) {
	now := time.Now
	if s.now != nil {
		now = s.now
	}
	return json.Marshal(s.View(now()))
}
