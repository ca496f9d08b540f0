package whatsapp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/messenger"
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

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

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

// noSecret fails when err's text holds any secret of the test account.
func noSecret(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range []string{testToken, testSecret, testVerify} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error text holds a secret: %q", err)
		}
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

func TestParseFixtures(t *testing.T) {
	tests := []struct {
		file string
		want []messenger.Update
	}{
		{"inbound_text.json", []messenger.Update{inbound("wamid.FAKE0001AAAA=",
			"Hi! Is my order 4521 shipped? Need it by Friday äöå / thanks", 1735700000)}},
		{"inbound_image_caption.json", []messenger.Update{inbound("wamid.FAKE0002AAAA=", "Scratch on the lid", 1735700060,
			messenger.FileRef{ID: "900000000000101", Filename: "image-900000000000101.jpg", ContentType: "image/jpeg"})}},
		{"inbound_document.json", []messenger.Update{inbound("wamid.FAKE0003AAAA=", "Receipt", 1735700120,
			messenger.FileRef{ID: "900000000000102", Filename: "receipt-4521.pdf", ContentType: "application/pdf"})}},
		{"inbound_audio_voice.json", []messenger.Update{inbound("wamid.FAKE0004AAAA=", "", 1735700180,
			messenger.FileRef{ID: "900000000000103", Filename: "voice-900000000000103.ogg", ContentType: "audio/ogg; codecs=opus"})}},
		{"inbound_location.json", []messenger.Update{inbound("wamid.FAKE0005AAAA=",
			"📍 40.712776,-74.005974 (Fake Pickup Point, 1 Example St, New York)\nhttps://maps.google.com/?q=40.712776,-74.005974", 1735700240)}},
		{"inbound_contacts.json", []messenger.Update{inbound("wamid.FAKE0006AAAA=", "👤 Bob Courier, +1 555-000-3333", 1735700300)}},
		{"inbound_sticker.json", []messenger.Update{inbound("wamid.FAKE0007AAAA=", "", 1735700360,
			messenger.FileRef{ID: "900000000000104", Filename: "sticker-900000000000104.webp", ContentType: "image/webp"})}},
		{"inbound_interactive_button_reply.json", []messenger.Update{inbound("wamid.FAKE0008AAAA=", "Good", 1735700420)}},
		{"status_delivered.json", []messenger.Update{{Kind: messenger.Status,
			Status: &messenger.DeliveryStatus{ExternalID: "wamid.FAKEOUT0001AAAA=", State: messenger.Delivered}}}},
		{"status_failed_131047.json", []messenger.Update{{Kind: messenger.Status,
			Status: &messenger.DeliveryStatus{ExternalID: "wamid.FAKEOUT0002AAAA=", State: messenger.Failed, Error: windowFixed}}}},
		{"template_status_update_ignored.json", []messenger.Update{{Kind: messenger.Ignored,
			Reason: `field "message_template_status_update"`}}},
	}
	w := New("", nil)
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := w.Parse(account(), fixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %s\nwant %s", dump(got), dump(tt.want))
			}
		})
	}
}

