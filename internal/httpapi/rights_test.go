package httpapi_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/switchboard-hq/switchboard/internal/access"
)

// The right-sets of the matrix, in column order. Every column but anonymous
// is a real agent whose only group grants exactly these rights.
var rightSets = []struct {
	name   string
	admin  bool
	rights []access.Right
}{
	{name: "anonymous"},
	{name: "no rights"},
	{name: "omnichannel", rights: []access.Right{access.Omnichannel}},
	{name: "unassigned alone", rights: []access.Right{access.Unassigned}},
	{name: "management alone", rights: []access.Right{access.Management}},
	{name: "settings alone", rights: []access.Right{access.Settings}},
	{name: "telephony alone", rights: []access.Right{access.Telephony}},
	{name: "omnichannel+unassigned", rights: []access.Right{access.Omnichannel, access.Unassigned}},
	{name: "omnichannel+management", rights: []access.Right{access.Omnichannel, access.Management}},
	{name: "omnichannel+settings", rights: []access.Right{access.Omnichannel, access.Settings}},
	{name: "omnichannel+telephony", rights: []access.Right{access.Omnichannel, access.Telephony}},
	{name: "administrator", admin: true},
}

type statuses [12]int

// Shorthands for the common shapes of a row; columns follow rightSets.
func everyone(s int) statuses { return statuses{s, s, s, s, s, s, s, s, s, s, s, s} }
func loggedIn(s int) statuses { return statuses{401, s, s, s, s, s, s, s, s, s, s, s} }
func omnichannel(s int) statuses {
	return statuses{401, 403, s, 403, 403, 403, 403, s, s, s, s, s}
}
func managementOrSettings(s int) statuses {
	return statuses{401, 403, 403, 403, 403, 403, 403, 403, s, s, 403, s}
}
func adminOnly(s int) statuses {
	return statuses{401, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, s}
}
func settingsOnly(s int) statuses {
	return statuses{401, 403, 403, 403, 403, 403, 403, 403, 403, s, 403, s}
}
func managementOnly(s int) statuses {
	return statuses{401, 403, 403, 403, 403, 403, 403, 403, s, 403, 403, s}
}

// seesQueued is for reading an unassigned request of no group: the queue's
// agents and supervisors see it; other agents of the module get 404.
func seesQueued(s int) statuses {
	return statuses{401, 403, 404, 403, 403, 403, 403, s, s, 404, 404, s}
}

// worksQueued is for changing an unassigned request: supervisors may; the
// queue's agents see it but must take it first (409).
func worksQueued(s int) statuses {
	return statuses{401, 403, 404, 403, 403, 403, 403, 409, s, 404, 404, s}
}

// rightsRow is one endpoint of the API. {id} in route is replaced by the
// fixture named by id.
type rightsRow struct {
	method, route string
	id            string
	body          func(col int) any
	want          statuses
}

func jsonBody(v any) func(int) any { return func(int) any { return v } }

// everyScript is a body the matrix fills in when sending: the ids of every
// script there is then, last first (a reorder must name each exactly once).
type everyScript struct{}

func passwordOf(col int) string { return "password-" + strconv.Itoa(col) }

