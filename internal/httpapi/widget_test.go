package httpapi_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// shopOrigin is the site the website chat of these tests is embedded on.
const shopOrigin = "https://shop.example.com"

// shop is a team (an administrator, Anna and Boris of the Support group,
// an api channel) with a website chat channel on shopOrigin.
type shop struct {
	team
	e      *env
	widget int64  // the website chat channel
	secret string // its identity secret, as Settings shows it
}

func newShop(t *testing.T, e *env) *shop {
	t.Helper()
	s := &shop{team: newTeam(t, e), e: e}
	s.widget, s.secret = widgetChannel(t, s.admin, "Website", shopOrigin)
	return s
}

// widgetChannel connects a website chat channel for the origins and returns
// its id and identity secret (read back as an administrator sees it).
func widgetChannel(t *testing.T, admin *client, name string, origins ...string) (int64, string) {
	t.Helper()
	res := admin.call("POST", "/api/v1/channels", map[string]any{"kind": "widget", "name": name, "widget": map[string]any{"origins": origins}})
	if res.status != http.StatusCreated {
		t.Fatalf("create widget channel: %d %s", res.status, res.body)
	}
	var created struct{ Channel struct{ ID int64 } }
	res.decode(t, &created)
	var ch struct {
		Widget struct {
			IdentitySecret string `json:"identity_secret"`
		}
	}
	admin.call("GET", fmt.Sprintf("/api/v1/channels/%d", created.Channel.ID), nil).decode(t, &ch)
	if ch.Widget.IdentitySecret == "" {
		t.Fatalf("the administrator sees no identity secret of channel %d", created.Channel.ID)
	}
	return created.Channel.ID, ch.Widget.IdentitySecret
}

// identityHash is what the site's server computes for data-user-hash.
func identityHash(secret, email string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strings.ToLower(strings.TrimSpace(email))))
	return hex.EncodeToString(mac.Sum(nil))
}

// sessionJSON is the answer of POST /widget/{id}/session.
type sessionJSON struct {
	Token   string `json:"token"`
	Visitor struct {
		ID       int64  `json:"id"`
		Name     string `json:"name"`
		Email    string `json:"email"`
		Verified bool   `json:"verified"`
	} `json:"visitor"`
	Appearance struct {
		Position string `json:"position"`
	} `json:"appearance"`
	Team struct {
		Name string `json:"name"`
	} `json:"team"`
	Online       bool `json:"online"`
	Form         bool `json:"form"`
	Conversation *struct {
		ID   int64 `json:"id"`
		Open bool  `json:"open"`
	} `json:"conversation"`
}

// widgetMessage is a message as the visitor sees it.
type widgetMessage struct {
	ID             int64  `json:"id"`
	ConversationID int64  `json:"conversation_id"`
	From           string `json:"from"`
	Body           string `json:"body"`
	Attachments    []struct {
		Filename    string `json:"filename"`
		ContentType string `json:"content_type"`
		Size        int64  `json:"size"`
		URL         string `json:"url"`
	} `json:"attachments"`
	Author *struct {
		Name string `json:"name"`
	} `json:"author"`
}

// widgetCall is a call of the visitor API from a page of origin; token is
// sent as the bearer token when set.
func widgetCall(e *env, channel int64, origin, method, path, token string, body any) response {
	e.t.Helper()
	header := []string{"Origin", origin}
	if token != "" {
		header = append(header, "Authorization", "Bearer "+token)
	}
	return e.anonymous().call(method, fmt.Sprintf("/widget/%d/%s", channel, path), body, header...)
}

// visitor is one browser on the shop's site.
type visitor struct {
	t       *testing.T
	e       *env
	channel int64
	token   string
	session sessionJSON
}

// arrive starts a visitor session with what the loader sends (page_url
// defaults to the shop's home page).
func arrive(t *testing.T, e *env, channel int64, body map[string]any) *visitor {
	t.Helper()
	if body == nil {
		body = map[string]any{}
	}
	if _, ok := body["page_url"]; !ok {
		body["page_url"] = shopOrigin + "/"
	}
	res := widgetCall(e, channel, shopOrigin, "POST", "session", "", body)
	if res.status != http.StatusOK {
		t.Fatalf("start a visitor session %v: %d %s", body, res.status, res.body)
	}
	v := &visitor{t: t, e: e, channel: channel}
	res.decode(t, &v.session)
	if v.token = v.session.Token; v.token == "" || v.session.Visitor.ID == 0 {
		t.Fatalf("session without a token or visitor: %s", res.body)
	}
	return v
}

func (v *visitor) call(method, path string, body any) response {
	v.t.Helper()
	return widgetCall(v.e, v.channel, shopOrigin, method, path, v.token, body)
}

// say sends a chat message and returns it as stored.
func (v *visitor) say(text string) widgetMessage {
	v.t.Helper()
	res := v.call("POST", "messages", map[string]string{"text": text, "key": fmt.Sprintf("key-%d", counter())})
	if res.status != http.StatusCreated {
		v.t.Fatalf("visitor %d says %q: %d %s", v.session.Visitor.ID, text, res.status, res.body)
	}
	var out struct{ Message widgetMessage }
	res.decode(v.t, &out)
	return out.Message
}

// history is GET messages with the query.
func (v *visitor) history(query string) []widgetMessage {
	v.t.Helper()
	res := v.call("GET", "messages?"+query, nil)
	if res.status != http.StatusOK {
		v.t.Fatalf("history of visitor %d: %d %s", v.session.Visitor.ID, res.status, res.body)
	}
	var out struct{ Messages []widgetMessage }
	res.decode(v.t, &out)
	return out.Messages
}

