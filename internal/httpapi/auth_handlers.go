package httpapi

import (
	"net/http"

	"github.com/switchboard-hq/switchboard/internal/access"
	"github.com/switchboard-hq/switchboard/internal/team"
)

// meJSON is the signed-in agent and the rights the workspace shows.
type meJSON struct {
	Agent   agentJSON      `json:"agent"`
	Rights  []access.Right `json:"rights"`
	IsAdmin bool           `json:"is_admin"`
}

func (s *Server) meFor(r *http.Request, actor access.Actor) (meJSON, error) {
	a, err := s.team.Agent(r.Context(), actor, actor.AgentID)
	if err != nil {
		return meJSON{}, err
	}
	return meJSON{Agent: toAgentJSON(a), Rights: actor.Effective(), IsAdmin: actor.Admin}, nil
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	token, sess, err := s.auth.Login(r.Context(), in.Email, in.Password, s.clientIP(r), r.UserAgent())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	_, actor, err := s.auth.Authenticate(r.Context(), token)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	me, err := s.meFor(r, actor)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: token, Path: "/", Expires: sess.ExpiresAt,
		HttpOnly: true, Secure: s.secureCookies, SameSite: http.SameSiteLaxMode,
	})
	writeJSON(w, http.StatusOK, me)
}

func (s *Server) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secureCookies, SameSite: http.SameSiteLaxMode})
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if err := s.auth.Logout(r.Context(), sessionFrom(r.Context()).TokenHash); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.clearSessionCookie(w)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	me, err := s.meFor(r, actorFrom(r.Context()))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, me)
}

func (s *Server) setPresence(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Presence team.Presence `json:"presence"`
		ReasonID int64         `json:"reason_id"`
	}
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := s.team.SetPresence(r.Context(), actorFrom(r.Context()), in.Presence, in.ReasonID)
	respond(s, w, r, http.StatusOK, toAgentJSON(a), err)
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Current string `json:"current_password"`
		New     string `json:"new_password"`
	}
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.auth.ChangePassword(r.Context(), actorFrom(r.Context()), sessionFrom(r.Context()), in.Current, in.New); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// respond writes v with status, or the error.
func respond(s *Server, w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, v)
}
