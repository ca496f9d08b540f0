package web_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/switchboard-hq/switchboard/internal/access"
	"github.com/switchboard-hq/switchboard/internal/browsertest"
	"github.com/switchboard-hq/switchboard/internal/channel"
	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/team"
)

// supervisorIn creates an agent in a group with the Management right (and
// Omnichannel, without the queue).
func supervisorIn(t *testing.T, srv server, email, name string) int64 {
	t.Helper()
	id := agentIn(t, srv, email, name)
	group, members := "Supervisors", []int64{id}
	rights := []access.Right{access.Omnichannel, access.Management}
	if _, err := srv.app.Team.CreateGroup(context.Background(), access.System, team.GroupPatch{Name: &group, Rights: &rights, MemberIDs: &members}); err != nil {
		t.Fatal(err)
	}
	return id
}

// apiChannel adds an API channel; a group other than 0 serves its requests.
func apiChannel(t *testing.T, srv server, name string, group int64) int64 {
	t.Helper()
	kind := cv.API
	p := channel.Patch{Kind: &kind, Name: &name}
	if group != 0 {
		p.GroupID = &group
	}
	ch, _, err := srv.app.Channels.Create(context.Background(), access.System, p, srv.url)
	if err != nil {
		t.Fatal(err)
	}
	return ch.ID
}

// ask makes a client write on the channel and returns the request it opened.
func ask(t *testing.T, srv server, ch int64, client, text string) int64 {
	t.Helper()
	res, err := srv.app.Conversations.Ingest(context.Background(), ch, cv.Inbound{
		ExternalID: client + ":" + text, Sender: cv.Sender{ExternalID: client, Name: client}, Text: text,
	})
	if err != nil || !res.Created {
		t.Fatalf("the client %s writes: %+v %v", client, res, err)
	}
	return res.ConversationID
}

func (c *apiClient) take(id int64) cv.Conversation {
	c.t.Helper()
	var conv cv.Conversation
	c.call(http.MethodPost, fmt.Sprintf("/conversations/%d/take", id), nil, &conv, http.StatusOK)
	return conv
}

func (c *apiClient) conversation(id int64) cv.Conversation {
	c.t.Helper()
	var conv cv.Conversation
	c.call(http.MethodGet, fmt.Sprintf("/conversations/%d", id), nil, &conv, http.StatusOK)
	return conv
}

// presence is the signed-in agent's stored status, as /me tells it.
func (c *apiClient) presence() team.Presence {
	c.t.Helper()
	var me struct {
		Agent struct {
			Presence team.Presence `json:"presence"`
		} `json:"agent"`
	}
	c.call(http.MethodGet, "/me", nil, &me, http.StatusOK)
	return me.Agent.Presence
}