// rightsTable is written by hand: a new route without a row here fails
// TestEveryAPIRouteHasARightsRow. Logout comes last: it ends the sessions.
var rightsTable = []rightsRow{
	{"GET", "/api/v1/openapi.json", "", nil, everyone(200)},
	// A login with a wrong password answers the same to everyone (one email
	// per column, so that the per-account failure limit stays out of the way).
	{"POST", "/api/v1/auth/login", "", func(col int) any {
		return map[string]string{"email": fmt.Sprintf("col%d@example.com", col), "password": "wrong-password"}
	}, everyone(401)},
	{"GET", "/api/v1/me", "", nil, loggedIn(200)},
	{"PUT", "/api/v1/me/presence", "", jsonBody(map[string]string{"presence": "online"}), omnichannel(200)},
	{"PUT", "/api/v1/me/password", "", func(col int) any {
		return map[string]string{"current_password": passwordOf(col), "new_password": passwordOf(col)}
	}, loggedIn(204)},

	{"GET", "/api/v1/agents", "", nil, omnichannel(200)},
	{"POST", "/api/v1/agents", "", func(col int) any {
		return map[string]string{"email": fmt.Sprintf("new-%d@example.com", col), "name": "New"}
	}, adminOnly(201)},
	{"GET", "/api/v1/agents/{id}", "agent", nil, omnichannel(200)},
	{"PATCH", "/api/v1/agents/{id}", "agent", jsonBody(map[string]string{"name": "Target"}), adminOnly(200)},
	{"POST", "/api/v1/agents/{id}/password", "agent", jsonBody(map[string]string{}), adminOnly(200)},
	{"PUT", "/api/v1/agents/{id}/avatar", "agent", jsonBody(raw{"image/png", pngBytes}), adminOnly(200)},
	{"DELETE", "/api/v1/agents/{id}/avatar", "agent", nil, adminOnly(200)},

	{"GET", "/api/v1/groups", "", nil, managementOrSettings(200)},
	{"POST", "/api/v1/groups", "", func(col int) any {
		return map[string]any{"name": fmt.Sprintf("New %d", col), "rights": []string{"omnichannel"}}
	}, adminOnly(201)},
	{"GET", "/api/v1/groups/{id}", "group", nil, managementOrSettings(200)},
	{"PATCH", "/api/v1/groups/{id}", "group", jsonBody(map[string]any{"rights": []string{"telephony"}}), adminOnly(200)},
	{"DELETE", "/api/v1/groups/{id}", "fresh group", nil, adminOnly(204)},

	{"GET", "/api/v1/departments", "", nil, omnichannel(200)},
	{"POST", "/api/v1/departments", "", func(col int) any {
		return map[string]string{"name": fmt.Sprintf("Department %d", col)}
	}, adminOnly(201)},
	{"GET", "/api/v1/departments/{id}", "department", nil, omnichannel(200)},
	{"PATCH", "/api/v1/departments/{id}", "department", jsonBody(map[string]string{"display_name": "Help desk"}), adminOnly(200)},
	{"DELETE", "/api/v1/departments/{id}", "fresh department", nil, adminOnly(204)},
	{"PUT", "/api/v1/departments/{id}/avatar", "department", jsonBody(raw{"image/png", pngBytes}), adminOnly(200)},
	{"DELETE", "/api/v1/departments/{id}/avatar", "department", nil, adminOnly(200)},

	// The channel's own endpoints take its API token, never a session.
	{"POST", "/api/v1/channels/{id}/inbound", "channel", jsonBody(map[string]any{"message_id": "x", "sender": map[string]string{"id": "u"}, "text": "hi"}), everyone(401)},
	{"POST", "/api/v1/channels/{id}/typing", "channel", jsonBody(map[string]string{"sender_id": "u"}), everyone(401)},
	// A plain GET is no websocket upgrade: 426 once the rights allow it.
	{"GET", "/api/v1/ws", "", nil, omnichannel(426)},

	{"GET", "/api/v1/conversations", "", nil, omnichannel(200)},
	{"GET", "/api/v1/conversations/{id}", "conversation", nil, seesQueued(200)},
	{"POST", "/api/v1/conversations/{id}/take", "fresh conversation", nil, statuses{401, 403, 403, 403, 403, 403, 403, 200, 403, 403, 403, 200}},
	{"GET", "/api/v1/conversations/{id}/messages", "conversation", nil, seesQueued(200)},
	{"POST", "/api/v1/conversations/{id}/messages", "conversation", jsonBody(map[string]string{"kind": "note", "body": "Checked the order"}), worksQueued(201)},
	{"POST", "/api/v1/conversations/{id}/transfer", "fresh conversation", jsonBody(map[string]any{"agent_id": 1}), worksQueued(200)},
	{"POST", "/api/v1/conversations/{id}/close", "fresh conversation", nil, worksQueued(200)},
	{"POST", "/api/v1/conversations/{id}/classic", "fresh conversation", nil, worksQueued(200)},
	{"PUT", "/api/v1/conversations/{id}/status", "fresh conversation", jsonBody(map[string]int{"status_id": 3}), worksQueued(200)},
	{"POST", "/api/v1/conversations/{id}/read", "conversation", nil, seesQueued(204)},
	{"POST", "/api/v1/conversations/{id}/typing", "conversation", nil, worksQueued(204)},
	// Back to queue: only supervisors, on a request someone holds.
	{"POST", "/api/v1/conversations/{id}/unassign", "fresh assigned conversation", nil, managementOnly(200)},
	{"GET", "/api/v1/conversations/{id}/client", "conversation", nil, seesQueued(200)},
	{"PATCH", "/api/v1/conversations/{id}/client", "conversation", jsonBody(map[string]string{"phone": "+7 900 000-00-00"}), worksQueued(200)},
	{"GET", "/api/v1/conversations/{id}/previous", "conversation", nil, seesQueued(200)},
	{"GET", "/api/v1/messages/{id}/attachments/{index}", "message", nil, seesQueued(200)},
	// The fixture message is a client's, never a failed reply: who may write
	// in its request learns not_failed; the queue's agents must take it first.
	{"POST", "/api/v1/messages/{id}/retry", "message", nil, worksQueued(409)},

	{"GET", "/api/v1/channels", "", nil, omnichannel(200)},
	{"GET", "/api/v1/platforms", "", nil, settingsOnly(200)},
	{"POST", "/api/v1/channels", "", jsonBody(map[string]string{"kind": "api", "name": "Integration"}), settingsOnly(201)},
	{"POST", "/api/v1/channels", "", jsonBody(map[string]any{"kind": "widget", "name": "Website", "widget": map[string]any{"origins": []string{"https://shop.example.com"}}}), settingsOnly(201)},
	{"GET", "/api/v1/channels/{id}", "channel", nil, omnichannel(200)},
	{"PATCH", "/api/v1/channels/{id}", "channel", jsonBody(map[string]string{"name": "Shop"}), settingsOnly(200)},
	{"DELETE", "/api/v1/channels/{id}", "fresh channel", nil, settingsOnly(204)},
	{"POST", "/api/v1/channels/{id}/token", "fresh channel", nil, settingsOnly(200)},
	{"POST", "/api/v1/channels/{id}/token", "fresh widget channel", nil, settingsOnly(200)},

	{"GET", "/api/v1/statuses", "", nil, omnichannel(200)},
	{"POST", "/api/v1/statuses", "", func(col int) any {
		return map[string]string{"name": fmt.Sprintf("Escalated %d", col), "class": "open"}
	}, adminOnly(201)},
	{"PATCH", "/api/v1/statuses/{id}", "status", jsonBody(map[string]int{"position": 9}), adminOnly(200)},
	{"DELETE", "/api/v1/statuses/{id}", "fresh status", nil, adminOnly(204)},

	{"GET", "/api/v1/templates", "", nil, omnichannel(200)},
	{"POST", "/api/v1/templates", "", func(col int) any {
		return map[string]string{"tag": fmt.Sprintf("hello%d", col), "content": "Hello!"}
	}, settingsOnly(201)},
	{"PATCH", "/api/v1/templates/{id}", "template", jsonBody(map[string]string{"tag": "bye", "content": "Goodbye!"}), settingsOnly(200)},
	{"DELETE", "/api/v1/templates/{id}", "fresh template", nil, settingsOnly(204)},

	{"GET", "/api/v1/scripts", "", nil, settingsOnly(200)},
	{"POST", "/api/v1/scripts", "", func(col int) any {
		return map[string]any{"name": fmt.Sprintf("Pricing %d", col), "match": "contains", "pattern": "/pricing", "request_form": true}
	}, settingsOnly(201)},
	{"PUT", "/api/v1/scripts/order", "", func(int) any { return everyScript{} }, settingsOnly(200)},
	{"PATCH", "/api/v1/scripts/{id}", "script", jsonBody(map[string]any{"name": "Checkout", "active": false}), settingsOnly(200)},
	{"DELETE", "/api/v1/scripts/{id}", "fresh script", nil, settingsOnly(204)},
	{"GET", "/api/v1/visitors", "", nil, managementOnly(200)},

	// Settings → Omnichannel: the defaults but the time zone, so that the
	// rows after it see the same lists and may go Offline.
	{"GET", "/api/v1/settings/omnichannel", "", nil, omnichannel(200)},
	{"PUT", "/api/v1/settings/omnichannel", "", jsonBody(map[string]any{
		"merge_replies": false, "department_avatar": false, "view_channels": []string{}, "view_statuses": []int64{},
		"restrict_offline_statuses": []int64{}, "time_zone": "Europe/Berlin", "grace_seconds": 120,
	}), settingsOnly(200)},
	{"GET", "/api/v1/dispatch", "", nil, settingsOnly(200)},
	{"PUT", "/api/v1/dispatch/{id}", "group", jsonBody(map[string]any{"enabled": false, "capacity": 3}), settingsOnly(200)},
	{"GET", "/api/v1/away-reasons", "", nil, omnichannel(200)},
	{"POST", "/api/v1/away-reasons", "", func(col int) any {
		return map[string]string{"name": fmt.Sprintf("Lunch %d", col)}
	}, adminOnly(201)},
	{"PATCH", "/api/v1/away-reasons/{id}", "away reason", jsonBody(map[string]string{"name": "Training"}), adminOnly(200)},
	{"DELETE", "/api/v1/away-reasons/{id}", "fresh away reason", nil, adminOnly(204)},
	// Business hours and SLA policies: omnichannel.settings. A policy's
	// business_hours_id 1 is the default 24/7 schedule, which always exists.
	{"GET", "/api/v1/business-hours", "", nil, settingsOnly(200)},
	{"POST", "/api/v1/business-hours", "", func(col int) any {
		return map[string]any{"name": fmt.Sprintf("Office %d", col), "time_zone": "Europe/Berlin",
			"week": []map[string]string{{"day": "monday", "start": "09:00", "end": "18:00"}}, "holidays": []any{}}
	}, settingsOnly(201)},
	{"PUT", "/api/v1/business-hours/{id}", "business hours", jsonBody(map[string]any{"name": "Support hours", "time_zone": "Europe/Berlin",
		"week":     []map[string]string{{"day": "monday", "start": "08:00", "end": "17:00"}, {"day": "friday", "start": "22:00", "end": "06:00"}},
		"holidays": []map[string]any{{"name": "Christmas", "from": "2026-12-24", "to": "2026-12-26", "yearly": true}},
	}), settingsOnly(200)},
	{"DELETE", "/api/v1/business-hours/{id}", "fresh business hours", nil, settingsOnly(204)},
	{"GET", "/api/v1/sla-policies", "", nil, settingsOnly(200)},
	// The order must name every policy but the default exactly once: this row
	// runs before any other policy exists (the "SLA policy" fixture is made on
	// first use), so the list is empty.
	{"PUT", "/api/v1/sla-policies/order", "", jsonBody(map[string][]int64{"ids": {}}), settingsOnly(204)},
	{"POST", "/api/v1/sla-policies", "", func(col int) any {
		return map[string]any{"name": fmt.Sprintf("VIP %d", col), "business_hours_id": 1, "targets": map[string]int{"first_response": 300}}
	}, settingsOnly(201)},
	{"PUT", "/api/v1/sla-policies/{id}", "SLA policy", jsonBody(map[string]any{"name": "Priority", "business_hours_id": 1,
		"targets": map[string]int{"first_response": 120, "resolution": 86400}, "warning_percent": 75, "on_breach": "requeue",
	}), settingsOnly(200)},
	{"DELETE", "/api/v1/sla-policies/{id}", "fresh SLA policy", nil, settingsOnly(204)},
	{"GET", "/api/v1/management/chats", "", nil, managementOnly(200)},
	{"GET", "/api/v1/management/agents", "", nil, managementOnly(200)},
	{"GET", "/api/v1/stats/summary", "", nil, managementOnly(200)},
	{"GET", "/api/v1/stats/agents", "", nil, managementOnly(200)},
	{"GET", "/api/v1/stats/load", "", nil, managementOnly(200)},
	{"GET", "/api/v1/stats/breaches", "", nil, managementOnly(200)},

	{"GET", "/api/v1/custom-fields", "", nil, omnichannel(200)},
	{"POST", "/api/v1/custom-fields", "", func(col int) any {
		return map[string]string{"name": fmt.Sprintf("Contract %d", col), "type": "text"}
	}, adminOnly(201)},
	{"PATCH", "/api/v1/custom-fields/{id}", "field", jsonBody(map[string]string{"name": "Plan", "type": "text"}), adminOnly(200)},
	{"DELETE", "/api/v1/custom-fields/{id}", "fresh field", nil, adminOnly(204)},

	{"POST", "/api/v1/auth/logout", "", nil, loggedIn(204)},
}