func bodies(ms []widgetMessage) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.Body)
	}
	return out
}

// multipartBody is a multipart form with text fields and files.
func multipartBody(t *testing.T, fields map[string]string, files map[string][]byte) raw {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	for name, data := range files {
		part, err := w.CreateFormFile("file", name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = part.Write(data)
	}
	_ = w.Close()
	return raw{contentType: w.FormDataContentType(), data: buf.Bytes()}
}

// requestJSON is a request as the workspace shows it.
type requestJSON struct {
	ID           int64  `json:"id"`
	ChannelID    int64  `json:"channel_id"`
	ClientID     int64  `json:"client_id"`
	ClientName   string `json:"client_name"`
	DepartmentID int64  `json:"department_id"`
	GroupID      int64  `json:"group_id"`
}

func request(t *testing.T, c *client, id int64) requestJSON {
	t.Helper()
	res := c.call("GET", fmt.Sprintf("/api/v1/conversations/%d", id), nil)
	if res.status != http.StatusOK {
		t.Fatalf("request %d: %d %s", id, res.status, res.body)
	}
	var r requestJSON
	res.decode(t, &r)
	return r
}

// clientCard is the client panel of a request.
type clientCard struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	Email      string `json:"email"`
	Identities []struct {
		Kind    string `json:"kind"`
		Profile struct {
			PageURL  string `json:"page_url"`
			Referrer string `json:"referrer"`
			IP       string `json:"ip"`
		} `json:"profile"`
	} `json:"identities"`
}

func clientOf(t *testing.T, c *client, request int64) clientCard {
	t.Helper()
	res := c.call("GET", fmt.Sprintf("/api/v1/conversations/%d/client", request), nil)
	if res.status != http.StatusOK {
		t.Fatalf("client of request %d: %d %s", request, res.status, res.body)
	}
	var card clientCard
	res.decode(t, &card)
	return card
}

// post writes a reply or note into a request as the agent and returns its id.
func post(c *client, request int64, kind, body string) int64 {
	return c.create(fmt.Sprintf("/api/v1/conversations/%d/messages", request), map[string]string{"kind": kind, "body": body})
}

func TestAWidgetSessionStartsOnlyOnTheChannelsOwnSites(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		s := newShop(t, e)
		off, _ := widgetChannel(t, s.admin, "Old website", shopOrigin)
		if res := s.admin.call("PATCH", fmt.Sprintf("/api/v1/channels/%d", off), map[string]bool{"active": false}); res.status != http.StatusOK {
			t.Fatalf("switch the channel off: %d %s", res.status, res.body)
		}
		page := map[string]string{"page_url": shopOrigin + "/"}
		cases := []struct {
			name    string
			channel string
			origin  string
			status  int
			code    string
		}{
			{"a page of the channel's site", fmt.Sprint(s.widget), shopOrigin, 200, ""},
			{"an unknown channel", "999999", shopOrigin, 404, "not_found"},
			{"no channel number", "website", shopOrigin, 404, "not_found"},
			{"an api channel", fmt.Sprint(s.channel), shopOrigin, 404, "not_found"},
			{"a channel that is switched off", fmt.Sprint(off), shopOrigin, 409, "channel_disabled"},
			{"a site that is not the channel's", fmt.Sprint(s.widget), "https://evil.example", 403, "origin_not_allowed"},
			{"the channel's host over another scheme", fmt.Sprint(s.widget), "http://shop.example.com", 403, "origin_not_allowed"},
			{"a subdomain of the channel's site", fmt.Sprint(s.widget), "https://evil.shop.example.com", 403, "origin_not_allowed"},
		}
		for _, c := range cases {
			res := e.anonymous().call("POST", "/widget/"+c.channel+"/session", page, "Origin", c.origin)
			if code, _ := res.errorCode(); res.status != c.status || code != c.code {
				t.Errorf("%s: %d %s, want %d %s", c.name, res.status, res.body, c.status, c.code)
			}
			// The answer is readable by the page, so the widget can say what is wrong.
			if got := res.header.Get("Access-Control-Allow-Origin"); got != c.origin {
				t.Errorf("%s: Access-Control-Allow-Origin %q, want the page's origin %q", c.name, got, c.origin)
			}
		}

		req, _ := http.NewRequest("OPTIONS", fmt.Sprintf("%s/widget/%d/messages", e.srv.URL, s.widget), nil)
		req.Header.Set("Origin", shopOrigin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		allowed := strings.ToLower(res.Header.Get("Access-Control-Allow-Headers"))
		if res.StatusCode != http.StatusNoContent || !strings.Contains(allowed, "authorization") || !strings.Contains(allowed, "content-type") ||
			res.Header.Get("Access-Control-Allow-Origin") != shopOrigin || !strings.Contains(res.Header.Get("Access-Control-Allow-Methods"), "POST") {
			t.Errorf("preflight: %d, headers %v; want 204 allowing POST with Authorization, Content-Type", res.StatusCode, res.Header)
		}

		// A new visitor: a token, no request yet, the default look.
		v := arrive(t, e, s.widget, map[string]any{"page_url": shopOrigin + "/boots", "page_title": "Boots"})
		if v.session.Conversation != nil || v.session.Form || v.session.Online || v.session.Appearance.Position != "right" || v.session.Visitor.Verified {
			t.Errorf("a new visitor's session: %+v", v.session)
		}
		// The same browser comes back: the same visitor, the same token.
		again := arrive(t, e, s.widget, map[string]any{"token": v.token})
		if again.session.Visitor.ID != v.session.Visitor.ID || again.token != v.token {
			t.Errorf("a returning visitor became visitor %d (token %q), want %d", again.session.Visitor.ID, again.token, v.session.Visitor.ID)
		}
		// A token another channel issued, or one nobody issued, starts a new visitor.
		other, _ := widgetChannel(t, s.admin, "Second site", shopOrigin)
		for name, token := range map[string]string{"another channel's token": v.token, "an unknown token": "sbv_nobody"} {
			fresh := arrive(t, e, other, map[string]any{"token": token})
			if fresh.session.Visitor.ID == v.session.Visitor.ID || fresh.token == token {
				t.Errorf("%s resumed visitor %d instead of starting a new one", name, fresh.session.Visitor.ID)
			}
		}
	})
}

