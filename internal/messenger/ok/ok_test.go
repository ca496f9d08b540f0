package ok_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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
	"github.com/switchboard-hq/switchboard/internal/messenger/ok"
	"github.com/switchboard-hq/switchboard/internal/messenger/ok/oktest"
)

const (
	token  = "tkn1TestToken_0123456789abcdef:CQABPOJKAKEKEKEKE"
	secret = "3f9c2b7e5d1a4c8b9e6f0a1b2c3d4e5f"
	chat   = "chat:C3ecb9d0fake01"
	user   = "Тест Клиентов"
	prof   = "https://ok.ru/profile/910000000001"
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
		ChannelID: 42,
		Public:    map[string]string{"group_id": oktest.GroupID, "group_name": oktest.GroupName},
		Secrets:   map[string]string{"access_token": token, "webhook_secret": secret},
	}
}

// noSecret fails when err's text holds a secret.
func noSecret(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range append(secrets, token, secret) {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("error text holds a secret: %q", err)
		}
	}
}

func inbound(mid string, ms int64, text string, files ...messenger.FileRef) []messenger.Update {
	return []messenger.Update{{Kind: messenger.Message, Message: &messenger.Inbound{
		ExternalID: mid, SenderID: chat, SenderName: user, ProfileURL: prof,
		Text: text, Files: files, SentAt: time.UnixMilli(ms).UTC(),
	}}}
}

func dump(us []messenger.Update) string {
	b, _ := json.MarshalIndent(us, "", " ")
	return string(b)
}

func TestKindAndFields(t *testing.T) {
	p := ok.New("", nil)
	if p.Kind() != cv.OK {
		t.Errorf("Kind() = %q", p.Kind())
	}
	if ok.DefaultBaseURL != "https://api.ok.ru/graph" {
		t.Errorf("DefaultBaseURL = %q", ok.DefaultBaseURL)
	}
	fields := p.Fields()
	if len(fields) != 1 || fields[0].Name != "access_token" || !fields[0].Secret || !fields[0].Required || fields[0].Label == "" {
		t.Errorf("Fields() = %+v", fields)
	}
	if body, found := p.Handshake(account(), nil); found || body != "" {
		t.Errorf("Handshake() = %q, %v; OK has no handshake", body, found)
	}
}

// ---------------------------------------------------------------- Parse

var webhookFixtures = []string{
	"message_text.json", "message_image.json", "message_file.json", "message_share.json",
	"message_location.json", "message_callback.json", "chat_system.json",
}

func TestParseFixtures(t *testing.T) {
	p := ok.New("", nil)
	tests := []struct {
		file string
		want []messenger.Update
	}{
		{"message_text.json", inbound("mid:C3ecb9d0fake01.15cea67d78d2059", 1718000000123, "Добрый день, где мой заказ 1042?")},
		{"message_image.json", inbound("mid:C3ecb9d0fake01.15cea67d78d2100", 1718000060456, "",
			messenger.FileRef{ID: "https://i.mycdn.example.test/image?id=900000001&t=fake", Filename: "image-900000001"})},
		{"message_file.json", inbound("mid:C3ecb9d0fake01.15cea67d78d2300", 1718000180000, "",
			messenger.FileRef{ID: "https://dfs.mycdn.example.test/file?id=910000000777&t=fake", Filename: "invoice-1042.pdf", Size: 52344})},
		// The shared link is the text already: not repeated.
		{"message_share.json", inbound("mid:C3ecb9d0fake01.15cea67d78d2200", 1718000120789, "https://shop.example.test/orders/1042")},
		{"message_location.json", inbound("mid:C3ecb9d0fake01.15cea67d78d2400", 1718000240000,
			"📍 55.751244,37.618423\nhttps://www.google.com/maps/search/?api=1&query=55.751244,37.618423")},
		{"message_callback.json", []messenger.Update{{Kind: messenger.Ignored,
			Reason: "inline button press (MESSAGE_CALLBACK): Switchboard sends no buttons"}}},
		{"chat_system.json", []messenger.Update{{Kind: messenger.Ignored,
			Reason: "chat system event (CHAT_SYSTEM), not a client message"}}},
	}
	if len(tests) != len(webhookFixtures) {
		t.Fatal("a webhook fixture has no expectation")
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := p.Parse(account(), fixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse =\n%s\nwant\n%s", dump(got), dump(tt.want))
			}
		})
	}
}

// event is a MESSAGE_CREATED body with message fields msg (JSON members).
func event(msg string) []byte {
	return []byte(`{"webhookType":"MESSAGE_CREATED","sender":{"user_id":"user:910000000001","name":"Тест Клиентов"},` +
		`"recipient":{"chat_id":"chat:C3ecb9d0fake01"},"message":{"mid":"mid:X.1","seq":98211023614189661` + msg + `},"timestamp":1718000000123}`)
}