func TestRightsMatrix(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		admin := e.admin()
		doc := fetchOpenAPI(t, e)

		// One agent per right-set, logged in once.
		clients := make([]*client, len(rightSets))
		for col, set := range rightSets {
			if col == 0 {
				clients[col] = e.anonymous()
				continue
			}
			email := fmt.Sprintf("col%d@example.com", col)
			admin.create("/api/v1/agents", map[string]any{"email": email, "name": set.name, "password": passwordOf(col), "is_admin": set.admin})
			if len(set.rights) > 0 {
				id := agentID(t, admin, email)
				admin.create("/api/v1/groups", map[string]any{"name": "rights " + set.name, "rights": set.rights, "member_ids": []int64{id}})
			}
			clients[col] = e.login(email, passwordOf(col))
		}
		channel, token := createChannel(t, admin, "Rights")
		conversation, message := ingest(t, e, channel, token, "rights-client", "Where is my order?", raw{"image/png", pngBytes})
		fixtures := map[string]func() int64{
			"channel":      constant(channel),
			"conversation": constant(conversation),
			"message":      constant(message),
			"fresh conversation": func() int64 {
				id, _ := ingest(t, e, channel, token, fmt.Sprintf("client-%d", counter()), "Hello", raw{})
				return id
			},
			"fresh channel": func() int64 { id, _ := createChannel(t, admin, fmt.Sprintf("Doomed %d", counter())); return id },
			"fresh widget channel": func() int64 {
				return admin.create("/api/v1/channels", map[string]any{"kind": "widget", "name": fmt.Sprintf("Site %d", counter()),
					"widget": map[string]any{"origins": []string{"https://shop.example.com"}}})
			},
			"status": constant(admin.create("/api/v1/statuses", map[string]string{"name": "Escalated", "class": "open"})),
			"fresh status": func() int64 {
				return admin.create("/api/v1/statuses", map[string]string{"name": fmt.Sprintf("Doomed %d", counter()), "class": "waiting"})
			},
			"template": constant(admin.create("/api/v1/templates", map[string]string{"tag": "thanks", "content": "Thank you!"})),
			"fresh template": func() int64 {
				return admin.create("/api/v1/templates", map[string]string{"tag": fmt.Sprintf("doomed%d", counter()), "content": "x"})
			},
			"field": constant(admin.create("/api/v1/custom-fields", map[string]string{"name": "Plan", "type": "text"})),
			"fresh field": func() int64 {
				return admin.create("/api/v1/custom-fields", map[string]string{"name": fmt.Sprintf("Doomed %d", counter()), "type": "text"})
			},
			"script": constant(admin.create("/api/v1/scripts", map[string]string{"name": "Support pages", "pattern": "/support"})),
			"fresh script": func() int64 {
				return admin.create("/api/v1/scripts", map[string]string{"name": fmt.Sprintf("Doomed %d", counter()), "pattern": "/doomed"})
			},
			"fresh assigned conversation": func() int64 {
				id, _ := ingest(t, e, channel, token, fmt.Sprintf("client-%d", counter()), "Hello", raw{})
				if res := admin.call("POST", fmt.Sprintf("/api/v1/conversations/%d/take", id), nil); res.status != http.StatusOK {
					t.Fatalf("take request %d: %d %s", id, res.status, res.body)
				}
				return id
			},
			"away reason": constant(admin.create("/api/v1/away-reasons", map[string]string{"name": "Meeting"})),
			"fresh away reason": func() int64 {
				return admin.create("/api/v1/away-reasons", map[string]string{"name": fmt.Sprintf("Doomed %d", counter())})
			},
			"business hours": constant(admin.create("/api/v1/business-hours", map[string]any{"name": "Office hours", "time_zone": "Europe/Berlin",
				"week": []map[string]string{{"day": "monday", "start": "09:00", "end": "18:00"}}, "holidays": []any{}})),
			"fresh business hours": func() int64 {
				return admin.create("/api/v1/business-hours", map[string]any{"name": fmt.Sprintf("Doomed %d", counter()), "time_zone": "UTC",
					"week": []map[string]string{{"day": "tuesday", "start": "09:00", "end": "18:00"}}, "holidays": []any{}})
			},
			// Made on first use, after PUT /sla-policies/order (see its row).
			"SLA policy": func() func() int64 {
				var id int64
				return func() int64 {
					if id == 0 {
						id = admin.create("/api/v1/sla-policies", map[string]any{"name": "VIP", "business_hours_id": 1, "targets": map[string]int{"first_response": 300}})
					}
					return id
				}
			}(),
			"fresh SLA policy": func() int64 {
				return admin.create("/api/v1/sla-policies", map[string]any{"name": fmt.Sprintf("Doomed %d", counter()), "business_hours_id": 1,
					"targets": map[string]int{"first_response": 60}})
			},
			"agent":      constant(admin.create("/api/v1/agents", map[string]string{"email": "target@example.com", "name": "Target"})),
			"group":      constant(admin.create("/api/v1/groups", map[string]any{"name": "Target group"})),
			"department": constant(admin.create("/api/v1/departments", map[string]string{"name": "Support"})),
			"fresh group": func() int64 {
				return admin.create("/api/v1/groups", map[string]any{"name": "Doomed " + strconv.Itoa(counter())})
			},
			"fresh department": func() int64 {
				return admin.create("/api/v1/departments", map[string]any{"name": "Doomed " + strconv.Itoa(counter())})
			},
		}

		for _, row := range rightsTable {
			for col, set := range rightSets {
				path := row.route
				if row.id != "" {
					path = strings.Replace(path, "{id}", strconv.FormatInt(fixtures[row.id](), 10), 1)
					path = strings.Replace(path, "{index}", "0", 1)
				}
				var body any
				if row.body != nil {
					body = row.body(col)
				}
				if _, ok := body.(everyScript); ok {
					body = map[string][]int64{"ids": scriptIDs(t, admin)}
				}
				res := clients[col].call(row.method, path, body)
				if res.status != row.want[col] {
					t.Errorf("%s %s as %s: status %d, want %d (%s)", row.method, row.route, set.name, res.status, row.want[col], res.body)
				}
				if !doc.documents(row.method, row.route, res.status) {
					t.Errorf("%s %s answered %d, which openapi.json does not document", row.method, row.route, res.status)
				}
			}
		}
	})
}