func dump(us []messenger.Update) string {
	b, _ := json.Marshal(us)
	return string(b)
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
	one := func(t *testing.T, b []byte) messenger.Update {
		t.Helper()
		us, err := w.Parse(account(), b)
		if err != nil {
			t.Fatal(err)
		}
		if len(us) != 1 {
			t.Fatalf("updates = %s", dump(us))
		}
		return us[0]
	}
	text := func(t *testing.T, b []byte, want string) {
		t.Helper()
		u := one(t, b)
		if u.Kind != messenger.Message || u.Message.Text != want || u.Message.ExternalID != "wamid.X" {
			t.Errorf("got %s, want text %q", dump([]messenger.Update{u}), want)
		}
	}
	ignoredAs := func(t *testing.T, b []byte, prefix string) {
		t.Helper()
		u := one(t, b)
		if u.Kind != messenger.Ignored || !strings.HasPrefix(u.Reason, prefix) {
			t.Errorf("got %s, want ignored %q…", dump([]messenger.Update{u}), prefix)
		}
	}

	t.Run("other object", func(t *testing.T) {
		for _, b := range []string{`{"object":"page","entry":[]}`, `{}`, `[]`, `nope`, ``} {
			if _, err := w.Parse(account(), []byte(b)); !errors.Is(err, ErrNotWhatsApp) {
				t.Errorf("%q: err = %v", b, err)
			}
		}
	})
	t.Run("another number", func(t *testing.T) {
		ignoredAs(t, body("999", msg("text", `{"body":"hi"}`), ""), "another number")
		acc := account()
		delete(acc.Public, FieldPhoneNumberID)
		us, _ := w.Parse(acc, fixture(t, "inbound_text.json"))
		if len(us) != 1 || us[0].Kind != messenger.Ignored {
			t.Errorf("no phone number id: %s", dump(us))
		}
	})
	t.Run("reaction", func(t *testing.T) {
		ignoredAs(t, body(testPNID, msg("reaction", `{"message_id":"wamid.OUT","emoji":"👍"}`), ""), "reaction")
		ignoredAs(t, body(testPNID, msg("reaction", `{"message_id":"wamid.OUT"}`), ""), "reaction removed")
	})
	t.Run("unsupported", func(t *testing.T) {
		text(t, body(testPNID, `[{"from":"15550002222","id":"wamid.X","timestamp":"1","type":"unsupported","errors":[{"code":131051,"title":"Message type unknown"}]}]`, ""), Unsupported)
		text(t, body(testPNID, msg("unknown", ""), ""), Unsupported)
		text(t, body(testPNID, msg("poll", `{"q":1}`), ""), "[unsupported message type: poll]")
		text(t, body(testPNID, msg("image", `"not an object"`), ""), "[unsupported message type: image]")
		text(t, body(testPNID, msg("text", ""), ""), "[unsupported message type: text]")
		text(t, body(testPNID, msg("location", `{"latitude":"x"}`), ""), "[unsupported message type: location]")
	})
	t.Run("ignored types", func(t *testing.T) {
		ignoredAs(t, body(testPNID, msg("system", `{"body":"changed number","type":"customer_changed_number"}`), ""), "system message")
		ignoredAs(t, body(testPNID, msg("request_welcome", ""), ""), "request_welcome")
	})
	t.Run("order", func(t *testing.T) {
		text(t, body(testPNID, msg("order", `{"catalog_id":"1","text":"asap","product_items":[{"product_retailer_id":"a"},{"product_retailer_id":"b"}]}`), ""), "[order: 2 items]\nasap")
	})
	t.Run("list reply and button", func(t *testing.T) {
		text(t, body(testPNID, msg("interactive", `{"type":"list_reply","list_reply":{"id":"x","title":"Shipping","description":"d"}}`), ""), "Shipping")
		text(t, body(testPNID, msg("button", `{"text":"Stop promotions","payload":"STOP"}`), ""), "Stop promotions")
	})
	t.Run("location without place", func(t *testing.T) {
		text(t, body(testPNID, msg("location", `{"latitude":1.5,"longitude":-2}`), ""), "📍 1.5,-2\nhttps://maps.google.com/?q=1.5,-2")
	})
	t.Run("media names", func(t *testing.T) {
		u := one(t, body(testPNID, msg("audio", `{"id":"123","mime_type":"audio/mpeg","voice":false}`), ""))
		if f := u.Message.Files[0]; f.Filename != "audio-123.mp3" {
			t.Errorf("audio = %+v", f)
		}
		u = one(t, body(testPNID, msg("video", `{"id":"12345678901234567890","mime_type":"video/mp4","caption":"look"}`), ""))
		if f := u.Message.Files[0]; f.Filename != "video-1234567890123456.mp4" || u.Message.Text != "look" {
			t.Errorf("video = %+v", u.Message)
		}
		u = one(t, body(testPNID, msg("document", `{"id":"9","mime_type":"application/x-thing","filename":"..\\..\\etc/pass\u0000wd.txt"}`), ""))
		if f := u.Message.Files[0]; f.Filename != "passwd.txt" {
			t.Errorf("document = %+v", f)
		}
		u = one(t, body(testPNID, msg("document", `{"id":"9","mime_type":"application/x-thing"}`), ""))
		if f := u.Message.Files[0]; f.Filename != "document-9.bin" {
			t.Errorf("document = %+v", f)
		}
	})
	t.Run("sender without contact", func(t *testing.T) {
		u := one(t, body(testPNID, `[{"from":"4915550009999","id":"wamid.Y","timestamp":1735700000,"type":"text","text":{"body":"hi"}}]`, ""))
		m := u.Message
		if m.SenderName != "" || m.SenderID != "4915550009999" || m.Phone != "+4915550009999" || m.SentAt.Unix() != 1735700000 {
			t.Errorf("got %+v", m)
		}
	})
	t.Run("message without id", func(t *testing.T) {
		ignoredAs(t, body(testPNID, `[{"from":"1","type":"text","text":{"body":"x"}}]`, ""), "message without id")
	})
	t.Run("statuses", func(t *testing.T) {
		for state, want := range map[string]string{"sent": messenger.Sent, "delivered": messenger.Delivered, "read": messenger.Read, "played": messenger.Read} {
			u := one(t, body(testPNID, "", `[{"id":"wamid.O","status":"`+state+`","timestamp":"1"}]`))
			if u.Kind != messenger.Status || u.Status.State != want || u.Status.ExternalID != "wamid.O" {
				t.Errorf("%s: %s", state, dump([]messenger.Update{u}))
			}
		}
		ignoredAs(t, body(testPNID, "", `[{"id":"wamid.O","status":"deleted"}]`), "status")
		u := one(t, body(testPNID, "", `[{"id":"wamid.O","status":"failed","errors":[{"code":131026,"title":"Message undeliverable","error_data":{"details":"Receiver is incapable of receiving this message"}}]}]`))
		if u.Status.Error != "Receiver is incapable of receiving this message (error 131026)" {
			t.Errorf("failed = %q", u.Status.Error)
		}
		u = one(t, body(testPNID, "", `[{"id":"wamid.O","status":"failed","errors":[{"code":131000,"title":"Something went wrong"}]}]`))
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
		us, err := w.Parse(account(), b)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, u := range us {
			switch u.Kind {
			case messenger.Message:
				got = append(got, u.Message.ExternalID)
			case messenger.Status:
				got = append(got, u.Status.ExternalID)
			default:
				got = append(got, string(u.Kind))
			}
		}
		if strings.Join(got, ",") != "a,b,c,ignored,d" {
			t.Errorf("order = %v", got)
		}
	})
}

