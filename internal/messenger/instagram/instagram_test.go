package instagram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/messenger"
	"github.com/switchboard-hq/switchboard/internal/messenger/instagram/instagramtest"
	"github.com/switchboard-hq/switchboard/internal/messenger/platformtest"
)

const (
	testToken  = "EAAGtestPAGEtoken0123456789secret"
	testIGID   = "17840000000000001"
	testPageID = instagramtest.PageID
	testSecret = "ig_app_secret_fedcba9876543210"
	testVerify = "test-verify-token"
	signingHex = "6a021b64ef933a410401d3fd729c61455b9fd844b6efea8b613cf00e49607c72"
	lena       = "5300000000000001"
	cdn        = "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id="
)

func account() messenger.Account {
	return messenger.Account{
		ChannelID: 7,
		Public:    map[string]string{FieldAccountID: testIGID, FieldInstagramID: testIGID, FieldPageID: testPageID},
		Secrets: map[string]string{
			FieldAccessToken: testToken,
			FieldAppSecret:   testSecret,
			FieldVerifyToken: testVerify,
		},
	}
}

func inbound(mid, text string, ms int64, files ...messenger.FileRef) messenger.Update {
	return messenger.Update{Kind: messenger.Message, Message: &messenger.Inbound{
		ExternalID: mid, SenderID: lena, Text: text, Files: files, SentAt: time.UnixMilli(ms).UTC(),
	}}
}

func TestKindAndFields(t *testing.T) {
	g := New("", nil)
	if g.Kind() != cv.Instagram {
		t.Fatalf("Kind = %q", g.Kind())
	}
	if g.base.String() != DefaultBaseURL {
		t.Fatalf("base = %q", g.base)
	}
	want := map[string]bool{FieldAccountID: false, FieldAccessToken: true, FieldAppSecret: true, FieldVerifyToken: true}
	fields := g.Fields()
	if len(fields) != len(want) {
		t.Fatalf("fields = %+v", fields)
	}
	for _, f := range fields {
		secret, ok := want[f.Name]
		if !ok || f.Secret != secret || !f.Required || f.Label == "" || f.Help == "" {
			t.Errorf("field %+v", f)
		}
	}
	if New("ftp://x", nil).base.Host != "invalid.invalid" {
		t.Error("a bad base URL is used")
	}
}

// webhooks are the webhook fixtures and what they parse to.
var webhooks = platformtest.Golden{
	"inbound_text.json": {inbound("aWdfZAG1faWQ6FAKE0001",
		"Hi! Is the blue jacket still available in size M?", 1735720000456)},
	"inbound_image.json": {inbound("aWdfZAG1faWQ6FAKE0002", "", 1735720060456,
		messenger.FileRef{ID: cdn + "1800000000000001&signature=FAKE", Filename: "image-1800000000000001.jpg"})},
	"inbound_audio.json": {inbound("aWdfZAG1faWQ6FAKE0003", "", 1735720120456,
		messenger.FileRef{ID: cdn + "1800000000000002&signature=FAKE", Filename: "audio-1800000000000002.m4a"})},
	"inbound_story_mention.json": {inbound("aWdfZAG1faWQ6FAKE0004", StoryMention, 1735720180456,
		messenger.FileRef{ID: cdn + "1800000000000003&signature=FAKE", Filename: "story-1800000000000003.jpg"})},
	"inbound_story_reply.json": {inbound("aWdfZAG1faWQ6FAKE0005", StoryReply+"\nHow much is this one?", 1735720240456,
		messenger.FileRef{ID: cdn + "1800000000000004&signature=FAKE", Filename: "story-18000000000000005.jpg"})},
	"echo_ignored.json":           {{Kind: messenger.Ignored, Reason: "echo of message aWdfZAG1faWQ6FAKEOUT01 sent by the account"}},
	"deleted.json":                {{Kind: messenger.Ignored, Reason: "the customer unsent message aWdfZAG1faWQ6FAKE0002"}},
	"read.json":                   {{Kind: messenger.Status, Status: &messenger.DeliveryStatus{ExternalID: "aWdfZAG1faWQ6FAKEOUT01", State: messenger.Read}}},
	"comment_change_ignored.json": {{Kind: messenger.Ignored, Reason: `field "comments": not a direct message`}},
}

func TestParseFixtures(t *testing.T) {
	platformtest.NewParser(New("", nil), account()).Match(t, webhooks)
}

// hook wraps messaging events (JSON objects) in an envelope for entry id.
func hook(entryID string, events ...string) []byte {
	return []byte(`{"object":"instagram","entry":[{"id":"` + entryID + `","time":1735720000000,"messaging":[` + strings.Join(events, ",") + `]}]}`)
}

// ev is one event from lena to the account.
func ev(key, value string) string {
	return `{"sender":{"id":"5300000000000001"},"recipient":{"id":"17840000000000001"},"timestamp":1735720000456,"` + key + `":` + value + `}`
}

func msg(body string) string { return ev("message", `{"mid":"m.X",`+body+`}`) }

