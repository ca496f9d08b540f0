package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-hq/switchboard/internal/app"
	"github.com/switchboard-hq/switchboard/internal/config"
	"github.com/switchboard-hq/switchboard/internal/messenger"
	"github.com/switchboard-hq/switchboard/internal/messenger/instagram"
	"github.com/switchboard-hq/switchboard/internal/messenger/instagram/instagramtest"
	fbmessenger "github.com/switchboard-hq/switchboard/internal/messenger/messenger"
	"github.com/switchboard-hq/switchboard/internal/messenger/messenger/messengertest"
	"github.com/switchboard-hq/switchboard/internal/messenger/ok"
	"github.com/switchboard-hq/switchboard/internal/messenger/ok/oktest"
	"github.com/switchboard-hq/switchboard/internal/messenger/telegram/telegramtest"
	"github.com/switchboard-hq/switchboard/internal/messenger/viber"
	"github.com/switchboard-hq/switchboard/internal/messenger/viber/vibertest"
	"github.com/switchboard-hq/switchboard/internal/messenger/vk"
	"github.com/switchboard-hq/switchboard/internal/messenger/vk/vktest"
	"github.com/switchboard-hq/switchboard/internal/messenger/whatsapp/whatsapptest"
	"github.com/switchboard-hq/switchboard/internal/storetest"
)

// The tokens the fakes of the other five platforms accept.
const (
	facebookPageToken  = "EAAFakeMessengerPageToken0123456789"
	instagramPageToken = "EAAFakeInstagramPageToken0123456789"
	vkCommunityToken   = "vk1.a.FakeCommunityToken0123456789"
	// platformReply is what the agent answers on every platform: markup
	// that must reach the client as typed.
	platformReply = `<b>x</b> & "y" — your parcel left today`
	// platformWait bounds every wait for the outbox.
	platformWait = 10 * time.Second
)

// platformEnv is a real Switchboard whose seven platform base URLs all point
// at fakes, with the team of newTeam.
type platformEnv struct {
	*env
	tm team
	tg *telegramtest.Fake
	wa *whatsapptest.Fake
	fb *messengertest.Fake
	ig *instagramtest.Fake
	vb *vibertest.Fake
	vk *vktest.Fake
	ok *oktest.Fake
}

// newPlatformEnv starts the fakes, lets configure change the configuration
// (to put something between Switchboard and a fake), and starts Switchboard.
func newPlatformEnv(t *testing.T, eng storetest.Engine, configure func(p *platformEnv, cfg *config.Config)) *platformEnv {
	t.Helper()
	p := &platformEnv{
		tg: telegramtest.New(t, telegramToken),
		wa: whatsapptest.New(t, whatsappToken),
		fb: messengertest.New(t, facebookPageToken),
		ig: instagramtest.New(t, instagramPageToken),
		vb: vibertest.New(t, vibertest.Token),
		vk: vktest.New(t, vkCommunityToken),
		ok: oktest.New(t),
	}
	dataDir := t.TempDir()
	cfg := config.Config{
		DatabaseURL: eng.URL, DataDir: dataDir, AdminEmail: adminEmail, AdminPassword: adminPassword,
		SessionLifetime: time.Hour, SessionIdle: time.Hour, SQLiteSynchronous: "NORMAL",
		TelegramAPIURL: p.tg.URL, WhatsAppAPIURL: p.wa.URL,
		MessengerAPIURL: p.fb.URL, InstagramAPIURL: p.ig.URL, ViberAPIURL: p.vb.URL,
		VKAPIURL: p.vk.URL, OKAPIURL: p.ok.URL,
	}
	if configure != nil {
		configure(p, &cfg)
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
	p.env = &env{t: t, srv: srv, app: a, dataDir: dataDir}
	p.tm = newTeam(t, p.env)
	return p
}

// eachPlatformEngine runs fn against a fresh server with every platform
// faked, on every engine.
func eachPlatformEngine(t *testing.T, configure func(p *platformEnv, cfg *config.Config), fn func(t *testing.T, p *platformEnv)) {
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) { fn(t, newPlatformEnv(t, eng, configure)) })
	}
}

// accountFields is what an administrator enters for acc: its values of the
// platform's fields (Public and Secrets), nothing it learned.
func accountFields(fields []messenger.Field, acc messenger.Account) map[string]string {
	out := map[string]string{}
	for _, f := range fields {
		if v := acc.Public[f.Name]; v != "" {
			out[f.Name] = v
		}
		if v := acc.Secrets[f.Name]; v != "" {
			out[f.Name] = v
		}
	}
	return out
}

// with is fields with one value changed.
func with(fields map[string]string, name, value string) map[string]string {
	out := map[string]string{}
	for k, v := range fields {
		out[k] = v
	}
	out[name] = value
	return out
}

// got reads the answer to a fake platform's call of Switchboard (status -1
// with the error when the call failed).
func got(res *http.Response, err error) response {
	if err != nil {
		return response{status: -1, body: []byte(err.Error())}
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, body: body, header: res.Header}
}

