// Package channel administers connected channels (Settings → Channels) and
// authenticates what they send. Platform adapters live in its subpackages.
package channel

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/switchboard-hq/switchboard/internal/access"
	"github.com/switchboard-hq/switchboard/internal/auth"
	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/messenger"
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
	DeleteNewChannel(ctx context.Context, id int64) error
}

// Service manages channels.
type Service struct {
	store     Store
	platforms messenger.Registry
}

// NewService returns the channel service for the api and widget kinds and
// the messaging platforms registered.
func NewService(store Store, platforms messenger.Registry) *Service {
	return &Service{store: store, platforms: platforms}
}

// Platforms lists what connecting each messenger asks for.
func (s *Service) Platforms() map[cv.ChannelKind][]messenger.Field {
	out := map[cv.ChannelKind][]messenger.Field{}
	for kind, p := range s.platforms {
		out[kind] = p.Fields()
	}
	return out
}

// Patch changes the fields that are set.
type Patch struct {
	Kind         *cv.ChannelKind
	Name         *string
	DepartmentID *int64
	GroupID      *int64
	Active       *bool
	Widget       *WidgetPatch
	// Account holds a messenger's connection fields by name (secrets left
	// empty on an update keep their value).
	Account map[string]string
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
// token, shown once. A messenger is checked with its platform, which learns
// its webhook at hookBase/hooks/{kind}/{id}.
func (s *Service) Create(ctx context.Context, actor access.Actor, p Patch, hookBase string) (cv.Channel, string, error) {
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
		if s.platforms[*p.Kind] == nil {
			return cv.Channel{}, "", errs.Invalid("kind", "this kind of channel cannot be connected yet")
		}
		if p.Account == nil {
			return cv.Channel{}, "", errs.Invalid("account", "the account's details are required")
		}
	}
	if p.Account != nil && s.platforms[*p.Kind] == nil {
		return cv.Channel{}, "", errs.Invalid("account", "only messenger channels have an account")
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
	if platform := s.platforms[c.Kind]; platform != nil {
		return s.connect(ctx, platform, c, p.Account, hookBase)
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

// connect stores a new messenger channel once its platform accepts the
// account; a refused one leaves nothing behind.
func (s *Service) connect(ctx context.Context, platform messenger.Platform, c cv.Channel, fields map[string]string, hookBase string) (cv.Channel, string, error) {
	acc, err := accountOf(platform, fields, messenger.Account{})
	if err != nil {
		return cv.Channel{}, "", err
	}
	// The webhook URL names the channel, so the row comes first, with the
	// credentials: a platform that calls the webhook while it is being
	// registered (Viber) finds them to verify the call.
	c.Account, c.Secrets = acc.Public, acc.Secrets
	c, err = s.store.CreateChannel(ctx, c, "")
	if err != nil {
		return cv.Channel{}, "", err
	}
	acc.ChannelID = c.ID
	if acc, err = platform.Connect(ctx, acc, HookURL(hookBase, c)); err != nil {
		err = accountField(err, platform)
		if derr := s.store.DeleteNewChannel(context.WithoutCancel(ctx), c.ID); derr != nil {
			err = errors.Join(err, derr)
		}
		return cv.Channel{}, "", err
	}
	c.Account, c.Secrets = acc.Public, acc.Secrets
	c, err = s.store.UpdateChannel(ctx, c)
	return c, "", err
}

// accountField names a platform's complaint about one of its fields the way
// the API names them (account.<name>).
func accountField(err error, platform messenger.Platform) error {
	var e *errs.Error
	if !errors.As(err, &e) || e.Field == "" {
		return err
	}
	for _, f := range platform.Fields() {
		if f.Name == e.Field {
			named := *e
			named.Field = "account." + f.Name
			return &named
		}
	}
	return err
}

// HookURL is where a messenger channel's platform sends its updates.
func HookURL(base string, c cv.Channel) string {
	return fmt.Sprintf("%s/hooks/%s/%d", strings.TrimSuffix(base, "/"), c.Kind, c.ID)
}

// accountOf sorts a messenger's connection fields into public and secret
// ones, over the values kept from before; required ones must have a value.
func accountOf(platform messenger.Platform, fields map[string]string, old messenger.Account) (messenger.Account, error) {
	acc := messenger.Account{ChannelID: old.ChannelID, Public: maps.Clone(old.Public), Secrets: maps.Clone(old.Secrets)}
	if acc.Public == nil {
		acc.Public = map[string]string{}
	}
	if acc.Secrets == nil {
		acc.Secrets = map[string]string{}
	}
	known := map[string]bool{}
	for _, f := range platform.Fields() {
		known[f.Name] = true
		v := strings.TrimSpace(fields[f.Name])
		target := acc.Public
		if f.Secret {
			target = acc.Secrets
		}
		if v != "" {
			target[f.Name] = v
		}
		if f.Required && target[f.Name] == "" {
			return acc, errs.Invalid("account."+f.Name, f.Label+" is required")
		}
	}
	for name := range fields {
		if !known[name] {
			return acc, errs.Invalid("account."+name, "is not a field of this channel")
		}
	}
	return acc, nil
}

// Update changes a channel's name, department, group, activity, widget
// settings, or a messenger's account (checked again with its platform).
func (s *Service) Update(ctx context.Context, actor access.Actor, id int64, p Patch, hookBase string) (cv.Channel, error) {
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
	if p.Account != nil {
		platform := s.platforms[c.Kind]
		if platform == nil {
			return cv.Channel{}, errs.Invalid("account", "only messenger channels have an account")
		}
		acc, err := accountOf(platform, p.Account, messenger.Account{ChannelID: c.ID, Public: c.Account, Secrets: c.Secrets})
		if err != nil {
			return cv.Channel{}, err
		}
		if acc, err = platform.Connect(ctx, acc, HookURL(hookBase, c)); err != nil {
			return cv.Channel{}, accountField(err, platform)
		}
		c.Account, c.Secrets = acc.Public, acc.Secrets
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
	if c.Kind.Outbound() {
		return "", errs.Conflict("no_token", "a messenger channel has no token of its own; change its account instead")
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