func TestAVisitorOnlyEverReachesTheirOwnRequests(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		s := newShop(t, e)
		ann := arrive(t, e, s.widget, map[string]any{"name": "Ann"})
		res := ann.call("POST", "messages", multipartBody(t, map[string]string{"text": "Ann's receipt", "key": "ann-1"}, map[string][]byte{"receipt.png": pngBytes}))
		if res.status != http.StatusCreated {
			t.Fatalf("Ann sends a file: %d %s", res.status, res.body)
		}
		var sent struct{ Message widgetMessage }
		res.decode(t, &sent)
		annFile := fmt.Sprintf("files/%d/0", sent.Message.ID)
		bob := arrive(t, e, s.widget, map[string]any{"name": "Bob"})
		bobsOwn := bob.say("Bob's question")

		if got := bodies(bob.history("")); !slices.Equal(got, []string{"Bob's question"}) {
			t.Errorf("Bob reads %q, want only his own message", got)
		}
		for _, q := range []string{fmt.Sprintf("after=%d", sent.Message.ID-1), fmt.Sprintf("before=%d", bobsOwn.ID+1)} {
			if got := bodies(bob.history(q)); slices.Contains(got, "Ann's receipt") {
				t.Errorf("Bob reads Ann's message with ?%s: %q", q, got)
			}
		}
		if got := bodies(ann.history("")); !slices.Equal(got, []string{"Ann's receipt"}) {
			t.Errorf("Ann reads %q, want only her own message", got)
		}

		second, _ := widgetChannel(t, s.admin, "Second site", shopOrigin)
		cases := []struct {
			name   string
			res    response
			status int
		}{
			{"Ann downloads her own file", ann.call("GET", annFile, nil), 200},
			{"Ann downloads her own file with ?token=", widgetCall(e, s.widget, shopOrigin, "GET", annFile+"?token="+url.QueryEscape(ann.token), "", nil), 200},
			{"Bob asks for Ann's file", bob.call("GET", annFile, nil), 404},
			{"Bob asks for Ann's file with ?token=", widgetCall(e, s.widget, shopOrigin, "GET", annFile+"?token="+url.QueryEscape(bob.token), "", nil), 404},
			{"Bob asks for a file his message does not have", bob.call("GET", fmt.Sprintf("files/%d/0", bobsOwn.ID), nil), 404},
			{"Ann asks for a file index beyond her message's", ann.call("GET", fmt.Sprintf("files/%d/1", sent.Message.ID), nil), 404},
			{"Ann's token on another website chat", widgetCall(e, second, shopOrigin, "GET", "messages", ann.token, nil), 401},
			{"Ann's token sends on another website chat", widgetCall(e, second, shopOrigin, "POST", "messages", ann.token, map[string]string{"text": "hi", "key": "x"}), 401},
			{"Ann's file through another website chat", widgetCall(e, second, shopOrigin, "GET", annFile, ann.token, nil), 401},
			{"no token", widgetCall(e, s.widget, shopOrigin, "GET", "messages", "", nil), 401},
			{"a made-up token", widgetCall(e, s.widget, shopOrigin, "GET", "messages", "sbv_madeup", nil), 401},
			{"no token for a file", widgetCall(e, s.widget, shopOrigin, "GET", annFile, "", nil), 401},
			{"a made-up token for a file", widgetCall(e, s.widget, shopOrigin, "GET", annFile+"?token=garbage", "", nil), 401},
			{"an agent's api channel token", widgetCall(e, s.widget, shopOrigin, "GET", "messages", s.token, nil), 401},
		}
		for _, c := range cases {
			if c.res.status != c.status {
				t.Errorf("%s: %d %s, want %d", c.name, c.res.status, c.res.body, c.status)
			}
			if c.status == 200 && !bytes.Equal(c.res.body, pngBytes) {
				t.Errorf("%s: got %d bytes, not the PNG Ann sent", c.name, len(c.res.body))
			}
			if code, _ := c.res.errorCode(); c.status == 401 && code != "invalid_token" {
				t.Errorf("%s: code %q, want invalid_token", c.name, code)
			}
		}
		if got := bodies(ann.history("")); len(got) != 1 {
			t.Errorf("refused calls changed Ann's history: %q", got)
		}
	})
}

