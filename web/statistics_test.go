package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/switchboard-hq/switchboard/internal/browsertest"
	cv "github.com/switchboard-hq/switchboard/internal/conversation"
)

// inbound posts a client's message to an API channel with its token, as
// the integration behind it does, and returns the request it went to.
func inbound(t *testing.T, srv server, channel int64, token, client, text string) int64 {
	t.Helper()
	body, _ := json.Marshal(map[string]any{
		"message_id": client + ":" + text, "sender": map[string]string{"id": client, "name": client}, "text": text,
	})
	req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/api/v1/channels/%d/inbound", srv.url, channel), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		ConversationID int64 `json:"conversation_id"`
		Created        bool  `json:"created"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusOK || !out.Created {
		t.Fatalf("the client %s writes: status %d, %+v, %v", client, res.StatusCode, out, err)
	}
	return out.ConversationID
}

// dayLabel is how the statistics page writes a single day: "22 Nov 2026".
func dayLabel(d time.Time) string {
	return fmt.Sprintf("%d %s %d", d.Day(), d.Month().String()[:3], d.Year())
}

// csvAnswer fetches a CSV link of the page with the browser's own session
// and tells its status, content type and text.
type csvAnswer struct {
	Link   string `json:"link"`
	Status int    `json:"status"`
	Type   string `json:"type"`
	Body   string `json:"body"`
}

func TestStatisticsShowsTodaysRequestsTimesAgentsAndLoad(t *testing.T) {
	srv := startServer(t)
	anna := agentIn(t, srv, "anna@example.com", "Anna")
	groupOf(t, srv, "Support", anna)
	admin := apiLogin(t, srv, "admin@example.com", "admin-password")

	// An API channel; the team's time zone decides the days and hours.
	var created struct {
		Channel cv.Channel `json:"channel"`
		Token   string     `json:"token"`
	}
	admin.call(http.MethodPost, "/channels", map[string]any{"kind": "api", "name": "Shop"}, &created, http.StatusCreated)
	// The team works in a zone where it is about noon now, so that "today"
	// cannot end while the test runs.
	var omni map[string]any
	admin.call(http.MethodGet, "/settings/omnichannel", nil, &omni, http.StatusOK)
	omni["time_zone"] = fmt.Sprintf("Etc/GMT%+d", time.Now().UTC().Hour()-12)
	admin.call(http.MethodPut, "/settings/omnichannel", omni, nil, http.StatusOK)
	var settings struct {
		TimeZone string `json:"time_zone"`
	}
	admin.call(http.MethodGet, "/settings/omnichannel", nil, &settings, http.StatusOK)
	loc, err := time.LoadLocation(settings.TimeZone)
	if err != nil {
		t.Fatalf("the team's time zone %q: %v", settings.TimeZone, err)
	}

	// Two requests come in: Anna takes the first and answers it; the second
	// is closed without a reply (a missed request).
	answered := inbound(t, srv, created.Channel.ID, created.Token, "ivan", "Where is my order?")
	missed := inbound(t, srv, created.Channel.ID, created.Token, "olga", "Wrong number, sorry")
	annaAPI := apiLogin(t, srv, "anna@example.com", "Anna-password")
	annaAPI.take(answered)
	annaAPI.call(http.MethodPost, fmt.Sprintf("/conversations/%d/messages", answered), map[string]string{"kind": "reply", "body": "Checking now, Ivan."}, nil, http.StatusCreated)
	admin.call(http.MethodPost, fmt.Sprintf("/conversations/%d/close", missed), nil, nil, http.StatusOK)

	// The heat map's cells of the two requests: weekday (Monday first) and
	// hour of their creation in the team's time zone.
	cells := map[[2]int]int{}
	var today time.Time
	for _, id := range []int64{answered, missed} {
		at := admin.conversation(id).CreatedAt.In(loc)
		cells[[2]int{(int(at.Weekday()) + 6) % 7, at.Hour()}]++
		today = at
	}

	win := browsertest.Window(t)
	login(t, win, srv.url, "admin@example.com", "admin-password")
	goTo(t, win, "#/management/statistics", "#stats-toolbar")
	if got := evaluate[[]string](t, win, `[...document.querySelectorAll('#management-tabs a[data-management-tab]')].map((a) => a.dataset.managementTab)`); len(got) == 0 || got[len(got)-1] != "statistics" {
		t.Errorf("the Management tabs are %v, want Statistics last", got)
	}
	do(t, win, "pick Today", chromedp.Click(chromedp.CSS(`#stats-period button[data-period="today"]`)))
	label := dayLabel(today) + " · " + settings.TimeZone
	waitJS(t, win, "today's period and figures", textOf("#stats-period-label")+` === `+js(label)+` && `+
		textOf(`#stats-requests [data-metric="new"] .stats-card-value`)+` === '2' && !document.querySelector('#stats-loading').textContent`)

	metric := func(k string) string { return text(t, win, `#stats-requests [data-metric="`+k+`"] .stats-card-value`) }
	for k, want := range map[string]string{"new": "2", "closed": "1", "missed": "1", "transferred": "0", "reopened": "0"} {
		if got := metric(k); got != want {
			t.Errorf("today's %s requests read %q, want %s", k, got, want)
		}
	}

	// The times: Anna's one first response, in calendar and business time.
	first := `#stats-times tr[data-time="first_response"] `
	if got := text(t, win, first+`td[data-stat="count"]`); got != "1" {
		t.Errorf("first responses measured: %q, want 1", got)
	}
	for _, basis := range []string{"calendar", "business"} {
		if got := text(t, win, first+`td[data-basis="`+basis+`"][data-stat="average"]`); got == "—" || !strings.HasSuffix(got, " s") && !strings.Contains(got, "min") {
			t.Errorf("the average first response in %s time reads %q", basis, got)
		}
	}
	if got := text(t, win, `#stats-times tr[data-time="resolution"] td[data-stat="count"]`); got != "1" {
		t.Errorf("resolutions measured: %q, want 1 (the closed request)", got)
	}

	// The agents: Anna with one reply in one request.
	annaRow := `#stats-agents tr[data-agent-id="` + strconv.FormatInt(anna, 10) + `"] `
	waitJS(t, win, "Anna in the agents table", `!!document.querySelector(`+js(annaRow)+`)`)
	for field, want := range map[string]string{"name": "Anna", "replies": "1", "handled": "1"} {
		if got := text(t, win, annaRow+`[data-field="`+field+`"]`); got != want {
			t.Errorf("Anna's %s reads %q, want %s", field, got, want)
		}
	}
	if got := text(t, win, annaRow+`[data-field="first_response"]`); got == "—" {
		t.Errorf("Anna's average first response reads %q", got)
	}

	// The chart is drawn (a canvas of some size), the heat map counts the
	// requests in their weekday and hour, the channel has its row.
	waitJS(t, win, "the requests-per-day chart", `(() => {
  const c = document.querySelector('#stats-days-chart canvas');
  if (!c) return false;
  const r = c.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && c.width > 0 && c.height > 0;
})()`)
	// It follows the window's width.
	wide := evaluate[float64](t, win, `document.querySelector('#stats-days-chart canvas').getBoundingClientRect().width`)
	do(t, win, "narrow the window", chromedp.EmulateViewport(900, 900))
	waitJS(t, win, "the chart to narrow with the window", `(() => {
  const box = document.querySelector('#stats-days-chart'), c = box.querySelector('canvas');
  const w = c.getBoundingClientRect().width;
  return w > 0 && w < `+strconv.FormatFloat(wide, 'f', 0, 64)+` && Math.abs(w - box.clientWidth) <= 1;
})()`)
	do(t, win, "widen the window again", chromedp.EmulateViewport(1280, 900))
	waitJS(t, win, "the chart to widen with the window", `document.querySelector('#stats-days-chart canvas').getBoundingClientRect().width >= `+strconv.FormatFloat(wide-1, 'f', 0, 64))
	if !evaluate[bool](t, win, `!!document.querySelector('link[data-uplot]') && getComputedStyle(document.querySelector('#stats-days-chart .u-wrap')).position === 'relative'`) {
		t.Errorf("the chart's stylesheet is not applied")
	}
	for cell, n := range cells {
		sel := fmt.Sprintf(`#stats-heatmap td[data-day="%d"][data-hour="%d"]`, cell[0], cell[1])
		if got := text(t, win, sel); got != strconv.Itoa(n) {
			t.Errorf("the heat map's cell for weekday %d, hour %d reads %q, want %d", cell[0], cell[1], got, n)
		}
	}
	if got := evaluate[int](t, win, `[...document.querySelectorAll('#stats-heatmap td')].reduce((n, td) => n + Number(td.dataset.count), 0)`); got != 2 {
		t.Errorf("the heat map counts %d requests in all, want 2", got)
	}
	channelRow := `#stats-channels tr[data-channel-id="` + strconv.FormatInt(created.Channel.ID, 10) + `"] `
	for field, want := range map[string]string{"name": "Shop", "new": "2", "closed": "1", "missed": "1"} {
		if got := text(t, win, channelRow+`[data-field="`+field+`"]`); got != want {
			t.Errorf("the channel's %s reads %q, want %s", field, got, want)
		}
	}
	if got := text(t, win, "#stats-breaches-empty"); got == "" {
		t.Errorf("without SLA breaches the list says nothing")
	}
	screenshot(t, win, "statistics-today")

	// Every CSV link downloads with the browser's session, for today.
	step, cancel := browsertest.Step(win)
	answers, err := chromedp.Run(step, chromedp.Evaluate[[]csvAnswer](`Promise.all([...document.querySelectorAll('a[data-csv]')].map(async (a) => {
  const r = await fetch(a.href);
  return { link: a.dataset.csv + ' ' + a.getAttribute('href'), status: r.status, type: r.headers.get('content-type') || '', body: await r.text() };
}))`, chromedp.EvalAwaitPromise))
	cancel()
	if err != nil {
		t.Fatalf("fetch the CSV links: %v", err)
	}
	if got := evaluate[[]string](t, win, `[...document.querySelectorAll('a[data-csv]')].map((a) => a.getAttribute('download')).filter((d) => d !== '')`); len(got) != 0 {
		t.Errorf("CSV links with a download name other than the server's: %q", got)
	}
	if len(answers) < 7 {
		t.Errorf("the page has %d CSV links, want one per table (7)", len(answers))
	}
	for _, a := range answers {
		if a.Status != http.StatusOK || !strings.HasPrefix(a.Type, "text/csv") || !strings.Contains(a.Link, "period=today") {
			t.Errorf("CSV %s answers %d %q", a.Link, a.Status, a.Type)
		}
		if strings.HasPrefix(a.Link, "summary-requests ") && !strings.Contains(a.Body, "new,2\n") {
			t.Errorf("the requests CSV reads %q", a.Body)
		}
	}

	// A filter refetches: Anna's requests only.
	do(t, win, "filter by Anna", pick("#stats-agent", strconv.FormatInt(anna, 10)))
	waitJS(t, win, "the figures of Anna's requests", textOf(`#stats-requests [data-metric="new"] .stats-card-value`)+` === '1' && `+
		textOf(`#stats-requests [data-metric="missed"] .stats-card-value`)+` === '0'`)
	do(t, win, "filter by all agents again", pick("#stats-agent", ""))
	waitJS(t, win, "the figures of all requests again", textOf(`#stats-requests [data-metric="new"] .stats-card-value`)+` === '2'`)

	// A custom period ending before it starts: the server's error shows at
	// "To", and the figures shown stay.
	yesterday := today.AddDate(0, 0, -1).Format(time.DateOnly)
	setDate := func(sel, value string) chromedp.Action[chromedp.Void] {
		return chromedp.Evaluate[chromedp.Void](`(() => { const i = document.querySelector(` + js(sel) + `);
  i.value = ` + js(value) + `; i.dispatchEvent(new Event('input', {bubbles: true})); })()`)
	}
	do(t, win, "ask for a custom period ending before it starts",
		chromedp.Click(chromedp.CSS(`#stats-period button[data-period="custom"]`)),
		chromedp.WaitVisible(chromedp.CSS("#stats-from")),
		setDate("#stats-from", today.Format(time.DateOnly)),
		setDate("#stats-to", yesterday),
		chromedp.Click(chromedp.CSS("#stats-apply")),
		chromedp.WaitVisible(chromedp.CSS("#stats-to-error")),
	)
	if got := text(t, win, "#stats-to-error"); !strings.Contains(got, "before") {
		t.Errorf("the To field's error reads %q", got)
	}
	if got := evaluate[string](t, win, `document.querySelector('#stats-to').getAttribute('aria-invalid') || ''`); got != "true" {
		t.Errorf("the To field is not marked invalid: %q", got)
	}
	if got := metric("new"); got != "2" {
		t.Errorf("after the refused period the New card reads %q, want today's 2 kept", got)
	}
	if got := text(t, win, "#stats-period-label"); got != label {
		t.Errorf("after the refused period the period reads %q, want %q kept", got, label)
	}
	screenshot(t, win, "statistics-custom-error")

	// Corrected, it applies.
	do(t, win, "correct the period", setDate("#stats-to", today.Format(time.DateOnly)), chromedp.Click(chromedp.CSS("#stats-apply")))
	waitJS(t, win, "the custom period to apply", `!document.querySelector('#stats-to-error') && `+
		`document.querySelector('a[data-csv="agents"]').getAttribute('href').includes('period=custom')`)
	if got := evaluate[string](t, win, `document.querySelector('a[data-csv="agents"]').getAttribute('href')`); !strings.Contains(got, "to="+today.Format(time.DateOnly)) {
		t.Errorf("after the custom period the agents' CSV link is %q", got)
	}
	if got := text(t, win, "#stats-period-label"); got != label {
		t.Errorf("the custom period of today reads %q, want %q", got, label)
	}
	if got := metric("new"); got != "2" {
		t.Errorf("the custom period of today counts %q new requests, want 2", got)
	}

	// Yesterday had nothing: the page says so, and still lists the agents.
	do(t, win, "pick Yesterday", chromedp.Click(chromedp.CSS(`#stats-period button[data-period="yesterday"]`)))
	waitJS(t, win, "the empty state of yesterday", `!!document.querySelector('#stats-empty') && !document.querySelector('#stats-requests')`)
	if got := text(t, win, "#stats-period-label"); got != dayLabel(today.AddDate(0, 0, -1))+" · "+settings.TimeZone {
		t.Errorf("yesterday's period reads %q", got)
	}
	waitJS(t, win, "the agents of yesterday", `!!document.querySelector(`+js(annaRow)+`) && !document.querySelector('#stats-loading').textContent`)
	if got := text(t, win, annaRow+`[data-field="replies"]`); got != "0" {
		t.Errorf("yesterday Anna's replies read %q, want 0", got)
	}
	screenshot(t, win, "statistics-empty")

	// Without the network a refresh fails with a way to try again.
	do(t, win, "go back to today", chromedp.Click(chromedp.CSS(`#stats-period button[data-period="today"]`)))
	waitJS(t, win, "today's figures again", textOf(`#stats-requests [data-metric="new"] .stats-card-value`)+` === '2' && !document.querySelector('#stats-loading').textContent`)
	do(t, win, "lose the network and refresh", offline(true), chromedp.Click(chromedp.CSS("#stats-refresh")))
	waitJS(t, win, "the refresh error", `!!document.querySelector('#stats-error [role=alert]') && !document.querySelector('#stats-loading').textContent`)
	if n := evaluate[int](t, win, `document.querySelectorAll('.stats-error').length`); n != 1 {
		t.Errorf("a failed refresh shows %d errors, want one for the page", n)
	}
	if got := metric("new"); got != "2" {
		t.Errorf("after a failed refresh the New card reads %q, want 2 kept", got)
	}
	screenshot(t, win, "statistics-offline")
	do(t, win, "get the network back and try again", offline(false), chromedp.Click(chromedp.CSS("#stats-error .stats-retry")))
	waitJS(t, win, "the errors to go", `!document.querySelector('.stats-error') && !document.querySelector('#stats-loading').textContent`)
}