func (p *platformEnv) channelCount(t *testing.T) int {
	t.Helper()
	var out struct{ Channels []channelJSON }
	res := p.tm.admin.call("GET", "/api/v1/channels", nil)
	res.decode(t, &out)
	if res.status != http.StatusOK {
		t.Fatalf("list channels: %d %s", res.status, res.body)
	}
	return len(out.Channels)
}

// refused checks that connecting kind with account is 422 on
// account.<field>, shows none of hidden, and leaves no channel behind.
func (p *platformEnv) refused(t *testing.T, kind string, account map[string]string, field string, hidden ...string) {
	t.Helper()
	before := p.channelCount(t)
	res := p.tm.admin.call("POST", "/api/v1/channels", map[string]any{"kind": kind, "name": "Wrong " + kind, "account": account})
	if code, f := res.errorCode(); res.status != http.StatusUnprocessableEntity || f != "account."+field {
		t.Errorf("wrong %s: %d %s %s (%s), want 422 on account.%s", field, res.status, code, f, res.body, field)
	}
	for _, h := range hidden {
		if bytes.Contains(res.body, []byte(h)) {
			t.Errorf("the refusal shows the secret %q: %s", h, res.body)
		}
	}
	if n := p.channelCount(t); n != before {
		t.Errorf("a refused %s connection left a channel: %d channels, want %d", kind, n, before)
	}
}