func TestParseOtherShapes(t *testing.T) {
	p := ok.New("", nil)
	tests := []struct {
		name     string
		body     string
		kind     messenger.UpdateKind
		text     string   // Message
		files    []string // file ID + " " + name
		reason   string   // Ignored: a part of the reason
		external string
		sender   string // SenderName when not user
	}{
		{name: "the 2017 example: no webhookType, no name",
			body: `{"sender":{"user_id":"user:123456789012"},"recipient":{"chat_id":"chat:C3ecb9d02a600"},"message":{"text":"text","seq":98211023614189660,"mid":"mid:C3ecb9d02a600.15cea67d78d2059"},"timestamp":1498581292941}`,
			kind: messenger.Message, text: "text", external: "mid:C3ecb9d02a600.15cea67d78d2059", sender: "-"},
		{name: "no mid: chat and exact seq", body: `{"webhookType":"MESSAGE_CREATED","recipient":{"chat_id":"chat:C1"},"message":{"text":"x","seq":98211023614189661}}`,
			kind: messenger.Message, text: "x", external: "chat:C1:98211023614189661", sender: "-"},
		{name: "seq as a string", body: `{"webhookType":"MESSAGE_CREATED","recipient":{"chat_id":"chat:C1"},"message":{"text":"x","seq":"9223372036854775807"}}`,
			kind: messenger.Message, text: "x", external: "chat:C1:9223372036854775807", sender: "-"},
		{name: "unknown attachment", body: string(event(`,"text":"look","attachments":[{"type":"POLL","payload":{}}]`)),
			kind: messenger.Message, text: "look\n[unsupported message type: POLL]"},
		{name: "attachment without type", body: string(event(`,"attachments":[{"payload":{}}]`)),
			kind: messenger.Message, text: "[unsupported message type]"},
		{name: "video without url", body: string(event(`,"attachments":[{"type":"VIDEO","payload":{"id":"1"}}]`)),
			kind: messenger.Message, text: "[OK attachment VIDEO]"},
		{name: "video and audio", body: string(event(`,"attachments":[{"type":"VIDEO","payload":{"url":"https://vd.mycdn.me/v?id=7"}},{"type":"AUDIO","payload":{"url":"https://a.mycdn.me/a"}}]`)),
			kind: messenger.Message, files: []string{"https://vd.mycdn.me/v?id=7 video-7", "https://a.mycdn.me/a audio-2"}},
		{name: "sticker", body: string(event(`,"attachments":[{"type":"STICKER","payload":{"url":"https://i.mycdn.me/s?id=5"}}]`)),
			kind: messenger.Message, text: "[sticker]", files: []string{"https://i.mycdn.me/s?id=5 sticker-5"}},
		{name: "sticker without url", body: string(event(`,"attachments":[{"type":"STICKER","payload":{"code":"x"}}]`)),
			kind: messenger.Message, text: "[sticker]"},
		{name: "contact", body: string(event(`,"attachments":[{"type":"CONTACT","payload":{"name":"Bob Courier","phone":"+79990000000"}}]`)),
			kind: messenger.Message, text: "👤 Bob Courier, +79990000000"},
		{name: "contact unknown shape", body: string(event(`,"attachments":[{"type":"CONTACT","payload":{"x":1}}]`)),
			kind: messenger.Message, text: "[OK attachment CONTACT]"},
		{name: "keyboard dropped", body: string(event(`,"text":"hi","attachments":[{"type":"INLINE_KEYBOARD","payload":{}}]`)),
			kind: messenger.Message, text: "hi"},
		{name: "share not in the text", body: string(event(`,"text":"see","attachments":[{"type":"SHARE","payload":{"url":"https://x.example/a"}}]`)),
			kind: messenger.Message, text: "see\nhttps://x.example/a"},
		{name: "bad location", body: string(event(`,"attachments":[{"type":"LOCATION","payload":{"latitude":"north","longitude":1}}]`)),
			kind: messenger.Message, text: "[OK attachment LOCATION]"},
		{name: "file name with a path", body: string(event(`,"attachments":[{"type":"FILE","payload":{"url":"https://dfs.mycdn.me/f","name":"../../etc/passwd"}}]`)),
			kind: messenger.Message, files: []string{"https://dfs.mycdn.me/f passwd"}},
		{name: "file url not http", body: string(event(`,"attachments":[{"type":"FILE","payload":{"url":"file:///etc/passwd"}}]`)),
			kind: messenger.Message, text: "[OK attachment FILE]"},
		{name: "present", body: string(event(`,"attachments":[{"type":"PRESENT","payload":{}}]`)),
			kind: messenger.Message, text: "[OK attachment PRESENT]"},
		{name: "the group's own message", body: `{"webhookType":"MESSAGE_CREATED","sender":{"user_id":"group:570000000000001"},"recipient":{"chat_id":"chat:C1"},"message":{"text":"x","mid":"mid:1"}}`,
			kind: messenger.Ignored, reason: "echo"},
		{name: "no chat", body: `{"webhookType":"MESSAGE_CREATED","sender":{"user_id":"user:1"},"message":{"text":"x","mid":"mid:1"}}`,
			kind: messenger.Ignored, reason: "chat_id"},
		{name: "chat id with a path", body: `{"webhookType":"MESSAGE_CREATED","recipient":{"chat_id":"chat:../x?y"},"message":{"text":"x","mid":"mid:1"}}`,
			kind: messenger.Ignored, reason: "chat_id"},
		{name: "no ids", body: `{"webhookType":"MESSAGE_CREATED","recipient":{"chat_id":"chat:C1"},"message":{"text":"x","seq":1.5}}`,
			kind: messenger.Ignored, reason: "without mid or seq"},
		{name: "created without message", body: `{"webhookType":"MESSAGE_CREATED","recipient":{"chat_id":"chat:C1"}}`,
			kind: messenger.Ignored, reason: "without a message"},
		{name: "other type", body: `{"webhookType":"CHAT_TITLE_CHANGED","recipient":{"chat_id":"chat:C1"}}`,
			kind: messenger.Ignored, reason: "CHAT_TITLE_CHANGED events"},
		{name: "untyped event without message", body: `{"recipient":{"chat_id":"chat:C1"},"timestamp":1}`,
			kind: messenger.Ignored, reason: "without a message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.Parse(account(), []byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Kind != tt.kind {
				t.Fatalf("Parse = %s", dump(got))
			}
			u := got[0]
			if tt.kind == messenger.Ignored {
				if !strings.Contains(u.Reason, tt.reason) || u.Message != nil {
					t.Errorf("Ignored reason %q, want it to contain %q", u.Reason, tt.reason)
				}
				return
			}
			m := u.Message
			if m.Text != tt.text {
				t.Errorf("text %q, want %q", m.Text, tt.text)
			}
			var files []string
			for _, f := range m.Files {
				files = append(files, f.ID+" "+f.Filename)
			}
			if !reflect.DeepEqual(files, tt.files) {
				t.Errorf("files %q, want %q", files, tt.files)
			}
			if tt.external != "" && m.ExternalID != tt.external {
				t.Errorf("external id %q, want %q", m.ExternalID, tt.external)
			}
			if tt.sender == "-" && m.SenderName != "" {
				t.Errorf("sender name %q: without a name the framework asks Profile", m.SenderName)
			}
			if m.SenderID == "" || m.ExternalID == "" {
				t.Errorf("ids %q %q", m.SenderID, m.ExternalID)
			}
		})
	}
}

