package messenger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
	msgr "github.com/switchboard-hq/switchboard/internal/messenger"
	"github.com/switchboard-hq/switchboard/internal/messenger/messenger/messengertest"
	"github.com/switchboard-hq/switchboard/internal/messenger/platformtest"
)

const (
	testToken  = "EAAGtestPAGEtoken0123456789secret"
	testPage   = "200000000000001"
	testSecret = "test_app_secret_0123456789abcdef"
	testVerify = "test-verify-token"
	signingHex = "44f8bfea7785f8f52137f4e995e4f0d63ffd019f71a08d7b4a341f9629be4f62"
	jean       = "2100000000000001"
)

func account() msgr.Account {
	return msgr.Account{
		ChannelID: 7,
		Public:    map[string]string{FieldPageID: testPage},
		Secrets: map[string]string{
			FieldPageAccessToken: testToken,
			FieldAppSecret:       testSecret,
			FieldVerifyToken:     testVerify,
		},
	}
}

// noSecret fails when err's text holds a secret of the test account or
// its appsecret_proof.
func noSecret(t *testing.T, err error) {
	t.Helper()
	platformtest.NoSecret(t, err, account(), proof(account()))
}

func inbound(mid, text string, ms int64, files ...msgr.FileRef) msgr.Update {
	return msgr.Update{Kind: msgr.Message, Message: &msgr.Inbound{
		ExternalID: mid, SenderID: jean, Text: text, Files: files, SentAt: time.UnixMilli(ms).UTC(),
	}}
}

func TestKindAndFields(t *testing.T) {
	m := New("", nil)
	if m.Kind() != cv.Messenger {
		t.Fatalf("Kind = %q", m.Kind())
	}
	if m.base.String() != DefaultBaseURL || DefaultBaseURL != "https://graph.facebook.com" {
		t.Fatalf("base = %q", m.base)
	}
	want := map[string][2]bool{ // secret, required
		FieldPageID: {false, true}, FieldPageAccessToken: {true, true}, FieldAppSecret: {true, true},
		FieldVerifyToken: {true, true}, FieldHumanAgent: {false, false},
	}
	fields := m.Fields()
	if len(fields) != len(want) {
		t.Fatalf("fields = %+v", fields)
	}
	for _, f := range fields {
		w, ok := want[f.Name]
		if !ok || f.Secret != w[0] || f.Required != w[1] || f.Label == "" || f.Help == "" {
			t.Errorf("field %+v", f)
		}
	}
	if New("ftp://x", nil).base.Host != "invalid.invalid" {
		t.Error("a bad base URL was accepted")
	}
}

// webhooks are the webhook fixtures and what they parse to.
var webhooks = platformtest.Golden{
	"inbound_text.json": {inbound("m_FAKEmid0001",
		"Hello! Do you deliver to Lyon? Café au lait ☕ <3 100% sure @you", 1735710000123)},
	"inbound_image.json": {inbound("m_FAKEmid0002", "", 1735710060123, msgr.FileRef{
		ID:       "https://scontent.xx.fbcdn.net/v/t1.15752-9/fake_photo.jpg?_nc_cat=1&oh=fake&oe=FFFFFFFF",
		Filename: "fake_photo.jpg"})},
	"inbound_file.json": {inbound("m_FAKEmid0003", "", 1735710120123, msgr.FileRef{
		ID:       "https://cdn.fbsbx.com/v/t59.2708-21/fake_invoice.pdf?_nc_cat=1&oh=fake&oe=FFFFFFFF",
		Filename: "fake_invoice.pdf"})},
	"inbound_audio.json": {inbound("m_FAKEmid0004", "", 1735710180123, msgr.FileRef{
		ID:       "https://cdn.fbsbx.com/v/t59.3654-21/fake_audioclip.mp4?_nc_cat=1&oh=fake&oe=FFFFFFFF",
		Filename: "fake_audioclip.mp4"})},
	// 369239263222822 is the Like button's sticker.
	"inbound_sticker.json":     {inbound("m_FAKEmid0005", "👍", 1735710240123)},
	"inbound_quick_reply.json": {inbound("m_FAKEmid0006", "Track my order", 1735710300123)},
	"postback.json":            {inbound("m_FAKEmid0007", "Talk to an agent", 1735710360123)},
	"echo_ignored.json": {{Kind: msgr.Ignored,
		Reason: "echo of the page's own message m_FAKEout0001 (app 300000000000001)"}},
	"delivery.json": {{Kind: msgr.Status,
		Status: &msgr.DeliveryStatus{ExternalID: "m_FAKEout0001", State: msgr.Delivered}}},
	"read.json": {{Kind: msgr.Status, Status: &msgr.DeliveryStatus{
		UpTo: true, Recipient: "2100000000000001", Before: time.UnixMilli(1735710420123), State: msgr.Read}}},
	"optin_ignored.json": {{Kind: msgr.Ignored, Reason: "optin event"}},
}

func TestParseFixtures(t *testing.T) {
	platformtest.NewParser(New("", nil), account()).Match(t, webhooks)
}

// event wraps messaging events (a JSON array) in an envelope for page.
func event(page, events string) []byte {
	return []byte(`{"object":"page","entry":[{"id":"` + page + `","time":1735710000000,"messaging":` + events + `}]}`)
}

// message is a client message event with the message object obj.
func message(obj string) string {
	return `[{"sender":{"id":"2100000000000001"},"recipient":{"id":"200000000000001"},"timestamp":1735710000123,"message":` + obj + `}]`
}

