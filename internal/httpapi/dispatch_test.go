package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-hq/switchboard/internal/loadgen"
)

// Supervision over real HTTP (docs/supervision.md): the dispatcher's rules,
// operator status with away reasons, restricting Offline, Settings →
// Omnichannel, the running dispatcher, and "Back to queue".

// dspRequest is a request as the API shows it.
type dspRequest struct {
	ID         int64   `json:"id"`
	AssigneeID int64   `json:"assignee_id"`
	StatusID   int64   `json:"status_id"`
	ClosedAt   *string `json:"closed_at"`
}

// dspConversation returns a request as c sees it.
func dspConversation(t *testing.T, c *client, id int64) dspRequest {
	t.Helper()
	res := c.call("GET", fmt.Sprintf("/api/v1/conversations/%d", id), nil)
	if res.status != http.StatusOK {
		t.Fatalf("request %d: %d %s", id, res.status, res.body)
	}
	var out dspRequest
	res.decode(t, &out)
	return out
}

// wantStatus checks an answer's status and, when given, its error code and field.
func wantStatus(t *testing.T, what string, res response, status int, codeAndField ...string) {
	t.Helper()
	code, field := res.errorCode()
	if res.status != status || (len(codeAndField) > 0 && codeAndField[0] != "" && code != codeAndField[0]) ||
		(len(codeAndField) > 1 && field != codeAndField[1]) {
		t.Errorf("%s: %d %s; want %d %v", what, res.status, res.body, status, codeAndField)
	}
}

// presenceOf returns an agent's stored status as the administrator sees it.
func presenceOf(t *testing.T, admin *client, id int64) (presence string, reason int64) {
	t.Helper()
	var a struct {
		Presence     string `json:"presence"`
		AwayReasonID int64  `json:"away_reason_id"`
	}
	admin.call("GET", fmt.Sprintf("/api/v1/agents/%d", id), nil).decode(t, &a)
	return a.Presence, a.AwayReasonID
}

// omnichannelSettings is Settings → Omnichannel as the API carries it.
type omnichannelSettings struct {
	MergeReplies            bool     `json:"merge_replies"`
	DepartmentAvatar        bool     `json:"department_avatar"`
	ViewChannels            []string `json:"view_channels"`
	ViewStatuses            []int64  `json:"view_statuses"`
	RestrictOfflineStatuses []int64  `json:"restrict_offline_statuses"`
	TimeZone                string   `json:"time_zone"`
	GraceSeconds            int      `json:"grace_seconds"`
}

func defaultSettings() omnichannelSettings {
	return omnichannelSettings{ViewChannels: []string{}, ViewStatuses: []int64{}, RestrictOfflineStatuses: []int64{}, TimeZone: "UTC", GraceSeconds: 120}
}

func putSettings(t *testing.T, c *client, s omnichannelSettings) {
	t.Helper()
	if res := c.call("PUT", "/api/v1/settings/omnichannel", s); res.status != http.StatusOK {
		t.Fatalf("PUT settings %+v: %d %s", s, res.status, res.body)
	}
}

// statusID finds the default status of a class.
func statusID(t *testing.T, c *client, class string) int64 {
	t.Helper()
	var out struct {
		Statuses []struct {
			ID        int64  `json:"id"`
			Class     string `json:"class"`
			IsDefault bool   `json:"is_default"`
		}
	}
	c.call("GET", "/api/v1/statuses", nil).decode(t, &out)
	for _, s := range out.Statuses {
		if s.Class == class && s.IsDefault {
			return s.ID
		}
	}
	t.Fatalf("no default %s status", class)
	return 0
}