func TestEveryAPIRouteHasARightsRow(t *testing.T) {
	e := newEnv(t, sqliteEngine(t))
	inTable := map[string]bool{}
	for _, row := range rightsTable {
		inTable[row.method+" "+row.route] = true
	}
	err := chi.Walk(e.app.Handler.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if strings.HasPrefix(route, "/api/v1/") && method != "HEAD" && !inTable[method+" "+route] {
			t.Errorf("%s %s has no row in rightsTable", method, route)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func constant(id int64) func() int64 { return func() int64 { return id } }

var count atomic.Int64

// counter gives unique numbers for names and ids, also across goroutines.
func counter() int { return int(count.Add(1)) }

// scriptIDs lists the ids of every script, last first.
func scriptIDs(t *testing.T, admin *client) []int64 {
	t.Helper()
	var list struct{ Scripts []struct{ ID int64 } }
	admin.call("GET", "/api/v1/scripts", nil).decode(t, &list)
	ids := []int64{}
	for i := len(list.Scripts) - 1; i >= 0; i-- {
		ids = append(ids, list.Scripts[i].ID)
	}
	return ids
}

func agentID(t *testing.T, admin *client, email string) int64 {
	t.Helper()
	var list struct {
		Agents []struct {
			ID    int64
			Email string
		}
	}
	admin.call("GET", "/api/v1/agents", nil).decode(t, &list)
	for _, a := range list.Agents {
		if a.Email == email {
			return a.ID
		}
	}
	t.Fatalf("no agent %s", email)
	return 0
}
