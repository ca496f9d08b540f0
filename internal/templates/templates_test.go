package templates

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard-hq/switchboard/internal/access"
	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
)

// memStore keeps templates in memory.
type memStore struct {
	templates []Template
	nextID    int64
	saves     int
	deleted   []int64
}

func (m *memStore) Templates(context.Context) ([]Template, error) {
	return slices.Clone(m.templates), nil
}

func (m *memStore) SaveTemplate(_ context.Context, t Template) (Template, error) {
	m.saves++
	if t.ID == 0 {
		m.nextID++
		t.ID = m.nextID
		m.templates = append(m.templates, t)
		return t, nil
	}
	for i := range m.templates {
		if m.templates[i].ID == t.ID {
			m.templates[i] = t
		}
	}
	return t, nil
}

func (m *memStore) DeleteTemplate(_ context.Context, id int64) error {
	m.deleted = append(m.deleted, id)
	return nil
}

var (
	settings  = access.Actor{AgentID: 1, Granted: []access.Right{"omnichannel", "omnichannel.settings"}}
	agent     = access.Actor{AgentID: 2, Granted: []access.Right{"omnichannel"}}
	nestedOff = access.Actor{AgentID: 3, Granted: []access.Right{"omnichannel.settings"}}
	admin     = access.Actor{AgentID: 4, Admin: true}
)

func ptr[T any](v T) *T { return &v }

func kinds(ks ...cv.ChannelKind) *[]cv.ChannelKind { return &ks }

func wantErr(t *testing.T, err error, kind error, field string) {
	t.Helper()
	var e *errs.Error
	if !errors.Is(err, kind) || !errors.As(err, &e) || e.Field != field {
		t.Errorf("error %v, want %v of field %q", err, kind, field)
	}
}

func TestAppliesTo(t *testing.T) {
	tests := []struct {
		name     string
		channels []cv.ChannelKind
		applies  []cv.ChannelKind // every other kind must be refused
	}{
		{"no channels means every channel", nil, cv.ChannelKinds},
		{"an empty list means every channel", []cv.ChannelKind{}, cv.ChannelKinds},
		{"one channel", []cv.ChannelKind{cv.Telegram}, []cv.ChannelKind{cv.Telegram}},
		{"several channels", []cv.ChannelKind{cv.Widget, cv.WhatsApp}, []cv.ChannelKind{cv.Widget, cv.WhatsApp}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl := Template{Tag: "hi", Content: "Hello!", Channels: tt.channels}
			for _, k := range cv.ChannelKinds {
				if got, want := tpl.AppliesTo(k), slices.Contains(tt.applies, k); got != want {
					t.Errorf("AppliesTo(%s) = %v, want %v", k, got, want)
				}
			}
		})
	}
}

func TestCreate(t *testing.T) {
	long := strings.Repeat("ж", cv.MaxBodyLength)
	tests := []struct {
		name  string
		patch Patch
		want  Template
	}{
		{"a template for every channel",
			Patch{Tag: ptr("greeting"), Content: ptr("Hello! How can I help?")},
			Template{ID: 1, Tag: "greeting", Content: "Hello! How can I help?", Channels: []cv.ChannelKind{}}},
		{"the slash agents type is not part of the tag",
			Patch{Tag: ptr("/greeting"), Content: ptr("Hello!")},
			Template{ID: 1, Tag: "greeting", Content: "Hello!", Channels: []cv.ChannelKind{}}},
		{"spaces around the tag and its slash are trimmed",
			Patch{Tag: ptr("  /greeting\t"), Content: ptr("Hello!")},
			Template{ID: 1, Tag: "greeting", Content: "Hello!", Channels: []cv.ChannelKind{}}},
		{"tags may hold letters of any script, digits, - and _",
			Patch{Tag: ptr("привет-2_b"), Content: ptr("Здравствуйте!")},
			Template{ID: 1, Tag: "привет-2_b", Content: "Здравствуйте!", Channels: []cv.ChannelKind{}}},
		{"a tag of 40 characters",
			Patch{Tag: ptr(strings.Repeat("ё", 40)), Content: ptr("x")},
			Template{ID: 1, Tag: strings.Repeat("ё", 40), Content: "x", Channels: []cv.ChannelKind{}}},
		{"the content is trimmed but keeps its inner lines",
			Patch{Tag: ptr("bye"), Content: ptr("\n  Thank you!\n\nBye.  \n")},
			Template{ID: 1, Tag: "bye", Content: "Thank you!\n\nBye.", Channels: []cv.ChannelKind{}}},
		{"content of the longest message",
			Patch{Tag: ptr("long"), Content: ptr(long)},
			Template{ID: 1, Tag: "long", Content: long, Channels: []cv.ChannelKind{}}},
		{"a template for some channels",
			Patch{Tag: ptr("tg"), Content: ptr("Hi"), Channels: kinds(cv.Telegram, cv.VK)},
			Template{ID: 1, Tag: "tg", Content: "Hi", Channels: []cv.ChannelKind{cv.Telegram, cv.VK}}},
		{"an explicit empty list of channels means every channel",
			Patch{Tag: ptr("all"), Content: ptr("Hi"), Channels: kinds()},
			Template{ID: 1, Tag: "all", Content: "Hi", Channels: []cv.ChannelKind{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &memStore{}
			got, err := NewService(m).Create(context.Background(), settings, tt.patch)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("created %+v, want %+v", got, tt.want)
			}
			if !reflect.DeepEqual(m.templates, []Template{tt.want}) {
				t.Errorf("stored %+v, want %+v", m.templates, tt.want)
			}
		})
	}
	t.Run("an administrator may create templates", func(t *testing.T) {
		if _, err := NewService(&memStore{}).Create(context.Background(), admin, Patch{Tag: ptr("a"), Content: ptr("b")}); err != nil {
			t.Error(err)
		}
	})
}