func TestVerifySigning(t *testing.T) {
	w := New("", nil)
	raw := fixture(t, "inbound_text.json")
	if len(raw) != 499 {
		t.Fatalf("inbound_text.json is %d bytes, SIGNING.md says 499", len(raw))
	}
	hdr := func(v string) http.Header {
		h := http.Header{}
		if v != "" {
			h.Set("X-Hub-Signature-256", v)
		}
		return h
	}
	// 1. The exact bytes and the header: accepted.
	if err := w.Verify(account(), hdr("sha256="+signingHex), raw); err != nil {
		t.Fatalf("1. valid signature refused: %v", err)
	}
	// 2. One hex digit changed.
	changed := []byte(signingHex)
	changed[10] = map[bool]byte{true: 'd', false: 'c'}[changed[10] == 'c']
	if err := w.Verify(account(), hdr("sha256="+string(changed)), raw); err == nil {
		t.Error("2. changed digit accepted")
	}
	// 3. No header.
	if err := w.Verify(account(), hdr(""), raw); !errors.Is(err, ErrNoSignature) {
		t.Errorf("3. no header: %v", err)
	}
	// 4. Body re-serialised: same JSON value, other bytes.
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	reserialised := bytes.TrimRight(buf.Bytes(), "\n")
	if bytes.Equal(reserialised, raw) || !bytes.Contains(reserialised, []byte("äöå / thanks")) {
		t.Fatalf("re-serialising did not change the bytes: %s", reserialised)
	}
	if err := w.Verify(account(), hdr("sha256="+signingHex), reserialised); err == nil {
		t.Error("4. re-serialised body accepted")
	}
	// More malformed headers.
	for _, h := range []string{signingHex, "sha1=" + signingHex, "sha256=" + signingHex[:62], "sha256=zz" + signingHex[2:], "SHA256=" + signingHex} {
		if err := w.Verify(account(), hdr(h), raw); err == nil {
			t.Errorf("header %q accepted", h)
		}
	}
	// Uppercase hex is still the same digest.
	if err := w.Verify(account(), hdr("sha256="+strings.ToUpper(signingHex)), raw); err != nil {
		t.Errorf("uppercase hex: %v", err)
	}
	// No app secret: nothing verifies.
	acc := account()
	delete(acc.Secrets, FieldAppSecret)
	if err := w.Verify(acc, hdr("sha256="+signingHex), raw); err == nil {
		t.Error("accepted without an app secret")
	}
	// The fake signs the same way.
	if got := whatsapptest.Sign(testSecret, raw); got != "sha256="+signingHex {
		t.Errorf("whatsapptest.Sign = %s", got)
	}
}

