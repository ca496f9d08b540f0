package httpapi

import (
	"fmt"
	"html"
	"net/http"

	"github.com/switchboard-hq/switchboard/internal/access"
	"github.com/switchboard-hq/switchboard/internal/channel"
	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/templates"
)

type channelInput struct {
	Kind         *cv.ChannelKind      `json:"kind"`
	Name         *string              `json:"name"`
	DepartmentID *int64               `json:"department_id"`
	GroupID      *int64               `json:"group_id"`
	Active       *bool                `json:"active"`
	Widget       *channel.WidgetPatch `json:"widget"`
	Account      map[string]string    `json:"account"`
}

func (c channelInput) patch() channel.Patch {
	return channel.Patch{Kind: c.Kind, Name: c.Name, DepartmentID: c.DepartmentID, GroupID: c.GroupID, Active: c.Active, Widget: c.Widget, Account: c.Account}
}

// withEmbedCode adds where the channel is reached from outside: the script
// tag a site owner pastes for a website chat, the webhook URL of a messenger.
func (s *Server) withEmbedCode(r *http.Request, c cv.Channel) cv.Channel {
	if c.Widget != nil {
		w := *c.Widget
		w.EmbedCode = fmt.Sprintf(`<script src="%s/widget/loader.js" data-channel="%d" async></script>`, html.EscapeString(s.baseURL(r)), c.ID)
		c.Widget = &w
	}
	if c.Kind.Outbound() && c.ID != 0 {
		c.WebhookURL = channel.HookURL(s.baseURL(r), c)
	}
	return c
}

func (s *Server) listPlatforms(w http.ResponseWriter, r *http.Request) {
	if err := actorFrom(r.Context()).Require(access.Settings); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"platforms": s.channels.Platforms()})
}

func (s *Server) listChannels(w http.ResponseWriter, r *http.Request) {
	list, err := s.channels.List(r.Context(), actorFrom(r.Context()))
	for i := range list {
		list[i] = s.withEmbedCode(r, list[i])
	}
	respond(s, w, r, http.StatusOK, map[string]any{"channels": list}, err)
}

func (s *Server) getChannel(w http.ResponseWriter, r *http.Request, id int64) {
	c, err := s.channels.Get(r.Context(), actorFrom(r.Context()), id)
	respond(s, w, r, http.StatusOK, s.withEmbedCode(r, c), err)
}

func (s *Server) createChannel(w http.ResponseWriter, r *http.Request) {
	var in channelInput
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	c, token, err := s.channels.Create(r.Context(), actorFrom(r.Context()), in.patch(), s.baseURL(r))
	respond(s, w, r, http.StatusCreated, map[string]any{"channel": s.withEmbedCode(r, c), "token": token}, err)
}

func (s *Server) updateChannel(w http.ResponseWriter, r *http.Request, id int64) {
	var in channelInput
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.channels.Update(r.Context(), actorFrom(r.Context()), id, in.patch(), s.baseURL(r))
	respond(s, w, r, http.StatusOK, s.withEmbedCode(r, c), err)
}

func (s *Server) rotateChannelToken(w http.ResponseWriter, r *http.Request, id int64) {
	token, err := s.channels.RotateToken(r.Context(), actorFrom(r.Context()), id)
	respond(s, w, r, http.StatusOK, map[string]string{"token": token}, err)
}

func (s *Server) removeChannel(w http.ResponseWriter, r *http.Request, id int64) {
	respond(s, w, r, http.StatusNoContent, nil, s.channels.Remove(r.Context(), actorFrom(r.Context()), id))
}

type statusInput struct {
	Name     *string         `json:"name"`
	Class    *cv.StatusClass `json:"class"`
	Position *int            `json:"position"`
	Default  *bool           `json:"is_default"`
}

func (s *Server) listStatuses(w http.ResponseWriter, r *http.Request) {
	list, err := s.catalog.Statuses(r.Context(), actorFrom(r.Context()))
	respond(s, w, r, http.StatusOK, map[string]any{"statuses": list}, err)
}

