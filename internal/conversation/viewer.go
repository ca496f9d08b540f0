package conversation

import (
	"slices"

	"github.com/switchboard-hq/switchboard/internal/access"
)

// Viewer is what decides which requests and events an agent sees (DESIGN.md):
// their own requests; with the unassigned right also the unassigned requests
// served by one of their groups or by no group; with management, everything.
type Viewer struct {
	AgentID int64
	All     bool
	Queue   bool
	Groups  []int64
}

// ViewerOf returns the viewer of an actor.
func ViewerOf(a access.Actor) Viewer {
	return Viewer{AgentID: a.AgentID, All: a.Can(access.Management), Queue: a.Can(access.Unassigned), Groups: a.Groups}
}

// Equal reports whether two viewers see the same things.
func (v Viewer) Equal(o Viewer) bool {
	return v.AgentID == o.AgentID && v.All == o.All && v.Queue == o.Queue && slices.Equal(v.Groups, o.Groups)
}

// Sees reports whether the viewer may see the event.
func (v Viewer) Sees(e Event) bool {
	if v.All {
		return true
	}
	if e.ConversationID == 0 {
		// Agents' statuses are the supervisors' business.
		return e.AssigneeID == 0
	}
	if v.AgentID != 0 && (e.AssigneeID == v.AgentID || e.PrevAssigneeID == v.AgentID) {
		return true
	}
	return v.Queue && e.Queued && v.servedBy(e.GroupID)
}

// SeesConversation reports whether the viewer may see the request.
func (v Viewer) SeesConversation(c Conversation) bool {
	if v.All || (v.AgentID != 0 && c.AssigneeID == v.AgentID) {
		return true
	}
	return v.Queue && c.AssigneeID == 0 && c.Open() && c.Mode == Live && v.servedBy(c.GroupID)
}

func (v Viewer) servedBy(group int64) bool {
	return group == 0 || slices.Contains(v.Groups, group)
}
