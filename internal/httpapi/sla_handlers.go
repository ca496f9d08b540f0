package httpapi

import (
	"context"
	"net/http"

	"github.com/switchboard-hq/switchboard/internal/access"
	"github.com/switchboard-hq/switchboard/internal/sla"
)

// saveFromBody decodes a T, gives it the path's id (0 when creating) and
// answers what save made of it with status.
func saveFromBody[T any](s *Server, w http.ResponseWriter, r *http.Request, status int, withID func(T) T,
	save func(context.Context, access.Actor, T) (T, error)) {
	var in T
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := save(r.Context(), actorFrom(r.Context()), withID(in))
	respond(s, w, r, status, out, err)
}

func (s *Server) listBusinessHours(w http.ResponseWriter, r *http.Request) {
	list, err := s.sla.BusinessHours(r.Context(), actorFrom(r.Context()))
	respond(s, w, r, http.StatusOK, map[string]any{"business_hours": list}, err)
}

func (s *Server) createBusinessHours(w http.ResponseWriter, r *http.Request) {
	saveFromBody(s, w, r, http.StatusCreated, func(h sla.Hours) sla.Hours { h.ID = 0; return h }, s.sla.SaveBusinessHours)
}

func (s *Server) putBusinessHours(w http.ResponseWriter, r *http.Request, id int64) {
	saveFromBody(s, w, r, http.StatusOK, func(h sla.Hours) sla.Hours { h.ID = id; return h }, s.sla.SaveBusinessHours)
}

func (s *Server) deleteBusinessHours(w http.ResponseWriter, r *http.Request, id int64) {
	respond(s, w, r, http.StatusNoContent, nil, s.sla.DeleteBusinessHours(r.Context(), actorFrom(r.Context()), id))
}

func (s *Server) listSLAPolicies(w http.ResponseWriter, r *http.Request) {
	list, err := s.sla.Policies(r.Context(), actorFrom(r.Context()))
	respond(s, w, r, http.StatusOK, map[string]any{"policies": list}, err)
}

func (s *Server) createSLAPolicy(w http.ResponseWriter, r *http.Request) {
	saveFromBody(s, w, r, http.StatusCreated, func(p sla.Policy) sla.Policy { p.ID = 0; return p }, s.sla.SavePolicy)
}

func (s *Server) putSLAPolicy(w http.ResponseWriter, r *http.Request, id int64) {
	saveFromBody(s, w, r, http.StatusOK, func(p sla.Policy) sla.Policy { p.ID = id; return p }, s.sla.SavePolicy)
}

func (s *Server) deleteSLAPolicy(w http.ResponseWriter, r *http.Request, id int64) {
	respond(s, w, r, http.StatusNoContent, nil, s.sla.DeletePolicy(r.Context(), actorFrom(r.Context()), id))
}

func (s *Server) orderSLAPolicies(w http.ResponseWriter, r *http.Request) {
	var in struct {
		IDs []int64 `json:"ids"`
	}
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	respond(s, w, r, http.StatusNoContent, nil, s.sla.OrderPolicies(r.Context(), actorFrom(r.Context()), in.IDs))
}