// connectPlatform connects kind with account and checks that its answer,
// and the channel's in the admin's and the agent's lists and alone, show
// none of secrets.
func (p *platformEnv) connectPlatform(t *testing.T, kind string, account map[string]string, secrets func() []string) channelJSON {
	t.Helper()
	res := p.tm.admin.call("POST", "/api/v1/channels", map[string]any{"kind": kind, "name": "Shop " + kind, "account": account})
	var out struct{ Channel channelJSON }
	res.decode(t, &out)
	if res.status != http.StatusCreated {
		t.Fatalf("connect %s: %d %s", kind, res.status, res.body)
	}
	ch := out.Channel
	if want := fmt.Sprintf("%s/hooks/%s/%d", p.srv.URL, kind, ch.ID); ch.Kind != kind || ch.WebhookURL != want {
		t.Errorf("channel kind %q webhook_url %q, want %s and %s", ch.Kind, ch.WebhookURL, kind, want)
	}
	answers := map[string]response{
		"create":       res,
		"get":          p.tm.admin.call("GET", fmt.Sprintf("/api/v1/channels/%d", ch.ID), nil),
		"list":         p.tm.admin.call("GET", "/api/v1/channels", nil),
		"agent's list": p.tm.anna.call("GET", "/api/v1/channels", nil),
		"agent's get":  p.tm.anna.call("GET", fmt.Sprintf("/api/v1/channels/%d", ch.ID), nil),
	}
	for name, r := range answers {
		if r.status >= 300 {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
		for _, s := range secrets() {
			if s != "" && bytes.Contains(r.body, []byte(s)) {
				t.Errorf("the %s answer of a %s channel contains the secret %q: %s", name, kind, s, r.body)
			}
		}
	}
	return ch
}

// noRequests checks that nothing reached the queue.
func (p *platformEnv) noRequests(t *testing.T, what string) {
	t.Helper()
	if q := queue(t, p.tm.anna); len(q) != 0 {
		t.Errorf("%s stored something: %+v", what, q)
	}
}

// oneClientMessage checks that the queue holds one request of client name
// on ch, with one client message text, and returns it.
func (p *platformEnv) oneClientMessage(t *testing.T, ch channelJSON, name, text string) requestRow {
	t.Helper()
	r := onlyRequest(t, p.tm.anna)
	if r.ClientName != name || r.ChannelID != ch.ID {
		t.Errorf("request = %+v, want client %q on channel %d", r, name, ch.ID)
	}
	if msgs := clientMessages(thread(t, p.tm.anna, r.ID)); len(msgs) != 1 || msgs[0].Body != text {
		t.Errorf("client messages = %+v, want one with %q", msgs, text)
	}
	return r
}

// platClientCard is the client panel's view of a messenger client.
type platClientCard struct {
	Name       string `json:"name"`
	Identities []struct {
		Kind       string `json:"kind"`
		ExternalID string `json:"external_id"`
		Profile    struct {
			Name      string `json:"name"`
			AvatarURL string `json:"avatar_url"`
		} `json:"profile"`
	} `json:"identities"`
}

// profileArrived checks that the client of request has the name and an
// avatar that the platform's profile gave, on their identity of kind.
func (p *platformEnv) profileArrived(t *testing.T, request int64, kind, externalID, name string) {
	t.Helper()
	res := p.tm.anna.call("GET", fmt.Sprintf("/api/v1/conversations/%d/client", request), nil)
	var card platClientCard
	res.decode(t, &card)
	if res.status != http.StatusOK {
		t.Fatalf("client of %d: %d %s", request, res.status, res.body)
	}
	for _, id := range card.Identities {
		if id.Kind == kind && id.ExternalID == externalID {
			if id.Profile.Name != name || !strings.HasPrefix(id.Profile.AvatarURL, "https://") {
				t.Errorf("the %s identity's profile = %+v, want the name %q and the avatar from the profile API", kind, id.Profile, name)
			}
			return
		}
	}
	t.Errorf("client card %s has no %s identity %s", res.body, kind, externalID)
}

// failsThenRetried replies text while the platform refuses it (fail sets
// that up), expects the reply failed with reason, then retries it and
// expects it sent; sent counts the platform's accepted messages with text.
func (p *platformEnv) failsThenRetried(t *testing.T, request int64, text, reason string, fail func(), sent func(text string) int) {
	t.Helper()
	fail()
	id := reply(t, p.tm.anna, request, text)
	failed := waitDelivery(t, p.tm.anna, request, id, "failed", platformWait)
	if failed.DeliveryError != reason {
		t.Errorf("the refused reply's reason is %q, want %q", failed.DeliveryError, reason)
	}
	if n := sent(text); n != 0 {
		t.Fatalf("a refused reply was accepted %d times", n)
	}
	if res := p.tm.anna.call("POST", fmt.Sprintf("/api/v1/messages/%d/retry", id), nil); res.status != http.StatusOK {
		t.Fatalf("retry: %d %s", res.status, res.body)
	}
	waitDelivery(t, p.tm.anna, request, id, "sent", platformWait)
	if n := sent(text); n != 1 {
		t.Errorf("after Retry the reply was accepted %d times, want 1", n)
	}
}

// hookAt posts body to a webhook path as a stranger would, with header pairs.
func (p *platformEnv) hookAt(path string, body []byte, header ...string) response {
	return p.anonymous().call("POST", path, raw{contentType: "application/json", data: body}, header...)
}

func TestFacebookMessengerConnectsReceivesAndReplies(t *testing.T) {
	eachPlatformEngine(t, nil, func(t *testing.T, p *platformEnv) {
		ctx := context.Background()
		fields := accountFields(fbmessenger.New("", nil).Fields(), p.fb.Account())
		secrets := func() []string {
			return []string{facebookPageToken, messengertest.AppSecret, messengertest.VerifyToken, messengertest.Proof(messengertest.AppSecret, facebookPageToken)}
		}

		t.Run("a refused Page token is named and leaves no channel", func(t *testing.T) {
			p.refused(t, "messenger", with(fields, fbmessenger.FieldPageAccessToken, "EAAWrongPageToken"), fbmessenger.FieldPageAccessToken, append(secrets(), "EAAWrongPageToken")...)
		})

		ch := p.connectPlatform(t, "messenger", fields, secrets)
		hook := ch.WebhookURL
		t.Run("the Page is shown and subscribed", func(t *testing.T) {
			if ch.Account[fbmessenger.FieldPageID] != messengertest.PageID || ch.Account[fbmessenger.FieldPageName] != messengertest.PageName {
				t.Errorf("account = %v, want the Page's id and name", ch.Account)
			}
			if subs := p.fb.Subscriptions(); len(subs) != 1 || !slices.Contains(subs[0], "message_deliveries") {
				t.Errorf("subscriptions = %v, want one with message_deliveries", subs)
			}
		})

		t.Run("Meta's verification is answered with the challenge, only with the verify token", func(t *testing.T) {
			if r := got(p.fb.Subscribe(ctx, hook, messengertest.VerifyToken, "1158201444")); r.status != http.StatusOK || string(r.body) != "1158201444" {
				t.Errorf("verification: %d %q, want 200 \"1158201444\"", r.status, r.body)
			}
			if r := got(p.fb.Subscribe(ctx, hook, "not-the-token", "1158201444")); r.status != http.StatusForbidden || bytes.Contains(r.body, []byte("1158201444")) {
				t.Errorf("verification with a wrong token: %d %s, want 403 without the challenge", r.status, r.body)
			}
		})

		const text = "Bonjour, où est ma commande ? <script>alert(1)</script>"
		_, body := p.fb.Text(messengertest.Customer, text)
		t.Run("a webhook with a wrong or missing signature is 401 and stores nothing", func(t *testing.T) {
			for name, sig := range map[string]string{"wrong secret": messengertest.Sign("not-the-app-secret", body), "no signature": ""} {
				if r := got(p.fb.DeliverSigned(ctx, hook, sig, body)); r.status != http.StatusUnauthorized {
					t.Errorf("%s: %d %s, want 401", name, r.status, r.body)
				}
			}
			p.noRequests(t, "an unsigned webhook")
		})

		var request requestRow
		t.Run("a message is one request named from the profile API, once", func(t *testing.T) {
			for range 2 {
				if r := got(p.fb.Deliver(ctx, hook, body)); r.status != http.StatusOK {
					t.Fatalf("deliver: %d %s", r.status, r.body)
				}
			}
			request = p.oneClientMessage(t, ch, messengertest.CustomerName, text)
			p.profileArrived(t, request.ID, "messenger", messengertest.Customer, messengertest.CustomerName)
		})
		if request.ID == 0 {
			t.FailNow()
		}
		take(t, p.tm.anna, request.ID)

		t.Run("a reply reaches the customer verbatim; a delivery receipt marks it delivered", func(t *testing.T) {
			id := reply(t, p.tm.anna, request.ID, platformReply)
			waitDelivery(t, p.tm.anna, request.ID, id, "sent", platformWait)
			sent := p.fb.Sent()
			if len(sent) != 1 || sent[0].To != messengertest.Customer || sent[0].Text != platformReply {
				t.Fatalf("the fake received %+v, want one message to %s with %q", sent, messengertest.Customer, platformReply)
			}
			if r := got(p.fb.Deliver(ctx, hook, p.fb.Delivery(messengertest.Customer, sent[0].ID))); r.status != http.StatusOK {
				t.Fatalf("delivery receipt: %d %s", r.status, r.body)
			}
			if m := replyOf(t, p.tm.anna, request.ID, id); m.Delivery != "delivered" {
				t.Errorf("after a delivery receipt the reply shows %q, want delivered", m.Delivery)
			}
		})

		t.Run("outside the 24-hour window the reply fails with the reason, and Retry sends it", func(t *testing.T) {
			p.failsThenRetried(t, request.ID, "Are you still there? <b>1</b>", fbmessenger.WindowClosedReason,
				func() { p.fb.FailNextSends(1, http.StatusBadRequest, messengertest.WindowClosedError()) },
				func(text string) int {
					n := 0
					for _, s := range p.fb.Sent() {
						if s.Text == text && s.To == messengertest.Customer {
							n++
						}
					}
					return n
				})
		})
	})
}

func TestInstagramConnectsReceivesAndReplies(t *testing.T) {
	eachPlatformEngine(t, nil, func(t *testing.T, p *platformEnv) {
		ctx := context.Background()
		fields := accountFields(instagram.New("", nil).Fields(), p.ig.Account())
		secrets := func() []string {
			return []string{instagramPageToken, instagramtest.AppSecret, instagramtest.VerifyToken, instagramtest.AppSecretProof(instagramtest.AppSecret, instagramPageToken)}
		}

		t.Run("a refused Page token is named and leaves no channel", func(t *testing.T) {
			p.refused(t, "instagram", with(fields, instagram.FieldAccessToken, "EAAWrongInstagramToken"), instagram.FieldAccessToken, append(secrets(), "EAAWrongInstagramToken")...)
		})

		ch := p.connectPlatform(t, "instagram", fields, secrets)
		hook := ch.WebhookURL
		t.Run("the account and its Page are shown", func(t *testing.T) {
			a := ch.Account
			if a[instagram.FieldInstagramID] != instagramtest.AccountID || a[instagram.FieldUsername] != instagramtest.Username || a[instagram.FieldPageName] != instagramtest.PageName {
				t.Errorf("account = %v, want the Instagram account id, username and Page name", a)
			}
			if subs := p.ig.Subscriptions(); len(subs) != 1 {
				t.Errorf("subscriptions = %v, want one", subs)
			}
		})

		t.Run("Meta's verification is answered with the challenge, only with the verify token", func(t *testing.T) {
			if r := got(p.ig.Subscribe(ctx, hook, instagramtest.VerifyToken, "987654321")); r.status != http.StatusOK || string(r.body) != "987654321" {
				t.Errorf("verification: %d %q, want 200 \"987654321\"", r.status, r.body)
			}
			if r := got(p.ig.Subscribe(ctx, hook, "not-the-token", "987654321")); r.status != http.StatusForbidden || bytes.Contains(r.body, []byte("987654321")) {
				t.Errorf("verification with a wrong token: %d %s, want 403 without the challenge", r.status, r.body)
			}
		})

		const text = "Hi! Do you ship to Zürich? 🇨🇭"
		_, body := p.ig.Text(instagramtest.Customer, text)
		t.Run("a webhook with a wrong or missing signature is 401 and stores nothing", func(t *testing.T) {
			if r := got(p.ig.DeliverSigned(ctx, hook, "not-the-app-secret", body)); r.status != http.StatusUnauthorized {
				t.Errorf("wrong secret: %d %s, want 401", r.status, r.body)
			}
			if r := p.hookAt(fmt.Sprintf("/hooks/instagram/%d", ch.ID), body); r.status != http.StatusUnauthorized {
				t.Errorf("no signature: %d %s, want 401", r.status, r.body)
			}
			p.noRequests(t, "an unsigned webhook")
		})

		var request requestRow
		t.Run("a message is one request named from the profile API, once", func(t *testing.T) {
			for range 2 {
				if r := got(p.ig.Deliver(ctx, hook, body)); r.status != http.StatusOK {
					t.Fatalf("deliver: %d %s", r.status, r.body)
				}
			}
			request = p.oneClientMessage(t, ch, instagramtest.CustomerName, text)
			p.profileArrived(t, request.ID, "instagram", instagramtest.Customer, instagramtest.CustomerName)
		})
		if request.ID == 0 {
			t.FailNow()
		}
		take(t, p.tm.anna, request.ID)

		t.Run("a reply reaches the customer verbatim; a read receipt with its mid marks it read", func(t *testing.T) {
			id := reply(t, p.tm.anna, request.ID, platformReply)
			waitDelivery(t, p.tm.anna, request.ID, id, "sent", platformWait)
			sent := p.ig.Sent()
			if len(sent) != 1 || sent[0].To != instagramtest.Customer || sent[0].Type != "text" || sent[0].Text != platformReply {
				t.Fatalf("the fake received %+v, want one text to %s with %q", sent, instagramtest.Customer, platformReply)
			}
			if r := got(p.ig.Deliver(ctx, hook, p.ig.Read(instagramtest.Customer, sent[0].ID))); r.status != http.StatusOK {
				t.Fatalf("read receipt: %d %s", r.status, r.body)
			}
			if m := replyOf(t, p.tm.anna, request.ID, id); m.Delivery != "read" {
				t.Errorf("after a read receipt the reply shows %q, want read", m.Delivery)
			}
		})

		t.Run("outside the 24-hour window the reply fails with the reason, and Retry sends it", func(t *testing.T) {
			p.failsThenRetried(t, request.ID, "Still there? <i>2</i>", instagram.WindowClosedReason,
				func() { p.ig.FailNextSends(1, http.StatusBadRequest, instagramtest.WindowClosedError()) },
				func(text string) int {
					n := 0
					for _, s := range p.ig.Sent() {
						if s.Text == text && s.To == instagramtest.Customer {
							n++
						}
					}
					return n
				})
		})
	})
}

func TestViberConnectsReceivesAndReplies(t *testing.T) {
	eachPlatformEngine(t, nil, func(t *testing.T, p *platformEnv) {
		ctx := context.Background()
		fields := map[string]string{viber.FieldToken: vibertest.Token}
		secrets := func() []string { return []string{vibertest.Token} }

		t.Run("a refused token is named and leaves no channel", func(t *testing.T) {
			p.refused(t, "viber", with(fields, viber.FieldToken, "4ab1c0ffee000000-WRONGTOKEN000000-0000000000000009"), viber.FieldToken, "4ab1c0ffee000000-WRONGTOKEN000000-0000000000000009")
			if hook, _ := p.vb.Webhook(); hook != "" {
				t.Errorf("a refused token registered the webhook %q", hook)
			}
		})

		ch := p.connectPlatform(t, "viber", fields, secrets)
		hook := ch.WebhookURL
		t.Run("the bot is shown, and set_webhook's check was answered 200", func(t *testing.T) {
			a := ch.Account
			if a[viber.FieldBotName] != vibertest.BotName || a[viber.FieldBotURI] != vibertest.BotURI || a[viber.FieldAccountID] != vibertest.AccountID {
				t.Errorf("account = %v, want the bot's name, uri and id", a)
			}
			// The fake registers the URL only when its check callback got 200.
			if registered, _ := p.vb.Webhook(); registered != hook {
				t.Errorf("the fake registered the webhook %q, want %q (its check was not answered 200)", registered, hook)
			}
			if name, photo := p.vb.SendsNameAndPhoto(); !name || !photo {
				t.Errorf("set_webhook asked send_name %v, send_photo %v; want both", name, photo)
			}
			p.noRequests(t, "the webhook check")
		})

		const text = "Привет! Where is order 4521?"
		// Without a name in the callback: the profile API names the client.
		_, body := p.vb.Text(vibertest.Customer, "", text)
		t.Run("a callback with a wrong or missing signature is 401 and stores nothing", func(t *testing.T) {
			path := fmt.Sprintf("/hooks/viber/%d", ch.ID)
			if r := p.hookAt(path, body, vibertest.SignatureHeader, vibertest.Sign("not-the-token-000", body)); r.status != http.StatusUnauthorized {
				t.Errorf("wrong signature: %d %s, want 401", r.status, r.body)
			}
			if r := p.hookAt(path, body); r.status != http.StatusUnauthorized {
				t.Errorf("no signature: %d %s, want 401", r.status, r.body)
			}
			p.noRequests(t, "an unsigned callback")
		})

		var request requestRow
		t.Run("a message is one request named from get_user_details, once", func(t *testing.T) {
			for range 2 {
				if r := got(p.vb.Deliver(ctx, hook, body)); r.status != http.StatusOK {
					t.Fatalf("deliver: %d %s", r.status, r.body)
				}
			}
			request = p.oneClientMessage(t, ch, vibertest.CustomerName, text)
			if !slices.Contains(p.vb.Calls(), "get_user_details") {
				t.Errorf("calls = %v, want get_user_details for the nameless client", p.vb.Calls())
			}
			p.profileArrived(t, request.ID, "viber", vibertest.Customer, vibertest.CustomerName)
		})
		if request.ID == 0 {
			t.FailNow()
		}
		take(t, p.tm.anna, request.ID)

		t.Run("a reply reaches the client verbatim; delivered and seen move it forward", func(t *testing.T) {
			id := reply(t, p.tm.anna, request.ID, platformReply)
			waitDelivery(t, p.tm.anna, request.ID, id, "sent", platformWait)
			sent := p.vb.Sent()
			if len(sent) != 1 || sent[0].Receiver != vibertest.Customer || sent[0].Type != "text" || sent[0].Text != platformReply {
				t.Fatalf("the fake received %+v, want one text to %s with %q", sent, vibertest.Customer, platformReply)
			}
			for _, step := range []struct{ event, want string }{{"delivered", "delivered"}, {"seen", "read"}, {"delivered", "read"}} {
				if r := got(p.vb.Deliver(ctx, hook, p.vb.Status(step.event, sent[0].MessageToken))); r.status != http.StatusOK {
					t.Fatalf("%s callback: %d %s", step.event, r.status, r.body)
				}
				if m := replyOf(t, p.tm.anna, request.ID, id); m.Delivery != step.want {
					t.Errorf("after %q the reply shows %q, want %q", step.event, m.Delivery, step.want)
				}
			}
		})

		t.Run("to an unsubscribed client the reply fails with the reason, and Retry sends it", func(t *testing.T) {
			p.failsThenRetried(t, request.ID, "Are you there? <b>3</b>", viber.NotSubscribedReason,
				func() { p.vb.FailNextSends(1, http.StatusOK, vibertest.ErrorNotSubscribed) },
				func(text string) int {
					n := 0
					for _, s := range p.vb.Sent() {
						if s.Text == text && s.Receiver == vibertest.Customer {
							n++
						}
					}
					return n
				})
		})
	})
}

// vkLossyProxy stands between Switchboard and the fake VK: it records the
// random_id of every messages.send, and can lose the answer of the next one
// after VK accepted it (a 502 instead), as a network failure would.
type vkLossyProxy struct {
	target string
	srv    *httptest.Server

	mu        sync.Mutex
	loseNext  int
	randomIDs map[string][]string // message text → random_ids of its attempts
}

func newVKLossyProxy(t *testing.T, target string) *vkLossyProxy {
	x := &vkLossyProxy{target: target, randomIDs: map[string][]string{}}
	x.srv = httptest.NewServer(http.HandlerFunc(x.serve))
	t.Cleanup(x.srv.Close)
	return x
}

func (x *vkLossyProxy) loseNextAnswer() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.loseNext++
}

