package auth_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/switchboard-hq/switchboard/internal/access"
	"github.com/switchboard-hq/switchboard/internal/auth"
	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/store"
	"github.com/switchboard-hq/switchboard/internal/storetest"
	"github.com/switchboard-hq/switchboard/internal/team"
)

const (
	password = "correct horse battery staple"
	lifetime = 8 * time.Hour
	idle     = 30 * time.Minute
)

// One argon2 hash of password serves every agent of every test: each hash
// costs tens of milliseconds.
var passwordHash = sync.OnceValues(func() (string, error) {
	return auth.NewPasswords(1).Hash(context.Background(), password)
})

type fixture struct {
	db    *store.DB
	svc   *auth.Service
	clock *storetest.Clock
}

func setup(t *testing.T, db *store.DB) fixture {
	t.Helper()
	svc := auth.NewService(db, auth.NewPasswords(2), auth.Config{Lifetime: lifetime, IdleTimeout: idle})
	clk := storetest.NewClock(time.Date(2030, 6, 1, 9, 0, 0, 0, time.UTC))
	auth.SetClock(svc, clk.Now)
	// An active administrator, so that agents may be deactivated.
	agent(t, db, "admin@example.com", true)
	return fixture{db: db, svc: svc, clock: clk}
}

// agent stores an active agent whose password is password.
func agent(t *testing.T, db *store.DB, email string, admin bool) team.Agent {
	t.Helper()
	hash, err := passwordHash()
	if err != nil {
		t.Fatal(err)
	}
	a, err := db.CreateAgent(t.Context(), team.Agent{Email: email, Name: email, Admin: admin, Active: true, Presence: team.Offline}, hash)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func wantErr(t *testing.T, doing string, err, kind error, code, field string) {
	t.Helper()
	var e *errs.Error
	if !errors.Is(err, kind) || !errors.As(err, &e) {
		t.Errorf("%s: %v, want %v", doing, err, kind)
		return
	}
	if e.Code != code || e.Field != field {
		t.Errorf("%s: code %q field %q, want code %q field %q", doing, e.Code, e.Field, code, field)
	}
}

func TestService(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := t.Context()

		t.Run("a login opens a session that authenticates", func(t *testing.T) {
			a := agent(t, db, "login@example.com", false)
			token, sess, err := f.svc.Login(ctx, "  Login@Example.COM ", password, "192.0.2.10", "Firefox")
			if err != nil {
				t.Fatal(err)
			}
			now := f.clock.Now()
			want := auth.Session{TokenHash: auth.HashToken(token), AgentID: a.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(lifetime), IP: "192.0.2.10", UserAgent: "Firefox"}
			if len(token) < 32 || sess != want {
				t.Errorf("Login gave token %q and session %+v, want %+v", token, sess, want)
			}
			got, actor, err := f.svc.Authenticate(ctx, token)
			if err != nil {
				t.Fatal(err)
			}
			if actor.AgentID != a.ID || actor.Admin || got.AgentID != a.ID || !got.ExpiresAt.Equal(want.ExpiresAt) {
				t.Errorf("Authenticate = %+v, %+v", got, actor)
			}
			// Logging in again opens a second, different session.
			second, _, err := f.svc.Login(ctx, "login@example.com", password, "192.0.2.10", "Firefox")
			if err != nil || second == token {
				t.Errorf("second login: %q, %v", second, err)
			}

			if err := f.svc.Logout(ctx, sess.TokenHash); err != nil {
				t.Fatal(err)
			}
			_, _, err = f.svc.Authenticate(ctx, token)
			wantErr(t, "Authenticate after logout", err, errs.ErrUnauthenticated, "unauthenticated", "")
			if _, _, err := f.svc.Authenticate(ctx, second); err != nil {
				t.Errorf("the other session ended with the logout: %v", err)
			}
		})

		t.Run("an administrator authenticates as one", func(t *testing.T) {
			token, _, err := f.svc.Login(ctx, "admin@example.com", password, "192.0.2.11", "")
			if err != nil {
				t.Fatal(err)
			}
			if _, actor, err := f.svc.Authenticate(ctx, token); err != nil || !actor.Admin || !actor.Can(access.Settings) {
				t.Errorf("Authenticate = %+v, %v; want an administrator", actor, err)
			}
		})

		t.Run("missing and unknown tokens are refused", func(t *testing.T) {
			for _, token := range []string{"", "no-such-token", auth.HashToken("x")} {
				_, actor, err := f.svc.Authenticate(ctx, token)
				wantErr(t, "Authenticate("+token+")", err, errs.ErrUnauthenticated, "unauthenticated", "")
				if actor.AgentID != 0 || actor.Admin {
					t.Errorf("a refused token gave actor %+v", actor)
				}
			}
		})

		t.Run("a long user agent is cut to 300 bytes of valid text", func(t *testing.T) {
			agent(t, db, "long-ua@example.com", false)
			for _, ua := range []string{strings.Repeat("a", 400), strings.Repeat("a", 299) + "ééé"} {
				_, sess, err := f.svc.Login(ctx, "long-ua@example.com", password, "192.0.2.12", ua)
				if err != nil {
					t.Errorf("Login with a %d-byte user agent: %v", len(ua), err)
					continue
				}
				if len(sess.UserAgent) > 300 || !strings.HasPrefix(ua, sess.UserAgent) || len(sess.UserAgent) < 299 || !utf8.ValidString(sess.UserAgent) {
					t.Errorf("user agent of %d bytes stored as %d bytes %q", len(ua), len(sess.UserAgent), sess.UserAgent)
				}
			}
		})

		t.Run("wrong password and unknown email are the same failure", func(t *testing.T) {
			agent(t, db, "victim@example.com", false)
			_, _, wrong := f.svc.Login(ctx, "victim@example.com", "not the password", "192.0.2.20", "")
			_, _, unknown := f.svc.Login(ctx, "nobody@example.com", password, "192.0.2.20", "")
			_, _, empty := f.svc.Login(ctx, "victim@example.com", "", "192.0.2.20", "")
			for name, err := range map[string]error{"wrong password": wrong, "unknown email": unknown, "empty password": empty} {
				wantErr(t, name, err, errs.ErrUnauthenticated, "invalid_credentials", "")
			}
			if wrong.Error() != unknown.Error() || wrong.Error() != empty.Error() {
				t.Errorf("the failures differ: %q, %q, %q", wrong, unknown, empty)
			}
		})

		t.Run("a deactivated agent cannot log in and its sessions end", func(t *testing.T) {
			a := agent(t, db, "deactivated@example.com", false)
			token, _, err := f.svc.Login(ctx, "deactivated@example.com", password, "192.0.2.30", "")
			if err != nil {
				t.Fatal(err)
			}
			a.Active = false
			if _, err := db.UpdateAgent(ctx, a); err != nil {
				t.Fatal(err)
			}
			_, _, err = f.svc.Login(ctx, "deactivated@example.com", password, "192.0.2.30", "")
			wantErr(t, "login of a deactivated agent", err, errs.ErrUnauthenticated, "invalid_credentials", "")
			_, _, err = f.svc.Authenticate(ctx, token)
			wantErr(t, "session of a deactivated agent", err, errs.ErrUnauthenticated, "unauthenticated", "")
		})

		t.Run("idle sessions are refused and removed", func(t *testing.T) {
			agent(t, db, "idler@example.com", false)
			token, sess, err := f.svc.Login(ctx, "idler@example.com", password, "192.0.2.40", "")
			if err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(30 * time.Second)
			if _, _, err := f.svc.Authenticate(ctx, token); err != nil {
				t.Fatal(err)
			}
			if s, _, _ := db.Session(ctx, sess.TokenHash); !s.LastSeenAt.Equal(sess.LastSeenAt) {
				t.Errorf("a use within a minute was written: last seen %v, want %v", s.LastSeenAt, sess.LastSeenAt)
			}
			// Used just within the idle timeout, the session stays and its use is recorded...
			f.clock.Advance(idle - 30*time.Second)
			if _, _, err := f.svc.Authenticate(ctx, token); err != nil {
				t.Fatalf("used exactly at the idle timeout: %v", err)
			}
			if s, _, _ := db.Session(ctx, sess.TokenHash); !s.LastSeenAt.Equal(f.clock.Now()) {
				t.Errorf("the use was not recorded: last seen %v, want %v", s.LastSeenAt, f.clock.Now())
			}
			// ...so the idle time counts from there.
			f.clock.Advance(idle)
			if _, _, err := f.svc.Authenticate(ctx, token); err != nil {
				t.Fatalf("used again within the idle timeout of the last use: %v", err)
			}
			f.clock.Advance(idle + time.Millisecond)
			_, _, err = f.svc.Authenticate(ctx, token)
			wantErr(t, "an idle session", err, errs.ErrUnauthenticated, "unauthenticated", "")
			if _, _, err := db.Session(ctx, sess.TokenHash); !errors.Is(err, errs.ErrNotFound) {
				t.Errorf("the idle session was not removed: %v", err)
			}
		})

		t.Run("expired sessions are refused however recently used", func(t *testing.T) {
			agent(t, db, "expirer@example.com", false)
			token, sess, err := f.svc.Login(ctx, "expirer@example.com", password, "192.0.2.50", "")
			if err != nil {
				t.Fatal(err)
			}
			for f.clock.Now().Add(idle).Before(sess.ExpiresAt) {
				f.clock.Advance(idle)
				if _, _, err := f.svc.Authenticate(ctx, token); err != nil {
					t.Fatalf("at %v, before expiry: %v", f.clock.Now(), err)
				}
			}
			f.clock.Advance(sess.ExpiresAt.Sub(f.clock.Now()) - time.Millisecond)
			if _, _, err := f.svc.Authenticate(ctx, token); err != nil {
				t.Fatalf("a millisecond before expiry: %v", err)
			}
			f.clock.Advance(time.Millisecond)
			_, _, err = f.svc.Authenticate(ctx, token)
			wantErr(t, "an expired session", err, errs.ErrUnauthenticated, "unauthenticated", "")
			if _, _, err := db.Session(ctx, sess.TokenHash); !errors.Is(err, errs.ErrNotFound) {
				t.Errorf("the expired session was not removed: %v", err)
			}
		})

		t.Run("Sweep removes idle and expired sessions", func(t *testing.T) {
			agent(t, db, "swept@example.com", false)
			_, old, err := f.svc.Login(ctx, "swept@example.com", password, "192.0.2.60", "")
			if err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(idle)
			_, fresh, err := f.svc.Login(ctx, "swept@example.com", password, "192.0.2.60", "")
			if err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(time.Millisecond)
			if n, err := f.svc.Sweep(ctx); err != nil || n < 1 {
				t.Errorf("Sweep = %d, %v; want at least the idle session", n, err)
			}
			if _, _, err := db.Session(ctx, old.TokenHash); !errors.Is(err, errs.ErrNotFound) {
				t.Errorf("the idle session was kept: %v", err)
			}
			if _, _, err := db.Session(ctx, fresh.TokenHash); err != nil {
				t.Errorf("the fresh session was removed: %v", err)
			}
		})

		t.Run("ChangePassword checks the current password and ends the other sessions", func(t *testing.T) {
			a := agent(t, db, "changer@example.com", false)
			login := func() (string, auth.Session) {
				t.Helper()
				token, sess, err := f.svc.Login(ctx, "changer@example.com", password, "192.0.2.70", "")
				if err != nil {
					t.Fatal(err)
				}
				return token, sess
			}
			current, sess := login()
			other, _ := login()
			actor := access.Actor{AgentID: a.ID}

			err := f.svc.ChangePassword(ctx, actor, sess, "wrong current", "a brand new password")
			wantErr(t, "a wrong current password", err, errs.ErrInvalid, "validation_failed", "current_password")
			err = f.svc.ChangePassword(ctx, actor, sess, password, "short")
			wantErr(t, "a too short new password", err, errs.ErrInvalid, "validation_failed", "new_password")
			if _, _, err := f.svc.Authenticate(ctx, other); err != nil {
				t.Errorf("a refused change ended the other session: %v", err)
			}

			if err := f.svc.ChangePassword(ctx, actor, sess, password, "a brand new password"); err != nil {
				t.Fatal(err)
			}
			if _, _, err := f.svc.Authenticate(ctx, current); err != nil {
				t.Errorf("the session that changed the password ended: %v", err)
			}
			_, _, err = f.svc.Authenticate(ctx, other)
			wantErr(t, "the other session", err, errs.ErrUnauthenticated, "unauthenticated", "")
			_, _, err = f.svc.Login(ctx, "changer@example.com", password, "192.0.2.70", "")
			wantErr(t, "login with the old password", err, errs.ErrUnauthenticated, "invalid_credentials", "")
			if _, _, err := f.svc.Login(ctx, "changer@example.com", "a brand new password", "192.0.2.70", ""); err != nil {
				t.Errorf("login with the new password: %v", err)
			}
		})
	})
}