func TestDispatchRulesAreValidatedAndListedPerGroup(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		tm := newTeam(t, e)
		night := tm.admin.create("/api/v1/groups", map[string]any{"name": "Night", "rights": []string{"omnichannel"}, "member_ids": []int64{tm.annaID}})
		path := fmt.Sprintf("/api/v1/dispatch/%d", night)
		for _, c := range []struct {
			name   string
			who    *client
			path   string
			body   map[string]any
			status int
			code   string
			field  string
		}{
			{"capacity 0", tm.admin, path, map[string]any{"enabled": true, "capacity": 0}, 422, "validation_failed", "capacity"},
			{"capacity 101", tm.admin, path, map[string]any{"enabled": true, "capacity": 101}, 422, "validation_failed", "capacity"},
			{"a negative requeue time", tm.admin, path, map[string]any{"enabled": true, "capacity": 3, "requeue_after_minutes": -1}, 422, "validation_failed", "requeue_after_minutes"},
			{"a requeue time over a day", tm.admin, path, map[string]any{"enabled": true, "capacity": 3, "requeue_after_minutes": 1441}, 422, "validation_failed", "requeue_after_minutes"},
			{"an unknown group", tm.admin, "/api/v1/dispatch/999999", map[string]any{"enabled": true, "capacity": 3}, 404, "not_found", ""},
			{"an agent without the settings right", tm.anna, path, map[string]any{"enabled": true, "capacity": 3}, 403, "", ""},
		} {
			wantStatus(t, "PUT dispatch rule: "+c.name, c.who.call("PUT", c.path, c.body), c.status, c.code, c.field)
		}
		res := tm.admin.call("PUT", path, map[string]any{"enabled": true, "capacity": 100, "requeue_after_minutes": 10, "requeue_on_offline": true})
		wantStatus(t, "PUT a valid rule", res, 200)
		if !strings.Contains(string(res.body), fmt.Sprintf(`"group_id":%d`, night)) {
			t.Errorf("the stored rule %s does not name its group", res.body)
		}

		type rule struct {
			GroupID             int64 `json:"group_id"`
			Enabled             bool  `json:"enabled"`
			Capacity            int   `json:"capacity"`
			RequeueAfterMinutes int   `json:"requeue_after_minutes"`
			RequeueOnOffline    bool  `json:"requeue_on_offline"`
		}
		var list struct{ Rules []rule }
		res = tm.admin.call("GET", "/api/v1/dispatch", nil)
		wantStatus(t, "GET dispatch rules", res, 200)
		res.decode(t, &list)
		var groups struct{ Groups []struct{ ID int64 } }
		tm.admin.call("GET", "/api/v1/groups", nil).decode(t, &groups)
		var got, want []int64
		for _, r := range list.Rules {
			got = append(got, r.GroupID)
			switch r.GroupID {
			case night:
				if r != (rule{night, true, 100, 10, true}) {
					t.Errorf("Night's rule = %+v", r)
				}
			default:
				if r.Enabled || r.Capacity != 3 || r.RequeueAfterMinutes != 0 || r.RequeueOnOffline {
					t.Errorf("a group never configured has rule %+v, want off with capacity 3", r)
				}
			}
		}
		for _, g := range groups.Groups {
			want = append(want, g.ID)
		}
		slices.Sort(got)
		slices.Sort(want)
		if len(want) < 2 || !slices.Equal(got, want) {
			t.Errorf("rules for groups %v, want one for each of %v", got, want)
		}
		wantStatus(t, "GET dispatch rules without the settings right", tm.anna.call("GET", "/api/v1/dispatch", nil), 403)
	})
}

