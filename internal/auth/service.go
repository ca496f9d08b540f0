package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-hq/switchboard/internal/access"
	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/team"
)

// Config sets how long logins last.
type Config struct {
	// Lifetime is the longest a login lasts.
	Lifetime time.Duration
	// IdleTimeout ends a login unused for this long.
	IdleTimeout time.Duration
}

// Service logs agents in and out and resolves session tokens to actors.
type Service struct {
	store     Store
	passwords *Passwords
	cfg       Config
	now       func() time.Time
	perIP     *failures
	perEmail  *failures
	// dummyHash is verified against when the email is unknown, so that a
	// login takes as long whether or not the account exists. It is made on
	// first use: hashing takes 19 MiB that an idle server need not hold.
	dummyHash func() (string, error)
}

// touchEvery limits how often a session's last use is written.
const touchEvery = time.Minute

// NewService returns an authentication service.
func NewService(store Store, passwords *Passwords, cfg Config) *Service {
	return &Service{
		store: store, passwords: passwords, cfg: cfg, now: time.Now,
		// Only failures count. An IP may fail 20 times a minute (an office
		// behind one NAT), an account 5 after a burst of 10: enough for
		// typos, useless for guessing.
		perIP:    newFailures(20, 20),
		perEmail: newFailures(5, 10),
		dummyHash: sync.OnceValues(func() (string, error) {
			return passwords.Hash(context.Background(), rand.Text())
		}),
	}
}

// Login checks an email and password and opens a session. It returns the
// session token (to be given to the browser) and the session.
func (s *Service) Login(ctx context.Context, email, password, ip, userAgent string) (string, Session, error) {
	email = team.NormalizeEmail(email)
	now := s.now()
	ipOK, ipAllowed := s.perIP.attempt(ip, now)
	if !ipAllowed {
		return "", Session{}, errs.RateLimited("too many failed login attempts, try again in a minute")
	}
	emailOK, emailAllowed := s.perEmail.attempt(email, now)
	if !emailAllowed {
		ipOK()
		return "", Session{}, errs.RateLimited("too many failed login attempts, try again in a minute")
	}
	creds, err := s.store.Credentials(ctx, email)
	unknown := errors.Is(err, errs.ErrNotFound)
	if err != nil && !unknown {
		return "", Session{}, err
	}
	hash := creds.PasswordHash
	if unknown {
		if hash, err = s.dummyHash(); err != nil {
			return "", Session{}, err
		}
	}
	ok, err := s.passwords.Verify(ctx, hash, password)
	if err != nil {
		return "", Session{}, err
	}
	if unknown || !ok || !creds.Active {
		return "", Session{}, errs.Unauthenticated("invalid_credentials", "wrong email or password")
	}
	ipOK()
	emailOK()
	token := rand.Text() + rand.Text()
	sess := Session{
		TokenHash: HashToken(token), AgentID: creds.AgentID,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.cfg.Lifetime),
		IP: ip, UserAgent: truncate(userAgent, 300),
	}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return "", Session{}, err
	}
	return token, sess, nil
}

// Authenticate resolves a session token to its session and actor.
func (s *Service) Authenticate(ctx context.Context, token string) (Session, access.Actor, error) {
	denied := errs.Unauthenticated("unauthenticated", "log in first")
	if token == "" {
		return Session{}, access.Actor{}, denied
	}
	sess, actor, err := s.store.Session(ctx, HashToken(token))
	if errors.Is(err, errs.ErrNotFound) {
		return Session{}, access.Actor{}, denied
	}
	if err != nil {
		return Session{}, access.Actor{}, err
	}
	now := s.now()
	if !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) > s.cfg.IdleTimeout {
		_ = s.store.DeleteSession(ctx, sess.TokenHash)
		return Session{}, access.Actor{}, denied
	}
	if now.Sub(sess.LastSeenAt) > touchEvery {
		if err := s.store.TouchSession(ctx, sess.TokenHash, now); err != nil {
			return Session{}, access.Actor{}, err
		}
	}
	return sess, actor, nil
}

// Recheck returns the actor of a session by its token hash as it stands now,
// and whether the session is still live: long-lived connections re-check
// both, so that a revoked session or changed rights take effect.
func (s *Service) Recheck(ctx context.Context, tokenHash string) (access.Actor, bool) {
	sess, actor, err := s.store.Session(ctx, tokenHash)
	now := s.now()
	return actor, err == nil && now.Before(sess.ExpiresAt) && now.Sub(sess.LastSeenAt) <= s.cfg.IdleTimeout
}

// Logout ends the session with the given token hash.
func (s *Service) Logout(ctx context.Context, tokenHash string) error {
	return s.store.DeleteSession(ctx, tokenHash)
}

// ChangePassword changes the actor's own password after checking the current
// one, and ends the actor's other sessions.
func (s *Service) ChangePassword(ctx context.Context, actor access.Actor, sess Session, current, next string) error {
	// A stolen session must not become a way to guess the password.
	succeeded, allowed := s.perEmail.attempt("agent:"+strconv.FormatInt(actor.AgentID, 10), s.now())
	if !allowed {
		return errs.RateLimited("too many wrong passwords, try again in a minute")
	}
	hash, err := s.store.PasswordHash(ctx, actor.AgentID)
	if err != nil {
		return err
	}
	ok, err := s.passwords.Verify(ctx, hash, current)
	if err != nil {
		return err
	}
	if !ok {
		return errs.Invalid("current_password", "the current password is wrong")
	}
	succeeded()
	if err := team.CheckPassword("new_password", next); err != nil {
		return err
	}
	newHash, err := s.passwords.Hash(ctx, next)
	if err != nil {
		return err
	}
	return s.store.SetAgentPassword(ctx, actor.AgentID, newHash, sess.TokenHash)
}

// Sweep deletes expired sessions.
func (s *Service) Sweep(ctx context.Context) (int64, error) {
	now := s.now()
	return s.store.DeleteExpiredSessions(ctx, now, now.Add(-s.cfg.IdleTimeout))
}

// HashToken is how session tokens are stored.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
