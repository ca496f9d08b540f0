package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-hq/switchboard/internal/app"
	"github.com/switchboard-hq/switchboard/internal/config"
	"github.com/switchboard-hq/switchboard/internal/loadgen"
	"github.com/switchboard-hq/switchboard/internal/messenger/telegram/telegramtest"
	"github.com/switchboard-hq/switchboard/internal/messenger/whatsapp"
	"github.com/switchboard-hq/switchboard/internal/messenger/whatsapp/whatsapptest"
	"github.com/switchboard-hq/switchboard/internal/storetest"
)

// The credentials the fake platforms accept.
const (
	telegramToken = "123456:TEST-switchboard_bot-token"
	whatsappToken = "EAATestSystemUserAccessToken0123456789"
	// signedInboundText is SIGNING.md's header for inbound_text.json.
	signedInboundText = "sha256=b10f4c7c223dd18ac293d4f236b6c6418655809b92c67d7831dd062caae93bbd"
	// The client of the Telegram fixtures.
	fixtureChat   = "700000001"
	fixtureClient = "Anna Test"
)

// messengerEnv is a real Switchboard whose Telegram and WhatsApp API base
// URLs point at fakes of those platforms, with the team of newTeam.
type messengerEnv struct {
	*env
	tm team
	tg *telegramtest.Fake
	wa *whatsapptest.Fake
}

// newMessengerEnv is newEnv with the platforms' base URLs set to fakes.
func newMessengerEnv(t *testing.T, eng storetest.Engine) *messengerEnv {
	t.Helper()
	tg := telegramtest.New(t, telegramToken)
	wa := whatsapptest.New(t, whatsappToken)
	dataDir := t.TempDir()
	cfg := config.Config{
		DatabaseURL: eng.URL, DataDir: dataDir, AdminEmail: adminEmail, AdminPassword: adminPassword,
		SessionLifetime: time.Hour, SessionIdle: time.Hour, SQLiteSynchronous: "NORMAL",
		TelegramAPIURL: tg.URL, WhatsAppAPIURL: wa.URL,
	}
	log := slog.New(slog.NewTextHandler(testLogOutput(), nil))
	a, err := app.New(context.Background(), cfg, log, "test", io.Discard)
	if err != nil {
		t.Fatalf("start app on %s: %v", eng.Name, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a.Start(ctx)
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(func() {
		srv.Close()
		cancel()
		a.Wait()
		a.Close()
	})
	e := &env{t: t, srv: srv, app: a, dataDir: dataDir}
	return &messengerEnv{env: e, tm: newTeam(t, e), tg: tg, wa: wa}
}

// eachMessengerEngine runs fn against a fresh server with fake platforms on
// every engine.
func eachMessengerEngine(t *testing.T, fn func(t *testing.T, m *messengerEnv)) {
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) { fn(t, newMessengerEnv(t, eng)) })
	}
}

type channelJSON struct {
	ID         int64             `json:"id"`
	Kind       string            `json:"kind"`
	Account    map[string]string `json:"account"`
	WebhookURL string            `json:"webhook_url"`
}

type requestRow struct {
	ID          int64  `json:"id"`
	ChannelID   int64  `json:"channel_id"`
	ClientName  string `json:"client_name"`
	AssigneeID  int64  `json:"assignee_id"`
	LastPreview string `json:"last_message_preview"`
}

type messageJSON struct {
	ID          int64  `json:"id"`
	Kind        string `json:"kind"`
	Body        string `json:"body"`
	Attachments []struct {
		Filename    string `json:"filename"`
		ContentType string `json:"content_type"`
		Size        int64  `json:"size"`
	} `json:"attachments"`
	Delivery      string  `json:"delivery"`
	DeliveryError string  `json:"delivery_error"`
	EditedAt      *string `json:"edited_at"`
}

// connect creates a messenger channel and returns the answer.
func (m *messengerEnv) connect(kind, name string, account map[string]string) response {
	return m.tm.admin.call("POST", "/api/v1/channels", map[string]any{"kind": kind, "name": name, "account": account})
}

// connectTelegram connects the fake's bot and returns the channel.
func (m *messengerEnv) connectTelegram(t *testing.T) channelJSON {
	t.Helper()
	res := m.connect("telegram", "Shop bot", map[string]string{"bot_token": telegramToken})
	var out struct{ Channel channelJSON }
	res.decode(t, &out)
	if res.status != http.StatusCreated {
		t.Fatalf("connect telegram: %d %s", res.status, res.body)
	}
	return out.Channel
}

func whatsappAccount(token string) map[string]string {
	return map[string]string{
		"phone_number_id": whatsapptest.PhoneNumberID, "access_token": token,
		"app_secret": whatsapptest.AppSecret, "verify_token": whatsapptest.VerifyToken,
	}
}

