// Package settings keeps the team-wide Omnichannel settings (Settings →
// Omnichannel): what the lists show, merging replies at close, the widget's
// department avatar, restricting Offline, the team's time zone and the
// grace period of disconnected agents.
package settings

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/switchboard-hq/switchboard/internal/access"
	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
)

// Omnichannel is Settings → Omnichannel.
type Omnichannel struct {
	MergeReplies     bool `json:"merge_replies"`
	DepartmentAvatar bool `json:"department_avatar"`
	// ViewChannels and ViewStatuses narrow the Omnichannel lists; empty
	// means all.
	ViewChannels []cv.ChannelKind `json:"view_channels"`
	ViewStatuses []int64          `json:"view_statuses"`
	// RestrictOfflineStatuses: an agent holding open requests in one of
	// these statuses cannot go Offline.
	RestrictOfflineStatuses []int64 `json:"restrict_offline_statuses"`
	TimeZone                string  `json:"time_zone"`
	GraceSeconds            int     `json:"grace_seconds"`
}

// Defaults are the settings of a new team.
var Defaults = Omnichannel{ViewChannels: []cv.ChannelKind{}, ViewStatuses: []int64{}, RestrictOfflineStatuses: []int64{}, TimeZone: "UTC", GraceSeconds: 120}

// Grace is how long an Online agent without a connected tab still counts as Online.
func (o Omnichannel) Grace() time.Duration { return time.Duration(o.GraceSeconds) * time.Second }

// Location is the team's time zone (UTC when it cannot be loaded).
func (o Omnichannel) Location() *time.Location {
	if loc, err := time.LoadLocation(o.TimeZone); err == nil {
		return loc
	}
	return time.UTC
}

// Store keeps settings as JSON documents by key.
type Store interface {
	Setting(ctx context.Context, key string) (string, error) // "" when never set
	SetSetting(ctx context.Context, key, value string) error
	Statuses(ctx context.Context) ([]cv.Status, error)
}

const key = "omnichannel"

// cacheFor is how long settings are reused: they are read by every list
// and every dispatch, and change rarely (another instance sees a change
// within this time).
const cacheFor = 2 * time.Second

// Service reads and changes the settings.
type Service struct {
	store Store
	mu    sync.Mutex
	value Omnichannel
	read  time.Time
}

// NewService returns the settings service.
func NewService(store Store) *Service { return &Service{store: store} }

// Omnichannel returns the current settings, for the other services.
func (s *Service) Omnichannel(ctx context.Context) (Omnichannel, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.read.IsZero() && time.Since(s.read) < cacheFor {
		return s.value, nil
	}
	raw, err := s.store.Setting(ctx, key)
	if err != nil {
		return Defaults, err
	}
	v := Defaults
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			return Defaults, err
		}
	}
	s.value, s.read = v, time.Now()
	return v, nil
}

// Get returns the settings to an agent of the module (the lists follow them).
func (s *Service) Get(ctx context.Context, actor access.Actor) (Omnichannel, error) {
	if err := actor.Require(access.Omnichannel); err != nil {
		return Omnichannel{}, err
	}
	return s.Omnichannel(ctx)
}

// Update replaces the settings (right omnichannel.settings).
func (s *Service) Update(ctx context.Context, actor access.Actor, o Omnichannel) (Omnichannel, error) {
	if err := actor.Require(access.Settings); err != nil {
		return Omnichannel{}, err
	}
	if o.TimeZone == "" {
		o.TimeZone = "UTC"
	}
	if _, err := time.LoadLocation(o.TimeZone); err != nil {
		return Omnichannel{}, errs.Invalid("time_zone", "is not a time zone name like Europe/Berlin")
	}
	// Open tabs vouch for their agent every 30 seconds: a shorter grace
	// would count connected agents as gone.
	if o.GraceSeconds < 60 || o.GraceSeconds > 3600 {
		return Omnichannel{}, errs.Invalid("grace_seconds", "must be between a minute and an hour")
	}
	for _, k := range o.ViewChannels {
		if !k.Valid() {
			return Omnichannel{}, errs.Invalid("view_channels", "no such channel kind: "+string(k))
		}
	}
	statuses, err := s.store.Statuses(ctx)
	if err != nil {
		return Omnichannel{}, err
	}
	for field, ids := range map[string][]int64{"view_statuses": o.ViewStatuses, "restrict_offline_statuses": o.RestrictOfflineStatuses} {
		for _, id := range ids {
			if !slices.ContainsFunc(statuses, func(st cv.Status) bool { return st.ID == id }) {
				return Omnichannel{}, errs.Invalid(field, "no such status")
			}
		}
	}
	o.ViewChannels, o.ViewStatuses, o.RestrictOfflineStatuses = nonNil(o.ViewChannels), nonNil(o.ViewStatuses), nonNil(o.RestrictOfflineStatuses)
	data, _ := json.Marshal(o)
	if err := s.store.SetSetting(ctx, key, string(data)); err != nil {
		return Omnichannel{}, err
	}
	s.mu.Lock()
	s.value, s.read = o, time.Now()
	s.mu.Unlock()
	return o, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
