package whatsapp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/messenger"
	"github.com/switchboard-hq/switchboard/internal/messenger/platformtest"
	"github.com/switchboard-hq/switchboard/internal/messenger/whatsapp/whatsapptest"
)

const (
	testToken   = "EAAGtestTOKEN0123456789secret"
	testPNID    = "100000000000002"
	testSecret  = "test_app_secret_0123456789abcdef"
	testVerify  = "test-verify-token"
	signingHex  = "b10f4c7c223dd18ac293d4f236b6c6418655809b92c67d7831dd062caae93bbd"
	maria       = "15550002222"
	mariaName   = "Maria Test"
	mariaPhone  = "+15550002222"
	mariaChat   = "https://wa.me/15550002222"
	windowFixed = WindowClosedReason
)

func account() messenger.Account {
	return messenger.Account{
		ChannelID: 7,
		Public:    map[string]string{FieldPhoneNumberID: testPNID},
		Secrets: map[string]string{
			FieldAccessToken: testToken,
			FieldAppSecret:   testSecret,
			FieldVerifyToken: testVerify,
		},
	}
}

func inbound(id, text string, ts int64, files ...messenger.FileRef) messenger.Update {
	return messenger.Update{Kind: messenger.Message, Message: &messenger.Inbound{
		ExternalID: id, SenderID: maria, SenderName: mariaName, Phone: mariaPhone, ChatURL: mariaChat,
		Text: text, Files: files, SentAt: time.Unix(ts, 0).UTC(),
	}}
}

func TestKindAndFields(t *testing.T) {
	w := New("", nil)
	if w.Kind() != cv.WhatsApp {
		t.Fatalf("Kind = %q", w.Kind())
	}
	if w.base.String() != DefaultBaseURL {
		t.Fatalf("base = %q", w.base)
	}
	want := map[string]bool{FieldPhoneNumberID: false, FieldAccessToken: true, FieldAppSecret: true, FieldVerifyToken: true}
	fields := w.Fields()
	if len(fields) != len(want) {
		t.Fatalf("fields = %+v", fields)
	}
	for _, f := range fields {
		secret, ok := want[f.Name]
		if !ok || f.Secret != secret || !f.Required || f.Label == "" {
			t.Errorf("field %+v", f)
		}
		if f.Name == FieldVerifyToken && f.Help != "any string you also enter in the Meta app's webhook settings" {
			t.Errorf("verify_token help = %q", f.Help)
		}
	}
}

// webhooks are the webhook fixtures and what they parse to.
var webhooks = platformtest.Golden{
	"inbound_text.json": {inbound("wamid.FAKE0001AAAA=",
		"Hi! Is my order 4521 shipped? Need it by Friday äöå / thanks", 1735700000)},
	"inbound_image_caption.json": {inbound("wamid.FAKE0002AAAA=", "Scratch on the lid", 1735700060,
		messenger.FileRef{ID: "900000000000101", Filename: "image-900000000000101.jpg", ContentType: "image/jpeg"})},
	"inbound_document.json": {inbound("wamid.FAKE0003AAAA=", "Receipt", 1735700120,
		messenger.FileRef{ID: "900000000000102", Filename: "receipt-4521.pdf", ContentType: "application/pdf"})},
	"inbound_audio_voice.json": {inbound("wamid.FAKE0004AAAA=", "", 1735700180,
		messenger.FileRef{ID: "900000000000103", Filename: "voice-900000000000103.ogg", ContentType: "audio/ogg; codecs=opus"})},
	"inbound_location.json": {inbound("wamid.FAKE0005AAAA=",
		"📍 40.712776,-74.005974 (Fake Pickup Point, 1 Example St, New York)\nhttps://maps.google.com/?q=40.712776,-74.005974", 1735700240)},
	"inbound_contacts.json": {inbound("wamid.FAKE0006AAAA=", "👤 Bob Courier, +1 555-000-3333", 1735700300)},
	"inbound_sticker.json": {inbound("wamid.FAKE0007AAAA=", "", 1735700360,
		messenger.FileRef{ID: "900000000000104", Filename: "sticker-900000000000104.webp", ContentType: "image/webp"})},
	"inbound_interactive_button_reply.json": {inbound("wamid.FAKE0008AAAA=", "Good", 1735700420)},
	"status_delivered.json": {{Kind: messenger.Status,
		Status: &messenger.DeliveryStatus{ExternalID: "wamid.FAKEOUT0001AAAA=", State: messenger.Delivered}}},
	"status_failed_131047.json": {{Kind: messenger.Status,
		Status: &messenger.DeliveryStatus{ExternalID: "wamid.FAKEOUT0002AAAA=", State: messenger.Failed, Error: windowFixed}}},
	"template_status_update_ignored.json": {{Kind: messenger.Ignored,
		Reason: `field "message_template_status_update"`}},
}