// connectWhatsApp connects the fake's number and returns the channel.
func (m *messengerEnv) connectWhatsApp(t *testing.T) channelJSON {
	t.Helper()
	res := m.connect("whatsapp", "Shop WhatsApp", whatsappAccount(whatsappToken))
	var out struct{ Channel channelJSON }
	res.decode(t, &out)
	if res.status != http.StatusCreated {
		t.Fatalf("connect whatsapp: %d %s", res.status, res.body)
	}
	return out.Channel
}

// hook posts body to a webhook as the platform would, with header pairs.
func (m *messengerEnv) hook(kind string, id int64, body []byte, header ...string) response {
	return m.anonymous().call("POST", fmt.Sprintf("/hooks/%s/%d", kind, id), raw{contentType: "application/json", data: body}, header...)
}

// whatsappHook posts body signed with the fake's app secret.
func (m *messengerEnv) whatsappHook(id int64, body []byte) response {
	return m.hook("whatsapp", id, body, whatsapp.SignatureHeader, whatsapptest.Sign(whatsapptest.AppSecret, body))
}

// deliver posts a Telegram update through the fake (with its secret).
func (m *messengerEnv) deliver(t *testing.T, update []byte) int {
	t.Helper()
	res, err := m.tg.Deliver(context.Background(), update)
	if err != nil {
		t.Fatalf("deliver update: %v", err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode
}

// queue is the agent's Unassigned list.
func queue(t *testing.T, c *client) []requestRow {
	t.Helper()
	var out struct{ Conversations []requestRow }
	res := c.call("GET", "/api/v1/conversations?view=unassigned", nil)
	res.decode(t, &out)
	if res.status != http.StatusOK {
		t.Fatalf("unassigned: %d %s", res.status, res.body)
	}
	return out.Conversations
}

// thread is every message of a request, oldest first.
func thread(t *testing.T, c *client, id int64) []messageJSON {
	t.Helper()
	var out struct{ Messages []messageJSON }
	res := c.call("GET", fmt.Sprintf("/api/v1/conversations/%d/messages", id), nil)
	res.decode(t, &out)
	if res.status != http.StatusOK {
		t.Fatalf("messages of %d: %d %s", id, res.status, res.body)
	}
	return out.Messages
}

func clientMessages(ms []messageJSON) []messageJSON {
	var out []messageJSON
	for _, m := range ms {
		if m.Kind == "client" {
			out = append(out, m)
		}
	}
	return out
}

// replyOf finds message id in its request.
func replyOf(t *testing.T, c *client, request, id int64) messageJSON {
	t.Helper()
	for _, m := range thread(t, c, request) {
		if m.ID == id {
			return m
		}
	}
	t.Fatalf("message %d is not in request %d", id, request)
	return messageJSON{}
}

// eventually polls cond until it holds or timeout passes; cond says what it saw.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, saw := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s, still not %s: %s", timeout, what, saw)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitDelivery waits until reply id of request shows state.
func waitDelivery(t *testing.T, c *client, request, id int64, state string, timeout time.Duration) messageJSON {
	t.Helper()
	var m messageJSON
	eventually(t, timeout, fmt.Sprintf("reply %d %s", id, state), func() (bool, string) {
		m = replyOf(t, c, request, id)
		return m.Delivery == state, fmt.Sprintf("delivery %q (%q)", m.Delivery, m.DeliveryError)
	})
	return m
}

// reply posts a reply as c and returns its id, checking that it is queued.
func reply(t *testing.T, c *client, request int64, body string) int64 {
	t.Helper()
	res := c.call("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", request), map[string]string{"kind": "reply", "body": body})
	var m messageJSON
	res.decode(t, &m)
	if res.status != http.StatusCreated {
		t.Fatalf("reply %q: %d %s", body, res.status, res.body)
	}
	if m.Delivery != "queued" && m.Delivery != "sent" {
		t.Errorf("a new reply to a messenger shows delivery %q, want queued", m.Delivery)
	}
	return m.ID
}

// take assigns the request to c.
func take(t *testing.T, c *client, request int64) {
	t.Helper()
	if res := c.call("POST", fmt.Sprintf("/api/v1/conversations/%d/take", request), nil); res.status != http.StatusOK {
		t.Fatalf("take %d: %d %s", request, res.status, res.body)
	}
}

// onlyRequest returns the one request in c's queue.
func onlyRequest(t *testing.T, c *client) requestRow {
	t.Helper()
	q := queue(t, c)
	if len(q) != 1 {
		t.Fatalf("the queue holds %d requests, want 1: %+v", len(q), q)
	}
	return q[0]
}

// jpegBytes is a small valid JPEG.
func jpegBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 3))
	for x := range 4 {
		img.Set(x, 1, color.RGBA{R: 200, G: uint8(40 * x), B: 10, A: 255})
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// download reads attachment index of message id as c.
func download(t *testing.T, c *client, id int64, index int) []byte {
	t.Helper()
	res := c.call("GET", fmt.Sprintf("/api/v1/messages/%d/attachments/%d", id, index), nil)
	if res.status != http.StatusOK {
		t.Fatalf("download attachment %d of message %d: %d %s", index, id, res.status, res.body)
	}
	return res.body
}

// telegramUpdate is a private-chat text update from another client. Keep
// messageID away from the small ids the fake numbers its sends with (it
// counts from 1 across all chats): Switchboard stores a reply's id as
// "chat:message", like a client message's, and both are unique per channel.
func telegramUpdate(updateID, chat, messageID int64, first, text string) []byte {
	b, _ := json.Marshal(map[string]any{
		"update_id": updateID,
		"message": map[string]any{
			"message_id": messageID, "date": time.Now().Unix(), "text": text,
			"from": map[string]any{"id": chat, "is_bot": false, "first_name": first},
			"chat": map[string]any{"id": chat, "type": "private", "first_name": first},
		},
	})
	return b
}

func TestMessengerConnectingChecksTheAccountAndNeverShowsSecrets(t *testing.T) {
	eachMessengerEngine(t, func(t *testing.T, m *messengerEnv) {
		channels := func() []channelJSON {
			var out struct{ Channels []channelJSON }
			res := m.tm.admin.call("GET", "/api/v1/channels", nil)
			res.decode(t, &out)
			if res.status != http.StatusOK {
				t.Fatalf("list channels: %d %s", res.status, res.body)
			}
			return out.Channels
		}
		before := len(channels())

		t.Run("telegram: a refused token is named and leaves no channel", func(t *testing.T) {
			res := m.connect("telegram", "Wrong bot", map[string]string{"bot_token": "999999:WRONG-token"})
			if code, field := res.errorCode(); res.status != http.StatusUnprocessableEntity || field != "account.bot_token" {
				t.Errorf("wrong token: %d %s %s (%s), want 422 on account.bot_token", res.status, code, field, res.body)
			}
			if n := len(channels()); n != before {
				t.Errorf("a refused connection left a channel: %d channels, want %d", n, before)
			}
		})

		t.Run("telegram: the platform down is 503 and leaves no channel", func(t *testing.T) {
			m.tg.SetDown(true)
			res := m.connect("telegram", "Bot while down", map[string]string{"bot_token": telegramToken})
			m.tg.SetDown(false)
			if res.status != http.StatusServiceUnavailable {
				t.Errorf("telegram down: %d %s, want 503", res.status, res.body)
			}
			if n := len(channels()); n != before {
				t.Errorf("a failed connection left a channel: %d channels, want %d", n, before)
			}
		})

		t.Run("telegram: the bot is shown, the webhook registered with a secret, and no secret is ever shown", func(t *testing.T) {
			res := m.connect("telegram", "Shop bot", map[string]string{"bot_token": telegramToken})
			var out struct{ Channel channelJSON }
			res.decode(t, &out)
			if res.status != http.StatusCreated {
				t.Fatalf("connect: %d %s", res.status, res.body)
			}
			ch := out.Channel
			if ch.Account["bot_name"] != "Switchboard Test Bot" || ch.Account["bot_username"] != "switchboard_test_bot" {
				t.Errorf("account = %v, want the bot's name and username from getMe", ch.Account)
			}
			wantHook := fmt.Sprintf("%s/hooks/telegram/%d", m.srv.URL, ch.ID)
			if ch.WebhookURL != wantHook {
				t.Errorf("webhook_url = %q, want %q", ch.WebhookURL, wantHook)
			}
			hook, secret := m.tg.Webhook()
			if hook != wantHook || secret == "" {
				t.Errorf("the fake's setWebhook got url %q and secret %q, want %q and a secret", hook, secret, wantHook)
			}
			one := m.tm.admin.call("GET", fmt.Sprintf("/api/v1/channels/%d", ch.ID), nil)
			list := m.tm.admin.call("GET", "/api/v1/channels", nil)
			agentList := m.tm.anna.call("GET", "/api/v1/channels", nil)
			for name, r := range map[string]response{"create": res, "get": one, "list": list, "agent's list": agentList} {
				if r.status != http.StatusOK && r.status != http.StatusCreated {
					t.Errorf("%s: %d %s", name, r.status, r.body)
				}
				for _, s := range []string{telegramToken, secret} {
					if bytes.Contains(r.body, []byte(s)) {
						t.Errorf("the %s answer contains a secret %q: %s", name, s, r.body)
					}
				}
			}
		})

		t.Run("whatsapp: a refused access token is named and leaves no channel", func(t *testing.T) {
			n := len(channels())
			res := m.connect("whatsapp", "Wrong number", whatsappAccount("EAAWrongToken"))
			if code, field := res.errorCode(); res.status != http.StatusUnprocessableEntity || field != "account.access_token" {
				t.Errorf("wrong access token: %d %s %s (%s), want 422 on account.access_token", res.status, code, field, res.body)
			}
			if got := len(channels()); got != n {
				t.Errorf("a refused connection left a channel: %d channels, want %d", got, n)
			}
		})

		t.Run("whatsapp: the number is shown, no secret is, and Meta's verification is answered", func(t *testing.T) {
			res := m.connect("whatsapp", "Shop WhatsApp", whatsappAccount(whatsappToken))
			var out struct{ Channel channelJSON }
			res.decode(t, &out)
			if res.status != http.StatusCreated {
				t.Fatalf("connect: %d %s", res.status, res.body)
			}
			ch := out.Channel
			if ch.Account["display_phone_number"] != whatsapptest.DisplayPhoneNumber {
				t.Errorf("account = %v, want display_phone_number %q", ch.Account, whatsapptest.DisplayPhoneNumber)
			}
			if want := fmt.Sprintf("%s/hooks/whatsapp/%d", m.srv.URL, ch.ID); ch.WebhookURL != want {
				t.Errorf("webhook_url = %q, want %q", ch.WebhookURL, want)
			}
			one := m.tm.admin.call("GET", fmt.Sprintf("/api/v1/channels/%d", ch.ID), nil)
			list := m.tm.admin.call("GET", "/api/v1/channels", nil)
			for name, r := range map[string]response{"create": res, "get": one, "list": list} {
				for _, s := range []string{whatsappToken, whatsapptest.AppSecret, whatsapptest.VerifyToken} {
					if bytes.Contains(r.body, []byte(s)) {
						t.Errorf("the %s answer contains a secret %q: %s", name, s, r.body)
					}
				}
			}

			path := fmt.Sprintf("/hooks/whatsapp/%d?hub.mode=subscribe&hub.verify_token=%s&hub.challenge=1158201444", ch.ID, whatsapptest.VerifyToken)
			if r := m.anonymous().call("GET", path, nil); r.status != http.StatusOK || string(r.body) != "1158201444" {
				t.Errorf("verification request: %d %q, want 200 \"1158201444\"", r.status, r.body)
			}
			wrong := fmt.Sprintf("/hooks/whatsapp/%d?hub.mode=subscribe&hub.verify_token=not-the-token&hub.challenge=1158201444", ch.ID)
			if r := m.anonymous().call("GET", wrong, nil); r.status != http.StatusForbidden || bytes.Contains(r.body, []byte("1158201444")) {
				t.Errorf("verification with a wrong token: %d %s, want 403 without the challenge", r.status, r.body)
			}
		})
	})
}

func TestWhatsAppWebhooksAreVerifiedOverTheRawBytesAndStoredOnce(t *testing.T) {
	eachMessengerEngine(t, func(t *testing.T, m *messengerEnv) {
		ch := m.connectWhatsApp(t)
		body := whatsapptest.Fixture("inbound_text.json")
		if got := whatsapptest.Sign(whatsapptest.AppSecret, body); got != signedInboundText {
			t.Fatalf("the fixture's signature is %s, SIGNING.md says %s", got, signedInboundText)
		}
		const text = "Hi! Is my order 4521 shipped? Need it by Friday äöå / thanks"
		nothingStored := func(t *testing.T, what string) {
			t.Helper()
			if q := queue(t, m.tm.anna); len(q) != 0 {
				t.Errorf("%s stored something: %+v", what, q)
			}
		}

		t.Run("a wrong, missing or re-serialised signature is 401 and stores nothing", func(t *testing.T) {
			last := signedInboundText[len(signedInboundText)-1]
			flipped := signedInboundText[:len(signedInboundText)-1] + map[bool]string{true: "0", false: "1"}[last != '0']
			var v any
			if err := json.Unmarshal(body, &v); err != nil {
				t.Fatal(err)
			}
			reserialised, _ := json.Marshal(v)
			if bytes.Equal(reserialised, body) {
				t.Fatal("re-serialising the fixture kept its bytes")
			}
			cases := []struct {
				name   string
				body   []byte
				header []string
			}{
				{"one hex digit changed", body, []string{whatsapp.SignatureHeader, flipped}},
				{"no signature header", body, nil},
				{"the body re-serialised", reserialised, []string{whatsapp.SignatureHeader, signedInboundText}},
			}
			for _, c := range cases {
				if res := m.hook("whatsapp", ch.ID, c.body, c.header...); res.status != http.StatusUnauthorized {
					t.Errorf("%s: %d %s, want 401", c.name, res.status, res.body)
				}
				nothingStored(t, c.name)
			}
		})

		var request requestRow
		t.Run("the exact fixture with SIGNING.md's header is one request with the client's name and text", func(t *testing.T) {
			if res := m.hook("whatsapp", ch.ID, body, whatsapp.SignatureHeader, signedInboundText); res.status != http.StatusOK {
				t.Fatalf("signed fixture: %d %s, want 200", res.status, res.body)
			}
			request = onlyRequest(t, m.tm.anna)
			if request.ClientName != "Maria Test" || request.ChannelID != ch.ID {
				t.Errorf("request = %+v, want client Maria Test on channel %d", request, ch.ID)
			}
			msgs := clientMessages(thread(t, m.tm.anna, request.ID))
			if len(msgs) != 1 || msgs[0].Body != text {
				t.Errorf("client messages = %+v, want one with %q", msgs, text)
			}
		})
		if request.ID == 0 {
			t.FailNow()
		}

		t.Run("the same body again changes nothing", func(t *testing.T) {
			if res := m.hook("whatsapp", ch.ID, body, whatsapp.SignatureHeader, signedInboundText); res.status != http.StatusOK {
				t.Fatalf("redelivery: %d %s, want 200", res.status, res.body)
			}
			if q := queue(t, m.tm.anna); len(q) != 1 {
				t.Errorf("after a redelivery the queue holds %d requests", len(q))
			}
			if msgs := clientMessages(thread(t, m.tm.anna, request.ID)); len(msgs) != 1 {
				t.Errorf("after a redelivery the request holds %d client messages", len(msgs))
			}
		})

		t.Run("an image is fetched from the platform and downloadable by the agent", func(t *testing.T) {
			photo := jpegBytes(t)
			m.wa.AddMedia("900000000000101", "image/jpeg", photo)
			if res := m.whatsappHook(ch.ID, whatsapptest.Fixture("inbound_image_caption.json")); res.status != http.StatusOK {
				t.Fatalf("image webhook: %d %s", res.status, res.body)
			}
			msgs := clientMessages(thread(t, m.tm.anna, request.ID))
			if len(msgs) != 2 {
				t.Fatalf("client messages = %+v, want the text and the image", msgs)
			}
			img := msgs[1]
			if img.Body != "Scratch on the lid" || len(img.Attachments) != 1 {
				t.Fatalf("image message = %+v, want the caption and one attachment", img)
			}
			if got := download(t, m.tm.anna, img.ID, 0); !bytes.Equal(got, photo) {
				t.Errorf("the downloaded image has %d bytes, not the %d the client sent", len(got), len(photo))
			}
		})

		t.Run("a template status update is acknowledged and stores nothing", func(t *testing.T) {
			n := len(thread(t, m.tm.anna, request.ID))
			if res := m.whatsappHook(ch.ID, whatsapptest.Fixture("template_status_update_ignored.json")); res.status != http.StatusOK {
				t.Errorf("template status update: %d %s, want 200", res.status, res.body)
			}
			if got := len(thread(t, m.tm.anna, request.ID)); got != n || len(queue(t, m.tm.anna)) != 1 {
				t.Errorf("a template status update stored something: %d messages, was %d", got, n)
			}
		})

		t.Run("a signed body that is not a WhatsApp webhook is 400", func(t *testing.T) {
			for _, b := range []string{`{"object":"page","entry":[]}`, `[1,2,3]`, `not json`} {
				if res := m.whatsappHook(ch.ID, []byte(b)); res.status != http.StatusBadRequest {
					t.Errorf("%s: %d %s, want 400", b, res.status, res.body)
				}
			}
		})
	})
}

func TestWhatsAppRepliesFollowTheDeliveryStatusesAndExplainFailures(t *testing.T) {
	eachMessengerEngine(t, func(t *testing.T, m *messengerEnv) {
		ch := m.connectWhatsApp(t)
		if res := m.hook("whatsapp", ch.ID, whatsapptest.Fixture("inbound_text.json"), whatsapp.SignatureHeader, signedInboundText); res.status != http.StatusOK {
			t.Fatalf("inbound: %d %s", res.status, res.body)
		}
		request := onlyRequest(t, m.tm.anna).ID
		take(t, m.tm.anna, request)

		const text = "<b>hi</b> *x* — we ship on Thursday"
		id := reply(t, m.tm.anna, request, text)
		waitDelivery(t, m.tm.anna, request, id, "sent", 10*time.Second)
		sent := m.wa.Sent()
		if len(sent) != 1 || sent[0].To != whatsapptest.Customer || sent[0].Type != "text" || sent[0].Text != text {
			t.Fatalf("the fake received %+v, want one text to %s with %q", sent, whatsapptest.Customer, text)
		}
		wamid := sent[0].ID

		t.Run("statuses move the delivery forward and never back", func(t *testing.T) {
			for _, step := range []struct{ status, want string }{
				{"delivered", "delivered"}, {"read", "read"}, {"delivered", "read"}, {"sent", "read"},
			} {
				if res := m.whatsappHook(ch.ID, m.wa.Status(wamid, step.status)); res.status != http.StatusOK {
					t.Fatalf("status %s: %d %s", step.status, res.status, res.body)
				}
				if got := replyOf(t, m.tm.anna, request, id); got.Delivery != step.want {
					t.Errorf("after a %q status the reply shows %q, want %q", step.status, got.Delivery, step.want)
				}
			}
		})

		t.Run("a failed status with 131047 shows the 24-hour window", func(t *testing.T) {
			late := reply(t, m.tm.anna, request, "Are you still there?")
			waitDelivery(t, m.tm.anna, request, late, "sent", 10*time.Second)
			all := m.wa.Sent()
			lateID := all[len(all)-1].ID
			body := m.wa.Failed(lateID, 131047, "Re-engagement message", "Message failed to send because more than 24 hours have passed since the customer last replied to this number.")
			if res := m.whatsappHook(ch.ID, body); res.status != http.StatusOK {
				t.Fatalf("failed status: %d %s", res.status, res.body)
			}
			got := replyOf(t, m.tm.anna, request, late)
			if got.Delivery != "failed" || got.DeliveryError != whatsapp.WindowClosedReason {
				t.Errorf("the reply shows %q %q, want failed with %q", got.Delivery, got.DeliveryError, whatsapp.WindowClosedReason)
			}
		})

		t.Run("a send refused with 131047 fails with the 24-hour window and is not retried", func(t *testing.T) {
			before := len(m.wa.Sent())
			m.wa.FailNextSends(1, http.StatusBadRequest, whatsapptest.WindowClosedError())
			refused := reply(t, m.tm.anna, request, "One more thing")
			got := waitDelivery(t, m.tm.anna, request, refused, "failed", 10*time.Second)
			if got.DeliveryError != whatsapp.WindowClosedReason {
				t.Errorf("the refused reply's reason is %q, want %q", got.DeliveryError, whatsapp.WindowClosedReason)
			}
			time.Sleep(300 * time.Millisecond)
			if n := len(m.wa.Sent()); n != before {
				t.Errorf("a permanently refused reply was sent again: %d sends, was %d", n, before)
			}
		})
	})
}

func TestTelegramUpdatesBecomeRequestsOnlyWithTheWebhookSecret(t *testing.T) {
	eachMessengerEngine(t, func(t *testing.T, m *messengerEnv) {
		ch := m.connectTelegram(t)
		_, secret := m.tg.Webhook()
		text := telegramtest.Fixture("update_text.json")

		t.Run("an update without or with a wrong secret is 401 and stores nothing", func(t *testing.T) {
			for name, header := range map[string][]string{
				"no secret":    nil,
				"wrong secret": {telegramtest.SecretHeader, "not-" + secret},
				"empty secret": {telegramtest.SecretHeader, ""},
			} {
				if res := m.hook("telegram", ch.ID, text, header...); res.status != http.StatusUnauthorized {
					t.Errorf("%s: %d %s, want 401", name, res.status, res.body)
				}
			}
			if q := queue(t, m.tm.anna); len(q) != 0 {
				t.Errorf("an unauthenticated update stored %+v", q)
			}
		})

		var request requestRow
		t.Run("a text message is a request of the client, once", func(t *testing.T) {
			for range 2 {
				if status := m.deliver(t, text); status != http.StatusOK {
					t.Fatalf("deliver the text update: %d", status)
				}
			}
			request = onlyRequest(t, m.tm.anna)
			if request.ClientName != fixtureClient || request.ChannelID != ch.ID {
				t.Errorf("request = %+v, want client %s on channel %d", request, fixtureClient, ch.ID)
			}
			msgs := clientMessages(thread(t, m.tm.anna, request.ID))
			if len(msgs) != 1 || msgs[0].Body != "Hello, my order #4521 has not arrived" {
				t.Errorf("client messages = %+v, want the text once", msgs)
			}
		})
		if request.ID == 0 {
			t.FailNow()
		}

		t.Run("an edit changes the message and marks it edited", func(t *testing.T) {
			if status := m.deliver(t, telegramtest.Fixture("update_edited_message.json")); status != http.StatusOK {
				t.Fatalf("deliver the edit: %d", status)
			}
			msgs := clientMessages(thread(t, m.tm.anna, request.ID))
			if len(msgs) != 1 {
				t.Fatalf("after an edit the request holds %d client messages: %+v", len(msgs), msgs)
			}
			if msgs[0].Body != "Hello, my order #4522 has not arrived (typo fixed)" || msgs[0].EditedAt == nil {
				t.Errorf("edited message = %+v, want the new text with edited_at", msgs[0])
			}
		})

		t.Run("a photo is fetched from the platform and downloadable by the agent", func(t *testing.T) {
			photo := jpegBytes(t)
			m.tg.AddFile("AgACAgIAAxkBAAFAKE-photo-large", "photos/file_0.jpg", photo)
			if status := m.deliver(t, telegramtest.Fixture("update_photo_caption.json")); status != http.StatusOK {
				t.Fatalf("deliver the photo: %d", status)
			}
			msgs := clientMessages(thread(t, m.tm.anna, request.ID))
			if len(msgs) != 2 {
				t.Fatalf("client messages = %+v, want the text and the photo", msgs)
			}
			p := msgs[1]
			if p.Body != "This is the damaged box" || len(p.Attachments) != 1 {
				t.Fatalf("photo message = %+v, want the caption and one attachment", p)
			}
			if got := download(t, m.tm.anna, p.ID, 0); !bytes.Equal(got, photo) {
				t.Errorf("the downloaded photo has %d bytes, not the %d the client sent", len(got), len(photo))
			}
		})

		t.Run("channel posts and membership changes are acknowledged and ignored", func(t *testing.T) {
			n := len(thread(t, m.tm.anna, request.ID))
			for _, f := range []string{"update_channel_post_ignored.json", "update_my_chat_member_kicked.json"} {
				if status := m.deliver(t, telegramtest.Fixture(f)); status != http.StatusOK {
					t.Errorf("%s: %d, want 200", f, status)
				}
			}
			if got := len(thread(t, m.tm.anna, request.ID)); got != n {
				t.Errorf("ignored updates added messages: %d, was %d", got, n)
			}
			if q := queue(t, m.tm.anna); len(q) != 1 {
				t.Errorf("ignored updates opened requests: %+v", q)
			}
		})
	})
}

// deliveryFrame is an agent websocket frame carrying a message.
type deliveryFrame struct {
	Kind string `json:"kind"`
	Data struct {
		Message *messageJSON `json:"message"`
	} `json:"data"`
}

// awaitUpdated reads the socket until a message.updated frame shows message
// id with delivery state.
func awaitUpdated(t *testing.T, conn *loadgen.Events, id int64, state string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var seen []string
	for {
		data, err := conn.Next(ctx)
		if err != nil {
			t.Fatalf("no message.updated frame with reply %d %s (saw %v): %v", id, state, seen, err)
		}
		var f deliveryFrame
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatalf("frame %s: %v", data, err)
		}
		if f.Data.Message != nil && f.Data.Message.ID == id {
			seen = append(seen, f.Kind+":"+f.Data.Message.Delivery)
			if f.Kind == "message.updated" && f.Data.Message.Delivery == state {
				return
			}
		}
	}
}

