// Package channel administers connected channels (Settings → Channels) and
// authenticates what they send. Platform adapters live in its subpackages.
package channel

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"net/url"
	"regexp"
	"slices"
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
	Widget       *WidgetPatch
}

// WidgetPatch changes a website chat channel's own settings.
type WidgetPatch struct {
	Origins        *[]string      `json:"origins"`
	StrictIdentity *bool          `json:"strict_identity"`
	Appearance     *cv.Appearance `json:"appearance"`
}

// List returns the channels; every agent of the module sees their names,
// only settings holders their secrets.
func (s *Service) List(ctx context.Context, actor access.Actor) ([]cv.Channel, error) {
	if err := actor.Require(access.Omnichannel); err != nil {
		return nil, err
	}
	list, err := s.store.Channels(ctx)
	for i := range list {
		list[i] = redact(actor, list[i])
	}
	return list, err
}

// Get returns one channel.
func (s *Service) Get(ctx context.Context, actor access.Actor, id int64) (cv.Channel, error) {
	if err := actor.Require(access.Omnichannel); err != nil {
		return cv.Channel{}, err
	}
	c, err := s.store.Channel(ctx, id)
	return redact(actor, c), err
}

func redact(actor access.Actor, c cv.Channel) cv.Channel {
	if c.Widget != nil && !actor.Can(access.Settings) {
		w := *c.Widget
		w.IdentitySecret = ""
		c.Widget = &w
	}
	return c
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
	c := cv.Channel{Kind: *p.Kind, Active: true}
	switch *p.Kind {
	case cv.API:
		if p.Widget != nil {
			return cv.Channel{}, "", errs.Invalid("widget", "only website chat channels have widget settings")
		}
	case cv.Widget:
		c.Widget = &cv.WidgetSettings{Appearance: cv.DefaultAppearance, IdentitySecret: newSecret()}
	default:
		return cv.Channel{}, "", errs.Invalid("kind", "only api and widget channels can be connected yet")
	}
	c, err := apply(c, p)
	if err != nil {
		return cv.Channel{}, "", err
	}
	if c.Name == "" {
		return cv.Channel{}, "", errs.Invalid("name", "is required")
	}
	if c.Widget != nil && len(c.Widget.Origins) == 0 {
		return cv.Channel{}, "", errs.Invalid("widget.origins", "name at least one site the widget runs on, e.g. https://shop.example.com")
	}
	if c.Kind != cv.API {
		// Only the api kind is reached with a token.
		c, err = s.store.CreateChannel(ctx, c, "")
		return c, "", err
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

// RotateToken replaces a channel's secret and returns the new one: the API
// token of an api channel, the identity secret of a website chat.
func (s *Service) RotateToken(ctx context.Context, actor access.Actor, id int64) (string, error) {
	if err := actor.Require(access.Settings); err != nil {
		return "", err
	}
	c, err := s.store.Channel(ctx, id)
	if err != nil {
		return "", err
	}
	if c.Widget != nil {
		c.Widget.IdentitySecret = newSecret()
		_, err := s.store.UpdateChannel(ctx, c)
		return c.Widget.IdentitySecret, err
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
	if p.Widget != nil {
		if c.Widget == nil {
			return c, errs.Invalid("widget", "only website chat channels have widget settings")
		}
		w, err := applyWidget(*c.Widget, *p.Widget)
		if err != nil {
			return c, err
		}
		c.Widget = &w
	}
	return c, nil
}

var colour = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

func applyWidget(w cv.WidgetSettings, p WidgetPatch) (cv.WidgetSettings, error) {
	if p.Origins != nil {
		if len(*p.Origins) == 0 || len(*p.Origins) > 50 {
			return w, errs.Invalid("widget.origins", "name 1 to 50 sites, e.g. https://shop.example.com")
		}
		w.Origins = nil
		for _, o := range *p.Origins {
			origin, ok := normalOrigin(o)
			if !ok {
				return w, errs.Invalid("widget.origins", fmt.Sprintf("%q is not a site origin like https://shop.example.com", o))
			}
			if !slices.Contains(w.Origins, origin) {
				w.Origins = append(w.Origins, origin)
			}
		}
	}
	if p.StrictIdentity != nil {
		w.StrictIdentity = *p.StrictIdentity
	}
	if a := p.Appearance; a != nil {
		for field, v := range map[string]string{"agent_text": a.AgentText, "agent_background": a.AgentBackground,
			"visitor_text": a.VisitorText, "visitor_background": a.VisitorBackground} {
			if !colour.MatchString(v) {
				return w, errs.Invalid("widget.appearance."+field, "must be a colour like #1a2b3c")
			}
		}
		if a.Position != "right" && a.Position != "left" {
			return w, errs.Invalid("widget.appearance.position", "must be right or left")
		}
		w.Appearance = *a
		w.Appearance.AgentText, w.Appearance.AgentBackground = strings.ToLower(a.AgentText), strings.ToLower(a.AgentBackground)
		w.Appearance.VisitorText, w.Appearance.VisitorBackground = strings.ToLower(a.VisitorText), strings.ToLower(a.VisitorBackground)
	}
	return w, nil
}

// normalOrigin turns "https://Shop.example.com/" into "https://shop.example.com".
func normalOrigin(s string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), true
}

func newSecret() string { return strings.ToLower(rand.Text() + rand.Text()) }

func newToken() string { return "sbc_" + strings.ToLower(rand.Text()+rand.Text()) }
