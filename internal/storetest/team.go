package storetest

import (
	"errors"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-hq/switchboard/internal/access"
	"github.com/switchboard-hq/switchboard/internal/auth"
	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/store"
	"github.com/switchboard-hq/switchboard/internal/team"
)

// Team is the behaviour suite of the team store: the methods of *store.DB
// that implement team.Store. The subtests share db and never assume it is
// empty: each works on the agents, groups and departments it creates.
func Team(t *testing.T, db *store.DB) {
	// An active administrator exists from the start, as after bootstrap:
	// every other update would otherwise leave none.
	newAgent(t, db, "root@example.com", "Root", true, true)

	t.Run("a new agent round-trips with its details", func(t *testing.T) {
		ctx := t.Context()
		clk := useClock(t, db, time.Date(2031, 3, 4, 5, 6, 7, 891_000_000, time.UTC))
		a, err := db.CreateAgent(ctx, team.Agent{Email: "ada@example.com", Name: "Ada Lovelace", Avatar: "avatars/ada.png", Presence: team.Away, Active: true}, "hash-of-ada")
		if err != nil {
			t.Fatal(err)
		}
		want := team.Agent{
			ID: a.ID, Email: "ada@example.com", Name: "Ada Lovelace", Avatar: "avatars/ada.png",
			Active: true, Presence: team.Away, PresenceSince: clk.Now(), GroupIDs: []int64{}, CreatedAt: clk.Now(),
		}
		if a.ID <= 0 {
			t.Errorf("CreateAgent gave id %d", a.ID)
		}
		if !reflect.DeepEqual(a, want) {
			t.Errorf("CreateAgent returned\n%+v\nwant\n%+v", a, want)
		}
		got, err := db.Agent(ctx, a.ID)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Agent(%d) = %+v, %v\nwant %+v", a.ID, got, err, want)
		}
		got, err = db.AgentByEmail(ctx, "ada@example.com")
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("AgentByEmail = %+v, %v\nwant %+v", got, err, want)
		}
		creds, err := db.Credentials(ctx, "ada@example.com")
		if err != nil || creds != (auth.Credentials{AgentID: a.ID, PasswordHash: "hash-of-ada", Active: true}) {
			t.Errorf("Credentials = %+v, %v", creds, err)
		}
		if hash, err := db.PasswordHash(ctx, a.ID); err != nil || hash != "hash-of-ada" {
			t.Errorf("PasswordHash = %q, %v", hash, err)
		}
	})

	t.Run("unknown agents are not found", func(t *testing.T) {
		ctx := t.Context()
		_, err := db.Agent(ctx, 987654)
		wantError(t, "Agent", err, errs.ErrNotFound, "")
		_, err = db.AgentByEmail(ctx, "nobody@example.com")
		wantError(t, "AgentByEmail", err, errs.ErrNotFound, "")
		_, err = db.UpdateAgent(ctx, team.Agent{ID: 987654, Email: "nobody@example.com", Name: "Nobody", Active: true})
		wantError(t, "UpdateAgent", err, errs.ErrNotFound, "")
		_, err = db.SetPresence(ctx, 987654, team.Online, 0)
		wantError(t, "SetPresence", err, errs.ErrNotFound, "")
		wantError(t, "SetAgentPassword", db.SetAgentPassword(ctx, 987654, "hash", ""), errs.ErrNotFound, "")
		_, err = db.Credentials(ctx, "nobody@example.com")
		wantError(t, "Credentials", err, errs.ErrNotFound, "")
		_, err = db.PasswordHash(ctx, 987654)
		wantError(t, "PasswordHash", err, errs.ErrNotFound, "")
	})

	t.Run("an agent's email is unique", func(t *testing.T) {
		ctx := t.Context()
		first := newAgent(t, db, "grace@example.com", "Grace", false, true)
		_, err := db.CreateAgent(ctx, team.Agent{Email: "grace@example.com", Name: "Another Grace", Active: true, Presence: team.Offline}, "hash")
		wantError(t, "CreateAgent with a taken email", err, errs.ErrConflict, "email")
		wantCode(t, err, "email_taken")

		other := newAgent(t, db, "hopper@example.com", "Hopper", false, true)
		other.Email = "grace@example.com"
		_, err = db.UpdateAgent(ctx, other)
		wantError(t, "UpdateAgent to a taken email", err, errs.ErrConflict, "email")
		if got := mustAgentByID(t, db, other.ID); got.Email != "hopper@example.com" {
			t.Errorf("after the refused update the email is %q", got.Email)
		}
		if got := mustAgentByID(t, db, first.ID); got.Name != "Grace" {
			t.Errorf("the first agent changed: %+v", got)
		}
	})

	t.Run("updating an agent stores its details but neither its presence nor its avatar", func(t *testing.T) {
		ctx := t.Context()
		clk := useClock(t, db, time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC))
		a := newAgent(t, db, "edit@example.com", "Edit Me", false, true)
		if _, old, err := db.SetAgentAvatar(ctx, a.ID, "avatars/kept.png"); err != nil || old != "" {
			t.Fatalf("SetAgentAvatar = %q, %v", old, err)
		}
		clk.Advance(time.Hour)
		a.Email, a.Name, a.Avatar, a.Admin = "edited@example.com", "Edited", "avatars/ignored.png", true
		a.Presence = team.Online // not UpdateAgent's business
		got, err := db.UpdateAgent(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		want := a
		want.Presence, want.Avatar = team.Offline, "avatars/kept.png"
		if !reflect.DeepEqual(got, want) {
			t.Errorf("UpdateAgent returned\n%+v\nwant\n%+v", got, want)
		}
		if again := mustAgentByID(t, db, a.ID); !reflect.DeepEqual(again, want) {
			t.Errorf("Agent after update\n%+v\nwant\n%+v", again, want)
		}
		if _, err := db.AgentByEmail(ctx, "edit@example.com"); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("the old email still finds the agent: %v", err)
		}
		// Give the administrator flag back so later subtests know who the administrators are.
		got.Admin = false
		if _, err := db.UpdateAgent(ctx, got); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("deactivating an agent ends its sessions and sets it offline", func(t *testing.T) {
		ctx := t.Context()
		clk := useClock(t, db, time.Date(2031, 5, 1, 9, 0, 0, 0, time.UTC))
		a := newAgent(t, db, "leaver@example.com", "Leaver", false, true)
		stayer := newAgent(t, db, "stayer@example.com", "Stayer", false, true)
		if _, err := db.SetPresence(ctx, a.ID, team.Online, 0); err != nil {
			t.Fatal(err)
		}
		newSession(t, db, a.ID, "leaver-1", clk.Now())
		newSession(t, db, a.ID, "leaver-2", clk.Now())
		newSession(t, db, stayer.ID, "stayer-1", clk.Now())

		clk.Advance(time.Minute)
		a.Active = false
		got, err := db.UpdateAgent(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if got.Active || got.Presence != team.Offline || !got.PresenceSince.Equal(clk.Now()) {
			t.Errorf("deactivated agent: active %v, presence %q since %v; want inactive, offline since %v",
				got.Active, got.Presence, got.PresenceSince, clk.Now())
		}
		// Reactivating does not bring the sessions back: they were deleted.
		clk.Advance(time.Minute)
		got.Active = true
		if got, err = db.UpdateAgent(ctx, got); err != nil {
			t.Fatal(err)
		}
		if got.Presence != team.Offline || !got.PresenceSince.Equal(clk.Now().Add(-time.Minute)) {
			t.Errorf("reactivation changed presence: %q since %v", got.Presence, got.PresenceSince)
		}
		for _, token := range []string{"leaver-1", "leaver-2"} {
			if _, _, err := db.Session(ctx, token); !errors.Is(err, errs.ErrNotFound) {
				t.Errorf("session %s survived the deactivation: %v", token, err)
			}
		}
		if _, _, err := db.Session(ctx, "stayer-1"); err != nil {
			t.Errorf("another agent's session ended: %v", err)
		}
	})

	t.Run("the last active administrator cannot be removed or deactivated", func(t *testing.T) {
		ctx := t.Context()
		last := newAgent(t, db, "last-admin@example.com", "Last Admin", true, true)
		restore := onlyAdmin(t, db, last.ID)
		defer restore()
		newSession(t, db, last.ID, "last-admin-session", time.Now())

		demoted := last
		demoted.Admin = false
		_, err := db.UpdateAgent(ctx, demoted)
		wantError(t, "removing the last administrator's flag", err, errs.ErrConflict, "")
		wantCode(t, err, "last_admin")

		deactivated := last
		deactivated.Active = false
		_, err = db.UpdateAgent(ctx, deactivated)
		wantError(t, "deactivating the last administrator", err, errs.ErrConflict, "")
		wantCode(t, err, "last_admin")

		// Nothing of the refused updates was written: not the flags, not the
		// presence, not the deleted sessions.
		got := mustAgentByID(t, db, last.ID)
		if !got.Admin || !got.Active || got.Presence != team.Offline {
			t.Errorf("after refused updates: %+v", got)
		}
		if _, _, err := db.Session(ctx, "last-admin-session"); err != nil {
			t.Errorf("a refused deactivation ended the sessions: %v", err)
		}

		// An inactive administrator does not count.
		sleeper := newAgent(t, db, "sleeping-admin@example.com", "Sleeping Admin", true, false)
		if _, err := db.UpdateAgent(ctx, demoted); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("with only an inactive second administrator: %v, want conflict", err)
		}

		// With a second active administrator, either may go.
		sleeper.Active = true
		if _, err := db.UpdateAgent(ctx, sleeper); err != nil {
			t.Fatal(err)
		}
		if _, err := db.UpdateAgent(ctx, deactivated); err != nil {
			t.Errorf("deactivating one of two administrators: %v", err)
		}
		// Now sleeper is the last one.
		sleeper.Admin = false
		if _, err := db.UpdateAgent(ctx, sleeper); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("removing the new last administrator: %v, want conflict", err)
		}
		// Leave last as an active administrator for restore.
		if _, err := db.UpdateAgent(ctx, last); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("two administrators demoting each other at once leave one", func(t *testing.T) {
		ctx := t.Context()
		a := newAgent(t, db, "race-a@example.com", "Race A", true, true)
		b := newAgent(t, db, "race-b@example.com", "Race B", true, true)
		restore := onlyAdmin(t, db, a.ID, b.ID)
		defer restore()
		for round := range 20 {
			a.Admin, b.Admin = false, false
			var wg sync.WaitGroup
			start := make(chan struct{})
			results := make([]error, 2)
			for i, ag := range []team.Agent{a, b} {
				wg.Go(func() {
					<-start
					_, results[i] = db.UpdateAgent(ctx, ag)
				})
			}
			close(start)
			wg.Wait()
			admins := 0
			for _, id := range []int64{a.ID, b.ID} {
				if mustAgentByID(t, db, id).Admin {
					admins++
				}
			}
			if admins != 1 {
				t.Fatalf("round %d: concurrent demotions returned %v and left %d active administrators, want 1", round, results, admins)
			}
			for _, err := range results {
				if err != nil && !errors.Is(err, errs.ErrConflict) {
					t.Fatalf("round %d: %v", round, err)
				}
			}
			// Make both administrators again for the next round.
			a.Admin, b.Admin = true, true
			for _, ag := range []team.Agent{a, b} {
				if _, err := db.UpdateAgent(ctx, ag); err != nil {
					t.Fatal(err)
				}
			}
		}
	})

	t.Run("presence_since changes only when the presence changes", func(t *testing.T) {
		ctx := t.Context()
		clk := useClock(t, db, time.Date(2031, 7, 1, 8, 0, 0, 0, time.UTC))
		a := newAgent(t, db, "operator@example.com", "Operator", false, true)
		created := clk.Now()
		steps := []struct {
			advance time.Duration
			set     team.Presence
			since   time.Duration // after created
		}{
			{time.Minute, team.Offline, 0},
			{time.Minute, team.Online, 2 * time.Minute},
			{time.Minute, team.Online, 2 * time.Minute},
			{time.Minute, team.Away, 4 * time.Minute},
			{time.Minute, team.Away, 4 * time.Minute},
			{time.Minute, team.Offline, 6 * time.Minute},
		}
		for i, s := range steps {
			clk.Advance(s.advance)
			got, err := db.SetPresence(ctx, a.ID, s.set, 0)
			if err != nil {
				t.Fatal(err)
			}
			if got.Presence != s.set || !got.PresenceSince.Equal(created.Add(s.since)) {
				t.Errorf("step %d: SetPresence(%s) gave %s since %v, want since %v", i, s.set, got.Presence, got.PresenceSince, created.Add(s.since))
			}
			if again := mustAgentByID(t, db, a.ID); again.Presence != got.Presence || !again.PresenceSince.Equal(got.PresenceSince) {
				t.Errorf("step %d: stored %s since %v, returned %s since %v", i, again.Presence, again.PresenceSince, got.Presence, got.PresenceSince)
			}
		}
	})

	t.Run("group members and rights round-trip in order", func(t *testing.T) {
		ctx := t.Context()
		clk := useClock(t, db, time.Date(2031, 8, 1, 0, 0, 0, 0, time.UTC))
		x := newAgent(t, db, "member-x@example.com", "Member X", false, true)
		y := newAgent(t, db, "member-y@example.com", "Member Y", false, true)
		z := newAgent(t, db, "member-z@example.com", "Member Z", false, true)

		rights := []access.Right{access.Telephony, access.Omnichannel, access.Management}
		g, err := db.CreateGroup(ctx, team.Group{Name: "Phones", Rights: rights, MemberIDs: []int64{x.ID, z.ID}})
		if err != nil {
			t.Fatal(err)
		}
		want := team.Group{ID: g.ID, Name: "Phones", Rights: rights, MemberIDs: []int64{x.ID, z.ID}, CreatedAt: clk.Now()}
		if !reflect.DeepEqual(g, want) {
			t.Errorf("CreateGroup returned\n%+v\nwant\n%+v", g, want)
		}
		if got, err := db.Group(ctx, g.ID); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Group = %+v, %v\nwant %+v", got, err, want)
		}
		for id, wantGroups := range map[int64][]int64{x.ID: {g.ID}, y.ID: {}, z.ID: {g.ID}} {
			if got := mustAgentByID(t, db, id).GroupIDs; !reflect.DeepEqual(got, wantGroups) {
				t.Errorf("agent %d has groups %v, want %v", id, got, wantGroups)
			}
		}

		// An update replaces rights and members; created_at stays.
		clk.Advance(time.Hour)
		upd := team.Group{ID: g.ID, Name: "Phone desk", Rights: []access.Right{access.Settings}, MemberIDs: []int64{y.ID}}
		got, err := db.UpdateGroup(ctx, upd)
		if err != nil {
			t.Fatal(err)
		}
		want = team.Group{ID: g.ID, Name: "Phone desk", Rights: []access.Right{access.Settings}, MemberIDs: []int64{y.ID}, CreatedAt: want.CreatedAt}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("UpdateGroup returned\n%+v\nwant\n%+v", got, want)
		}
		if got := mustAgentByID(t, db, x.ID).GroupIDs; len(got) != 0 {
			t.Errorf("a removed member still has groups %v", got)
		}

		// Members come back in a stable order (by id) whatever order they were given in.
		if got, err = db.UpdateGroup(ctx, team.Group{ID: g.ID, Name: "Phone desk", Rights: []access.Right{}, MemberIDs: []int64{z.ID, x.ID, y.ID}}); err != nil {
			t.Fatal(err)
		}
		if ids := []int64{x.ID, y.ID, z.ID}; !reflect.DeepEqual(got.MemberIDs, ids) || len(got.Rights) != 0 || got.Rights == nil {
			t.Errorf("after update: members %v rights %#v, want members %v and no rights", got.MemberIDs, got.Rights, ids)
		}

		// Empty lists stay empty, not nil.
		empty, err := db.CreateGroup(ctx, team.Group{Name: "Nobody", Rights: []access.Right{}, MemberIDs: []int64{}})
		if err != nil {
			t.Fatal(err)
		}
		if empty.Rights == nil || len(empty.Rights) != 0 || empty.MemberIDs == nil || len(empty.MemberIDs) != 0 {
			t.Errorf("empty group came back as %#v", empty)
		}
	})

	t.Run("a group naming an unknown agent is rejected and nothing is written", func(t *testing.T) {
		ctx := t.Context()
		a := newAgent(t, db, "known@example.com", "Known", false, true)
		_, err := db.CreateGroup(ctx, team.Group{Name: "Ghosts", Rights: []access.Right{access.Omnichannel}, MemberIDs: []int64{a.ID, 987654}})
		wantError(t, "CreateGroup with an unknown member", err, errs.ErrInvalid, "member_ids")
		groups, err := db.Groups(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range groups {
			if g.Name == "Ghosts" {
				t.Errorf("the refused group was stored: %+v", g)
			}
		}
		if got := mustAgentByID(t, db, a.ID).GroupIDs; len(got) != 0 {
			t.Errorf("the known member was added to groups %v", got)
		}
		// The name is still free.
		g, err := db.CreateGroup(ctx, team.Group{Name: "Ghosts", Rights: []access.Right{}, MemberIDs: []int64{a.ID}})
		if err != nil {
			t.Fatal(err)
		}

		// An update naming an unknown agent keeps the group as it was.
		_, err = db.UpdateGroup(ctx, team.Group{ID: g.ID, Name: "Renamed ghosts", Rights: []access.Right{access.Settings}, MemberIDs: []int64{987654}})
		wantError(t, "UpdateGroup with an unknown member", err, errs.ErrInvalid, "member_ids")
		if got, err := db.Group(ctx, g.ID); err != nil || !reflect.DeepEqual(got, g) {
			t.Errorf("after the refused update: %+v, %v\nwant %+v", got, err, g)
		}
	})

	t.Run("group names are unique regardless of case", func(t *testing.T) {
		ctx := t.Context()
		support, err := db.CreateGroup(ctx, team.Group{Name: "Support", Rights: []access.Right{}, MemberIDs: []int64{}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = db.CreateGroup(ctx, team.Group{Name: "SUPPORT", Rights: []access.Right{}, MemberIDs: []int64{}})
		wantError(t, "CreateGroup with a taken name", err, errs.ErrConflict, "name")
		wantCode(t, err, "name_taken")

		sales, err := db.CreateGroup(ctx, team.Group{Name: "Sales", Rights: []access.Right{}, MemberIDs: []int64{}})
		if err != nil {
			t.Fatal(err)
		}
		sales.Name = "support"
		_, err = db.UpdateGroup(ctx, sales)
		wantError(t, "UpdateGroup to a taken name", err, errs.ErrConflict, "name")
		if got, _ := db.Group(ctx, sales.ID); got.Name != "Sales" {
			t.Errorf("the refused rename was stored: %q", got.Name)
		}
		// A group may change the case of its own name.
		support.Name = "SUPPORT"
		if got, err := db.UpdateGroup(ctx, support); err != nil || got.Name != "SUPPORT" {
			t.Errorf("recasing a group's own name: %+v, %v", got, err)
		}
	})

	t.Run("deleting a group removes its memberships but not its agents", func(t *testing.T) {
		ctx := t.Context()
		a := newAgent(t, db, "grouped-a@example.com", "Grouped A", false, true)
		b := newAgent(t, db, "grouped-b@example.com", "Grouped B", false, true)
		doomed, err := db.CreateGroup(ctx, team.Group{Name: "Doomed", Rights: []access.Right{access.Omnichannel}, MemberIDs: []int64{a.ID, b.ID}})
		if err != nil {
			t.Fatal(err)
		}
		kept, err := db.CreateGroup(ctx, team.Group{Name: "Kept", Rights: []access.Right{}, MemberIDs: []int64{a.ID}})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteGroup(ctx, doomed.ID); err != nil {
			t.Fatal(err)
		}
		_, err = db.Group(ctx, doomed.ID)
		wantError(t, "Group after delete", err, errs.ErrNotFound, "")
		if got := mustAgentByID(t, db, a.ID).GroupIDs; !reflect.DeepEqual(got, []int64{kept.ID}) {
			t.Errorf("agent a has groups %v, want %v", got, []int64{kept.ID})
		}
		if got := mustAgentByID(t, db, b.ID).GroupIDs; len(got) != 0 {
			t.Errorf("agent b has groups %v, want none", got)
		}
		if got, err := db.Group(ctx, kept.ID); err != nil || !reflect.DeepEqual(got.MemberIDs, []int64{a.ID}) {
			t.Errorf("the other group changed: %+v, %v", got, err)
		}
		wantError(t, "deleting it twice", db.DeleteGroup(ctx, doomed.ID), errs.ErrNotFound, "")
		// The name is free again.
		if _, err := db.CreateGroup(ctx, team.Group{Name: "doomed", Rights: []access.Right{}, MemberIDs: []int64{}}); err != nil {
			t.Errorf("reusing a deleted group's name: %v", err)
		}
	})

	t.Run("unknown groups are not found", func(t *testing.T) {
		ctx := t.Context()
		_, err := db.Group(ctx, 987654)
		wantError(t, "Group", err, errs.ErrNotFound, "")
		_, err = db.UpdateGroup(ctx, team.Group{ID: 987654, Name: "Nowhere", Rights: []access.Right{}, MemberIDs: []int64{}})
		wantError(t, "UpdateGroup", err, errs.ErrNotFound, "")
		wantError(t, "DeleteGroup", db.DeleteGroup(ctx, 987654), errs.ErrNotFound, "")
	})

	t.Run("departments: create, rename, unique name, delete, not found", func(t *testing.T) {
		ctx := t.Context()
		clk := useClock(t, db, time.Date(2031, 9, 1, 0, 0, 0, 0, time.UTC))
		d, err := db.CreateDepartment(ctx, team.Department{Name: "Billing", DisplayName: "Billing team", Avatar: "avatars/billing.png"})
		if err != nil {
			t.Fatal(err)
		}
		want := team.Department{ID: d.ID, Name: "Billing", DisplayName: "Billing team", Avatar: "avatars/billing.png", CreatedAt: clk.Now()}
		if d.ID <= 0 || d != want {
			t.Errorf("CreateDepartment returned %+v, want %+v", d, want)
		}
		if got, err := db.Department(ctx, d.ID); err != nil || got != want {
			t.Errorf("Department = %+v, %v, want %+v", got, err, want)
		}

		_, err = db.CreateDepartment(ctx, team.Department{Name: "BILLING"})
		wantError(t, "CreateDepartment with a taken name", err, errs.ErrConflict, "name")
		wantCode(t, err, "name_taken")

		clk.Advance(time.Hour)
		// A rename keeps the avatar: only SetDepartmentAvatar changes it.
		want.Name, want.DisplayName = "Accounts", "Accounts desk"
		got, err := db.UpdateDepartment(ctx, team.Department{ID: d.ID, Name: "Accounts", DisplayName: "Accounts desk"})
		if err != nil || got != want {
			t.Errorf("UpdateDepartment = %+v, %v, want %+v", got, err, want)
		}
		if got, err := db.Department(ctx, d.ID); err != nil || got != want {
			t.Errorf("Department after rename = %+v, %v, want %+v", got, err, want)
		}
		if got, old, err := db.SetDepartmentAvatar(ctx, d.ID, ""); err != nil || old != "avatars/billing.png" || got.Avatar != "" {
			t.Errorf("SetDepartmentAvatar = %+v, %q, %v", got, old, err)
		}
		want.Avatar = ""

		other, err := db.CreateDepartment(ctx, team.Department{Name: "Billing"})
		if err != nil {
			t.Fatalf("the old name is free after the rename: %v", err)
		}
		_, err = db.UpdateDepartment(ctx, team.Department{ID: other.ID, Name: "accounts"})
		wantError(t, "UpdateDepartment to a taken name", err, errs.ErrConflict, "name")
		if got, _ := db.Department(ctx, other.ID); got.Name != "Billing" {
			t.Errorf("the refused rename was stored: %q", got.Name)
		}

		list, err := db.Departments(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if names := departmentNames(list, d.ID, other.ID); !reflect.DeepEqual(names, []string{"Accounts", "Billing"}) {
			t.Errorf("Departments lists %v, want [Accounts Billing]", names)
		}

		if err := db.DeleteDepartment(ctx, d.ID); err != nil {
			t.Fatal(err)
		}
		_, err = db.Department(ctx, d.ID)
		wantError(t, "Department after delete", err, errs.ErrNotFound, "")
		wantError(t, "deleting it twice", db.DeleteDepartment(ctx, d.ID), errs.ErrNotFound, "")
		_, err = db.UpdateDepartment(ctx, team.Department{ID: d.ID, Name: "Ghost"})
		wantError(t, "UpdateDepartment of a deleted department", err, errs.ErrNotFound, "")
		if got, err := db.Department(ctx, other.ID); err != nil || got.Name != "Billing" {
			t.Errorf("the other department: %+v, %v", got, err)
		}
	})

	t.Run("lists: Agents orders active first then by name and carries group ids", func(t *testing.T) {
		ctx := t.Context()
		before, err := db.CountAgents(ctx)
		if err != nil {
			t.Fatal(err)
		}
		bob := newAgent(t, db, "list-bob@example.com", "bob", false, true)
		alice := newAgent(t, db, "list-alice@example.com", "Alice", false, true)
		carol := newAgent(t, db, "list-carol@example.com", "Carol", false, true)
		aaron := newAgent(t, db, "list-aaron@example.com", "Aaron", false, false)
		zed := newAgent(t, db, "list-zed@example.com", "zed", false, false)
		if after, err := db.CountAgents(ctx); err != nil || after != before+5 {
			t.Errorf("CountAgents = %d, %v, want %d (inactive agents count too)", after, err, before+5)
		}

		g2, err := db.CreateGroup(ctx, team.Group{Name: "List two", Rights: []access.Right{}, MemberIDs: []int64{alice.ID, aaron.ID}})
		if err != nil {
			t.Fatal(err)
		}
		g1, err := db.CreateGroup(ctx, team.Group{Name: "list one", Rights: []access.Right{}, MemberIDs: []int64{alice.ID, carol.ID}})
		if err != nil {
			t.Fatal(err)
		}

		agents, err := db.Agents(ctx)
		if err != nil {
			t.Fatal(err)
		}
		mine := map[int64]bool{bob.ID: true, alice.ID: true, carol.ID: true, aaron.ID: true, zed.ID: true}
		var names []string
		groups := map[string][]int64{}
		for _, a := range agents {
			if mine[a.ID] {
				names = append(names, a.Name)
				groups[a.Name] = a.GroupIDs
			}
		}
		if want := []string{"Alice", "bob", "Carol", "Aaron", "zed"}; !reflect.DeepEqual(names, want) {
			t.Errorf("Agents order %v, want %v", names, want)
		}
		wantGroups := map[string][]int64{
			"Alice": sortedIDs(g1.ID, g2.ID), "bob": {}, "Carol": {g1.ID}, "Aaron": {g2.ID}, "zed": {},
		}
		if !reflect.DeepEqual(groups, wantGroups) {
			t.Errorf("Agents group ids %v, want %v", groups, wantGroups)
		}
		// Every agent of the list is as Agent returns it.
		for _, a := range agents {
			if mine[a.ID] {
				if one := mustAgentByID(t, db, a.ID); !reflect.DeepEqual(one, a) {
					t.Errorf("Agents has\n%+v\nAgent has\n%+v", a, one)
				}
			}
		}

		list, err := db.Groups(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []team.Group
		for _, g := range list {
			if g.ID == g1.ID || g.ID == g2.ID {
				got = append(got, g)
			}
		}
		if want := []team.Group{g1, g2}; !reflect.DeepEqual(got, want) {
			t.Errorf("Groups lists\n%+v\nwant (by name, with members)\n%+v", got, want)
		}
	})
}

// useClock makes db's clock a fake starting at start (whole milliseconds, as
// stored) until the test ends.
func useClock(t *testing.T, db *store.DB, start time.Time) *Clock {
	t.Helper()
	c := NewClock(start.Truncate(time.Millisecond).UTC())
	old := db.Now
	db.Now = c.Now
	t.Cleanup(func() { db.Now = old })
	return c
}

// newAgent creates an agent directly in the store.
func newAgent(t *testing.T, db *store.DB, email, name string, admin, active bool) team.Agent {
	t.Helper()
	a, err := db.CreateAgent(t.Context(), team.Agent{Email: email, Name: name, Admin: admin, Active: active, Presence: team.Offline}, "hash:"+email)
	if err != nil {
		t.Fatalf("create agent %s: %v", email, err)
	}
	return a
}

func mustAgentByID(t *testing.T, db *store.DB, id int64) team.Agent {
	t.Helper()
	a, err := db.Agent(t.Context(), id)
	if err != nil {
		t.Fatalf("Agent(%d): %v", id, err)
	}
	return a
}

// onlyAdmin takes the administrator flag from every active administrator but
// keep, and returns a function that gives it back.
func onlyAdmin(t *testing.T, db *store.DB, keep ...int64) func() {
	t.Helper()
	ctx := t.Context()
	agents, err := db.Agents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var demoted []team.Agent
	for _, a := range agents {
		if a.Admin && a.Active && !slices.Contains(keep, a.ID) {
			a.Admin = false
			if _, err := db.UpdateAgent(ctx, a); err != nil {
				t.Fatalf("demote %s: %v", a.Email, err)
			}
			demoted = append(demoted, a)
		}
	}
	return func() {
		t.Helper()
		for _, a := range demoted {
			a.Admin = true
			if _, err := db.UpdateAgent(t.Context(), a); err != nil {
				t.Errorf("restore administrator %s: %v", a.Email, err)
			}
		}
	}
}

// newSession stores a session with the given token hash, alive for a day.
func newSession(t *testing.T, db *store.DB, agentID int64, tokenHash string, at time.Time) {
	t.Helper()
	at = at.Truncate(time.Millisecond).UTC()
	err := db.CreateSession(t.Context(), auth.Session{
		TokenHash: tokenHash, AgentID: agentID, CreatedAt: at, LastSeenAt: at, ExpiresAt: at.Add(24 * time.Hour),
		IP: "192.0.2.1", UserAgent: "storetest",
	})
	if err != nil {
		t.Fatalf("create session %s: %v", tokenHash, err)
	}
}

// wantError checks that err is of kind and, when field is set, names field.
func wantError(t *testing.T, doing string, err, kind error, field string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Errorf("%s: got error %v, want %v", doing, err, kind)
		return
	}
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Errorf("%s: %v is no *errs.Error", doing, err)
		return
	}
	if field != "" && e.Field != field {
		t.Errorf("%s: error names field %q, want %q", doing, e.Field, field)
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Errorf("error %v: want code %q", err, code)
	}
}

func departmentNames(list []team.Department, ids ...int64) []string {
	var names []string
	for _, d := range list {
		if slices.Contains(ids, d.ID) {
			names = append(names, d.Name)
		}
	}
	return names
}

func sortedIDs(ids ...int64) []int64 {
	slices.Sort(ids)
	return ids
}