// pick chooses a value in a <select> as a person does (the change event).
func pick(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector(` + js(sel) + `);
  s.value = ` + js(value) + `; s.dispatchEvent(new Event('change', {bubbles: true})); })()`)
}

// rowOf is the selector of a request's row in a list or table.
func rowOf(tag string, id int64) string {
	return tag + `[data-conversation-id="` + strconv.FormatInt(id, 10) + `"]`
}

// textOf is a JavaScript expression giving an element's trimmed text (empty when absent).
func textOf(sel string) string {
	return `((document.querySelector(` + js(sel) + `) || {}).textContent || '').trim()`
}

// waitJSWithin is waitJS with a shorter deadline, for what must happen live
// (before the pages' 10-second refresh could do it).
func waitJSWithin(t *testing.T, ctx context.Context, d time.Duration, what, cond string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		step, cancel := browsertest.Step(ctx)
		ok, err := chromedp.Run(step, chromedp.Evaluate[bool](cond))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			screenshot(t, ctx, strings.ReplaceAll(what, " ", "-"))
			t.Fatalf("not within %v: %s (last error: %v)", d, what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSupervisorReassignsAChatAndBothAgentsSeeItMove(t *testing.T) {
	srv := startServer(t)
	anna, boris := agentIn(t, srv, "anna@example.com", "Anna"), agentIn(t, srv, "boris@example.com", "Boris")
	groupOf(t, srv, "Support", anna, boris)
	supervisorIn(t, srv, "sue@example.com", "Sue")
	ch := apiChannel(t, srv, "Shop", 0)

	annaWin, borisWin, sueWin := browsertest.Window(t), browsertest.Window(t), browsertest.Window(t)
	login(t, annaWin, srv.url, "anna@example.com", "Anna-password")
	login(t, borisWin, srv.url, "boris@example.com", "Boris-password")
	login(t, sueWin, srv.url, "sue@example.com", "Sue-password")
	for _, w := range []context.Context{annaWin, borisWin} {
		goTo(t, w, "#/all", "#chats-empty, #chats-list")
	}
	goTo(t, sueWin, "#/management/chats", "#active-chats-empty, #active-chats")

	// A request arrives and Anna takes it.
	id := ask(t, srv, ch, "ivan", "Where is my order?")
	apiLogin(t, srv, "anna@example.com", "Anna-password").take(id)
	chatRow, tableRow := rowOf("li", id), rowOf("#active-chats tr", id)
	do(t, annaWin, "see the taken request in All chats", chromedp.WaitVisible(chromedp.CSS(chatRow)))

	// The supervisor sees it among the active chats, with Anna, without a reload.
	waitJSWithin(t, sueWin, 5*time.Second, "the request with Anna in Active chats", textOf(tableRow+" .chat-agent")+` === 'Anna'`)
	if got := text(t, sueWin, tableRow+" .chat-client"); got != "ivan" {
		t.Errorf("the Active chats row names the client %q, want ivan", got)
	}
	screenshot(t, sueWin, "active-chats")

	// She reassigns it to Boris with a note.
	const note = "VIP client, please call back"
	do(t, sueWin, "open the Reassign dialog", chromedp.Click(chromedp.CSS(tableRow+" .chat-reassign")))
	waitJS(t, sueWin, "Boris among the agents to choose", `!!document.querySelector('#transfer-agent option[value="`+strconv.FormatInt(boris, 10)+`"]')`)
	do(t, sueWin, "reassign to Boris with a note",
		pick("#transfer-agent", strconv.FormatInt(boris, 10)),
		chromedp.SendKeys(chromedp.CSS("#transfer-note"), note),
		chromedp.Click(chromedp.CSS("#transfer-submit")),
		chromedp.WaitNotPresent(chromedp.CSS("#transfer-dialog")),
	)
	waitJS(t, sueWin, "the row to show Boris", textOf(tableRow+" .chat-agent")+` === 'Boris'`)
	if got := text(t, sueWin, "#active-chats-notice"); !strings.Contains(got, "reassigned to Boris") {
		t.Errorf("the notice after reassigning reads %q", got)
	}

	// Both agents see it move live: out of Anna's list, into Boris's.
	waitJSWithin(t, annaWin, 5*time.Second, "the chat to leave Anna's All chats", `!document.querySelector(`+js(chatRow)+`)`)
	waitJSWithin(t, borisWin, 5*time.Second, "the chat to appear in Boris's All chats", `!!document.querySelector(`+js(chatRow)+`)`)
	do(t, borisWin, "open the chat and read the note",
		chromedp.Click(chromedp.CSS(chatRow+" a.conv-main")),
		chromedp.WaitVisible(chromedp.CSS("#composer")),
	)
	waitJS(t, borisWin, "the supervisor's note in the chat",
		`[...document.querySelectorAll('li.msg-note .msg-body')].some((b) => b.textContent === `+js(note)+`)`)
	if got := apiLogin(t, srv, "boris@example.com", "Boris-password").conversation(id); got.AssigneeID != boris || got.PreviousAssigneeID != anna {
		t.Errorf("after the reassignment the request is assigned to %d (before: %d), want Boris %d (before: Anna %d)", got.AssigneeID, got.PreviousAssigneeID, boris, anna)
	}
}

func TestAgentHoldingARequestCannotGoOffline(t *testing.T) {
	srv := startServer(t)
	anna := agentIn(t, srv, "anna@example.com", "Anna")
	groupOf(t, srv, "Support", anna)
	ch := apiChannel(t, srv, "Shop", 0)

	// The administrator keeps agents with Open requests online.
	admin := apiLogin(t, srv, "admin@example.com", "admin-password")
	var list struct{ Statuses []cv.Status }
	admin.call(http.MethodGet, "/statuses", nil, &list, http.StatusOK)
	i := slices.IndexFunc(list.Statuses, func(s cv.Status) bool { return s.Class == "open" && s.Default })
	if i < 0 {
		t.Fatalf("no default Open status in %+v", list.Statuses)
	}
	open := list.Statuses[i].ID
	var settings map[string]any
	admin.call(http.MethodGet, "/settings/omnichannel", nil, &settings, http.StatusOK)
	settings["restrict_offline_statuses"] = []int64{open}
	admin.call(http.MethodPut, "/settings/omnichannel", settings, &settings, http.StatusOK)

	win := browsertest.Window(t)
	login(t, win, srv.url, "anna@example.com", "Anna-password")
	goOnline(t, srv, win, anna)
	goTo(t, win, "#/all", "#chats-empty, #chats-list")

	annaAPI := apiLogin(t, srv, "anna@example.com", "Anna-password")
	id := ask(t, srv, ch, "ivan", "Where is my order?")
	if taken := annaAPI.take(id); taken.StatusID != open {
		t.Fatalf("a taken request is in status %d, want Open (%d)", taken.StatusID, open)
	}

	// Offline is refused: the note links to the request, the switch stays Online.
	link := `#presence-restricted a.restricted-request[data-conversation-id="` + strconv.FormatInt(id, 10) + `"]`
	do(t, win, "pick Offline", pick("#presence", "offline"), chromedp.WaitVisible(chromedp.CSS(link)))
	waitJS(t, win, "the switch to be back on Online", `(() => { const s = document.querySelector('#presence'); return s.value === 'online' && !s.disabled; })()`)
	screenshot(t, win, "offline-restricted")
	if got := evaluate[string](t, win, `document.querySelector(`+js(link)+`).getAttribute('href')`); got != "#/c/"+strconv.FormatInt(id, 10) {
		t.Errorf("the request's link goes to %q", got)
	}
	if got := annaAPI.presence(); got != team.Online {
		t.Errorf("after the refused Offline the stored status is %q, want online", got)
	}
	var refused struct {
		Error struct {
			Code     string  `json:"code"`
			Requests []int64 `json:"requests"`
		} `json:"error"`
	}
	annaAPI.call(http.MethodPut, "/me/presence", map[string]string{"presence": "offline"}, &refused, http.StatusConflict)
	if refused.Error.Code != "offline_restricted" || !slices.Equal(refused.Error.Requests, []int64{id}) {
		t.Errorf("the API refuses Offline with %+v, want offline_restricted naming request %d", refused.Error, id)
	}

	// The link opens the request; once it is closed, Offline works.
	do(t, win, "follow the link and close the request",
		chromedp.Click(chromedp.CSS(link)),
		chromedp.WaitNotPresent(chromedp.CSS("#presence-restricted")),
		chromedp.WaitVisible(chromedp.CSS(`button[data-action=close]`)),
		chromedp.Click(chromedp.CSS(`button[data-action=close]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`button[data-action=close]`)),
	)
	do(t, win, "pick Offline again", pick("#presence", "offline"))
	waitFor(t, "the status to be stored as offline", func() bool {
		a, err := srv.app.Team.Agent(context.Background(), access.System, anna)
		return err == nil && a.Presence == team.Offline
	})
	waitJS(t, win, "the switch to show Offline", `document.querySelector('#presence').value === 'offline' && !document.querySelector('#presence-restricted')`)
	if got := annaAPI.presence(); got != team.Offline {
		t.Errorf("after closing the request the stored status is %q, want offline", got)
	}
}

func TestANewRequestGoesToTheLeastLoadedOnlineAgent(t *testing.T) {
	srv := startServer(t)
	anna, boris := agentIn(t, srv, "anna@example.com", "Anna"), agentIn(t, srv, "boris@example.com", "Boris")
	support := groupOf(t, srv, "Support", anna, boris)
	ch := apiChannel(t, srv, "Shop", support)

	// Both agents work with the workspace open (connected) and Online.
	annaWin, borisWin := browsertest.Window(t), browsertest.Window(t)
	login(t, annaWin, srv.url, "anna@example.com", "Anna-password")
	login(t, borisWin, srv.url, "boris@example.com", "Boris-password")
	goOnline(t, srv, annaWin, anna)
	goOnline(t, srv, borisWin, boris)
	for _, w := range []context.Context{annaWin, borisWin} {
		goTo(t, w, "#/all", "#chats-empty, #chats-list")
	}

	// Before the dispatcher is on, Anna takes a request herself.
	annaAPI, borisAPI := apiLogin(t, srv, "anna@example.com", "Anna-password"), apiLogin(t, srv, "boris@example.com", "Boris-password")
	first := ask(t, srv, ch, "ivan", "Where is my order?")
	if c := annaAPI.take(first); c.GroupID != support {
		t.Fatalf("the channel's request belongs to group %d, want Support %d", c.GroupID, support)
	}

	// The administrator turns the dispatcher on for the group, capacity 3.
	admin := browsertest.Window(t)
	login(t, admin, srv.url, "admin@example.com", "admin-password")
	row := `#dispatch-rules tr[data-group-id="` + strconv.FormatInt(support, 10) + `"]`
	goTo(t, admin, "#/settings/omnichannel", row+" .dispatch-save")
	do(t, admin, "turn the dispatcher on with capacity 3",
		chromedp.Click(chromedp.CSS(row+" .dispatch-enabled")),
		chromedp.Evaluate[chromedp.Void](`(() => { const i = document.querySelector(`+js(row+" .dispatch-capacity")+`);
  i.value = '3'; i.dispatchEvent(new Event('input', {bubbles: true})); })()`),
		chromedp.Click(chromedp.CSS(row+" .dispatch-save")),
	)
	waitJS(t, admin, "the rule to be saved", textOf(row+" .dispatch-status")+` === 'Saved.'`)
	var rules struct{ Rules []map[string]any }
	apiLogin(t, srv, "admin@example.com", "admin-password").call(http.MethodGet, "/dispatch", nil, &rules, http.StatusOK)
	if i := slices.IndexFunc(rules.Rules, func(r map[string]any) bool { return r["group_id"] == float64(support) }); i < 0 ||
		rules.Rules[i]["enabled"] != true || rules.Rules[i]["capacity"] != float64(3) {
		t.Fatalf("after saving in the browser the rules are %v", rules.Rules)
	}

	// A new request goes to Boris, who has none: it shows in his window at once.
	asked := time.Now()
	second := ask(t, srv, ch, "olga", "Can I change the address?")
	waitJSWithin(t, borisWin, 5*time.Second, "the request to show in Boris's All chats as his", textOf(rowOf("li", second)+" .conv-assignee")+` === 'Boris'`)
	t.Logf("the dispatched request showed in Boris's window after %v", time.Since(asked).Round(time.Millisecond))
	if c := borisAPI.conversation(second); c.AssigneeID != boris {
		t.Fatalf("the second request went to agent %d, want Boris (%d)", c.AssigneeID, boris)
	}
	msgs, err := srv.app.Conversations.Messages(context.Background(), access.System, second, 0, 10)
	if err != nil || !slices.ContainsFunc(msgs, func(m cv.Message) bool {
		return m.Kind == cv.EventLine && m.Body == "Assigned to Boris by the dispatcher"
	}) {
		t.Errorf("the request has no line \"Assigned to Boris by the dispatcher\": %+v %v", msgs, err)
	}

	// Both hold one now: the next goes to whoever waited longest since their
	// last assignment — Anna, whose take came before Boris's assignment.
	third := ask(t, srv, ch, "petr", "Do you ship abroad?")
	waitJSWithin(t, annaWin, 5*time.Second, "the third request to show in Anna's All chats as hers", textOf(rowOf("li", third)+" .conv-assignee")+` === 'Anna'`)
	if c := annaAPI.conversation(third); c.AssigneeID != anna {
		t.Fatalf("the third request went to agent %d, want Anna (%d)", c.AssigneeID, anna)
	}
	waitJS(t, borisWin, "the third request to show in Boris's All chats as Anna's (or leave it)",
		`(() => { const r = document.querySelector(`+js(rowOf("li", third))+`); return !r || r.querySelector('.conv-assignee').textContent.trim() === 'Anna'; })()`)
}

func TestAgentsViewUpdatesWhenAnAgentReplies(t *testing.T) {
	srv := startServer(t)
	anna := agentIn(t, srv, "anna@example.com", "Anna")
	groupOf(t, srv, "Support", anna)
	supervisorIn(t, srv, "sue@example.com", "Sue")
	ch := apiChannel(t, srv, "Shop", 0)

	sue := browsertest.Window(t)
	login(t, sue, srv.url, "sue@example.com", "Sue-password")
	row := `#agents-at-work tr[data-agent-id="` + strconv.FormatInt(anna, 10) + `"]`
	goTo(t, sue, "#/management/agents", row)
	if got := text(t, sue, row+" .agent-chats"); !regexp.MustCompile(`^0( / \d+)?$`).MatchString(got) {
		t.Errorf("before any request Anna's active chats read %q, want 0", got)
	}
	// The page's 10-second tick happens right after a load; what follows must be live.
	annaAPI := apiLogin(t, srv, "anna@example.com", "Anna-password")
	id := ask(t, srv, ch, "ivan", "Where is my order?")
	annaAPI.take(id)
	annaAPI.call(http.MethodPost, fmt.Sprintf("/conversations/%d/messages", id), map[string]string{"kind": "reply", "body": "Checking now, Ivan."}, nil, http.StatusCreated)

	waitJSWithin(t, sue, 5*time.Second, "Anna's row to show one active chat and one reply today", `(() => {
  const r = document.querySelector(`+js(row)+`);
  if (!r) return false;
  const cell = (c) => r.querySelector(c).textContent.trim();
  return /^1( \/ \d+)?$/.test(cell('.agent-chats')) && cell('.agent-replies') === '1' && cell('.agent-last-reply') !== '—';
})()`)
	screenshot(t, sue, "agents")
	got := evaluate[[]string](t, sue, `[...document.querySelectorAll(`+js(row+" td")+`)].map((td) => td.textContent.trim().replace(/\s+/g, ' '))`)
	t.Logf("Anna's row: %q", got)
	if first := text(t, sue, row+" .agent-first-reply"); first == "—" {
		t.Errorf("after Anna's first reply today her average first reply time is %q", first)
	}
}