func TestAVisitorSendsMessagesAndFiles(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		s := newShop(t, e)
		const markup = `<img src=x onerror="alert('name')"> Ann & <b>Co</b>`
		const script = `<script>alert("hi")</script> 5 < 6 && "quotes" 'too' &amp; stays`
		v := arrive(t, e, s.widget, map[string]any{"name": markup})
		if v.session.Visitor.Name != markup {
			t.Errorf("the session gives the name as %q, want it verbatim %q", v.session.Visitor.Name, markup)
		}

		// An offline retry sends the same key again: one message.
		body := map[string]string{"text": "Where is my parcel?", "key": "retry-me"}
		first, again := v.call("POST", "messages", body), v.call("POST", "messages", body)
		var m1, m2 struct{ Message widgetMessage }
		first.decode(t, &m1)
		again.decode(t, &m2)
		if first.status != 201 || again.status != 201 || m1.Message.ID == 0 || m1.Message.ID != m2.Message.ID {
			t.Errorf("the same key twice: %d %s and %d %s, want the same message", first.status, first.body, again.status, again.body)
		}
		if m1.Message.From != "visitor" || m1.Message.Body != "Where is my parcel?" || m1.Message.Author != nil || m1.Message.ConversationID == 0 {
			t.Errorf("the sent message: %+v", m1.Message)
		}
		conv := m1.Message.ConversationID

		// Markup is text: stored and given back exactly as typed.
		echoed := v.say(script)
		if echoed.Body != script {
			t.Errorf("the answer gives the text as %q, want %q", echoed.Body, script)
		}
		long := strings.Repeat("я", 10000)
		v.say(long)
		if got := bodies(v.history("")); !slices.Equal(got, []string{"Where is my parcel?", script, long}) {
			t.Errorf("the visitor's history: %q", got)
		}
		agentSees := []string{}
		for _, m := range s.admin.messages(t, conv) {
			agentSees = append(agentSees, m["body"].(string))
		}
		if !slices.Equal(agentSees, []string{"Where is my parcel?", script, long}) {
			t.Errorf("the agent reads %q", agentSees)
		}
		if r := request(t, s.admin, conv); r.ClientName != markup {
			t.Errorf("the agent sees the client as %q, want %q", r.ClientName, markup)
		}

		// Refused messages change nothing.
		refused := arrive(t, e, s.widget, nil)
		big := make([]byte, 10<<20+1)
		copy(big, pngBytes)
		cases := []struct {
			name   string
			body   any
			status []int
			field  string
		}{
			{"10,001 characters", map[string]string{"text": strings.Repeat("я", 10001), "key": "k1"}, []int{422}, "text"},
			{"no text", map[string]string{"text": "", "key": "k2"}, []int{422}, "text"},
			{"only blanks", map[string]string{"text": " \n\t ", "key": "k3"}, []int{422}, "text"},
			{"no key", map[string]string{"text": "hello"}, []int{422}, "key"},
			{"a key longer than 64 bytes", map[string]string{"text": "hello", "key": strings.Repeat("k", 65)}, []int{422}, "key"},
			{"a file over 10 MiB", multipartBody(t, map[string]string{"text": "a big one", "key": "k4"}, map[string][]byte{"huge.png": big}), []int{422, 413}, ""},
		}
		for _, c := range cases {
			res := refused.call("POST", "messages", c.body)
			if _, field := res.errorCode(); !slices.Contains(c.status, res.status) || (c.field != "" && field != c.field) {
				t.Errorf("%s: %d %s, want %v naming %q", c.name, res.status, res.body, c.status, c.field)
			}
		}
		if got := refused.history(""); len(got) != 0 {
			t.Errorf("refused messages were stored: %q", bodies(got))
		}
		if files, _ := filepath.Glob(filepath.Join(e.dataDir, "files", "attachments", "*", "*", "*")); len(files) != 0 {
			t.Errorf("a refused file was kept: %v", files)
		}
		if got := ids(s.admin.list(t, "view=chats")); len(got) != 1 {
			t.Errorf("refused messages opened requests: %v", got)
		}

		// A picture: the visitor and the agent both download it.
		res := v.call("POST", "messages", multipartBody(t, map[string]string{"text": "The label", "key": "with-file"}, map[string][]byte{"label.png": pngBytes}))
		var withFile struct{ Message widgetMessage }
		res.decode(t, &withFile)
		m := withFile.Message
		if res.status != 201 || len(m.Attachments) != 1 {
			t.Fatalf("send a PNG: %d %s", res.status, res.body)
		}
		a := m.Attachments[0]
		wantURL := fmt.Sprintf("/widget/%d/files/%d/0", s.widget, m.ID)
		if a.Filename != "label.png" || a.ContentType != "image/png" || a.Size != int64(len(pngBytes)) || a.URL != wantURL || m.Body != "The label" {
			t.Errorf("the attachment as sent: %+v, want label.png image/png %d bytes at %s", a, len(pngBytes), wantURL)
		}
		dl := e.anonymous().call("GET", a.URL+"?token="+url.QueryEscape(v.token), nil)
		if dl.status != 200 || !bytes.Equal(dl.body, pngBytes) || dl.header.Get("Content-Type") != "image/png" {
			t.Errorf("the visitor downloads the file: %d %s, %d bytes", dl.status, dl.header.Get("Content-Type"), len(dl.body))
		}
		agentDL := s.admin.call("GET", fmt.Sprintf("/api/v1/messages/%d/attachments/0", m.ID), nil)
		if agentDL.status != 200 || !bytes.Equal(agentDL.body, pngBytes) {
			t.Errorf("the agent downloads the file: %d, %d bytes", agentDL.status, len(agentDL.body))
		}
		if got := v.history(fmt.Sprintf("after=%d", echoed.ID)); len(got) != 2 || len(got[1].Attachments) != 1 || got[1].Attachments[0].URL != wantURL {
			t.Errorf("the history after %d: %+v", echoed.ID, got)
		}
	})
}