func TestParseCases(t *testing.T) {
	m := New("", nil)
	p := platformtest.NewParser(m, account())
	p.Sender = jean

	t.Run("other object", func(t *testing.T) {
		for _, b := range []string{`{"object":"instagram","entry":[]}`, `{"object":"whatsapp_business_account"}`, `{}`, `[]`, `nope`, ``} {
			if us, err := m.Parse(account(), []byte(b)); !errors.Is(err, ErrNotMessenger) || us != nil {
				t.Errorf("%q: %v %v", b, us, err)
			}
		}
	})
	t.Run("another page", func(t *testing.T) {
		p.Ignored(t, event("999", message(`{"mid":"m_1","text":"hi"}`)), "another page")
		acc := account()
		delete(acc.Public, FieldPageID)
		us, _ := m.Parse(acc, platformtest.Fixture(t, "inbound_text.json"))
		if len(us) != 1 || us[0].Kind != msgr.Ignored {
			t.Errorf("no page id: %s", platformtest.Dump(us...))
		}
	})
	t.Run("no events", func(t *testing.T) {
		if us, err := m.Parse(account(), []byte(`{"object":"page","entry":[]}`)); err != nil || len(us) != 0 {
			t.Errorf("%v %v", us, err)
		}
	})
	t.Run("text and several attachments", func(t *testing.T) {
		in := p.Text(t, event(testPage, message(`{"mid":"m_2","text":"two photos","attachments":[`+
			`{"type":"image","payload":{"url":"https://scontent.xx.fbcdn.net/v/a/"}},`+
			`{"type":"video","payload":{"url":"https://video.xx.fbcdn.net/v/clip.mp4"}}]}`)), "two photos")
		if len(in.Files) != 2 || in.Files[0].Filename != "image-m2-1.jpg" || in.Files[1].Filename != "clip.mp4" ||
			in.Files[1].ID != "https://video.xx.fbcdn.net/v/clip.mp4" {
			t.Errorf("files = %+v", in.Files)
		}
	})
	t.Run("stickers", func(t *testing.T) {
		in := p.Text(t, event(testPage, message(`{"mid":"m_3","attachments":[{"type":"image","payload":{"url":"https://scontent.xx.fbcdn.net/v/s.png?x=1","sticker_id":1234567890123456789}}]}`)), "")
		if len(in.Files) != 1 || in.Files[0].Filename != "sticker-1234567890123456789.png" {
			t.Errorf("sticker = %+v", in.Files)
		}
		p.Text(t, event(testPage, message(`{"mid":"m_3","attachments":[{"type":"image","payload":{"sticker_id":42}}]}`)), "[sticker]")
		p.Text(t, event(testPage, message(`{"mid":"m_3","sticker_id":369239383222810,"attachments":[{"type":"image","payload":{"url":"https://scontent.xx.fbcdn.net/v/l.png"}}]}`)), "👍")
	})
	t.Run("fallback link", func(t *testing.T) {
		p.Text(t, event(testPage, message(`{"mid":"m_4","attachments":[{"type":"fallback","payload":{"url":"https:\/\/l.facebook.com\/l.php?u=x","title":"Our shop"}}]}`)),
			"🔗 Our shop\nhttps://l.facebook.com/l.php?u=x")
		p.Text(t, event(testPage, message(`{"mid":"m_4","attachments":[{"type":"fallback","title":"Shared post","url":"https://example.com/p"}]}`)),
			"🔗 Shared post\nhttps://example.com/p")
	})
	t.Run("location", func(t *testing.T) {
		p.Text(t, event(testPage, message(`{"mid":"m_5","attachments":[{"type":"location","title":"Pickup","payload":{"coordinates":{"lat":45.764043,"long":4.835659}}}]}`)),
			"📍 45.764043,4.835659 (Pickup)\nhttps://maps.google.com/?q=45.764043,4.835659")
		p.Text(t, event(testPage, message(`{"mid":"m_5","attachments":[{"type":"location","payload":{"coordinates":{"lat":"NaN","long":4}}}]}`)),
			"[unsupported message type: location]")
		p.Text(t, event(testPage, message(`{"mid":"m_5","attachments":[{"type":"location","payload":{"coordinates":{"lat":91,"long":4}}}]}`)),
			"[unsupported message type: location]")
	})
	t.Run("unsupported", func(t *testing.T) {
		p.Text(t, event(testPage, message(`{"mid":"m_6"}`)), Unsupported)
		p.Text(t, event(testPage, message(`{"mid":"m_6","attachments":[{"type":"template","payload":{"template_type":"generic"}}]}`)), "[unsupported message type: template]")
		p.Text(t, event(testPage, message(`{"mid":"m_6","attachments":[{"type":"ig_reel","payload":{}}]}`)), "[unsupported message type: ig_reel]")
		p.Text(t, event(testPage, message(`{"mid":"m_6","attachments":[{"type":"<b>","payload":{}}]}`)), "[unsupported message type: b]")
		p.Text(t, event(testPage, message(`{"mid":"m_6","attachments":[{"payload":{}}]}`)), Unsupported)
		p.Text(t, event(testPage, message(`{"mid":"m_6","attachments":[{"type":"file","payload":{"url":"javascript:alert(1)"}}]}`)), "[unsupported message type: file]")
		p.Text(t, event(testPage, message(`{"mid":"m_6","attachments":"nope"}`)), Unsupported)
	})
	t.Run("malformed messages", func(t *testing.T) {
		p.Ignored(t, event(testPage, message(`{"text":"no mid"}`)), "message without mid")
		p.Ignored(t, event(testPage, message(`"text"`)), "malformed message")
		p.Ignored(t, event(testPage, `[{"recipient":{"id":"200000000000001"},"message":{"mid":"m_7","text":"x"}}]`), "message m_7 without sender")
		p.Ignored(t, event(testPage, `[42]`), "malformed event")
		p.Ignored(t, event(testPage, `[{"sender":{"id":"1"},"timestamp":1}]`), "empty event")
		p.Ignored(t, event(testPage, `[{"sender":{"id":"200000000000001"},"recipient":{"id":"2100000000000001"},"message":{"mid":"m_8","text":"x"}}]`), "message from the page itself")
	})
	t.Run("big ids stay exact", func(t *testing.T) {
		u := p.One(t, event(testPage, `[{"sender":{"id":12345678901234567890},"recipient":{"id":200000000000001},"timestamp":1735710000123,"message":{"mid":"m_9","text":"x"}}]`))
		if u.Kind != msgr.Message || u.Message.SenderID != "12345678901234567890" || u.Message.SentAt.UnixMilli() != 1735710000123 {
			t.Errorf("got %s", platformtest.Dump(u))
		}
	})
	t.Run("postbacks", func(t *testing.T) {
		in := p.Text(t, event(testPage, `[{"sender":{"id":"2100000000000001"},"recipient":{"id":"200000000000001"},"timestamp":1735710000999,"postback":{"title":"","payload":"GET_STARTED"}}]`), "GET_STARTED")
		if in.ExternalID != "postback:2100000000000001:1735710000999" {
			t.Errorf("postback id = %q", in.ExternalID)
		}
		p.Ignored(t, event(testPage, `[{"sender":{"id":"2100000000000001"},"postback":{"title":"x"}}]`), "postback without mid or timestamp")
	})
	t.Run("statuses", func(t *testing.T) {
		us, err := m.Parse(account(), event(testPage, `[{"sender":{"id":"2100000000000001"},"delivery":{"mids":["m_a","m_b","m_a",7,""],"watermark":1}}]`))
		if err != nil || len(us) != 2 || us[0].Status.ExternalID != "m_a" || us[1].Status.ExternalID != "m_b" || us[1].Status.State != msgr.Delivered {
			t.Errorf("deliveries: %s %v", platformtest.Dump(us...), err)
		}
		// A delivery naming only a watermark: every reply to the client until then.
		if u := p.One(t, event(testPage, `[{"sender":{"id":"2100000000000001"},"delivery":{"watermark":1735710420123}}]`)); u.Status == nil ||
			!u.Status.UpTo || u.Status.Recipient != "2100000000000001" || u.Status.State != msgr.Delivered || !u.Status.Before.Equal(time.UnixMilli(1735710420123)) {
			t.Errorf("delivery watermark: %s", platformtest.Dump(u))
		}
	})
	t.Run("edits, reactions and other events", func(t *testing.T) {
		u := p.One(t, event(testPage, `[{"sender":{"id":"2100000000000001"},"recipient":{"id":"200000000000001"},"timestamp":1735710000123,"message_edit":{"mid":"m_FAKEmid0001","text":"Hello again","num_edit":1}}]`))
		if u.Kind != msgr.Edit || u.Message.ExternalID != "m_FAKEmid0001" || u.Message.Text != "Hello again" {
			t.Errorf("edit: %s", platformtest.Dump(u))
		}
		p.Ignored(t, event(testPage, `[{"sender":{"id":"2100000000000001"},"message_edit":{"mid":"m_1"}}]`), "message edit without")
		p.Ignored(t, event(testPage, `[{"sender":{"id":"2100000000000001"},"reaction":{"mid":"m_FAKEout0001","action":"react","emoji":"\u2764","reaction":"love"}}]`), "reaction react ❤ to m_FAKEout0001")
		p.Ignored(t, event(testPage, `[{"sender":{"id":"2100000000000001"},"referral":{"ref":"ad"}}]`), "referral event")
		p.Ignored(t, event(testPage, `[{"sender":{"id":"2100000000000001"},"pass_thread_control":{"new_owner_app_id":"1"}}]`), "pass_thread_control event")
		p.Ignored(t, []byte(`{"object":"page","entry":[{"id":"200000000000001","standby":[{"sender":{"id":"1"},"message":{"mid":"m","text":"x"}}]}]}`), "1 standby events")
	})
	t.Run("order and several entries", func(t *testing.T) {
		b := []byte(`{"object":"page","entry":[` +
			`{"id":"200000000000001","messaging":` + message(`{"mid":"a","text":"1"}`) + `},` +
			`{"id":"300","messaging":` + message(`{"mid":"x","text":"other page"}`) + `},` +
			`{"id":"200000000000001","messaging":[{"sender":{"id":"2100000000000001"},"delivery":{"mids":["c"]}},` +
			`{"sender":{"id":"2100000000000001"},"timestamp":1,"message":{"mid":"d","text":"3"}}]}]}`)
		us, err := p.Parse(b)
		if got := platformtest.Order(us); err != nil || got != "a,ignored,c,d" {
			t.Errorf("order = %s %v", got, err)
		}
	})
}

