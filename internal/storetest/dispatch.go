package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-hq/switchboard/internal/access"
	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/dispatch"
	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/store"
	"github.com/switchboard-hq/switchboard/internal/team"
)

// Dispatch is the behaviour suite of the dispatcher (docs/supervision.md):
// who is eligible, in which order requests go and to whom, the requeue
// rules, a supervisor's "Back to queue", the requests that keep an agent
// from going Offline, and — under concurrent arrivals, status changes,
// closes and takes, on one or two instances — that no request is ever
// assigned twice and no agent is given more than their capacity.
//
// Every subtest makes its own agents, groups and channels and switches its
// groups' dispatcher off when it ends, so that no subtest serves another's
// requests.
func Dispatch(t *testing.T, db *store.DB) {
	anyone := func(cv.Conversation) error { return nil }
	// An administrator, so that agents can be deactivated.
	newAgent(t, db, "dispatch-admin@example.com", "Admin", true, true)

	t.Run("only eligible members get requests: in the group, active, Online, connected, below capacity", func(t *testing.T) {
		w := newDspWorld(t, db)
		olga, alan, otto, gina, ivo, fred, oscar := w.agent("Olga"), w.agent("Alan"), w.agent("Otto"), w.agent("Gina"), w.agent("Ivo"), w.agent("Fred"), w.agent("Oscar")
		desk := w.group("Desk", &dispatch.Rule{Enabled: true, Capacity: 1}, olga.ID, alan.ID, otto.ID, gina.ID, ivo.ID, fred.ID)
		w.group("Elsewhere", nil, oscar.ID)
		ch := w.channel(desk.ID)

		// Fred already holds a chat: at capacity 1 he gets nothing more.
		held := w.arrive(ch, "held")
		w.take(held, fred)
		for _, a := range []team.Agent{olga, fred, oscar} {
			w.online(a)
		}
		w.presence(alan, team.Away, w.clk.Now().Add(time.Hour))    // Away, tab open
		w.presence(otto, team.Offline, w.clk.Now().Add(time.Hour)) // Offline, tab open
		w.presence(gina, team.Online, w.clk.Now().Add(-time.Second))
		// Ivo is deactivated, then stored Online and connected anyway.
		ivo.Active = false
		if _, err := db.UpdateAgent(t.Context(), ivo); err != nil {
			t.Fatal(err)
		}
		w.presence(ivo, team.Online, w.clk.Now().Add(time.Hour))

		w.tick()
		r1 := w.arrive(ch, "first")
		w.tick()
		r2 := w.arrive(ch, "second")
		w.tick()
		r3 := w.arrive(ch, "third")
		w.dispatch(10, 1)
		w.wantAssignees(map[int64]int64{held: fred.ID, r1: olga.ID, r2: 0, r3: 0})

		// Gina's tab comes back: she is eligible again.
		w.tick()
		w.connect(gina, w.clk.Now().Add(2*time.Minute))
		w.dispatch(10, 1)
		w.wantAssignees(map[int64]int64{r2: gina.ID, r3: 0})

		// Olga frees her capacity: the waiting request is hers.
		w.tick()
		if _, err := db.Finish(t.Context(), r1, anyone, olga.ID, false, false); err != nil {
			t.Fatal(err)
		}
		w.dispatch(10, 1)
		w.wantAssignees(map[int64]int64{r3: olga.ID, held: fred.ID})
		w.dispatch(10, 0)
		for _, a := range []team.Agent{alan, otto, ivo, oscar} {
			if n := w.load(a.ID); n != 0 {
				t.Errorf("%s (not eligible) holds %d requests", a.Name, n)
			}
		}
	})

	t.Run("the least loaded agent first, ties to who waited longest; the oldest requests first", func(t *testing.T) {
		w := newDspWorld(t, db)
		anna, boris, clara := w.agent("Anna"), w.agent("Boris"), w.agent("Clara")
		g := w.group("Order", &dispatch.Rule{Enabled: true, Capacity: 5}, anna.ID, boris.ID, clara.ID)
		ch := w.channel(g.ID)
		for _, a := range []team.Agent{anna, boris, clara} {
			w.online(a)
		}
		// Before the dispatcher: Anna takes two chats, then Boris one, then Clara one.
		pre := []int64{w.arrive(ch, "p1"), w.arrive(ch, "p2"), w.arrive(ch, "p3"), w.arrive(ch, "p4")}
		w.take(pre[0], anna)
		w.take(pre[1], anna)
		w.tick()
		w.take(pre[2], boris)
		w.tick()
		w.take(pre[3], clara)

		// "late" gets the lowest number but was created last: requests go by
		// their creation time, not by their number.
		w.clk.Advance(20 * time.Minute)
		late := w.arrive(ch, "late")
		w.clk.Advance(-10 * time.Minute)
		r1 := w.arrive(ch, "r1")
		w.tick()
		r2 := w.arrive(ch, "r2")
		w.tick()
		r3 := w.arrive(ch, "r3")
		w.dispatch(10, 4)
		// r1: Boris and Clara hold one each, Boris's last assignment is older.
		// r2: Clara is the least loaded. r3: all hold two, Anna waited longest.
		// late: Boris and Clara were just assigned together: the lower id.
		w.wantAssignees(map[int64]int64{r1: boris.ID, r2: clara.ID, r3: anna.ID, late: boris.ID})
	})

	t.Run("groups without an enabled rule are never served, the capacity of the request's group holds, and each assignment is a line and an event", func(t *testing.T) {
		w := newDspWorld(t, db)
		dora := w.agent("Dora")
		on := w.group("On", &dispatch.Rule{Enabled: true, Capacity: 2}, dora.ID)
		off := w.group("Off", &dispatch.Rule{Enabled: false, Capacity: 5}, dora.ID)
		never := w.group("Never", nil, dora.ID)
		w.online(dora)
		nowhere := w.arrive(w.channel(0), "nowhere")
		inOff := w.arrive(w.channel(off.ID), "off")
		inNever := w.arrive(w.channel(never.ID), "never")
		onCh := w.channel(on.ID)
		var onReqs []int64
		for i := range 3 {
			w.tick()
			onReqs = append(onReqs, w.arrive(onCh, fmt.Sprintf("on-%d", i)))
		}
		head, err := db.LastSeq(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		w.dispatch(10, 2)
		w.wantAssignees(map[int64]int64{onReqs[0]: dora.ID, onReqs[1]: dora.ID, onReqs[2]: 0, nowhere: 0, inOff: 0, inNever: 0})
		w.dispatch(10, 0)

		statuses, err := db.Statuses(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range onReqs[:2] {
			c := w.conv(id)
			if st := dspStatus(statuses, c.StatusID); st.Class != cv.ClassOpen || !st.Default {
				t.Errorf("request %d assigned by the dispatcher has status %+v, want the default Open", id, st)
			}
			line := w.lastLine(id)
			if line.Body != "Assigned to Dora by the dispatcher" || line.AuthorID != 0 {
				t.Errorf("request %d: last line %q by %d, want %q by nobody", id, line.Body, line.AuthorID, "Assigned to Dora by the dispatcher")
			}
		}
		evs := w.eventsAfter(head)
		var assigned []int64
		for _, e := range evs {
			if e.Kind != cv.EventConversationAssigned {
				continue
			}
			assigned = append(assigned, e.ConversationID)
			d := dspPayload(t, e)
			if e.AssigneeID != dora.ID || e.GroupID != on.ID || d.Conversation.AssigneeID != dora.ID || d.Message == nil ||
				d.Message.Body != "Assigned to Dora by the dispatcher" || d.Message.Kind != cv.EventLine {
				t.Errorf("event %+v with %+v: want an assignment to Dora in group On with its line", e, d)
			}
		}
		if !slices.Equal(assigned, onReqs[:2]) {
			t.Errorf("conversation.assigned events for %v, want %v", assigned, onReqs[:2])
		}

		// Off's dispatcher goes on: Dora has room under Off's capacity of 5,
		// while On's third request still waits for room under On's 2.
		w.rule(off.ID, dispatch.Rule{Enabled: true, Capacity: 5})
		w.dispatch(10, 1)
		w.wantAssignees(map[int64]int64{inOff: dora.ID, onReqs[2]: 0, inNever: 0, nowhere: 0})
	})

	t.Run("requests nobody can take do not hold up the requests of other groups", func(t *testing.T) {
		w := newDspWorld(t, db)
		busy, free := w.agent("Busy"), w.agent("Free")
		jammed := w.group("Jammed", &dispatch.Rule{Enabled: true, Capacity: 1}, busy.ID)
		open := w.group("Open", &dispatch.Rule{Enabled: true, Capacity: 1}, free.ID)
		w.online(busy)
		w.online(free)
		jch := w.channel(jammed.ID)
		w.take(w.arrive(jch, "holding"), busy)
		for i := range 12 {
			w.tick()
			w.arrive(jch, fmt.Sprintf("backlog-%d", i))
		}
		w.tick()
		waiting := w.arrive(w.channel(open.ID), "younger")
		// Dispatch(limit) assigning fewer than limit means nothing more can
		// go now (the dispatcher's round relies on it).
		n, err := db.Dispatch(t.Context(), 1)
		if err != nil {
			t.Fatal(err)
		}
		if c := w.conv(waiting); n != 1 || c.AssigneeID != free.ID {
			t.Errorf("Dispatch(1) behind a backlog of a full group = %d, request %d assigned to %d; want 1, assigned to Free (%d)", n, waiting, c.AssigneeID, free.ID)
		}
	})

	t.Run("a request the dispatcher gave is returned after N minutes without a reply, and goes to another agent", func(t *testing.T) {
		w := newDspWorld(t, db)
		anna, boris := w.agent("Anna"), w.agent("Boris")
		g := w.group("Timed", &dispatch.Rule{Enabled: true, Capacity: 3, RequeueAfterMinutes: 5}, anna.ID, boris.ID)
		ch := w.channel(g.ID)
		w.online(anna)
		start := w.clk.Now()
		r1, r2, r3 := w.arrive(ch, "r1"), w.arrive(ch, "r2"), w.arrive(ch, "r3")
		w.dispatch(10, 3) // Boris is Offline: all three are Anna's
		w.wantAssignees(map[int64]int64{r1: anna.ID, r2: anna.ID, r3: anna.ID})
		// Boris takes one chat by hand, after Anna's assignments.
		w.online(boris)
		w.clk.Advance(time.Minute)
		manual := w.arrive(ch, "manual")
		w.take(manual, boris)
		// r1: a note and a client message are no answer. r2: Anna answers.
		// r3: a colleague's reply is no answer of Anna's.
		w.clk.Advance(time.Minute)
		w.write(r1, cv.Note, anna.ID)
		w.write(r1, cv.FromClient, 0)
		w.write(r2, cv.Reply, anna.ID)
		w.write(r3, cv.Reply, boris.ID)

		w.clk.Advance(start.Add(5*time.Minute - time.Second).Sub(w.clk.Now()))
		w.requeue(0)
		w.clk.Advance(2 * time.Second)
		head := w.head()
		w.requeue(2)
		w.wantAssignees(map[int64]int64{r1: 0, r2: anna.ID, r3: 0, manual: boris.ID})
		if c := w.conv(r1); c.PreviousAssigneeID != anna.ID {
			t.Errorf("returned request's previous assignee = %d, want Anna", c.PreviousAssigneeID)
		}
		if line := w.lastLine(r1); line.Body != "Returned to the queue: Anna did not answer in 5m0s" || line.AuthorID != 0 {
			t.Errorf("requeue line %q by %d", line.Body, line.AuthorID)
		}
		w.wantEvent(head, cv.EventConversationReturned, r1, 0)
		w.wantEvent(head, cv.EventConversationReturned, r3, 0)

		// r1 (the older) first: Anna and Boris hold one chat each and Anna's
		// last assignment is the older one, but r1 was just taken from her:
		// Boris gets it. r3 then goes to Anna, now the less loaded.
		w.dispatch(10, 2)
		w.wantAssignees(map[int64]int64{r1: boris.ID, r3: anna.ID})

		// Boris answers r1: it stays his, however long it takes. Anna hands
		// r3 to Boris: a transfer is no dispatcher's assignment, it has no
		// timer; nor has Boris's manual chat.
		w.clk.Advance(time.Minute)
		w.write(r1, cv.Reply, boris.ID)
		if _, err := db.Transfer(t.Context(), r3, anyone, anna.ID, boris.ID, ""); err != nil {
			t.Fatal(err)
		}
		w.clk.Advance(time.Hour)
		w.requeue(0)
		w.wantAssignees(map[int64]int64{r1: boris.ID, r2: anna.ID, r3: boris.ID, manual: boris.ID})
	})

	t.Run("requests go back when their assignee goes Offline or loses their connection, where the group says so", func(t *testing.T) {
		w := newDspWorld(t, db)
		anna, boris := w.agent("Anna"), w.agent("Boris")
		strict := w.group("Strict", &dispatch.Rule{Enabled: true, Capacity: 3, RequeueOnOffline: true}, anna.ID, boris.ID)
		lax := w.group("Lax", &dispatch.Rule{Enabled: true, Capacity: 3}, anna.ID, boris.ID)
		sch := w.channel(strict.ID)
		w.online(anna)
		r1, r2 := w.arrive(sch, "r1"), w.arrive(sch, "r2")
		kept := w.arrive(w.channel(lax.ID), "kept")
		w.dispatch(10, 3)
		w.wantAssignees(map[int64]int64{r1: anna.ID, r2: anna.ID, kept: anna.ID})

		w.presence(anna, team.Away, w.clk.Now().Add(time.Hour))
		w.requeue(0) // Away is not Offline
		w.presence(anna, team.Offline, w.clk.Now().Add(time.Hour))
		head := w.head()
		w.requeue(2)
		w.wantAssignees(map[int64]int64{r1: 0, r2: 0, kept: anna.ID})
		if line := w.lastLine(r1); line.Body != "Returned to the queue: Anna went offline" {
			t.Errorf("requeue line %q", line.Body)
		}
		w.wantEvent(head, cv.EventConversationReturned, r2, 0)
		w.dispatch(10, 0) // nobody is eligible

		// Boris comes, his tab vouching for two minutes.
		w.presence(boris, team.Online, w.clk.Now().Add(2*time.Minute))
		w.dispatch(10, 2)
		w.wantAssignees(map[int64]int64{r1: boris.ID, r2: boris.ID})
		w.clk.Advance(time.Minute)
		w.requeue(0)
		// His tab went away: after the grace period his chats go back.
		w.clk.Advance(90 * time.Second)
		w.requeue(2)
		w.dispatch(10, 0)
		w.wantAssignees(map[int64]int64{r1: 0, r2: 0, kept: anna.ID})

		// Anna is back: she gets them, and keeps the one she never lost.
		w.online(anna)
		w.dispatch(10, 2)
		w.wantAssignees(map[int64]int64{r1: anna.ID, r2: anna.ID, kept: anna.ID})
	})

	t.Run("a supervisor returns a request to the queue", func(t *testing.T) {
		w := newDspWorld(t, db)
		anna, sue := w.agent("Anna"), w.agent("Sue")
		g := w.group("Floor", nil, anna.ID)
		ch := w.channel(g.ID)
		r1, r2, r3 := w.arrive(ch, "r1"), w.arrive(ch, "r2"), w.arrive(ch, "r3")
		for _, id := range []int64{r1, r2, r3} {
			w.take(id, anna)
		}
		head := w.head()
		c, err := db.Unassign(t.Context(), r1, anyone, sue.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c.AssigneeID != 0 || c.PreviousAssigneeID != anna.ID || w.conv(r1).AssigneeID != 0 {
			t.Errorf("after Unassign: %+v, want back in the queue, previously Anna's", c)
		}
		if line := w.lastLine(r1); line.Body != "Sue returned the request to the queue" || line.AuthorID != sue.ID {
			t.Errorf("unassign line %q by %d", line.Body, line.AuthorID)
		}
		e := w.wantEvent(head, cv.EventConversationReturned, r1, 0)
		if e.PrevAssigneeID != anna.ID || !e.Queued {
			t.Errorf("returned event %+v: want Anna as the previous assignee, in the queue", e)
		}
		_, err = db.Unassign(t.Context(), r1, anyone, sue.ID)
		wantError(t, "Unassign of a queued request", err, errs.ErrConflict, "")
		wantCode(t, err, "not_assigned")
		if _, err := db.Finish(t.Context(), r2, anyone, anna.ID, true, false); err != nil {
			t.Fatal(err)
		}
		_, err = db.Unassign(t.Context(), r2, anyone, sue.ID)
		wantError(t, "Unassign of a classic request", err, errs.ErrConflict, "")
		wantCode(t, err, "not_live")
		refuse := func(cv.Conversation) error { return errs.Forbidden("no") }
		_, err = db.Unassign(t.Context(), r3, refuse, sue.ID)
		wantError(t, "Unassign refused by its check", err, errs.ErrForbidden, "")
		if w.conv(r3).AssigneeID != anna.ID {
			t.Error("a refused Unassign changed the request")
		}
		_, err = db.Unassign(t.Context(), 99999999, anyone, sue.ID)
		wantError(t, "Unassign of no request", err, errs.ErrNotFound, "")
	})

	t.Run("HeldRequests lists the agent's open requests in the given statuses", func(t *testing.T) {
		w := newDspWorld(t, db)
		anna, boris := w.agent("Anna"), w.agent("Boris")
		ch := w.channel(0)
		statuses, err := db.Statuses(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		byClass := func(class cv.StatusClass) int64 {
			for _, s := range statuses {
				if s.Class == class && s.Default {
					return s.ID
				}
			}
			t.Fatalf("no default %s status", class)
			return 0
		}
		open, waiting, closed, isNew := byClass(cv.ClassOpen), byClass(cv.ClassWaiting), byClass(cv.ClassClosed), byClass(cv.ClassNew)
		r1, r2, r3, r4 := w.arrive(ch, "r1"), w.arrive(ch, "r2"), w.arrive(ch, "r3"), w.arrive(ch, "r4")
		w.arrive(ch, "queued") // nobody's
		w.take(r1, anna)
		w.take(r2, anna)
		w.take(r3, anna)
		w.take(r4, boris)
		if _, err := db.SetStatus(t.Context(), r2, anyone, anna.ID, waiting); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Finish(t.Context(), r3, anyone, anna.ID, false, false); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			statuses []int64
			want     []int64
		}{
			{nil, nil},
			{[]int64{}, nil},
			{[]int64{open}, []int64{r1}},
			{[]int64{waiting, open}, []int64{r1, r2}},
			{[]int64{closed}, nil},
			{[]int64{isNew}, nil},
		} {
			got, err := db.HeldRequests(t.Context(), anna.ID, c.statuses)
			if err != nil || !slices.Equal(got, c.want) {
				t.Errorf("HeldRequests(Anna, %v) = %v, %v; want %v", c.statuses, got, err, c.want)
			}
		}
		if got, _ := db.HeldRequests(t.Context(), boris.ID, []int64{open}); !slices.Equal(got, []int64{r4}) {
			t.Errorf("HeldRequests(Boris) = %v, want [%d]", got, r4)
		}
	})

	t.Run("dispatch rules: one per group, defaults off, stored as given, unknown groups refused", func(t *testing.T) {
		w := newDspWorld(t, db)
		g := w.group("Rules", nil)
		rules, err := db.DispatchRules(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		groups, err := db.Groups(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(rules) != len(groups) {
			t.Errorf("%d rules for %d groups", len(rules), len(groups))
		}
		want := dispatch.Rule{GroupID: g.ID, Capacity: dispatch.DefaultCapacity}
		if i := slices.IndexFunc(rules, func(r dispatch.Rule) bool { return r.GroupID == g.ID }); i < 0 || rules[i] != want {
			t.Errorf("a new group's rule: %+v, want %+v", rules, want)
		}
		set := dispatch.Rule{GroupID: g.ID, Enabled: true, Capacity: 7, RequeueAfterMinutes: 15, RequeueOnOffline: true}
		w.rule(g.ID, set)
		set.Capacity = 8 // again: an update
		w.rule(g.ID, set)
		rules, _ = db.DispatchRules(t.Context())
		if i := slices.IndexFunc(rules, func(r dispatch.Rule) bool { return r.GroupID == g.ID }); i < 0 || rules[i] != set {
			t.Errorf("stored rule: %+v, want %+v", rules, set)
		}
		_, err = db.SetDispatchRule(t.Context(), dispatch.Rule{GroupID: 99999999, Enabled: true, Capacity: 3})
		wantError(t, "SetDispatchRule of no group", err, errs.ErrNotFound, "")
	})

	t.Run("concurrent arrivals, status changes, closes, takes and dispatchers never assign twice nor beyond capacity", func(t *testing.T) {
		dspRace(t, []*store.DB{db, db})
	})

	if db.Engine() == "postgres" {
		t.Run("the same on two instances sharing one PostgreSQL database", func(t *testing.T) {
			dspRace(t, []*store.DB{db, dspSecondInstance(t, db)})
		})
	}
}

// dspSeq makes the names of each subtest's agents, groups and clients unique.
var dspSeq atomic.Int64

// dspWorld is one subtest's corner of the database: its own clock, agents,
// groups and channels.
type dspWorld struct {
	t   *testing.T
	db  *store.DB
	clk *Clock
	tag string
}

func newDspWorld(t *testing.T, db *store.DB) *dspWorld {
	t.Helper()
	n := dspSeq.Add(1)
	// Each subtest starts a day later: no grace period of one reaches another.
	clk := useClock(t, db, time.Date(2031, 3, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(n)*24*time.Hour))
	return &dspWorld{t: t, db: db, clk: clk, tag: fmt.Sprintf("d%d", n)}
}

// tick moves the clock one second on, so that creation times differ.
func (w *dspWorld) tick() { w.clk.Advance(time.Second) }

func (w *dspWorld) agent(name string) team.Agent {
	w.t.Helper()
	return newAgent(w.t, w.db, strings.ToLower(name)+"-"+w.tag+"@example.com", name, false, true)
}

// group creates a group with the omnichannel rights and, when rule is set,
// its dispatcher rule, switched off again when the subtest ends.
func (w *dspWorld) group(name string, rule *dispatch.Rule, members ...int64) team.Group {
	w.t.Helper()
	g := mustGroup(w.t, w.db, name+" "+w.tag, []access.Right{access.Omnichannel, access.Unassigned}, members...)
	if rule != nil {
		w.rule(g.ID, *rule)
	}
	w.t.Cleanup(func() {
		_, _ = w.db.SetDispatchRule(context.Background(), dispatch.Rule{GroupID: g.ID, Capacity: 1})
	})
	return g
}

func (w *dspWorld) rule(group int64, r dispatch.Rule) {
	w.t.Helper()
	r.GroupID = group
	got, err := w.db.SetDispatchRule(w.t.Context(), r)
	if err != nil || got != r {
		w.t.Fatalf("SetDispatchRule(%+v) = %+v, %v", r, got, err)
	}
}

// channel creates an api channel whose requests the group serves (0: none).
func (w *dspWorld) channel(group int64) cv.Channel {
	w.t.Helper()
	return mgmtChannel(w.t, w.db, cv.Channel{Kind: cv.API, Name: fmt.Sprintf("%s-%d", w.tag, dspSeq.Add(1)), GroupID: group, Active: true})
}

// arrive is a client's first message: a new request.
func (w *dspWorld) arrive(ch cv.Channel, who string) int64 {
	w.t.Helper()
	res, err := w.db.Ingest(w.t.Context(), ch, cv.Inbound{Sender: cv.Sender{ExternalID: w.tag + "-" + who, Name: who}, Text: "hello from " + who})
	if err != nil || !res.Created {
		w.t.Fatalf("ingest from %s: %+v, %v", who, res, err)
	}
	return res.ConversationID
}

func (w *dspWorld) take(id int64, a team.Agent) {
	w.t.Helper()
	if _, err := w.db.Take(w.t.Context(), id, a.ID); err != nil {
		w.t.Fatalf("%s takes %d: %v", a.Name, id, err)
	}
}

// write adds a message of kind to the request (a client message when kind is FromClient).
func (w *dspWorld) write(id int64, kind cv.MessageKind, author int64) {
	w.t.Helper()
	c := w.conv(id)
	if kind == cv.FromClient {
		ch := cv.Channel{ID: c.ChannelID, Kind: c.ChannelKind}
		if _, err := w.db.Ingest(w.t.Context(), ch, cv.Inbound{Sender: cv.Sender{ExternalID: w.tag + "-" + c.ClientName}, Text: "still there?"}); err != nil {
			w.t.Fatal(err)
		}
		if w.conv(id).LastMessageKind != cv.FromClient {
			w.t.Fatalf("the client's message did not land in request %d", id)
		}
		return
	}
	if _, err := w.db.AddMessage(w.t.Context(), id, func(cv.Conversation) error { return nil }, cv.Message{Kind: kind, AuthorID: author, Body: string(kind)}); err != nil {
		w.t.Fatal(err)
	}
}

// presence stores the agent's status and how long their tabs vouch for them.
func (w *dspWorld) presence(a team.Agent, p team.Presence, until time.Time) {
	w.t.Helper()
	if _, err := w.db.SetPresence(w.t.Context(), a.ID, p, 0); err != nil {
		w.t.Fatal(err)
	}
	w.connect(a, until)
}

func (w *dspWorld) connect(a team.Agent, until time.Time) {
	w.t.Helper()
	if err := w.db.MarkConnected(w.t.Context(), a.ID, until); err != nil {
		w.t.Fatal(err)
	}
}

// online makes the agent Online with a tab open for the next hour.
func (w *dspWorld) online(a team.Agent) { w.presence(a, team.Online, w.clk.Now().Add(time.Hour)) }

func (w *dspWorld) dispatch(limit, want int) {
	w.t.Helper()
	n, err := w.db.Dispatch(w.t.Context(), limit)
	if err != nil || n != want {
		w.t.Fatalf("Dispatch(%d) = %d, %v; want %d", limit, n, err, want)
	}
}

func (w *dspWorld) requeue(want int) {
	w.t.Helper()
	n, err := w.db.Requeue(w.t.Context(), 100)
	if err != nil || n != want {
		w.t.Fatalf("Requeue at %s = %d, %v; want %d", w.clk.Now().Format(time.TimeOnly), n, err, want)
	}
}

func (w *dspWorld) conv(id int64) cv.Conversation {
	w.t.Helper()
	c, err := w.db.Conversation(w.t.Context(), id)
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

// wantAssignees checks who holds each request (0: the queue).
func (w *dspWorld) wantAssignees(want map[int64]int64) {
	w.t.Helper()
	for _, id := range slices.Sorted(func(yield func(int64) bool) {
		for id := range want {
			if !yield(id) {
				return
			}
		}
	}) {
		if got := w.conv(id).AssigneeID; got != want[id] {
			w.t.Errorf("request %d is assigned to %d, want %d", id, got, want[id])
		}
	}
}

// load counts the agent's open live requests.
func (w *dspWorld) load(agent int64) int {
	w.t.Helper()
	list, err := w.db.List(w.t.Context(), cv.ListQuery{View: cv.ViewChats, Viewer: cv.Viewer{AgentID: agent}, Limit: 500})
	if err != nil {
		w.t.Fatal(err)
	}
	return len(list)
}

// lastLine returns the request's newest event line.
func (w *dspWorld) lastLine(id int64) cv.Message {
	w.t.Helper()
	ms, err := w.db.Messages(w.t.Context(), id, 0, 200)
	if err != nil {
		w.t.Fatal(err)
	}
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Kind == cv.EventLine {
			return ms[i]
		}
	}
	w.t.Fatalf("request %d has no event line", id)
	return cv.Message{}
}

func (w *dspWorld) head() int64 {
	w.t.Helper()
	seq, err := w.db.LastSeq(w.t.Context())
	if err != nil {
		w.t.Fatal(err)
	}
	return seq
}

func (w *dspWorld) eventsAfter(seq int64) []cv.Event {
	w.t.Helper()
	evs, err := dspEvents(w.t.Context(), w.db, seq)
	if err != nil {
		w.t.Fatal(err)
	}
	return evs
}

// wantEvent finds the one event of kind about the request after seq.
func (w *dspWorld) wantEvent(after int64, kind string, id, assignee int64) cv.Event {
	w.t.Helper()
	var found []cv.Event
	for _, e := range w.eventsAfter(after) {
		if e.Kind == kind && e.ConversationID == id {
			found = append(found, e)
		}
	}
	if len(found) != 1 || found[0].AssigneeID != assignee {
		w.t.Errorf("%s events of request %d: %+v; want one, assignee %d", kind, id, found, assignee)
		return cv.Event{}
	}
	return found[0]
}

// dspEvents reads the whole event log after seq.
func dspEvents(ctx context.Context, db *store.DB, after int64) ([]cv.Event, error) {
	var out []cv.Event
	for {
		page, err := db.EventsAfter(ctx, after, 1000)
		if err != nil || len(page) == 0 {
			return out, err
		}
		out = append(out, page...)
		after = page[len(page)-1].Seq
	}
}

type dspData struct {
	Conversation cv.Conversation `json:"conversation"`
	Message      *cv.Message     `json:"message"`
}

func dspPayload(t *testing.T, e cv.Event) dspData {
	t.Helper()
	var d dspData
	if err := json.Unmarshal(e.Data, &d); err != nil {
		t.Fatalf("event %d: %v", e.Seq, err)
	}
	return d
}

func dspStatus(list []cv.Status, id int64) cv.Status {
	for _, s := range list {
		if s.ID == id {
			return s
		}
	}
	return cv.Status{}
}

// dspSecondInstance opens a second handle on db's PostgreSQL schema: another
// instance of Switchboard on the same database.
func dspSecondInstance(t *testing.T, db *store.DB) *store.DB {
	t.Helper()
	u, err := url.Parse(os.Getenv(PostgresEnv))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", strings.TrimPrefix(db.NotifyChannel(), "switchboard_"))
	u.RawQuery = q.Encode()
	second, err := store.Open(t.Context(), u.String(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { second.Close() })
	if second.NotifyChannel() != db.NotifyChannel() {
		t.Fatalf("the second instance opened %s, not %s", second.NotifyChannel(), db.NotifyChannel())
	}
	return second
}

// dspAgentState is what one agent's own goroutine last stored.
type dspAgentState struct {
	presence  team.Presence
	connected bool
}

// dspRace runs arrivals, status changes, closes, manual takes, requeues and
// dispatchers concurrently on the given handles (one instance each; the same
// handle twice is one instance), then checks the event log and the stored
// state: no request was ever assigned while it was assigned or closed, no
// dispatcher assignment put an agent above the capacity of the request's
// group, closed requests never went back to the queue, and once everything
// is quiet nothing waits that an eligible agent has room for.
func dspRace(t *testing.T, dbs []*store.DB) {
	db := dbs[0]
	w := newDspWorld(t, db)
	for _, other := range dbs[1:] {
		if other != db {
			old := other.Now
			other.Now = w.clk.Now
			t.Cleanup(func() { other.Now = old })
		}
	}
	ctx := t.Context()
	now := w.clk.Now() // the clock stands still: connections are "until now ± 1h"

	var agents []team.Agent
	for i := range 6 {
		agents = append(agents, w.agent(fmt.Sprintf("Racer%d", i)))
	}
	boss := w.agent("Boss")
	ids := func(as []team.Agent) []int64 {
		var out []int64
		for _, a := range as {
			out = append(out, a.ID)
		}
		return out
	}
	rules := map[int64]dispatch.Rule{}
	strict := w.group("Strict", &dispatch.Rule{Enabled: true, Capacity: 2, RequeueOnOffline: true}, ids(agents[:4])...)
	roomy := w.group("Roomy", &dispatch.Rule{Enabled: true, Capacity: 3}, ids(agents[2:])...)
	manual := w.group("Manual", nil, ids(agents)...)
	rules[strict.ID] = dispatch.Rule{Enabled: true, Capacity: 2, RequeueOnOffline: true}
	rules[roomy.ID] = dispatch.Rule{Enabled: true, Capacity: 3}
	members := map[int64][]int64{strict.ID: ids(agents[:4]), roomy.ID: ids(agents[2:]), manual.ID: ids(agents)}
	channels := []cv.Channel{w.channel(strict.ID), w.channel(roomy.ID), w.channel(manual.ID)}
	for _, a := range agents {
		w.online(a)
	}
	head := w.head()

	const arrivals, arrivers = 120, 3
	var (
		mu       sync.Mutex
		requests []int64
		final    = make([]dspAgentState, len(agents))
		failures []string
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, fmt.Sprintf(format, args...))
	}
	pick := func(r *rand.Rand) int64 {
		mu.Lock()
		defer mu.Unlock()
		if len(requests) == 0 {
			return 0
		}
		// Mostly recent requests: the ones still in play.
		return requests[max(0, len(requests)-1-r.IntN(min(len(requests), 25)))]
	}
	// conflict is what a write racing another may meet: taken, closed.
	conflict := func(err error) bool { return errors.Is(err, errs.ErrConflict) }
	stillOpen := func(c cv.Conversation) error {
		if !c.Open() {
			return errs.Conflict("closed", "this request is closed")
		}
		return nil
	}

	var producers, dispatchers sync.WaitGroup
	for i := range arrivers {
		producers.Go(func() {
			r := rand.New(rand.NewPCG(uint64(i), 1))
			for n := range arrivals / arrivers {
				h := dbs[n%len(dbs)]
				ch := channels[r.IntN(len(channels))]
				// A few clients write again into their open request.
				who := fmt.Sprintf("%s-race-%d-%d", w.tag, i, r.IntN(arrivals))
				res, err := h.Ingest(ctx, ch, cv.Inbound{Sender: cv.Sender{ExternalID: who, Name: who}, Text: "race"})
				if err != nil {
					fail("ingest: %v", err)
					continue
				}
				if res.Created {
					mu.Lock()
					requests = append(requests, res.ConversationID)
					mu.Unlock()
				}
			}
		})
	}
	for i, a := range agents {
		producers.Go(func() {
			r := rand.New(rand.NewPCG(uint64(i), 2))
			st := dspAgentState{presence: team.Online, connected: true}
			for n := range 25 {
				h := dbs[n%len(dbs)]
				switch r.IntN(5) {
				case 0, 1:
					st.presence = team.Online
				case 2:
					st.presence = team.Away
				case 3:
					st.presence = team.Offline
				case 4:
					st.connected = !st.connected
					until := now.Add(time.Hour)
					if !st.connected {
						until = now.Add(-time.Second)
					}
					if err := h.MarkConnected(ctx, a.ID, until); err != nil {
						fail("MarkConnected: %v", err)
					}
					continue
				}
				if _, err := h.SetPresence(ctx, a.ID, st.presence, 0); err != nil {
					fail("SetPresence: %v", err)
				}
			}
			final[i] = st
		})
	}
	for i := range 2 {
		producers.Go(func() { // closers
			r := rand.New(rand.NewPCG(uint64(i), 3))
			for n := range 40 {
				id := pick(r)
				if id == 0 {
					time.Sleep(time.Millisecond)
					continue
				}
				if _, err := dbs[n%len(dbs)].Finish(ctx, id, stillOpen, boss.ID, false, false); err != nil && !conflict(err) {
					fail("Finish(%d): %v", id, err)
				}
			}
		})
		producers.Go(func() { // manual takes
			r := rand.New(rand.NewPCG(uint64(i), 4))
			for n := range 40 {
				id := pick(r)
				if id == 0 {
					time.Sleep(time.Millisecond)
					continue
				}
				a := agents[r.IntN(len(agents))]
				if _, err := dbs[(n+1)%len(dbs)].Take(ctx, id, a.ID); err != nil && !conflict(err) {
					fail("Take(%d): %v", id, err)
				}
			}
		})
	}
	quiet := make(chan struct{})
	var rounds atomic.Int64
	for i, h := range dbs {
		for range 2 {
			dispatchers.Go(func() {
				for n := 0; ; n++ {
					select {
					case <-quiet:
						return
					default:
					}
					if n%4 == i {
						if _, err := h.Requeue(ctx, 10); err != nil {
							fail("Requeue: %v", err)
						}
					}
					if _, err := h.Dispatch(ctx, 3); err != nil {
						fail("Dispatch: %v", err)
					}
					rounds.Add(1)
				}
			})
		}
	}
	producers.Wait()
	close(quiet)
	dispatchers.Wait()
	for _, f := range failures {
		t.Error(f)
	}
	t.Logf("%d requests, %d dispatch rounds", len(requests), rounds.Load())

	// Everything is quiet: a last round on every instance.
	for _, h := range dbs {
		if _, err := h.Requeue(ctx, 1000); err != nil {
			t.Fatal(err)
		}
		for {
			n, err := h.Dispatch(ctx, 50)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
	}

	// Replay the event log.
	type state struct {
		group, assignee int64
		byDispatcher    bool
		closed          bool
	}
	reqs := map[int64]*state{}
	dispatched := map[int64]map[int64]bool{} // agent → requests the dispatcher gave them, still open
	release := func(id int64, s *state) {
		if s.byDispatcher && s.assignee != 0 {
			delete(dispatched[s.assignee], id)
		}
		s.byDispatcher = false
	}
	evs, err := dspEvents(ctx, db, head)
	if err != nil {
		t.Fatal(err)
	}
	assignments, byDispatcher := 0, 0
	for _, e := range evs {
		if e.ConversationID == 0 {
			continue
		}
		if e.Kind == cv.EventConversationCreated {
			reqs[e.ConversationID] = &state{group: e.GroupID}
			continue
		}
		s := reqs[e.ConversationID]
		if s == nil {
			continue // not a request of this race
		}
		switch e.Kind {
		case cv.EventConversationAssigned:
			assignments++
			if s.closed || s.assignee != 0 {
				t.Errorf("seq %d: request %d assigned to %d while closed=%v, assigned to %d", e.Seq, e.ConversationID, e.AssigneeID, s.closed, s.assignee)
			}
			d := dspPayload(t, e)
			s.assignee = e.AssigneeID
			s.byDispatcher = d.Message != nil && d.Message.AuthorID == 0 && strings.HasSuffix(d.Message.Body, " by the dispatcher")
			if !s.byDispatcher {
				continue
			}
			byDispatcher++
			rule, ok := rules[s.group]
			if !ok || !slices.Contains(members[s.group], e.AssigneeID) {
				t.Errorf("seq %d: the dispatcher assigned request %d of group %d (no dispatcher, or not a member) to %d", e.Seq, e.ConversationID, s.group, e.AssigneeID)
				continue
			}
			if dispatched[e.AssigneeID] == nil {
				dispatched[e.AssigneeID] = map[int64]bool{}
			}
			dispatched[e.AssigneeID][e.ConversationID] = true
			if n := len(dispatched[e.AssigneeID]); n > rule.Capacity {
				t.Errorf("seq %d: the dispatcher gave agent %d their %d-th open request (%d), capacity %d", e.Seq, e.AssigneeID, n, e.ConversationID, rule.Capacity)
			}
		case cv.EventConversationTransferred:
			release(e.ConversationID, s)
			s.assignee = e.AssigneeID
		case cv.EventConversationReturned:
			if s.closed || s.assignee == 0 {
				t.Errorf("seq %d: request %d returned to the queue while closed=%v, assigned to %d", e.Seq, e.ConversationID, s.closed, s.assignee)
			}
			release(e.ConversationID, s)
			s.assignee = 0
		case cv.EventConversationClosed:
			if s.closed {
				t.Errorf("seq %d: request %d closed twice", e.Seq, e.ConversationID)
			}
			release(e.ConversationID, s)
			s.closed = true
		}
	}
	if byDispatcher == 0 {
		t.Error("the dispatcher assigned nothing: the race proved nothing")
	}
	t.Logf("%d assignments, %d by the dispatcher", assignments, byDispatcher)

	// The stored state is the replayed one; nothing waits for an agent with room.
	load := map[int64]int{}
	var waiting []cv.Conversation
	for id, s := range reqs {
		c, err := db.Conversation(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if c.AssigneeID != s.assignee || c.Open() == s.closed {
			t.Errorf("request %d is stored assigned to %d, open %v; the event log says %d, closed %v", id, c.AssigneeID, c.Open(), s.assignee, s.closed)
		}
		switch {
		case !c.Open():
		case c.AssigneeID != 0:
			load[c.AssigneeID]++
		case rules[c.GroupID].Enabled:
			waiting = append(waiting, c)
		}
	}
	index := map[int64]int{}
	for i, a := range agents {
		index[a.ID] = i
	}
	eligible := func(agent int64) bool {
		st := final[index[agent]]
		return st.presence == team.Online && st.connected
	}
	for _, c := range waiting {
		for _, m := range members[c.GroupID] {
			if eligible(m) && load[m] < rules[c.GroupID].Capacity {
				t.Errorf("request %d of group %d waits while agent %d (%+v) holds %d of %d", c.ID, c.GroupID, m, final[index[m]], load[m], rules[c.GroupID].Capacity)
			}
		}
	}
	// In the group that requeues, nobody Offline or disconnected holds a request.
	for id, s := range reqs {
		if st := final[index[s.assignee]]; !s.closed && s.group == strict.ID && s.assignee != 0 && (st.presence == team.Offline || !st.connected) {
			t.Errorf("request %d of a requeue-on-offline group stays with agent %d (%+v)", id, s.assignee, final[index[s.assignee]])
		}
	}
}