func TestParseCases(t *testing.T) {
	g := New("", nil)
	p := platformtest.NewParser(g, account())
	p.Sender = lena

	t.Run("other object", func(t *testing.T) {
		for _, b := range []string{`{"object":"page","entry":[]}`, `{}`, `[]`, `nope`, ``, `{"object":1}`} {
			if us, err := g.Parse(account(), []byte(b)); !errors.Is(err, ErrNotInstagram) || us != nil {
				t.Errorf("%q: err = %v", b, err)
			}
		}
	})
	t.Run("another account", func(t *testing.T) {
		p.Ignored(t, hook("999", msg(`"text":"hi"`)), "another account")
		acc := account()
		acc.Public = map[string]string{}
		us, _ := g.Parse(acc, platformtest.Fixture(t, "inbound_text.json"))
		if len(us) != 1 || us[0].Kind != messenger.Ignored {
			t.Errorf("no account id: %s", platformtest.Dump(us...))
		}
		// The Page's id names the account too.
		p.Text(t, hook(testPageID, msg(`"text":"hi"`)), "hi")
	})
	t.Run("echo by sender", func(t *testing.T) {
		b := hook(testIGID, `{"sender":{"id":"17840000000000001"},"recipient":{"id":"5300000000000001"},"timestamp":1,"message":{"mid":"m.O","text":"from the app"}}`)
		p.Ignored(t, b, "echo of message m.O")
	})
	t.Run("unsupported and empty", func(t *testing.T) {
		p.Text(t, hook(testIGID, msg(`"is_unsupported":true`)), Unsupported)
		p.Text(t, hook(testIGID, msg(`"text":""`)), Unsupported)
		p.Text(t, hook(testIGID, msg(`"attachments":[{"type":"poll","payload":{"url":"https://lookaside.fbsbx.com/x?a=1"}}]`)),
			"[unsupported message type: poll] https://lookaside.fbsbx.com/x?a=1")
		p.Text(t, hook(testIGID, msg(`"attachments":[{"type":"<b>x</b>"}]`)), "[unsupported message type: bxb]")
		p.Text(t, hook(testIGID, msg(`"attachments":[{"type":"image","payload":{"url":"javascript:alert(1)"}}]`)), "[unsupported message type: image]")
		p.Text(t, hook(testIGID, msg(`"attachments":"nope"`)), Unsupported)
	})
	t.Run("shares, location, heart, sticker", func(t *testing.T) {
		p.Text(t, hook(testIGID, msg(`"attachments":[{"type":"share","payload":{"url":"https://lookaside.fbsbx.com/p?asset_id=1"}}]`)),
			"[shared post] https://lookaside.fbsbx.com/p?asset_id=1")
		p.Text(t, hook(testIGID, msg(`"text":"look","attachments":[{"type":"ig_reel","payload":{"url":"https://lookaside.fbsbx.com/r","title":"Reel title"}}]`)),
			"look\n[shared reel] Reel title https://lookaside.fbsbx.com/r")
		p.Text(t, hook(testIGID, msg(`"attachments":[{"type":"location","payload":{"coordinates":{"lat":52.52,"long":13.405}}}]`)),
			"📍 52.52,13.405\nhttps://maps.google.com/?q=52.52,13.405")
		p.Text(t, hook(testIGID, msg(`"attachments":[{"type":"location","payload":{}}]`)), "[unsupported message type: location]")
		p.Text(t, hook(testIGID, msg(`"attachments":[{"type":"like_heart"}]`)), "❤️")
		m := p.Text(t, hook(testIGID, msg(`"attachments":[{"type":"image","payload":{"url":"https://scontent.cdninstagram.com/s.png","sticker_id":369239263222822}}]`)), "")
		if f := m.Files; len(f) != 1 || f[0].Filename != "sticker-mX.png" {
			t.Errorf("sticker = %+v", f)
		}
		p.Text(t, hook(testIGID, msg(`"attachments":[{"type":"sticker"}]`)), "[sticker]")
	})
	t.Run("several files", func(t *testing.T) {
		f := p.Text(t, hook(testIGID, msg(`"text":"both","attachments":[{"type":"image","payload":{"url":"https://lookaside.fbsbx.com/a"}},{"type":"file","payload":{"url":"https://lookaside.fbsbx.com/b"}}]`)), "both").Files
		if len(f) != 2 || f[0].Filename != "image-mX.jpg" || f[1].Filename != "file-mX-2.bin" || f[1].ID != "https://lookaside.fbsbx.com/b" {
			t.Errorf("files = %+v", f)
		}
	})
	t.Run("big ids stay exact", func(t *testing.T) {
		b := hook(testIGID, `{"sender":{"id":9007199254740993123},"recipient":{"id":17840000000000001},"timestamp":"1735720000456","message":{"mid":"m.B","text":"x"}}`)
		u := p.One(t, b)
		if u.Kind != messenger.Message || u.Message.SenderID != "9007199254740993123" || u.Message.SentAt.UnixMilli() != 1735720000456 {
			t.Errorf("got %s", platformtest.Dump(u))
		}
		b = []byte(`{"object":"instagram","entry":[{"id":17840000000000001,"messaging":[` + msg(`"text":"n"`) + `]}]}`)
		p.Text(t, b, "n")
	})
	t.Run("message without ids", func(t *testing.T) {
		p.Ignored(t, hook(testIGID, ev("message", `{"text":"x"}`)), "message without id")
		p.Ignored(t, hook(testIGID, `{"recipient":{"id":"1"},"message":{"mid":"m","text":"x"}}`), "message without id")
		p.Ignored(t, hook(testIGID, ev("message", `"str"`)), "malformed message")
	})
	t.Run("postback", func(t *testing.T) {
		if m := p.Text(t, hook(testIGID, ev("postback", `{"mid":"m.P","title":"Track my order","payload":"TRACK"}`)), "Track my order"); m.ExternalID != "m.P" {
			t.Errorf("id = %q", m.ExternalID)
		}
		if m := p.Text(t, hook(testIGID, ev("postback", `{"payload":"TRACK"}`)), "TRACK"); m.ExternalID != "postback:5300000000000001:1735720000456:TRACK" {
			t.Errorf("id = %q", m.ExternalID)
		}
	})
	t.Run("edit", func(t *testing.T) {
		u := p.One(t, hook(testIGID, ev("message_edit", `{"mid":"m.E","text":"fixed","num_edit":1}`)))
		if u.Kind != messenger.Edit || u.Message.ExternalID != "m.E" || u.Message.Text != "fixed" || u.Message.SenderID != lena {
			t.Errorf("edit: %s", platformtest.Dump(u))
		}
		p.Ignored(t, hook(testIGID, ev("message_edit", `{"mid":"m.E"}`)), "edit without")
		p.Ignored(t, hook(testIGID, ev("message_edit", `{"mid":"m.E","text":" "}`)), "edit without")
	})
	t.Run("statuses", func(t *testing.T) {
		p.Ignored(t, hook(testIGID, ev("read", `{"watermark":1735720000000}`)), "read without a message id")
		us, err := g.Parse(account(), hook(testIGID, ev("delivery", `{"mids":["m.1","m.2"],"watermark":1}`)))
		if err != nil || len(us) != 2 || us[1].Kind != messenger.Status || us[1].Status.ExternalID != "m.2" || us[1].Status.State != messenger.Delivered {
			t.Errorf("delivery: %s %v", platformtest.Dump(us...), err)
		}
		p.Ignored(t, hook(testIGID, ev("delivery", `{"watermark":1}`)), "delivery without")
	})
	t.Run("ignored events", func(t *testing.T) {
		p.Ignored(t, hook(testIGID, ev("reaction", `{"mid":"m.O","action":"react","reaction":"love","emoji":"❤️"}`)), "reaction react ❤️ to m.O")
		p.Ignored(t, hook(testIGID, ev("referral", `{"ref":"ad"}`)), "referral event")
		p.Ignored(t, hook(testIGID, ev("pass_thread_control", `{}`)), "pass_thread_control event")
		p.Ignored(t, hook(testIGID, ev("typing", `{"on":true}`)), `unknown event "typing"`)
		p.Ignored(t, hook(testIGID, `"nope"`), "malformed event")
		b := []byte(`{"object":"instagram","entry":[{"id":"17840000000000001","standby":[` + msg(`"text":"x"`) + `]}]}`)
		p.Ignored(t, b, "standby")
		b = []byte(`{"object":"instagram","entry":[{"id":"17840000000000001","changes":[{"field":"mentions","value":{}}]}]}`)
		p.Ignored(t, b, `field "mentions"`)
	})
	t.Run("order and several entries", func(t *testing.T) {
		b := []byte(`{"object":"instagram","entry":[` +
			`{"id":"17840000000000001","messaging":[` + ev("message", `{"mid":"a","text":"1"}`) + `,` + ev("read", `{"mid":"b"}`) + `]},` +
			`{"id":"17840000000000001","changes":[{"field":"comments","value":{}}]},` +
			`{"id":"17840000000000001","messaging":[` + ev("message", `{"mid":"c","text":"2"}`) + `]}]}`)
		us, err := p.Parse(b)
		if got := platformtest.Order(us); err != nil || got != "a,b,ignored,c" {
			t.Errorf("order = %s %v", got, err)
		}
	})
}

