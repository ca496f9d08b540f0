package httpapi_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// Bad business hours, policies and periods are refused with the field
// named, and nothing changes.
func TestSLAAndStatisticsRefuseBadInputNamingTheField(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		admin := e.admin()
		monday := func(start, end string) map[string]string {
			return map[string]string{"day": "monday", "start": start, "end": end}
		}
		hours := func(tz string, week []map[string]string, holidays ...map[string]any) map[string]any {
			return map[string]any{"name": fmt.Sprintf("Office %d", counter()), "time_zone": tz, "week": week, "holidays": holidays}
		}
		before := admin.call("GET", "/api/v1/business-hours", nil)
		for _, c := range []struct {
			name  string
			body  any
			field string
		}{
			{"overlapping intervals", hours("Europe/Berlin", []map[string]string{monday("09:00", "13:00"), monday("12:00", "18:00")}), "week[1]"},
			{"an interval that ends where it starts", hours("Europe/Berlin", []map[string]string{monday("09:00", "09:00")}), "week[0].end"},
			{"a holiday that ends before it starts", hours("Europe/Berlin", nil, map[string]any{"name": "Break", "from": "2026-12-27", "to": "2026-12-24"}), "holidays[0].to"},
			{"an unknown time zone", hours("Mars/Olympus", nil), "time_zone"},
			{"hours that never open", hours("Europe/Berlin", nil), "week"},
		} {
			res := admin.call("POST", "/api/v1/business-hours", c.body)
			if code, field := res.errorCode(); res.status != http.StatusUnprocessableEntity || code != "validation_failed" || field != c.field {
				t.Errorf("%s: %d %s, want 422 naming %s", c.name, res.status, res.body, c.field)
			}
		}
		if after := admin.call("GET", "/api/v1/business-hours", nil); string(after.body) != string(before.body) {
			t.Errorf("refused business hours changed the list:\n%s\n%s", before.body, after.body)
		}

		policies := admin.call("GET", "/api/v1/sla-policies", nil)
		for _, c := range []struct {
			name  string
			body  map[string]any
			field string
		}{
			{"a target of 0", map[string]any{"name": "Zero", "business_hours_id": 1, "targets": map[string]int{"first_response": 0}}, "targets.first_response"},
			{"a negative target", map[string]any{"name": "Negative", "business_hours_id": 1, "targets": map[string]int{"resolution": -60}}, "targets.resolution"},
			{"unknown business hours", map[string]any{"name": "Nowhere", "business_hours_id": 999, "targets": map[string]int{"first_response": 60}}, "business_hours_id"},
			{"a warning at 0 %", map[string]any{"name": "Never warn", "business_hours_id": 1, "warning_percent": -1}, "warning_percent"},
		} {
			res := admin.call("POST", "/api/v1/sla-policies", c.body)
			if code, field := res.errorCode(); res.status != http.StatusUnprocessableEntity || code != "validation_failed" || field != c.field {
				t.Errorf("%s: %d %s, want 422 naming %s", c.name, res.status, res.body, c.field)
			}
		}
		if after := admin.call("GET", "/api/v1/sla-policies", nil); string(after.body) != string(policies.body) {
			t.Errorf("refused policies changed the list:\n%s\n%s", policies.body, after.body)
		}

		for _, c := range []struct{ query, field string }{
			{"period=custom&from=2026-11-20&to=2026-11-10", "to"},
			{"period=custom&from=20.11.2026&to=2026-11-21", "from"},
			{"period=quarter", "period"},
			{"period=7d&agent_id=anna", "agent_id"},
		} {
			for _, view := range []string{"summary", "agents", "load", "breaches"} {
				res := admin.call("GET", "/api/v1/stats/"+view+"?"+c.query, nil)
				if code, field := res.errorCode(); res.status != http.StatusUnprocessableEntity || code != "validation_failed" || field != c.field {
					t.Errorf("%s?%s: %d %s, want 422 naming %s", view, c.query, res.status, res.body, c.field)
				}
			}
		}
		res := admin.call("GET", "/api/v1/stats/summary?period=7d&format=csv&table=pie", nil)
		if _, field := res.errorCode(); res.status != http.StatusUnprocessableEntity || field != "table" {
			t.Errorf("an unknown CSV table: %d %s", res.status, res.body)
		}
	})
}

