package httpapi

import (
	"net/http"

	"github.com/switchboard-hq/switchboard/internal/sla"
)

func (s *Server) listBusinessHours(w http.ResponseWriter, r *http.Request) {
	list, err := s.sla.BusinessHours(r.Context(), actorFrom(r.Context()))
	respond(s, w, r, http.StatusOK, map[string]any{"business_hours": list}, err)
}

func (s *Server) createBusinessHours(w http.ResponseWriter, r *http.Request) {
	s.saveBusinessHours(w, r, 0, http.StatusCreated)
}

func (s *Server) putBusinessHours(w http.ResponseWriter, r *http.Request, id int64) {
	s.saveBusinessHours(w, r, id, http.StatusOK)
}

func (s *Server) saveBusinessHours(w http.ResponseWriter, r *http.Request, id int64, status int) {
	var in sla.Hours
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	in.ID = id
	h, err := s.sla.SaveBusinessHours(r.Context(), actorFrom(r.Context()), in)
	respond(s, w, r, status, h, err)
}

func (s *Server) deleteBusinessHours(w http.ResponseWriter, r *http.Request, id int64) {
	respond(s, w, r, http.StatusNoContent, nil, s.sla.DeleteBusinessHours(r.Context(), actorFrom(r.Context()), id))
}

func (s *Server) listSLAPolicies(w http.ResponseWriter, r *http.Request) {
	list, err := s.sla.Policies(r.Context(), actorFrom(r.Context()))
	respond(s, w, r, http.StatusOK, map[string]any{"policies": list}, err)
}

func (s *Server) createSLAPolicy(w http.ResponseWriter, r *http.Request) {
	s.saveSLAPolicy(w, r, 0, http.StatusCreated)
}

func (s *Server) putSLAPolicy(w http.ResponseWriter, r *http.Request, id int64) {
	s.saveSLAPolicy(w, r, id, http.StatusOK)
}

func (s *Server) saveSLAPolicy(w http.ResponseWriter, r *http.Request, id int64, status int) {
	var in sla.Policy
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	in.ID = id
	p, err := s.sla.SavePolicy(r.Context(), actorFrom(r.Context()), in)
	respond(s, w, r, status, p, err)
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