func TestVerifySigning(t *testing.T) {
	platformtest.Signature{
		Platform: New("", nil), Account: account(), Secret: FieldAppSecret, Header: SignatureHeader, Prefix: "sha256=",
		Fixture: "inbound_text.json", Size: 319, Hex: signingHex,
		ErrNo: ErrNoSignature, ErrBad: ErrBadSignature, Sign: messengertest.Sign,
	}.Check(t)
}

func TestHandshake(t *testing.T) {
	platformtest.MetaHandshake(t, New("", nil), account(), FieldVerifyToken)
}

func TestSendTextMatchesFixture(t *testing.T) {
	srv := platformtest.Record(t, platformtest.Fixture(t, "send_response_ok.json"))
	m := New(srv.URL, srv.Client())
	id, err := m.Send(context.Background(), account(), jean, msgr.Outgoing{Text: "Yes, we deliver to Lyon.", Key: "reply-1"})
	if err != nil {
		t.Fatal(err)
	}
	if id != "m_FAKEout0002" {
		t.Errorf("id = %q", id)
	}
	r, got := srv.Last()
	if r.Header.Get("Authorization") != "Bearer "+testToken || r.URL.Path != "/v21.0/"+testPage+"/messages" || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("%s %s", r.URL, r.Header)
	}
	if query := r.URL.Query(); query.Get("access_token") != "" || query.Get("appsecret_proof") != proof(account()) || len(query) != 1 {
		t.Errorf("query = %v", query)
	}
	platformtest.JSONEqual(t, got, platformtest.Fixture(t, "send_request_text.json"))
}