func TestParseFixtures(t *testing.T) {
	platformtest.NewParser(New("", nil), account()).Match(t, webhooks)
}

// body wraps messages, statuses (JSON arrays) in an envelope for testPNID.
func body(pnid, messages, statuses string) []byte {
	v := `"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111","phone_number_id":"` + pnid + `"},` +
		`"contacts":[{"profile":{"name":"Maria Test"},"wa_id":"15550002222"}]`
	if messages != "" {
		v += `,"messages":` + messages
	}
	if statuses != "" {
		v += `,"statuses":` + statuses
	}
	return []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"value":{` + v + `},"field":"messages"}]}]}`)
}

func msg(typ, obj string) string {
	s := `[{"from":"15550002222","id":"wamid.X","timestamp":"1735700000","type":"` + typ + `"`
	if obj != "" {
		s += `,"` + typ + `":` + obj
	}
	return s + `}]`
}

func TestParseCases(t *testing.T) {
	w := New("", nil)
	p := platformtest.NewParser(w, account())
	p.ID = "wamid.X"

	t.Run("other object", func(t *testing.T) {
		for _, b := range []string{`{"object":"page","entry":[]}`, `{}`, `[]`, `nope`, ``} {
			if _, err := w.Parse(account(), []byte(b)); !errors.Is(err, ErrNotWhatsApp) {
				t.Errorf("%q: err = %v", b, err)
			}
		}
	})
	t.Run("another number", func(t *testing.T) {
		p.Ignored(t, body("999", msg("text", `{"body":"hi"}`), ""), "another number")
		acc := account()
		delete(acc.Public, FieldPhoneNumberID)
		us, _ := w.Parse(acc, platformtest.Fixture(t, "inbound_text.json"))
		if len(us) != 1 || us[0].Kind != messenger.Ignored {
			t.Errorf("no phone number id: %s", platformtest.Dump(us...))
		}
	})
	t.Run("reaction", func(t *testing.T) {
		p.Ignored(t, body(testPNID, msg("reaction", `{"message_id":"wamid.OUT","emoji":"👍"}`), ""), "reaction")
		p.Ignored(t, body(testPNID, msg("reaction", `{"message_id":"wamid.OUT"}`), ""), "reaction removed")
	})
	t.Run("unsupported", func(t *testing.T) {
		p.Text(t, body(testPNID, `[{"from":"15550002222","id":"wamid.X","timestamp":"1","type":"unsupported","errors":[{"code":131051,"title":"Message type unknown"}]}]`, ""), Unsupported)
		p.Text(t, body(testPNID, msg("unknown", ""), ""), Unsupported)
		p.Text(t, body(testPNID, msg("poll", `{"q":1}`), ""), "[unsupported message type: poll]")
		p.Text(t, body(testPNID, msg("image", `"not an object"`), ""), "[unsupported message type: image]")
		p.Text(t, body(testPNID, msg("text", ""), ""), "[unsupported message type: text]")
		p.Text(t, body(testPNID, msg("location", `{"latitude":"x"}`), ""), "[unsupported message type: location]")
	})
	t.Run("ignored types", func(t *testing.T) {
		p.Ignored(t, body(testPNID, msg("system", `{"body":"changed number","type":"customer_changed_number"}`), ""), "system message")
		p.Ignored(t, body(testPNID, msg("request_welcome", ""), ""), "request_welcome")
	})
	t.Run("order", func(t *testing.T) {
		p.Text(t, body(testPNID, msg("order", `{"catalog_id":"1","text":"asap","product_items":[{"product_retailer_id":"a"},{"product_retailer_id":"b"}]}`), ""), "[order: 2 items]\nasap")
	})
	t.Run("list reply and button", func(t *testing.T) {
		p.Text(t, body(testPNID, msg("interactive", `{"type":"list_reply","list_reply":{"id":"x","title":"Shipping","description":"d"}}`), ""), "Shipping")
		p.Text(t, body(testPNID, msg("button", `{"text":"Stop promotions","payload":"STOP"}`), ""), "Stop promotions")
	})
	t.Run("location without place", func(t *testing.T) {
		p.Text(t, body(testPNID, msg("location", `{"latitude":1.5,"longitude":-2}`), ""), "📍 1.5,-2\nhttps://maps.google.com/?q=1.5,-2")
	})
	t.Run("media names", func(t *testing.T) {
		u := p.One(t, body(testPNID, msg("audio", `{"id":"123","mime_type":"audio/mpeg","voice":false}`), ""))
		if f := u.Message.Files[0]; f.Filename != "audio-123.mp3" {
			t.Errorf("audio = %+v", f)
		}
		u = p.One(t, body(testPNID, msg("video", `{"id":"12345678901234567890","mime_type":"video/mp4","caption":"look"}`), ""))
		if f := u.Message.Files[0]; f.Filename != "video-1234567890123456.mp4" || u.Message.Text != "look" {
			t.Errorf("video = %+v", u.Message)
		}
		u = p.One(t, body(testPNID, msg("document", `{"id":"9","mime_type":"application/x-thing","filename":"..\\..\\etc/pass\u0000wd.txt"}`), ""))
		if f := u.Message.Files[0]; f.Filename != "passwd.txt" {
			t.Errorf("document = %+v", f)
		}
		u = p.One(t, body(testPNID, msg("document", `{"id":"9","mime_type":"application/x-thing"}`), ""))
		if f := u.Message.Files[0]; f.Filename != "document-9.bin" {
			t.Errorf("document = %+v", f)
		}
	})
	t.Run("sender without contact", func(t *testing.T) {
		u := p.One(t, body(testPNID, `[{"from":"4915550009999","id":"wamid.Y","timestamp":1735700000,"type":"text","text":{"body":"hi"}}]`, ""))
		m := u.Message
		if m.SenderName != "" || m.SenderID != "4915550009999" || m.Phone != "+4915550009999" || m.SentAt.Unix() != 1735700000 {
			t.Errorf("got %+v", m)
		}
	})
	t.Run("message without id", func(t *testing.T) {
		p.Ignored(t, body(testPNID, `[{"from":"1","type":"text","text":{"body":"x"}}]`, ""), "message without id")
	})
	t.Run("statuses", func(t *testing.T) {
		for state, want := range map[string]string{"sent": messenger.Sent, "delivered": messenger.Delivered, "read": messenger.Read, "played": messenger.Read} {
			u := p.One(t, body(testPNID, "", `[{"id":"wamid.O","status":"`+state+`","timestamp":"1"}]`))
			if u.Kind != messenger.Status || u.Status.State != want || u.Status.ExternalID != "wamid.O" {
				t.Errorf("%s: %s", state, platformtest.Dump(u))
			}
		}
		p.Ignored(t, body(testPNID, "", `[{"id":"wamid.O","status":"deleted"}]`), "status")
		u := p.One(t, body(testPNID, "", `[{"id":"wamid.O","status":"failed","errors":[{"code":131026,"title":"Message undeliverable","error_data":{"details":"Receiver is incapable of receiving this message"}}]}]`))
		if u.Status.Error != "Receiver is incapable of receiving this message (error 131026)" {
			t.Errorf("failed = %q", u.Status.Error)
		}
		u = p.One(t, body(testPNID, "", `[{"id":"wamid.O","status":"failed","errors":[{"code":131000,"title":"Something went wrong"}]}]`))
		if u.Status.Error != "Something went wrong (error 131000)" {
			t.Errorf("failed = %q", u.Status.Error)
		}
	})
	t.Run("order and several entries", func(t *testing.T) {
		b := []byte(`{"object":"whatsapp_business_account","entry":[` +
			`{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"100000000000002"},"messages":[` +
			`{"from":"1","id":"a","type":"text","text":{"body":"1"}},{"from":"1","id":"b","type":"text","text":{"body":"2"}}],` +
			`"statuses":[{"id":"c","status":"read"}]}},{"field":"account_update","value":{}}]},` +
			`{"id":"2","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"100000000000002"},"messages":[{"from":"1","id":"d","type":"text","text":{"body":"3"}}]}}]}]}`)
		us, err := p.Parse(b)
		if got := platformtest.Order(us); err != nil || got != "a,b,c,ignored,d" {
			t.Errorf("order = %s %v", got, err)
		}
	})
}

