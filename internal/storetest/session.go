package storetest

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-hq/switchboard/internal/access"
	"github.com/switchboard-hq/switchboard/internal/auth"
	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/store"
	"github.com/switchboard-hq/switchboard/internal/team"
)

// Sessions is the behaviour suite of the session store: the methods of
// *store.DB that implement auth.Store. Like Team, its subtests share db and
// work only on what they create.
func Sessions(t *testing.T, db *store.DB) {
	// Times are stored in whole milliseconds.
	base := time.Date(2032, 2, 3, 4, 5, 6, 789_000_000, time.UTC)

	t.Run("a session looks up its agent with the rights of all its groups", func(t *testing.T) {
		ctx := t.Context()
		a := newAgent(t, db, "rights@example.com", "Rights", false, true)
		outsider := newAgent(t, db, "outsider@example.com", "Outsider", false, true)
		mustGroup(t, db, "Rights one", []access.Right{access.Omnichannel, access.Management}, a.ID)
		mustGroup(t, db, "Rights two", []access.Right{access.Telephony}, a.ID, outsider.ID)
		mustGroup(t, db, "Rights three", []access.Right{access.Settings}, outsider.ID)

		want := auth.Session{
			TokenHash: "rights-token", AgentID: a.ID, CreatedAt: base, LastSeenAt: base.Add(time.Second),
			ExpiresAt: base.Add(time.Hour), IP: "2001:db8::1", UserAgent: "Mozilla/5.0 (test)",
		}
		if err := db.CreateSession(ctx, want); err != nil {
			t.Fatal(err)
		}
		got, actor, err := db.Session(ctx, "rights-token")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Session returned\n%+v\nwant\n%+v", got, want)
		}
		if actor.AgentID != a.ID || actor.Admin {
			t.Errorf("actor %+v, want agent %d, not an administrator", actor, a.ID)
		}
		if granted := rightSet(actor.Granted); !reflect.DeepEqual(granted, []access.Right{access.Omnichannel, access.Management, access.Telephony}) {
			t.Errorf("actor granted %v, want the union of omnichannel, management and telephony", actor.Granted)
		}
		if !actor.Can(access.Management) || actor.Can(access.Settings) {
			t.Errorf("actor %+v: can manage %v, can change settings %v", actor, actor.Can(access.Management), actor.Can(access.Settings))
		}

		_, _, err = db.Session(ctx, "no-such-token")
		wantError(t, "Session of an unknown token", err, errs.ErrNotFound, "")
	})

	t.Run("an administrator's session carries the administrator flag", func(t *testing.T) {
		ctx := t.Context()
		admin := newAgent(t, db, "session-admin@example.com", "Session Admin", true, true)
		newSession(t, db, admin.ID, "admin-token", base)
		_, actor, err := db.Session(ctx, "admin-token")
		if err != nil {
			t.Fatal(err)
		}
		if actor.AgentID != admin.ID || !actor.Admin || len(actor.Granted) != 0 {
			t.Errorf("actor %+v, want administrator %d without group rights", actor, admin.ID)
		}
	})

	t.Run("a session loses the rights of a deleted group", func(t *testing.T) {
		ctx := t.Context()
		a := newAgent(t, db, "loses@example.com", "Loses", false, true)
		g := mustGroup(t, db, "Short-lived", []access.Right{access.Omnichannel}, a.ID)
		newSession(t, db, a.ID, "loses-token", base)
		if _, actor, err := db.Session(ctx, "loses-token"); err != nil || !actor.Can(access.Omnichannel) {
			t.Fatalf("before delete: %+v, %v", actor, err)
		}
		if err := db.DeleteGroup(ctx, g.ID); err != nil {
			t.Fatal(err)
		}
		if _, actor, err := db.Session(ctx, "loses-token"); err != nil || len(actor.Granted) != 0 {
			t.Errorf("after delete: %+v, %v; want no rights", actor, err)
		}
	})

	t.Run("an inactive agent's session is not found", func(t *testing.T) {
		ctx := t.Context()
		// Created inactive, so that no deactivation deletes the session first.
		a := newAgent(t, db, "dormant@example.com", "Dormant", false, false)
		newSession(t, db, a.ID, "dormant-token", base)
		_, _, err := db.Session(ctx, "dormant-token")
		wantError(t, "Session of an inactive agent", err, errs.ErrNotFound, "")
	})

	t.Run("touching a session records its last use", func(t *testing.T) {
		ctx := t.Context()
		a := newAgent(t, db, "toucher@example.com", "Toucher", false, true)
		newSession(t, db, a.ID, "touch-token", base)
		newSession(t, db, a.ID, "untouched-token", base)
		at := base.Add(17 * time.Minute)
		if err := db.TouchSession(ctx, "touch-token", at); err != nil {
			t.Fatal(err)
		}
		if s, _, err := db.Session(ctx, "touch-token"); err != nil || !s.LastSeenAt.Equal(at) || !s.CreatedAt.Equal(base) {
			t.Errorf("touched session %+v, %v; want last seen %v", s, err, at)
		}
		if s, _, err := db.Session(ctx, "untouched-token"); err != nil || !s.LastSeenAt.Equal(base) {
			t.Errorf("the other session %+v, %v; want last seen %v", s, err, base)
		}
	})

	t.Run("deleting a session ends only that login", func(t *testing.T) {
		ctx := t.Context()
		a := newAgent(t, db, "two-logins@example.com", "Two Logins", false, true)
		newSession(t, db, a.ID, "login-1", base)
		newSession(t, db, a.ID, "login-2", base)
		if err := db.DeleteSession(ctx, "login-1"); err != nil {
			t.Fatal(err)
		}
		_, _, err := db.Session(ctx, "login-1")
		wantError(t, "Session after delete", err, errs.ErrNotFound, "")
		if _, _, err := db.Session(ctx, "login-2"); err != nil {
			t.Errorf("the other login: %v", err)
		}
		if err := db.DeleteSession(ctx, "login-1"); err != nil {
			t.Errorf("deleting a session twice: %v", err)
		}
	})

	t.Run("DeleteExpiredSessions removes expired and idle ones and keeps live ones", func(t *testing.T) {
		ctx := t.Context()
		a := newAgent(t, db, "sweep@example.com", "Sweep", false, true)
		// A day before the other subtests' sessions, so that none of theirs
		// is expired or idle at now.
		now := base.Add(-24 * time.Hour)
		idleSince := now.Add(-30 * time.Minute)
		sessions := []struct {
			token    string
			lastSeen time.Time
			expires  time.Time
			kept     bool
		}{
			{"sweep-live", now.Add(-time.Minute), now.Add(time.Hour), true},
			{"sweep-expired", now.Add(-time.Minute), now.Add(-time.Millisecond), false},
			{"sweep-expires-now", now.Add(-time.Minute), now, false},
			{"sweep-expires-next", now.Add(-time.Minute), now.Add(time.Millisecond), true},
			{"sweep-idle", idleSince.Add(-time.Millisecond), now.Add(time.Hour), false},
			{"sweep-idle-limit", idleSince, now.Add(time.Hour), true},
		}
		for _, s := range sessions {
			err := db.CreateSession(ctx, auth.Session{TokenHash: s.token, AgentID: a.ID, CreatedAt: now.Add(-time.Hour), LastSeenAt: s.lastSeen, ExpiresAt: s.expires})
			if err != nil {
				t.Fatal(err)
			}
		}
		n, err := db.DeleteExpiredSessions(ctx, now, idleSince)
		if err != nil {
			t.Fatal(err)
		}
		if n != 3 {
			t.Errorf("DeleteExpiredSessions removed %d sessions, want 3", n)
		}
		for _, s := range sessions {
			_, _, err := db.Session(ctx, s.token)
			if s.kept && err != nil {
				t.Errorf("%s was removed: %v", s.token, err)
			}
			if !s.kept && !errors.Is(err, errs.ErrNotFound) {
				t.Errorf("%s was kept: %v", s.token, err)
			}
		}
		if n, err := db.DeleteExpiredSessions(ctx, now, idleSince); err != nil || n != 0 {
			t.Errorf("a second sweep removed %d, %v; want 0", n, err)
		}
	})

	t.Run("SetAgentPassword ends other sessions but keeps the one given", func(t *testing.T) {
		ctx := t.Context()
		a := newAgent(t, db, "changer@example.com", "Changer", false, true)
		other := newAgent(t, db, "bystander@example.com", "Bystander", false, true)
		for _, token := range []string{"changer-1", "changer-2", "changer-3"} {
			newSession(t, db, a.ID, token, base)
		}
		newSession(t, db, other.ID, "bystander-1", base)

		if err := db.SetAgentPassword(ctx, a.ID, "new-hash", "changer-2"); err != nil {
			t.Fatal(err)
		}
		if hash, err := db.PasswordHash(ctx, a.ID); err != nil || hash != "new-hash" {
			t.Errorf("PasswordHash = %q, %v", hash, err)
		}
		if c, err := db.Credentials(ctx, "changer@example.com"); err != nil || c.PasswordHash != "new-hash" || !c.Active || c.AgentID != a.ID {
			t.Errorf("Credentials = %+v, %v", c, err)
		}
		for token, kept := range map[string]bool{"changer-1": false, "changer-2": true, "changer-3": false, "bystander-1": true} {
			_, _, err := db.Session(ctx, token)
			if kept && err != nil {
				t.Errorf("%s was ended: %v", token, err)
			}
			if !kept && !errors.Is(err, errs.ErrNotFound) {
				t.Errorf("%s was kept: %v", token, err)
			}
		}

		// Without a session to keep, every session ends (a reset by an administrator).
		if err := db.SetAgentPassword(ctx, a.ID, "reset-hash", ""); err != nil {
			t.Fatal(err)
		}
		_, _, err := db.Session(ctx, "changer-2")
		wantError(t, "the kept session after a reset", err, errs.ErrNotFound, "")
		if _, _, err := db.Session(ctx, "bystander-1"); err != nil {
			t.Errorf("another agent's session ended: %v", err)
		}
		if c, err := db.Credentials(ctx, "bystander@example.com"); err != nil || c.PasswordHash != "hash:bystander@example.com" {
			t.Errorf("another agent's password changed: %+v, %v", c, err)
		}
	})

	t.Run("credentials report whether the agent is active", func(t *testing.T) {
		ctx := t.Context()
		a := newAgent(t, db, "inactive-creds@example.com", "Inactive", false, false)
		c, err := db.Credentials(ctx, "inactive-creds@example.com")
		if err != nil || c != (auth.Credentials{AgentID: a.ID, PasswordHash: "hash:inactive-creds@example.com", Active: false}) {
			t.Errorf("Credentials = %+v, %v", c, err)
		}
	})
}

func mustGroup(t *testing.T, db *store.DB, name string, rights []access.Right, members ...int64) team.Group {
	t.Helper()
	g, err := db.CreateGroup(t.Context(), team.Group{Name: name, Rights: rights, MemberIDs: members})
	if err != nil {
		t.Fatalf("create group %s: %v", name, err)
	}
	return g
}

// rightSet sorts and deduplicates rights.
func rightSet(rs []access.Right) []access.Right {
	out := slices.Clone(rs)
	slices.Sort(out)
	return slices.Compact(out)
}
