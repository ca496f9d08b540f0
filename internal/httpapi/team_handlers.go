package httpapi

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/switchboard-hq/switchboard/internal/access"
	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/team"
)

type agentJSON struct {
	ID            int64         `json:"id"`
	Email         string        `json:"email"`
	Name          string        `json:"name"`
	AvatarURL     *string       `json:"avatar_url"`
	IsAdmin       bool          `json:"is_admin"`
	Active        bool          `json:"active"`
	Presence      team.Presence `json:"presence"`
	PresenceSince time.Time     `json:"presence_since"`
	AwayReasonID  int64         `json:"away_reason_id,omitempty"`
	GroupIDs      []int64       `json:"group_ids"`
	CreatedAt     time.Time     `json:"created_at"`
}

func avatarURL(name string) *string {
	if name == "" {
		return nil
	}
	u := "/avatars/" + strings.TrimPrefix(name, "avatars/")
	return &u
}

func toAgentJSON(a team.Agent) agentJSON {
	return agentJSON{
		ID: a.ID, Email: a.Email, Name: a.Name, AvatarURL: avatarURL(a.Avatar), IsAdmin: a.Admin, Active: a.Active,
		Presence: a.Presence, PresenceSince: a.PresenceSince, AwayReasonID: a.AwayReasonID, GroupIDs: a.GroupIDs, CreatedAt: a.CreatedAt,
	}
}

type groupJSON struct {
	ID        int64          `json:"id"`
	Name      string         `json:"name"`
	Rights    []access.Right `json:"rights"`
	MemberIDs []int64        `json:"member_ids"`
	CreatedAt time.Time      `json:"created_at"`
}

func toGroupJSON(g team.Group) groupJSON {
	return groupJSON{ID: g.ID, Name: g.Name, Rights: g.Rights, MemberIDs: g.MemberIDs, CreatedAt: g.CreatedAt}
}

type departmentJSON struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	DisplayName string    `json:"display_name"`
	AvatarURL   *string   `json:"avatar_url"`
	CreatedAt   time.Time `json:"created_at"`
}

func toDepartmentJSON(d team.Department) departmentJSON {
	return departmentJSON{ID: d.ID, Name: d.Name, DisplayName: d.DisplayName, AvatarURL: avatarURL(d.Avatar), CreatedAt: d.CreatedAt}
}

func mapSlice[T, J any](in []T, f func(T) J) []J {
	out := make([]J, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

// pathID reads the {id} segment; an id that is no number names nothing.
func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.NotFound("resource")
	}
	return id, nil
}

// withID wraps a handler that acts on the resource named by {id}.
func (s *Server) withID(h func(w http.ResponseWriter, r *http.Request, id int64)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		h(w, r, id)
	}
}

// imageBody limits an uploaded image to what the services accept, so that a
// huge body is cut off early instead of read whole.
func imageBody(w http.ResponseWriter, r *http.Request) io.Reader {
	return http.MaxBytesReader(w, r.Body, team.MaxAvatarBytes+1)
}

func (s *Server) listAgents(w http.ResponseWriter, r *http.Request) {
	agents, err := s.team.Agents(r.Context(), actorFrom(r.Context()))
	respond(s, w, r, http.StatusOK, map[string]any{"agents": mapSlice(agents, toAgentJSON)}, err)
}

func (s *Server) getAgent(w http.ResponseWriter, r *http.Request, id int64) {
	a, err := s.team.Agent(r.Context(), actorFrom(r.Context()), id)
	respond(s, w, r, http.StatusOK, toAgentJSON(a), err)
}

func (s *Server) createAgent(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Email    string `json:"email"`
		Name     string `json:"name"`
		Password string `json:"password"`
		IsAdmin  bool   `json:"is_admin"`
	}
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	a, generated, err := s.team.CreateAgent(r.Context(), actorFrom(r.Context()), team.NewAgent{Email: in.Email, Name: in.Name, Password: in.Password, Admin: in.IsAdmin})
	var password *string
	if generated != "" {
		password = &generated
	}
	respond(s, w, r, http.StatusCreated, map[string]any{"agent": toAgentJSON(a), "password": password}, err)
}

func (s *Server) updateAgent(w http.ResponseWriter, r *http.Request, id int64) {
	var in struct {
		Email   *string `json:"email"`
		Name    *string `json:"name"`
		IsAdmin *bool   `json:"is_admin"`
		Active  *bool   `json:"active"`
	}
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := s.team.UpdateAgent(r.Context(), actorFrom(r.Context()), id, team.AgentPatch{Email: in.Email, Name: in.Name, Admin: in.IsAdmin, Active: in.Active})
	respond(s, w, r, http.StatusOK, toAgentJSON(a), err)
}