func TestParseRejectsWhatIsNotAnEvent(t *testing.T) {
	p := ok.New("", nil)
	for _, body := range []string{``, `not json`, `null`, `[]`, `"x"`, `1`, `{}`, `{"foo":1}`, `{"message":null}`} {
		if got, err := p.Parse(account(), []byte(body)); err == nil || got != nil {
			t.Errorf("Parse(%q) = %s, %v; want an error (the webhook answers 400)", body, dump(got), err)
		}
	}
	if _, err := p.Parse(account(), bytes.Repeat([]byte(" "), 5<<20)); err == nil {
		t.Error("a huge body parsed")
	}
}

// ---------------------------------------------------------------- Verify

func TestVerify(t *testing.T) {
	p := ok.New("", nil)
	body := fixture(t, "message_text.json")
	h := func(v string) http.Header {
		hdr := http.Header{}
		if v != "" {
			hdr.Set(messenger.PathSecretHeader, v)
		}
		return hdr
	}
	if err := p.Verify(account(), h(secret), body); err != nil {
		t.Errorf("the right secret is refused: %v", err)
	}
	for name, hdr := range map[string]http.Header{
		"missing": h(""), "wrong": h("3f9c2b7e5d1a4c8b9e6f0a1b2c3d4e5e"), "prefix": h(secret[:16]),
		"longer": h(secret + "0"), "upper case": h(strings.ToUpper(secret)),
	} {
		err := p.Verify(account(), hdr, body)
		if err == nil {
			t.Errorf("%s secret accepted", name)
		}
		if !errors.Is(err, errs.ErrUnauthenticated) {
			t.Errorf("%s: %v is not unauthenticated (401)", name, err)
		}
		noSecret(t, err)
	}
	// OK signs nothing: the body's bytes do not matter, the URL's secret does.
	var v any
	_ = json.Unmarshal(body, &v)
	reserialised, _ := json.Marshal(v)
	if bytes.Equal(reserialised, body) {
		t.Fatal("re-serialising did not change the bytes")
	}
	if err := p.Verify(account(), h(secret), reserialised); err != nil {
		t.Errorf("re-serialised body with the right secret: %v", err)
	}
	if err := p.Verify(account(), h("wrong"), reserialised); err == nil {
		t.Error("re-serialised body with a wrong secret accepted")
	}
	noSecretAcc := account()
	delete(noSecretAcc.Secrets, "webhook_secret")
	if err := p.Verify(noSecretAcc, h(""), body); err == nil {
		t.Error("a channel without a webhook secret accepts anything")
	}
}

// ---------------------------------------------------------------- Send

// jsonEqual compares two JSON documents as values.
func jsonEqual(t *testing.T, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("sent body is not JSON: %s", got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("sent\n%s\nwant\n%s", got, want)
	}
}

func TestSendTextMatchesFixture(t *testing.T) {
	var got []byte
	var path, query, ctype, method string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		path, query, ctype, method = r.URL.EscapedPath(), r.URL.Query().Get("access_token"), r.Header.Get("Content-Type"), r.Method
		_, _ = w.Write(fixture(t, "send_response_ok.json"))
	}))
	defer srv.Close()
	p := ok.New(srv.URL+"/graph/", srv.Client())
	id, err := p.Send(t.Context(), account(), chat, messenger.Outgoing{Text: "Здравствуйте! Проверяем заказ 1042.", Key: "7"})
	if err != nil {
		t.Fatal(err)
	}
	if id != "mid:C3ecb9d0fake01.15cea67d78d3000" {
		t.Errorf("id %q", id)
	}
	jsonEqual(t, got, fixture(t, "send_request_text.json"))
	if method != http.MethodPost || path != "/graph/me/messages/chat:C3ecb9d0fake01" || query != token || ctype != "application/json;charset=utf-8" {
		t.Errorf("%s %s token %q content type %q", method, path, query, ctype)
	}
}

func newFake(t *testing.T) (*oktest.Fake, *ok.OK) {
	fake := oktest.New(t, token)
	p := ok.New(fake.URL, nil)
	ok.SetReadyWaits(p, time.Millisecond, time.Millisecond)
	return fake, p
}

func TestSendFileMatchesFixture(t *testing.T) {
	fake, p := newFake(t)
	pdf := messenger.File{Filename: "label.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.4 fake")}
	id, err := p.Send(t.Context(), account(), chat, messenger.Outgoing{Files: []messenger.File{pdf}})
	if err != nil {
		t.Fatal(err)
	}
	sent := fake.Sent()
	if len(sent) != 1 || id != sent[0].MessageID {
		t.Fatalf("sent %+v, id %q", sent, id)
	}
	jsonEqual(t, sent[0].Body, fixture(t, "send_request_file.json"))
	if up := sent[0].Upload; up == nil || up.Type != "FILE" || up.Filename != "label.pdf" || up.ContentType != "application/pdf" || !bytes.Equal(up.Data, pdf.Data) {
		t.Errorf("upload %+v", up)
	}
}

