package httpapi_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// team is an administrator, two queue agents and the api channel they serve.
type team struct {
	admin, anna, boris *client
	annaID, borisID    int64
	channel            int64
	token              string
}

func newTeam(t *testing.T, e *env) team {
	t.Helper()
	tm := team{admin: e.admin()}
	tm.annaID = tm.admin.create("/api/v1/agents", map[string]string{"email": "anna@example.com", "name": "Anna", "password": "anna-password"})
	tm.borisID = tm.admin.create("/api/v1/agents", map[string]string{"email": "boris@example.com", "name": "Boris", "password": "boris-password"})
	tm.admin.create("/api/v1/groups", map[string]any{"name": "Support", "rights": []string{"omnichannel", "omnichannel.unassigned"}, "member_ids": []int64{tm.annaID, tm.borisID}})
	tm.anna, tm.boris = e.login("anna@example.com", "anna-password"), e.login("boris@example.com", "boris-password")
	tm.channel, tm.token = createChannel(t, tm.admin, "Shop")
	return tm
}

type conversationJSON struct {
	ID          int64  `json:"id"`
	AssigneeID  int64  `json:"assignee_id"`
	StatusID    int64  `json:"status_id"`
	Mode        string `json:"mode"`
	Subject     string `json:"subject"`
	Unread      int    `json:"unread"`
	ClosedAt    *string
	ClientID    int64  `json:"client_id"`
	LastPreview string `json:"last_message_preview"`
}

func (c *client) list(t *testing.T, query string) []conversationJSON {
	t.Helper()
	res := c.call("GET", "/api/v1/conversations?"+query, nil)
	var out struct{ Conversations []conversationJSON }
	res.decode(t, &out)
	if res.status != 200 {
		t.Fatalf("list %s: %d %s", query, res.status, res.body)
	}
	return out.Conversations
}

func (c *client) messages(t *testing.T, id int64) []map[string]any {
	t.Helper()
	var out struct{ Messages []map[string]any }
	c.call("GET", fmt.Sprintf("/api/v1/conversations/%d/messages", id), nil).decode(t, &out)
	return out.Messages
}

func ids(list []conversationJSON) []int64 {
	out := []int64{}
	for _, c := range list {
		out = append(out, c.ID)
	}
	return out
}