func TestPresenceTakesAwayReasonsThatAdministratorsKeep(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		tm := newTeam(t, e)
		// Away reasons: administrators change them, every agent reads them.
		lunch := tm.admin.create("/api/v1/away-reasons", map[string]string{"name": "Lunch"})
		training := tm.admin.create("/api/v1/away-reasons", map[string]string{"name": "Training"})
		wantStatus(t, "a duplicate reason", tm.admin.call("POST", "/api/v1/away-reasons", map[string]string{"name": "Lunch"}), 409, "name_taken", "name")
		wantStatus(t, "an empty reason", tm.admin.call("POST", "/api/v1/away-reasons", map[string]string{"name": "  "}), 422, "validation_failed", "name")
		wantStatus(t, "a reason by an agent", tm.anna.call("POST", "/api/v1/away-reasons", map[string]string{"name": "Nap"}), 403)
		wantStatus(t, "a rename by an agent", tm.anna.call("PATCH", fmt.Sprintf("/api/v1/away-reasons/%d", lunch), map[string]string{"name": "Nap"}), 403)
		wantStatus(t, "a delete by an agent", tm.anna.call("DELETE", fmt.Sprintf("/api/v1/away-reasons/%d", lunch), nil), 403)
		wantStatus(t, "a rename onto another reason", tm.admin.call("PATCH", fmt.Sprintf("/api/v1/away-reasons/%d", training), map[string]string{"name": "Lunch"}), 409, "name_taken")
		wantStatus(t, "a rename", tm.admin.call("PATCH", fmt.Sprintf("/api/v1/away-reasons/%d", training), map[string]string{"name": "Course"}), 200)
		wantStatus(t, "a rename of no reason", tm.admin.call("PATCH", "/api/v1/away-reasons/999999", map[string]string{"name": "Ghost"}), 404)
		var reasons struct {
			Reasons []struct {
				ID   int64  `json:"id"`
				Name string `json:"name"`
			}
		}
		res := tm.anna.call("GET", "/api/v1/away-reasons", nil)
		wantStatus(t, "reasons read by an agent", res, 200)
		res.decode(t, &reasons)
		if len(reasons.Reasons) != 2 || reasons.Reasons[0].ID != lunch || reasons.Reasons[0].Name != "Lunch" || reasons.Reasons[1].Name != "Course" {
			t.Errorf("reasons = %+v, want Lunch then Course", reasons.Reasons)
		}

		// Anna's status, with and without a reason.
		presence := func(body map[string]any) response { return tm.anna.call("PUT", "/api/v1/me/presence", body) }
		res = presence(map[string]any{"presence": "away", "reason_id": lunch})
		wantStatus(t, "Away for Lunch", res, 200)
		if p, r := presenceOf(t, tm.admin, tm.annaID); p != "away" || r != lunch {
			t.Errorf("Anna is %s for reason %d, want away for Lunch (%d)", p, r, lunch)
		}
		wantStatus(t, "a reason that does not exist", presence(map[string]any{"presence": "away", "reason_id": 999999}), 422, "validation_failed", "reason_id")
		wantStatus(t, "Online with a reason", presence(map[string]any{"presence": "online", "reason_id": lunch}), 422, "validation_failed", "reason_id")
		wantStatus(t, "Offline with a reason", presence(map[string]any{"presence": "offline", "reason_id": lunch}), 422, "validation_failed", "reason_id")
		wantStatus(t, "no such status", presence(map[string]any{"presence": "busy"}), 422, "validation_failed", "presence")
		if p, r := presenceOf(t, tm.admin, tm.annaID); p != "away" || r != lunch {
			t.Errorf("refused changes changed Anna's status to %s (%d)", p, r)
		}
		// A deleted reason leaves its agents Away, without it.
		wantStatus(t, "delete a reason", tm.admin.call("DELETE", fmt.Sprintf("/api/v1/away-reasons/%d", lunch), nil), 204)
		wantStatus(t, "delete it again", tm.admin.call("DELETE", fmt.Sprintf("/api/v1/away-reasons/%d", lunch), nil), 404)
		if p, r := presenceOf(t, tm.admin, tm.annaID); p != "away" || r != 0 {
			t.Errorf("after its reason was deleted Anna is %s (%d), want away without a reason", p, r)
		}
		wantStatus(t, "back Online", presence(map[string]any{"presence": "online"}), 200)
		if p, r := presenceOf(t, tm.admin, tm.annaID); p != "online" || r != 0 {
			t.Errorf("Anna is %s (%d), want online", p, r)
		}
	})
}

func TestRestrictOfflineKeepsAgentsWithOpenRequestsOn(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		tm := newTeam(t, e)
		open := statusID(t, tm.admin, "open")
		s := defaultSettings()
		s.RestrictOfflineStatuses = []int64{open}
		putSettings(t, tm.admin, s)

		id, _ := ingest(t, e, tm.channel, tm.token, "ivan", "help me", raw{})
		take(t, tm.anna, id)
		if c := dspConversation(t, tm.anna, id); c.StatusID != open {
			t.Fatalf("a taken request has status %d, want Open (%d)", c.StatusID, open)
		}
		wantStatus(t, "Online", tm.anna.call("PUT", "/api/v1/me/presence", map[string]string{"presence": "online"}), 200)
		res := tm.anna.call("PUT", "/api/v1/me/presence", map[string]string{"presence": "offline"})
		var body struct {
			Error struct {
				Code     string  `json:"code"`
				Requests []int64 `json:"requests"`
			} `json:"error"`
		}
		res.decode(t, &body)
		if res.status != http.StatusConflict || body.Error.Code != "offline_restricted" || !slices.Equal(body.Error.Requests, []int64{id}) {
			t.Errorf("Offline while holding an Open request: %d %s; want 409 offline_restricted naming [%d]", res.status, res.body, id)
		}
		if p, _ := presenceOf(t, tm.admin, tm.annaID); p != "online" {
			t.Errorf("a refused Offline left Anna %s, want online", p)
		}
		// Away is no Offline; someone holding nothing may go.
		wantStatus(t, "Away while holding", tm.anna.call("PUT", "/api/v1/me/presence", map[string]string{"presence": "away"}), 200)
		wantStatus(t, "Boris goes Offline", tm.boris.call("PUT", "/api/v1/me/presence", map[string]string{"presence": "offline"}), 200)

		wantStatus(t, "close", tm.anna.call("POST", fmt.Sprintf("/api/v1/conversations/%d/close", id), nil), 200)
		wantStatus(t, "Offline after closing", tm.anna.call("PUT", "/api/v1/me/presence", map[string]string{"presence": "offline"}), 200)
		if p, _ := presenceOf(t, tm.admin, tm.annaID); p != "offline" {
			t.Errorf("Anna is %s, want offline", p)
		}
	})
}