func TestSendLongTextSplits(t *testing.T) {
	fake := messengertest.New(t, testToken)
	m := New(fake.URL, nil)
	para := strings.Repeat("é", 1500)
	text := para + "\n" + para + " " + strings.Repeat("x", 2500)
	id, err := m.Send(context.Background(), fake.Account(), jean, msgr.Outgoing{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	sent := fake.Sent()
	if len(sent) != 4 || id != sent[0].ID {
		t.Fatalf("sent %d messages, id %q", len(sent), id)
	}
	var joined []string
	for _, s := range sent {
		if n := utf8.RuneCountInString(s.Text); n > MaxText || s.To != jean || s.MessagingType != "RESPONSE" || s.Tag != "" {
			t.Errorf("part of %d runes: %+v", n, s.MessagingType)
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
		{"abc", 5, []string{"abc"}},
		{"abcdefghij", 5, []string{"abcde", "fghij"}},
		{"abc defghij", 5, []string{"abc", "defgh", "ij"}},
		{"a bcdefghij", 5, []string{"a bcd", "efghi", "j"}},
		{"ääääääääää", 4, []string{"ääää", "ääää", "ää"}},
	} {
		if got := splitText(tt.in, tt.max); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitText(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func TestSendFiles(t *testing.T) {
	fake := messengertest.New(t, testToken)
	m := New(fake.URL, nil)
	ctx := context.Background()
	jpeg := []byte("\xff\xd8\xff\xe0 fake jpeg")
	pdf := []byte("%PDF-1.4 fake")
	id, err := m.Send(ctx, fake.Account(), jean, msgr.Outgoing{Text: "the label and the invoice", Files: []msgr.File{
		{Filename: "label.jpg", ContentType: "image/jpeg", Data: jpeg},
		{Filename: "../invoice.pdf", ContentType: "", Data: pdf},
		{Filename: "", ContentType: "audio/mpeg", Data: []byte("ID3 fake")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	sent := fake.Sent()
	if len(sent) != 4 || sent[0].ID != id || sent[0].Text != "the label and the invoice" {
		t.Fatalf("sent %+v", sent)
	}
	want := []struct{ typ, name, ct string }{{"image", "label.jpg", "image/jpeg"}, {"file", "invoice.pdf", "application/pdf"}, {"audio", "file.mp3", "audio/mpeg"}}
	for i, w := range want {
		s := sent[i+1]
		if s.AttachmentType != w.typ || s.Filename != w.name || s.ContentType != w.ct || s.To != jean || s.MessagingType != "RESPONSE" || s.Text != "" {
			t.Errorf("file %d: %+v", i, s)
		}
	}
	if !bytes.Equal(sent[1].Data, jpeg) || !bytes.Equal(sent[2].Data, pdf) {
		t.Error("uploaded bytes differ")
	}

	// The multipart form Meta documents: recipient, messaging_type, message
	// (with attachment.payload.is_reusable) and filedata.
	var form *multipart.Form
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		form, _ = multipart.NewReader(r.Body, params["boundary"]).ReadForm(1 << 20)
		_, _ = w.Write([]byte(`{"recipient_id":"2100000000000001","message_id":"m_up","attachment_id":"1"}`))
	}))
	defer srv.Close()
	if _, err := New(srv.URL, nil).Send(ctx, account(), jean, msgr.Outgoing{Files: []msgr.File{{Filename: "a.gif", ContentType: "image/gif", Data: []byte("GIF89a")}}}); err != nil {
		t.Fatal(err)
	}
	if form == nil || form.Value["recipient"][0] != `{"id":"2100000000000001"}` || form.Value["messaging_type"][0] != "RESPONSE" ||
		form.Value["message"][0] != `{"attachment":{"type":"image","payload":{"is_reusable":false}}}` || len(form.File["filedata"]) != 1 {
		t.Errorf("form = %+v", form)
	}

	// Files Messenger would refuse never reach it.
	for _, f := range []msgr.File{{Filename: "empty.txt"}, {Filename: "big.bin", Data: make([]byte, MaxUpload+1)}} {
		_, err := m.Send(ctx, fake.Account(), jean, msgr.Outgoing{Text: "x", Files: []msgr.File{f}})
		if se := msgr.AsSendError(err); se == nil || !se.Permanent {
			t.Errorf("%s: %v", f.Filename, err)
		}
	}
	if n := len(fake.Sent()); n != 4 {
		t.Errorf("sent %d", n)
	}
}

func TestSendErrors(t *testing.T) {
	fake := messengertest.New(t, testToken)
	m := New(fake.URL, nil)
	ctx := context.Background()
	send := func() *msgr.SendError {
		t.Helper()
		_, err := m.Send(ctx, fake.Account(), jean, msgr.Outgoing{Text: "hello"})
		noSecret(t, err)
		return platformtest.SendError(t, err)
	}

	fake.FailNextSends(1, http.StatusBadRequest, string(platformtest.Fixture(t, "send_error_window.json")))
	if se := send(); !se.Permanent || se.Broken || se.Reason != WindowClosedReason || !strings.HasPrefix(se.Reason, "24-hour window closed") {
		t.Errorf("window: %+v", se)
	}
	fake.FailNextSends(1, http.StatusBadRequest, string(platformtest.Fixture(t, "send_error_unavailable.json")))
	if se := send(); !se.Permanent || se.Broken || !strings.Contains(se.Reason, "blocked the Page") || !strings.Contains(se.Reason, "error 551") {
		t.Errorf("unavailable: %+v", se)
	}
	fake.FailNextSends(1, http.StatusBadRequest, messengertest.RateLimitError)
	if se := send(); se.Permanent || se.Broken || se.RetryAfter < time.Minute {
		t.Errorf("rate limit: %+v", se)
	}
	fake.SetDown(true)
	if se := send(); se.Permanent {
		t.Errorf("down: %+v", se)
	}
	fake.SetDown(false)
	if _, err := m.Send(ctx, fake.Account(), jean, msgr.Outgoing{Text: "works again"}); err != nil {
		t.Fatal(err)
	}

	// A token Meta does not accept: 190, broken.
	acc := fake.Account()
	acc.Secrets[FieldPageAccessToken] = "EAAGwrongTOKEN"
	_, err := m.Send(ctx, acc, jean, msgr.Outgoing{Text: "hello"})
	se := msgr.AsSendError(err)
	if se == nil || !se.Permanent || !se.Broken || strings.Contains(err.Error(), "EAAGwrongTOKEN") {
		t.Errorf("190: %v", err)
	}

	// Bad recipients, empty replies and a channel without a token never
	// reach Meta.
	noToken := fake.Account()
	delete(noToken.Secrets, FieldPageAccessToken)
	for _, c := range []struct {
		acc msgr.Account
		to  string
		m   msgr.Outgoing
	}{
		{fake.Account(), "not-a-psid", msgr.Outgoing{Text: "x"}},
		{fake.Account(), "../me", msgr.Outgoing{Text: "x"}},
		{fake.Account(), jean, msgr.Outgoing{Text: "  \n"}},
		{noToken, jean, msgr.Outgoing{Text: "x"}},
	} {
		_, err := m.Send(ctx, c.acc, c.to, c.m)
		if se := msgr.AsSendError(err); se == nil || !se.Permanent {
			t.Errorf("%q %q: %v", c.to, c.m.Text, err)
		}
	}
	if n := len(fake.Sent()); n != 1 {
		t.Errorf("sent %d", n)
	}

	// Unreachable: a network error, retried by the outbox.
	_, err = New(platformtest.DeadURL(t), nil).Send(ctx, account(), jean, msgr.Outgoing{Text: "x"})
	platformtest.Unreachable(t, err, account(), proof(account()))
}

func TestHumanAgentTag(t *testing.T) {
	fake := messengertest.New(t, testToken)
	m := New(fake.URL, nil)
	ctx := context.Background()
	acc := fake.Account()
	acc.Public[FieldHumanAgent] = "yes"

	// Outside 24 hours, inside 7 days: sent again with the tag, and the
	// following parts go tagged at once.
	fake.FailNextSends(1, http.StatusBadRequest, messengertest.WindowClosedError())
	id, err := m.Send(ctx, acc, jean, msgr.Outgoing{Text: "late answer", Files: []msgr.File{{Filename: "a.pdf", Data: []byte("%PDF-")}}})
	if err != nil {
		t.Fatal(err)
	}
	sent := fake.Sent()
	if len(sent) != 2 || sent[0].ID != id || sent[0].MessagingType != "MESSAGE_TAG" || sent[0].Tag != "HUMAN_AGENT" || sent[1].Tag != "HUMAN_AGENT" {
		t.Fatalf("sent %+v", sent)
	}
	// Past 7 days too.
	fake.FailNextSends(2, http.StatusBadRequest, messengertest.WindowClosedError())
	_, err = m.Send(ctx, acc, jean, msgr.Outgoing{Text: "very late"})
	if se := msgr.AsSendError(err); se == nil || !se.Permanent || se.Reason != HumanAgentClosedReason {
		t.Errorf("past 7 days: %v", err)
	}
	// Without the permission: no second try.
	fake.FailNextSends(1, http.StatusBadRequest, messengertest.WindowClosedError())
	_, err = m.Send(ctx, fake.Account(), jean, msgr.Outgoing{Text: "late"})
	if se := msgr.AsSendError(err); se == nil || se.Reason != WindowClosedReason {
		t.Errorf("no permission: %v", err)
	}
	if n := len(fake.Sent()); n != 2 {
		t.Errorf("sent %d", n)
	}
}

func TestSendErrorCodes(t *testing.T) {
	type want struct {
		permanent, broken bool
		retry             time.Duration
	}
	env := func(code, sub int) []byte {
		return []byte(fmt.Sprintf(`{"error":{"message":"(#%d) msg with %s and %s","type":"OAuthException","code":%d,"error_subcode":%d,"fbtrace_id":"x"}}`,
			code, testToken, proof(account()), code, sub))
	}
	cases := map[[2]int]want{
		{10, 2018278}: {permanent: true}, {551, 1545041}: {permanent: true}, {100, 2018001}: {permanent: true},
		{100, 0}: {permanent: true}, {368, 0}: {permanent: true},
		{190, 0}: {permanent: true, broken: true}, {190, 463}: {permanent: true, broken: true},
		{200, 0}: {permanent: true, broken: true}, {10, 0}: {permanent: true, broken: true}, {230, 0}: {permanent: true, broken: true},
		{4, 0}: {retry: rateWait}, {613, 0}: {retry: rateWait}, {32, 0}: {retry: rateWait},
		{2, 0}: {}, {1200, 0}: {}, {-1, 0}: {}, {1, 0}: {}, {999999, 0}: {},
	}
	for c, w := range cases {
		se := sendError(&result{Status: 400, Body: env(c[0], c[1])}, account())
		if se.Permanent != w.permanent || se.Broken != w.broken || se.RetryAfter != w.retry || se.Reason == "" {
			t.Errorf("%v: %+v", c, se)
		}
		noSecret(t, se)
	}
	if se := sendError(&result{Status: 400, Body: env(10, 2018278)}, account()); se.Reason != WindowClosedReason {
		t.Errorf("window reason %q", se.Reason)
	}
	if se := sendError(&result{Status: 503, Body: []byte("<html>")}, account()); se.Permanent {
		t.Errorf("5xx: %+v", se)
	}
	if se := sendError(&result{Status: 401}, account()); !se.Permanent || !se.Broken {
		t.Errorf("401: %+v", se)
	}
	h := http.Header{"Retry-After": {"30"}}
	if se := sendError(&result{Status: 429, Header: h}, account()); se.Permanent || se.RetryAfter != rateWait {
		t.Errorf("429: %+v", se)
	}
	if se := sendError(&result{Status: 500, Header: h}, account()); se.Permanent || se.RetryAfter != 30*time.Second {
		t.Errorf("500 with Retry-After: %+v", se)
	}
	h = http.Header{"X-Business-Use-Case-Usage": {`{"200000000000001":[{"type":"pages","call_count":100,"total_cputime":1,"total_time":1,"estimated_time_to_regain_access":7}]}`}}
	if se := sendError(&result{Status: 400, Header: h, Body: env(32, 0)}, account()); se.RetryAfter != 7*time.Minute {
		t.Errorf("usage header: %+v", se)
	}
}

func TestConnect(t *testing.T) {
	fake := messengertest.New(t, testToken)
	m := New(fake.URL, nil)
	ctx := context.Background()
	acc := account()
	acc.Public[FieldPageID] = " " + testPage + " "
	acc.Public[FieldHumanAgent] = "Yes"

	got, err := m.Connect(ctx, acc, "https://switchboard.example/hooks/messenger/7")
	if err != nil {
		t.Fatal(err)
	}
	if got.Public[FieldPageID] != testPage || got.Public[FieldPageName] != messengertest.PageName || got.Public[FieldHumanAgent] != "yes" ||
		got.Public[FieldSubscribedFields] != "messages,messaging_postbacks,message_deliveries,message_reads" ||
		got.Secrets[FieldPageAccessToken] != testToken || got.ChannelID != 7 || got.Public[FieldSubscriptionWarning] != "" {
		t.Errorf("connected %+v", got)
	}
	if acc.Public[FieldPageName] != "" {
		t.Error("Connect changed its argument")
	}
	if subs := fake.Subscriptions(); len(subs) != 1 || !reflect.DeepEqual(subs[0], SubscribedFields) {
		t.Errorf("subscriptions = %v", subs)
	}
	for k, v := range got.Public {
		for _, s := range got.Secrets {
			if strings.Contains(v, s) {
				t.Errorf("public %s holds a secret", k)
			}
		}
	}

	wrong := account()
	wrong.Secrets[FieldPageAccessToken] = "EAAGwrongTOKEN"
	_, err = m.Connect(ctx, wrong, "")
	if platformtest.ErrField(err) != FieldPageAccessToken || err.Error() != "page_access_token: Meta does not accept this Page access token" {
		t.Errorf("wrong token: %v", err)
	}
	if strings.Contains(err.Error(), "EAAGwrongTOKEN") {
		t.Errorf("secret in %v", err)
	}
	wrong = account()
	wrong.Secrets[FieldAppSecret] = "another app's secret"
	if _, err := m.Connect(ctx, wrong, ""); platformtest.ErrField(err) != FieldAppSecret {
		t.Errorf("wrong app secret: %v", err)
	}
	other := account()
	other.Public[FieldPageID] = "123456"
	if _, err := m.Connect(ctx, other, ""); platformtest.ErrField(err) != FieldPageID {
		t.Errorf("unknown page: %v", err)
	}
	for _, id := range []string{"../me", "me", "my.page"} {
		other.Public[FieldPageID] = id
		if _, err := m.Connect(ctx, other, ""); platformtest.ErrField(err) != FieldPageID {
			t.Errorf("page %q: %v", id, err)
		}
	}
	platformtest.Required(t, m, account(), FieldPageAccessToken, FieldAppSecret, FieldVerifyToken)
	a := account()
	a.Public[FieldHumanAgent] = "maybe"
	if _, err := m.Connect(ctx, a, ""); platformtest.ErrField(err) != FieldHumanAgent {
		t.Errorf("human agent maybe: %v", err)
	}

	fake.SetDown(true)
	_, err = m.Connect(ctx, account(), "")
	if platformtest.ErrField(err) != "unavailable" {
		t.Errorf("down: %v", err)
	}
	fake.SetDown(false)

	_, err = New(platformtest.DeadURL(t), nil).Connect(ctx, account(), "")
	if platformtest.ErrField(err) != "unavailable" {
		t.Errorf("unreachable: %v", err)
	}
	noSecret(t, err)
}

// graph is a Graph API answering the page lookup, and the subscription
// with status and body.
func graph(t *testing.T, status int, body string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			_, _ = w.Write([]byte(`{"name":"Page","id":"200000000000001"}`))
			return
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestConnectSubscription(t *testing.T) {
	ctx := context.Background()
	// A token that may message but not manage the Page: connected, with a
	// warning telling what to do in the Meta app.
	got, err := New(graph(t, 403, `{"error":{"message":"(#200) Requires pages_manage_metadata permission","code":200}}`).URL, nil).Connect(ctx, account(), "")
	if err != nil || got.Public[FieldSubscribedFields] != "" || !strings.Contains(got.Public[FieldSubscriptionWarning], "Messenger → Settings → Webhooks") {
		t.Errorf("no permission: %+v %v", got.Public, err)
	}
	// A user token: not a Page token.
	_, err = New(graph(t, 400, `{"error":{"message":"(#210) A page access token is required to request this resource.","code":210}}`).URL, nil).Connect(ctx, account(), "")
	var e *errs.Error
	if !errors.As(err, &e) || e.Field != FieldPageAccessToken || !strings.Contains(e.Message, "not a Page access token") {
		t.Errorf("user token: %v", err)
	}
	_, err = New(graph(t, 500, `{"error":{"message":"oops","code":1}}`).URL, nil).Connect(ctx, account(), "")
	if !errors.Is(err, errs.ErrUnavailable) {
		t.Errorf("5xx: %v", err)
	}
	_, err = New(graph(t, 200, `{"success":false}`).URL, nil).Connect(ctx, account(), "")
	if !errors.Is(err, errs.ErrUnavailable) {
		t.Errorf("not confirmed: %v", err)
	}
}

func TestFetch(t *testing.T) {
	fake := messengertest.New(t, testToken)
	m := New(fake.URL, nil)
	ctx := context.Background()
	data := []byte("\xff\xd8\xff\xe0 the scratch")
	link := fake.AddMedia("photo 1.jpg", "image/jpeg", data)

	f, err := m.Fetch(ctx, fake.Account(), msgr.FileRef{ID: link, Filename: "photo 1.jpg"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.Data, data) || f.Filename != "photo 1.jpg" || f.ContentType != "image/jpeg" {
		t.Errorf("fetched %+v", f)
	}
	f, err = m.Fetch(ctx, fake.Account(), msgr.FileRef{ID: link})
	if err != nil || f.Filename != "file.jpg" {
		t.Errorf("without a name: %+v %v", f, err)
	}

	// A fixture's file, through Localize and Parse.
	us, err := m.Parse(fake.Account(), fake.Localize(platformtest.Fixture(t, "inbound_file.json")))
	if err != nil || len(us) != 1 || len(us[0].Message.Files) != 1 {
		t.Fatalf("localized: %s %v", platformtest.Dump(us...), err)
	}
	f, err = m.Fetch(ctx, fake.Account(), us[0].Message.Files[0])
	if err != nil || f.Filename != "fake_invoice.pdf" || f.ContentType != "application/pdf" || len(f.Data) == 0 {
		t.Errorf("fixture file: %+v %v", f, err)
	}

	if _, err := m.Fetch(ctx, fake.Account(), msgr.FileRef{ID: "not a url"}); err == nil {
		t.Error("fetched a non-URL")
	}
	if _, err := m.Fetch(ctx, fake.Account(), msgr.FileRef{ID: link, Size: msgr.MaxFile + 1}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("known size too large: %v", err)
	}
	fake.SetDown(true)
	if _, err := m.Fetch(ctx, fake.Account(), msgr.FileRef{ID: link}); err == nil || strings.Contains(err.Error(), "oh=fake") {
		t.Errorf("down: %v", err)
	}
}

func TestFetchRefuses(t *testing.T) {
	ctx := context.Background()
	foreign := platformtest.Foreign(t)

	t.Run("foreign host", func(t *testing.T) {
		_, err := New("http://127.0.0.1:1", nil).Fetch(ctx, account(), msgr.FileRef{ID: foreign.URL + "/x.jpg"})
		if !errors.Is(err, ErrHostNotAllowed) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("redirect to a foreign host", func(t *testing.T) {
		cdn := httptest.NewServer(http.RedirectHandler(foreign.URL+"/stolen", http.StatusFound))
		defer cdn.Close()
		_, err := New(cdn.URL, nil).Fetch(ctx, account(), msgr.FileRef{ID: cdn.URL + "/v/x.jpg?oh=sig"})
		if !errors.Is(err, ErrHostNotAllowed) || strings.Contains(err.Error(), "oh=sig") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("too large", func(t *testing.T) {
		big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", fmt.Sprint(msgr.MaxFile+1))
			_, _ = w.Write(make([]byte, msgr.MaxFile+1))
		}))
		defer big.Close()
		_, err := New(big.URL, nil).Fetch(ctx, account(), msgr.FileRef{ID: big.URL + "/v/big.bin"})
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("err = %v", err)
		}
		chunked := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.(http.Flusher).Flush()
			_, _ = w.Write(make([]byte, msgr.MaxFile+1))
		}))
		defer chunked.Close()
		_, err = New(chunked.URL, nil).Fetch(ctx, account(), msgr.FileRef{ID: chunked.URL + "/v/big.bin"})
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("chunked: %v", err)
		}
	})
	t.Run("no token sent to the CDN", func(t *testing.T) {
		var auth string
		cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			auth = r.Header.Get("Authorization") + r.URL.Query().Get("access_token") + r.URL.Query().Get("appsecret_proof")
			_, _ = w.Write([]byte("ok"))
		}))
		defer cdn.Close()
		if _, err := New(cdn.URL, nil).Fetch(ctx, account(), msgr.FileRef{ID: cdn.URL + "/v/a.txt"}); err != nil || auth != "" {
			t.Errorf("err %v, credentials %q", err, auth)
		}
	})
}

func TestMediaHostAllowed(t *testing.T) {
	m := New("http://127.0.0.1:8080", nil)
	platformtest.AllowedHosts(t, m.mediaHostAllowed, map[string]bool{
		"https://scontent.xx.fbcdn.net/v/t1.15752-9/fake_photo.jpg?oh=1": true,
		"https://cdn.fbsbx.com/v/t59.2708-21/fake_invoice.pdf":           true,
		"https://lookaside.fbsbx.com/x":                                  true,
		"https://fbcdn.net/x":                                            true,
		"https://video.xx.fbcdn.net:443/x":                               true,
		"http://127.0.0.1:8080/x":                                        true,
		"https://127.0.0.1:8080/x":                                       false,
		"http://127.0.0.1:9090/x":                                        false,
		"http://cdn.fbsbx.com/x":                                         false,
		"https://cdn.fbsbx.com:8443/x":                                   false,
		"https://fbcdn.net.evil.example/x":                               false,
		"https://evilfbcdn.net/x":                                        false,
		"https://user@cdn.fbsbx.com/x":                                   false,
		"https://graph.facebook.com/x":                                   false,
		"https://example.com/x":                                          false,
	})
	if New("", nil).mediaHostAllowed(&url.URL{Scheme: "https", Host: "graph.facebook.com"}) != true {
		t.Error("the configured base host is not allowed")
	}
}

func TestProfile(t *testing.T) {
	fake := messengertest.New(t, testToken)
	m := New(fake.URL, nil)
	ctx := context.Background()
	p, err := m.Profile(ctx, fake.Account(), jean)
	if err != nil {
		t.Fatal(err)
	}
	want := msgr.Profile{Name: "Jean Test", AvatarURL: "https://platform-lookaside.fbsbx.com/platform/profilepic/?psid=2100000000000001&height=1024&ext=1&hash=FAKE"}
	if p != want || p.Name != messengertest.CustomerName {
		t.Errorf("profile = %+v", p)
	}
	// A profile Meta does not show: a name from the PSID.
	p, err = m.Profile(ctx, fake.Account(), "2100000000009876")
	if err != nil || p.Name != "Facebook user 9876" {
		t.Errorf("unknown: %+v %v", p, err)
	}
	if _, err := m.Profile(ctx, fake.Account(), "../me"); err == nil {
		t.Error("a path as PSID")
	}
	fake.SetDown(true)
	if _, err := m.Profile(ctx, fake.Account(), jean); err == nil {
		t.Error("down: no error")
	}
	fake.SetDown(false)
	acc := fake.Account()
	acc.Secrets[FieldPageAccessToken] = "EAAGwrongTOKEN"
	_, err = m.Profile(ctx, acc, jean)
	if err == nil || strings.Contains(err.Error(), "EAAGwrongTOKEN") {
		t.Errorf("wrong token: %v", err)
	}
	// The request asks exactly for the documented fields.
	var q url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q = r.URL.Query()
		_, _ = w.Write([]byte(`{"first_name":"","last_name":"","profile_pic":"javascript:x","id":"1"}`))
	}))
	defer srv.Close()
	p, err = New(srv.URL, nil).Profile(ctx, account(), "1234")
	if err != nil || p != (msgr.Profile{Name: "Facebook user 1234"}) || q.Get("fields") != "first_name,last_name,profile_pic" {
		t.Errorf("empty profile: %+v %v %v", p, err, q)
	}
}