// The rate limits do not depend on the storage engine, and every counted
// attempt costs an argon2 hash, so they are tested on SQLite only.
func TestLoginRateLimits(t *testing.T) {
	f := setup(t, storetest.Open(t, storetest.SQLite(t)))
	ctx := t.Context()
	for _, email := range []string{"limited@example.com", "bystander@example.com", "third@example.com"} {
		agent(t, f.db, email, false)
	}
	login := func(email, pw, ip string) error {
		t.Helper()
		_, _, err := f.svc.Login(ctx, email, pw, ip, "")
		return err
	}
	const office, home, cafe = "203.0.113.7", "198.51.100.1", "192.0.2.99"

	// An account may fail 10 times; then even the right password is refused.
	for range 10 {
		wantErr(t, "failure within the burst", login("limited@example.com", "guess", office), errs.ErrUnauthenticated, "invalid_credentials", "")
	}
	// The limit is the account's, not the address's, and the email is
	// normalized before it is counted.
	wantErr(t, "attempt after the burst, with the right password", login(" LIMITED@example.com", password, home), errs.ErrRateLimited, "rate_limited", "")

	// Successful logins do not count: 9 failures, a success and a 10th
	// failure are all answered.
	for range 9 {
		wantErr(t, "bystander failure", login("bystander@example.com", "guess", office), errs.ErrUnauthenticated, "invalid_credentials", "")
	}
	if err := login("bystander@example.com", password, office); err != nil {
		t.Errorf("a login after 9 failures: %v", err)
	}
	wantErr(t, "the 10th failure after a success", login("bystander@example.com", "guess", office), errs.ErrUnauthenticated, "invalid_credentials", "")
	wantErr(t, "bystander after 10 failures", login("bystander@example.com", password, cafe), errs.ErrRateLimited, "rate_limited", "")

	// The office address has now failed 20 times: it is refused for any
	// account, other addresses are not.
	wantErr(t, "21st attempt from one address", login("third@example.com", password, office), errs.ErrRateLimited, "rate_limited", "")
	if err := login("third@example.com", password, home); err != nil {
		t.Errorf("another address was limited too: %v", err)
	}

	// The account's bucket refills at 5 a minute, the address's at 20.
	f.clock.Advance(12 * time.Second)
	if err := login("limited@example.com", password, home); err != nil {
		t.Errorf("login once the account's bucket refilled: %v", err)
	}
	if err := login("third@example.com", password, office); err != nil {
		t.Errorf("login once the address's bucket refilled: %v", err)
	}
}

// Failures are counted after the password check; attempts running at the
// same moment must not all slip through before the first is counted.
func TestLoginRateLimitHoldsUnderConcurrentAttempts(t *testing.T) {
	f := setup(t, storetest.Open(t, storetest.SQLite(t)))
	agent(t, f.db, "target@example.com", false)
	const attempts, burst = 20, 10
	results := make([]error, attempts)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range attempts {
		wg.Go(func() {
			<-start
			_, _, results[i] = f.svc.Login(t.Context(), "target@example.com", "guess", fmt.Sprintf("198.51.100.%d", i), "")
		})
	}
	close(start)
	wg.Wait()
	checked := 0
	for _, err := range results {
		switch {
		case errors.Is(err, errs.ErrUnauthenticated):
			checked++
		case !errors.Is(err, errs.ErrRateLimited):
			t.Errorf("concurrent attempt: %v", err)
		}
	}
	if checked > burst {
		t.Errorf("%d of %d concurrent guesses for one account had their password checked, want at most the burst of %d", checked, attempts, burst)
	}
}