func TestOmnichannelSettingsAreValidatedAndFollowed(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		tm := newTeam(t, e)
		res := tm.anna.call("GET", "/api/v1/settings/omnichannel", nil)
		wantStatus(t, "GET settings as an agent", res, 200)
		var got omnichannelSettings
		res.decode(t, &got)
		if fmt.Sprint(got) != fmt.Sprint(defaultSettings()) {
			t.Errorf("a new team's settings = %+v, want %+v", got, defaultSettings())
		}
		bad := func(change func(*omnichannelSettings)) omnichannelSettings {
			s := defaultSettings()
			change(&s)
			return s
		}
		for _, c := range []struct {
			name  string
			body  omnichannelSettings
			field string
		}{
			{"a bad time zone", bad(func(s *omnichannelSettings) { s.TimeZone = "Mars/Olympus_Mons" }), "time_zone"},
			{"a grace of 5 seconds", bad(func(s *omnichannelSettings) { s.GraceSeconds = 5 }), "grace_seconds"},
			{"a grace over an hour", bad(func(s *omnichannelSettings) { s.GraceSeconds = 3601 }), "grace_seconds"},
			{"an unknown restricting status", bad(func(s *omnichannelSettings) { s.RestrictOfflineStatuses = []int64{999999} }), "restrict_offline_statuses"},
			{"an unknown status to view", bad(func(s *omnichannelSettings) { s.ViewStatuses = []int64{999999} }), "view_statuses"},
			{"an unknown channel kind to view", bad(func(s *omnichannelSettings) { s.ViewChannels = []string{"fax"} }), "view_channels"},
		} {
			wantStatus(t, "PUT settings with "+c.name, tm.admin.call("PUT", "/api/v1/settings/omnichannel", c.body), 422, "validation_failed", c.field)
		}
		wantStatus(t, "PUT settings as an agent", tm.anna.call("PUT", "/api/v1/settings/omnichannel", defaultSettings()), 403)
		tm.admin.call("GET", "/api/v1/settings/omnichannel", nil).decode(t, &got)
		if fmt.Sprint(got) != fmt.Sprint(defaultSettings()) {
			t.Errorf("refused changes changed the settings to %+v", got)
		}

		// Merge replies: closing writes one transcript of the correspondence.
		s := defaultSettings()
		s.MergeReplies, s.TimeZone = true, "Europe/Berlin"
		putSettings(t, tm.admin, s)
		tm.admin.call("GET", "/api/v1/settings/omnichannel", nil).decode(t, &got)
		if !got.MergeReplies || got.TimeZone != "Europe/Berlin" {
			t.Errorf("stored settings = %+v", got)
		}
		id, _ := ingest(t, e, tm.channel, tm.token, "ivan", "my order is late", raw{})
		take(t, tm.anna, id)
		ingest(t, e, tm.channel, tm.token, "ivan", "it is order 42", raw{})
		wantStatus(t, "reply", tm.anna.call("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", id), map[string]string{"kind": "reply", "body": "it ships today"}), 201)
		wantStatus(t, "note", tm.anna.call("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", id), map[string]string{"kind": "note", "body": "internal remark"}), 201)
		ingest(t, e, tm.channel, tm.token, "ivan", "thanks!", raw{})
		wantStatus(t, "close", tm.anna.call("POST", fmt.Sprintf("/api/v1/conversations/%d/close", id), nil), 200)
		var transcripts []messageJSON
		for _, m := range thread(t, tm.anna, id) {
			if m.Kind == "transcript" {
				transcripts = append(transcripts, m)
			}
		}
		if len(transcripts) != 1 {
			t.Fatalf("closing with merged replies wrote %d transcripts, want 1", len(transcripts))
		}
		body := transcripts[0].Body
		for _, want := range []string{"my order is late", "it is order 42", "Anna: it ships today", "thanks!"} {
			if !strings.Contains(body, want) {
				t.Errorf("the transcript lacks %q:\n%s", want, body)
			}
		}
		if strings.Contains(body, "internal remark") {
			t.Errorf("the transcript shows an internal note:\n%s", body)
		}
		if i, j := strings.Index(body, "my order is late"), strings.Index(body, "thanks!"); i > j {
			t.Errorf("the transcript is not in order:\n%s", body)
		}

		// The Omnichannel lists show only the chosen channel kinds.
		queued, _ := ingest(t, e, tm.channel, tm.token, "olga", "anyone there?", raw{})
		if got := ids(tm.anna.list(t, "view=unassigned")); !slices.Contains(got, queued) {
			t.Fatalf("the queue %v lacks request %d", got, queued)
		}
		s.ViewChannels = []string{"telegram"}
		putSettings(t, tm.admin, s)
		if got := ids(tm.anna.list(t, "view=unassigned")); slices.Contains(got, queued) {
			t.Errorf("with view_channels [telegram] the queue still shows the api request %d: %v", queued, got)
		}
		s.ViewChannels = []string{"api", "telegram"}
		putSettings(t, tm.admin, s)
		if got := ids(tm.anna.list(t, "view=unassigned")); !slices.Contains(got, queued) {
			t.Errorf("with view_channels [api telegram] the queue %v lacks request %d", got, queued)
		}
	})
}

