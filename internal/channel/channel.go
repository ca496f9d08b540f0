// Package channel administers connected channels (Settings → Channels) and
// authenticates what they send. Platform adapters live in its subpackages.
package channel

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"strings"
	"unicode/utf8"

	"github.com/switchboard-hq/switchboard/internal/access"
	"github.com/switchboard-hq/switchboard/internal/auth"
	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
)

// Store keeps channels.
type Store interface {
	Channels(ctx context.Context) ([]cv.Channel, error)
	Channel(ctx context.Context, id int64) (cv.Channel, error)
	ChannelToken(ctx context.Context, id int64) (string, error)
	CreateChannel(ctx context.Context, c cv.Channel, tokenHash string) (cv.Channel, error)
	UpdateChannel(ctx context.Context, c cv.Channel) (cv.Channel, error)
	SetChannelToken(ctx context.Context, id int64, tokenHash string) error
	RemoveChannel(ctx context.Context, id int64) error
}

// Service manages channels.
type Service struct{ store Store }

// NewService returns the channel service.
func NewService(store Store) *Service { return &Service{store: store} }

// Patch changes the fields that are set.
type Patch struct {
	Kind         *cv.ChannelKind
	Name         *string
	DepartmentID *int64
	GroupID      *int64
	Active       *bool
}

// List returns the channels; every agent of the module sees their names.
func (s *Service) List(ctx context.Context, actor access.Actor) ([]cv.Channel, error) {
	if err := actor.Require(access.Omnichannel); err != nil {
		return nil, err
	}
	return s.store.Channels(ctx)
}

// Get returns one channel.
func (s *Service) Get(ctx context.Context, actor access.Actor, id int64) (cv.Channel, error) {
	if err := actor.Require(access.Omnichannel); err != nil {
		return cv.Channel{}, err
	}
	return s.store.Channel(ctx, id)
}

// Create connects a channel. For the api kind it returns the channel's API
// token, shown once.
func (s *Service) Create(ctx context.Context, actor access.Actor, p Patch) (cv.Channel, string, error) {
	if err := actor.Require(access.Settings); err != nil {
		return cv.Channel{}, "", err
	}
	if p.Kind == nil {
		return cv.Channel{}, "", errs.Invalid("kind", "is required")
	}
	if *p.Kind != cv.API {
		return cv.Channel{}, "", errs.Invalid("kind", "only api channels can be connected yet")
	}
	c, err := apply(cv.Channel{Kind: *p.Kind, Active: true}, p)
	if err != nil {
		return cv.Channel{}, "", err
	}
	if c.Name == "" {
		return cv.Channel{}, "", errs.Invalid("name", "is required")
	}
	token := newToken()
	c, err = s.store.CreateChannel(ctx, c, auth.HashToken(token))
	return c, token, err
}

// Update changes a channel's name, department, group or activity.
func (s *Service) Update(ctx context.Context, actor access.Actor, id int64, p Patch) (cv.Channel, error) {
	if err := actor.Require(access.Settings); err != nil {
		return cv.Channel{}, err
	}
	if p.Kind != nil {
		return cv.Channel{}, errs.Invalid("kind", "cannot be changed")
	}
	c, err := s.store.Channel(ctx, id)
	if err != nil {
		return cv.Channel{}, err
	}
	if c, err = apply(c, p); err != nil {
		return cv.Channel{}, err
	}
	return s.store.UpdateChannel(ctx, c)
}

// RotateToken replaces the API token of a channel and returns the new one.
func (s *Service) RotateToken(ctx context.Context, actor access.Actor, id int64) (string, error) {
	if err := actor.Require(access.Settings); err != nil {
		return "", err
	}
	token := newToken()
	return token, s.store.SetChannelToken(ctx, id, auth.HashToken(token))
}

// Remove disconnects a channel; its requests and their history stay.
func (s *Service) Remove(ctx context.Context, actor access.Actor, id int64) error {
	if err := actor.Require(access.Settings); err != nil {
		return err
	}
	return s.store.RemoveChannel(ctx, id)
}

// Authenticate checks the API token sent to a channel's inbound endpoint.
func (s *Service) Authenticate(ctx context.Context, id int64, token string) error {
	want, err := s.store.ChannelToken(ctx, id)
	denied := errs.Unauthenticated("invalid_token", "missing or wrong channel token")
	if err != nil || want == "" || token == "" {
		if err != nil && !errs.IsNotFound(err) {
			return err
		}
		return denied
	}
	if subtle.ConstantTimeCompare([]byte(auth.HashToken(token)), []byte(want)) != 1 {
		return denied
	}
	return nil
}

func apply(c cv.Channel, p Patch) (cv.Channel, error) {
	if p.Name != nil {
		c.Name = strings.TrimSpace(*p.Name)
		if c.Name == "" || utf8.RuneCountInString(c.Name) > 100 {
			return c, errs.Invalid("name", "must be 1 to 100 characters")
		}
	}
	if p.DepartmentID != nil {
		c.DepartmentID = *p.DepartmentID
	}
	if p.GroupID != nil {
		c.GroupID = *p.GroupID
	}
	if p.Active != nil {
		c.Active = *p.Active
	}
	return c, nil
}

func newToken() string { return "sbc_" + strings.ToLower(rand.Text()+rand.Text()) }