func TestLiveChatLoop(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		tm := newTeam(t, e)
		first, _ := ingest(t, e, tm.channel, tm.token, "ivan", "My order is late\nIt was due Monday", raw{})
		second, _ := ingest(t, e, tm.channel, tm.token, "olga", "Refund please", raw{})
		if again, _ := ingest(t, e, tm.channel, tm.token, "ivan", "Hello?", raw{}); again != first {
			t.Fatalf("a second message of the same client opened request %d, want %d", again, first)
		}

		for name, c := range map[string]*client{"Anna": tm.anna, "Boris": tm.boris} {
			if got := ids(c.list(t, "view=unassigned")); fmt.Sprint(got) != fmt.Sprint([]int64{first, second}) {
				t.Errorf("%s's queue = %v, want oldest first %v", name, got, []int64{first, second})
			}
		}
		queue := tm.anna.list(t, "view=unassigned")
		if queue[0].Subject != "My order is late" || queue[0].Unread != 2 {
			t.Errorf("queue row: subject %q unread %d", queue[0].Subject, queue[0].Unread)
		}

		// Both press "Take the chat" at the same moment: exactly one wins.
		var wg sync.WaitGroup
		results := make([]response, 2)
		for i, c := range []*client{tm.anna, tm.boris} {
			wg.Go(func() { results[i] = c.call("POST", fmt.Sprintf("/api/v1/conversations/%d/take", first), nil) })
		}
		wg.Wait()
		winner, loser := tm.anna, tm.boris
		if results[1].status == 200 {
			winner, loser = tm.boris, tm.anna
			results[0], results[1] = results[1], results[0]
		}
		code, _ := results[1].errorCode()
		if results[0].status != 200 || results[1].status != 409 || code != "already_taken" || !strings.Contains(string(results[1].body), "already taken by") {
			t.Fatalf("simultaneous takes answered %d and %d %s", results[0].status, results[1].status, results[1].body)
		}
		if got := ids(loser.list(t, "view=unassigned")); fmt.Sprint(got) != fmt.Sprint([]int64{second}) {
			t.Errorf("after the take the other agent's queue is %v", got)
		}

		path := fmt.Sprintf("/api/v1/conversations/%d", first)
		if res := winner.call("POST", path+"/messages", map[string]string{"kind": "reply", "body": "Checking it now"}); res.status != 201 {
			t.Fatalf("reply: %d %s", res.status, res.body)
		}
		if res := winner.call("POST", path+"/messages", map[string]string{"kind": "note", "body": "Courier says Tuesday"}); res.status != 201 {
			t.Fatalf("note: %d %s", res.status, res.body)
		}
		if res := loser.call("POST", path+"/messages", map[string]string{"kind": "reply", "body": "Me too"}); res.status != 404 {
			t.Errorf("an agent who does not see the request replied: %d", res.status)
		}
		kinds := []string{}
		for _, m := range winner.messages(t, first) {
			kinds = append(kinds, m["kind"].(string))
		}
		if got := strings.Join(kinds, " "); got != "client client event reply note" {
			t.Errorf("correspondence kinds = %s", got)
		}

		// Transfer with a note: the request moves to the other agent.
		loserID := tm.annaID
		if loser == tm.boris {
			loserID = tm.borisID
		}
		if res := winner.call("POST", path+"/transfer", map[string]any{"agent_id": loserID, "note": "Over to you"}); res.status != 200 {
			t.Fatalf("transfer: %d %s", res.status, res.body)
		}
		if got := ids(loser.list(t, "view=chats")); !contains(got, first) {
			t.Errorf("the receiver's chats %v lack the transferred request", got)
		}
		if res := winner.call("GET", path, nil); res.status != 404 {
			t.Errorf("after transferring, the former assignee still sees the request: %d", res.status)
		}

		// Close; the client's next message opens a new request of the same client.
		if res := loser.call("POST", path+"/close", nil); res.status != 200 {
			t.Fatalf("close: %d %s", res.status, res.body)
		}
		if res := loser.call("POST", path+"/messages", map[string]string{"kind": "reply", "body": "one more"}); res.status != 409 {
			t.Errorf("reply to a closed request: %d, want 409", res.status)
		}
		next, _ := ingest(t, e, tm.channel, tm.token, "ivan", "Still nothing", raw{})
		if next == first {
			t.Fatal("a message after close went into the closed request")
		}
		tm.admin.call("POST", fmt.Sprintf("/api/v1/conversations/%d/take", next), nil)
		var prev struct{ Conversations []conversationJSON }
		tm.admin.call("GET", fmt.Sprintf("/api/v1/conversations/%d/previous", next), nil).decode(t, &prev)
		if fmt.Sprint(ids(prev.Conversations)) != fmt.Sprint([]int64{first}) {
			t.Errorf("previous requests = %v, want [%d]", ids(prev.Conversations), first)
		}
		var cl struct{ Requests int }
		tm.admin.call("GET", fmt.Sprintf("/api/v1/conversations/%d/client", next), nil).decode(t, &cl)
		if cl.Requests != 2 {
			t.Errorf("the client has %d requests, want 2", cl.Requests)
		}

		// Close and open the request: later client messages land in the classic request.
		if res := tm.admin.call("POST", fmt.Sprintf("/api/v1/conversations/%d/classic", next), nil); res.status != 200 {
			t.Fatalf("classic: %d %s", res.status, res.body)
		}
		if later, _ := ingest(t, e, tm.channel, tm.token, "ivan", "Any news?", raw{}); later != next {
			t.Errorf("a message after 'close and open' opened %d, want the classic request %d", later, next)
		}
		if got := ids(tm.admin.list(t, "view=classic")); !contains(got, next) {
			t.Errorf("classic list %v lacks %d", got, next)
		}
		if got := ids(tm.admin.list(t, "view=chats")); contains(got, next) {
			t.Errorf("a classic request is still in All chats: %v", got)
		}
		var c conversationJSON
		tm.admin.call("PUT", fmt.Sprintf("/api/v1/conversations/%d/status", next), map[string]int{"status_id": 3}).decode(t, &c)
		if c.StatusID != 3 || c.Mode != "classic" {
			t.Errorf("status change in the classic view: %+v", c)
		}
	})
}