func (s *Server) saveStatus(w http.ResponseWriter, r *http.Request, id int64, status int) {
	var in statusInput
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	st, err := s.catalog.SaveStatus(r.Context(), actorFrom(r.Context()), id, cv.StatusPatch{Name: in.Name, Class: in.Class, Position: in.Position, Default: in.Default})
	respond(s, w, r, status, st, err)
}

func (s *Server) createStatus(w http.ResponseWriter, r *http.Request) {
	s.saveStatus(w, r, 0, http.StatusCreated)
}

func (s *Server) updateStatus(w http.ResponseWriter, r *http.Request, id int64) {
	s.saveStatus(w, r, id, http.StatusOK)
}

func (s *Server) deleteStatus(w http.ResponseWriter, r *http.Request, id int64) {
	respond(s, w, r, http.StatusNoContent, nil, s.catalog.DeleteStatus(r.Context(), actorFrom(r.Context()), id))
}

func (s *Server) listTemplates(w http.ResponseWriter, r *http.Request) {
	list, err := s.templates.List(r.Context(), actorFrom(r.Context()), cv.ChannelKind(r.URL.Query().Get("channel")))
	respond(s, w, r, http.StatusOK, map[string]any{"templates": list}, err)
}

type templateInput struct {
	Tag      *string           `json:"tag"`
	Content  *string           `json:"content"`
	Channels *[]cv.ChannelKind `json:"channels"`
}

func (t templateInput) patch() templates.Patch {
	return templates.Patch{Tag: t.Tag, Content: t.Content, Channels: t.Channels}
}

func (s *Server) createTemplate(w http.ResponseWriter, r *http.Request) {
	var in templateInput
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	t, err := s.templates.Create(r.Context(), actorFrom(r.Context()), in.patch())
	respond(s, w, r, http.StatusCreated, t, err)
}

func (s *Server) updateTemplate(w http.ResponseWriter, r *http.Request, id int64) {
	var in templateInput
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	t, err := s.templates.Update(r.Context(), actorFrom(r.Context()), id, in.patch())
	respond(s, w, r, http.StatusOK, t, err)
}

func (s *Server) deleteTemplate(w http.ResponseWriter, r *http.Request, id int64) {
	respond(s, w, r, http.StatusNoContent, nil, s.templates.Delete(r.Context(), actorFrom(r.Context()), id))
}

func (s *Server) listCustomFields(w http.ResponseWriter, r *http.Request) {
	list, err := s.catalog.CustomFields(r.Context(), actorFrom(r.Context()))
	respond(s, w, r, http.StatusOK, map[string]any{"custom_fields": list}, err)
}

type customFieldInput struct {
	Name     *string       `json:"name"`
	Type     *cv.FieldType `json:"type"`
	Options  *[]string     `json:"options"`
	Position *int          `json:"position"`
}

func (f customFieldInput) patch() cv.FieldPatch {
	return cv.FieldPatch{Name: f.Name, Type: f.Type, Options: f.Options, Position: f.Position}
}

func (s *Server) createCustomField(w http.ResponseWriter, r *http.Request) {
	var in customFieldInput
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	f, err := s.catalog.SaveCustomField(r.Context(), actorFrom(r.Context()), 0, in.patch())
	respond(s, w, r, http.StatusCreated, f, err)
}

func (s *Server) updateCustomField(w http.ResponseWriter, r *http.Request, id int64) {
	var in customFieldInput
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	f, err := s.catalog.SaveCustomField(r.Context(), actorFrom(r.Context()), id, in.patch())
	respond(s, w, r, http.StatusOK, f, err)
}

func (s *Server) deleteCustomField(w http.ResponseWriter, r *http.Request, id int64) {
	respond(s, w, r, http.StatusNoContent, nil, s.catalog.DeleteCustomField(r.Context(), actorFrom(r.Context()), id))
}