func TestAVisitorsRequestShowsTheAgentWhereTheyAre(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		s := newShop(t, e)
		cart := shopOrigin + "/cart?step=2"
		v := arrive(t, e, s.widget, map[string]any{"name": "Ann", "page_url": cart, "page_title": "Your cart", "referrer": "https://search.example/?q=boots"})
		m := v.say("Is shipping free?")

		if got := ids(s.anna.list(t, "view=unassigned")); !slices.Equal(got, []int64{m.ConversationID}) {
			t.Errorf("Anna's Unassigned list: %v, want the visitor's request %d", got, m.ConversationID)
		}
		card := clientOf(t, s.anna, m.ConversationID)
		if card.Name != "Ann" || len(card.Identities) != 1 {
			t.Fatalf("the client panel: %+v", card)
		}
		id := card.Identities[0]
		if id.Kind != "widget" || id.Profile.PageURL != cart || id.Profile.Referrer != "https://search.example/?q=boots" || id.Profile.IP != "127.0.0.1" {
			t.Errorf("the client panel shows %+v, want the page, the referrer and the address", id)
		}

		// The visitor moves on; the Visitors list follows.
		for _, page := range []string{shopOrigin + "/checkout", shopOrigin + "/checkout"} {
			if res := v.call("POST", "page", map[string]string{"page_url": page, "page_title": "Checkout"}); res.status != http.StatusNoContent {
				t.Errorf("page view: %d %s", res.status, res.body)
			}
		}
		var list struct {
			Visitors []struct {
				ID             int64  `json:"id"`
				Name           string `json:"name"`
				PageURL        string `json:"page_url"`
				Referrer       string `json:"referrer"`
				PagesViewed    int    `json:"pages_viewed"`
				ConversationID int64  `json:"conversation_id"`
			}
		}
		s.admin.call("GET", "/api/v1/visitors", nil).decode(t, &list)
		if len(list.Visitors) != 1 {
			t.Fatalf("visitors on the site: %+v", list.Visitors)
		}
		got := list.Visitors[0]
		if got.ID != v.session.Visitor.ID || got.Name != "Ann" || got.PageURL != shopOrigin+"/checkout" || got.PagesViewed != 2 || got.ConversationID != m.ConversationID || got.Referrer != "https://search.example/?q=boots" {
			t.Errorf("the Visitors list shows %+v; want Ann on the checkout, 2 pages, chatting in %d", got, m.ConversationID)
		}

		// A reload finds the open request.
		again := arrive(t, e, s.widget, map[string]any{"token": v.token, "page_url": shopOrigin + "/checkout"})
		if c := again.session.Conversation; c == nil || c.ID != m.ConversationID || !c.Open {
			t.Errorf("after a reload the session shows request %+v, want %d open", c, m.ConversationID)
		}
	})
}

func TestAVerifiedEmailJoinsTheExistingClient(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		s := newShop(t, e)
		var seen struct {
			Widget struct {
				IdentitySecret string `json:"identity_secret"`
			}
		}
		s.anna.call("GET", fmt.Sprintf("/api/v1/channels/%d", s.widget), nil).decode(t, &seen)
		if seen.Widget.IdentitySecret != "" {
			t.Error("an agent without the settings right reads the identity secret")
		}

		// Ann is a client already: she wrote through the shop's app.
		res := e.anonymous().call("POST", fmt.Sprintf("/api/v1/channels/%d/inbound", s.channel), map[string]any{
			"message_id": "app-1", "text": "Written in the app",
			"sender": map[string]string{"id": "app-ann", "name": "Ann (app)", "email": "ann@example.com"}}, "Authorization", "Bearer "+s.token)
		var in struct {
			ConversationID int64 `json:"conversation_id"`
		}
		res.decode(t, &in)
		existing := request(t, s.admin, in.ConversationID).ClientID

		cases := []struct {
			name      string
			email     string
			hash      string
			verified  bool
			joinsAnns bool
		}{
			{"the site proves her email", "Ann@Example.com", identityHash(s.secret, "ann@example.com"), true, true},
			{"her email without a hash", "ann@example.com", "", false, false},
			{"her email with a wrong hash", "ann@example.com", identityHash("another secret", "ann@example.com"), false, false},
			{"her email with another email's hash", "ann@example.com", identityHash(s.secret, "eve@example.com"), false, false},
		}
		for _, c := range cases {
			v := arrive(t, e, s.widget, map[string]any{"name": "Ann", "email": c.email, "hash": c.hash})
			if v.session.Visitor.Verified != c.verified || v.session.Visitor.Email != c.email {
				t.Errorf("%s: the session says verified %v, email %q; want %v, %q", c.name, v.session.Visitor.Verified, v.session.Visitor.Email, c.verified, c.email)
			}
			m := v.say("Hello from the website: " + c.name)
			client := request(t, s.admin, m.ConversationID).ClientID
			if (client == existing) != c.joinsAnns {
				t.Errorf("%s: the request's client is %d; joins Ann's client %d: %v, want %v", c.name, client, existing, client == existing, c.joinsAnns)
			}
			// What Ann wrote in the app is not the website's history.
			for _, b := range bodies(v.history("")) {
				if b == "Written in the app" {
					t.Errorf("%s: the website visitor reads the app's message", c.name)
				}
			}
		}
	})
}

