package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/switchboard-hq/switchboard/internal/access"
	"github.com/switchboard-hq/switchboard/internal/browsertest"
	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/team"
)

// apiClient calls the workspace API with a session cookie, as the
// workspace does.
type apiClient struct {
	t    *testing.T
	base string
	http *http.Client
}

func apiLogin(t *testing.T, srv server, email, password string) *apiClient {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &apiClient{t: t, base: srv.url + "/api/v1", http: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
	c.call(http.MethodPost, "/auth/login", map[string]string{"email": email, "password": password}, nil, http.StatusOK)
	return c
}

// call sends in as JSON, checks the status and decodes the answer into out.
func (c *apiClient) call(method, path string, in, out any, want int) {
	c.t.Helper()
	var body bytes.Buffer
	if in != nil {
		if err := json.NewEncoder(&body).Encode(in); err != nil {
			c.t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, c.base+path, &body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	var raw bytes.Buffer
	raw.ReadFrom(res.Body)
	if res.StatusCode != want {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, res.StatusCode, want, raw.String())
	}
	if out != nil {
		if err := json.Unmarshal(raw.Bytes(), out); err != nil {
			c.t.Fatalf("%s %s: decode %s: %v", method, path, raw.String(), err)
		}
	}
}

// createWidgetChannel adds a website chat that the given sites may embed.
func (c *apiClient) createWidgetChannel(name string, origins ...string) int64 {
	c.t.Helper()
	var out struct{ Channel cv.Channel }
	c.call(http.MethodPost, "/channels", map[string]any{"kind": "widget", "name": name, "widget": map[string]any{"origins": origins}}, &out, http.StatusCreated)
	return out.Channel.ID
}

func (c *apiClient) channel(id int64) cv.Channel {
	c.t.Helper()
	var ch cv.Channel
	c.call(http.MethodGet, "/channels/"+strconv.FormatInt(id, 10), nil, &ch, http.StatusOK)
	return ch
}

// shop is a customer's website on an origin of its own (another port than
// Switchboard's), so the widget's calls are really cross-origin.
type shop struct {
	url  string
	base string // Switchboard's URL, where the embed code points
}

// shopCSS is the kind of careless site style that breaks a naive widget.
const shopCSS = `* { color: red !important; font-size: 40px !important; font-family: serif !important; line-height: 3 !important; }
button { display: none !important; }
div, textarea, input { background: yellow !important; border: 5px dashed green !important; padding: 30px !important; }
[hidden] { display: block !important; }`

func startShop(t *testing.T, base string) shop {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		attrs := fmt.Sprintf(` data-channel="%s"`, html.EscapeString(q.Get("channel")))
		for _, k := range []string{"name", "email"} {
			if v := q.Get(k); v != "" {
				attrs += fmt.Sprintf(` data-user-%s="%s"`, k, html.EscapeString(v))
			}
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Teapot shop</title>
<style>%s</style>
<script>window.alerted = []; window.alert = (m) => window.alerted.push(String(m)); window.sbMessages = [];</script>
</head><body><h1>Teapots</h1><p>Fine teapots since 1901.</p><div>Free shipping!</div><button>Buy now</button>
<script src="%s/widget/loader.js"%s async></script>
<script>addEventListener('load', () => window.Switchboard && Switchboard.on('message', (m) => window.sbMessages.push(m)));</script>
</body></html>`, shopCSS, html.EscapeString(base), attrs)
	}))
	t.Cleanup(s.Close)
	return shop{url: s.URL, base: base}
}

// page is the address of a shop page embedding channel, with the visitor's
// details in data-user-* when given.
func (s shop) page(path string, channel int64, name, email string) string {
	q := url.Values{"channel": {strconv.FormatInt(channel, 10)}}
	if name != "" {
		q.Set("name", name)
	}
	if email != "" {
		q.Set("email", email)
	}
	return s.url + path + "?" + q.Encode()
}

// inWidget wraps a JavaScript expression so that $ and $$ query the widget's
// shadow root ($ gives null and $$ [] before the widget is drawn).
func inWidget(js string) string {
	return `(() => {
  const host = document.querySelector('switchboard-widget');
  const root = host && host.shadowRoot;
  const $ = (s) => (root ? root.querySelector(s) : null);
  const $$ = (s) => (root ? [...root.querySelectorAll(s)] : []);
  return ` + js + `;
})()`
}

func evaluate[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	step, cancel := browsertest.Step(ctx)
	defer cancel()
	v, err := chromedp.Run(step, chromedp.Evaluate[T](js))
	if err != nil {
		screenshot(t, ctx, "evaluate")
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// waitJS polls a JavaScript condition until it holds.
func waitJS(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		step, cancel := browsertest.Step(ctx)
		ok, err := chromedp.Run(step, chromedp.Evaluate[bool](js))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			screenshot(t, ctx, strings.ReplaceAll(what, " ", "-"))
			t.Fatalf("timed out waiting for %s (last error: %v)", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// clickLauncher clicks the widget's round button with the mouse, as a
// visitor does: it must be drawn and on top of the page.
func clickLauncher(t *testing.T, ctx context.Context) {
	t.Helper()
	waitJS(t, ctx, "the launcher to show", inWidget(`!!$('.sb-l') && $('.sb-l').getBoundingClientRect().width > 0`))
	pt := evaluate[[]float64](t, ctx, inWidget(`(() => { const r = $('.sb-l').getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()`))
	do(t, ctx, "click the launcher", chromedp.MouseClickXY(pt[0], pt[1]))
}

// typeInWidget types into the chat's message box with the keyboard, and
// presses Enter when send is set.
func typeInWidget(t *testing.T, ctx context.Context, text string, send bool) {
	t.Helper()
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.Evaluate[chromedp.Void](inWidget(`$('.sb-c textarea').focus()`)),
		chromedp.KeyEvent(text),
	}
	if send {
		steps = append(steps, pressEnter)
	}
	do(t, ctx, "type in the chat", steps...)
}

// pressEnter presses Enter as Chrome does for a person: one keydown that
// carries the text, so a handler that prevents it types no newline.
// (chromedp.KeyEvent sends the text in a separate char event, which a
// prevented keydown does not stop.)
var pressEnter = chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
	key := input.DispatchKeyEventParams{Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13}
	down, up := key, key
	down.Type, down.Text, down.UnmodifiedText = input.DispatchKeyEventTypeKeyDown, "\r", "\r"
	up.Type = input.DispatchKeyEventTypeKeyUp
	for _, k := range []input.DispatchKeyEventParams{down, up} {
		if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, k); err != nil {
			return err
		}
	}
	return nil
})

// js quotes a Go string for JavaScript.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// offline takes the window's network away (requests and sockets fail, and
// navigator.onLine says so) or gives it back.
func offline(off bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		conditions := []*network.Conditions{}
		if off {
			conditions = append(conditions, &network.Conditions{Offline: true, DownloadThroughput: -1, UploadThroughput: -1})
		}
		if _, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: conditions}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: off, DownloadThroughput: -1, UploadThroughput: -1})
		return err
	})
}

// goTo opens a workspace route and waits for sel. Right after login the
// workspace still redirects to the default section (and its first tab), which
// can overtake a navigation made at once, so the route is set again until it
// sticks.
func goTo(t *testing.T, ctx context.Context, route, sel string) {
	t.Helper()
	waitJS(t, ctx, "the page "+route, `(() => {
  if (location.hash !== `+js(route)+`) { location.hash = `+js(route)+`; return false; }
  const el = document.querySelector(`+js(sel)+`);
  return !!el && el.getClientRects().length > 0;
})()`)
}

// groupOf creates a group with the rights to work the live queue.
func groupOf(t *testing.T, srv server, name string, members ...int64) int64 {
	t.Helper()
	rights := []access.Right{access.Omnichannel, access.Unassigned}
	g, err := srv.app.Team.CreateGroup(context.Background(), access.System, team.GroupPatch{Name: &name, Rights: &rights, MemberIDs: &members})
	if err != nil {
		t.Fatal(err)
	}
	return g.ID
}

// goOnline switches the agent's operator status in the header and waits
// until it is stored.
func goOnline(t *testing.T, srv server, ctx context.Context, agentID int64) {
	t.Helper()
	do(t, ctx, "go online",
		chromedp.WaitVisible(chromedp.CSS("#presence")),
		chromedp.SetValue(chromedp.CSS("#presence"), "online"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#presence').dispatchEvent(new Event('change', {bubbles: true}))`),
	)
	waitFor(t, "the agent's status to be stored as online", func() bool {
		a, err := srv.app.Team.Agent(context.Background(), access.System, agentID)
		return err == nil && a.Presence == team.Online
	})
}

// bubbles counts the widget's messages of a kind (sb-v visitor, sb-a agent)
// whose text is exactly text.
func bubbles(kind, text string) string {
	return inWidget(`$$('.` + kind + `:not(.sb-pend) .sb-b').filter((b) => b.textContent === ` + js(text) + `).length`)
}

func TestVisitorChatsWithAnAgentFromAnEmbeddedWidget(t *testing.T) {
	srv := startServer(t)
	anna := agentIn(t, srv, "anna@example.com", "Anna")
	groupOf(t, srv, "Support", anna)
	admin := apiLogin(t, srv, "admin@example.com", "admin-password")
	site := startShop(t, srv.url)
	chID := admin.createWidgetChannel("Teapot shop", site.url)

	const (
		name     = "Ann <b>Lee</b>"
		question = "Where is my teapot? <img src=x onerror=alert(1)>"
		reply    = "It ships today, Ann."
	)

	agent := browsertest.Window(t)
	login(t, agent, srv.url, "anna@example.com", "Anna-password")
	goOnline(t, srv, agent, anna)
	goTo(t, agent, "#/unassigned", "#queue-empty, #queue-list")

	// The visitor opens a shop page; the widget draws its launcher above the
	// shop's own careless styles.
	visitor := browsertest.Window(t)
	do(t, visitor, "open the shop", chromedp.Navigate(site.page("/teapots/blue", chID, name, "ann@example.com")))
	clickLauncher(t, visitor)
	waitJS(t, visitor, "the chat to open", inWidget(`!!$('.sb-p') && !$('.sb-p').hidden && !$('.sb-c').hidden`))
	if got := evaluate[string](t, visitor, inWidget(`(() => {
  const l = $('.sb-l'), r = l.getBoundingClientRect(), cs = getComputedStyle(l);
  const top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
  return [cs.display, Math.round(r.width), top === host, cs.backgroundColor, getComputedStyle($('.sb-c textarea')).fontSize].join(' ');
})()`)); got != "flex 56 true rgb(47, 111, 222) 14px" {
		t.Errorf("launcher display, width, on top, colour and the message box's font size = %q: the shop's CSS reached the widget", got)
	}

	typeInWidget(t, visitor, question, true)
	waitJS(t, visitor, "the question to be sent", bubbles("sb-v", question)+` === 1 && `+inWidget(`$$('.sb-pend').length === 0`))
	if got := evaluate[string](t, visitor, inWidget(`(() => { const b = $('.sb-v .sb-b'), cs = getComputedStyle(b);
  return [b.querySelectorAll('img').length, cs.color, cs.backgroundColor, cs.fontSize, window.alerted.length].join(' '); })()`)); got != "0 rgb(255, 255, 255) rgb(47, 111, 222) 14px 0" {
		t.Errorf("the visitor's bubble (images inside, colour, background, font size, alerts) = %q", got)
	}
	convID := int64(evaluate[float64](t, visitor, `window.sbMessages.length ? window.sbMessages[0].conversation_id : 0`))
	if convID == 0 {
		t.Fatalf("Switchboard.on('message') did not report the visitor's message")
	}

	// The agent sees the request in the queue, named as the site said, as text.
	row := `li[data-conversation-id="` + strconv.FormatInt(convID, 10) + `"]`
	do(t, agent, "see the request in the queue", chromedp.WaitVisible(chromedp.CSS(row)))
	if got := evaluate[string](t, agent, `(() => { const n = document.querySelector('`+row+` .conv-name'); return n.textContent + '|' + n.querySelectorAll('b').length; })()`); got != name+"|0" {
		t.Errorf("the queue names the visitor %q, want the text %q", got, name)
	}
	do(t, agent, "take the chat",
		chromedp.Evaluate[chromedp.Void](`window.alerted = []; window.alert = (m) => window.alerted.push(String(m))`),
		chromedp.Click(chromedp.CSS(row+` button[data-action=take]`)),
		chromedp.WaitVisible(chromedp.CSS("#composer")),
		chromedp.WaitVisible(chromedp.CSS("li.msg-client .msg-body")),
	)
	if got := evaluate[string](t, agent, `[document.querySelector('#chat-client-name').textContent, document.querySelector('#chat-client-name b') === null,
  document.querySelector('li.msg-client .msg-body').textContent, document.querySelector('li.msg-client .msg-body img') === null, window.alerted.length].join('|')`); got != name+"|true|"+question+"|true|0" {
		t.Errorf("the chat shows (name, no bold, message, no image, alerts) %q", got)
	}

	// The agent types: the visitor sees it, then the reply with the agent's name.
	do(t, agent, "type a reply", chromedp.SendKeys(chromedp.CSS("#composer"), reply))
	waitJS(t, visitor, "the agent's typing to show", inWidget(`$('.sb-ty').textContent === 'Anna is typing…'`))
	do(t, agent, "send the reply", chromedp.Click(chromedp.CSS("#composer-send")), chromedp.WaitVisible(chromedp.CSS(".msg-reply")))
	waitJS(t, visitor, "the reply to show", bubbles("sb-a", reply)+` === 1`)
	if got := evaluate[string](t, visitor, inWidget(`[$('.sb-a .sb-who').textContent, $('.sb-ty').textContent, $('.sb-t').textContent].join('|')`)); got != "Anna||Anna" {
		t.Errorf("the reply's author, typing line and panel title = %q, want Anna, nothing, Anna", got)
	}
	screenshot(t, visitor, "reply")
	if got := evaluate[string](t, visitor, inWidget(`$('.sb-c textarea').value`)); got != "" {
		t.Errorf("after sending with Enter the message box holds %q", got)
	}

	// A reload keeps the conversation.
	do(t, visitor, "reload the page", chromedp.Reload())
	clickLauncher(t, visitor)
	waitJS(t, visitor, "the history after a reload", bubbles("sb-v", question)+` === 1 && `+bubbles("sb-a", reply)+` === 1 && `+inWidget(`$$('.sb-m').length === 2`))

	// Offline: the message waits, the agent answers meanwhile, and back
	// online both arrive exactly once.
	const (
		late   = "Are you still there?"
		answer = "Yes, still here."
	)
	do(t, visitor, "go offline", offline(true))
	waitJS(t, visitor, "the page to know it is offline", `navigator.onLine === false`)
	typeInWidget(t, visitor, late, true)
	waitJS(t, visitor, "the message to wait as pending", inWidget(`$$('.sb-pend').length === 1 && $('.sb-pend .sb-b').textContent === `+js(late)+` && $('.sb-pend .sb-mt').textContent === 'Sending…'`))
	do(t, agent, "answer meanwhile", chromedp.SendKeys(chromedp.CSS("#composer"), answer), chromedp.Click(chromedp.CSS("#composer-send")))
	waitFor(t, "the answer to be stored", func() bool {
		msgs, err := srv.app.Conversations.Messages(context.Background(), access.System, convID, 0, 50)
		return err == nil && len(msgs) > 0 && msgs[len(msgs)-1].Body == answer
	})
	if n := evaluate[int](t, visitor, bubbles("sb-a", answer)); n != 0 {
		t.Logf("note: the answer reached the visitor while offline (%d)", n)
	}
	do(t, visitor, "go back online", offline(false))
	waitJS(t, visitor, "the pending message and the answer", bubbles("sb-v", late)+` === 1 && `+bubbles("sb-a", answer)+` === 1 && `+inWidget(`$$('.sb-pend').length === 0`))
	waitJS(t, agent, "the late message in the chat", `[...document.querySelectorAll('li.msg-client .msg-body')].filter((b) => b.textContent === `+js(late)+`).length === 1`)
	msgs, err := srv.app.Conversations.Messages(context.Background(), access.System, convID, 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, m := range msgs {
		count[m.Body]++
	}
	if count[late] != 1 || count[answer] != 1 {
		t.Errorf("stored %d × %q and %d × %q, want one each", count[late], late, count[answer], answer)
	}
	if got := evaluate[int](t, visitor, `window.sbMessages.filter((m) => m.body === `+js(answer)+`).length`); got != 1 {
		t.Errorf("Switchboard.on('message') reported the answer %d times, want once", got)
	}
	if n := evaluate[int](t, agent, `[...document.querySelectorAll('li.msg-reply .msg-body')].filter((b) => b.textContent === `+js(answer)+`).length`); n != 1 {
		t.Errorf("the agent sees the answer %d times", n)
	}
}

func TestVisitorGetsTheRequestFormWhenNobodyIsOnline(t *testing.T) {
	srv := startServer(t)
	boris := agentIn(t, srv, "boris@example.com", "Boris")
	evening := groupOf(t, srv, "Evening shift", boris)
	admin := apiLogin(t, srv, "admin@example.com", "admin-password")
	site := startShop(t, srv.url)
	chID := admin.createWidgetChannel("Teapot shop", site.url)
	admin.call(http.MethodPost, "/scripts", map[string]any{"name": "Help pages", "match": "contains", "pattern": "/help/",
		"group_id": evening, "request_form": true}, nil, http.StatusCreated)
	helpPage := site.page("/help/returns", chID, "Bea Fox", "bea@example.com")

	visitor := browsertest.Window(t)
	do(t, visitor, "open a help page", chromedp.Navigate(helpPage))
	clickLauncher(t, visitor)
	waitJS(t, visitor, "the request form", inWidget(`!!$('.sb-fm') && !$('.sb-fm').hidden && $('.sb-c').hidden`))
	if got := evaluate[string](t, visitor, inWidget(`[...$$('.sb-fm input')].map((i) => i.value).join('|')`)); got != "Bea Fox|bea@example.com" {
		t.Errorf("the form is filled with %q, want the data-user-* name and email", got)
	}
	const question = "My teapot arrived broken."
	do(t, visitor, "write the question",
		chromedp.Evaluate[chromedp.Void](inWidget(`$('.sb-fm textarea').focus()`)),
		chromedp.KeyEvent(question),
		chromedp.Evaluate[chromedp.Void](inWidget(`$('.sb-fm .sb-bt').click()`)),
	)
	waitJS(t, visitor, "the thank-you line", inWidget(`$('.sb-fm').hidden && $$('.sb-s').some((s) => s.textContent === 'Thank you, we will answer by email.')`))

	agent := browsertest.Window(t)
	login(t, agent, srv.url, "boris@example.com", "Boris-password")
	goTo(t, agent, "#/unassigned", "li.conv-row")
	if got := text(t, agent, "li.conv-row"); !strings.Contains(got, "Bea Fox") || !strings.Contains(got, question) {
		t.Errorf("the queue row reads %q, want the visitor's name and question", got)
	}

	// With an agent of the group online, the next visitor gets the chat.
	goOnline(t, srv, agent, boris)
	next := browsertest.Window(t)
	do(t, next, "open a help page", chromedp.Navigate(site.page("/help/returns", chID, "", "")))
	clickLauncher(t, next)
	waitJS(t, next, "the chat instead of the form", inWidget(`!!$('.sb-p') && !$('.sb-p').hidden && $('.sb-fm').hidden && !$('.sb-c').hidden && $('.sb-bn').textContent === ''`))
}

func TestWidgetSettingsPreviewChangesColourLive(t *testing.T) {
	srv := startServer(t)
	admin := apiLogin(t, srv, "admin@example.com", "admin-password")
	chID := admin.createWidgetChannel("Teapot shop", "https://teapots.example")
	before := admin.channel(chID).Widget.Appearance.VisitorBackground

	win := browsertest.Window(t)
	login(t, win, srv.url, "admin@example.com", "admin-password")
	goTo(t, win, "#/settings/widget", "#widget-preview")
	code := evaluate[string](t, win, `document.querySelector('#widget-embed-code').value`)
	if !strings.Contains(code, srv.url+"/widget/loader.js") || !strings.Contains(code, `data-channel="`+strconv.FormatInt(chID, 10)+`"`) {
		t.Errorf("the embed code is %q", code)
	}

	bubble := `(() => { const h = document.querySelector('#widget-preview').contentDocument.querySelector('switchboard-widget');
  const b = h && h.shadowRoot.querySelector('.sb-v .sb-b'); return b ? getComputedStyle(b).backgroundColor : ''; })()`
	waitJS(t, win, "the preview's sample chat", bubble+` !== ''`)
	do(t, win, "pick an orange for the visitor's messages", chromedp.Evaluate[chromedp.Void](`(() => {
  const i = document.querySelector('#widget-visitor-background');
  i.value = '#ff8800';
  i.dispatchEvent(new Event('input', {bubbles: true}));
  i.dispatchEvent(new Event('change', {bubbles: true}));
})()`))
	waitJS(t, win, "the preview to turn orange", bubble+` === 'rgb(255, 136, 0)'`)
	if got := admin.channel(chID).Widget.Appearance.VisitorBackground; got != before {
		t.Errorf("before saving the channel's colour is already %q", got)
	}
	do(t, win, "save", chromedp.Click(chromedp.CSS("#widget-save")))
	waitJS(t, win, "the saved message", `(document.querySelector('#widget-status') || {}).textContent?.includes('Saved') || false`)
	if got := admin.channel(chID).Widget.Appearance.VisitorBackground; got != "#ff8800" {
		t.Errorf("after saving the channel's visitor background is %q, want #ff8800", got)
	}
}

func TestWidgetWithABadChannelShowsNothingAndWarns(t *testing.T) {
	srv := startServer(t)
	admin := apiLogin(t, srv, "admin@example.com", "admin-password")
	site := startShop(t, srv.url)
	disabled := admin.createWidgetChannel("Old shop", site.url)
	admin.call(http.MethodPatch, "/channels/"+strconv.FormatInt(disabled, 10), map[string]any{"active": false}, nil, http.StatusOK)
	elsewhere := admin.createWidgetChannel("Another site", "https://teapots.example")

	for _, tc := range []struct {
		name    string
		channel int64
	}{{"unknown channel", 987654}, {"disabled channel", disabled}, {"site not allowed", elsewhere}} {
		t.Run(tc.name, func(t *testing.T) {
			win := browsertest.Window(t)
			var mu sync.Mutex
			var warnings []string
			if err := chromedp.Listen(win, func(ev any) {
				if e, ok := ev.(*runtime.EventConsoleAPICalled); ok && e.Type == runtime.ConsoleAPICalledTypeWarning && len(e.Args) > 0 {
					var s string
					json.Unmarshal(e.Args[0].Value, &s)
					mu.Lock()
					warnings = append(warnings, s)
					mu.Unlock()
				}
			}); err != nil {
				t.Fatal(err)
			}
			do(t, win, "open the page", chromedp.Navigate(site.page("/", tc.channel, "Ann", "ann@example.com")))
			waitFor(t, "a console warning", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(warnings) > 0
			})
			mu.Lock()
			got := warnings[0]
			mu.Unlock()
			if !strings.HasPrefix(got, "Switchboard:") {
				t.Errorf("the console warning is %q, want it to start with Switchboard:", got)
			}
			t.Logf("warning: %s", got)
			if drawn := evaluate[bool](t, win, `document.querySelector('switchboard-widget') !== null`); drawn {
				t.Error("a launcher shows for a channel that cannot chat")
			}
		})
	}
}