func TestVerifySigning(t *testing.T) {
	platformtest.Signature{
		Platform: New("", nil), Account: account(), Secret: FieldAppSecret, Header: SignatureHeader, Prefix: "sha256=",
		Fixture: "inbound_text.json", Size: 297, Hex: signingHex,
		ErrNo: ErrNoSignature, ErrBad: ErrBadSignature, Sign: instagramtest.Sign,
	}.Check(t)
}

func TestHandshake(t *testing.T) {
	platformtest.MetaHandshake(t, New("", nil), account(), FieldVerifyToken)
}

func TestSendTextMatchesFixture(t *testing.T) {
	srv := platformtest.Record(t, platformtest.Fixture(t, "send_response_ok.json"))
	g := New(srv.URL, srv.Client())
	id, err := g.Send(context.Background(), account(), lena, messenger.Outgoing{Text: "Yes, size M is in stock.", Key: "reply-1"})
	if err != nil {
		t.Fatal(err)
	}
	if id != "aWdfZAG1faWQ6FAKEOUT02" {
		t.Errorf("id = %q", id)
	}
	r, body := srv.Last()
	if r.Header.Get("Authorization") != "Bearer "+testToken || r.URL.Path != "/v21.0/"+testPageID+"/messages" ||
		r.Header.Get("Content-Type") != "application/json" || r.URL.RawQuery != "appsecret_proof="+instagramtest.AppSecretProof(testSecret, testToken) {
		t.Errorf("%s %s", r.URL, r.Header)
	}
	platformtest.JSONEqual(t, body, platformtest.Fixture(t, "send_request_text.json"))

	// Without a known Page id the token's own Page ("me") is used.
	acc := account()
	delete(acc.Public, FieldPageID)
	_, err = g.Send(context.Background(), acc, lena, messenger.Outgoing{Text: "x"})
	if r, _ := srv.Last(); err != nil || r.URL.Path != "/v21.0/me/messages" {
		t.Errorf("me: %q %v", r.URL.Path, err)
	}
}