func TestVerifySigning(t *testing.T) {
	platformtest.Signature{
		Platform: New("", nil), Account: account(), Secret: FieldAppSecret, Header: SignatureHeader, Prefix: "sha256=",
		Fixture: "inbound_text.json", Size: 499, Hex: signingHex,
		ErrNo: ErrNoSignature, ErrBad: ErrBadSignature, Sign: whatsapptest.Sign,
	}.Check(t)
}

func TestHandshake(t *testing.T) {
	platformtest.MetaHandshake(t, New("", nil), account(), FieldVerifyToken)
}

func TestSendTextMatchesFixture(t *testing.T) {
	srv := platformtest.Record(t, platformtest.Fixture(t, "send_response_ok.json"))
	w := New(srv.URL, srv.Client())
	id, err := w.Send(context.Background(), account(), maria, messenger.Outgoing{Text: "Yes, it shipped today. Tracking: FAKE123"})
	if err != nil {
		t.Fatal(err)
	}
	if id != "wamid.FAKEOUT0003AAAA=" {
		t.Errorf("id = %q", id)
	}
	r, got := srv.Last()
	if r.Header.Get("Authorization") != "Bearer "+testToken || r.URL.Path != "/v21.0/"+testPNID+"/messages" || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("%s %s", r.URL, r.Header)
	}
	platformtest.JSONEqual(t, got, platformtest.Fixture(t, "send_request_text.json"))
}

