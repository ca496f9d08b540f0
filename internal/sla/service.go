package sla

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/switchboard-hq/switchboard/internal/access"
	"github.com/switchboard-hq/switchboard/internal/errs"
)

// Store is what SLA needs of the database.
type Store interface {
	BusinessHours(ctx context.Context) ([]Hours, error)
	SaveBusinessHours(ctx context.Context, h Hours) (Hours, error)
	DeleteBusinessHours(ctx context.Context, id int64) error
	SLAPolicies(ctx context.Context) ([]Policy, error)
	SaveSLAPolicy(ctx context.Context, p Policy) (Policy, error)
	DeleteSLAPolicy(ctx context.Context, id int64) error
	OrderSLAPolicies(ctx context.Context, ids []int64) error
	Breach(ctx context.Context, limit int) (int, error)
}

// Service serves Settings → Omnichannel → Business hours and SLA, and runs
// the breach scheduler.
type Service struct {
	store Store
	log   *slog.Logger
}

// NewService returns the service; Run starts its scheduler.
func NewService(store Store, log *slog.Logger) *Service {
	return &Service{store: store, log: log}
}

// BusinessHours lists the schedules (right omnichannel.settings).
func (s *Service) BusinessHours(ctx context.Context, actor access.Actor) ([]Hours, error) {
	if err := actor.Require(access.Settings); err != nil {
		return nil, err
	}
	return s.store.BusinessHours(ctx)
}

// SaveBusinessHours creates (ID 0) or replaces a schedule. Requests keep
// the due instants they have; clocks started from now on use the change.
func (s *Service) SaveBusinessHours(ctx context.Context, actor access.Actor, h Hours) (Hours, error) {
	if err := actor.Require(access.Settings); err != nil {
		return Hours{}, err
	}
	h.Name = strings.TrimSpace(h.Name)
	h.Week, h.Holidays = nonNil(h.Week), nonNil(h.Holidays)
	if err := h.Validate(); err != nil {
		return Hours{}, err
	}
	if len(h.Week) == 0 {
		// Clocks over hours that never open would never fall due.
		return Hours{}, errs.Invalid("week", "must have at least one interval")
	}
	return s.store.SaveBusinessHours(ctx, h)
}

// DeleteBusinessHours removes a schedule no policy uses.
func (s *Service) DeleteBusinessHours(ctx context.Context, actor access.Actor, id int64) error {
	if err := actor.Require(access.Settings); err != nil {
		return err
	}
	return s.store.DeleteBusinessHours(ctx, id)
}

// Policies lists the policies in the order they are tried.
func (s *Service) Policies(ctx context.Context, actor access.Actor) ([]Policy, error) {
	if err := actor.Require(access.Settings); err != nil {
		return nil, err
	}
	return s.store.SLAPolicies(ctx)
}

// SavePolicy creates (ID 0, tried before the default) or replaces a policy.
func (s *Service) SavePolicy(ctx context.Context, actor access.Actor, p Policy) (Policy, error) {
	if err := actor.Require(access.Settings); err != nil {
		return Policy{}, err
	}
	// Which policy is the default is the store's to say.
	p.Default = false
	p.Normalize()
	if err := p.Validate(); err != nil {
		return Policy{}, err
	}
	return s.store.SaveSLAPolicy(ctx, p)
}

// DeletePolicy removes a policy other than the default.
func (s *Service) DeletePolicy(ctx context.Context, actor access.Actor, id int64) error {
	if err := actor.Require(access.Settings); err != nil {
		return err
	}
	return s.store.DeleteSLAPolicy(ctx, id)
}

// OrderPolicies sets the order policies are tried in.
func (s *Service) OrderPolicies(ctx context.Context, actor access.Actor, ids []int64) error {
	if err := actor.Require(access.Settings); err != nil {
		return err
	}
	return s.store.OrderSLAPolicies(ctx, ids)
}

// tick is how often the scheduler looks for due clocks: a breach is
// recorded within a second of its instant.
const tick = time.Second

// Run records breaches as they fall due until ctx ends. Every instance runs
// it; the store lets one round at a time write, so each breach is written once.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		// A backlog (after a pause of the scheduler) goes in rounds of 100
		// until a round finds nothing more to record.
		for ctx.Err() == nil {
			n, err := s.store.Breach(ctx, 100)
			if err != nil && ctx.Err() == nil {
				s.log.Warn("sla: record breaches", slog.Any("error", err))
			}
			if err != nil || n == 0 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