func TestRequestsRefuseBadInput(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		tm := newTeam(t, e)
		id, _ := ingest(t, e, tm.channel, tm.token, "ivan", "Hello", raw{})
		closed, _ := ingest(t, e, tm.channel, tm.token, "olga", "Bye", raw{})
		tm.admin.call("POST", fmt.Sprintf("/api/v1/conversations/%d/take", id), nil)
		tm.admin.call("POST", fmt.Sprintf("/api/v1/conversations/%d/close", closed), nil)
		nobody := tm.admin.create("/api/v1/agents", map[string]string{"email": "viewer@example.com", "name": "Viewer", "password": "viewer-password"})
		viewer := e.login("viewer@example.com", "viewer-password")
		inbound := fmt.Sprintf("/api/v1/channels/%d/inbound", tm.channel)
		auth := []string{"Authorization", "Bearer " + tm.token}
		path := fmt.Sprintf("/api/v1/conversations/%d", id)
		cases := []struct {
			name   string
			c      *client
			method string
			path   string
			body   any
			header []string
			status int
			code   string
		}{
			{"empty client message", e.anonymous(), "POST", inbound, map[string]any{"message_id": "e1", "sender": map[string]string{"id": "x"}, "text": "  "}, auth, 422, "validation_failed"},
			{"over-long client message", e.anonymous(), "POST", inbound, map[string]any{"message_id": "e2", "sender": map[string]string{"id": "x"}, "text": strings.Repeat("a", 10001)}, auth, 422, "validation_failed"},
			{"client message without a sender", e.anonymous(), "POST", inbound, map[string]any{"message_id": "e3", "text": "hi"}, auth, 422, "validation_failed"},
			{"attachment that is not base64", e.anonymous(), "POST", inbound, map[string]any{"sender": map[string]string{"id": "x"}, "attachments": []map[string]string{{"filename": "a", "data": "%%%"}}}, auth, 422, "validation_failed"},
			{"wrong channel token", e.anonymous(), "POST", inbound, map[string]any{"sender": map[string]string{"id": "x"}, "text": "hi"}, []string{"Authorization", "Bearer nope"}, 401, "invalid_token"},
			{"unknown channel", e.anonymous(), "POST", "/api/v1/channels/999/inbound", map[string]any{"sender": map[string]string{"id": "x"}, "text": "hi"}, auth, 401, "invalid_token"},
			{"empty reply", tm.admin, "POST", path + "/messages", map[string]string{"kind": "reply", "body": " "}, nil, 422, "validation_failed"},
			{"over-long reply", tm.admin, "POST", path + "/messages", map[string]string{"kind": "reply", "body": strings.Repeat("я", 10001)}, nil, 422, "validation_failed"},
			{"unknown message kind", tm.admin, "POST", path + "/messages", map[string]string{"kind": "client", "body": "x"}, nil, 422, "validation_failed"},
			{"unknown request", tm.admin, "GET", "/api/v1/conversations/999999", nil, nil, 404, "not_found"},
			{"reply to a closed request", tm.admin, "POST", fmt.Sprintf("/api/v1/conversations/%d/messages", closed), map[string]string{"kind": "reply", "body": "x"}, nil, 409, "closed"},
			{"taking an already taken request", tm.anna, "POST", path + "/take", nil, nil, 409, "already_taken"},
			{"a note from an agent without rights", viewer, "POST", path + "/messages", map[string]string{"kind": "note", "body": "x"}, nil, 403, "forbidden"},
			{"transfer to an unknown agent", tm.admin, "POST", path + "/transfer", map[string]int{"agent_id": 999}, nil, 422, "validation_failed"},
			{"transfer to an agent without the module", tm.admin, "POST", path + "/transfer", map[string]int64{"agent_id": nobody}, nil, 422, "validation_failed"},
			{"unknown status", tm.admin, "PUT", path + "/status", map[string]int{"status_id": 999}, nil, 422, "validation_failed"},
			{"unknown list", tm.admin, "GET", "/api/v1/conversations?view=everything", nil, nil, 422, "validation_failed"},
			{"forged cursor", tm.admin, "GET", "/api/v1/conversations?after=zzz", nil, nil, 422, "validation_failed"},
		}
		for _, c := range cases {
			res := c.c.call(c.method, c.path, c.body, c.header...)
			if code, _ := res.errorCode(); res.status != c.status || code != c.code {
				t.Errorf("%s: %d %s, want %d %s", c.name, res.status, res.body, c.status, c.code)
			}
		}
		if n := len(tm.admin.messages(t, id)); n != 2 {
			t.Errorf("refused requests changed the correspondence: %d messages, want 2 (the client's and the take)", n)
		}
		if got := ids(tm.admin.list(t, "view=chats")); len(got) != 1 {
			t.Errorf("refused client messages opened requests: %v", got)
		}
	})
}