func TestHandshake(t *testing.T) {
	w := New("", nil)
	q := func(mode, token, challenge string) url.Values {
		return url.Values{"hub.mode": {mode}, "hub.verify_token": {token}, "hub.challenge": {challenge}}
	}
	if body, ok := w.Handshake(account(), q("subscribe", testVerify, "1158201444")); !ok || body != "1158201444" {
		t.Errorf("right token: %q %v", body, ok)
	}
	for name, v := range map[string]url.Values{
		"wrong token":  q("subscribe", "wrong", "1158201444"),
		"prefix token": q("subscribe", testVerify[:5], "1158201444"),
		"wrong mode":   q("unsubscribe", testVerify, "1158201444"),
		"no challenge": q("subscribe", testVerify, ""),
		"nothing":      {},
	} {
		if body, ok := w.Handshake(account(), v); ok || body != "" {
			t.Errorf("%s: %q %v", name, body, ok)
		}
	}
	acc := account()
	acc.Secrets[FieldVerifyToken] = ""
	if _, ok := w.Handshake(acc, q("subscribe", "", "1")); ok {
		t.Error("empty verify token accepted")
	}
}

func TestSendTextMatchesFixture(t *testing.T) {
	var got []byte
	var auth, path, ctype string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		auth, path, ctype = r.Header.Get("Authorization"), r.URL.Path, r.Header.Get("Content-Type")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(fixture(t, "send_response_ok.json"))
	}))
	defer srv.Close()
	w := New(srv.URL, srv.Client())
	id, err := w.Send(context.Background(), account(), maria, messenger.Outgoing{Text: "Yes, it shipped today. Tracking: FAKE123"})
	if err != nil {
		t.Fatal(err)
	}
	if id != "wamid.FAKEOUT0003AAAA=" {
		t.Errorf("id = %q", id)
	}
	if auth != "Bearer "+testToken || path != "/v21.0/"+testPNID+"/messages" || ctype != "application/json" {
		t.Errorf("auth %q path %q content type %q", auth, path, ctype)
	}
	var gotV, wantV any
	if err := json.Unmarshal(got, &gotV); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(fixture(t, "send_request_text.json"), &wantV); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotV, wantV) {
		t.Errorf("request\n got %s\nwant %s", got, fixture(t, "send_request_text.json"))
	}
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
		noSecret(t, err)
		se := messenger.AsSendError(err)
		if se == nil {
			t.Fatalf("err = %v, want a SendError", err)
		}
		return se
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
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	_, err = New(srv.URL, nil).Send(ctx, account(), maria, messenger.Outgoing{Text: "x"})
	if err == nil || messenger.AsSendError(err) != nil {
		t.Errorf("unreachable: %v", err)
	}
	noSecret(t, err)
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
		noSecret(t, se)
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
	var wg sync.WaitGroup
	ids := make([]string, 20)
	for i := range ids {
		wg.Go(func() {
			id, err := w.Send(context.Background(), fake.Account(), maria, messenger.Outgoing{Text: fmt.Sprint("n", i)})
			if err != nil {
				t.Error(err)
			}
			ids[i] = id
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, id := range ids {
		if id == "" || seen[id] {
			t.Errorf("id %q empty or repeated", id)
		}
		seen[id] = true
	}
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

	field := func(err error) string {
		var e *errs.Error
		if !errors.As(err, &e) {
			return fmt.Sprintf("not an errs.Error: %v", err)
		}
		if e.Kind == errs.ErrUnavailable {
			return "unavailable"
		}
		return e.Field
	}
	wrong := account()
	wrong.Secrets[FieldAccessToken] = "EAAGwrongTOKEN"
	_, err = w.Connect(ctx, wrong, "")
	if field(err) != FieldAccessToken || err.Error() != "access_token: Meta does not accept this access token" {
		t.Errorf("wrong token: %v", err)
	}
	if strings.Contains(err.Error(), "EAAGwrongTOKEN") {
		t.Errorf("secret in %v", err)
	}
	other := account()
	other.Public[FieldPhoneNumberID] = "123456"
	if _, err := w.Connect(ctx, other, ""); field(err) != FieldPhoneNumberID {
		t.Errorf("unknown number: %v", err)
	}
	other.Public[FieldPhoneNumberID] = "../me"
	if _, err := w.Connect(ctx, other, ""); field(err) != FieldPhoneNumberID {
		t.Errorf("not digits: %v", err)
	}
	for _, name := range []string{FieldAccessToken, FieldAppSecret, FieldVerifyToken} {
		a := account()
		a.Secrets[name] = " "
		if _, err := w.Connect(ctx, a, ""); field(err) != name {
			t.Errorf("missing %s: %v", name, err)
		}
	}

	fake.SetDown(true)
	_, err = w.Connect(ctx, account(), "")
	if field(err) != "unavailable" {
		t.Errorf("down: %v", err)
	}
	fake.SetDown(false)

	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	_, err = New(srv.URL, nil).Connect(ctx, account(), "")
	if field(err) != "unavailable" {
		t.Errorf("unreachable: %v", err)
	}
	noSecret(t, err)
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
	var foreignHits int
	var mu sync.Mutex
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		foreignHits++
		mu.Unlock()
		_, _ = w.Write([]byte("foreign bytes"))
	}))
	defer foreign.Close()

	t.Run("foreign host", func(t *testing.T) {
		graph := graphWithMedia(t, map[string]any{"url": foreign.URL + "/x", "mime_type": "image/jpeg", "id": "55"})
		_, err := New(graph.URL, nil).Fetch(ctx, account(), messenger.FileRef{ID: "55"})
		if !errors.Is(err, ErrHostNotAllowed) || !strings.Contains(err.Error(), "media host not allowed") {
			t.Errorf("err = %v", err)
		}
		noSecret(t, err)
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
		noSecret(t, err)
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
	mu.Lock()
	defer mu.Unlock()
	if foreignHits != 0 {
		t.Errorf("the foreign host was asked %d times", foreignHits)
	}
}

func TestMediaHostAllowed(t *testing.T) {
	w := New("http://127.0.0.1:8080", nil)
	for u, want := range map[string]bool{
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
	} {
		pu, _ := url.Parse(u)
		if got := w.mediaHostAllowed(pu); got != want {
			t.Errorf("%s: %v", u, got)
		}
	}
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
	if err == nil {
		t.Fatal("no error")
	}
	noSecret(t, err)
	_, err = w.Connect(ctx, account(), "")
	noSecret(t, err)
	_, err = w.Fetch(ctx, account(), messenger.FileRef{ID: "1"})
	if err == nil {
		t.Fatal("no error")
	}
	noSecret(t, err)
}

func TestFakeDeliverAndStatus(t *testing.T) {
	fake := whatsapptest.New(t, testToken)
	w := New(fake.URL, nil)
	var (
		mu  sync.Mutex
		got []messenger.Update
	)
	hook := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			body, ok := w.Handshake(fake.Account(), r.URL.Query())
			if !ok {
				rw.WriteHeader(http.StatusForbidden)
				return
			}
			_, _ = io.WriteString(rw, body)
			return
		}
		b, _ := io.ReadAll(r.Body)
		if err := w.Verify(fake.Account(), r.Header, b); err != nil {
			rw.WriteHeader(http.StatusUnauthorized)
			return
		}
		us, err := w.Parse(fake.Account(), b)
		if err != nil {
			rw.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, us...)
		mu.Unlock()
	}))
	defer hook.Close()
	ctx := context.Background()

	resp, err := fake.Subscribe(ctx, hook.URL, whatsapptest.VerifyToken, "1158201444")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "1158201444" {
		t.Errorf("subscribe: %d %q", resp.StatusCode, b)
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
		resp, err := fake.Deliver(ctx, hook.URL, whatsapptest.AppSecret, b)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("deliver: %d", resp.StatusCode)
		}
	}
	resp, err = fake.Deliver(ctx, hook.URL, "wrong secret", bodies[0])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong secret: %d", resp.StatusCode)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(got) != 3 {
		t.Fatalf("updates: %s", dump(got))
	}
	if m := got[0].Message; m == nil || m.ExternalID != wamid || m.Text != "danke 🙂 / bis bald" || m.SenderName != "Mäxi / Müller" {
		t.Errorf("inbound: %s", dump(got[:1]))
	}
	if s := got[1].Status; s == nil || s.ExternalID != id || s.State != messenger.Delivered {
		t.Errorf("delivered: %s", dump(got[1:2]))
	}
	if s := got[2].Status; s == nil || s.State != messenger.Failed || s.Error != WindowClosedReason {
		t.Errorf("failed: %s", dump(got[2:]))
	}
}