func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request, id int64) {
	var in struct {
		Password string `json:"password"`
	}
	if r.ContentLength != 0 {
		if err := decode(w, r, &in); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	password, err := s.team.ResetPassword(r.Context(), actorFrom(r.Context()), id, in.Password)
	respond(s, w, r, http.StatusOK, map[string]string{"password": password}, err)
}

func (s *Server) setAgentAvatar(w http.ResponseWriter, r *http.Request, id int64) {
	a, err := s.team.SetAgentAvatar(r.Context(), actorFrom(r.Context()), id, imageBody(w, r))
	respond(s, w, r, http.StatusOK, toAgentJSON(a), err)
}

func (s *Server) removeAgentAvatar(w http.ResponseWriter, r *http.Request, id int64) {
	a, err := s.team.RemoveAgentAvatar(r.Context(), actorFrom(r.Context()), id)
	respond(s, w, r, http.StatusOK, toAgentJSON(a), err)
}

type groupInput struct {
	Name      *string         `json:"name"`
	Rights    *[]access.Right `json:"rights"`
	MemberIDs *[]int64        `json:"member_ids"`
}

func (g groupInput) patch() team.GroupPatch {
	return team.GroupPatch{Name: g.Name, Rights: g.Rights, MemberIDs: g.MemberIDs}
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) {
	groups, err := s.team.Groups(r.Context(), actorFrom(r.Context()))
	respond(s, w, r, http.StatusOK, map[string]any{"groups": mapSlice(groups, toGroupJSON)}, err)
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request, id int64) {
	g, err := s.team.Group(r.Context(), actorFrom(r.Context()), id)
	respond(s, w, r, http.StatusOK, toGroupJSON(g), err)
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request) {
	var in groupInput
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	g, err := s.team.CreateGroup(r.Context(), actorFrom(r.Context()), in.patch())
	respond(s, w, r, http.StatusCreated, toGroupJSON(g), err)
}

func (s *Server) updateGroup(w http.ResponseWriter, r *http.Request, id int64) {
	var in groupInput
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	g, err := s.team.UpdateGroup(r.Context(), actorFrom(r.Context()), id, in.patch())
	respond(s, w, r, http.StatusOK, toGroupJSON(g), err)
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request, id int64) {
	respond(s, w, r, http.StatusNoContent, nil, s.team.DeleteGroup(r.Context(), actorFrom(r.Context()), id))
}

type departmentInput struct {
	Name        *string `json:"name"`
	DisplayName *string `json:"display_name"`
}

func (d departmentInput) patch() team.DepartmentPatch {
	return team.DepartmentPatch{Name: d.Name, DisplayName: d.DisplayName}
}

func (s *Server) listDepartments(w http.ResponseWriter, r *http.Request) {
	ds, err := s.team.Departments(r.Context(), actorFrom(r.Context()))
	respond(s, w, r, http.StatusOK, map[string]any{"departments": mapSlice(ds, toDepartmentJSON)}, err)
}

func (s *Server) getDepartment(w http.ResponseWriter, r *http.Request, id int64) {
	d, err := s.team.Department(r.Context(), actorFrom(r.Context()), id)
	respond(s, w, r, http.StatusOK, toDepartmentJSON(d), err)
}

func (s *Server) createDepartment(w http.ResponseWriter, r *http.Request) {
	var in departmentInput
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	d, err := s.team.CreateDepartment(r.Context(), actorFrom(r.Context()), in.patch())
	respond(s, w, r, http.StatusCreated, toDepartmentJSON(d), err)
}

func (s *Server) updateDepartment(w http.ResponseWriter, r *http.Request, id int64) {
	var in departmentInput
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	d, err := s.team.UpdateDepartment(r.Context(), actorFrom(r.Context()), id, in.patch())
	respond(s, w, r, http.StatusOK, toDepartmentJSON(d), err)
}

func (s *Server) deleteDepartment(w http.ResponseWriter, r *http.Request, id int64) {
	respond(s, w, r, http.StatusNoContent, nil, s.team.DeleteDepartment(r.Context(), actorFrom(r.Context()), id))
}

func (s *Server) setDepartmentAvatar(w http.ResponseWriter, r *http.Request, id int64) {
	d, err := s.team.SetDepartmentAvatar(r.Context(), actorFrom(r.Context()), id, imageBody(w, r))
	respond(s, w, r, http.StatusOK, toDepartmentJSON(d), err)
}

func (s *Server) removeDepartmentAvatar(w http.ResponseWriter, r *http.Request, id int64) {
	d, err := s.team.RemoveDepartmentAvatar(r.Context(), actorFrom(r.Context()), id)
	respond(s, w, r, http.StatusOK, toDepartmentJSON(d), err)
}
