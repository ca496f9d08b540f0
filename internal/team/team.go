// Package team is the administration of the people who work requests: agents,
// the groups that carry their access rights, departments, and operator status.
package team

import (
	"context"
	"time"

	"github.com/switchboard-hq/switchboard/internal/access"
)

// Presence is an agent's operator status; it decides auto-assignment.
type Presence string

// The operator statuses.
const (
	Online  Presence = "online"
	Away    Presence = "away"
	Offline Presence = "offline"
)

// Valid reports whether p is a known operator status.
func (p Presence) Valid() bool { return p == Online || p == Away || p == Offline }

// Agent is a person who works requests. Agents with history are never
// deleted, only deactivated.
type Agent struct {
	ID    int64
	Email string
	Name  string
	// Avatar is the blob name of the avatar image, empty when there is none.
	Avatar        string
	Admin         bool
	Active        bool
	Presence      Presence
	PresenceSince time.Time
	// AwayReasonID is why an Away agent is away (0: no reason given).
	AwayReasonID int64
	GroupIDs     []int64
	CreatedAt    time.Time
}

// AwayReason is a custom reason for being Away (Lunch, Training).
type AwayReason struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Group is a set of agents and the rights they get from it.
type Group struct {
	ID        int64
	Name      string
	Rights    []access.Right
	MemberIDs []int64
	CreatedAt time.Time
}

// Department is where a request belongs; its display name and avatar are what
// widget visitors see when a single department avatar is shown.
type Department struct {
	ID          int64
	Name        string
	DisplayName string
	Avatar      string
	CreatedAt   time.Time
}

// Store is the persistence the team service needs.
type Store interface {
	// CreateAgent stores a new agent; a taken email is a conflict.
	CreateAgent(ctx context.Context, a Agent, passwordHash string) (Agent, error)
	Agent(ctx context.Context, id int64) (Agent, error)
	AgentByEmail(ctx context.Context, email string) (Agent, error)
	Agents(ctx context.Context) ([]Agent, error)
	CountAgents(ctx context.Context) (int, error)
	// UpdateAgent stores name, email, admin flag and active flag.
	// Deactivation ends the agent's sessions and sets them Offline. It fails
	// with a conflict when it would leave no active administrator.
	UpdateAgent(ctx context.Context, a Agent) (Agent, error)
	// SetAgentPassword stores a new password hash and ends every session of
	// the agent except keepSession (a token hash, may be empty).
	SetAgentPassword(ctx context.Context, id int64, passwordHash, keepSession string) error
	// SetPresence stores the operator status and tells the supervisors.
	SetPresence(ctx context.Context, id int64, p Presence, reasonID int64) (Agent, error)
	// MarkConnected records that a workspace tab of the agent is open,
	// vouching for them until the given time.
	MarkConnected(ctx context.Context, id int64, until time.Time) error
	AwayReasons(ctx context.Context) ([]AwayReason, error)
	CreateAwayReason(ctx context.Context, name string) (AwayReason, error)
	RenameAwayReason(ctx context.Context, id int64, name string) (AwayReason, error)
	DeleteAwayReason(ctx context.Context, id int64) error
	// SetAgentAvatar replaces the avatar alone and returns the replaced one.
	SetAgentAvatar(ctx context.Context, id int64, avatar string) (Agent, string, error)

	CreateGroup(ctx context.Context, g Group) (Group, error)
	Group(ctx context.Context, id int64) (Group, error)
	Groups(ctx context.Context) ([]Group, error)
	UpdateGroup(ctx context.Context, g Group) (Group, error)
	DeleteGroup(ctx context.Context, id int64) error

	CreateDepartment(ctx context.Context, d Department) (Department, error)
	Department(ctx context.Context, id int64) (Department, error)
	Departments(ctx context.Context) ([]Department, error)
	// UpdateDepartment stores the name and display name.
	UpdateDepartment(ctx context.Context, d Department) (Department, error)
	// SetDepartmentAvatar replaces the avatar alone and returns the replaced one.
	SetDepartmentAvatar(ctx context.Context, id int64, avatar string) (Department, string, error)
	DeleteDepartment(ctx context.Context, id int64) error
}