func TestSecretsRedacted(t *testing.T) {
	// A Graph API that echoes the token and the proof in every error.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"error":{"message":"bad token %s proof %s secret %s verify %s","code":%d}}`,
			tok, r.URL.Query().Get("appsecret_proof"), testSecret, testVerify, 999)
	}))
	defer srv.Close()
	m := New(srv.URL, nil)
	ctx := context.Background()
	_, err := m.Send(ctx, account(), jean, msgr.Outgoing{Text: "x"})
	platformtest.Redacted(t, err, account(), proof(account()))
	_, err = m.Connect(ctx, account(), "")
	platformtest.Redacted(t, err, account(), proof(account()))
	_, err = m.Profile(ctx, account(), jean)
	platformtest.Redacted(t, err, account(), proof(account()))
	// Transport errors name no URL with the proof in it.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	_, err = New(dead.URL, nil).Profile(ctx, account(), jean)
	platformtest.Redacted(t, err, account(), proof(account()))
}

func TestFakeDeliver(t *testing.T) {
	fake := messengertest.New(t, testToken)
	m := New(fake.URL, nil)
	hook := platformtest.NewHook(t, m, fake.Account())
	read := platformtest.ReadResponse(t)
	ctx := context.Background()

	if code, body := read(fake.Subscribe(ctx, hook.URL, messengertest.VerifyToken, "1158201444")); code != 200 || body != "1158201444" {
		t.Errorf("subscribe: %d %q", code, body)
	}

	id, err := m.Send(ctx, fake.Account(), messengertest.Customer, msgr.Outgoing{Text: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	mid, inText := fake.Text(messengertest.Customer, "Merci 🙂 / à bientôt <3")
	if bytes.ContainsAny(inText, "àô🙂<") || !bytes.Contains(inText, []byte(`\/`)) {
		t.Errorf("fake body is not escaped like Meta's: %s", inText)
	}
	imgMid, inImage := fake.Attachment(messengertest.Customer, "image", "photo.png", "image/png", []byte("\x89PNG\r\n\x1a\n"))
	pbMid, inPostback := fake.Postback(messengertest.Customer, "Talk to an agent", "HUMAN")
	bodies := [][]byte{inText, inImage, inPostback, fake.Delivery(messengertest.Customer, id), fake.Read(messengertest.Customer, time.Now()),
		fake.Echo(messengertest.Customer, id, "hi"), fake.Localize(platformtest.Fixture(t, "inbound_image.json"))}
	for _, b := range bodies {
		if code, _ := read(fake.Deliver(ctx, hook.URL, b)); code != 200 {
			t.Fatalf("deliver: %d", code)
		}
	}
	for _, sig := range []string{"", messengertest.Sign("wrong secret", inText)} {
		if code, _ := read(fake.DeliverSigned(ctx, hook.URL, sig, inText)); code != http.StatusUnauthorized {
			t.Errorf("signature %q: %d", sig, code)
		}
	}

	got := hook.Updates()
	if len(got) != 7 {
		t.Fatalf("updates: %s", platformtest.Dump(got...))
	}
	if in := got[0].Message; in == nil || in.ExternalID != mid || in.Text != "Merci 🙂 / à bientôt <3" || in.SenderID != messengertest.Customer {
		t.Errorf("inbound: %s", platformtest.Dump(got[:1]...))
	}
	in := got[1].Message
	if in == nil || in.ExternalID != imgMid || len(in.Files) != 1 {
		t.Fatalf("image: %s", platformtest.Dump(got[1:2]...))
	}
	f, err := m.Fetch(ctx, fake.Account(), in.Files[0])
	if err != nil || f.Filename != "photo.png" || f.ContentType != "image/png" || string(f.Data) != "\x89PNG\r\n\x1a\n" {
		t.Errorf("fetched %+v %v", f, err)
	}
	if in := got[2].Message; in == nil || in.ExternalID != pbMid || in.Text != "Talk to an agent" {
		t.Errorf("postback: %s", platformtest.Dump(got[2:3]...))
	}
	if s := got[3].Status; s == nil || s.ExternalID != id || s.State != msgr.Delivered {
		t.Errorf("delivered: %s", platformtest.Dump(got[3:4]...))
	}
	if s := got[4].Status; s == nil || !s.UpTo || s.State != msgr.Read || got[5].Kind != msgr.Ignored || !strings.HasPrefix(got[5].Reason, "echo") {
		t.Errorf("read and echo: %s", platformtest.Dump(got[4:6]...))
	}
	if in := got[6].Message; in == nil || len(in.Files) != 1 || !strings.HasPrefix(in.Files[0].ID, fake.URL) {
		t.Errorf("localized fixture: %s", platformtest.Dump(got[6:]...))
	}
}

func TestFakeConcurrent(t *testing.T) {
	fake := messengertest.New(t, testToken)
	m := New(fake.URL, nil)
	platformtest.SendConcurrently(t, 20, func(i int) (string, error) {
		id, err := m.Send(context.Background(), fake.Account(), jean, msgr.Outgoing{Text: fmt.Sprint("n", i)})
		_, _ = fake.Text(jean, "x")
		_ = fake.Sent()
		return id, err
	})
}

func FuzzParse(f *testing.F) {
	platformtest.NewParser(New("", nil), account()).Fuzz(f, platformtest.Rules{
		Kinds:   []msgr.UpdateKind{msgr.Message, msgr.Edit, msgr.Status, msgr.Ignored},
		Content: true,
		UpTo:    true,
	}, webhooks.Files(),
		event(testPage, message(`{"mid":"m","attachments":[{"type":"location","payload":{"coordinates":{"lat":1,"long":2}}},{"type":"fallback","payload":{"url":"https://x/","title":"t"}}]}`)),
		event(testPage, `[{"sender":{"id":"1"},"timestamp":1,"postback":{"payload":"P"}},{"sender":{"id":"1"},"message_edit":{"mid":"m","text":"t"}},{"sender":{"id":"1"},"reaction":{"mid":"m"}}]`))
}