func TestCreateRefuses(t *testing.T) {
	ok := func(p Patch) Patch {
		if p.Tag == nil {
			p.Tag = ptr("greeting")
		}
		if p.Content == nil {
			p.Content = ptr("Hello!")
		}
		return p
	}
	tests := []struct {
		name  string
		actor access.Actor
		patch Patch
		kind  error
		field string
	}{
		{"an agent without the settings right", agent, ok(Patch{}), errs.ErrForbidden, ""},
		{"the settings right without the module right", nestedOff, ok(Patch{}), errs.ErrForbidden, ""},
		{"no tag", settings, Patch{Content: ptr("Hello!")}, errs.ErrInvalid, "tag"},
		{"an empty tag", settings, ok(Patch{Tag: ptr("")}), errs.ErrInvalid, "tag"},
		{"a slash alone", settings, ok(Patch{Tag: ptr("/")}), errs.ErrInvalid, "tag"},
		{"two slashes", settings, ok(Patch{Tag: ptr("//greeting")}), errs.ErrInvalid, "tag"},
		{"a space after the slash", settings, ok(Patch{Tag: ptr("/ greeting")}), errs.ErrInvalid, "tag"},
		{"a tag of two words", settings, ok(Patch{Tag: ptr("good morning")}), errs.ErrInvalid, "tag"},
		{"a tag with punctuation", settings, ok(Patch{Tag: ptr("hi!")}), errs.ErrInvalid, "tag"},
		{"a tag with a dot", settings, ok(Patch{Tag: ptr("v1.2")}), errs.ErrInvalid, "tag"},
		{"a tag with a slash inside", settings, ok(Patch{Tag: ptr("a/b")}), errs.ErrInvalid, "tag"},
		{"a tag with an emoji", settings, ok(Patch{Tag: ptr("hi👋")}), errs.ErrInvalid, "tag"},
		{"a tag of 41 characters", settings, ok(Patch{Tag: ptr(strings.Repeat("ё", 41))}), errs.ErrInvalid, "tag"},
		{"no content", settings, Patch{Tag: ptr("greeting")}, errs.ErrInvalid, "content"},
		{"empty content", settings, ok(Patch{Content: ptr("")}), errs.ErrInvalid, "content"},
		{"blank content", settings, ok(Patch{Content: ptr(" \n\t ")}), errs.ErrInvalid, "content"},
		{"content longer than a message", settings, ok(Patch{Content: ptr(strings.Repeat("ж", cv.MaxBodyLength+1))}), errs.ErrInvalid, "content"},
		{"an unknown channel kind", settings, ok(Patch{Channels: kinds(cv.Telegram, "fax")}), errs.ErrInvalid, "channels"},
		{"an empty channel kind", settings, ok(Patch{Channels: kinds("")}), errs.ErrInvalid, "channels"},
		{"a channel kind in another case", settings, ok(Patch{Channels: kinds("Telegram")}), errs.ErrInvalid, "channels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &memStore{}
			_, err := NewService(m).Create(context.Background(), tt.actor, tt.patch)
			wantErr(t, err, tt.kind, tt.field)
			if m.saves != 0 {
				t.Error("a refused template reached the store")
			}
		})
	}
}