func TestSendTextAndFiles(t *testing.T) {
	fake, p := newFake(t)
	png := []byte("\x89PNG\r\n\x1a\n fake image")
	photo := messenger.File{Filename: "box.png", ContentType: "", Data: png}
	doc := messenger.File{Filename: "", ContentType: "text/plain", Data: []byte("notes")}
	id, err := p.Send(t.Context(), account(), chat, messenger.Outgoing{Text: "Two files", Files: []messenger.File{photo, doc}})
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ Text, Attachment, Filename, ContentType string }
	var got []row
	for _, s := range fake.Sent() {
		r := row{Text: s.Text, Attachment: s.Attachment}
		if s.Upload != nil {
			r.Filename, r.ContentType = s.Upload.Filename, s.Upload.ContentType
		}
		got = append(got, r)
	}
	want := []row{
		{Text: "Two files"},
		{Attachment: "IMAGE", Filename: "box.png", ContentType: "image/png"}, // sniffed
		{Attachment: "FILE", Filename: "file.txt", ContentType: "text/plain"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sent\n%+v\nwant\n%+v", got, want)
	}
	if id != fake.Sent()[0].MessageID {
		t.Errorf("id %q is not the first message's", id)
	}
	if ups := fake.Uploads(); len(ups) != 2 || !bytes.Equal(ups[0].Data, png) {
		t.Errorf("uploads %d", len(ups))
	}
}

func TestSendSplitsLongText(t *testing.T) {
	fake, p := newFake(t)
	para := strings.Repeat("слово ", 500) + "\n" // 3001 runes
	text := para + para + "конец"
	if _, err := p.Send(t.Context(), account(), chat, messenger.Outgoing{Text: text}); err != nil {
		t.Fatal(err)
	}
	sent := fake.Sent()
	if len(sent) != 2 {
		t.Fatalf("sent %d messages, want 2", len(sent))
	}
	if sent[0].Text != para[:len(para)-1] || sent[1].Text != para+"конец" {
		t.Errorf("cut at the wrong place: %q… / %q…", sent[0].Text[:20], sent[1].Text[:20])
	}
	emoji := strings.Repeat("😀", 9000)
	if _, err := p.Send(t.Context(), account(), chat, messenger.Outgoing{Text: emoji}); err != nil {
		t.Fatal(err)
	}
	parts := fake.Sent()[2:]
	joined := ""
	for _, s := range parts {
		if n := utf8.RuneCountInString(s.Text); n > ok.MaxText {
			t.Errorf("a part has %d runes", n)
		}
		joined += s.Text
	}
	if len(parts) != 3 || joined != emoji {
		t.Errorf("emoji sent as %d parts", len(parts))
	}
}

func TestSendErrors(t *testing.T) {
	tests := []struct {
		name   string
		script func(*oktest.Fake)
		token  string
		want   messenger.SendError
		reason string // a part of the reason
	}{
		{"expired token (fixture)", func(f *oktest.Fake) { f.FailNextSends(1, 200, string(fixture(t, "send_response_error.json"))) }, "",
			messenger.SendError{Permanent: true, Broken: true}, "no longer accepts the group's access token: reconnect the channel with a new token (PARAM_SESSION_EXPIRED : Session expired (error 102))"},
		{"wrong token", func(*oktest.Fake) {}, "tkn1Wrong:CQABPOJKAKEKEKEKE",
			messenger.SendError{Permanent: true, Broken: true}, "reconnect the channel"},
		{"flood control", func(f *oktest.Fake) { f.FailNextSends(1, 200, oktest.ErrorFloodBlocked) }, "",
			messenger.SendError{RetryAfter: ok.RateLimitWait}, "rate limit"},
		{"HTTP 429", func(f *oktest.Fake) { f.FailNextSends(1, 429, "") }, "",
			messenger.SendError{RetryAfter: ok.RateLimitWait}, "rate limit"},
		{"not allowed", func(f *oktest.Fake) { f.FailNextSends(1, 200, oktest.ErrorPermissionDenied) }, "",
			messenger.SendError{Permanent: true}, ok.NotAllowedReason},
		{"unknown chat", func(f *oktest.Fake) { f.FailNextSends(1, 200, oktest.ErrorNotFound) }, "",
			messenger.SendError{Permanent: true}, "does not know this chat"},
		{"service error", func(f *oktest.Fake) { f.FailNextSends(1, 200, oktest.ErrorService) }, "",
			messenger.SendError{}, "OK is unavailable (SERVICE"},
		{"OK down", func(f *oktest.Fake) { f.SetDown(true) }, "",
			messenger.SendError{}, "OK is unavailable (HTTP 502 Bad Gateway)"},
		{"other refusal", func(f *oktest.Fake) {
			f.FailNextSends(1, 200, `{"error_code":100,"error_msg":"PARAM : text is too long","error_data":null}`)
		}, "", messenger.SendError{Permanent: true}, "OK refused the message: PARAM : text is too long (error 100)"},
		{"bare 400", func(f *oktest.Fake) { f.FailNextSends(1, 400, "") }, "",
			messenger.SendError{Permanent: true}, "HTTP 400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, p := newFake(t)
			tt.script(fake)
			acc := account()
			if tt.token != "" {
				acc.Secrets["access_token"] = tt.token
			}
			_, err := p.Send(t.Context(), acc, chat, messenger.Outgoing{Text: "hello"})
			se := messenger.AsSendError(err)
			if se == nil {
				t.Fatalf("error %v is not a *SendError", err)
			}
			if !strings.Contains(se.Reason, tt.reason) {
				t.Errorf("reason %q, want it to contain %q", se.Reason, tt.reason)
			}
			tt.want.Reason = se.Reason
			if *se != tt.want {
				t.Errorf("SendError %+v, want %+v", *se, tt.want)
			}
			if len(fake.Sent()) != 0 {
				t.Error("the fake recorded a refused message")
			}
			noSecret(t, err, tt.token)
		})
	}
}