func TestSendLongTextSplits(t *testing.T) {
	fake := whatsapptest.New(t, testToken)
	w := New(fake.URL, nil)
	para := strings.Repeat("ä", 3000)
	text := para + "\n" + para + " " + strings.Repeat("x", 5000)
	id, err := w.Send(context.Background(), fake.Account(), maria, messenger.Outgoing{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	sent := fake.Sent()
	if len(sent) < 3 || id != sent[0].ID {
		t.Fatalf("sent %d messages, id %q", len(sent), id)
	}
	var joined []string
	for _, s := range sent {
		if n := utf8.RuneCountInString(s.Text); n > MaxText || s.Type != "text" || s.To != maria {
			t.Errorf("part of %d runes: %+v", n, s.Type)
		}
		joined = append(joined, s.Text)
	}
	if sent[0].Text != para || sent[1].Text != para {
		t.Errorf("did not cut at the line break and the space")
	}
	if strings.ReplaceAll(strings.Join(joined, ""), "\n", "") != strings.NewReplacer("\n", "", " ", "").Replace(text) {
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
		{"a bcdefghij", 5, []string{"a bcd", "efghi", "j"}}, // space too early: hard cut
		{"ääääääääää", 4, []string{"ääää", "ääää", "ää"}},
	} {
		if got := splitText(tt.in, tt.max); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitText(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func TestSendErrors(t *testing.T) {
	fake := whatsapptest.New(t, testToken)
	w := New(fake.URL, nil)
	ctx := context.Background()
	send := func() *messenger.SendError {
		t.Helper()
		_, err := w.Send(ctx, fake.Account(), maria, messenger.Outgoing{Text: "hello"})
		platformtest.NoSecret(t, err, account())
		return platformtest.SendError(t, err)
	}

	fake.FailNextSends(1, http.StatusBadRequest, whatsapptest.WindowClosedError())
	if se := send(); !se.Permanent || se.Broken || se.Reason != WindowClosedReason {
		t.Errorf("131047: %+v", se)
	}
	fake.FailNextSends(1, http.StatusBadRequest, whatsapptest.RateLimitError())
	if se := send(); se.Permanent || se.Broken {
		t.Errorf("rate limit: %+v", se)
	}
	fake.SetDown(true)
	if se := send(); se.Permanent {
		t.Errorf("down: %+v", se)
	}
	fake.SetDown(false)
	if _, err := w.Send(ctx, fake.Account(), maria, messenger.Outgoing{Text: "works again"}); err != nil {
		t.Fatal(err)
	}

	// A token Meta does not accept: 190, broken.
	acc := fake.Account()
	acc.Secrets[FieldAccessToken] = "EAAGwrongTOKEN"
	_, err := w.Send(ctx, acc, maria, messenger.Outgoing{Text: "hello"})
	se := messenger.AsSendError(err)
	if se == nil || !se.Permanent || !se.Broken || strings.Contains(err.Error(), "EAAGwrongTOKEN") {
		t.Errorf("190: %v", err)
	}

	// Bad recipient and empty replies never reach Meta.
	for _, c := range []struct {
		to string
		m  messenger.Outgoing
	}{{"not-a-number", messenger.Outgoing{Text: "x"}}, {maria, messenger.Outgoing{Text: "  \n"}}} {
		_, err := w.Send(ctx, fake.Account(), c.to, c.m)
		if se := messenger.AsSendError(err); se == nil || !se.Permanent {
			t.Errorf("%q %q: %v", c.to, c.m.Text, err)
		}
	}
	if n := len(fake.Sent()); n != 1 {
		t.Errorf("sent %d", n)
	}

	// Unreachable: a network error, retried by the outbox.
	_, err = New(platformtest.DeadURL(t), nil).Send(ctx, account(), maria, messenger.Outgoing{Text: "x"})
	platformtest.Unreachable(t, err, account())
}

func TestSendErrorCodes(t *testing.T) {
	type want struct {
		permanent, broken bool
		retry             time.Duration
	}
	env := func(code int) []byte {
		return []byte(fmt.Sprintf(`{"error":{"message":"(#%d) msg with %s","type":"OAuthException","code":%d,"error_data":{"details":"details"}}}`, code, testToken, code))
	}
	cases := map[int]want{
		131047: {permanent: true},
		130429: {}, 131056: {retry: pairRateWait}, 80007: {retry: accountRateWait}, 4: {retry: accountRateWait},
		131000: {}, 131016: {}, 1: {}, 2: {},
		190: {permanent: true, broken: true}, 10: {permanent: true, broken: true}, 200: {permanent: true, broken: true},
		299: {permanent: true, broken: true}, 368: {permanent: true, broken: true}, 131031: {permanent: true, broken: true},
		131026: {permanent: true}, 100: {permanent: true}, 131008: {permanent: true}, 131009: {permanent: true},
		131052: {permanent: true}, 131053: {permanent: true},
		999999: {},
	}
	for code, w := range cases {
		se := sendError(&result{Status: 400, Body: env(code)}, account())
		if se.Permanent != w.permanent || se.Broken != w.broken || se.RetryAfter != w.retry || se.Reason == "" {
			t.Errorf("%d: %+v", code, se)
		}
		platformtest.NoSecret(t, se, account())
		if w.permanent && !w.broken && code != 131047 && !strings.Contains(se.Reason, "details") {
			t.Errorf("%d: reason %q lacks Meta's details", code, se.Reason)
		}
	}
	if se := sendError(&result{Status: 503, Body: []byte("<html>")}, account()); se.Permanent {
		t.Errorf("5xx: %+v", se)
	}
	h := http.Header{"Retry-After": {"30"}}
	if se := sendError(&result{Status: 429, Header: h, Body: nil}, account()); se.Permanent || se.RetryAfter != 30*time.Second {
		t.Errorf("429: %+v", se)
	}
}

func TestSendFiles(t *testing.T) {
	fake := whatsapptest.New(t, testToken)
	w := New(fake.URL, nil)
	ctx := context.Background()
	jpeg := []byte("\xff\xd8\xff\xe0 fake jpeg")

	id, err := w.Send(ctx, fake.Account(), maria, messenger.Outgoing{Text: "the label",
		Files: []messenger.File{{Filename: "label.jpg", ContentType: "image/jpeg", Data: jpeg}}})
	if err != nil {
		t.Fatal(err)
	}
	sent := fake.Sent()
	if len(sent) != 1 || sent[0].ID != id || sent[0].Type != "image" || sent[0].Text != "the label" || sent[0].MediaID == "" {
		t.Fatalf("image: %+v", sent)
	}
	up := fake.Uploads()
	if len(up) != 1 || up[0].ContentType != "image/jpeg" || up[0].Filename != "label.jpg" || !bytes.Equal(up[0].Data, jpeg) || up[0].ID != sent[0].MediaID {
		t.Fatalf("upload: %+v", up)
	}

	// Two files: the text goes alone first, then each file.
	_, err = w.Send(ctx, fake.Account(), maria, messenger.Outgoing{Text: "two files", Files: []messenger.File{
		{Filename: "invoice.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.4")},
		{Filename: "", ContentType: "", Data: []byte("\x89PNG\r\n\x1a\n")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	sent = fake.Sent()[1:]
	if len(sent) != 3 || sent[0].Type != "text" || sent[0].Text != "two files" ||
		sent[1].Type != "document" || sent[1].Filename != "invoice.pdf" || sent[1].Text != "" ||
		sent[2].Type != "image" {
		t.Fatalf("two files: %+v", sent)
	}

	// A long text does not fit a caption.
	long := strings.Repeat("y", MaxCaption+1)
	_, err = w.Send(ctx, fake.Account(), maria, messenger.Outgoing{Text: long,
		Files: []messenger.File{{Filename: "a.txt", ContentType: "text/plain", Data: []byte("a")}}})
	if err != nil {
		t.Fatal(err)
	}
	sent = fake.Sent()[4:]
	if len(sent) != 2 || sent[0].Text != long || sent[1].Type != "document" || sent[1].Text != "" || sent[1].Filename != "a.txt" {
		t.Fatalf("long caption: %+v", sent)
	}
}

func TestSendConcurrent(t *testing.T) {
	fake := whatsapptest.New(t, testToken)
	w := New(fake.URL, nil)
	platformtest.SendConcurrently(t, 20, func(i int) (string, error) {
		return w.Send(context.Background(), fake.Account(), maria, messenger.Outgoing{Text: fmt.Sprint("n", i)})
	})
}

func TestConnect(t *testing.T) {
	fake := whatsapptest.New(t, testToken)
	w := New(fake.URL, nil)
	ctx := context.Background()
	acc := account()
	acc.Public[FieldPhoneNumberID] = " " + testPNID + " "

	got, err := w.Connect(ctx, acc, "https://switchboard.example/hooks/whatsapp/7")
	if err != nil {
		t.Fatal(err)
	}
	if got.Public[FieldPhoneNumberID] != testPNID || got.Public[FieldDisplayPhoneNumber] != whatsapptest.DisplayPhoneNumber ||
		got.Public[FieldVerifiedName] != whatsapptest.VerifiedName || got.Secrets[FieldAccessToken] != testToken || got.ChannelID != 7 {
		t.Errorf("connected %+v", got)
	}
	if acc.Public[FieldDisplayPhoneNumber] != "" {
		t.Error("Connect changed its argument")
	}

	wrong := account()
	wrong.Secrets[FieldAccessToken] = "EAAGwrongTOKEN"
	_, err = w.Connect(ctx, wrong, "")
	if platformtest.ErrField(err) != FieldAccessToken || err.Error() != "access_token: Meta does not accept this access token" {
		t.Errorf("wrong token: %v", err)
	}
	if strings.Contains(err.Error(), "EAAGwrongTOKEN") {
		t.Errorf("secret in %v", err)
	}
	other := account()
	other.Public[FieldPhoneNumberID] = "123456"
	if _, err := w.Connect(ctx, other, ""); platformtest.ErrField(err) != FieldPhoneNumberID {
		t.Errorf("unknown number: %v", err)
	}
	other.Public[FieldPhoneNumberID] = "../me"
	if _, err := w.Connect(ctx, other, ""); platformtest.ErrField(err) != FieldPhoneNumberID {
		t.Errorf("not digits: %v", err)
	}
	platformtest.Required(t, w, account(), FieldAccessToken, FieldAppSecret, FieldVerifyToken)

	fake.SetDown(true)
	_, err = w.Connect(ctx, account(), "")
	if platformtest.ErrField(err) != "unavailable" {
		t.Errorf("down: %v", err)
	}
	fake.SetDown(false)

	_, err = New(platformtest.DeadURL(t), nil).Connect(ctx, account(), "")
	if platformtest.ErrField(err) != "unavailable" {
		t.Errorf("unreachable: %v", err)
	}
	platformtest.NoSecret(t, err, account())
}

func TestFetch(t *testing.T) {
	fake := whatsapptest.New(t, testToken)
	w := New(fake.URL, nil)
	ctx := context.Background()
	data := []byte("\xff\xd8\xff\xe0 the scratch")
	fake.AddMedia("900000000000101", "image/jpeg", data)

	f, err := w.Fetch(ctx, fake.Account(), messenger.FileRef{ID: "900000000000101", Filename: "image-900000000000101.jpg", ContentType: "image/jpeg"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.Data, data) || f.Filename != "image-900000000000101.jpg" || f.ContentType != "image/jpeg" {
		t.Errorf("fetched %+v", f)
	}
	f, err = w.Fetch(ctx, fake.Account(), messenger.FileRef{ID: "900000000000101"})
	if err != nil || f.ContentType != "image/jpeg" || f.Filename != "file-900000000000101.jpg" {
		t.Errorf("without names: %+v %v", f, err)
	}

	if _, err := w.Fetch(ctx, fake.Account(), messenger.FileRef{ID: "404"}); err == nil {
		t.Error("unknown media fetched")
	}
	if _, err := w.Fetch(ctx, fake.Account(), messenger.FileRef{ID: "../secret"}); err == nil {
		t.Error("path in media id accepted")
	}
	if _, err := w.Fetch(ctx, fake.Account(), messenger.FileRef{ID: "1", Size: messenger.MaxFile + 1}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("known size too large: %v", err)
	}
}

// graphWithMedia is a Graph API whose media answer is meta (url filled in
// from target when empty).
func graphWithMedia(t *testing.T, meta map[string]any) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			http.Error(w, "no", 401)
			return
		}
		if r.URL.Path == "/v21.0/55" {
			b, _ := json.Marshal(meta)
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(b)
			return
		}
		_, _ = w.Write([]byte("local bytes"))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestFetchRefuses(t *testing.T) {
	ctx := context.Background()
	foreign := platformtest.Foreign(t)

	t.Run("foreign host", func(t *testing.T) {
		graph := graphWithMedia(t, map[string]any{"url": foreign.URL + "/x", "mime_type": "image/jpeg", "id": "55"})
		_, err := New(graph.URL, nil).Fetch(ctx, account(), messenger.FileRef{ID: "55"})
		if !errors.Is(err, ErrHostNotAllowed) || !strings.Contains(err.Error(), "media host not allowed") {
			t.Errorf("err = %v", err)
		}
		platformtest.NoSecret(t, err, account())
	})
	t.Run("redirect to a foreign host", func(t *testing.T) {
		var graph *httptest.Server
		graph = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v21.0/55" {
				fmt.Fprintf(w, `{"url":%q,"id":"55"}`, graph.URL+"/dl")
				return
			}
			http.Redirect(w, r, foreign.URL+"/stolen", http.StatusFound)
		}))
		defer graph.Close()
		_, err := New(graph.URL, nil).Fetch(ctx, account(), messenger.FileRef{ID: "55"})
		if !errors.Is(err, ErrHostNotAllowed) {
			t.Errorf("err = %v", err)
		}
		platformtest.NoSecret(t, err, account())
	})
	t.Run("too large", func(t *testing.T) {
		graph := graphWithMedia(t, map[string]any{"url": "", "file_size": messenger.MaxFile + 1, "id": "55"})
		_, err := New(graph.URL, nil).Fetch(ctx, account(), messenger.FileRef{ID: "55"})
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "too large") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("checksum", func(t *testing.T) {
		meta := map[string]any{"id": "55", "sha256": strings.Repeat("ab", 32)}
		graph := graphWithMedia(t, meta)
		meta["url"] = graph.URL + "/dl"
		_, err := New(graph.URL, nil).Fetch(ctx, account(), messenger.FileRef{ID: "55"})
		if !errors.Is(err, ErrChecksum) {
			t.Errorf("err = %v", err)
		}
		sum := sha256.Sum256([]byte("local bytes"))
		meta["sha256"] = hex.EncodeToString(sum[:])
		if f, err := New(graph.URL, nil).Fetch(ctx, account(), messenger.FileRef{ID: "55"}); err != nil || string(f.Data) != "local bytes" {
			t.Errorf("hex sum: %v", err)
		}
	})
}

func TestMediaHostAllowed(t *testing.T) {
	w := New("http://127.0.0.1:8080", nil)
	platformtest.AllowedHosts(t, w.mediaHostAllowed, map[string]bool{
		"https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1": true,
		"https://scontent.xx.fbsbx.com/v/t1":                               true,
		"https://mmg.whatsapp.net/d/f/x.enc":                               true,
		"http://127.0.0.1:8080/x":                                          true,
		"http://127.0.0.1:9090/x":                                          false,
		"http://lookaside.fbsbx.com/x":                                     false,
		"https://lookaside.fbsbx.com:8443/x":                               false,
		"https://fbsbx.com.evil.example/x":                                 false,
		"https://evilfbsbx.com/x":                                          false,
		"https://user@lookaside.fbsbx.com/x":                               false,
		"https://example.com/x":                                            false,
	})
}

func TestSecretsRedacted(t *testing.T) {
	// A Graph API that echoes the token in every error.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"error":{"message":"bad token %s","code":%s,"error_data":{"details":"token %s secret %s"}}}`,
			tok, r.URL.Query().Get("code"), tok, testSecret)
	}))
	defer srv.Close()
	w := New(srv.URL, nil)
	ctx := context.Background()
	_, err := w.Send(ctx, account(), maria, messenger.Outgoing{Text: "x"})
	platformtest.Redacted(t, err, account())
	_, err = w.Connect(ctx, account(), "")
	platformtest.NoSecret(t, err, account())
	_, err = w.Fetch(ctx, account(), messenger.FileRef{ID: "1"})
	platformtest.Redacted(t, err, account())
}

func TestFakeDeliverAndStatus(t *testing.T) {
	fake := whatsapptest.New(t, testToken)
	w := New(fake.URL, nil)
	hook := platformtest.NewHook(t, w, fake.Account())
	read := platformtest.ReadResponse(t)
	ctx := context.Background()

	if code, body := read(fake.Subscribe(ctx, hook.URL, whatsapptest.VerifyToken, "1158201444")); code != 200 || body != "1158201444" {
		t.Errorf("subscribe: %d %q", code, body)
	}

	id, err := w.Send(ctx, fake.Account(), maria, messenger.Outgoing{Text: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	wamid, inText := fake.Text(maria, "Mäxi / Müller", "danke 🙂 / bis bald")
	if bytes.ContainsAny(inText, "äü🙂") || !bytes.Contains(inText, []byte(`\/`)) {
		t.Errorf("fake body is not escaped like Meta's: %s", inText)
	}
	bodies := [][]byte{inText, fake.Status(id, "delivered"), fake.Failed(id, 131047, "Re-engagement message", "x")}
	for _, b := range bodies {
		if code, _ := read(fake.Deliver(ctx, hook.URL, whatsapptest.AppSecret, b)); code != 200 {
			t.Fatalf("deliver: %d", code)
		}
	}
	if code, _ := read(fake.Deliver(ctx, hook.URL, "wrong secret", bodies[0])); code != http.StatusUnauthorized {
		t.Errorf("wrong secret: %d", code)
	}

	got := hook.Updates()
	if len(got) != 3 {
		t.Fatalf("updates: %s", platformtest.Dump(got...))
	}
	if m := got[0].Message; m == nil || m.ExternalID != wamid || m.Text != "danke 🙂 / bis bald" || m.SenderName != "Mäxi / Müller" {
		t.Errorf("inbound: %s", platformtest.Dump(got[:1]...))
	}
	if s := got[1].Status; s == nil || s.ExternalID != id || s.State != messenger.Delivered {
		t.Errorf("delivered: %s", platformtest.Dump(got[1:2]...))
	}
	if s := got[2].Status; s == nil || s.State != messenger.Failed || s.Error != WindowClosedReason {
		t.Errorf("failed: %s", platformtest.Dump(got[2:]...))
	}
}

func FuzzParse(f *testing.F) {
	platformtest.NewParser(New("", nil), account()).Fuzz(f, platformtest.Rules{
		Kinds:  []messenger.UpdateKind{messenger.Message, messenger.Status, messenger.Ignored},
		States: []string{messenger.Sent, messenger.Delivered, messenger.Read, messenger.Failed},
	}, webhooks.Files(),
		body(testPNID, msg("reaction", `{"message_id":"wamid.OUT","emoji":"👍"}`), ""),
		body(testPNID, msg("order", `{"product_items":[{}]}`), `[{"id":"x","status":"played"}]`))
}