func TestUpdate(t *testing.T) {
	stored := func() *memStore {
		return &memStore{nextID: 2, templates: []Template{
			{ID: 1, Tag: "greeting", Content: "Hello!", Channels: []cv.ChannelKind{cv.Telegram}},
			{ID: 2, Tag: "bye", Content: "Bye!", Channels: []cv.ChannelKind{}},
		}}
	}
	tests := []struct {
		name  string
		patch Patch
		want  Template
	}{
		{"a new content keeps tag and channels",
			Patch{Content: ptr(" Hi there! ")},
			Template{ID: 1, Tag: "greeting", Content: "Hi there!", Channels: []cv.ChannelKind{cv.Telegram}}},
		{"a new tag loses its slash",
			Patch{Tag: ptr("/hello")},
			Template{ID: 1, Tag: "hello", Content: "Hello!", Channels: []cv.ChannelKind{cv.Telegram}}},
		{"an empty list of channels opens the template to every channel",
			Patch{Channels: kinds()},
			Template{ID: 1, Tag: "greeting", Content: "Hello!", Channels: []cv.ChannelKind{}}},
		{"new channels replace the old ones",
			Patch{Channels: kinds(cv.Widget, cv.API)},
			Template{ID: 1, Tag: "greeting", Content: "Hello!", Channels: []cv.ChannelKind{cv.Widget, cv.API}}},
		{"an empty patch saves the template as it is",
			Patch{},
			Template{ID: 1, Tag: "greeting", Content: "Hello!", Channels: []cv.ChannelKind{cv.Telegram}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := stored()
			got, err := NewService(m).Update(context.Background(), settings, 1, tt.patch)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("updated %+v, want %+v", got, tt.want)
			}
			if !reflect.DeepEqual(m.templates[0], tt.want) || m.templates[1].Tag != "bye" {
				t.Errorf("stored %+v", m.templates)
			}
		})
	}

	refusals := []struct {
		name  string
		actor access.Actor
		id    int64
		patch Patch
		kind  error
		field string
	}{
		{"an agent without the settings right", agent, 1, Patch{Content: ptr("Hi")}, errs.ErrForbidden, ""},
		{"an agent without the settings right learns nothing of unknown ids", agent, 99, Patch{Content: ptr("Hi")}, errs.ErrForbidden, ""},
		{"an unknown template", settings, 99, Patch{Content: ptr("Hi")}, errs.ErrNotFound, ""},
		{"a bad tag", settings, 1, Patch{Tag: ptr("good morning")}, errs.ErrInvalid, "tag"},
		{"blanking the content", settings, 1, Patch{Content: ptr("  ")}, errs.ErrInvalid, "content"},
		{"an unknown channel kind", settings, 1, Patch{Channels: kinds("fax")}, errs.ErrInvalid, "channels"},
	}
	for _, tt := range refusals {
		t.Run("refuses "+tt.name, func(t *testing.T) {
			m := stored()
			before := slices.Clone(m.templates)
			_, err := NewService(m).Update(context.Background(), tt.actor, tt.id, tt.patch)
			wantErr(t, err, tt.kind, tt.field)
			if m.saves != 0 || !reflect.DeepEqual(m.templates, before) {
				t.Errorf("a refused change reached the store: %+v", m.templates)
			}
		})
	}
}

func TestList(t *testing.T) {
	m := &memStore{templates: []Template{
		{ID: 1, Tag: "all", Content: "a", Channels: []cv.ChannelKind{}},
		{ID: 2, Tag: "tg", Content: "b", Channels: []cv.ChannelKind{cv.Telegram}},
		{ID: 3, Tag: "web", Content: "c", Channels: []cv.ChannelKind{cv.Widget, cv.API}},
	}}
	s := NewService(m)
	tests := []struct {
		name string
		kind cv.ChannelKind
		want []int64
	}{
		{"without a channel every template is listed", "", []int64{1, 2, 3}},
		{"a channel lists what applies to it", cv.Telegram, []int64{1, 2}},
		{"a channel no template names lists the general ones", cv.Viber, []int64{1}},
		{"a channel named with others", cv.API, []int64{1, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.List(context.Background(), agent, tt.kind)
			if err != nil {
				t.Fatal(err)
			}
			ids := []int64{}
			for _, tpl := range got {
				ids = append(ids, tpl.ID)
			}
			if !slices.Equal(ids, tt.want) {
				t.Errorf("List(%q) = %v, want %v", tt.kind, ids, tt.want)
			}
		})
	}
	t.Run("reading templates needs the module right", func(t *testing.T) {
		_, err := s.List(context.Background(), access.Actor{AgentID: 5}, "")
		wantErr(t, err, errs.ErrForbidden, "")
	})
}

func TestDelete(t *testing.T) {
	m := &memStore{}
	s := NewService(m)
	wantErr(t, s.Delete(context.Background(), agent, 1), errs.ErrForbidden, "")
	if len(m.deleted) != 0 {
		t.Fatal("a refused delete reached the store")
	}
	if err := s.Delete(context.Background(), settings, 1); err != nil || !slices.Equal(m.deleted, []int64{1}) {
		t.Errorf("Delete = %v, deleted %v", err, m.deleted)
	}
}