func TestSendErrorAnswers(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header map[string]string
		body   string
		want   messenger.SendError
		id     string
	}{
		{"Retry-After", 429, map[string]string{"Retry-After": "7"}, "", messenger.SendError{RetryAfter: 7 * time.Second}, ""},
		{"success false", 200, nil, `{"success":false}`, messenger.SendError{Permanent: true}, ""},
		{"no message id", 200, nil, `{"success":true}`, messenger.SendError{}, ""},
		{"mid instead", 200, nil, `{"mid":"mid:X.2"}`, messenger.SendError{}, "mid:X.2"},
		{"error echoing the token", 200, nil, `{"error_code":100,"error_msg":"PARAM : bad access_token ` + token + `"}`, messenger.SendError{Permanent: true}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			id, err := ok.New(srv.URL, nil).Send(t.Context(), account(), chat, messenger.Outgoing{Text: "x"})
			noSecret(t, err)
			if tt.want == (messenger.SendError{}) {
				if err != nil || id != tt.id {
					t.Errorf("id %q, error %v; want %q", id, err, tt.id)
				}
				return
			}
			se := messenger.AsSendError(err)
			if se == nil {
				t.Fatalf("error %v", err)
			}
			tt.want.Reason = se.Reason
			if *se != tt.want {
				t.Errorf("SendError %+v, want %+v", *se, tt.want)
			}
		})
	}
}

func TestSendWaitsForProcessing(t *testing.T) {
	fake, p := newFake(t)
	fake.FailNextSends(2, 200, oktest.ErrorNotReady)
	f := messenger.File{Filename: "a.pdf", ContentType: "application/pdf", Data: []byte("%PDF")}
	if _, err := p.Send(t.Context(), account(), chat, messenger.Outgoing{Files: []messenger.File{f}}); err != nil {
		t.Fatalf("not retried: %v", err)
	}
	if len(fake.Sent()) != 1 {
		t.Errorf("sent %d", len(fake.Sent()))
	}
	// Still not ready after every wait: a temporary error.
	fake.FailNextSends(5, 200, oktest.ErrorNotReady)
	_, err := p.Send(t.Context(), account(), chat, messenger.Outgoing{Files: []messenger.File{f}})
	if se := messenger.AsSendError(err); se == nil || se.Permanent || !strings.Contains(se.Reason, "still processing") {
		t.Errorf("error %v", err)
	}
}