func TestAnUnverifiedEmailNeverReadsTheVerifiedPersonsChat(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		s := newShop(t, e)
		// Someone types Bob's email into the widget first, unproven.
		impostor := arrive(t, e, s.widget, map[string]any{"name": "Bob", "email": "bob@example.com"})
		impostor.say("Hi, this is Bob")
		// Then Bob signs in on the site, which proves his email.
		bob := arrive(t, e, s.widget, map[string]any{"name": "Bob", "email": "bob@example.com", "hash": identityHash(s.secret, "bob@example.com")})
		if !bob.session.Visitor.Verified {
			t.Fatal("Bob's proven email is not verified")
		}
		secret := bob.say("My card ends in 4242")
		if got := bodies(impostor.history("")); slices.Contains(got, "My card ends in 4242") {
			t.Errorf("the visitor with the unproven email reads Bob's verified chat: %q", got)
		}
		if got := bodies(bob.history("")); slices.Contains(got, "Hi, this is Bob") {
			t.Errorf("Bob reads what someone wrote under his unproven email: %q", got)
		}
		impostorsRequest := impostor.say("Anything new?").ConversationID
		if request(t, s.admin, secret.ConversationID).ClientID == request(t, s.admin, impostorsRequest).ClientID {
			t.Error("an unproven email made the visitor the same client as the verified Bob")
		}
	})
}

func TestStrictIdentityRefusesUnprovenEmails(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		s := newShop(t, e)
		if res := s.admin.call("PATCH", fmt.Sprintf("/api/v1/channels/%d", s.widget), map[string]any{"widget": map[string]bool{"strict_identity": true}}); res.status != http.StatusOK {
			t.Fatalf("turn strict identity on: %d %s", res.status, res.body)
		}
		cases := []struct {
			name   string
			body   map[string]any
			status int
			code   string
		}{
			{"an anonymous visitor", map[string]any{"page_url": shopOrigin + "/"}, 200, ""},
			{"a name only", map[string]any{"page_url": shopOrigin + "/", "name": "Ann"}, 200, ""},
			{"a proven email", map[string]any{"page_url": shopOrigin + "/", "email": "ann@example.com", "hash": identityHash(s.secret, "ann@example.com")}, 200, ""},
			{"an email without a hash", map[string]any{"page_url": shopOrigin + "/", "email": "ann@example.com"}, 403, "identity_unverified"},
			{"an email with a bad hash", map[string]any{"page_url": shopOrigin + "/", "email": "ann@example.com", "hash": identityHash(s.secret, "eve@example.com")}, 403, "identity_unverified"},
		}
		for _, c := range cases {
			res := widgetCall(e, s.widget, shopOrigin, "POST", "session", "", c.body)
			if code, _ := res.errorCode(); res.status != c.status || code != c.code {
				t.Errorf("%s: %d %s, want %d %s", c.name, res.status, res.body, c.status, c.code)
			}
		}
	})
}

func TestScriptsRouteAPagesChatsAndOfferTheFormWhenNobodyIsOnline(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		s := newShop(t, e)
		dept := s.admin.create("/api/v1/departments", map[string]string{"name": "Billing", "display_name": "Billing team"})
		desk := s.admin.create("/api/v1/groups", map[string]any{"name": "Billing desk", "rights": []string{"omnichannel", "omnichannel.unassigned"}, "member_ids": []int64{s.borisID}})
		s.admin.create("/api/v1/scripts", map[string]any{"name": "Billing pages", "match": "contains", "pattern": "/billing",
			"department_id": dept, "group_id": desk, "request_form": true})
		invoices := shopOrigin + "/Billing/invoices?id=42"
		presence := func(c *client, p string) {
			t.Helper()
			if res := c.call("PUT", "/api/v1/me/presence", map[string]string{"presence": p}); res.status != http.StatusOK {
				t.Fatalf("set presence %s: %d %s", p, res.status, res.body)
			}
		}

		// Nobody of the billing desk is online: the billing pages show the form.
		presence(s.anna, "online") // Anna is online, but not of the billing desk
		olga := arrive(t, e, s.widget, map[string]any{"page_url": invoices})
		if !olga.session.Form || olga.session.Online || olga.session.Team.Name != "Billing team" {
			t.Errorf("on a billing page with the desk away: form %v, online %v, team %q; want the form, offline, Billing team",
				olga.session.Form, olga.session.Online, olga.session.Team.Name)
		}
		home := arrive(t, e, s.widget, nil)
		if home.session.Form || !home.session.Online || home.session.Team.Name != "" {
			t.Errorf("on a page no script names: form %v, online %v, team %q; want the chat, online (Anna), no team", home.session.Form, home.session.Online, home.session.Team.Name)
		}

		if res := olga.call("POST", "form", map[string]string{"name": "Olga", "email": "not an email", "message": "Invoice 42 is wrong"}); res.status != 422 {
			t.Errorf("a form without a usable email: %d %s, want 422", res.status, res.body)
		}
		res := olga.call("POST", "form", map[string]string{"name": "Olga", "email": "olga@example.com", "message": "Invoice 42 is wrong"})
		var sent struct{ Message widgetMessage }
		res.decode(t, &sent)
		if res.status != http.StatusCreated || sent.Message.Body != "Invoice 42 is wrong" || sent.Message.ConversationID == 0 {
			t.Fatalf("submit the form: %d %s", res.status, res.body)
		}
		r := request(t, s.admin, sent.Message.ConversationID)
		card := clientOf(t, s.admin, r.ID)
		if r.DepartmentID != dept || r.GroupID != desk || card.Name != "Olga" || card.Email != "olga@example.com" || r.ChannelID != s.widget {
			t.Errorf("the form's request: %+v, client %q <%s>; want department %d, group %d, Olga <olga@example.com>", r, card.Name, card.Email, dept, desk)
		}
		if got := ids(s.boris.list(t, "view=unassigned")); !slices.Contains(got, r.ID) {
			t.Errorf("Boris's queue %v lacks the billing request %d", got, r.ID)
		}
		back := arrive(t, e, s.widget, map[string]any{"token": olga.token, "page_url": invoices})
		if back.session.Form || back.session.Conversation == nil || back.session.Conversation.ID != r.ID {
			t.Errorf("Olga comes back with an open request: form %v, request %+v; want the chat with %d", back.session.Form, back.session.Conversation, r.ID)
		}

		// Boris of the billing desk comes online: the chat, routed to the desk.
		presence(s.boris, "online")
		presence(s.anna, "offline")
		pavel := arrive(t, e, s.widget, map[string]any{"page_url": invoices})
		if pavel.session.Form || !pavel.session.Online {
			t.Errorf("with Boris online: form %v, online %v; want the chat, online", pavel.session.Form, pavel.session.Online)
		}
		chat := request(t, s.admin, pavel.say("Why was I charged twice?").ConversationID)
		if chat.DepartmentID != dept || chat.GroupID != desk {
			t.Errorf("a chat from a billing page went to department %d, group %d; want %d, %d", chat.DepartmentID, chat.GroupID, dept, desk)
		}
		elsewhere := request(t, s.admin, arrive(t, e, s.widget, map[string]any{"page_url": shopOrigin + "/blog"}).say("Nice blog").ConversationID)
		if elsewhere.DepartmentID != 0 || elsewhere.GroupID != 0 {
			t.Errorf("a chat from a page no script names went to department %d, group %d; want the channel's (none)", elsewhere.DepartmentID, elsewhere.GroupID)
		}
	})
}