// dspFrame is an event frame of the agent socket.
type dspFrame struct {
	Seq            int64  `json:"seq"`
	Kind           string `json:"kind"`
	ConversationID int64  `json:"conversation_id"`
	Data           struct {
		Conversation struct {
			AssigneeID int64 `json:"assignee_id"`
		} `json:"conversation"`
	} `json:"data"`
}

// awaitFrame reads conn until an event of kind about the request arrives.
func awaitFrame(t *testing.T, conn *loadgen.Events, kind string, id int64) dspFrame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		data, err := conn.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for %s of request %d: %v", kind, id, err)
		}
		var f dspFrame
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatalf("frame %s: %v", data, err)
		}
		if f.Kind == kind && f.ConversationID == id {
			return f
		}
	}
}

func TestDispatcherAssignsArrivalsToTheConnectedAgent(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		tm := newTeam(t, e)
		night := tm.admin.create("/api/v1/groups", map[string]any{"name": "Night", "rights": []string{"omnichannel", "omnichannel.unassigned"}, "member_ids": []int64{tm.annaID, tm.borisID}})
		ch, token := createChannel(t, tm.admin, "Night line")
		wantStatus(t, "route the channel to Night", tm.admin.call("PATCH", fmt.Sprintf("/api/v1/channels/%d", ch), map[string]int64{"group_id": night}), 200)
		wantStatus(t, "switch the dispatcher on", tm.admin.call("PUT", fmt.Sprintf("/api/v1/dispatch/%d", night), map[string]any{"enabled": true, "capacity": 2}), 200)
		for _, c := range []*client{tm.anna, tm.boris} {
			wantStatus(t, "Online", c.call("PUT", "/api/v1/me/presence", map[string]string{"presence": "online"}), 200)
		}

		// Online without an open workspace is not present: the request waits.
		first, _ := ingest(t, e, ch, token, "ivan", "first question", raw{})
		time.Sleep(1500 * time.Millisecond) // more than a dispatcher round
		if c := dspConversation(t, tm.admin, first); c.AssigneeID != 0 {
			t.Fatalf("request %d went to %d while nobody had the workspace open", first, c.AssigneeID)
		}
		// Anna opens the workspace: the waiting request is hers at once.
		conn := tm.anna.socket(t, e.srv.URL, -1)
		defer conn.CloseNow()
		if f := awaitFrame(t, conn, "conversation.assigned", first); f.Data.Conversation.AssigneeID != tm.annaID {
			t.Errorf("conversation.assigned of %d names assignee %d, want Anna", first, f.Data.Conversation.AssigneeID)
		}
		if c := dspConversation(t, tm.admin, first); c.AssigneeID != tm.annaID {
			t.Errorf("request %d is assigned to %d, want Anna (%d)", first, c.AssigneeID, tm.annaID)
		}
		lines := thread(t, tm.admin, first)
		if last := lines[len(lines)-1]; last.Kind != "event" || last.Body != "Assigned to Anna by the dispatcher" {
			t.Errorf("the request's last line is %s %q", last.Kind, last.Body)
		}

		// A new arrival goes straight to her.
		second, _ := ingest(t, e, ch, token, "olga", "second question", raw{})
		awaitFrame(t, conn, "conversation.assigned", second)
		eventually(t, 5*time.Second, "assigned to Anna", func() (bool, string) {
			c := dspConversation(t, tm.admin, second)
			return c.AssigneeID == tm.annaID, fmt.Sprintf("assignee %d", c.AssigneeID)
		})
		// Her capacity is 2: the third waits; closing one frees room for it.
		third, _ := ingest(t, e, ch, token, "petr", "third question", raw{})
		time.Sleep(1500 * time.Millisecond)
		if c := dspConversation(t, tm.admin, third); c.AssigneeID != 0 {
			t.Fatalf("request %d went to %d beyond Anna's capacity", third, c.AssigneeID)
		}
		wantStatus(t, "close", tm.anna.call("POST", fmt.Sprintf("/api/v1/conversations/%d/close", first), nil), 200)
		awaitFrame(t, conn, "conversation.assigned", third)
		if c := dspConversation(t, tm.admin, third); c.AssigneeID != tm.annaID {
			t.Errorf("request %d is assigned to %d, want Anna", third, c.AssigneeID)
		}
	})
}

