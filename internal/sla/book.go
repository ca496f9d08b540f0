package sla

import (
	"fmt"

	"github.com/switchboard-hq/switchboard/internal/schedule"
)

// Book is every policy, in order, with its compiled business hours.
type Book struct {
	plans []*Plan
	byID  map[int64]*Plan
}

// NewBook compiles the policies' schedules; policies must be in order.
func NewBook(hours []Hours, policies []Policy) (*Book, error) {
	compiled := map[int64]*schedule.Compiled{}
	for _, h := range hours {
		c, err := h.Compile()
		if err != nil {
			return nil, fmt.Errorf("business hours %d: %w", h.ID, err)
		}
		compiled[h.ID] = c
	}
	b := &Book{byID: map[int64]*Plan{}}
	for _, p := range policies {
		c := compiled[p.ScheduleID]
		if c == nil {
			return nil, fmt.Errorf("policy %d: business hours %d not found", p.ID, p.ScheduleID)
		}
		plan := &Plan{Policy: p, Hours: c}
		b.plans = append(b.plans, plan)
		b.byID[p.ID] = plan
	}
	return b, nil
}

// For returns the plan of a new request: the first policy that matches it.
func (b *Book) For(channelID, departmentID int64) *Plan {
	for _, p := range b.plans {
		if p.Policy.Matches(channelID, departmentID) {
			return p
		}
	}
	return nil
}

// Plan returns a policy's plan, nil when it no longer exists.
func (b *Book) Plan(policyID int64) *Plan { return b.byID[policyID] }