func TestSendUploadFailures(t *testing.T) {
	f := messenger.File{Filename: "a.pdf", ContentType: "application/pdf", Data: []byte("%PDF")}
	t.Run("upload URL refused", func(t *testing.T) {
		fake, p := newFake(t)
		fake.FailNext("fileUploadUrl", 1, 200, oktest.ErrorSessionExpired)
		_, err := p.Send(t.Context(), account(), chat, messenger.Outgoing{Text: "x", Files: []messenger.File{f}})
		if se := messenger.AsSendError(err); se == nil || !se.Broken {
			t.Errorf("error %v", err)
		}
		if len(fake.Sent()) != 0 {
			t.Error("the text went although the file could not be uploaded")
		}
	})
	t.Run("upload server down", func(t *testing.T) {
		fake, p := newFake(t)
		fake.FailNext("upload", 1, 503, "")
		_, err := p.Send(t.Context(), account(), chat, messenger.Outgoing{Files: []messenger.File{f}})
		if se := messenger.AsSendError(err); se == nil || se.Permanent {
			t.Errorf("error %v", err)
		}
	})
	t.Run("upload refused", func(t *testing.T) {
		fake, p := newFake(t)
		fake.FailNext("upload", 1, 413, "")
		_, err := p.Send(t.Context(), account(), chat, messenger.Outgoing{Files: []messenger.File{f}})
		if se := messenger.AsSendError(err); se == nil || !se.Permanent || !strings.Contains(se.Reason, "a.pdf") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("image without token goes as a file", func(t *testing.T) {
		fake, p := newFake(t)
		fake.FailNext("upload", 1, 200, `{"photos":{}}`)
		img := messenger.File{Filename: "x.jpg", ContentType: "image/jpeg", Data: []byte("\xff\xd8\xff\xe0jpeg")}
		if _, err := p.Send(t.Context(), account(), chat, messenger.Outgoing{Files: []messenger.File{img}}); err != nil {
			t.Fatal(err)
		}
		if s := fake.Sent(); len(s) != 1 || s[0].Attachment != "FILE" {
			t.Errorf("sent %+v", s)
		}
	})
}

func TestSendRefusesWhatCannotGo(t *testing.T) {
	_, p := newFake(t)
	noToken := account()
	noToken.Secrets["access_token"] = ""
	for name, tc := range map[string]struct {
		acc    messenger.Account
		to     string
		m      messenger.Outgoing
		broken bool
	}{
		"empty":        {account(), chat, messenger.Outgoing{Text: " \n "}, false},
		"not a chat":   {account(), "../me/subscribe?x=", messenger.Outgoing{Text: "x"}, false},
		"no recipient": {account(), "", messenger.Outgoing{Text: "x"}, false},
		"empty file":   {account(), chat, messenger.Outgoing{Files: []messenger.File{{Filename: "a"}}}, false},
		"no token":     {noToken, chat, messenger.Outgoing{Text: "x"}, true},
	} {
		_, err := p.Send(t.Context(), tc.acc, tc.to, tc.m)
		if se := messenger.AsSendError(err); se == nil || !se.Permanent || se.Broken != tc.broken {
			t.Errorf("%s: %v, want a permanent SendError (broken %v)", name, err, tc.broken)
		}
	}
}

func TestSendNetworkErrors(t *testing.T) {
	p := ok.New(deadURL(t), nil)
	_, err := p.Send(t.Context(), account(), chat, messenger.Outgoing{Text: "hello"})
	if err == nil {
		t.Fatal("no error")
	}
	if se := messenger.AsSendError(err); se != nil && se.Permanent {
		t.Errorf("a network error is permanent: %v", err)
	}
	noSecret(t, err)

	_, p2 := newFake(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = p2.Send(ctx, account(), chat, messenger.Outgoing{Text: "x"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v does not say the context was cancelled", err)
	}
	noSecret(t, err)
}

func TestSendConcurrent(t *testing.T) {
	fake, p := newFake(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := messenger.File{Filename: fmt.Sprintf("%d.txt", i), ContentType: "text/plain", Data: []byte("x")}
			if _, err := p.Send(context.Background(), account(), chat, messenger.Outgoing{Text: fmt.Sprint(i), Files: []messenger.File{f}}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	ids := map[string]bool{}
	for _, s := range fake.Sent() {
		ids[s.MessageID] = true
	}
	if len(fake.Sent()) != 16 || len(ids) != 16 {
		t.Errorf("sent %d, %d ids", len(fake.Sent()), len(ids))
	}
}

// deadURL is a URL where nothing answers.
func deadURL(t *testing.T) string {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	return srv.URL
}

// ---------------------------------------------------------------- Connect

func TestConnect(t *testing.T) {
	fake, p := newFake(t)
	in := messenger.Account{ChannelID: 42, Public: map[string]string{}, Secrets: map[string]string{"access_token": " " + token + "\n"}}
	hook := "https://switchboard.example.test/hooks/ok/42"
	acc, err := p.Connect(t.Context(), in, hook)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"group_id": oktest.GroupID, "group_name": oktest.GroupName, "group_url": "https://ok.ru/group/570000000000001"}
	if !reflect.DeepEqual(acc.Public, want) {
		t.Errorf("Public = %v", acc.Public)
	}
	sec := acc.Secrets["webhook_secret"]
	if len(sec) != 64 || strings.Trim(sec, "0123456789abcdef") != "" {
		t.Errorf("secret %q is not 32 random bytes in hex", sec)
	}
	if subs := fake.Subscriptions(); !reflect.DeepEqual(subs, []string{hook + "/" + sec}) || acc.Secrets["webhook_url"] != subs[0] {
		t.Errorf("subscriptions %v, account %q", subs, acc.Secrets["webhook_url"])
	}
	if acc.Secrets["access_token"] != token || acc.ChannelID != 42 {
		t.Errorf("account %+v", acc)
	}
	if len(in.Secrets) != 1 || len(in.Public) != 0 {
		t.Error("Connect changed the account it was given")
	}
	for _, v := range acc.Public {
		if strings.Contains(v, sec) || strings.Contains(v, token) {
			t.Errorf("a public field shows a secret: %q", v)
		}
	}

	// Connecting again rotates the secret and drops the old subscription.
	again, err := p.Connect(t.Context(), acc, hook)
	if err != nil {
		t.Fatal(err)
	}
	if again.Secrets["webhook_secret"] == sec {
		t.Error("connecting again keeps the same secret")
	}
	if subs := fake.Subscriptions(); !reflect.DeepEqual(subs, []string{hook + "/" + again.Secrets["webhook_secret"]}) {
		t.Errorf("subscriptions after reconnecting: %v", subs)
	}
	if calls := fake.Calls(); !reflect.DeepEqual(calls, []string{"info", "subscribe", "info", "subscribe", "unsubscribe"}) {
		t.Errorf("calls %v", calls)
	}
}

func TestConnectSubscribeMatchesFixture(t *testing.T) {
	var got []byte
	var ctype string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/me/info":
			_, _ = io.WriteString(w, `{"name":"g","group_id":"group:1"}`)
		case "/me/subscribe":
			got, _ = io.ReadAll(r.Body)
			ctype = r.Header.Get("Content-Type")
			_, _ = w.Write(fixture(t, "subscribe_response.json"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	acc, err := ok.New(srv.URL, nil).Connect(t.Context(), account(), "https://switchboard.example.test/hooks/ok/42")
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Replace(fixture(t, "subscribe_request.json"), []byte("3f9c2b7e5d1a4c8b9e6f0a1b2c3d4e5f"), []byte(acc.Secrets["webhook_secret"]), 1)
	jsonEqual(t, got, want)
	if ctype != ok.JSONContentType {
		t.Errorf("content type %q", ctype)
	}
}

func TestConnectErrors(t *testing.T) {
	tests := []struct {
		name   string
		token  string
		script func(*oktest.Fake)
		kind   error
		field  string
		msg    string
	}{
		{"wrong token", "tkn1Wrong:CQABPOJKAKEKEKEKE", nil, errs.ErrInvalid, "access_token", "OK does not accept this access token (PARAM_SESSION_EXPIRED"},
		{"empty", "  ", nil, errs.ErrInvalid, "access_token", "required"},
		{"not a token", "two words", nil, errs.ErrInvalid, "access_token", "does not look like"},
		{"a user's token", token, func(f *oktest.Fake) { f.FailNext("info", 1, 200, `{"name":"Someone","user_id":"user:1"}`) },
			errs.ErrInvalid, "access_token", "not a group's bot token"},
		{"webhook refused", token, func(f *oktest.Fake) {
			f.FailNext("subscribe", 1, 200, `{"error_code":100,"error_msg":"PARAM : url is not reachable"}`)
		}, errs.ErrInvalid, "webhook", "OK refused the webhook (PARAM : url is not reachable (error 100))"},
		{"webhook not subscribed", token, func(f *oktest.Fake) { f.FailNext("subscribe", 1, 200, `{"success":false}`) },
			errs.ErrInvalid, "webhook", "did not subscribe"},
		{"OK down", token, func(f *oktest.Fake) { f.SetDown(true) }, errs.ErrUnavailable, "", "OK is not available now (HTTP 502"},
		{"service error", token, func(f *oktest.Fake) { f.FailNext("info", 1, 200, oktest.ErrorService) }, errs.ErrUnavailable, "", "SERVICE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, p := newFake(t)
			if tt.script != nil {
				tt.script(fake)
			}
			acc := account()
			acc.Secrets["access_token"] = tt.token
			_, err := p.Connect(t.Context(), acc, "https://switchboard.example.test/hooks/ok/42")
			var e *errs.Error
			if !errors.As(err, &e) || !errors.Is(err, tt.kind) || e.Field != tt.field || !strings.Contains(e.Message, tt.msg) {
				t.Fatalf("error %#v, want %v on %q with %q", err, tt.kind, tt.field, tt.msg)
			}
			noSecret(t, err, tt.token)
			if subs := fake.Subscriptions(); len(subs) != 0 {
				t.Errorf("subscribed %v although Connect failed", subs)
			}
		})
	}
}

func TestConnectUnreachable(t *testing.T) {
	_, err := ok.New(deadURL(t), nil).Connect(t.Context(), account(), "https://x.example/hooks/ok/1")
	if !errors.Is(err, errs.ErrUnavailable) || !strings.Contains(err.Error(), "cannot reach OK") {
		t.Fatalf("error %v", err)
	}
	noSecret(t, err)
	_, err = ok.New(deadURL(t), nil).Connect(t.Context(), account(), "not a url")
	if !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("bad hook URL: %v", err)
	}
}

// TestWebhookRoundTrip plays both sides: Switchboard's route
// /hooks/ok/{id}/{secret} passes the secret segment in PathSecretHeader; the
// fake delivers to the URL Connect subscribed.
func TestWebhookRoundTrip(t *testing.T) {
	fake, p := newFake(t)
	var mu sync.Mutex
	var acc messenger.Account
	var got []messenger.Update
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rest, found := strings.CutPrefix(r.URL.Path, "/hooks/ok/42")
		r.Header.Del(messenger.PathSecretHeader)
		if found && strings.HasPrefix(rest, "/") {
			r.Header.Set(messenger.PathSecretHeader, rest[1:])
		}
		mu.Lock()
		defer mu.Unlock()
		if err := p.Verify(acc, r.Header, body); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		us, err := p.Parse(acc, body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got = append(got, us...)
	}))
	t.Cleanup(hook.Close)

	hookURL := hook.URL + "/hooks/ok/42"
	connected, err := p.Connect(t.Context(), fake.Account(), hookURL)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	acc = connected
	mu.Unlock()

	mid, text := fake.Text(oktest.ChatID, oktest.UserID, "", "Hello / привет")
	data := []byte("%PDF-1.4 invoice")
	fileMid, file := fake.File(oktest.ChatID, oktest.UserID, oktest.UserName, fake.AddMedia("application/pdf", data), "invoice.pdf", len(data))
	for _, body := range [][]byte{oktest.Fixture("message_text.json"), text, file} {
		resp, err := fake.Deliver(t.Context(), hookURL, body)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("webhook answered %s", resp.Status)
		}
	}
	// A caller who does not know the secret.
	for _, u := range []string{hookURL, hookURL + "/" + strings.Repeat("0", 64)} {
		resp, err := http.Post(u, "application/json", bytes.NewReader(text))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s without the secret: %s", u, resp.Status)
		}
	}

	mu.Lock()
	defer mu.Unlock()
	if len(got) != 3 || got[0].Message == nil || got[0].Message.ExternalID != "mid:C3ecb9d0fake01.15cea67d78d2059" {
		t.Fatalf("delivered %s", dump(got))
	}
	if m := got[1].Message; m == nil || m.ExternalID != mid || m.Text != "Hello / привет" || m.SenderName != "" || m.SenderID != oktest.ChatID {
		t.Errorf("text %s", dump(got[1:2]))
	}
	m := got[2].Message
	if m == nil || m.ExternalID != fileMid || len(m.Files) != 1 {
		t.Fatalf("file %s", dump(got[2:]))
	}
	f, err := p.Fetch(t.Context(), connected, m.Files[0])
	if err != nil {
		t.Fatal(err)
	}
	if f.Filename != "invoice.pdf" || f.ContentType != "application/pdf" || !bytes.Equal(f.Data, data) {
		t.Errorf("fetched %q %q %q", f.Filename, f.ContentType, f.Data)
	}
	// The reply goes to the chat the message came from.
	if _, err := p.Send(t.Context(), connected, m.SenderID, messenger.Outgoing{Text: "Got it"}); err != nil {
		t.Fatal(err)
	}
	if s := fake.Sent(); len(s) != 1 || s[0].ChatID != oktest.ChatID {
		t.Errorf("sent %+v", s)
	}
}

func TestDeliverWithoutSubscription(t *testing.T) {
	fake, _ := newFake(t)
	if _, err := fake.Deliver(t.Context(), "http://127.0.0.1:1/hooks/ok/1", []byte("{}")); err == nil {
		t.Error("delivered without a subscription")
	}
}

// ---------------------------------------------------------------- Fetch

func TestFetch(t *testing.T) {
	fake, p := newFake(t)
	img := []byte("\xff\xd8\xff\xe0 fake jpeg")
	u := fake.AddMedia("image/jpeg", img)
	f, err := p.Fetch(t.Context(), account(), messenger.FileRef{ID: u, Filename: "image-900000001"})
	if err != nil {
		t.Fatal(err)
	}
	if f.Filename != "image-900000001.jpg" || f.ContentType != "image/jpeg" || !bytes.Equal(f.Data, img) {
		t.Errorf("fetched %q %q", f.Filename, f.ContentType)
	}
	// The content type comes from the name when the server names none useful.
	u = fake.AddMedia("application/octet-stream", []byte("%PDF"))
	if f, err = p.Fetch(t.Context(), account(), messenger.FileRef{ID: u, Filename: "a.pdf"}); err != nil || f.ContentType != "application/pdf" {
		t.Errorf("%+v %v", f, err)
	}
	if _, err := p.Fetch(t.Context(), account(), messenger.FileRef{ID: strings.TrimSuffix(fake.URL, "/graph") + "/media/404"}); err == nil {
		t.Error("a missing file fetched")
	}
}

func TestFetchRefuses(t *testing.T) {
	var mu sync.Mutex
	foreignHits := 0
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		foreignHits++
		mu.Unlock()
		_, _ = io.WriteString(w, "foreign bytes")
	}))
	defer foreign.Close()
	fake, p := newFake(t)

	// The fixtures' CDN hosts are not OK's: not fetched.
	us, err := p.Parse(account(), fixture(t, "message_image.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Fetch(t.Context(), account(), us[0].Message.Files[0]); !errors.Is(err, ok.ErrHostNotAllowed) {
		t.Errorf("fixture host: %v", err)
	}
	if _, err := p.Fetch(t.Context(), account(), messenger.FileRef{ID: foreign.URL + "/x"}); !errors.Is(err, ok.ErrHostNotAllowed) {
		t.Errorf("foreign host: %v", err)
	}
	// A redirect away from OK is not followed.
	redirect := httptest.NewServer(http.RedirectHandler(foreign.URL+"/stolen", http.StatusFound))
	defer redirect.Close()
	pr := ok.New(redirect.URL, nil)
	if _, err := pr.Fetch(t.Context(), account(), messenger.FileRef{ID: redirect.URL + "/file"}); !errors.Is(err, ok.ErrHostNotAllowed) {
		t.Errorf("redirect: %v", err)
	}
	// Too large: announced, or read.
	if _, err := p.Fetch(t.Context(), account(), messenger.FileRef{ID: fake.AddMedia("text/plain", []byte("x")), Size: messenger.MaxFile + 1}); !errors.Is(err, ok.ErrTooLarge) {
		t.Errorf("announced size: %v", err)
	}
	big := fake.AddMedia("application/zip", make([]byte, messenger.MaxFile+1))
	if _, err := p.Fetch(t.Context(), account(), messenger.FileRef{ID: big}); !errors.Is(err, ok.ErrTooLarge) {
		t.Errorf("large body: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if foreignHits != 0 {
		t.Errorf("the foreign host was asked %d times", foreignHits)
	}
}

func TestMediaHostAllowed(t *testing.T) {
	p := ok.New("http://127.0.0.1:8080/graph", nil)
	for u, want := range map[string]bool{
		"https://i.mycdn.me/image?id=1":       true,
		"https://dfs3.mycdn.me/file?id=1":     true,
		"https://vd12.okcdn.ru/video":         true,
		"https://ok.ru/x":                     true,
		"https://st.odnoklassniki.ru/x":       true,
		"http://127.0.0.1:8080/media/1":       true,
		"http://127.0.0.1:9090/media/1":       false,
		"http://i.mycdn.me/image":             false,
		"https://i.mycdn.me:8443/image":       false,
		"https://mycdn.me.evil.example/x":     false,
		"https://evilmycdn.me/x":              false,
		"https://user@i.mycdn.me/x":           false,
		"https://i.mycdn.example.test/image":  false,
		"https://dfs.mycdn.example.test/file": false,
	} {
		if got := ok.MediaHostAllowed(p, u); got != want {
			t.Errorf("%s: %v", u, got)
		}
	}
}

// ---------------------------------------------------------------- Profile

func TestProfile(t *testing.T) {
	p := ok.New("", nil)
	pr, err := p.Profile(t.Context(), account(), chat)
	if err != nil || pr != (messenger.Profile{Name: "OK user C3ecb9d0fake01"}) {
		t.Errorf("Profile = %+v, %v", pr, err)
	}
	if pr, _ := p.Profile(t.Context(), account(), "chat:../x"); pr != (messenger.Profile{}) {
		t.Errorf("Profile of a bad id = %+v", pr)
	}
}

// TestNoSecretInErrors: an API that echoes what it was given in every error.
func TestNoSecretInErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b, _ := json.Marshal(map[string]any{"error_code": 100, "error_msg": "PARAM : bad " + r.URL.String() + " " + string(body)})
		_, _ = w.Write(b)
	}))
	defer srv.Close()
	p := ok.New(srv.URL, nil)
	_, err := p.Send(t.Context(), account(), chat, messenger.Outgoing{Text: "x"})
	if err == nil {
		t.Fatal("no error")
	}
	noSecret(t, err)
	acc, err := p.Connect(t.Context(), account(), "https://x.example/hooks/ok/1")
	if err == nil {
		t.Fatalf("connected: %+v", acc)
	}
	noSecret(t, err)
}

