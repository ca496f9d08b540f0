// Package dispatch assigns waiting requests to agents automatically, per
// group (Settings → Omnichannel → Dispatcher), and keeps agents who hold
// requests in chosen statuses from going Offline. The assignment itself is
// the store's one write behind "Take the chat"; see docs/supervision.md.
package dispatch

import (
	"context"
	"log/slog"
	"time"

	"github.com/switchboard-hq/switchboard/internal/access"
	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/realtime"
	"github.com/switchboard-hq/switchboard/internal/settings"
)

// DefaultCapacity is a new rule's capacity.
const DefaultCapacity = 3

// Rule is a group's dispatcher.
type Rule struct {
	GroupID             int64 `json:"group_id"`
	Enabled             bool  `json:"enabled"`
	Capacity            int   `json:"capacity"`
	RequeueAfterMinutes int   `json:"requeue_after_minutes"`
	RequeueOnOffline    bool  `json:"requeue_on_offline"`
}

// Store is what dispatching needs of the database.
type Store interface {
	DispatchRules(ctx context.Context) ([]Rule, error)
	SetDispatchRule(ctx context.Context, r Rule) (Rule, error)
	Dispatch(ctx context.Context, limit int) (int, error)
	Requeue(ctx context.Context, limit int) (int, error)
	HeldRequests(ctx context.Context, agentID int64, statuses []int64) ([]int64, error)
}

// Settings gives the team's Omnichannel settings.
type Settings interface {
	Omnichannel(ctx context.Context) (settings.Omnichannel, error)
}

// Service runs the dispatcher and serves its rules.
type Service struct {
	store    Store
	settings Settings
	hub      *realtime.Hub
	log      *slog.Logger
	wake     chan struct{}
}

// NewService returns the dispatcher; Run starts it.
func NewService(store Store, settings Settings, hub *realtime.Hub, log *slog.Logger) *Service {
	return &Service{store: store, settings: settings, hub: hub, log: log, wake: make(chan struct{}, 1)}
}

// Rules lists every group's rule (right omnichannel.settings).
func (s *Service) Rules(ctx context.Context, actor access.Actor) ([]Rule, error) {
	if err := actor.Require(access.Settings); err != nil {
		return nil, err
	}
	return s.store.DispatchRules(ctx)
}

// SetRule changes a group's rule; the dispatcher applies it at once.
func (s *Service) SetRule(ctx context.Context, actor access.Actor, r Rule) (Rule, error) {
	if err := actor.Require(access.Settings); err != nil {
		return Rule{}, err
	}
	if r.Capacity < 1 || r.Capacity > 100 {
		return Rule{}, errs.Invalid("capacity", "must be between 1 and 100 chats")
	}
	if r.RequeueAfterMinutes < 0 || r.RequeueAfterMinutes > 1440 {
		return Rule{}, errs.Invalid("requeue_after_minutes", "must be between 0 (never) and 1440 minutes")
	}
	r, err := s.store.SetDispatchRule(ctx, r)
	if err == nil {
		s.Wake()
	}
	return r, err
}

// MayGoOffline is the "restrict going Offline" rule: an agent holding open
// requests in one of the chosen statuses stays on.
func (s *Service) MayGoOffline(ctx context.Context, agentID int64) error {
	o, err := s.settings.Omnichannel(ctx)
	if err != nil {
		return err
	}
	held, err := s.store.HeldRequests(ctx, agentID, o.RestrictOfflineStatuses)
	if err != nil || len(held) == 0 {
		return err
	}
	return &errs.Error{Kind: errs.ErrConflict, Code: "offline_restricted", Requests: held,
		Message: "you still hold requests that must be finished before going Offline"}
}

// Wake makes the dispatcher look at the queue now.
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// tick is the safety net: grace periods end and requeue timers expire
// without any event.
const tick = time.Second

// Run dispatches until ctx ends: whenever something may have changed who
// can take what (a new request, a status, a close, a transfer), and every
// second.
func (s *Service) Run(ctx context.Context) {
	sub := s.hub.Subscribe(s.hub.Head(), func(e cv.Event) bool { return wakes(e.Kind) })
	defer sub.Close()
	go func() {
		for {
			if _, err := sub.Next(ctx); err != nil {
				return
			}
			s.Wake()
		}
	}()
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		s.round(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
	}
}

func wakes(kind string) bool {
	switch kind {
	case cv.EventConversationCreated, cv.EventConversationClosed, cv.EventConversationUpdated, cv.EventConversationTransferred,
		cv.EventConversationReturned, cv.EventConversationAssigned, cv.EventAgentPresence:
		return true
	}
	return false
}

// round takes back what must go back, then assigns until nothing more can be.
func (s *Service) round(ctx context.Context) {
	if _, err := s.store.Requeue(ctx, 100); err != nil && ctx.Err() == nil {
		s.log.Warn("dispatcher: requeue", slog.Any("error", err))
	}
	for ctx.Err() == nil {
		n, err := s.store.Dispatch(ctx, 50)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("dispatcher: assign", slog.Any("error", err))
			}
			return
		}
		if n < 50 {
			return
		}
	}
}
