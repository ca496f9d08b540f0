package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/schedule"
	"github.com/switchboard-hq/switchboard/internal/sla"
	"github.com/switchboard-hq/switchboard/internal/store"
)

// SLA is the behaviour suite of service levels (docs/sla.md): which policy a
// new request gets, the due instants of its clocks over business hours
// (weekends, holidays, a daylight-saving change), what moves them (replies,
// client messages, waiting for the client, close), breaches recorded once
// with their line, event and action, also by two instances at once, and the
// refusals that name the field.
func SLA(t *testing.T, db *store.DB) {
	ctx := t.Context()
	anyone := func(cv.Conversation) error { return nil }
	var seq atomic.Int64
	agent := newAgent(t, db, "sla-agent@example.com", "Sam", false, true)
	office, err := db.SaveBusinessHours(ctx, sla.Hours{Schedule: schedule.Schedule{
		Name: "Office", TimeZone: "Europe/Berlin",
		Week: []schedule.Interval{
			{Day: time.Monday, Start: schedule.At(9, 0), End: schedule.At(17, 0)},
			{Day: time.Tuesday, Start: schedule.At(9, 0), End: schedule.At(17, 0)},
			{Day: time.Wednesday, Start: schedule.At(9, 0), End: schedule.At(17, 0)},
			{Day: time.Thursday, Start: schedule.At(9, 0), End: schedule.At(17, 0)},
			{Day: time.Friday, Start: schedule.At(9, 0), End: schedule.At(17, 0)},
		},
		Holidays: []schedule.Holiday{{Name: "Bridge day", From: schedule.Date{Year: 2031, Month: time.March, Day: 31}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	channel := func(t *testing.T) cv.Channel {
		return mgmtChannel(t, db, cv.Channel{Kind: cv.API, Name: fmt.Sprintf("sla-%d", seq.Add(1)), Active: true})
	}
	policy := func(t *testing.T, p sla.Policy) sla.Policy {
		t.Helper()
		p.Normalize()
		if err := p.Validate(); err != nil {
			t.Fatal(err)
		}
		saved, err := db.SaveSLAPolicy(ctx, p)
		if err != nil {
			t.Fatalf("save policy %s: %v", p.Name, err)
		}
		return saved
	}
	arrive := func(t *testing.T, ch cv.Channel, who string) int64 {
		t.Helper()
		res, err := db.Ingest(ctx, ch, cv.Inbound{Sender: cv.Sender{ExternalID: who, Name: who}, Text: "hello"})
		if err != nil {
			t.Fatal(err)
		}
		return res.ConversationID
	}
	write := func(t *testing.T, ch cv.Channel, who string) {
		t.Helper()
		if _, err := db.Ingest(ctx, ch, cv.Inbound{Sender: cv.Sender{ExternalID: who}, Text: "anyone?"}); err != nil {
			t.Fatal(err)
		}
	}
	reply := func(t *testing.T, id int64) {
		t.Helper()
		if _, err := db.AddMessage(ctx, id, anyone, cv.Message{Kind: cv.Reply, AuthorID: agent.ID, Body: "On it"}); err != nil {
			t.Fatal(err)
		}
	}
	load := func(t *testing.T, id int64) cv.Conversation {
		t.Helper()
		c, err := db.Conversation(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	utc := func(t *testing.T, s string) time.Time {
		t.Helper()
		at, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return at
	}
	// wantDue checks the running clocks' due instants (zero = not running).
	wantDue := func(t *testing.T, id int64, first, next, resolution string) {
		t.Helper()
		got := load(t, id).SLA.Due
		for i, want := range []string{first, next, resolution} {
			var w int64
			if want != "" {
				w = utc(t, want).UnixMilli()
			}
			if got[i] != w {
				t.Errorf("request %d: %s due at %s, want %q", id, sla.Targets[i], time.UnixMilli(got[i]).UTC().Format(time.RFC3339), want)
			}
		}
	}
	breach := func(t *testing.T, want int) {
		t.Helper()
		n, err := db.Breach(ctx, 100)
		if err != nil || n != want {
			t.Fatalf("Breach at %s = %d, %v; want %d", db.Now().UTC().Format(time.RFC3339), n, err, want)
		}
	}
	clockOf := func(t *testing.T, c cv.Conversation, at time.Time, target sla.Target) sla.Clock {
		t.Helper()
		v := c.SLA.View(at)
		if v == nil {
			t.Fatalf("request %d has no SLA", c.ID)
		}
		for _, k := range v.Clocks {
			if k.Target == target {
				return k
			}
		}
		t.Fatalf("request %d shows no %s clock: %+v", c.ID, target, v.Clocks)
		return sla.Clock{}
	}
	eventsOf := func(t *testing.T, after int64, kind string) []cv.Event {
		t.Helper()
		evs, err := dspEvents(ctx, db, after)
		if err != nil {
			t.Fatal(err)
		}
		return slices.DeleteFunc(evs, func(e cv.Event) bool { return e.Kind != kind })
	}

	t.Run("the default policy measures the first response in 10 minutes, round the clock", func(t *testing.T) {
		clk := useClock(t, db, utc(t, "2031-03-01T10:00:00Z"))
		id := arrive(t, channel(t), "default-client")
		c := load(t, id)
		if c.SLA.PolicyID == 0 || c.SLA.View(clk.Now()).Policy != "Default" {
			t.Fatalf("new request's SLA: %+v", c.SLA.View(clk.Now()))
		}
		wantDue(t, id, "2031-03-01T10:10:00Z", "", "")
		k := clockOf(t, c, clk.Now().Add(4*time.Minute), sla.FirstResponse)
		if k.State != sla.Running || k.LeftSeconds != 360 || k.Seconds != 600 {
			t.Errorf("4 minutes in: %+v, want running with 360 s of 600 left", k)
		}
		clk.Advance(3 * time.Minute)
		reply(t, id)
		wantDue(t, id, "", "", "")
		if k := clockOf(t, load(t, id), clk.Now(), sla.FirstResponse); k.State != sla.Met {
			t.Errorf("after the reply: %+v, want met", k)
		}
		// Another client message after the reply: the default policy has no next-response target.
		write(t, cv.Channel{ID: c.ChannelID, Kind: c.ChannelKind}, "default-client")
		wantDue(t, id, "", "", "")
	})

	ch := channel(t)
	vip := policy(t, sla.Policy{Name: "VIP", ScheduleID: office.ID, Channels: []int64{ch.ID}, OnBreach: sla.NoAction,
		Targets: map[sla.Target]int64{sla.FirstResponse: 600, sla.NextResponse: 300, sla.Resolution: 8 * 3600}})
	var vipReq int64

	t.Run("a matching policy's clocks run in business hours only: over a weekend, a holiday and the daylight-saving change", func(t *testing.T) {
		// Friday 16:55 in Berlin (CET). Five minutes are left on Friday;
		// Saturday and Sunday are closed, the clocks go forward on Sunday,
		// Monday is a holiday: the rest runs from Tuesday 09:00 CEST (07:00Z).
		clk := useClock(t, db, utc(t, "2031-03-28T15:55:00Z"))
		vipReq = arrive(t, ch, "vip-client")
		if got := load(t, vipReq).SLA.PolicyID; got != vip.ID {
			t.Fatalf("policy %d, want VIP (%d)", got, vip.ID)
		}
		wantDue(t, vipReq, "2031-04-01T07:05:00Z", "", "2031-04-01T14:55:00Z")
		// On Saturday the clock stands at 5 minutes left and shows when it runs again.
		k := clockOf(t, load(t, vipReq), utc(t, "2031-03-29T12:00:00Z"), sla.FirstResponse)
		if k.State != sla.Running || k.LeftSeconds != 300 || len(k.Open) == 0 || !k.Open[0][0].Equal(utc(t, "2031-04-01T07:00:00Z")) {
			t.Errorf("on Saturday: %+v, want 300 s left, running from Tuesday 07:00Z", k)
		}
		_ = clk
	})

	t.Run("a reply stops the first response; the next unanswered message starts the next response, which breaches once", func(t *testing.T) {
		clk := useClock(t, db, utc(t, "2031-04-01T07:02:00Z"))
		if _, err := db.Take(ctx, vipReq, agent.ID); err != nil {
			t.Fatal(err)
		}
		reply(t, vipReq)
		clk.Advance(8 * time.Minute) // 07:10
		write(t, ch, "vip-client")
		clk.Advance(time.Minute)
		write(t, ch, "vip-client") // the clock runs from the first unanswered message
		wantDue(t, vipReq, "", "2031-04-01T07:15:00Z", "2031-04-01T14:55:00Z")
		head, _ := db.LastSeq(ctx)
		clk.Advance(4*time.Minute - time.Millisecond)
		breach(t, 0)
		clk.Advance(time.Millisecond)
		breach(t, 1)
		breach(t, 0)
		evs := eventsOf(t, head, cv.EventSLABreached)
		if len(evs) != 1 || evs[0].ConversationID != vipReq || evs[0].AssigneeID != agent.ID {
			t.Fatalf("breach events: %+v", evs)
		}
		var data struct {
			Targets []sla.Target `json:"targets"`
			Message cv.Message   `json:"message"`
		}
		if err := json.Unmarshal(evs[0].Data, &data); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(data.Targets, []sla.Target{sla.NextResponse}) || data.Message.Body != "SLA breached: next response (5 min)" || data.Message.Kind != cv.EventLine {
			t.Errorf("breach event: %+v", data)
		}
		if k := clockOf(t, load(t, vipReq), clk.Now(), sla.NextResponse); k.State != sla.Breached {
			t.Errorf("next response after its breach: %+v", k)
		}
		clk.Advance(time.Minute)
		reply(t, vipReq)
		c := load(t, vipReq)
		if k := clockOf(t, c, clk.Now(), sla.NextResponse); k.State != sla.Idle || !c.SLA.WasBreached(sla.NextResponse) || c.SLA.WasBreached(sla.FirstResponse) {
			t.Errorf("after the late reply: %+v, breached next %v first %v", k, c.SLA.WasBreached(sla.NextResponse), c.SLA.WasBreached(sla.FirstResponse))
		}
	})

	t.Run("waiting for the client freezes the clocks; the client's answer resumes them and reopens the request", func(t *testing.T) {
		clk := useClock(t, db, utc(t, "2031-04-01T07:20:00Z"))
		write(t, ch, "vip-client") // next response due 07:25
		clk.Advance(2 * time.Minute)
		statuses, err := db.Statuses(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var waiting, open int64
		for _, s := range statuses {
			switch {
			case s.Class == cv.ClassWaiting && s.Default:
				waiting = s.ID
			case s.Class == cv.ClassOpen && s.Default:
				open = s.ID
			}
		}
		if _, err := db.SetStatus(ctx, vipReq, anyone, agent.ID, waiting); err != nil {
			t.Fatal(err)
		}
		clk.Advance(38 * time.Minute) // 08:00: long past 07:25, but frozen
		breach(t, 0)
		if k := clockOf(t, load(t, vipReq), clk.Now(), sla.NextResponse); k.State != sla.Paused || k.LeftSeconds != 180 {
			t.Errorf("while waiting: %+v, want paused with 180 s left", k)
		}
		write(t, ch, "vip-client")
		c := load(t, vipReq)
		if c.StatusID != open {
			t.Errorf("status after the client answered: %d, want Open (%d)", c.StatusID, open)
		}
		// 3 minutes left of the next response. The resolution, due at 16:55
		// local, moves by the 38 minutes of waiting: 5 minutes before 17:00,
		// the other 33 the next morning (09:33 CEST).
		wantDue(t, vipReq, "", "2031-04-01T08:03:00Z", "2031-04-02T07:33:00Z")
	})

	t.Run("closing stops every clock: the resolution is met", func(t *testing.T) {
		clk := useClock(t, db, utc(t, "2031-04-01T08:01:00Z"))
		reply(t, vipReq)
		if _, err := db.Finish(ctx, vipReq, anyone, agent.ID, false, false); err != nil {
			t.Fatal(err)
		}
		c := load(t, vipReq)
		wantDue(t, vipReq, "", "", "")
		if k := clockOf(t, c, clk.Now(), sla.Resolution); k.State != sla.Met {
			t.Errorf("resolution after close: %+v", k)
		}
		breach(t, 0)
	})

	t.Run("a policy that returns breached requests to the queue", func(t *testing.T) {
		clk := useClock(t, db, utc(t, "2031-05-05T10:00:00Z"))
		strictCh := channel(t)
		policy(t, sla.Policy{Name: "Strict", ScheduleID: 1, Channels: []int64{strictCh.ID}, OnBreach: sla.Requeue,
			Targets: map[sla.Target]int64{sla.FirstResponse: 60}})
		id := arrive(t, strictCh, "strict-client")
		if _, err := db.Take(ctx, id, agent.ID); err != nil {
			t.Fatal(err)
		}
		head, _ := db.LastSeq(ctx)
		clk.Advance(time.Minute)
		breach(t, 1)
		c := load(t, id)
		if c.AssigneeID != 0 || c.PreviousAssigneeID != agent.ID {
			t.Errorf("after the breach: assignee %d, previous %d", c.AssigneeID, c.PreviousAssigneeID)
		}
		if n := len(eventsOf(t, head, cv.EventSLABreached)); n != 1 {
			t.Errorf("%d breach events", n)
		}
		if n := len(eventsOf(t, head, cv.EventConversationReturned)); n != 1 {
			t.Errorf("%d returned events", n)
		}
	})

	t.Run("a reply or close after the due instant is a breach, even before the scheduler comes round", func(t *testing.T) {
		clk := useClock(t, db, utc(t, "2031-05-12T10:00:00Z"))
		lateCh := channel(t)
		policy(t, sla.Policy{Name: "Late", ScheduleID: 1, Channels: []int64{lateCh.ID}, OnBreach: sla.Requeue,
			Targets: map[sla.Target]int64{sla.FirstResponse: 60, sla.NextResponse: 60, sla.Resolution: 600}})
		id := arrive(t, lateCh, "late-client")
		if _, err := db.Take(ctx, id, agent.ID); err != nil {
			t.Fatal(err)
		}
		head, _ := db.LastSeq(ctx)
		clk.Advance(61 * time.Second)
		reply(t, id)
		evs, err := dspEvents(ctx, db, head)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, e := range evs {
			kinds = append(kinds, e.Kind)
		}
		if !slices.Equal(kinds, []string{cv.EventSLABreached, cv.EventMessageCreated}) {
			t.Errorf("events of the late reply: %v, want the breach, then the reply", kinds)
		}
		c := load(t, id)
		if !c.SLA.WasBreached(sla.FirstResponse) || c.AssigneeID != agent.ID {
			t.Errorf("after the late reply: breached %v, assignee %d (the agent answering keeps it)", c.SLA.WasBreached(sla.FirstResponse), c.AssigneeID)
		}
		breach(t, 0)

		// The client asks again and nobody answers; the request is closed
		// late: both are breaches, and the next response was never met.
		write(t, lateCh, "late-client")
		clk.Advance(10 * time.Minute)
		if _, err := db.Finish(ctx, id, anyone, agent.ID, false, false); err != nil {
			t.Fatal(err)
		}
		c = load(t, id)
		if !c.SLA.WasBreached(sla.NextResponse) || !c.SLA.WasBreached(sla.Resolution) || c.SLA.NextMet != 0 {
			t.Errorf("after the late close: %+v", c.SLA)
		}
		breach(t, 0)
	})

	t.Run("a client's message carries the clocks to the lists", func(t *testing.T) {
		useClock(t, db, utc(t, "2031-05-13T10:00:00Z"))
		liveCh := channel(t)
		policy(t, sla.Policy{Name: "Live", ScheduleID: 1, Channels: []int64{liveCh.ID}, Targets: map[sla.Target]int64{sla.FirstResponse: 600}})
		arrive(t, liveCh, "live-client")
		head, _ := db.LastSeq(ctx)
		write(t, liveCh, "live-client")
		evs, err := dspEvents(ctx, db, head)
		if err != nil || len(evs) != 1 {
			t.Fatalf("events: %v, %v", evs, err)
		}
		var data struct {
			Conversation struct {
				SLA *sla.View `json:"sla"`
			} `json:"conversation"`
		}
		if err := json.Unmarshal(evs[0].Data, &data); err != nil || data.Conversation.SLA == nil || len(data.Conversation.SLA.Clocks) != 1 {
			t.Errorf("the second message's event: %s (%v)", evs[0].Data, err)
		}
	})

	t.Run("a removed policy stops nothing: its requests keep their clocks and new ones take the next match", func(t *testing.T) {
		clk := useClock(t, db, utc(t, "2031-05-14T10:00:00Z"))
		goneCh := channel(t)
		gone := policy(t, sla.Policy{Name: "Gone", ScheduleID: 1, Channels: []int64{goneCh.ID}, Targets: map[sla.Target]int64{sla.FirstResponse: 120}})
		id := arrive(t, goneCh, "gone-client")
		if err := db.DeleteSLAPolicy(ctx, gone.ID); err != nil {
			t.Fatal(err)
		}
		other := arrive(t, goneCh, "other-client")
		if got := load(t, other).SLA.View(clk.Now()).Policy; got != "Default" {
			t.Errorf("a new request after the removal runs under %q, want Default", got)
		}
		clk.Advance(2 * time.Minute)
		if _, err := db.Breach(ctx, 100); err != nil {
			t.Fatal(err)
		}
		if !load(t, id).SLA.WasBreached(sla.FirstResponse) {
			t.Errorf("the removed policy's request did not breach")
		}
	})

	t.Run("refusals name the field and change nothing", func(t *testing.T) {
		_, err := db.SaveSLAPolicy(ctx, sla.Policy{Name: "Ghost hours", ScheduleID: 9999, Targets: map[sla.Target]int64{}})
		wantError(t, "policy on unknown business hours", err, errs.ErrInvalid, "business_hours_id")
		_, err = db.SaveSLAPolicy(ctx, sla.Policy{Name: "Ghost channel", ScheduleID: office.ID, Channels: []int64{9999}})
		wantError(t, "policy on an unknown channel", err, errs.ErrInvalid, "channels")
		_, err = db.SaveSLAPolicy(ctx, sla.Policy{Name: "vip", ScheduleID: office.ID})
		wantError(t, "a second policy named vip", err, errs.ErrConflict, "name")
		policies, _ := db.SLAPolicies(ctx)
		def := policies[len(policies)-1]
		if !def.Default {
			t.Fatalf("the default policy is not last: %+v", policies)
		}
		wantCode(t, db.DeleteSLAPolicy(ctx, def.ID), "default_policy")
		wantCode(t, db.DeleteBusinessHours(ctx, office.ID), "business_hours_in_use")
		wantCode(t, db.DeleteBusinessHours(ctx, 1), "default_business_hours")
		wantError(t, "ordering without every policy", db.OrderSLAPolicies(ctx, []int64{vip.ID}), errs.ErrInvalid, "ids")
		after, _ := db.SLAPolicies(ctx)
		if len(after) != len(policies) {
			t.Errorf("policies changed: %d, then %d", len(policies), len(after))
		}
	})

	t.Run("policies are tried in order, the default last", func(t *testing.T) {
		policies, _ := db.SLAPolicies(ctx)
		var ids []int64
		for _, p := range policies[:len(policies)-1] {
			ids = append([]int64{p.ID}, ids...)
		}
		if err := db.OrderSLAPolicies(ctx, ids); err != nil {
			t.Fatal(err)
		}
		after, _ := db.SLAPolicies(ctx)
		for i, id := range ids {
			if after[i].ID != id {
				t.Fatalf("order %v, got %+v", ids, after)
			}
		}
		if !after[len(after)-1].Default {
			t.Errorf("default not last: %+v", after)
		}
	})
}

// SLATwoInstances checks that two instances sharing a PostgreSQL database
// record each breach exactly once.
func SLATwoInstances(t *testing.T, db *store.DB) {
	ctx := t.Context()
	second := dspSecondInstance(t, db)
	clk := useClock(t, db, time.Date(2031, 6, 2, 10, 0, 0, 0, time.UTC))
	second.Now = clk.Now
	ch := mgmtChannel(t, db, cv.Channel{Kind: cv.API, Name: "sla-race", Active: true})
	p := sla.Policy{Name: "Race", ScheduleID: 1, Channels: []int64{ch.ID}, Targets: map[sla.Target]int64{sla.FirstResponse: 60}}
	p.Normalize()
	if _, err := db.SaveSLAPolicy(ctx, p); err != nil {
		t.Fatal(err)
	}
	const requests = 40
	for i := range requests {
		if _, err := db.Ingest(ctx, ch, cv.Inbound{Sender: cv.Sender{ExternalID: fmt.Sprintf("racer-%d", i)}, Text: "hi"}); err != nil {
			t.Fatal(err)
		}
	}
	head, _ := db.LastSeq(ctx)
	clk.Advance(time.Minute)
	var wg sync.WaitGroup
	var total atomic.Int64
	for _, d := range []*store.DB{db, second, db, second} {
		wg.Go(func() {
			for range 10 {
				n, err := d.Breach(ctx, 7)
				if err != nil {
					t.Error(err)
					return
				}
				total.Add(int64(n))
			}
		})
	}
	wg.Wait()
	evs, err := dspEvents(ctx, db, head)
	if err != nil {
		t.Fatal(err)
	}
	per := map[int64]int{}
	for _, e := range evs {
		if e.Kind == cv.EventSLABreached {
			per[e.ConversationID]++
		}
	}
	if len(per) != requests || total.Load() != requests {
		t.Errorf("%d requests breached (%d counted), want %d", len(per), total.Load(), requests)
	}
	for id, n := range per {
		if n != 1 {
			t.Errorf("request %d: %d breach events", id, n)
		}
	}
}
