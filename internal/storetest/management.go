package storetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-hq/switchboard/internal/access"
	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/dispatch"
	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/store"
	"github.com/switchboard-hq/switchboard/internal/supervision"
	"github.com/switchboard-hq/switchboard/internal/team"
)

// Management is the behaviour suite of Management → Active chats and
// Agents: the store's SQL through the supervision service. The active
// chats run first, on a database with no other request.
func Management(t *testing.T, db *store.DB) {
	svc := supervision.NewService(db)
	boss := access.Actor{Admin: true}
	anyone := func(cv.Conversation) error { return nil }

	t.Run("active chats come in each order, filtered, every row once across pages", func(t *testing.T) {
		ctx := t.Context()
		clk := useClock(t, db, time.Date(2030, 5, 6, 7, 0, 0, 0, time.UTC))
		carl := newAgent(t, db, "carl@example.com", "Carl", false, true)
		sales, err := db.CreateDepartment(ctx, team.Department{Name: "Sales"})
		if err != nil {
			t.Fatal(err)
		}
		support, err := db.CreateDepartment(ctx, team.Department{Name: "Support"})
		if err != nil {
			t.Fatal(err)
		}
		channels := []cv.Channel{
			mgmtChannel(t, db, cv.Channel{Kind: cv.API, Name: "shop", Active: true, DepartmentID: sales.ID}),
			mgmtChannel(t, db, cv.Channel{Kind: cv.Telegram, Name: "bot", Active: true, DepartmentID: support.ID}),
			mgmtChannel(t, db, cv.Channel{Kind: cv.API, Name: "plain", Active: true}),
		}
		var ids []int64
		for i := range 14 {
			// Pairs of requests share their creation time: the id breaks the tie.
			if i%2 == 0 {
				clk.Advance(time.Minute)
			}
			res, err := db.Ingest(ctx, channels[i%3], cv.Inbound{Sender: cv.Sender{ExternalID: fmt.Sprintf("chats-%d", i), Name: fmt.Sprintf("Client %d", i)}, Text: "hello"})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, res.ConversationID)
		}
		// Later activity in an order of its own; some taken, one closed, one
		// moved to the classic interface.
		for _, i := range []int{5, 0, 9, 12, 3} {
			clk.Advance(time.Second)
			if _, err := db.Ingest(ctx, channels[i%3], cv.Inbound{Sender: cv.Sender{ExternalID: fmt.Sprintf("chats-%d", i)}, Text: "still there?"}); err != nil {
				t.Fatal(err)
			}
		}
		for _, i := range []int{1, 4, 9, 10, 13} {
			clk.Advance(time.Second)
			if _, err := db.Take(ctx, ids[i], carl.ID); err != nil {
				t.Fatal(err)
			}
		}
		clk.Advance(time.Second)
		if _, err := db.AddMessage(ctx, ids[4], anyone, cv.Message{Kind: cv.Reply, AuthorID: carl.ID, Body: "on it"}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Finish(ctx, ids[10], anyone, carl.ID, false, false); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Finish(ctx, ids[13], anyone, carl.ID, true, false); err != nil {
			t.Fatal(err)
		}
		var open []cv.Conversation
		for _, id := range ids {
			c, err := db.Conversation(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if c.Open() && c.Mode == cv.Live {
				open = append(open, c)
			}
		}
		if len(open) != 12 {
			t.Fatalf("%d open live requests, want 12", len(open))
		}

		byTime := func(at func(cv.Conversation) time.Time, desc bool) func(a, b cv.Conversation) int {
			return func(a, b cv.Conversation) int {
				c := at(a).Compare(at(b))
				if c == 0 {
					c = cmp.Compare(a.ID, b.ID)
				}
				if desc {
					return -c
				}
				return c
			}
		}
		created := func(c cv.Conversation) time.Time { return c.CreatedAt }
		active := func(c cv.Conversation) time.Time { return c.LastMessageAt }
		orders := map[supervision.Sort]func(a, b cv.Conversation) int{
			"":                       byTime(created, false),
			supervision.SortDuration: byTime(created, false),
			supervision.SortCreated:  byTime(created, true),
			supervision.SortActivity: byTime(active, true),
		}
		filters := []struct {
			name string
			q    supervision.ChatQuery
			keep func(cv.Conversation) bool
		}{
			{"all", supervision.ChatQuery{}, func(cv.Conversation) bool { return true }},
			{"department", supervision.ChatQuery{DepartmentID: sales.ID}, func(c cv.Conversation) bool { return c.DepartmentID == sales.ID }},
			{"channel", supervision.ChatQuery{Kind: cv.API}, func(c cv.Conversation) bool { return c.ChannelKind == cv.API }},
			{"channel and department", supervision.ChatQuery{Kind: cv.Telegram, DepartmentID: support.ID}, func(c cv.Conversation) bool {
				return c.ChannelKind == cv.Telegram && c.DepartmentID == support.ID
			}},
			{"nothing", supervision.ChatQuery{Kind: cv.Telegram, DepartmentID: sales.ID}, func(cv.Conversation) bool { return false }},
		}
		for sort, order := range orders {
			for _, f := range filters {
				want := []int64{}
				for _, c := range slices.SortedFunc(slices.Values(open), order) {
					if f.keep(c) {
						want = append(want, c.ID)
					}
				}
				for _, limit := range []int{3, 0} {
					q := f.q
					q.Sort, q.Limit = sort, limit
					var got []int64
					for page := 0; ; page++ {
						p, err := svc.ActiveChats(ctx, boss, q)
						if err != nil {
							t.Fatalf("sort %q, %s, page %d: %v", sort, f.name, page, err)
						}
						if len(p.Chats) > supervision.ClampLimit(limit) || page > len(open) {
							t.Fatalf("sort %q, %s: page %d has %d rows (limit %d)", sort, f.name, page, len(p.Chats), limit)
						}
						for _, c := range p.Chats {
							got = append(got, c.ID)
						}
						if p.Next == "" {
							break
						}
						if len(p.Chats) == 0 {
							t.Fatalf("sort %q, %s: an empty page with a next cursor", sort, f.name)
						}
						q.Cursor = p.Next
					}
					if !slices.Equal(got, want) {
						t.Errorf("sort %q, %s, limit %d: got %v, want %v", sort, f.name, limit, got, want)
					}
				}
			}
		}

		p, err := svc.ActiveChats(ctx, boss, supervision.ChatQuery{Sort: supervision.SortActivity, Limit: 1})
		if err != nil || len(p.Chats) != 1 {
			t.Fatalf("first chat by activity: %+v, %v", p, err)
		}
		c := p.Chats[0]
		if c.ID != ids[4] || c.AssigneeName != "Carl" || c.DepartmentName != "Support" || c.ClientName != "Client 4" ||
			c.ChannelKind != cv.Telegram || c.LastMessageKind != cv.Reply || !c.LastMessageAt.Equal(clk.Now()) {
			t.Errorf("latest chat = %+v, want request %d of Client 4 (Support, telegram) answered by Carl at %s", c, ids[4], clk.Now())
		}
		p, err = svc.ActiveChats(ctx, boss, supervision.ChatQuery{Sort: supervision.SortDuration, Limit: 1})
		if err != nil || len(p.Chats) != 1 || p.Chats[0].ID != ids[0] || p.Chats[0].AssigneeName != "" || p.Chats[0].LastMessageKind != cv.FromClient {
			t.Errorf("oldest chat = %+v, %v; want request %d, unassigned, the client wrote last", p, err, ids[0])
		}

		bad := []struct {
			q     supervision.ChatQuery
			field string
		}{
			{supervision.ChatQuery{Sort: "longest"}, "sort"},
			{supervision.ChatQuery{Cursor: "not a cursor"}, "cursor"},
			{supervision.ChatQuery{Sort: supervision.SortActivity, Cursor: p.Next}, "cursor"}, // a duration cursor
			{supervision.ChatQuery{Kind: "fax"}, "channel"},
		}
		for _, b := range bad {
			_, err := svc.ActiveChats(ctx, boss, b.q)
			wantError(t, fmt.Sprintf("ActiveChats(%+v)", b.q), err, errs.ErrInvalid, b.field)
		}
		for _, actor := range []access.Actor{
			{AgentID: carl.ID, Granted: []access.Right{access.Omnichannel, access.Unassigned, access.Settings}},
			{AgentID: carl.ID, Granted: []access.Right{access.Management}}, // nested under omnichannel
		} {
			if _, err := svc.ActiveChats(ctx, actor, supervision.ChatQuery{}); !errors.Is(err, errs.ErrForbidden) {
				t.Errorf("ActiveChats as %+v: %v, want forbidden", actor.Granted, err)
			}
			if _, err := svc.Agents(ctx, actor, clk.Now()); !errors.Is(err, errs.ErrForbidden) {
				t.Errorf("Agents as %+v: %v, want forbidden", actor.Granted, err)
			}
		}
		if _, err := svc.ActiveChats(ctx, access.Actor{AgentID: carl.ID, Granted: []access.Right{access.Omnichannel, access.Management}}, supervision.ChatQuery{}); err != nil {
			t.Errorf("ActiveChats as a supervisor: %v", err)
		}
	})

	t.Run("today's metrics follow their definitions on a scripted day", func(t *testing.T) {
		ctx := t.Context()
		day := time.Date(2025, 1, 15, 0, 0, 0, 0, time.UTC)
		clk := useClock(t, db, day.Add(-time.Hour))
		at := func(d time.Duration) { clk.Advance(day.Add(d).Sub(clk.Now())) }
		hms := func(h, m, s int) time.Duration {
			return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second
		}

		root := newAgent(t, db, "root@example.com", "Root", true, true)
		anna := newAgent(t, db, "anna@example.com", "Anna", false, true)
		boris := newAgent(t, db, "boris@example.com", "Boris", false, true)
		sam := newAgent(t, db, "sam@example.com", "Sam", false, true)
		mona := newAgent(t, db, "mona@example.com", "Mona", false, true)
		ivan := newAgent(t, db, "ivan@example.com", "Ivan", false, false)
		support := mustGroup(t, db, "Support", []access.Right{access.Omnichannel, access.Unassigned}, anna.ID, boris.ID, ivan.ID)
		vip := mustGroup(t, db, "VIP", []access.Right{access.Omnichannel}, anna.ID)
		night := mustGroup(t, db, "Night", []access.Right{access.Omnichannel}, boris.ID)
		mustGroup(t, db, "Supervisors", []access.Right{access.Omnichannel, access.Management}, sam.ID)
		mustGroup(t, db, "Watchers", []access.Right{access.Management}, mona.ID) // no omnichannel: not at work
		for _, r := range []dispatch.Rule{
			{GroupID: support.ID, Enabled: true, Capacity: 3},
			{GroupID: vip.ID, Enabled: true, Capacity: 5},
			{GroupID: night.ID, Enabled: false, Capacity: 10}, // off: no capacity
		} {
			if _, err := db.SetDispatchRule(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		lunch, err := db.CreateAwayReason(ctx, "Lunch")
		if err != nil {
			t.Fatal(err)
		}
		ch := mgmtChannel(t, db, cv.Channel{Kind: cv.API, Name: "metrics", Active: true})
		requests := map[string]int64{}
		client := func(who string) {
			t.Helper()
			res, err := db.Ingest(ctx, ch, cv.Inbound{Sender: cv.Sender{ExternalID: "metrics-" + who, Name: who}, Text: "question from " + who})
			if err != nil {
				t.Fatal(err)
			}
			requests[who] = res.ConversationID
		}
		write := func(who string, kind cv.MessageKind, agent team.Agent) {
			t.Helper()
			if _, err := db.AddMessage(ctx, requests[who], anyone, cv.Message{Kind: kind, AuthorID: agent.ID, Body: string(kind)}); err != nil {
				t.Fatal(err)
			}
		}
		take := func(who string, agent team.Agent) {
			t.Helper()
			if _, err := db.Take(ctx, requests[who], agent.ID); err != nil {
				t.Fatal(err)
			}
		}
		statuses, err := db.Statuses(ctx)
		if err != nil {
			t.Fatal(err)
		}
		waiting := statuses[slices.IndexFunc(statuses, func(s cv.Status) bool { return s.Class == cv.ClassWaiting })].ID

		// Yesterday: Anna takes x0 and answers it (a first reply of yesterday).
		at(-hms(1, 0, 0))
		client("x0")
		at(-hms(0, 59, 0))
		take("x0", anna)
		at(-hms(0, 57, 0))
		write("x0", cv.Reply, anna)
		// 07:30 the client of x0 writes again; Anna answers in 2 minutes.
		at(hms(7, 30, 0))
		client("x0")
		at(hms(7, 32, 0))
		write("x0", cv.Reply, anna)
		// x1 waits in the queue (its two messages are before the take, so no
		// reply time counts them), Anna takes it at 09:02, writes a note and
		// answers a minute after taking it.
		at(hms(9, 0, 0))
		client("x1")
		at(hms(9, 0, 30))
		client("x1")
		at(hms(9, 2, 0))
		take("x1", anna)
		at(hms(9, 2, 30))
		write("x1", cv.Note, anna)
		at(hms(9, 3, 0))
		write("x1", cv.Reply, anna)
		// A run of two client messages answered 60 s after its first; a
		// second reply answers nothing.
		at(hms(9, 10, 0))
		client("x1")
		at(hms(9, 10, 20))
		client("x1")
		at(hms(9, 11, 0))
		write("x1", cv.Reply, anna)
		at(hms(9, 11, 30))
		write("x1", cv.Reply, anna)
		// Anna transfers x1 to Boris: his first reply counts from the transfer.
		at(hms(9, 20, 0))
		if _, err := db.Transfer(ctx, requests["x1"], anyone, anna.ID, boris.ID, "VIP client"); err != nil {
			t.Fatal(err)
		}
		at(hms(9, 21, 0))
		client("x1")
		at(hms(9, 25, 0))
		write("x1", cv.Reply, boris)
		// Boris takes x2 40 s after it came, answers, sets a status (an event
		// line changes nothing), and answers the next question in 45 s.
		at(hms(10, 0, 0))
		client("x2")
		at(hms(10, 0, 40))
		take("x2", boris)
		at(hms(10, 1, 0))
		write("x2", cv.Reply, boris)
		at(hms(10, 2, 0))
		if _, err := db.SetStatus(ctx, requests["x2"], anyone, boris.ID, waiting); err != nil {
			t.Fatal(err)
		}
		at(hms(10, 5, 0))
		client("x2")
		at(hms(10, 5, 45))
		write("x2", cv.Reply, boris)
		// Sam, a supervisor, answers in Boris's chat: a reply, no times.
		at(hms(10, 6, 0))
		client("x2")
		at(hms(10, 7, 0))
		write("x2", cv.Reply, sam)
		at(hms(10, 8, 0))
		write("x2", cv.Note, boris)
		// A closed request and a classic one are no active chats.
		at(hms(11, 0, 0))
		client("x3")
		client("x4")
		take("x3", anna)
		take("x4", boris)
		if _, err := db.Finish(ctx, requests["x3"], anyone, anna.ID, false, false); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Finish(ctx, requests["x4"], anyone, boris.ID, true, false); err != nil {
			t.Fatal(err)
		}
		// Anna goes to lunch; her tab vouches for her a minute more. Boris's
		// tab went away.
		at(hms(12, 0, 0))
		if _, err := db.SetPresence(ctx, anna.ID, team.Away, lunch.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SetPresence(ctx, boris.ID, team.Online, 0); err != nil {
			t.Fatal(err)
		}
		now := day.Add(hms(20, 0, 0))
		if err := db.MarkConnected(ctx, anna.ID, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := db.MarkConnected(ctx, boris.ID, now.Add(-time.Second)); err != nil {
			t.Fatal(err)
		}
		at(hms(20, 0, 0))

		type row struct {
			replies      int
			first, reply any // float64 seconds, or nil
		}
		// Each check asks at every given time: the day's replies are the
		// same whenever it is asked in that day (some of them settled and
		// kept by the service, the latest computed afresh).
		check := func(zone string, want map[int64]row, nows ...time.Time) {
			t.Helper()
			if zone != "" {
				if err := db.SetSetting(ctx, "omnichannel", `{"merge_replies":false,"time_zone":"`+zone+`","grace_seconds":120}`); err != nil {
					t.Fatal(err)
				}
			}
			for _, now := range nows {
				agents, err := svc.Agents(ctx, boss, now)
				if err != nil {
					t.Fatal(err)
				}
				var names []string
				for _, a := range agents {
					names = append(names, a.Name)
					w, ok := want[a.ID]
					if !ok {
						continue
					}
					got := row{a.Today.Replies, optSeconds(a.Today.FirstReplySeconds), optSeconds(a.Today.ReplySeconds)}
					if got != w {
						t.Errorf("time zone %q, at %s: %s's day = %+v, want %+v", zone, now.Format(time.TimeOnly), a.Name, got, w)
					}
				}
				if want := []string{"Anna", "Boris", "Root", "Sam"}; !slices.Equal(names, want) {
					t.Errorf("agents at work = %v, want %v", names, want)
				}
			}
		}
		utc := map[int64]row{
			anna.ID:  {4, 60.0, 90.0},
			boris.ID: {3, 160.0, 142.5},
			sam.ID:   {1, nil, nil},
			root.ID:  {0, nil, nil},
		}
		check("", utc, day.Add(hms(1, 0, 0)), day.Add(hms(9, 12, 0)), day.Add(hms(10, 6, 30)), now, now, day.Add(hms(10, 0, 0)), now)
		// 08:00 UTC is midnight in Los Angeles: Anna's 07:32 reply was yesterday.
		check("America/Los_Angeles", map[int64]row{
			anna.ID:  {3, 60.0, 60.0},
			boris.ID: {3, 160.0, 142.5},
		}, now)
		// 20:00 UTC is 05:00 of the next day in Tokyo: nothing yet today.
		check("Asia/Tokyo", map[int64]row{
			anna.ID:  {0, nil, nil},
			boris.ID: {0, nil, nil},
		}, now)
		check("Mars/Olympus_Mons", utc, now) // not a time zone: UTC

		agents, err := svc.Agents(ctx, boss, now)
		if err != nil {
			t.Fatal(err)
		}
		find := func(id int64) supervision.Agent {
			i := slices.IndexFunc(agents, func(a supervision.Agent) bool { return a.ID == id })
			if i < 0 {
				t.Fatalf("agent %d is not at work", id)
			}
			return agents[i]
		}
		a, b, r := find(anna.ID), find(boris.ID), find(root.ID)
		noon := day.Add(hms(12, 0, 0))
		if a.Presence != team.Away || a.Reason != "Lunch" || !a.Since.Equal(noon) || !a.Connected || a.ActiveChats != 1 || a.Capacity != 5 ||
			a.LastReplyAt == nil || !a.LastReplyAt.Equal(day.Add(hms(9, 11, 30))) {
			t.Errorf("Anna = %+v, want away for Lunch since %s, connected, 1 chat, capacity 5, last reply at 09:11:30", a, noon)
		}
		if b.Presence != team.Online || b.Reason != "" || b.Connected || b.ActiveChats != 2 || b.Capacity != 3 ||
			b.LastReplyAt == nil || !b.LastReplyAt.Equal(day.Add(hms(10, 5, 45))) {
			t.Errorf("Boris = %+v, want online, disconnected, 2 chats, capacity 3, last reply at 10:05:45", b)
		}
		if r.Presence != team.Offline || r.Connected || r.ActiveChats != 0 || r.Capacity != 0 || r.LastReplyAt != nil {
			t.Errorf("Root = %+v, want offline with nothing", r)
		}
	})
}

func optSeconds(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}

func mgmtChannel(t *testing.T, db *store.DB, c cv.Channel) cv.Channel {
	t.Helper()
	c, err := db.CreateChannel(context.Background(), c, "")
	if err != nil {
		t.Fatalf("create channel %s: %v", c.Name, err)
	}
	return c
}