func TestSendLongTextSplits(t *testing.T) {
	fake := instagramtest.New(t, testToken)
	g := New(fake.URL, nil)
	para := strings.Repeat("ä", 700)
	text := para + "\n" + para + " " + strings.Repeat("x", 1500) + strings.Repeat("🙂", 600)
	id, err := g.Send(context.Background(), fake.Account(), lena, messenger.Outgoing{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	sent := fake.Sent()
	if len(sent) < 4 || id != sent[0].ID {
		t.Fatalf("sent %d messages, id %q", len(sent), id)
	}
	var joined []string
	for _, s := range sent {
		if n := utf16Len(s.Text); n > MaxText || s.Type != "text" || s.To != lena || s.MessagingType != "RESPONSE" {
			t.Errorf("part of %d units: %+v", n, s.Type)
		}
		joined = append(joined, s.Text)
	}
	if sent[0].Text != para || sent[1].Text != para {
		t.Errorf("did not cut at the line break and the space")
	}
	if strings.Join(joined, "") != strings.NewReplacer("\n", "", " ", "").Replace(text) {
		t.Error("text lost in splitting")
	}
}

func TestSplitText(t *testing.T) {
	for _, tt := range []struct {
		in   string
		max  int
		want []string
	}{
		{"", 5, nil},
		{"  \n ", 5, nil},
		{"abc", 5, []string{"abc"}},
		{"abcdefghij", 5, []string{"abcde", "fghij"}},
		{"abc defghij", 5, []string{"abc", "defgh", "ij"}},
		{"a bcdefghij", 5, []string{"a bcd", "efghi", "j"}}, // space too early: hard cut
		{"ääääääääää", 4, []string{"ääää", "ääää", "ää"}},
		{"🙂🙂🙂", 3, []string{"🙂", "🙂", "🙂"}}, // two UTF-16 units each
		{"🙂🙂", 1, []string{"🙂", "🙂"}},
	} {
		if got := splitText(tt.in, tt.max); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitText(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func TestSendErrors(t *testing.T) {
	fake := instagramtest.New(t, testToken)
	g := New(fake.URL, nil)
	ctx := context.Background()
	send := func() *messenger.SendError {
		t.Helper()
		_, err := g.Send(ctx, fake.Account(), lena, messenger.Outgoing{Text: "hello"})
		platformtest.NoSecret(t, err, account())
		return platformtest.SendError(t, err)
	}

	fake.FailNextSends(1, http.StatusBadRequest, instagramtest.WindowClosedError())
	if se := send(); !se.Permanent || se.Broken || se.Reason != WindowClosedReason {
		t.Errorf("window: %+v", se)
	}
	fake.FailNextSends(1, http.StatusBadRequest, instagramtest.RateLimitError)
	if se := send(); se.Permanent || se.Broken || se.RetryAfter < time.Minute {
		t.Errorf("rate limit: %+v", se)
	}
	fake.SetDown(true)
	if se := send(); se.Permanent {
		t.Errorf("down: %+v", se)
	}
	fake.SetDown(false)
	if _, err := g.Send(ctx, fake.Account(), lena, messenger.Outgoing{Text: "works again"}); err != nil {
		t.Fatal(err)
	}

	// A token Meta does not accept: 190, broken.
	acc := fake.Account()
	acc.Secrets[FieldAccessToken] = "EAAGwrongTOKEN"
	_, err := g.Send(ctx, acc, lena, messenger.Outgoing{Text: "hello"})
	se := messenger.AsSendError(err)
	if se == nil || !se.Permanent || !se.Broken || strings.Contains(err.Error(), "EAAGwrongTOKEN") {
		t.Errorf("190: %v", err)
	}
	acc = fake.Account()
	acc.Secrets[FieldAppSecret] = "not the app secret"
	if se := messenger.AsSendError(func() error { _, err := g.Send(ctx, acc, lena, messenger.Outgoing{Text: "x"}); return err }()); se == nil || !se.Broken || !se.Permanent {
		t.Errorf("wrong app secret: %+v", se)
	}
	acc.Secrets[FieldAccessToken] = ""
	if se := messenger.AsSendError(func() error { _, err := g.Send(ctx, acc, lena, messenger.Outgoing{Text: "x"}); return err }()); se == nil || !se.Broken {
		t.Errorf("no token: %+v", se)
	}

	// Bad recipients and empty replies never reach Meta.
	for _, c := range []struct {
		to string
		m  messenger.Outgoing
	}{{"not-an-id", messenger.Outgoing{Text: "x"}}, {"", messenger.Outgoing{Text: "x"}}, {lena, messenger.Outgoing{Text: "  \n"}}} {
		_, err := g.Send(ctx, fake.Account(), c.to, c.m)
		if se := messenger.AsSendError(err); se == nil || !se.Permanent {
			t.Errorf("%q %q: %v", c.to, c.m.Text, err)
		}
	}
	if n := len(fake.Sent()); n != 1 {
		t.Errorf("sent %d", n)
	}

	// Unreachable: a network error, retried by the outbox.
	_, err = New(platformtest.DeadURL(t), nil).Send(ctx, account(), lena, messenger.Outgoing{Text: "x"})
	platformtest.Unreachable(t, err, account())

	// An answer without a message id is retried.
	odd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{}`)) }))
	defer odd.Close()
	_, err = New(odd.URL, nil).Send(ctx, account(), lena, messenger.Outgoing{Text: "x"})
	if se := messenger.AsSendError(err); se == nil || se.Permanent {
		t.Errorf("no id: %v", err)
	}
}

func TestSendErrorCodes(t *testing.T) {
	type want struct {
		permanent, broken bool
		retry             time.Duration
		reason            string
	}
	env := func(code, sub int) []byte {
		return []byte(fmt.Sprintf(`{"error":{"message":"(#%d) msg with %s","type":"OAuthException","code":%d,"error_subcode":%d}}`, code, testToken, code, sub))
	}
	cases := map[[2]int]want{
		{10, 2534022}:   {permanent: true, reason: WindowClosedReason},
		{10, 2018278}:   {permanent: true, reason: WindowClosedReason},
		{10, 0}:         {permanent: true, reason: WindowClosedReason},
		{551, 1545041}:  {permanent: true, reason: "blocked"},
		{100, 2534014}:  {permanent: true, reason: "no such customer"},
		{100, 2018001}:  {permanent: true, reason: "no such customer"},
		{100, 0}:        {permanent: true, reason: "refused"},
		{4, 0}:          {retry: rateWait, reason: "rate limit"},
		{17, 0}:         {retry: rateWait},
		{32, 0}:         {retry: rateWait},
		{613, 0}:        {retry: rateWait},
		{80002, 0}:      {retry: rateWait},
		{1, 0}:          {reason: "temporarily"},
		{2, 0}:          {},
		{1200, 0}:       {},
		{-1, 0}:         {},
		{190, 0}:        {permanent: true, broken: true, reason: "reconnect"},
		{200, 0}:        {permanent: true, broken: true, reason: "permission"},
		{230, 0}:        {permanent: true, broken: true},
		{368, 1390008}:  {permanent: true, broken: true},
		{999999, 0}:     {},
		{2018108, 1234}: {},
	}
	for c, w := range cases {
		se := sendError(&result{Status: 400, Body: env(c[0], c[1])}, account())
		if se.Permanent != w.permanent || se.Broken != w.broken || se.RetryAfter != w.retry || se.Reason == "" || !strings.Contains(se.Reason, w.reason) {
			t.Errorf("%v: %+v", c, se)
		}
		platformtest.NoSecret(t, se, account())
	}
	if se := sendError(&result{Status: 503, Body: []byte("<html>")}, account()); se.Permanent {
		t.Errorf("5xx: %+v", se)
	}
	if se := sendError(&result{Status: 401}, account()); !se.Broken {
		t.Errorf("401: %+v", se)
	}
	h := http.Header{"Retry-After": {"90"}}
	if se := sendError(&result{Status: 429, Header: h}, account()); se.Permanent || se.RetryAfter != 90*time.Second {
		t.Errorf("429: %+v", se)
	}
	if se := sendError(&result{Status: 400, Header: http.Header{"Retry-After": {"99999"}}, Body: env(4, 0)}, account()); se.RetryAfter != maxRetryAfter {
		t.Errorf("long Retry-After: %+v", se)
	}
}

func TestSendFiles(t *testing.T) {
	fake := instagramtest.New(t, testToken)
	g := New(fake.URL, nil)
	ctx := context.Background()
	jpeg := []byte("\xff\xd8\xff\xe0 fake jpeg")

	id, err := g.Send(ctx, fake.Account(), lena, messenger.Outgoing{Text: "the label",
		Files: []messenger.File{{Filename: "étiquette.jpg", ContentType: "image/jpeg", Data: jpeg}}})
	if err != nil {
		t.Fatal(err)
	}
	sent := fake.Sent()
	if len(sent) != 2 || sent[0].ID != id || sent[0].Type != "text" || sent[0].Text != "the label" {
		t.Fatalf("text then image: %+v", sent)
	}
	if s := sent[1]; s.Type != "image" || s.ContentType != "image/jpeg" || s.Filename != "_tiquette.jpg" || !bytes.Equal(s.Data, jpeg) || s.MessagingType != "RESPONSE" || s.To != lena {
		t.Fatalf("image: %+v", s)
	}

	// Types from the declared type, the name, or the bytes.
	_, err = g.Send(ctx, fake.Account(), lena, messenger.Outgoing{Files: []messenger.File{
		{Filename: "invoice.pdf", ContentType: "application/octet-stream", Data: []byte("%PDF-1.4")},
		{Filename: "", Data: []byte("\x89PNG\r\n\x1a\n....")},
		{Filename: "note.m4a", Data: []byte("....")},
		{Filename: "clip.mp4", ContentType: "video/mp4", Data: []byte("....")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	sent = fake.Sent()[2:]
	if len(sent) != 4 || sent[0].Type != "file" || sent[0].Filename != "invoice.pdf" ||
		sent[1].Type != "image" || sent[1].Filename != "image.png" || sent[2].Type != "audio" || sent[3].Type != "video" {
		t.Fatalf("types: %+v", sent)
	}

	// What Instagram cannot carry sends nothing, text included.
	before := len(fake.Sent())
	for _, f := range []messenger.File{
		{Filename: "report.docx", ContentType: "application/vnd.openxmlformats-officedocument.wordprocessingml.document", Data: []byte("PK")},
		{Filename: "big.png", ContentType: "image/png", Data: make([]byte, MaxImage+1)},
		{Filename: "empty.pdf", ContentType: "application/pdf"},
	} {
		_, err := g.Send(ctx, fake.Account(), lena, messenger.Outgoing{Text: "see attached", Files: []messenger.File{f}})
		se := messenger.AsSendError(err)
		if se == nil || !se.Permanent || se.Broken || !strings.Contains(se.Reason, f.Filename) {
			t.Errorf("%s: %v", f.Filename, err)
		}
	}
	if len(fake.Sent()) != before {
		t.Error("a refused file sent something")
	}
}

func TestSendConcurrent(t *testing.T) {
	fake := instagramtest.New(t, testToken)
	g := New(fake.URL, nil)
	platformtest.SendConcurrently(t, 20, func(i int) (string, error) {
		return g.Send(context.Background(), fake.Account(), lena, messenger.Outgoing{Text: fmt.Sprint("n", i)})
	})
}

func TestConnect(t *testing.T) {
	fake := instagramtest.New(t, testToken)
	g := New(fake.URL, nil)
	ctx := context.Background()
	acc := account()
	acc.Public = map[string]string{FieldAccountID: " " + testIGID + " "}
	hookURL := "https://switchboard.example/hooks/instagram/7"

	got, err := g.Connect(ctx, acc, hookURL)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		FieldAccountID: testIGID, FieldInstagramID: instagramtest.AccountID, FieldUsername: instagramtest.Username,
		FieldPageID: instagramtest.PageID, FieldPageName: instagramtest.PageName, FieldWebhookURL: hookURL,
	}
	if !reflect.DeepEqual(got.Public, want) || got.Secrets[FieldAccessToken] != testToken || got.ChannelID != 7 {
		t.Errorf("connected %+v", got)
	}
	if acc.Public[FieldPageID] != "" {
		t.Error("Connect changed its argument")
	}
	if subs := fake.Subscriptions(); len(subs) != 1 || subs[0] != SubscribedFields {
		t.Errorf("subscriptions = %q", subs)
	}
	// The connected account parses the fixtures.
	if us, _ := g.Parse(got, platformtest.Fixture(t, "inbound_text.json")); len(us) != 1 || us[0].Kind != messenger.Message {
		t.Errorf("parse after connect: %s", platformtest.Dump(us...))
	}

	// The Page's id is accepted too.
	acc.Public[FieldAccountID] = instagramtest.PageID
	if got, err := g.Connect(ctx, acc, ""); err != nil || got.Public[FieldInstagramID] != instagramtest.AccountID || got.Public[FieldWebhookURL] != "" {
		t.Errorf("by page id: %+v %v", got, err)
	}

	wrong := account()
	wrong.Secrets[FieldAccessToken] = "EAAGwrongTOKEN"
	_, err = g.Connect(ctx, wrong, "")
	if platformtest.ErrField(err) != FieldAccessToken || err.Error() != "page_access_token: Meta does not accept this Page access token" {
		t.Errorf("wrong token: %v", err)
	}
	if strings.Contains(err.Error(), "EAAGwrongTOKEN") {
		t.Errorf("secret in %v", err)
	}
	badSecret := account()
	badSecret.Secrets[FieldAppSecret] = "not the app secret"
	_, err = g.Connect(ctx, badSecret, "")
	if platformtest.ErrField(err) != FieldAppSecret {
		t.Errorf("wrong app secret: %v", err)
	}
	platformtest.NoSecret(t, err, account())
	other := account()
	other.Public[FieldAccountID] = "123456"
	if _, err := g.Connect(ctx, other, ""); platformtest.ErrField(err) != FieldAccountID || !strings.Contains(err.Error(), instagramtest.AccountID) {
		t.Errorf("another account: %v", err)
	}
	other.Public[FieldAccountID] = "../me"
	if _, err := g.Connect(ctx, other, ""); platformtest.ErrField(err) != FieldAccountID {
		t.Errorf("not digits: %v", err)
	}
	platformtest.Required(t, g, account(), FieldAccessToken, FieldAppSecret, FieldVerifyToken, FieldAccountID)

	fake.SetDown(true)
	if _, err = g.Connect(ctx, account(), ""); platformtest.ErrField(err) != "unavailable" {
		t.Errorf("down: %v", err)
	}
	fake.SetDown(false)

	_, err = New(platformtest.DeadURL(t), nil).Connect(ctx, account(), "")
	if platformtest.ErrField(err) != "unavailable" {
		t.Errorf("unreachable: %v", err)
	}
	platformtest.NoSecret(t, err, account())
}

// graph is a Graph API answering GET /v21.0/me with me and the Page
// subscription with sub.
func graph(t *testing.T, meStatus int, me string, subStatus int, sub string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/subscribed_apps") {
			w.WriteHeader(subStatus)
			_, _ = io.WriteString(w, sub)
			return
		}
		w.WriteHeader(meStatus)
		_, _ = io.WriteString(w, me)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestConnectAnswers(t *testing.T) {
	ctx := context.Background()
	page := `{"id":"100000000000077","name":"Shop","instagram_business_account":{"id":"17840000000000001","username":"shop"}}`
	for name, c := range map[string]struct {
		meStatus  int
		me        string
		subStatus int
		sub       string
		field     string
		text      string
	}{
		"user token": {400, `{"error":{"message":"(#100) Tried accessing nonexisting field (instagram_business_account) on node type (User)","type":"OAuthException","code":100}}`, 200, `{"success":true}`,
			FieldAccessToken, "user access token"},
		"no instagram": {200, `{"id":"100000000000077","name":"Shop"}`, 200, `{"success":true}`, FieldAccountID, "no linked Instagram"},
		"permission":   {400, `{"error":{"message":"(#10) needs permission","code":10}}`, 200, `{"success":true}`, FieldAccessToken, "permission"},
		"no subscribe permission": {200, page, 403, `{"error":{"message":"(#200) pages_manage_metadata is required","code":200}}`,
			FieldAccessToken, "subscribing"},
		"subscribe not confirmed": {200, page, 200, `{"success":false}`, "unavailable", "confirm"},
		"5xx":                     {503, `<html>`, 200, `{"success":true}`, "unavailable", "HTTP 503"},
		"rate limited":            {400, `{"error":{"message":"(#4) too many calls","code":4}}`, 200, `{}`, "unavailable", ""},
		"unreadable":              {200, `[1]`, 200, `{}`, "unavailable", "unreadable"},
		"other error":             {400, `{"error":{"message":"(#803) bad alias ` + testToken + `","code":803}}`, 200, `{}`, FieldAccessToken, "error 803"},
	} {
		t.Run(name, func(t *testing.T) {
			srv := graph(t, c.meStatus, c.me, c.subStatus, c.sub)
			_, err := New(srv.URL, nil).Connect(ctx, account(), "")
			if platformtest.ErrField(err) != c.field || !strings.Contains(err.Error(), c.text) {
				t.Errorf("err = %v (field %q)", err, platformtest.ErrField(err))
			}
			platformtest.NoSecret(t, err, account())
		})
	}
}

func TestFetch(t *testing.T) {
	fake := instagramtest.New(t, testToken)
	g := New(fake.URL, nil)
	ctx := context.Background()
	data := []byte("\xff\xd8\xff\xe0 the jacket")
	u := fake.AddMedia("1800000000000001", "image/png", data)

	_, body := fake.Image(lena, u)
	us, err := g.Parse(fake.Account(), body)
	if err != nil || len(us) != 1 || len(us[0].Message.Files) != 1 {
		t.Fatalf("parse: %s %v", platformtest.Dump(us...), err)
	}
	ref := us[0].Message.Files[0]
	f, err := g.Fetch(ctx, fake.Account(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.Data, data) || f.Filename != "image-1800000000000001.png" || f.ContentType != "image/png" {
		t.Errorf("fetched %+v", f)
	}
	if n := fake.TokenSentToCDN(); n != 0 {
		t.Errorf("the token went to the CDN %d times", n)
	}
	if _, err := g.Fetch(ctx, fake.Account(), messenger.FileRef{ID: fake.MediaURL("404")}); err == nil {
		t.Error("unknown media fetched")
	}
	if _, err := g.Fetch(ctx, fake.Account(), messenger.FileRef{ID: u, Size: messenger.MaxFile + 1}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("known size too large: %v", err)
	}
	for _, bad := range []string{"", "not a url", "https://example.com/x.jpg", "file:///etc/passwd", "https://lookaside.fbsbx.com.evil.example/x"} {
		if _, err := g.Fetch(ctx, fake.Account(), messenger.FileRef{ID: bad}); err == nil {
			t.Errorf("%q fetched", bad)
		}
	}
}

func TestFetchRefuses(t *testing.T) {
	ctx := context.Background()
	foreign := platformtest.Foreign(t)

	t.Run("foreign host", func(t *testing.T) {
		_, err := New("https://graph.facebook.com", nil).Fetch(ctx, account(), messenger.FileRef{ID: foreign.URL + "/x"})
		if !errors.Is(err, ErrHostNotAllowed) || !strings.Contains(err.Error(), "media host not allowed") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("redirect to a foreign host", func(t *testing.T) {
		local := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, foreign.URL+"/stolen", http.StatusFound)
		}))
		defer local.Close()
		_, err := New(local.URL, nil).Fetch(ctx, account(), messenger.FileRef{ID: local.URL + "/dl?signature=SIG"})
		if !errors.Is(err, ErrHostNotAllowed) || strings.Contains(err.Error(), "SIG") {
			t.Errorf("err = %v", err)
		}
		platformtest.NoSecret(t, err, account())
	})
	t.Run("too large", func(t *testing.T) {
		local := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("chunked") == "" {
				w.Header().Set("Content-Length", fmt.Sprint(messenger.MaxFile+1))
			}
			w.(http.Flusher).Flush()
			_, _ = w.Write(make([]byte, messenger.MaxFile+1))
		}))
		defer local.Close()
		for _, q := range []string{"", "?chunked=1"} {
			_, err := New(local.URL, nil).Fetch(ctx, account(), messenger.FileRef{ID: local.URL + "/big" + q})
			if !errors.Is(err, ErrTooLarge) {
				t.Errorf("%q: err = %v", q, err)
			}
		}
	})
	t.Run("name from the CDN", func(t *testing.T) {
		local := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/pdf")
			w.Header().Set("Content-Disposition", `attachment; filename="../../Invoice 7.pdf"`)
			_, _ = w.Write([]byte("%PDF-1.4"))
		}))
		defer local.Close()
		f, err := New(local.URL, nil).Fetch(ctx, account(), messenger.FileRef{ID: local.URL + "/f", Filename: "file-x.bin"})
		if err != nil || f.Filename != "Invoice 7.pdf" || f.ContentType != "application/pdf" {
			t.Errorf("%+v %v", f, err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		local := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "gone", http.StatusForbidden) }))
		defer local.Close()
		_, err := New(local.URL, nil).Fetch(ctx, account(), messenger.FileRef{ID: local.URL + "/f"})
		if err == nil || !strings.Contains(err.Error(), "HTTP 403") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestMediaHostAllowed(t *testing.T) {
	g := New("http://127.0.0.1:8080", nil)
	platformtest.AllowedHosts(t, g.mediaHostAllowed, map[string]bool{
		"https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1": true,
		"https://scontent.xx.fbcdn.net/v/t1":                       true,
		"https://scontent.cdninstagram.com/v/t51":                  true,
		"https://LOOKASIDE.FBSBX.COM./x":                           true,
		"https://lookaside.fbsbx.com:443/x":                        true,
		"http://127.0.0.1:8080/x":                                  true,
		"http://127.0.0.1:9090/x":                                  false,
		"https://127.0.0.1:8080/x":                                 false,
		"http://lookaside.fbsbx.com/x":                             false,
		"https://lookaside.fbsbx.com:8443/x":                       false,
		"https://fbsbx.com.evil.example/x":                         false,
		"https://evilfbcdn.net/x":                                  false,
		"https://cdninstagram.com/x":                               false,
		"https://user@lookaside.fbsbx.com/x":                       false,
		"https://example.com/x":                                    false,
		"ftp://lookaside.fbsbx.com/x":                              false,
	})
	if g.mediaHostAllowed(nil) {
		t.Error("nil allowed")
	}
}

func TestProfile(t *testing.T) {
	fake := instagramtest.New(t, testToken)
	g := New(fake.URL, nil)
	ctx := context.Background()
	p, err := g.Profile(ctx, fake.Account(), instagramtest.Customer)
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]string
	if err := json.Unmarshal(platformtest.Fixture(t, "profile_response.json"), &want); err != nil {
		t.Fatal(err)
	}
	if p.Name != want["name"] || p.Name != instagramtest.CustomerName || p.AvatarURL != want["profile_pic"] ||
		p.ProfileURL != "https://www.instagram.com/"+want["username"] || want["username"] != instagramtest.CustomerUsername {
		t.Errorf("profile %+v", p)
	}
	if _, err := g.Profile(ctx, fake.Account(), "5300000000000099"); err == nil {
		t.Error("unknown user answered")
	}
	if _, err := g.Profile(ctx, fake.Account(), "../me"); err == nil {
		t.Error("a path accepted as an id")
	}

	// name null: @username; odd values dropped.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("fields") != "name,username,profile_pic" || r.Header.Get("Authorization") != "Bearer "+testToken {
			http.Error(w, "bad", 400)
			return
		}
		if strings.HasSuffix(r.URL.Path, "/2") {
			_, _ = io.WriteString(w, `{"name":null,"username":"bad/name","profile_pic":"javascript:x","id":"2"}`)
			return
		}
		_, _ = io.WriteString(w, `{"name":null,"username":"only.user","profile_pic":null,"id":"1"}`)
	}))
	defer srv.Close()
	p, err = New(srv.URL, nil).Profile(ctx, account(), "1")
	if err != nil || p != (messenger.Profile{Name: "@only.user", ProfileURL: "https://www.instagram.com/only.user"}) {
		t.Errorf("username only: %+v %v", p, err)
	}
	p, err = New(srv.URL, nil).Profile(ctx, account(), "2")
	if err != nil || p != (messenger.Profile{}) {
		t.Errorf("odd values: %+v %v", p, err)
	}
}

func TestSecretsRedacted(t *testing.T) {
	// A Graph API that echoes the token and the app secret in every error.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"error":{"message":"bad token %s secret %s","code":803,"error_user_msg":"token %s"}}`, tok, testSecret, tok)
	}))
	defer srv.Close()
	g := New(srv.URL, nil)
	ctx := context.Background()
	_, err := g.Send(ctx, account(), lena, messenger.Outgoing{Text: "x"})
	platformtest.Redacted(t, err, account())
	_, err = g.Connect(ctx, account(), "")
	platformtest.Redacted(t, err, account())
	_, err = g.Profile(ctx, account(), lena)
	platformtest.Redacted(t, err, account())
	_, err = g.Fetch(ctx, account(), messenger.FileRef{ID: srv.URL + "/x?access_token=" + testToken})
	platformtest.Redacted(t, err, account())
}

func TestFakeDeliverAndStatus(t *testing.T) {
	fake := instagramtest.New(t, testToken)
	g := New(fake.URL, nil)
	hook := platformtest.NewHook(t, g, fake.Account())
	read := platformtest.ReadResponse(t)
	ctx := context.Background()

	if code, body := read(fake.Subscribe(ctx, hook.URL, instagramtest.VerifyToken, "1158201444")); code != 200 || body != "1158201444" {
		t.Errorf("subscribe: %d %q", code, body)
	}

	id, err := g.Send(ctx, fake.Account(), lena, messenger.Outgoing{Text: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	mid, inText := fake.Text(lena, "danke 🙂 / bis bald")
	if bytes.ContainsAny(inText, "🙂") || !bytes.Contains(inText, []byte(`\/`)) {
		t.Errorf("fake body is not escaped like Meta's: %s", inText)
	}
	bodies := [][]byte{inText, fake.Read(lena, id), fake.Echo(lena, "hi"), platformtest.Fixture(t, "inbound_text.json")}
	for _, b := range bodies {
		if code, _ := read(fake.Deliver(ctx, hook.URL, b)); code != 200 {
			t.Fatalf("deliver: %d", code)
		}
	}
	if code, _ := read(fake.DeliverSigned(ctx, hook.URL, "wrong secret", bodies[0])); code != http.StatusUnauthorized {
		t.Errorf("wrong secret: %d", code)
	}

	got := hook.Updates()
	if len(got) != 4 {
		t.Fatalf("updates: %s", platformtest.Dump(got...))
	}
	if m := got[0].Message; m == nil || m.ExternalID != mid || m.Text != "danke 🙂 / bis bald" || m.SenderID != lena || m.SenderName != "" {
		t.Errorf("inbound: %s", platformtest.Dump(got[:1]...))
	}
	if s := got[1].Status; s == nil || s.ExternalID != id || s.State != messenger.Read {
		t.Errorf("read: %s", platformtest.Dump(got[1:2]...))
	}
	if got[2].Kind != messenger.Ignored || got[3].Kind != messenger.Message {
		t.Errorf("echo and fixture: %s", platformtest.Dump(got[2:]...))
	}
}

func FuzzParse(f *testing.F) {
	platformtest.NewParser(New("", nil), account()).Fuzz(f, platformtest.Rules{
		Kinds:   []messenger.UpdateKind{messenger.Message, messenger.Edit, messenger.Status, messenger.Ignored},
		States:  []string{messenger.Delivered, messenger.Read},
		Content: true,
	}, webhooks.Files(),
		hook(testIGID, ev("postback", `{"title":"x"}`), ev("message_edit", `{"mid":"m","text":"t"}`), ev("delivery", `{"mids":["a"]}`)),
		hook(testIGID, msg(`"attachments":[{"type":"location","payload":{"coordinates":{"lat":1,"long":2}}},{"type":"share","payload":{"url":"https://x.fbcdn.net/a"}}],"reply_to":{"story":{"url":"https://x","id":1}}`)))
}