// widgetFrame is one frame of the visitor's websocket.
type widgetFrame struct {
	Type           string         `json:"type"`
	Message        *widgetMessage `json:"message"`
	Name           string         `json:"name"`
	ConversationID int64          `json:"conversation_id"`
	Agent          *struct {
		Name string `json:"name"`
	} `json:"agent"`
	raw string
}

// visitorSocket is a visitor's open websocket.
type visitorSocket struct {
	t    *testing.T
	conn *websocket.Conn
}

// socket connects the visitor's websocket, catching up after a message id.
func (v *visitor) socket(after int64) *visitorSocket {
	v.t.Helper()
	u := fmt.Sprintf("ws%s/widget/%d/ws?token=%s&after=%d", strings.TrimPrefix(v.e.srv.URL, "http"), v.channel, url.QueryEscape(v.token), after)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {shopOrigin}}})
	if err != nil {
		v.t.Fatalf("dial the visitor websocket: %v", err)
	}
	v.t.Cleanup(func() { conn.CloseNow() })
	return &visitorSocket{t: v.t, conn: conn}
}

// next reads one frame, waiting for what at most 10 seconds.
func (s *visitorSocket) next(what string) widgetFrame {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, data, err := s.conn.Read(ctx)
	if err != nil {
		s.t.Fatalf("waiting for %s on the visitor websocket: %v", what, err)
	}
	f := widgetFrame{raw: string(data)}
	if err := json.Unmarshal(data, &f); err != nil {
		s.t.Fatalf("frame %s: %v", data, err)
	}
	return f
}

// until reads frames up to and including the first that done accepts.
func (s *visitorSocket) until(what string, done func(widgetFrame) bool) []widgetFrame {
	s.t.Helper()
	var frames []widgetFrame
	for {
		f := s.next(what)
		frames = append(frames, f)
		if done(f) {
			return frames
		}
		if len(frames) > 100 {
			s.t.Fatalf("no %s in 100 frames", what)
		}
	}
}

// message accepts the message frame with the body.
func message(body string) func(widgetFrame) bool {
	return func(f widgetFrame) bool { return f.Type == "message" && f.Message != nil && f.Message.Body == body }
}

// messageBodies are the bodies of the message frames among frames.
func messageBodies(frames []widgetFrame) []string {
	out := []string{}
	for _, f := range frames {
		if f.Type == "message" && f.Message != nil {
			out = append(out, f.Message.Body)
		}
	}
	return out
}

