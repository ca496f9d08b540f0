// Package auth authenticates agents: argon2id passwords, revocable sessions
// and rate-limited logins.
package auth

import (
	"context"
	"time"

	"github.com/switchboard-hq/switchboard/internal/access"
)

// Session is one login of an agent. Only a hash of its token is stored.
type Session struct {
	TokenHash  string
	AgentID    int64
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	IP         string
	UserAgent  string
}

// Credentials is what a login is checked against.
type Credentials struct {
	AgentID      int64
	PasswordHash string
	Active       bool
}

// Store is the persistence authentication needs.
type Store interface {
	// Credentials finds an agent by normalized email.
	Credentials(ctx context.Context, email string) (Credentials, error)
	PasswordHash(ctx context.Context, agentID int64) (string, error)
	SetAgentPassword(ctx context.Context, agentID int64, passwordHash, keepSession string) error
	CreateSession(ctx context.Context, s Session) error
	// Session returns a session of an active agent and the agent as an actor.
	Session(ctx context.Context, tokenHash string) (Session, access.Actor, error)
	TouchSession(ctx context.Context, tokenHash string, at time.Time) error
	DeleteSession(ctx context.Context, tokenHash string) error
	// DeleteExpiredSessions removes sessions past their lifetime or idle since before idleSince.
	DeleteExpiredSessions(ctx context.Context, now, idleSince time.Time) (int64, error)
}
