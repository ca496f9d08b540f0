package httpapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

type activeChatJSON struct {
	ID              int64     `json:"id"`
	ChannelKind     string    `json:"channel_kind"`
	ClientName      string    `json:"client_name"`
	AssigneeID      int64     `json:"assignee_id"`
	AssigneeName    string    `json:"assignee_name"`
	DepartmentName  string    `json:"department_name"`
	CreatedAt       time.Time `json:"created_at"`
	LastMessageAt   time.Time `json:"last_message_at"`
	LastMessageKind string    `json:"last_message_kind"`
}

type activeChatsJSON struct {
	Chats []activeChatJSON `json:"chats"`
	Next  *string          `json:"next"`
}

func chatIDs(list []activeChatJSON) []int64 {
	out := []int64{}
	for _, c := range list {
		out = append(out, c.ID)
	}
	return out
}

func TestManagementShowsActiveChatsAndAgentsToSupervisorsOnly(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		tm := newTeam(t, e)
		supID := tm.admin.create("/api/v1/agents", map[string]string{"email": "sue@example.com", "name": "Sue", "password": "sue-password"})
		tm.admin.create("/api/v1/groups", map[string]any{"name": "Supervisors", "rights": []string{"omnichannel", "omnichannel.management"}, "member_ids": []int64{supID}})
		watcherID := tm.admin.create("/api/v1/agents", map[string]string{"email": "wes@example.com", "name": "Wes", "password": "wes-password"})
		tm.admin.create("/api/v1/groups", map[string]any{"name": "Watchers", "rights": []string{"omnichannel.management"}, "member_ids": []int64{watcherID}})
		sue := e.login("sue@example.com", "sue-password")
		wes := e.login("wes@example.com", "wes-password")

		// Three requests; Anna takes the second and answers it; the first
		// client writes again, which makes theirs the latest activity.
		var ids []int64
		for _, who := range []string{"first", "second", "third"} {
			id, _ := ingest(t, e, tm.channel, tm.token, who, "hello from "+who, raw{})
			ids = append(ids, id)
			time.Sleep(2 * time.Millisecond)
		}
		if res := tm.anna.call("POST", fmt.Sprintf("/api/v1/conversations/%d/take", ids[1]), nil); res.status != http.StatusOK {
			t.Fatalf("take: %d %s", res.status, res.body)
		}
		if res := tm.anna.call("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", ids[1]), map[string]string{"kind": "reply", "body": "hi"}); res.status != http.StatusCreated {
			t.Fatalf("reply: %d %s", res.status, res.body)
		}
		time.Sleep(2 * time.Millisecond)
		ingest(t, e, tm.channel, tm.token, "first", "anyone?", raw{})

		for _, path := range []string{"/api/v1/management/chats", "/api/v1/management/agents"} {
			for who, c := range map[string]*client{"an agent": tm.anna, "management without omnichannel": wes} {
				if res := c.call("GET", path, nil); res.status != http.StatusForbidden {
					t.Errorf("GET %s as %s: %d %s, want 403", path, who, res.status, res.body)
				}
			}
			if res := e.anonymous().call("GET", path, nil); res.status != http.StatusUnauthorized {
				t.Errorf("GET %s anonymously: %d, want 401", path, res.status)
			}
		}

		chats := func(c *client, query string) activeChatsJSON {
			t.Helper()
			res := c.call("GET", "/api/v1/management/chats?"+query, nil)
			if res.status != http.StatusOK {
				t.Fatalf("chats?%s: %d %s", query, res.status, res.body)
			}
			var out activeChatsJSON
			res.decode(t, &out)
			if out.Chats == nil || out.Next == nil {
				t.Fatalf("chats?%s: %s lacks chats or next", query, res.body)
			}
			return out
		}
		for query, want := range map[string][]int64{
			"":                          {ids[0], ids[1], ids[2]},
			"sort=duration":             {ids[0], ids[1], ids[2]},
			"sort=created":              {ids[2], ids[1], ids[0]},
			"sort=activity":             {ids[0], ids[1], ids[2]},
			"sort=activity&channel=api": {ids[0], ids[1], ids[2]},
			"sort=created&channel=api":  {ids[2], ids[1], ids[0]},
			"channel=telegram":          {},
			"department_id=999":         {},
		} {
			if got := chatIDs(chats(sue, query).Chats); !slices.Equal(got, want) {
				t.Errorf("chats?%s = %v, want %v", query, got, want)
			}
		}
		page := chats(tm.admin, "sort=created&limit=2")
		if got := chatIDs(page.Chats); !slices.Equal(got, []int64{ids[2], ids[1]}) || *page.Next == "" {
			t.Fatalf("first page of 2 = %v, next %q", got, *page.Next)
		}
		rest := chats(tm.admin, "sort=created&limit=2&cursor="+*page.Next)
		if got := chatIDs(rest.Chats); !slices.Equal(got, []int64{ids[0]}) || *rest.Next != "" {
			t.Errorf("second page = %v, next %q; want [%d] and no next", got, *rest.Next, ids[0])
		}
		for _, c := range chats(sue, "sort=duration").Chats {
			if c.ChannelKind != "api" || !strings.HasPrefix(c.ClientName, "Client ") || c.CreatedAt.IsZero() || c.LastMessageAt.IsZero() {
				t.Errorf("chat row %+v lacks its channel, client or times", c)
			}
			switch c.ID {
			case ids[1]:
				if c.AssigneeID != tm.annaID || c.AssigneeName != "Anna" || c.LastMessageKind != "reply" {
					t.Errorf("Anna's chat = %+v, want assigned to Anna, she wrote last", c)
				}
			default:
				if c.AssigneeID != 0 || c.AssigneeName != "" || c.LastMessageKind != "client" {
					t.Errorf("queued chat = %+v, want no assignee, the client wrote last", c)
				}
			}
		}

		// Limits out of range are clamped; what is no number is refused.
		if got := chats(sue, "limit=0"); len(got.Chats) != 1 || *got.Next == "" {
			t.Errorf("limit=0 gave %d chats, next %q; want 1 and a next page", len(got.Chats), *got.Next)
		}
		if got := chats(sue, "limit=100000"); len(got.Chats) != 3 || *got.Next != "" {
			t.Errorf("limit=100000 gave %d chats, next %q", len(got.Chats), *got.Next)
		}
		for query, field := range map[string]string{
			"sort=longest":                       "sort",
			"cursor=garbage":                     "cursor",
			"sort=activity&cursor=" + *page.Next: "cursor", // a cursor of another order
			"limit=many":                         "limit",
			"department_id=sales":                "department_id",
			"channel=fax":                        "channel",
		} {
			res := sue.call("GET", "/api/v1/management/chats?"+query, nil)
			if code, f := res.errorCode(); res.status != http.StatusUnprocessableEntity || code != "validation_failed" || f != field {
				t.Errorf("chats?%s: %d %s, want 422 naming %s", query, res.status, res.body, field)
			}
		}

		// Agents: Anna is away with an avatar, holds one chat and has
		// answered once today.
		if res := tm.admin.call("PUT", fmt.Sprintf("/api/v1/agents/%d/avatar", tm.annaID), raw{"image/png", pngBytes}); res.status != http.StatusOK {
			t.Fatalf("avatar: %d %s", res.status, res.body)
		}
		if res := tm.anna.call("PUT", "/api/v1/me/presence", map[string]string{"presence": "away"}); res.status != http.StatusOK {
			t.Fatalf("presence: %d %s", res.status, res.body)
		}
		res := sue.call("GET", "/api/v1/management/agents", nil)
		if res.status != http.StatusOK {
			t.Fatalf("agents: %d %s", res.status, res.body)
		}
		var out struct {
			Agents []map[string]any `json:"agents"`
		}
		res.decode(t, &out)
		var names []string
		byName := map[string]map[string]any{}
		for _, a := range out.Agents {
			name, _ := a["name"].(string)
			names = append(names, name)
			byName[name] = a
			for _, key := range []string{"id", "name", "avatar_url", "presence", "reason", "since", "connected", "active_chats", "capacity", "last_reply_at", "today"} {
				if _, ok := a[key]; !ok {
					t.Errorf("agent %s has no %s: %v", name, key, a)
				}
			}
		}
		// The administrator counts; Wes (management without omnichannel) does not.
		if !slices.Contains(names, "Anna") || !slices.Contains(names, "Boris") || !slices.Contains(names, "Sue") || slices.Contains(names, "Wes") || len(names) != 4 {
			t.Errorf("agents at work = %v, want the administrator, Anna, Boris and Sue", names)
		}
		anna := byName["Anna"]
		today, _ := anna["today"].(map[string]any)
		if url, _ := anna["avatar_url"].(string); !strings.HasPrefix(url, "/avatars/") || anna["presence"] != "away" || anna["reason"] != nil ||
			anna["active_chats"] != 1.0 || anna["capacity"] != 0.0 || anna["last_reply_at"] == nil || anna["connected"] != false ||
			today["replies"] != 1.0 || today["first_reply_seconds"] == nil || today["reply_seconds"] != nil {
			t.Errorf("Anna = %v", anna)
		}
		boris := byName["Boris"]
		if today, _ := boris["today"].(map[string]any); boris["avatar_url"] != nil || boris["active_chats"] != 0.0 || boris["last_reply_at"] != nil ||
			today["replies"] != 0.0 || today["first_reply_seconds"] != nil {
			t.Errorf("Boris = %v", boris)
		}
	})
}