func TestRedeliveryChangesNothing(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		tm := newTeam(t, e)
		body := map[string]any{"message_id": "wamid.1", "sender": map[string]string{"id": "ivan"}, "text": "Hi"}
		inbound := fmt.Sprintf("/api/v1/channels/%d/inbound", tm.channel)
		var wg sync.WaitGroup
		answers := make([]response, 8)
		for i := range answers {
			wg.Go(func() { answers[i] = e.anonymous().call("POST", inbound, body, "Authorization", "Bearer "+tm.token) })
		}
		wg.Wait()
		created := 0
		for _, a := range answers {
			if a.status != http.StatusOK {
				t.Fatalf("redelivery answered %d %s", a.status, a.body)
			}
			if strings.Contains(string(a.body), `"duplicate":false`) {
				created++
			}
		}
		if created != 1 {
			t.Errorf("%d of 8 concurrent deliveries of one message were stored, want 1", created)
		}
		list := tm.admin.list(t, "view=chats")
		if len(list) != 1 || len(tm.admin.messages(t, list[0].ID)) != 1 {
			t.Errorf("redelivery created %d requests", len(list))
		}
	})
}

func contains(list []int64, id int64) bool {
	for _, v := range list {
		if v == id {
			return true
		}
	}
	return false
}

func TestSettingsAreEditedFieldByField(t *testing.T) {
	e := newEnv(t, sqliteEngine(t))
	admin := e.admin()
	tpl := admin.create("/api/v1/templates", map[string]any{"tag": "hello", "content": "Hello!", "channels": []string{"telegram"}})
	var got struct {
		Tag      string
		Content  string
		Channels []string
	}
	res := admin.call("PATCH", fmt.Sprintf("/api/v1/templates/%d", tpl), map[string]string{"content": "Hi there!"})
	res.decode(t, &got)
	if res.status != 200 || got.Tag != "hello" || got.Content != "Hi there!" || fmt.Sprint(got.Channels) != "[telegram]" {
		t.Errorf("partial template change: %d %s", res.status, res.body)
	}
	field := admin.create("/api/v1/custom-fields", map[string]any{"name": "Plan", "type": "select", "options": []string{"Free", "Pro"}})
	res = admin.call("PATCH", fmt.Sprintf("/api/v1/custom-fields/%d", field), map[string]string{"name": "Tariff"})
	if res.status != 200 || !strings.Contains(string(res.body), `"options":["Free","Pro"]`) || !strings.Contains(string(res.body), `"name":"Tariff"`) {
		t.Errorf("partial field change: %d %s", res.status, res.body)
	}
}