// ---------------------------------------------------------------- fuzz

func FuzzParse(f *testing.F) {
	for _, name := range webhookFixtures {
		f.Add(fixture(f, name))
	}
	f.Add(event(`,"attachments":[{"type":"FILE","payload":{"url":"https://dfs.mycdn.me/f","name":"a\\b"}}]`))
	f.Add(event(`,"attachments":[{"type":"LOCATION","payload":{"latitude":1e400,"longitude":0}}]`))
	f.Add([]byte(`{"recipient":{"chat_id":"chat:C"},"message":{"seq":"-1"}}`))
	p := ok.New("", nil)
	acc := account()
	f.Fuzz(func(t *testing.T, body []byte) {
		us, err := p.Parse(acc, body)
		if err != nil {
			if us != nil {
				t.Error("updates with an error")
			}
			return
		}
		if len(us) == 0 {
			t.Fatal("no update and no error")
		}
		for _, u := range us {
			switch u.Kind {
			case messenger.Message:
				if u.Message == nil || u.Message.ExternalID == "" || u.Message.SenderID == "" {
					t.Fatalf("message without ids: %s", dump(us))
				}
				for _, file := range u.Message.Files {
					if file.ID == "" || file.Filename == "" || strings.ContainsAny(file.Filename, "/\\\x00") {
						t.Errorf("bad file %+v", file)
					}
				}
			case messenger.Ignored:
				if u.Reason == "" {
					t.Fatal("ignored without a reason")
				}
			default:
				t.Fatalf("unexpected kind %q", u.Kind)
			}
		}
	})
}