func TestTelegramRepliesAreSentVerbatimAndFailuresCanBeRetried(t *testing.T) {
	eachMessengerEngine(t, func(t *testing.T, m *messengerEnv) {
		m.connectTelegram(t)
		if status := m.deliver(t, telegramtest.Fixture("update_text.json")); status != http.StatusOK {
			t.Fatalf("deliver: %d", status)
		}
		request := onlyRequest(t, m.tm.anna).ID
		take(t, m.tm.anna, request)
		sentTexts := func(text string) int {
			n := 0
			for _, s := range m.tg.Sent() {
				if s.Text == text {
					n++
				}
			}
			return n
		}

		t.Run("a reply reaches the client's chat verbatim and shows sent, live", func(t *testing.T) {
			conn := m.tm.anna.socket(t, m.srv.URL, -1)
			defer conn.CloseNow()
			const text = "<b>hi</b> *x* _y_ [link](http://example.com) &amp;"
			id := reply(t, m.tm.anna, request, text)
			awaitUpdated(t, conn, id, "sent")
			waitDelivery(t, m.tm.anna, request, id, "sent", 5*time.Second)
			sent := m.tg.Sent()
			if len(sent) != 1 || sent[0].Method != "sendMessage" || sent[0].ChatID != fixtureChat || sent[0].Text != text || sent[0].ParseMode != "" {
				t.Errorf("the fake received %+v, want one sendMessage to %s with %q and no parse_mode", sent, fixtureChat, text)
			}
		})

		t.Run("a blocked bot fails with the reason, and Retry sends it once the platform accepts", func(t *testing.T) {
			m.tg.FailNextSends(1, http.StatusForbidden, telegramtest.ErrorBlocked)
			const text = "Your parcel left the warehouse"
			id := reply(t, m.tm.anna, request, text)
			failed := waitDelivery(t, m.tm.anna, request, id, "failed", 10*time.Second)
			if failed.DeliveryError != "The client blocked the bot" {
				t.Errorf("failure reason %q, want %q", failed.DeliveryError, "The client blocked the bot")
			}
			if n := sentTexts(text); n != 0 {
				t.Fatalf("a refused reply is among the sent ones %d times", n)
			}
			res := m.tm.anna.call("POST", fmt.Sprintf("/api/v1/messages/%d/retry", id), nil)
			if res.status != http.StatusOK {
				t.Fatalf("retry: %d %s", res.status, res.body)
			}
			waitDelivery(t, m.tm.anna, request, id, "sent", 10*time.Second)
			if n := sentTexts(text); n != 1 {
				t.Errorf("after Retry the reply was sent %d times, want 1", n)
			}
			if res := m.tm.anna.call("POST", fmt.Sprintf("/api/v1/messages/%d/retry", id), nil); res.status != http.StatusConflict {
				t.Errorf("retrying a sent reply: %d %s, want 409", res.status, res.body)
			}
		})

		t.Run("flood control's retry_after is waited out and the reply is sent once", func(t *testing.T) {
			const flood = `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}`
			calls := func() int {
				n := 0
				for _, c := range m.tg.Calls() {
					if c == "sendMessage" {
						n++
					}
				}
				return n
			}
			before := calls()
			m.tg.FailNextSends(1, http.StatusTooManyRequests, flood)
			const text = "Thanks for waiting"
			start := time.Now()
			id := reply(t, m.tm.anna, request, text)
			waitDelivery(t, m.tm.anna, request, id, "sent", 10*time.Second)
			took := time.Since(start)
			if n := sentTexts(text); n != 1 {
				t.Errorf("the reply was sent %d times, want 1", n)
			}
			if n := calls() - before; n != 2 {
				t.Errorf("sendMessage was called %d times, want 2 (the 429, then the send)", n)
			}
			if took < 900*time.Millisecond {
				t.Errorf("the reply went out %s after the 429, before its retry_after of 1 s", took)
			}
			t.Logf("sent %s after the reply (retry_after 1 s)", took.Round(time.Millisecond))
		})
	})
}

