package httpapi

import (
	"net/http"

	"github.com/switchboard-hq/switchboard/internal/dispatch"
	"github.com/switchboard-hq/switchboard/internal/settings"
)

func (s *Server) getOmnichannelSettings(w http.ResponseWriter, r *http.Request) {
	o, err := s.settings.Get(r.Context(), actorFrom(r.Context()))
	respond(s, w, r, http.StatusOK, o, err)
}

func (s *Server) putOmnichannelSettings(w http.ResponseWriter, r *http.Request) {
	var in settings.Omnichannel
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	o, err := s.settings.Update(r.Context(), actorFrom(r.Context()), in)
	if err == nil {
		s.dispatch.Wake()
	}
	respond(s, w, r, http.StatusOK, o, err)
}

func (s *Server) listDispatchRules(w http.ResponseWriter, r *http.Request) {
	rules, err := s.dispatch.Rules(r.Context(), actorFrom(r.Context()))
	respond(s, w, r, http.StatusOK, map[string]any{"rules": rules}, err)
}

func (s *Server) putDispatchRule(w http.ResponseWriter, r *http.Request, group int64) {
	var in dispatch.Rule
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	in.GroupID = group
	rule, err := s.dispatch.SetRule(r.Context(), actorFrom(r.Context()), in)
	respond(s, w, r, http.StatusOK, rule, err)
}

type reasonInput struct {
	Name string `json:"name"`
}

func (s *Server) listAwayReasons(w http.ResponseWriter, r *http.Request) {
	list, err := s.team.AwayReasons(r.Context(), actorFrom(r.Context()))
	respond(s, w, r, http.StatusOK, map[string]any{"reasons": list}, err)
}

func (s *Server) createAwayReason(w http.ResponseWriter, r *http.Request) {
	var in reasonInput
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	reason, err := s.team.CreateAwayReason(r.Context(), actorFrom(r.Context()), in.Name)
	respond(s, w, r, http.StatusCreated, reason, err)
}

func (s *Server) renameAwayReason(w http.ResponseWriter, r *http.Request, id int64) {
	var in reasonInput
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	reason, err := s.team.RenameAwayReason(r.Context(), actorFrom(r.Context()), id, in.Name)
	respond(s, w, r, http.StatusOK, reason, err)
}

func (s *Server) deleteAwayReason(w http.ResponseWriter, r *http.Request, id int64) {
	respond(s, w, r, http.StatusNoContent, nil, s.team.DeleteAwayReason(r.Context(), actorFrom(r.Context()), id))
}
