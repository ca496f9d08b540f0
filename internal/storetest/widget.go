package storetest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/switchboard-hq/switchboard/internal/access"
	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/store"
	"github.com/switchboard-hq/switchboard/internal/team"
	"github.com/switchboard-hq/switchboard/internal/widget"
)

// newVisitAfter is the silence after which the widget starts a new visit.
const newVisitAfter = 30 * time.Minute

// Widget is the behaviour suite of the website chat's storage: visitors and
// their visits, the scripts that route pages, who is online, and what a
// visitor reads of their requests. The subtests share db; each works on the
// visitors it creates, and each sets its own clock, later than the last.
func Widget(t *testing.T, db *store.DB) {
	ctx := context.Background()
	ch, err := db.CreateChannel(ctx, cv.Channel{Kind: cv.Widget, Name: "Website", Active: true, Widget: &cv.WidgetSettings{
		Origins: []string{"https://shop.example.com"}, Appearance: cv.DefaultAppearance, IdentitySecret: "secret"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	agent := newAgent(t, db, "widget-agent@example.com", "Anna", true, true)
	newVisitor := func(t *testing.T, tokenHash string) widget.Visitor {
		t.Helper()
		now := db.Now()
		v, err := db.CreateVisitor(ctx, widget.Visitor{ChannelID: ch.ID, VisitStartedAt: now, LastSeenAt: now}, tokenHash)
		if err != nil {
			t.Fatalf("create visitor %s: %v", tokenHash, err)
		}
		return v
	}
	visit := func(t *testing.T, v widget.Visitor, pageView bool) widget.Visitor {
		t.Helper()
		got, err := db.RecordVisit(ctx, v, pageView, newVisitAfter)
		if err != nil {
			t.Fatalf("record visit of %d: %v", v.ID, err)
		}
		return got
	}
	// write sends a visitor's message through the one ingest path.
	write := func(t *testing.T, v widget.Visitor, text string) cv.IngestResult {
		t.Helper()
		res, err := db.Ingest(ctx, ch, cv.Inbound{Text: text, Sender: cv.Sender{ExternalID: strconv.FormatInt(v.ID, 10), Name: fmt.Sprintf("Visitor %d", v.ID)}})
		if err != nil {
			t.Fatalf("visitor %d writes %q: %v", v.ID, text, err)
		}
		return res
	}
	anyRequest := func(cv.Conversation) error { return nil }

	t.Run("a visitor is found by the hash of their token and by nothing else", func(t *testing.T) {
		clk := useClock(t, db, time.Date(2032, 1, 1, 10, 0, 0, 0, time.UTC))
		v := newVisitor(t, "token-hash-of-ann")
		if v.ID <= 0 {
			t.Fatalf("CreateVisitor gave id %d", v.ID)
		}
		got, err := db.VisitorByToken(ctx, "token-hash-of-ann")
		if err != nil || got.ID != v.ID || got.ChannelID != ch.ID || got.PagesViewed != 0 || !got.LastSeenAt.Equal(clk.Now()) {
			t.Errorf("VisitorByToken = %+v, %v; want visitor %d of channel %d, seen %v", got, err, v.ID, ch.ID, clk.Now())
		}
		for _, hash := range []string{"token-hash-of-bob", "", "TOKEN-HASH-OF-ANN"} {
			_, err := db.VisitorByToken(ctx, hash)
			wantError(t, fmt.Sprintf("VisitorByToken(%q)", hash), err, errs.ErrNotFound, "")
		}
		if _, err := db.CreateVisitor(ctx, widget.Visitor{ChannelID: ch.ID, VisitStartedAt: clk.Now(), LastSeenAt: clk.Now()}, "token-hash-of-ann"); err == nil {
			t.Error("a second visitor was stored with the same token hash")
		}
		_, err = db.RecordVisit(ctx, widget.Visitor{ID: 987654, PageURL: "https://shop.example.com/"}, true, newVisitAfter)
		wantError(t, "RecordVisit of an unknown visitor", err, errs.ErrNotFound, "")
	})

	t.Run("page views count, heartbeats do not, the referrer stays for the visit, and a silence starts a new visit", func(t *testing.T) {
		clk := useClock(t, db, time.Date(2032, 2, 1, 10, 0, 0, 0, time.UTC))
		start := clk.Now()
		v := newVisitor(t, "token-hash-of-visits")
		v.Name, v.Email, v.Verified, v.IP, v.Country = "Ann", "ann@example.com", true, "203.0.113.7", "NL"
		v.PageURL, v.PageTitle, v.Referrer = "https://shop.example.com/", "Shop", "https://search.example/?q=shoes"
		steps := []struct {
			name      string
			after     time.Duration
			page      string
			referrer  string
			pageView  bool
			wantPages int
			wantRef   string
			wantStart time.Time
		}{
			{"the first page", 0, "https://shop.example.com/", "https://search.example/?q=shoes", true, 1, "https://search.example/?q=shoes", start},
			{"a second page without a referrer", 10 * time.Second, "https://shop.example.com/shoes", "", true, 2, "https://search.example/?q=shoes", start},
			{"a heartbeat on that page", 20 * time.Second, "https://shop.example.com/shoes", "", false, 2, "https://search.example/?q=shoes", start},
			{"a page reached from another site within the visit", time.Minute, "https://shop.example.com/boots", "https://blog.example/", true, 3, "https://search.example/?q=shoes", start},
			{"a heartbeat 29 minutes later", 29 * time.Minute, "https://shop.example.com/boots", "", false, 3, "https://search.example/?q=shoes", start},
			{"a page after a silence longer than the gap", 31 * time.Minute, "https://shop.example.com/", "https://mail.example/", true, 1, "https://mail.example/", start.Add(10*time.Second + 20*time.Second + time.Minute + 29*time.Minute + 31*time.Minute)},
		}
		for _, s := range steps {
			clk.Advance(s.after)
			v.PageURL, v.Referrer = s.page, s.referrer
			got := visit(t, v, s.pageView)
			if got.PagesViewed != s.wantPages || got.Referrer != s.wantRef || !got.VisitStartedAt.Equal(s.wantStart) || !got.LastSeenAt.Equal(clk.Now()) || got.PageURL != s.page {
				t.Errorf("%s: pages %d, referrer %q, visit from %v, seen %v, on %q; want %d, %q, %v, %v, %q",
					s.name, got.PagesViewed, got.Referrer, got.VisitStartedAt, got.LastSeenAt, got.PageURL, s.wantPages, s.wantRef, s.wantStart, clk.Now(), s.page)
			}
		}
		got, err := db.VisitorByToken(ctx, "token-hash-of-visits")
		want := widget.Visitor{ID: v.ID, ChannelID: ch.ID, Name: "Ann", Email: "ann@example.com", Verified: true, IP: "203.0.113.7", Country: "NL",
			PageURL: "https://shop.example.com/", PageTitle: "Shop", Referrer: "https://mail.example/", PagesViewed: 1,
			VisitStartedAt: clk.Now(), LastSeenAt: clk.Now()}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("stored visitor\n%+v, %v\nwant\n%+v", got, err, want)
		}
	})

	t.Run("the visitors list shows who was seen lately, latest first, with the request of those chatting", func(t *testing.T) {
		clk := useClock(t, db, time.Date(2033, 1, 1, 10, 0, 0, 0, time.UTC))
		gone := visit(t, newVisitor(t, "token-hash-of-gone"), true)
		clk.Advance(5 * time.Minute)
		chatting := newVisitor(t, "token-hash-of-chatting")
		chatting.PageURL = "https://shop.example.com/cart"
		chatting = visit(t, chatting, true)
		clk.Advance(30 * time.Second)
		browsing := newVisitor(t, "token-hash-of-browsing")
		browsing.PageURL = "https://shop.example.com/"
		browsing = visit(t, browsing, true)
		req := write(t, chatting, "Is shipping free?")

		list, err := db.Visitors(ctx, clk.Now().Add(-widget.OnSiteWindow), 500)
		if err != nil {
			t.Fatal(err)
		}
		type row struct {
			ID, Request int64
			Page        string
		}
		var rows []row
		for _, v := range list {
			rows = append(rows, row{v.ID, v.ConversationID, v.PageURL})
		}
		want := []row{{browsing.ID, 0, "https://shop.example.com/"}, {chatting.ID, req.ConversationID, "https://shop.example.com/cart"}}
		if !reflect.DeepEqual(rows, want) {
			t.Errorf("Visitors = %+v, want %+v (and not visitor %d, gone 5 minutes ago)", rows, want, gone.ID)
		}
		if list, _ := db.Visitors(ctx, clk.Now().Add(-widget.OnSiteWindow), 1); len(list) != 1 || list[0].ID != browsing.ID {
			t.Errorf("Visitors with limit 1 = %+v, want only the latest", list)
		}

		client, err := db.VisitorClient(ctx, chatting.ID)
		if c, _ := db.Conversation(ctx, req.ConversationID); err != nil || client == 0 || client != c.ClientID {
			t.Errorf("VisitorClient of the chatting visitor = %d, %v; want the request's client %d", client, err, c.ClientID)
		}
		if client, err := db.VisitorClient(ctx, browsing.ID); err != nil || client != 0 {
			t.Errorf("VisitorClient of a visitor who never wrote = %d, %v; want 0", client, err)
		}
		if ids, err := db.VisitorsOfClient(ctx, client); err != nil || !slices.Equal(ids, []int64{chatting.ID}) {
			t.Errorf("VisitorsOfClient = %v, %v; want [%d]", ids, err, chatting.ID)
		}

		if _, err := db.Finish(ctx, req.ConversationID, anyRequest, agent.ID, false, false); err != nil {
			t.Fatal(err)
		}
		list, _ = db.Visitors(ctx, clk.Now().Add(-widget.OnSiteWindow), 500)
		for _, v := range list {
			if v.ConversationID != 0 {
				t.Errorf("after the request was closed visitor %d still shows request %d", v.ID, v.ConversationID)
			}
		}
	})

	t.Run("scripts are tried in the order the administrator sets", func(t *testing.T) {
		useClock(t, db, time.Date(2034, 1, 1, 10, 0, 0, 0, time.UTC))
		billing, err := db.CreateDepartment(ctx, team.Department{Name: "Billing"})
		if err != nil {
			t.Fatal(err)
		}
		desk := mustGroup(t, db, "Billing desk", []access.Right{access.Omnichannel})
		create := func(s widget.Script) widget.Script {
			t.Helper()
			got, err := db.CreateScript(ctx, s)
			if err != nil {
				t.Fatalf("create script %s: %v", s.Name, err)
			}
			return got
		}
		list := func() []widget.Script {
			t.Helper()
			got, err := db.Scripts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		names := func(list []widget.Script) []string {
			out := []string{}
			for _, s := range list {
				out = append(out, s.Name)
			}
			return out
		}
		positionsRise := func(list []widget.Script) bool {
			for i := 1; i < len(list); i++ {
				if list[i].Position <= list[i-1].Position {
					return false
				}
			}
			return true
		}

		first := create(widget.Script{Name: "Billing", Match: widget.Contains, Pattern: "/billing", DepartmentID: billing.ID, GroupID: desk.ID, RequestForm: true, Active: true})
		second := create(widget.Script{Name: "Pricing", Match: widget.Exact, Pattern: "https://shop.example.com/pricing", Active: true})
		third := create(widget.Script{Name: "Paused", Match: widget.Contains, Pattern: "/old", GroupID: desk.ID, Active: false})
		want := widget.Script{ID: first.ID, Name: "Billing", Match: widget.Contains, Pattern: "/billing", DepartmentID: billing.ID, GroupID: desk.ID, RequestForm: true, Active: true, Position: first.Position}
		if first.ID <= 0 || !reflect.DeepEqual(first, want) {
			t.Errorf("CreateScript = %+v, want %+v", first, want)
		}
		got := list()
		if !reflect.DeepEqual(got, []widget.Script{first, second, third}) || !positionsRise(got) {
			t.Errorf("Scripts = %+v, want the three in creation order, each placed last", got)
		}

		second.Name, second.Match, second.Pattern, second.Active, second.GroupID, second.RequestForm = "Plans", widget.Contains, "/plans", false, desk.ID, true
		updated, err := db.UpdateScript(ctx, second)
		if err != nil || !reflect.DeepEqual(updated, second) {
			t.Errorf("UpdateScript = %+v, %v; want %+v", updated, err, second)
		}
		if got := list(); !reflect.DeepEqual(got, []widget.Script{first, second, third}) {
			t.Errorf("after the update Scripts = %+v; the change must be kept and the place too", got)
		}
		_, err = db.UpdateScript(ctx, widget.Script{ID: 987654, Name: "Ghost", Match: widget.Contains, Pattern: "/x", Active: true})
		wantError(t, "UpdateScript of an unknown script", err, errs.ErrNotFound, "")

		reordered, err := db.ReorderScripts(ctx, []int64{third.ID, first.ID, second.ID})
		if err != nil || !slices.Equal(names(reordered), []string{"Paused", "Billing", "Plans"}) || !positionsRise(reordered) {
			t.Errorf("ReorderScripts = %v, %v; want Paused, Billing, Plans", names(reordered), err)
		}
		if got := list(); !reflect.DeepEqual(got, reordered) {
			t.Errorf("Scripts after reordering = %+v, want %+v", got, reordered)
		}
		for _, bad := range []struct {
			name string
			ids  []int64
		}{
			{"one missing", []int64{first.ID, third.ID}},
			{"one twice", []int64{first.ID, first.ID, third.ID}},
			{"one twice instead of another", []int64{first.ID, second.ID, second.ID}},
			{"an unknown one", []int64{first.ID, second.ID, 987654}},
			{"an extra unknown one", []int64{first.ID, second.ID, third.ID, 987654}},
			{"none", []int64{}},
		} {
			_, err := db.ReorderScripts(ctx, bad.ids)
			wantError(t, "ReorderScripts with "+bad.name, err, errs.ErrInvalid, "ids")
			if got := names(list()); !slices.Equal(got, []string{"Paused", "Billing", "Plans"}) {
				t.Errorf("a refused reorder (%s) changed the order to %v", bad.name, got)
			}
		}

		_, err = db.CreateScript(ctx, widget.Script{Name: "Nowhere", Match: widget.Contains, Pattern: "/x", DepartmentID: 987654, Active: true})
		wantError(t, "CreateScript for a missing department", err, errs.ErrInvalid, "department_id")
		_, err = db.CreateScript(ctx, widget.Script{Name: "Nobody", Match: widget.Contains, Pattern: "/x", GroupID: 987654, Active: true})
		wantError(t, "CreateScript for a missing group", err, errs.ErrInvalid, "group_id")
		broken := first
		broken.GroupID = 987654
		_, err = db.UpdateScript(ctx, broken)
		wantError(t, "UpdateScript to a missing group", err, errs.ErrInvalid, "group_id")
		broken = first
		broken.DepartmentID = 987654
		_, err = db.UpdateScript(ctx, broken)
		wantError(t, "UpdateScript to a missing department", err, errs.ErrInvalid, "department_id")
		if got := len(list()); got != 3 {
			t.Errorf("refused scripts were stored: %d scripts, want 3", got)
		}
		if got := list()[1]; !reflect.DeepEqual(got, reordered[1]) {
			t.Errorf("a refused update changed the script: %+v, want %+v", got, reordered[1])
		}

		if err := db.DeleteScript(ctx, first.ID); err != nil {
			t.Fatal(err)
		}
		wantError(t, "DeleteScript twice", db.DeleteScript(ctx, first.ID), errs.ErrNotFound, "")
		create(widget.Script{Name: "Returns", Match: widget.Contains, Pattern: "/returns", Active: true})
		if got := list(); !slices.Equal(names(got), []string{"Paused", "Plans", "Returns"}) || !positionsRise(got) {
			t.Errorf("after deleting Billing and adding Returns: %v, want Paused, Plans, Returns", names(got))
		}

		// Removing the department or the group a script routes to leaves
		// the script routing to the channel's own instead.
		if err := db.DeleteGroup(ctx, desk.ID); err != nil {
			t.Fatal(err)
		}
		for _, s := range list() {
			if s.GroupID != 0 {
				t.Errorf("script %s still routes to the deleted group %d", s.Name, s.GroupID)
			}
		}
		for _, s := range list() {
			if err := db.DeleteScript(ctx, s.ID); err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("a group is online when one of its active agents is", func(t *testing.T) {
		useClock(t, db, time.Date(2035, 1, 1, 10, 0, 0, 0, time.UTC))
		boris := newAgent(t, db, "widget-boris@example.com", "Boris", false, true)
		left := newAgent(t, db, "widget-left@example.com", "Left the team", false, false)
		outsider := newAgent(t, db, "widget-outsider@example.com", "Outsider", false, true)
		sales := mustGroup(t, db, "Widget sales", []access.Right{access.Omnichannel}, boris.ID, left.ID)
		empty := mustGroup(t, db, "Widget nobody", []access.Right{access.Omnichannel})
		set := func(a team.Agent, p team.Presence) {
			t.Helper()
			if _, err := db.SetPresence(ctx, a.ID, p, 0); err != nil {
				t.Fatal(err)
			}
		}
		online := func(group int64) bool {
			t.Helper()
			ok, err := db.GroupOnline(ctx, group)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		steps := []struct {
			name              string
			change            func()
			sales, empty, any bool
		}{
			{"everyone offline", func() {}, false, false, false},
			{"an inactive member online", func() { set(left, team.Online) }, false, false, false},
			{"an agent of another group online", func() { set(outsider, team.Online) }, false, false, true},
			{"a member away", func() { set(outsider, team.Offline); set(boris, team.Away) }, false, false, false},
			{"a member online", func() { set(boris, team.Online) }, true, false, true},
			{"the member offline again", func() { set(boris, team.Offline) }, false, false, false},
		}
		for _, s := range steps {
			s.change()
			if got := [3]bool{online(sales.ID), online(empty.ID), online(0)}; got != [3]bool{s.sales, s.empty, s.any} {
				t.Errorf("%s: GroupOnline(sales, empty group, any) = %v, want %v", s.name, got, [3]bool{s.sales, s.empty, s.any})
			}
		}
		set(left, team.Offline)
	})

	t.Run("a visitor reads their messages and the replies, never notes or event lines, a page at a time", func(t *testing.T) {
		useClock(t, db, time.Date(2036, 1, 1, 10, 0, 0, 0, time.UTC))
		v := newVisitor(t, "token-hash-of-reader")
		other := newVisitor(t, "token-hash-of-other-reader")
		reply := func(conversation int64, kind cv.MessageKind, body string) int64 {
			t.Helper()
			m, err := db.AddMessage(ctx, conversation, anyRequest, cv.Message{Kind: kind, AuthorID: agent.ID, Body: body})
			if err != nil {
				t.Fatal(err)
			}
			return m.ID
		}
		first := write(t, v, "Hello")
		write(t, other, "Someone else's question")
		if _, err := db.Take(ctx, first.ConversationID, agent.ID); err != nil {
			t.Fatal(err)
		}
		m2 := reply(first.ConversationID, cv.Reply, "Hi, Anna here")
		reply(first.ConversationID, cv.Note, "VIP customer, be nice")
		m3 := write(t, v, "Where is my order?").MessageID
		m4 := reply(first.ConversationID, cv.Reply, "On its way")
		if _, err := db.Finish(ctx, first.ConversationID, anyRequest, agent.ID, false, false); err != nil {
			t.Fatal(err)
		}
		next := write(t, v, "Thanks again")
		if next.ConversationID == first.ConversationID {
			t.Fatal("a message after closing went into the closed request")
		}
		m1, m5 := first.MessageID, next.MessageID
		c, _ := db.Conversation(ctx, first.ConversationID)

		tests := []struct {
			name                 string
			after, before        int64
			limit                int
			want                 []int64
			wantKindsOfFirstPage bool
		}{
			{"the whole history over two requests", 0, 0, 50, []int64{m1, m2, m3, m4, m5}, true},
			{"the latest page", 0, 0, 2, []int64{m4, m5}, false},
			{"the page before the latest", 0, m4, 2, []int64{m2, m3}, false},
			{"the first message", 0, m2, 2, []int64{m1}, false},
			{"before the first: nothing", 0, m1, 2, []int64{}, false},
			{"catching up after the first", m1, 0, 2, []int64{m2, m3}, false},
			{"catching up further", m3, 0, 2, []int64{m4, m5}, false},
			{"nothing after the last", m5, 0, 2, []int64{}, false},
			{"between two messages", m1, m4, 50, []int64{m2, m3}, false},
		}
		for _, tt := range tests {
			ms, err := db.VisitorMessages(ctx, ch.ID, c.ClientID, tt.after, tt.before, tt.limit)
			got := []int64{}
			for _, m := range ms {
				got = append(got, m.ID)
				if m.Kind != cv.FromClient && m.Kind != cv.Reply {
					t.Errorf("%s: a %s message reached the visitor: %q", tt.name, m.Kind, m.Body)
				}
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("%s: VisitorMessages(after %d, before %d, limit %d) = %v, %v; want %v", tt.name, tt.after, tt.before, tt.limit, got, err, tt.want)
			}
			if tt.wantKindsOfFirstPage && len(ms) == 5 {
				bodies := []string{}
				for _, m := range ms {
					bodies = append(bodies, string(m.Kind)+":"+m.Body)
				}
				want := []string{"client:Hello", "reply:Hi, Anna here", "client:Where is my order?", "reply:On its way", "client:Thanks again"}
				if !slices.Equal(bodies, want) {
					t.Errorf("the visitor reads %q, want %q", bodies, want)
				}
			}
		}
		otherAPI, err := db.CreateChannel(ctx, cv.Channel{Kind: cv.API, Name: "Another channel", Active: true}, "")
		if err != nil {
			t.Fatal(err)
		}
		if ms, err := db.VisitorMessages(ctx, otherAPI.ID, c.ClientID, 0, 0, 50); err != nil || len(ms) != 0 {
			t.Errorf("the client's history on another channel = %d messages, %v; want none", len(ms), err)
		}
	})
}
