// Package access holds the access rights of the Omnichannel module and the one
// check every service uses to decide whether an actor may do something.
package access

import (
	"slices"

	"github.com/switchboard-hq/switchboard/internal/errs"
)

// Right is a permission granted to the agents of a group.
type Right string

// The rights of the product spec. The four sub-rights are nested under
// Omnichannel: without it they grant nothing.
const (
	Omnichannel Right = "omnichannel"
	Unassigned  Right = "omnichannel.unassigned"
	Management  Right = "omnichannel.management"
	Settings    Right = "omnichannel.settings"
	Telephony   Right = "telephony"
)

// AllRights lists every right in display order.
var AllRights = []Right{Omnichannel, Unassigned, Management, Settings, Telephony}

// Valid reports whether r is one of AllRights.
func (r Right) Valid() bool { return slices.Contains(AllRights, r) }

// Actor is the authenticated agent on whose behalf a command or query runs.
type Actor struct {
	AgentID int64
	Admin   bool
	// Granted is the union of the rights of the agent's groups, as stored.
	Granted []Right
	// Groups are the ids of the agent's groups: they decide which unassigned
	// requests the agent sees.
	Groups []int64
}

// Can reports whether the actor effectively holds r: administrators hold every
// right, and sub-rights count only together with Omnichannel.
func (a Actor) Can(r Right) bool {
	if a.Admin {
		return true
	}
	if !slices.Contains(a.Granted, r) {
		return false
	}
	return r == Omnichannel || slices.Contains(a.Granted, Omnichannel)
}

// Effective lists the rights the actor effectively holds, in display order.
func (a Actor) Effective() []Right {
	out := []Right{}
	for _, r := range AllRights {
		if a.Can(r) {
			out = append(out, r)
		}
	}
	return out
}

// Require fails with a forbidden error unless the actor holds r.
func (a Actor) Require(r Right) error {
	if a.Can(r) {
		return nil
	}
	return errs.Forbidden("this needs the " + string(r) + " right")
}

// RequireAny fails unless the actor holds at least one of rs.
func (a Actor) RequireAny(rs ...Right) error {
	for _, r := range rs {
		if a.Can(r) {
			return nil
		}
	}
	return errs.Forbidden("you lack the rights for this")
}

// RequireAdmin fails unless the actor is an administrator.
func (a Actor) RequireAdmin() error {
	if a.Admin {
		return nil
	}
	return errs.Forbidden("only administrators may do this")
}

// System is the actor of the command line and of start-up: an administrator
// that is no agent.
var System = Actor{Admin: true}