func TestUnassignReturnsRequestsToTheQueue(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		tm := newTeam(t, e)
		sueID := tm.admin.create("/api/v1/agents", map[string]string{"email": "sue@example.com", "name": "Sue", "password": "sue-password"})
		tm.admin.create("/api/v1/groups", map[string]any{"name": "Supervisors", "rights": []string{"omnichannel", "omnichannel.management"}, "member_ids": []int64{sueID}})
		sue := e.login("sue@example.com", "sue-password")
		unassign := func(c *client, id int64) response {
			return c.call("POST", fmt.Sprintf("/api/v1/conversations/%d/unassign", id), nil)
		}

		id, _ := ingest(t, e, tm.channel, tm.token, "ivan", "help", raw{})
		take(t, tm.anna, id)
		wantStatus(t, "unassign by the assignee, no supervisor", unassign(tm.anna, id), 403)
		wantStatus(t, "unassign by another agent", unassign(tm.boris, id), 403)
		if c := dspConversation(t, tm.anna, id); c.AssigneeID != tm.annaID {
			t.Fatalf("a refused unassign changed the assignee to %d", c.AssigneeID)
		}
		res := unassign(sue, id)
		wantStatus(t, "unassign by a supervisor", res, 200)
		if c := dspConversation(t, sue, id); c.AssigneeID != 0 || c.ClosedAt != nil {
			t.Errorf("after unassign: %+v, want open in the queue", c)
		}
		if got := ids(tm.boris.list(t, "view=unassigned")); !slices.Contains(got, id) {
			t.Errorf("the queue %v lacks the returned request %d", got, id)
		}
		lines := thread(t, sue, id)
		if last := lines[len(lines)-1]; last.Body != "Sue returned the request to the queue" {
			t.Errorf("last line %q", last.Body)
		}
		wantStatus(t, "unassign a request in the queue", unassign(sue, id), 409, "not_assigned")
		wantStatus(t, "unassign no request", unassign(sue, 999999), 404)

		take(t, tm.boris, id)
		wantStatus(t, "close", tm.boris.call("POST", fmt.Sprintf("/api/v1/conversations/%d/close", id), nil), 200)
		wantStatus(t, "unassign a closed request", unassign(sue, id), 409, "closed")
		wantStatus(t, "transfer a closed request", sue.call("POST", fmt.Sprintf("/api/v1/conversations/%d/transfer", id), map[string]any{"agent_id": tm.annaID}), 409, "closed")
		wantStatus(t, "transfer a closed request by its assignee", tm.boris.call("POST", fmt.Sprintf("/api/v1/conversations/%d/transfer", id), map[string]any{"agent_id": tm.annaID}), 409, "closed")
		if c := dspConversation(t, sue, id); c.AssigneeID != tm.borisID || c.ClosedAt == nil {
			t.Errorf("refused changes changed the closed request: %+v", c)
		}
	})
}
