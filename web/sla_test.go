package web_test

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/switchboard-hq/switchboard/internal/browsertest"
)

// slaClock is a JavaScript expression giving the state and text of a
// request's clock in the first element matching sel.
func slaClock(sel string) string {
	return `(() => { const k = document.querySelector(` + js(sel) + `); return k ? k.dataset.slaState + ' ' + k.textContent.trim() : ''; })()`
}

// A request under a policy with a 6-second first response: its clock counts
// down in the queue, warns, turns to breach; the breach notification
// arrives; the chat header shows every target; Statistics lists the
// breached request and draws its charts.
func TestARequestClockCountsDownBreachesAndShowsInStatistics(t *testing.T) {
	srv := startServer(t)
	admin := apiLogin(t, srv, "admin@example.com", "admin-password")
	// The team works in a zone where it is about noon now: "today" in
	// Statistics cannot end while the test runs.
	var omni map[string]any
	admin.call(http.MethodGet, "/settings/omnichannel", nil, &omni, http.StatusOK)
	omni["time_zone"] = fmt.Sprintf("Etc/GMT%+d", time.Now().UTC().Hour()-12)
	admin.call(http.MethodPut, "/settings/omnichannel", omni, nil, http.StatusOK)
	ch := apiChannel(t, srv, "Hotline", 0)
	admin.call(http.MethodPost, "/sla-policies", map[string]any{"name": "Hotline", "business_hours_id": 1,
		"targets": map[string]int{"first_response": 6, "resolution": 3600}, "warning_percent": 50, "channels": []int64{ch}}, nil, http.StatusCreated)

	win := browsertest.Window(t)
	login(t, win, srv.url, "admin@example.com", "admin-password")
	goTo(t, win, "#/unassigned", "#section-unassigned")
	id := ask(t, srv, ch, "hasty", "Are you there?")
	row := rowOf("#queue-list li", id)
	clock := row + " .sla-clock"
	waitJS(t, win, "the request's clock in the queue", `document.querySelector(`+js(clock)+`) !== null`)

	// It counts down, second by second, then warns at half the target.
	first := evaluate[string](t, win, slaClock(clock))
	waitJSWithin(t, win, 3*time.Second, "the clock ticks", slaClock(clock)+` !== `+js(first))
	if got := evaluate[string](t, win, slaClock(clock)); got[:2] != "ok" && got[:7] != "warning" {
		t.Errorf("the clock reads %q, want it running", got)
	}
	waitJSWithin(t, win, 6*time.Second, "the clock warns", slaClock(clock)+`.startsWith('warning ')`)
	screenshot(t, win, "sla-clock-warning")
	waitJSWithin(t, win, 6*time.Second, "the clock shows the breach", slaClock(clock)+` === 'breached Breached'`)

	// The server records the breach and tells the workspace.
	toast := `.toast[data-toast="sla"][data-conversation-id="` + strconv.FormatInt(id, 10) + `"]`
	waitJSWithin(t, win, 5*time.Second, "the breach notification", `document.querySelector(`+js(toast)+`) !== null`)
	if got := evaluate[string](t, win, textOf(toast)); !containsAll(got, fmt.Sprintf("Request #%d", id), "hasty", "first response (6 s)") {
		t.Errorf("the notification says %q", got)
	}
	screenshot(t, win, "sla-breach-notification")

	// The chat header shows both targets; the breach line is in the chat.
	goTo(t, win, fmt.Sprintf("#/c/%d", id), "#chat-sla")
	waitJS(t, win, "both targets in the header", `document.querySelector('#chat-sla [data-sla-target="first_response"]').dataset.slaState === 'breached' && `+
		`document.querySelector('#chat-sla [data-sla-target="resolution"]').dataset.slaState === 'ok'`)
	waitJS(t, win, "the breach line in the chat", `[...document.querySelectorAll('li.msg-event')].some((m) => m.textContent.includes('SLA breached: first response (6 s)'))`)
	screenshot(t, win, "sla-chat-header")

	// Statistics: today's breached requests list it; the charts are drawn.
	goTo(t, win, "#/management/statistics", "#stats-toolbar")
	do(t, win, "pick Today", chromedp.Click(chromedp.CSS(`#stats-period button[data-period="today"]`)))
	breached := `#stats-breaches tr[data-conversation-id="` + strconv.FormatInt(id, 10) + `"]`
	waitJS(t, win, "the breached request in Statistics", `document.querySelector(`+js(breached)+`) !== null`)
	waitJS(t, win, "the requests-per-day chart", `(() => { const c = document.querySelector('#stats-days-chart canvas'); return !!c && c.width > 0 && c.height > 0; })()`)
	waitJS(t, win, "the heat map", `document.querySelector('#stats-heatmap') !== null`)
	if got := evaluate[string](t, win, textOf(breached)); !containsAll(got, "hasty", "Hotline") {
		t.Errorf("the breached request's row says %q", got)
	}
	screenshot(t, win, "sla-statistics")
}