func TestTheVisitorsSocketCarriesTheAgentsSideOfTheChat(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		s := newShop(t, e)
		v := arrive(t, e, s.widget, map[string]any{"name": "Ann"})
		hello := v.say("Hello, anyone there?")
		if res := v.call("POST", "typing", nil); res.status != http.StatusNoContent {
			t.Errorf("the visitor types: %d %s", res.status, res.body)
		}
		request := hello.ConversationID
		path := fmt.Sprintf("/api/v1/conversations/%d", request)

		ws := v.socket(0)
		ws.until("the visitor's own message", message("Hello, anyone there?"))

		if res := s.anna.call("POST", path+"/take", nil); res.status != http.StatusOK {
			t.Fatalf("take: %d %s", res.status, res.body)
		}
		taken := ws.until("who answers", func(f widgetFrame) bool { return f.Type == "agent" })
		if a := taken[len(taken)-1].Agent; a == nil || a.Name != "Anna" {
			t.Errorf("after the take the visitor learns %s, want Anna answers", taken[len(taken)-1].raw)
		}

		post(s.anna, request, "note", "Internal: she sounds upset")
		reply := post(s.anna, request, "reply", "Hi Ann, Anna here. Let me check.")
		frames := ws.until("the reply", message("Hi Ann, Anna here. Let me check."))
		got := frames[len(frames)-1].Message
		if got.ID != reply || got.From != "agent" || got.Author == nil || got.Author.Name != "Anna" || got.ConversationID != request {
			t.Errorf("the reply as the visitor receives it: %s", frames[len(frames)-1].raw)
		}
		for _, f := range frames {
			if strings.Contains(f.raw, "she sounds upset") || strings.Contains(f.raw, "took the request") {
				t.Errorf("the visitor received an internal line: %s", f.raw)
			}
		}

		if res := s.anna.call("POST", path+"/typing", nil); res.status != http.StatusNoContent {
			t.Fatalf("typing: %d %s", res.status, res.body)
		}
		typing := ws.until("typing", func(f widgetFrame) bool { return f.Type == "typing" })
		if f := typing[len(typing)-1]; f.Name != "Anna" {
			t.Errorf("the typing frame %s, want Anna's name", f.raw)
		}

		// The connection drops; Anna writes twice meanwhile.
		ws.conn.CloseNow()
		post(s.anna, request, "reply", "First while you were away")
		post(s.anna, request, "note", "Internal: second note")
		post(s.anna, request, "reply", "Second while you were away")
		ws = v.socket(reply)
		post(s.anna, request, "reply", "Back live")
		frames = ws.until("the live reply", message("Back live"))
		if got := messageBodies(frames); !slices.Equal(got, []string{"First while you were away", "Second while you were away", "Back live"}) {
			t.Errorf("after reconnecting the visitor receives %q, want the two missed replies in order, then the live one, once each", got)
		}
		if history := bodies(v.history(fmt.Sprintf("after=%d", reply))); !slices.Equal(history, []string{"First while you were away", "Second while you were away", "Back live"}) {
			t.Errorf("the history after the reply: %q", history)
		}

		if res := s.anna.call("POST", path+"/close", nil); res.status != http.StatusOK {
			t.Fatalf("close: %d %s", res.status, res.body)
		}
		closed := ws.until("the end of the chat", func(f widgetFrame) bool { return f.Type == "closed" })
		if f := closed[len(closed)-1]; f.ConversationID != request {
			t.Errorf("the closing frame %s, want request %d", f.raw, request)
		}
	})
}

func TestAVisitorConnectedBeforeWritingReceivesTheReplies(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		s := newShop(t, e)
		t.Run("a new visitor", func(t *testing.T) {
			v := arrive(t, e, s.widget, nil)
			ws := v.socket(0)
			request := v.say("My first words").ConversationID
			s.anna.call("POST", fmt.Sprintf("/api/v1/conversations/%d/take", request), nil)
			post(s.anna, request, "reply", "Welcome!")
			frames := ws.until("the reply", message("Welcome!"))
			if f := frames[len(frames)-1]; f.Message.From != "agent" || f.Message.Author == nil || f.Message.Author.Name != "Anna" {
				t.Errorf("the reply: %s", f.raw)
			}
		})
		t.Run("the same verified person on a second device while the first is connected", func(t *testing.T) {
			who := map[string]any{"name": "Ann", "email": "ann@example.com", "hash": identityHash(s.secret, "ann@example.com")}
			laptop := arrive(t, e, s.widget, who)
			request := laptop.say("From my laptop").ConversationID
			laptopWS := laptop.socket(0)
			laptopWS.until("the laptop's message", message("From my laptop"))
			phone := arrive(t, e, s.widget, who)
			phoneWS := phone.socket(0)
			if got := phone.say("From my phone").ConversationID; got != request {
				t.Fatalf("the phone's message went to request %d, want Ann's open request %d", got, request)
			}
			s.boris.call("POST", fmt.Sprintf("/api/v1/conversations/%d/take", request), nil)
			post(s.boris, request, "reply", "Hello on both devices")
			laptopWS.until("the reply on the laptop", message("Hello on both devices"))
			phoneWS.until("the reply on the phone", message("Hello on both devices"))
		})
	})
}

func TestTheVisitorSeesWhenTheAgentHasRead(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		s := newShop(t, e)
		v := arrive(t, e, s.widget, nil)
		v.say("Hello")
		last := v.say("Are you there?")
		ws := v.socket(last.ID)
		path := fmt.Sprintf("/api/v1/conversations/%d", last.ConversationID)
		s.anna.call("POST", path+"/take", nil)
		if res := s.anna.call("POST", path+"/read", nil); res.status != http.StatusNoContent {
			t.Fatalf("read: %d %s", res.status, res.body)
		}
		frames := ws.until("the read mark", func(f widgetFrame) bool { return f.Type == "read" })
		// Read means every message of the request so far.
		if f := frames[len(frames)-1]; f.ConversationID != last.ConversationID {
			t.Errorf("the read frame %s, want it for request %d", f.raw, last.ConversationID)
		}
	})
}

func TestAVisitorWhoSendsTooFastIsSlowedDown(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		s := newShop(t, e)
		v := arrive(t, e, s.widget, nil)
		answers := make([]response, 15)
		var wg sync.WaitGroup
		for i := range answers {
			wg.Go(func() {
				answers[i] = v.call("POST", "messages", map[string]string{"text": fmt.Sprintf("spam %d", i), "key": fmt.Sprintf("spam-%d", i)})
			})
		}
		wg.Wait()
		sent, limited := 0, 0
		for i, res := range answers {
			code, _ := res.errorCode()
			switch {
			case res.status == http.StatusCreated:
				sent++
			case res.status == http.StatusTooManyRequests && code == "rate_limited":
				limited++
			default:
				t.Errorf("message %d: %d %s", i, res.status, res.body)
			}
		}
		if sent < 10 || limited == 0 {
			t.Errorf("15 quick messages: %d sent, %d slowed down; want the burst of 10 through, then 429 rate_limited", sent, limited)
		}
		if got := len(v.history("")); got != sent {
			t.Errorf("%d messages stored, %d answered 201", got, sent)
		}
		// Another visitor is not slowed down by the first.
		arrive(t, e, s.widget, nil).say("I am new here")
	})
}