// A request under a one-second first response breaches while nobody
// answers: its list row shows the clock, the agents who can take it get the
// breach event live, the statistics list it, and every table exports as CSV.
func TestABreachReachesTheQueueLiveAndTheStatistics(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		tm := newTeam(t, e)
		admin := tm.admin
		// A team time zone where it is about noon now: "today" cannot end during the test.
		var omni map[string]any
		admin.call("GET", "/api/v1/settings/omnichannel", nil).decode(t, &omni)
		omni["time_zone"] = fmt.Sprintf("Etc/GMT%+d", time.Now().UTC().Hour()-12)
		if res := admin.call("PUT", "/api/v1/settings/omnichannel", omni); res.status != http.StatusOK {
			t.Fatalf("set the time zone: %d %s", res.status, res.body)
		}
		policy := admin.create("/api/v1/sla-policies", map[string]any{"name": "Instant", "business_hours_id": 1,
			"targets": map[string]int{"first_response": 1, "resolution": 3600}, "channels": []int64{tm.channel}})
		conn := admin.socket(t, e.srv.URL, -1)
		id, _ := ingest(t, e, tm.channel, tm.token, "impatient", "Hello?", raw{})

		var list struct{ Conversations []slaRow }
		admin.call("GET", "/api/v1/conversations?view=unassigned", nil).decode(t, &list)
		i := slices.IndexFunc(list.Conversations, func(c slaRow) bool { return c.ID == id })
		if i < 0 || list.Conversations[i].SLA == nil || list.Conversations[i].SLA.PolicyID != policy || len(list.Conversations[i].SLA.Clocks) != 2 ||
			list.Conversations[i].SLA.Clocks[0].Target != "first_response" || list.Conversations[i].SLA.Clocks[0].Seconds != 1 {
			t.Fatalf("the queue's row: %+v", list)
		}

		var breach struct {
			Kind string `json:"kind"`
			Data struct {
				Targets []string `json:"targets"`
				Message struct{ Body string }
			} `json:"data"`
			ConversationID int64 `json:"conversation_id"`
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		for breach.Kind != "conversation.sla_breached" {
			frame, err := conn.Next(ctx)
			if err != nil {
				t.Fatalf("waiting for the breach: %v", err)
			}
			if err := json.Unmarshal(frame, &breach); err != nil {
				t.Fatal(err)
			}
		}
		if breach.ConversationID != id || !slices.Equal(breach.Data.Targets, []string{"first_response"}) || breach.Data.Message.Body != "SLA breached: first response (1 s)" {
			t.Errorf("breach event: %+v", breach)
		}

		// A client's words cannot become a formula in a spreadsheet.
		formula, _ := ingest(t, e, tm.channel, tm.token, "sly", "=SUM(1+1)", raw{})
		// Its breach is recorded within a second or so of its due instant.
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			var page struct{ Requests []struct{ ID int64 } }
			admin.call("GET", "/api/v1/stats/breaches?period=today", nil).decode(t, &page)
			if slices.ContainsFunc(page.Requests, func(r struct{ ID int64 }) bool { return r.ID == formula }) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("request %d did not breach: %+v", formula, page)
			}
		}
		export := admin.call("GET", "/api/v1/stats/breaches?period=today&format=csv", nil)
		if !strings.Contains(string(export.body), ",'=SUM(1+1),") {
			t.Errorf("the breaches CSV keeps a formula live:\n%s", export.body)
		}

		var breaches struct {
			Requests []struct {
				ID      int64
				Targets []string
				Policy  string
			}
		}
		admin.call("GET", "/api/v1/stats/breaches?period=today", nil).decode(t, &breaches)
		if len(breaches.Requests) != 2 || breaches.Requests[1].ID != id || breaches.Requests[1].Policy != "Instant" {
			t.Errorf("breached requests today: %+v", breaches)
		}

		for _, c := range []struct{ path, header string }{
			{"/api/v1/stats/summary?period=today&format=csv&table=requests", "requests,count"},
			{"/api/v1/stats/summary?period=today&format=csv&table=times", "time,basis,count,average_seconds,median_seconds,p90_seconds"},
			{"/api/v1/stats/summary?period=today&format=csv&table=sla", "target,met,breached,in_progress"},
			{"/api/v1/stats/agents?period=today&format=csv", "agent_id,agent,handled,replies,avg_first_response_seconds,avg_reply_seconds,online_seconds,away_seconds,offline_seconds"},
			{"/api/v1/stats/load?period=today&format=csv&table=days", "date,new,closed"},
			{"/api/v1/stats/load?period=today&format=csv&table=channels", "channel_id,channel,kind,new,closed,missed,avg_first_response_seconds"},
			{"/api/v1/stats/load?period=today&format=csv&table=heatmap", "weekday,00:00"},
			{"/api/v1/stats/breaches?period=today&format=csv", "request,client,channel,subject,agent,policy,created_at,closed_at,breached"},
		} {
			res := admin.call("GET", c.path, nil)
			records, err := csv.NewReader(strings.NewReader(string(res.body))).ReadAll()
			if res.status != 200 || !strings.HasPrefix(res.header.Get("Content-Type"), "text/csv") || err != nil || len(records) < 2 ||
				!strings.HasPrefix(strings.Join(records[0], ","), c.header) || !strings.Contains(res.header.Get("Content-Disposition"), "attachment") {
				t.Errorf("%s: %d %q %v\n%s", c.path, res.status, res.header.Get("Content-Type"), err, res.body)
			}
		}
		var sum struct {
			Requests struct{ New int }
			SLA      map[string]struct {
				Breached   int
				InProgress int `json:"in_progress"`
			}
		}
		admin.call("GET", "/api/v1/stats/summary?period=today", nil).decode(t, &sum)
		if sum.Requests.New != 2 || sum.SLA["first_response"].Breached != 2 || sum.SLA["resolution"].InProgress != 2 {
			t.Errorf("today's summary: %+v", sum)
		}
	})
}

// slaRow is a list row with its clocks.
type slaRow struct {
	ID  int64
	SLA *struct {
		PolicyID int64 `json:"policy_id"`
		Clocks   []struct {
			Target, State string
			Seconds       int64
		}
	}
}