var webhookFixtures = []string{
	"inbound_text.json", "inbound_image_caption.json", "inbound_document.json", "inbound_audio_voice.json",
	"inbound_location.json", "inbound_contacts.json", "inbound_sticker.json", "inbound_interactive_button_reply.json",
	"status_delivered.json", "status_failed_131047.json", "template_status_update_ignored.json",
}

func FuzzParse(f *testing.F) {
	for _, name := range webhookFixtures {
		f.Add(fixture(f, name))
	}
	f.Add(body(testPNID, msg("reaction", `{"message_id":"wamid.OUT","emoji":"👍"}`), ""))
	f.Add(body(testPNID, msg("order", `{"product_items":[{}]}`), `[{"id":"x","status":"played"}]`))
	w := New("", nil)
	acc := account()
	f.Fuzz(func(t *testing.T, b []byte) {
		us, err := w.Parse(acc, b)
		if err != nil {
			if us != nil {
				t.Errorf("updates with an error")
			}
			return
		}
		for _, u := range us {
			switch u.Kind {
			case messenger.Message:
				if u.Message == nil || u.Message.ExternalID == "" || u.Message.SenderID == "" {
					t.Errorf("message without ids: %s", dump([]messenger.Update{u}))
				}
				for _, file := range u.Message.Files {
					if file.ID == "" || file.Filename == "" || strings.ContainsAny(file.Filename, "/\\\x00") {
						t.Errorf("bad file %+v", file)
					}
				}
			case messenger.Status:
				if u.Status == nil || u.Status.ExternalID == "" {
					t.Errorf("status without id")
				}
				switch u.Status.State {
				case messenger.Sent, messenger.Delivered, messenger.Read, messenger.Failed:
				default:
					t.Errorf("state %q", u.Status.State)
				}
			case messenger.Ignored:
				if u.Reason == "" {
					t.Errorf("ignored without a reason")
				}
			default:
				t.Errorf("kind %q", u.Kind)
			}
		}
	})
}
