package httpapi

import (
	"net/http"
	"strconv"
	"time"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/supervision"
	"github.com/switchboard-hq/switchboard/internal/team"
)

// activeChats is Management → Active chats: one page of the open live
// requests, keyset-paginated by the opaque cursor in "next".
func (s *Server) activeChats(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	query := supervision.ChatQuery{
		Kind: cv.ChannelKind(q.Get("channel")), Sort: supervision.Sort(q.Get("sort")), Cursor: q.Get("cursor"),
	}
	var err error
	if query.DepartmentID, err = optionalInt(q.Get("department_id"), "department_id"); err != nil {
		s.writeError(w, r, err)
		return
	}
	if v := q.Get("limit"); v != "" {
		// A number out of range is clamped to 1…200; no number is refused.
		if query.Limit, err = strconv.Atoi(v); err != nil {
			s.writeError(w, r, errs.Invalid("limit", "must be a number"))
			return
		}
		query.Limit = max(query.Limit, 1)
	}
	page, err := s.supervision.ActiveChats(r.Context(), actorFrom(r.Context()), query)
	respond(s, w, r, http.StatusOK, page, err)
}

type agentAtWorkJSON struct {
	ID          int64             `json:"id"`
	Name        string            `json:"name"`
	AvatarURL   *string           `json:"avatar_url"`
	Presence    team.Presence     `json:"presence"`
	Reason      *string           `json:"reason"`
	Since       time.Time         `json:"since"`
	Connected   bool              `json:"connected"`
	ActiveChats int               `json:"active_chats"`
	Capacity    int               `json:"capacity"`
	LastReplyAt *time.Time        `json:"last_reply_at"`
	Today       supervision.Today `json:"today"`
}

// agentsAtWork is Management → Agents: every agent of the module with their
// status, load and today's metrics.
func (s *Server) agentsAtWork(w http.ResponseWriter, r *http.Request) {
	agents, err := s.supervision.Agents(r.Context(), actorFrom(r.Context()), time.Now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := mapSlice(agents, func(a supervision.Agent) agentAtWorkJSON {
		j := agentAtWorkJSON{
			ID: a.ID, Name: a.Name, AvatarURL: avatarURL(a.Avatar), Presence: a.Presence, Since: a.Since,
			Connected: a.Connected, ActiveChats: a.ActiveChats, Capacity: a.Capacity, LastReplyAt: a.LastReplyAt, Today: a.Today,
		}
		if a.Reason != "" {
			j.Reason = &a.Reason
		}
		return j
	})
	writeJSON(w, http.StatusOK, map[string]any{"agents": out})
}