func (x *vkLossyProxy) attempts(text string) []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return slices.Clone(x.randomIDs[text])
}

func (x *vkLossyProxy) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	send := r.URL.Path == "/method/messages.send"
	lose := false
	if send {
		form, _ := url.ParseQuery(string(body))
		x.mu.Lock()
		x.randomIDs[form.Get("message")] = append(x.randomIDs[form.Get("message")], form.Get("random_id"))
		if x.loseNext > 0 {
			x.loseNext--
			lose = true
		}
		x.mu.Unlock()
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, x.target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(res.Body)
	if lose {
		http.Error(w, "Bad Gateway", http.StatusBadGateway)
		return
	}
	for k, v := range res.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(res.StatusCode)
	_, _ = w.Write(answer)
}

// sameEventAgain is a message_new body with a new event_id but the same
// message (VK's resend of an event it thinks was lost).
func sameEventAgain(t *testing.T, body []byte) []byte {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var ev map[string]any
	if err := d.Decode(&ev); err != nil {
		t.Fatal(err)
	}
	ev["event_id"] = fmt.Sprint(ev["event_id"]) + "ff"
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestVKConnectsReceivesAndRepliesOnce(t *testing.T) {
	var proxy *vkLossyProxy
	behindProxy := func(p *platformEnv, cfg *config.Config) {
		proxy = newVKLossyProxy(t, p.vk.URL)
		cfg.VKAPIURL = proxy.srv.URL
	}
	eachPlatformEngine(t, behindProxy, func(t *testing.T, p *platformEnv) {
		ctx := context.Background()
		fields := accountFields(vk.New("", nil).Fields(), p.vk.Account())
		secrets := func() []string { return []string{vkCommunityToken, vktest.Confirmation, vktest.Secret} }

		t.Run("a refused token or another community is named and leaves no channel", func(t *testing.T) {
			p.refused(t, "vk", with(fields, vk.FieldAccessToken, "vk1.a.WrongToken"), vk.FieldAccessToken, append(secrets(), "vk1.a.WrongToken")...)
			p.refused(t, "vk", with(fields, vk.FieldGroupID, "200000002"), vk.FieldGroupID, secrets()...)
		})

		ch := p.connectPlatform(t, "vk", fields, secrets)
		hook := ch.WebhookURL
		t.Run("the community is shown", func(t *testing.T) {
			a := ch.Account
			if a[vk.FieldGroupID] != vktest.GroupID || a[vk.FieldGroupName] != vktest.GroupName || a[vk.FieldGroupScreenName] != vktest.GroupScreenName {
				t.Errorf("account = %v, want the community's id, name and screen name", a)
			}
		})

		t.Run("the confirmation request is answered with exactly the confirmation string", func(t *testing.T) {
			r := got(p.vk.Confirm(ctx, hook))
			if r.status != http.StatusOK || string(r.body) != vktest.Confirmation {
				t.Errorf("confirmation: %d %q, want 200 %q", r.status, r.body, vktest.Confirmation)
			}
			p.noRequests(t, "the confirmation request")
		})

		const text = "Здравствуйте! Заказ 4521 не пришёл"
		_, body := p.vk.Text(vktest.User, text)
		t.Run("a callback with a wrong or missing secret is 401 and stores nothing", func(t *testing.T) {
			wrong := bytes.Replace(body, []byte(`"secret":"`+vktest.Secret+`"`), []byte(`"secret":"not-the-secret"`), 1)
			missing := bytes.Replace(body, []byte(`,"secret":"`+vktest.Secret+`"`), nil, 1)
			if bytes.Equal(wrong, body) || bytes.Equal(missing, body) {
				t.Fatalf("the body carries no secret to change: %s", body)
			}
			for name, b := range map[string][]byte{"wrong secret": wrong, "no secret": missing} {
				if r := got(p.vk.Deliver(ctx, hook, b)); r.status != http.StatusUnauthorized {
					t.Errorf("%s: %d %s, want 401", name, r.status, r.body)
				}
			}
			p.noRequests(t, "an unauthenticated callback")
		})

		var request requestRow
		t.Run("a message is one request named from users.get, even when VK sends it again", func(t *testing.T) {
			for _, b := range [][]byte{body, body, sameEventAgain(t, body)} {
				if r := got(p.vk.Deliver(ctx, hook, b)); r.status != http.StatusOK || string(r.body) != "ok" {
					t.Fatalf("deliver: %d %q, want 200 \"ok\"", r.status, r.body)
				}
			}
			request = p.oneClientMessage(t, ch, vktest.UserName, text)
			p.profileArrived(t, request.ID, "vk", vktest.User, vktest.UserName)
		})
		if request.ID == 0 {
			t.FailNow()
		}
		take(t, p.tm.anna, request.ID)
		sentTexts := func(text string) int {
			n := 0
			for _, s := range p.vk.Sent() {
				if s.Text == text && s.PeerID == vktest.User {
					n++
				}
			}
			return n
		}

		t.Run("a reply reaches the client verbatim; message_read marks it read", func(t *testing.T) {
			id := reply(t, p.tm.anna, request.ID, platformReply)
			waitDelivery(t, p.tm.anna, request.ID, id, "sent", platformWait)
			sent := p.vk.Sent()
			if len(sent) != 1 || sent[0].PeerID != vktest.User || sent[0].Text != platformReply {
				t.Fatalf("the fake received %+v, want one message to %s with %q", sent, vktest.User, platformReply)
			}
			if r := got(p.vk.Deliver(ctx, hook, p.vk.Read(vktest.User, sent[0].ID))); r.status != http.StatusOK {
				t.Fatalf("message_read: %d %s", r.status, r.body)
			}
			if m := replyOf(t, p.tm.anna, request.ID, id); m.Delivery != "read" {
				t.Errorf("after message_read the reply shows %q, want read", m.Delivery)
			}
		})

		t.Run("error 901 fails the reply with the reason, and Retry sends it", func(t *testing.T) {
			p.failsThenRetried(t, request.ID, "Можно ответить? <b>4</b>", vk.NotAllowedReason,
				func() { p.vk.FailNextSends(1, http.StatusOK, vktest.ErrorNotAllowed) }, sentTexts)
		})

		t.Run("a 5xx is retried by the outbox and VK gets the message once", func(t *testing.T) {
			const text = "Retried after a 502 <b>5</b>"
			p.vk.FailNextSends(1, http.StatusBadGateway, "<html><body>502 Bad Gateway</body></html>")
			id := reply(t, p.tm.anna, request.ID, text)
			waitDelivery(t, p.tm.anna, request.ID, id, "sent", platformWait)
			if n := sentTexts(text); n != 1 {
				t.Errorf("VK accepted the reply %d times, want 1", n)
			}
			if ids := proxy.attempts(text); len(ids) != 2 || ids[0] != ids[1] {
				t.Errorf("messages.send random_ids = %v, want two attempts with the same one", ids)
			}
		})

		t.Run("an answer lost after VK accepted the message: the retry is dropped by random_id", func(t *testing.T) {
			const text = "Sent, but the answer was lost <b>6</b>"
			proxy.loseNextAnswer()
			id := reply(t, p.tm.anna, request.ID, text)
			waitDelivery(t, p.tm.anna, request.ID, id, "sent", platformWait)
			if n := sentTexts(text); n != 1 {
				t.Errorf("the client received the reply %d times, want 1", n)
			}
			if ids := proxy.attempts(text); len(ids) < 2 || ids[0] != ids[1] {
				t.Errorf("messages.send random_ids = %v, want a retry with the same one", ids)
			}
		})
	})
}

func TestOKConnectsReceivesAndReplies(t *testing.T) {
	eachPlatformEngine(t, nil, func(t *testing.T, p *platformEnv) {
		ctx := context.Background()
		fields := map[string]string{ok.FieldAccessToken: oktest.Token}
		webhookSecret := func() string {
			subs := p.ok.Subscriptions()
			if len(subs) == 0 {
				return ""
			}
			return subs[len(subs)-1][strings.LastIndexByte(subs[len(subs)-1], '/')+1:]
		}
		secrets := func() []string { return []string{oktest.Token, webhookSecret()} }

		t.Run("a refused token is named and leaves no channel", func(t *testing.T) {
			p.refused(t, "ok", with(fields, ok.FieldAccessToken, "tkn1WrongOKToken0123456789"), ok.FieldAccessToken, "tkn1WrongOKToken0123456789")
			if subs := p.ok.Subscriptions(); len(subs) != 0 {
				t.Errorf("a refused token subscribed %v", subs)
			}
		})

		ch := p.connectPlatform(t, "ok", fields, secrets)
		hook := ch.WebhookURL
		t.Run("the group is shown and the webhook subscribed with a secret segment", func(t *testing.T) {
			a := ch.Account
			if a[ok.FieldGroupID] != oktest.GroupID || a[ok.FieldGroupName] != oktest.GroupName {
				t.Errorf("account = %v, want the group's id and name", a)
			}
			subs := p.ok.Subscriptions()
			if len(subs) != 1 || !strings.HasPrefix(subs[0], hook+"/") || len(webhookSecret()) < 16 {
				t.Errorf("subscriptions = %v, want %s/{a long secret}", subs, hook)
			}
		})

		const text = "Добрый день! Когда доставка?"
		_, body := p.ok.Text(oktest.ChatID, oktest.UserID, oktest.UserName, text)
		t.Run("a webhook without or with a wrong secret segment is 401 and stores nothing", func(t *testing.T) {
			base := fmt.Sprintf("/hooks/ok/%d", ch.ID)
			for name, r := range map[string]response{
				"wrong secret": p.hookAt(base+"/wrong-secret", body),
				"no secret":    p.hookAt(base, body),
				"the secret as a header only": p.hookAt(base, body,
					messenger.PathSecretHeader, webhookSecret()),
			} {
				if r.status != http.StatusUnauthorized {
					t.Errorf("%s: %d %s, want 401", name, r.status, r.body)
				}
			}
			p.noRequests(t, "an unauthenticated webhook")
		})

		var request requestRow
		t.Run("a message is one request of the named client, once", func(t *testing.T) {
			for range 2 {
				if r := got(p.ok.Deliver(ctx, hook, body)); r.status != http.StatusOK {
					t.Fatalf("deliver: %d %s", r.status, r.body)
				}
			}
			request = p.oneClientMessage(t, ch, oktest.UserName, text)
		})
		if request.ID == 0 {
			t.FailNow()
		}
		take(t, p.tm.anna, request.ID)
		sentTexts := func(text string) int {
			n := 0
			for _, s := range p.ok.Sent() {
				if s.Text == text && s.ChatID == oktest.ChatID {
					n++
				}
			}
			return n
		}

		t.Run("a reply reaches the chat verbatim", func(t *testing.T) {
			id := reply(t, p.tm.anna, request.ID, platformReply)
			waitDelivery(t, p.tm.anna, request.ID, id, "sent", platformWait)
			sent := p.ok.Sent()
			if len(sent) != 1 || sent[0].ChatID != oktest.ChatID || sent[0].Text != platformReply || sent[0].Attachment != "" {
				t.Fatalf("the fake received %+v, want one text to %s with %q", sent, oktest.ChatID, platformReply)
			}
		})

		t.Run("a client who does not accept messages fails the reply with the reason, and Retry sends it", func(t *testing.T) {
			const text = "Вы здесь? <b>7</b>"
			p.ok.FailNextSends(1, http.StatusOK, oktest.ErrorPermissionDenied)
			id := reply(t, p.tm.anna, request.ID, text)
			failed := waitDelivery(t, p.tm.anna, request.ID, id, "failed", platformWait)
			if !strings.HasPrefix(failed.DeliveryError, ok.NotAllowedReason) {
				t.Errorf("the refused reply's reason is %q, want %q…", failed.DeliveryError, ok.NotAllowedReason)
			}
			if n := sentTexts(text); n != 0 {
				t.Fatalf("a refused reply was accepted %d times", n)
			}
			if res := p.tm.anna.call("POST", fmt.Sprintf("/api/v1/messages/%d/retry", id), nil); res.status != http.StatusOK {
				t.Fatalf("retry: %d %s", res.status, res.body)
			}
			waitDelivery(t, p.tm.anna, request.ID, id, "sent", platformWait)
			if n := sentTexts(text); n != 1 {
				t.Errorf("after Retry the reply was accepted %d times, want 1", n)
			}
		})
	})
}
