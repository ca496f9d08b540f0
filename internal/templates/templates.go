// Package templates keeps saved replies: agents call one by typing /tag in
// the composer of a channel the template is allowed on.
package templates

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/switchboard-hq/switchboard/internal/access"
	"github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
)

// Template is a saved reply.
type Template struct {
	ID      int64  `json:"id"`
	Tag     string `json:"tag"`
	Content string `json:"content"`
	// Channels are the channel kinds where the template applies; empty means all.
	Channels []conversation.ChannelKind `json:"channels"`
}

// AppliesTo reports whether the template may be used on a channel kind.
func (t Template) AppliesTo(kind conversation.ChannelKind) bool {
	return len(t.Channels) == 0 || slices.Contains(t.Channels, kind)
}

// Store keeps templates.
type Store interface {
	Templates(ctx context.Context) ([]Template, error)
	SaveTemplate(ctx context.Context, t Template) (Template, error)
	DeleteTemplate(ctx context.Context, id int64) error
}

// Service manages templates.
type Service struct{ store Store }

// NewService returns the template service.
func NewService(store Store) *Service { return &Service{store: store} }

var tagPattern = regexp.MustCompile(`^[\p{L}\p{N}_-]{1,40}$`)

// List returns the templates, those usable on kind only when kind is set.
// Every agent of the module may read them; writing them needs the settings right.
func (s *Service) List(ctx context.Context, actor access.Actor, kind conversation.ChannelKind) ([]Template, error) {
	if err := actor.Require(access.Omnichannel); err != nil {
		return nil, err
	}
	all, err := s.store.Templates(ctx)
	if err != nil || kind == "" {
		return all, err
	}
	out := []Template{}
	for _, t := range all {
		if t.AppliesTo(kind) {
			out = append(out, t)
		}
	}
	return out, nil
}

// Patch changes the fields that are set.
type Patch struct {
	Tag      *string
	Content  *string
	Channels *[]conversation.ChannelKind
}

// Create adds a template.
func (s *Service) Create(ctx context.Context, actor access.Actor, p Patch) (Template, error) {
	return s.save(ctx, actor, Template{}, p)
}

// Update changes the fields of a template that p sets.
func (s *Service) Update(ctx context.Context, actor access.Actor, id int64, p Patch) (Template, error) {
	if err := actor.Require(access.Settings); err != nil {
		return Template{}, err
	}
	all, err := s.store.Templates(ctx)
	if err != nil {
		return Template{}, err
	}
	i := slices.IndexFunc(all, func(t Template) bool { return t.ID == id })
	if i < 0 {
		return Template{}, errs.NotFound("template")
	}
	return s.save(ctx, actor, all[i], p)
}

func (s *Service) save(ctx context.Context, actor access.Actor, t Template, p Patch) (Template, error) {
	if err := actor.Require(access.Settings); err != nil {
		return Template{}, err
	}
	if p.Tag != nil {
		t.Tag = *p.Tag
	}
	if p.Content != nil {
		t.Content = *p.Content
	}
	if p.Channels != nil {
		t.Channels = *p.Channels
	}
	t.Tag = strings.TrimPrefix(strings.TrimSpace(t.Tag), "/")
	if !tagPattern.MatchString(t.Tag) {
		return Template{}, errs.Invalid("tag", "1 to 40 letters, digits, - or _")
	}
	t.Content = strings.TrimSpace(t.Content)
	if t.Content == "" || utf8.RuneCountInString(t.Content) > conversation.MaxBodyLength {
		return Template{}, errs.Invalid("content", "must be 1 to 10000 characters")
	}
	if t.Channels == nil {
		t.Channels = []conversation.ChannelKind{}
	}
	for _, k := range t.Channels {
		if !k.Valid() {
			return Template{}, errs.Invalid("channels", "unknown channel "+string(k))
		}
	}
	return s.store.SaveTemplate(ctx, t)
}

// Delete removes a template.
func (s *Service) Delete(ctx context.Context, actor access.Actor, id int64) error {
	if err := actor.Require(access.Settings); err != nil {
		return err
	}
	return s.store.DeleteTemplate(ctx, id)
}