func TestReviewedEdgesAnswerClearly(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		tm := newTeam(t, e)
		cases := []struct {
			name, method, path string
			body               any
			status             int
			field              string
		}{
			{"a NUL character in text", "POST", "/api/v1/templates", `{"tag":"nul","content":"a\u0000b"}`, 400, ""},
			{"a position beyond range", "POST", "/api/v1/statuses", map[string]any{"name": "Far", "class": "open", "position": 3000000000}, 422, "position"},
			{"a channel for a group that does not exist", "PATCH", fmt.Sprintf("/api/v1/channels/%d", tm.channel), map[string]int{"group_id": 999}, 422, "group_id"},
			{"a channel for a department that does not exist", "PATCH", fmt.Sprintf("/api/v1/channels/%d", tm.channel), map[string]int{"department_id": 999}, 422, "department_id"},
		}
		for _, c := range cases {
			res := tm.admin.call(c.method, c.path, c.body)
			if _, field := res.errorCode(); res.status != c.status || field != c.field {
				t.Errorf("%s: %d %s, want %d field %q", c.name, res.status, res.body, c.status, c.field)
			}
		}
		// A redelivered message's attachment is not kept twice.
		body := map[string]any{"message_id": "with-file", "sender": map[string]string{"id": "ivan"}, "text": "photo",
			"attachments": []map[string]string{{"filename": "a.png", "data": base64.StdEncoding.EncodeToString(pngBytes)}}}
		for range 3 {
			e.anonymous().call("POST", fmt.Sprintf("/api/v1/channels/%d/inbound", tm.channel), body, "Authorization", "Bearer "+tm.token)
		}
		files, _ := filepath.Glob(filepath.Join(e.dataDir, "files", "attachments", "*", "*", "*"))
		if len(files) != 1 {
			t.Errorf("three deliveries of one message left %d files", len(files))
		}
	})
}

func TestPreviousRequestsShowOnlyWhatTheAgentMayRead(t *testing.T) {
	e := newEnv(t, sqliteEngine(t))
	tm := newTeam(t, e)
	other, otherToken := createChannel(t, tm.admin, "Second shop")
	old, _ := ingest(t, e, tm.channel, tm.token, "ivan", "Old question", raw{})
	tm.admin.call("POST", fmt.Sprintf("/api/v1/conversations/%d/close", old), nil)
	mine, _ := ingest(t, e, tm.channel, tm.token, "ivan", "New question", raw{})
	theirs, _ := ingest(t, e, other, otherToken, "ivan", "Same client elsewhere", raw{})
	tm.anna.call("POST", fmt.Sprintf("/api/v1/conversations/%d/take", mine), nil)
	tm.boris.call("POST", fmt.Sprintf("/api/v1/conversations/%d/take", theirs), nil)
	tm.boris.call("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", theirs), map[string]string{"kind": "note", "body": "Boris's private note"})

	if res := tm.anna.call("GET", fmt.Sprintf("/api/v1/conversations/%d/messages", old), nil); res.status != 200 {
		t.Errorf("Anna cannot read the client's closed request: %d", res.status)
	}
	if res := tm.anna.call("GET", fmt.Sprintf("/api/v1/conversations/%d/messages", theirs), nil); res.status != 404 {
		t.Errorf("Anna reads Boris's open request of the same client: %d %s", res.status, res.body)
	}
	var prev struct{ Conversations []conversationJSON }
	tm.anna.call("GET", fmt.Sprintf("/api/v1/conversations/%d/previous", mine), nil).decode(t, &prev)
	if got := ids(prev.Conversations); fmt.Sprint(got) != fmt.Sprint([]int64{old}) {
		t.Errorf("Anna's previous requests = %v, want only the closed %d", got, old)
	}
}