func TestOutageRepliesAreDeliveredExactlyOnceInOrder(t *testing.T) {
	eachMessengerEngine(t, func(t *testing.T, m *messengerEnv) {
		m.connectTelegram(t)
		const otherChat = 700000042
		if status := m.deliver(t, telegramtest.Fixture("update_text.json")); status != http.StatusOK {
			t.Fatalf("deliver: %d", status)
		}
		if status := m.deliver(t, telegramUpdate(900000500, otherChat, 4242, "Bob", "Where is my refund?")); status != http.StatusOK {
			t.Fatalf("deliver: %d", status)
		}
		q := queue(t, m.tm.anna)
		if len(q) != 2 {
			t.Fatalf("queue = %+v, want two requests", q)
		}
		byClient := map[string]int64{}
		for _, r := range q {
			byClient[r.ClientName] = r.ID
			take(t, m.tm.anna, r.ID)
		}
		first, second := byClient[fixtureClient], byClient["Bob"]
		if first == 0 || second == 0 {
			t.Fatalf("queue = %+v, want requests of %s and Bob", q, fixtureClient)
		}

		// The platform goes down; the agent keeps writing.
		m.tg.SetDown(true)
		want := map[string][]string{}
		replies := map[int64][]int64{}
		for i := range 5 {
			text := fmt.Sprintf("Anna, update %d of 5", i+1)
			replies[first] = append(replies[first], reply(t, m.tm.anna, first, text))
			want[fixtureChat] = append(want[fixtureChat], text)
			if i < 2 {
				text := fmt.Sprintf("Bob, update %d of 2", i+1)
				replies[second] = append(replies[second], reply(t, m.tm.anna, second, text))
				want[fmt.Sprint(otherChat)] = append(want[fmt.Sprint(otherChat)], text)
			}
		}
		time.Sleep(3 * time.Second)
		if n := len(m.tg.Sent()); n != 0 {
			t.Fatalf("%d replies were accepted while the platform was down", n)
		}
		for request, ids := range replies {
			for _, id := range ids {
				if got := replyOf(t, m.tm.anna, request, id); got.Delivery != "queued" {
					t.Errorf("during the outage reply %d shows %q (%q), want queued", id, got.Delivery, got.DeliveryError)
				}
			}
		}
		attempts := 0
		for _, c := range m.tg.Calls() {
			if c == "sendMessage" {
				attempts++
			}
		}
		t.Logf("send attempts during the 3 s outage: %d", attempts)
		back := time.Now()
		m.tg.SetDown(false)

		for request, ids := range replies {
			for _, id := range ids {
				waitDelivery(t, m.tm.anna, request, id, "sent", 15*time.Second)
			}
		}
		t.Logf("every reply was sent %s after the platform came back", time.Since(back).Round(time.Millisecond))
		got := map[string][]string{}
		for _, s := range m.tg.Sent() {
			got[s.ChatID] = append(got[s.ChatID], s.Text)
		}
		for chat, texts := range want {
			if !slices.Equal(got[chat], texts) {
				t.Errorf("chat %s received %q, want each reply once, in order: %q", chat, got[chat], texts)
			}
		}
		if len(got) != len(want) {
			t.Errorf("replies went to chats %v, want %v", got, want)
		}
		if n := len(m.tg.Sent()); n != 7 {
			t.Errorf("the fake accepted %d messages, want 7", n)
		}
		if s := strings.Join(m.tg.Calls(), " "); strings.Contains(s, "sendPhoto") || strings.Contains(s, "sendDocument") {
			t.Errorf("unexpected calls: %s", s)
		}
	})
}
