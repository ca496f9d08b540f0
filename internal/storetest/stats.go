package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-hq/switchboard/internal/access"
	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/schedule"
	"github.com/switchboard-hq/switchboard/internal/settings"
	"github.com/switchboard-hq/switchboard/internal/sla"
	"github.com/switchboard-hq/switchboard/internal/stats"
	"github.com/switchboard-hq/switchboard/internal/store"
	"github.com/switchboard-hq/switchboard/internal/supervision"
	"github.com/switchboard-hq/switchboard/internal/team"
)

// Stats is the known-answer test of Management → Statistics: a scripted
// March 2031 in Berlin (a holiday, a weekend, the daylight-saving change)
// of eight requests on two channels — one under office hours, one round
// the clock — checked figure by figure against values computed by hand,
// and Management → Agents for one of its days against the statistics of
// that day.
func Stats(t *testing.T, db *store.DB) {
	ctx := t.Context()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	clk := useClock(t, db, time.Date(2031, 2, 28, 12, 0, 0, 0, time.UTC))
	at := func(s string) {
		t.Helper()
		when, err := time.ParseInLocation("2006-01-02 15:04", s, berlin)
		if err != nil {
			t.Fatal(err)
		}
		if when.Before(clk.Now()) {
			t.Fatalf("the script goes back in time to %s", s)
		}
		clk.Advance(when.Sub(clk.Now()))
	}
	if err := db.SetSetting(ctx, "omnichannel", `{"time_zone":"Europe/Berlin"}`); err != nil {
		t.Fatal(err)
	}
	anna := newAgent(t, db, "anna-stats@example.com", "Anna", false, true)
	boris := newAgent(t, db, "boris-stats@example.com", "Boris", false, true)
	mustGroup(t, db, "Stats desk", []access.Right{access.Omnichannel, access.Unassigned}, anna.ID, boris.ID)
	shop := mgmtChannel(t, db, cv.Channel{Kind: cv.API, Name: "Shop", Active: true})
	help := mgmtChannel(t, db, cv.Channel{Kind: cv.API, Name: "Help", Active: true})

	// Shop runs in office hours: Monday to Friday 09:00–17:00 in Berlin,
	// closed on Monday 17 March.
	office, err := db.SaveBusinessHours(ctx, sla.Hours{Schedule: schedule.Schedule{Name: "Berlin office", TimeZone: "Europe/Berlin",
		Week: func() []schedule.Interval {
			var w []schedule.Interval
			for d := time.Monday; d <= time.Friday; d++ {
				w = append(w, schedule.Interval{Day: d, Start: schedule.At(9, 0), End: schedule.At(17, 0)})
			}
			return w
		}(),
		Holidays: []schedule.Holiday{{Name: "Spring day", From: schedule.Date{Year: 2031, Month: time.March, Day: 17}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	p := sla.Policy{Name: "Shop", ScheduleID: office.ID, Channels: []int64{shop.ID},
		Targets: map[sla.Target]int64{sla.FirstResponse: 30 * 60, sla.NextResponse: 15 * 60, sla.Resolution: 4 * 3600}}
	p.Normalize()
	if _, err := db.SaveSLAPolicy(ctx, p); err != nil {
		t.Fatal(err)
	}

	anyone := func(cv.Conversation) error { return nil }
	writes := func(ch cv.Channel, client string) int64 {
		t.Helper()
		res, err := db.Ingest(ctx, ch, cv.Inbound{Sender: cv.Sender{ExternalID: client, Name: client}, Text: "Hello from " + client})
		if err != nil {
			t.Fatal(err)
		}
		return res.ConversationID
	}
	take := func(id int64, a team.Agent) {
		t.Helper()
		if _, err := db.Take(ctx, id, a.ID); err != nil {
			t.Fatal(err)
		}
	}
	reply := func(id int64, a team.Agent) {
		t.Helper()
		if _, err := db.AddMessage(ctx, id, anyone, cv.Message{Kind: cv.Reply, AuthorID: a.ID, Body: "Here to help"}); err != nil {
			t.Fatal(err)
		}
	}
	closes := func(id int64, a team.Agent) {
		t.Helper()
		if _, err := db.Finish(ctx, id, anyone, a.ID, false, false); err != nil {
			t.Fatal(err)
		}
	}
	breach := func(want int) {
		t.Helper()
		if n, err := db.Breach(ctx, 100); err != nil || n != want {
			t.Fatalf("Breach at %s = %d, %v; want %d", clk.Now().In(berlin), n, err, want)
		}
	}
	presence := func(a team.Agent, p team.Presence) {
		t.Helper()
		if _, err := db.SetPresence(ctx, a.ID, p, 0); err != nil {
			t.Fatal(err)
		}
	}

	// Anna works Monday 3 March: Online 09:00–12:00, Away 12:00–18:00.
	at("2031-03-03 09:00")
	presence(anna, team.Online)
	// R1, Shop: answered and closed within the hour.
	at("2031-03-03 10:00")
	r1 := writes(shop, "r1")
	at("2031-03-03 10:05")
	take(r1, anna)
	at("2031-03-03 10:15")
	reply(r1, anna) // first reply 10 min after taking it
	at("2031-03-03 10:20")
	writes(shop, "r1")
	at("2031-03-03 10:26")
	reply(r1, anna) // answered in 6 min
	at("2031-03-03 10:40")
	closes(r1, anna)
	at("2031-03-03 12:00")
	presence(anna, team.Away)
	at("2031-03-03 18:00")
	presence(anna, team.Offline)

	// R2, Shop: arrives Friday 16:50, answered Monday 09:10.
	at("2031-03-07 16:50")
	r2 := writes(shop, "r2")
	at("2031-03-07 16:55")
	take(r2, boris)
	at("2031-03-10 09:10")
	reply(r2, boris)
	at("2031-03-10 09:30")
	closes(r2, boris)

	// R3, Shop: arrives on the holiday; its first response falls due
	// Tuesday 09:30 and is breached then.
	at("2031-03-17 10:00")
	r3 := writes(shop, "r3")
	at("2031-03-18 09:29")
	breach(0)
	at("2031-03-18 09:30")
	breach(1)
	at("2031-03-18 09:40")
	take(r3, anna)
	at("2031-03-18 09:50")
	reply(r3, anna)
	at("2031-03-18 10:00")
	closes(r3, anna)

	// R4, Help (the default policy, 10 minutes round the clock): nobody
	// answers on Saturday; Anna closes it unanswered.
	at("2031-03-22 12:00")
	r4 := writes(help, "r4")
	at("2031-03-22 12:10")
	breach(1)
	at("2031-03-22 12:30")
	closes(r4, anna)

	// R5, Help: Anna answers, then transfers to Boris, who answers the
	// client's next message and closes.
	at("2031-03-24 14:00")
	r5 := writes(help, "r5")
	at("2031-03-24 14:01")
	take(r5, anna)
	at("2031-03-24 14:03")
	reply(r5, anna)
	at("2031-03-24 14:05")
	if _, err := db.Transfer(ctx, r5, anyone, anna.ID, boris.ID, ""); err != nil {
		t.Fatal(err)
	}
	at("2031-03-24 14:06")
	writes(help, "r5")
	at("2031-03-24 14:10")
	reply(r5, boris)
	at("2031-03-24 14:20")
	closes(r5, boris)

	// R6, Help: the same client back the next morning (reopened); answered,
	// then the client's question stays open.
	at("2031-03-25 09:00")
	r6 := writes(help, "r5")
	at("2031-03-25 09:01")
	take(r6, boris)
	at("2031-03-25 09:02")
	reply(r6, boris)
	at("2031-03-25 09:05")
	writes(help, "r5")

	// R7, Shop: Friday 16:30 CET, due at 17:00; answered after the weekend
	// and the change to summer time, then the client's next question and
	// the resolution are breached too.
	at("2031-03-28 16:30")
	r7 := writes(shop, "r7")
	at("2031-03-28 16:40")
	take(r7, anna)
	at("2031-03-28 17:00")
	breach(1)
	at("2031-03-31 09:10")
	reply(r7, anna)
	at("2031-03-31 09:20")
	writes(shop, "r7")
	at("2031-03-31 09:35")
	breach(1)
	at("2031-03-31 12:30")
	breach(1)

	// R8, Shop: arrives at 16:50 on the last day: its clocks still run.
	at("2031-03-31 16:50")
	r8 := writes(shop, "r8")
	at("2031-04-02 10:00")

	omni := settings.NewService(db)
	svc := stats.NewService(db, omni)
	svc.Now = clk.Now
	boss := access.Actor{Admin: true}
	march, err := svc.Query(ctx, boss, stats.Input{Period: "custom", From: "2031-03-01", To: "2031-03-31"})
	if err != nil {
		t.Fatal(err)
	}
	wantJSON := func(what string, got, want any) {
		t.Helper()
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if string(g) != string(w) {
			t.Errorf("%s:\n got  %s\n want %s", what, g, w)
		}
	}
	s := func(v float64) *float64 { return &v }
	fig := func(n int, avg, median, p90 float64) stats.Figure {
		return stats.Figure{Count: n, Average: s(avg), Median: s(median), P90: s(p90)}
	}

	t.Run("the period is March in Berlin", func(t *testing.T) {
		if !march.From.Equal(time.Date(2031, 2, 28, 23, 0, 0, 0, time.UTC)) || !march.To.Equal(time.Date(2031, 3, 31, 22, 0, 0, 0, time.UTC)) {
			t.Errorf("period %s – %s", march.From, march.To)
		}
	})

	t.Run("requests, times and SLA compliance", func(t *testing.T) {
		sum, err := svc.Summary(ctx, march)
		if err != nil {
			t.Fatal(err)
		}
		wantJSON("requests", sum.Requests, stats.Requests{New: 8, Closed: 5, Transferred: 1, Missed: 1, Reopened: 1})
		// First replies (from each assignment): R1 600, R2 231300 (Fri 16:55 →
		// Mon 09:10; 15 min in office hours), R3 600, R5 120 (Anna) and 300
		// (Boris), R6 60, R7 228600 (Fri 16:40 CET → Mon 09:10 CEST; 30 min).
		wantJSON("first response", sum.Times[stats.FirstResponse], stats.Times{
			Calendar: fig(7, 461580.0/7, 600, 231300),
			Business: fig(7, 4380.0/7, 600, 1800),
		})
		// Answers to a client's run after assignment: R1 360, R5 240.
		wantJSON("reply", sum.Times[stats.Reply], stats.Times{Calendar: fig(2, 300, 240, 360), Business: fig(2, 300, 240, 360)})
		// Closed: R1 2400, R2 232800 (40 min in office hours), R3 86400 (1 h:
		// the holiday does not count), R4 1800, R5 1200.
		wantJSON("resolution", sum.Times[stats.Resolution], stats.Times{
			Calendar: fig(5, 64920, 2400, 232800),
			Business: fig(5, 2280, 2400, 3600),
		})
		wantJSON("SLA", sum.SLA, map[sla.Target]stats.Compliance{
			sla.FirstResponse: {Met: 4, Breached: 3, InProgress: 1},
			sla.NextResponse:  {Met: 1, Breached: 1},
			sla.Resolution:    {Met: 3, Breached: 1, InProgress: 1},
		})
	})

	t.Run("the breached requests, newest first", func(t *testing.T) {
		list, err := svc.Breaches(ctx, march, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, b := range list {
			got = append(got, fmt.Sprintf("%d %s %v", b.ID, b.Policy, b.Targets))
		}
		want := []string{
			fmt.Sprintf("%d Shop [first_response next_response resolution]", r7),
			fmt.Sprintf("%d Default [first_response]", r4),
			fmt.Sprintf("%d Shop [first_response]", r3),
		}
		if !slices.Equal(got, want) {
			t.Errorf("breached:\n got  %q\n want %q", got, want)
		}
		page, err := svc.Breaches(ctx, march, r4, 10)
		if err != nil || len(page) != 1 || page[0].ID != r3 {
			t.Errorf("the page after %d: %+v, %v", r4, page, err)
		}
	})

	t.Run("per agent: replies, averages and time in each status", func(t *testing.T) {
		rows, err := svc.Agents(ctx, march)
		if err != nil {
			t.Fatal(err)
		}
		// March in Berlin has 743 hours (the clocks go forward on the 30th).
		month := int64(743 * 3600)
		wantJSON("agents", rows, []stats.AgentRow{
			{ID: anna.ID, Name: "Anna", Handled: 4, Replies: 5, FirstResponse: s(229920.0 / 4), Reply: s(360),
				Online: 3 * 3600, Away: 6 * 3600, Offline: month - 9*3600},
			{ID: boris.ID, Name: "Boris", Handled: 3, Replies: 3, FirstResponse: s(231660.0 / 3), Reply: s(240), Offline: month},
		})
	})

	t.Run("Management → Agents shows the same numbers for the same day", func(t *testing.T) {
		day, err := svc.Query(ctx, boss, stats.Input{Period: "custom", From: "2031-03-24", To: "2031-03-24"})
		if err != nil {
			t.Fatal(err)
		}
		rows, err := svc.Agents(ctx, day)
		if err != nil {
			t.Fatal(err)
		}
		floor, err := supervision.NewService(db).Agents(ctx, boss, time.Date(2031, 3, 24, 20, 0, 0, 0, berlin))
		if err != nil {
			t.Fatal(err)
		}
		today := map[int64]supervision.Today{}
		for _, a := range floor {
			today[a.ID] = a.Today
		}
		for _, r := range rows {
			wantJSON(r.Name+" on 24 March", supervision.Today{FirstReplySeconds: r.FirstResponse, ReplySeconds: r.Reply, Replies: r.Replies}, today[r.ID])
		}
		wantJSON("Anna on 24 March", today[anna.ID], supervision.Today{FirstReplySeconds: s(120), Replies: 1})
		wantJSON("Boris on 24 March", today[boris.ID], supervision.Today{FirstReplySeconds: s(300), ReplySeconds: s(240), Replies: 1})
	})

	t.Run("load: heat map, days and channels", func(t *testing.T) {
		load, err := svc.Load(ctx, march)
		if err != nil {
			t.Fatal(err)
		}
		if len(load.Days) != 31 || load.Days[0].Date != "2031-03-01" || load.Days[30].Date != "2031-03-31" {
			t.Fatalf("days: %+v", load.Days)
		}
		perDay := map[string][2]int{}
		for _, d := range load.Days {
			if d.New+d.Closed > 0 {
				perDay[d.Date] = [2]int{d.New, d.Closed}
			}
		}
		wantJSON("requests per day", perDay, map[string][2]int{
			"2031-03-03": {1, 1}, "2031-03-07": {1, 0}, "2031-03-10": {0, 1}, "2031-03-17": {1, 0}, "2031-03-18": {0, 1},
			"2031-03-22": {1, 1}, "2031-03-24": {1, 1}, "2031-03-25": {1, 0}, "2031-03-28": {1, 0}, "2031-03-31": {1, 0},
		})
		cells := map[string]int{}
		for d, row := range load.Heatmap {
			for h, n := range row {
				if n > 0 {
					cells[fmt.Sprintf("%s %02d", stats.Weekdays[d], h)] = n
				}
			}
		}
		// Local hours, before and after the change to summer time.
		wantJSON("heat map", cells, map[string]int{
			"Monday 10": 2, "Friday 16": 2, "Saturday 12": 1, "Monday 14": 1, "Tuesday 09": 1, "Monday 16": 1,
		})
		var got []string
		for _, c := range load.Channels {
			fr := "-"
			if c.FirstResponse != nil {
				fr = fmt.Sprint(math.Round(*c.FirstResponse))
			}
			got = append(got, fmt.Sprintf("%s new %d closed %d missed %d first %s", c.Name, c.New, c.Closed, c.Missed, fr))
		}
		want := []string{
			"Shop new 5 closed 3 missed 0 first 115275", // (600+231300+600+228600)/4
			"Help new 3 closed 2 missed 1 first 160",    // (120+300+60)/3
		}
		if !slices.Equal(got, want) {
			t.Errorf("channels:\n got  %q\n want %q", got, want)
		}
	})

	t.Run("filters narrow every figure", func(t *testing.T) {
		q := march
		q.AgentID = boris.ID
		sum, err := svc.Summary(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		// Boris holds R2, R5 and R6; R5 was transferred to him, not by him.
		wantJSON("Boris's requests", sum.Requests, stats.Requests{New: 3, Closed: 2, Reopened: 1})
		if f := sum.Times[stats.FirstResponse].Calendar; f.Count != 3 || *f.Median != 300 {
			t.Errorf("Boris's first responses: %+v", f)
		}
		q = march
		q.ChannelID = help.ID
		sum, err = svc.Summary(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		wantJSON("Help's requests", sum.Requests, stats.Requests{New: 3, Closed: 2, Transferred: 1, Missed: 1, Reopened: 1})
		wantJSON("Help's SLA", sum.SLA[sla.FirstResponse], stats.Compliance{Met: 2, Breached: 1})
	})

	t.Run("bad periods and filters name the field", func(t *testing.T) {
		for _, c := range []struct {
			in    stats.Input
			field string
		}{
			{stats.Input{Period: "custom", From: "2031-03-31", To: "2031-03-01"}, "to"},
			{stats.Input{Period: "custom", From: "2031-03-01"}, "to"},
			{stats.Input{Period: "custom", From: "31/03/2031", To: "2031-03-31"}, "from"},
			{stats.Input{Period: "custom", From: "2030-01-01", To: "2031-03-31"}, "to"},
			{stats.Input{Period: "fortnight"}, "period"},
			{stats.Input{Period: "7d", Channel: "shop"}, "channel_id"},
			{stats.Input{Period: "7d", Agent: "-3"}, "agent_id"},
		} {
			_, err := svc.Query(ctx, boss, c.in)
			wantError(t, fmt.Sprintf("%+v", c.in), err, errs.ErrInvalid, c.field)
		}
		if _, err := svc.Query(ctx, access.Actor{AgentID: anna.ID, Granted: []access.Right{access.Omnichannel}}, stats.Input{}); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("an agent without management: %v", err)
		}
	})
	if c, err := db.Conversation(ctx, r8); err != nil || c.SLA.Due[0] == 0 {
		t.Errorf("R8's first response clock should still run: %+v, %v", c.SLA, err)
	}
	if c, err := db.Conversation(ctx, r6); err != nil || !c.Open() {
		t.Errorf("R6 should still be open: %v", err)
	}
}
