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
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/messenger"
	"github.com/switchboard-hq/switchboard/internal/messenger/ok"
	"github.com/switchboard-hq/switchboard/internal/messenger/ok/oktest"
	"github.com/switchboard-hq/switchboard/internal/messenger/platformtest"
)

const (
	token  = "tkn1TestToken_0123456789abcdef:CQABPOJKAKEKEKEKE"
	secret = "3f9c2b7e5d1a4c8b9e6f0a1b2c3d4e5f"
	chat   = "chat:C3ecb9d0fake01"
	user   = "Тест Клиентов"
	prof   = "https://ok.ru/profile/910000000001"
)

func account() messenger.Account {
	return messenger.Account{
		ChannelID: 42,
		Public:    map[string]string{"group_id": oktest.GroupID, "group_name": oktest.GroupName},
		Secrets:   map[string]string{"access_token": token, "webhook_secret": secret},
	}
}

func inbound(mid string, ms int64, text string, files ...messenger.FileRef) []messenger.Update {
	return []messenger.Update{{Kind: messenger.Message, Message: &messenger.Inbound{
		ExternalID: mid, SenderID: chat, SenderName: user, ProfileURL: prof,
		Text: text, Files: files, SentAt: time.UnixMilli(ms).UTC(),
	}}}
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

// webhooks are the webhook fixtures and what they parse to: all of them,
// since FuzzParse seeds with them.
var webhooks = platformtest.Golden{
	"message_text.json": inbound("mid:C3ecb9d0fake01.15cea67d78d2059", 1718000000123, "Добрый день, где мой заказ 1042?"),
	"message_image.json": inbound("mid:C3ecb9d0fake01.15cea67d78d2100", 1718000060456, "",
		messenger.FileRef{ID: "https://i.mycdn.example.test/image?id=900000001&t=fake", Filename: "image-900000001"}),
	"message_file.json": inbound("mid:C3ecb9d0fake01.15cea67d78d2300", 1718000180000, "",
		messenger.FileRef{ID: "https://dfs.mycdn.example.test/file?id=910000000777&t=fake", Filename: "invoice-1042.pdf", Size: 52344}),
	// The shared link is the text already: not repeated.
	"message_share.json": inbound("mid:C3ecb9d0fake01.15cea67d78d2200", 1718000120789, "https://shop.example.test/orders/1042"),
	"message_location.json": inbound("mid:C3ecb9d0fake01.15cea67d78d2400", 1718000240000,
		"📍 55.751244,37.618423\nhttps://www.google.com/maps/search/?api=1&query=55.751244,37.618423"),
	"message_callback.json": {{Kind: messenger.Ignored,
		Reason: "inline button press (MESSAGE_CALLBACK): Switchboard sends no buttons"}},
	"chat_system.json": {{Kind: messenger.Ignored,
		Reason: "chat system event (CHAT_SYSTEM), not a client message"}},
}

func TestParseFixtures(t *testing.T) {
	platformtest.NewParser(ok.New("", nil), account()).Match(t, webhooks)
}

// event is a MESSAGE_CREATED body with message fields msg (JSON members).
func event(msg string) []byte {
	return []byte(`{"webhookType":"MESSAGE_CREATED","sender":{"user_id":"user:910000000001","name":"Тест Клиентов"},` +
		`"recipient":{"chat_id":"chat:C3ecb9d0fake01"},"message":{"mid":"mid:X.1","seq":98211023614189661` + msg + `},"timestamp":1718000000123}`)
}

// unnamed checks that a message names no sender: the framework asks Profile.
func unnamed(t *testing.T, u messenger.Update) {
	if u.Message.SenderName != "" {
		t.Errorf("sender name %q", u.Message.SenderName)
	}
}

func TestParseOtherShapes(t *testing.T) {
	idAndName := func(f messenger.FileRef) string { return f.ID + " " + f.Filename }
	platformtest.NewParser(ok.New("", nil), account()).Cases(t, idAndName, []platformtest.Case{
		{Name: "the 2017 example: no webhookType, no name",
			Body: `{"sender":{"user_id":"user:123456789012"},"recipient":{"chat_id":"chat:C3ecb9d02a600"},"message":{"text":"text","seq":98211023614189660,"mid":"mid:C3ecb9d02a600.15cea67d78d2059"},"timestamp":1498581292941}`,
			Kind: messenger.Message, Text: "text", ID: "mid:C3ecb9d02a600.15cea67d78d2059", Check: unnamed},
		{Name: "no mid: chat and exact seq", Body: `{"webhookType":"MESSAGE_CREATED","recipient":{"chat_id":"chat:C1"},"message":{"text":"x","seq":98211023614189661}}`,
			Kind: messenger.Message, Text: "x", ID: "chat:C1:98211023614189661", Check: unnamed},
		{Name: "seq as a string", Body: `{"webhookType":"MESSAGE_CREATED","recipient":{"chat_id":"chat:C1"},"message":{"text":"x","seq":"9223372036854775807"}}`,
			Kind: messenger.Message, Text: "x", ID: "chat:C1:9223372036854775807", Check: unnamed},
		{Name: "unknown attachment", Body: string(event(`,"text":"look","attachments":[{"type":"POLL","payload":{}}]`)),
			Kind: messenger.Message, Text: "look\n[unsupported message type: POLL]"},
		{Name: "attachment without type", Body: string(event(`,"attachments":[{"payload":{}}]`)),
			Kind: messenger.Message, Text: "[unsupported message type]"},
		{Name: "video without url", Body: string(event(`,"attachments":[{"type":"VIDEO","payload":{"id":"1"}}]`)),
			Kind: messenger.Message, Text: "[OK attachment VIDEO]"},
		{Name: "video and audio", Body: string(event(`,"attachments":[{"type":"VIDEO","payload":{"url":"https://vd.mycdn.me/v?id=7"}},{"type":"AUDIO","payload":{"url":"https://a.mycdn.me/a"}}]`)),
			Kind: messenger.Message, Files: []string{"https://vd.mycdn.me/v?id=7 video-7", "https://a.mycdn.me/a audio-2"}},
		{Name: "sticker", Body: string(event(`,"attachments":[{"type":"STICKER","payload":{"url":"https://i.mycdn.me/s?id=5"}}]`)),
			Kind: messenger.Message, Text: "[sticker]", Files: []string{"https://i.mycdn.me/s?id=5 sticker-5"}},
		{Name: "sticker without url", Body: string(event(`,"attachments":[{"type":"STICKER","payload":{"code":"x"}}]`)),
			Kind: messenger.Message, Text: "[sticker]"},
		{Name: "contact", Body: string(event(`,"attachments":[{"type":"CONTACT","payload":{"name":"Bob Courier","phone":"+79990000000"}}]`)),
			Kind: messenger.Message, Text: "👤 Bob Courier, +79990000000"},
		{Name: "contact unknown shape", Body: string(event(`,"attachments":[{"type":"CONTACT","payload":{"x":1}}]`)),
			Kind: messenger.Message, Text: "[OK attachment CONTACT]"},
		{Name: "keyboard dropped", Body: string(event(`,"text":"hi","attachments":[{"type":"INLINE_KEYBOARD","payload":{}}]`)),
			Kind: messenger.Message, Text: "hi"},
		{Name: "share not in the text", Body: string(event(`,"text":"see","attachments":[{"type":"SHARE","payload":{"url":"https://x.example/a"}}]`)),
			Kind: messenger.Message, Text: "see\nhttps://x.example/a"},
		{Name: "bad location", Body: string(event(`,"attachments":[{"type":"LOCATION","payload":{"latitude":"north","longitude":1}}]`)),
			Kind: messenger.Message, Text: "[OK attachment LOCATION]"},
		{Name: "file name with a path", Body: string(event(`,"attachments":[{"type":"FILE","payload":{"url":"https://dfs.mycdn.me/f","name":"../../etc/passwd"}}]`)),
			Kind: messenger.Message, Files: []string{"https://dfs.mycdn.me/f passwd"}},
		{Name: "file url not http", Body: string(event(`,"attachments":[{"type":"FILE","payload":{"url":"file:///etc/passwd"}}]`)),
			Kind: messenger.Message, Text: "[OK attachment FILE]"},
		{Name: "present", Body: string(event(`,"attachments":[{"type":"PRESENT","payload":{}}]`)),
			Kind: messenger.Message, Text: "[OK attachment PRESENT]"},
		{Name: "the group's own message", Body: `{"webhookType":"MESSAGE_CREATED","sender":{"user_id":"group:570000000000001"},"recipient":{"chat_id":"chat:C1"},"message":{"text":"x","mid":"mid:1"}}`,
			Kind: messenger.Ignored, Reason: "echo"},
		{Name: "no chat", Body: `{"webhookType":"MESSAGE_CREATED","sender":{"user_id":"user:1"},"message":{"text":"x","mid":"mid:1"}}`,
			Kind: messenger.Ignored, Reason: "chat_id"},
		{Name: "chat id with a path", Body: `{"webhookType":"MESSAGE_CREATED","recipient":{"chat_id":"chat:../x?y"},"message":{"text":"x","mid":"mid:1"}}`,
			Kind: messenger.Ignored, Reason: "chat_id"},
		{Name: "no ids", Body: `{"webhookType":"MESSAGE_CREATED","recipient":{"chat_id":"chat:C1"},"message":{"text":"x","seq":1.5}}`,
			Kind: messenger.Ignored, Reason: "without mid or seq"},
		{Name: "created without message", Body: `{"webhookType":"MESSAGE_CREATED","recipient":{"chat_id":"chat:C1"}}`,
			Kind: messenger.Ignored, Reason: "without a message"},
		{Name: "other type", Body: `{"webhookType":"CHAT_TITLE_CHANGED","recipient":{"chat_id":"chat:C1"}}`,
			Kind: messenger.Ignored, Reason: "CHAT_TITLE_CHANGED events"},
		{Name: "untyped event without message", Body: `{"recipient":{"chat_id":"chat:C1"},"timestamp":1}`,
			Kind: messenger.Ignored, Reason: "without a message"},
	})
}

func TestParseRejectsWhatIsNotAnEvent(t *testing.T) {
	p := ok.New("", nil)
	for _, body := range []string{``, `not json`, `null`, `[]`, `"x"`, `1`, `{}`, `{"foo":1}`, `{"message":null}`} {
		if got, err := p.Parse(account(), []byte(body)); err == nil || got != nil {
			t.Errorf("Parse(%q) = %s, %v; want an error (the webhook answers 400)", body, platformtest.Dump(got...), err)
		}
	}
	if _, err := p.Parse(account(), bytes.Repeat([]byte(" "), 5<<20)); err == nil {
		t.Error("a huge body parsed")
	}
}

// ---------------------------------------------------------------- Verify

func TestVerify(t *testing.T) {
	// OK signs nothing: the secret segment of the webhook URL is checked.
	platformtest.SecretHeader(t, ok.New("", nil), account(), messenger.PathSecretHeader, "webhook_secret",
		platformtest.Fixture(t, "message_text.json"))
}

// ---------------------------------------------------------------- Send

func TestSendTextMatchesFixture(t *testing.T) {
	srv := platformtest.Record(t, platformtest.Fixture(t, "send_response_ok.json"))
	p := ok.New(srv.URL+"/graph/", srv.Client())
	id, err := p.Send(t.Context(), account(), chat, messenger.Outgoing{Text: "Здравствуйте! Проверяем заказ 1042.", Key: "7"})
	if err != nil {
		t.Fatal(err)
	}
	if id != "mid:C3ecb9d0fake01.15cea67d78d3000" {
		t.Errorf("id %q", id)
	}
	r, got := srv.Last()
	platformtest.JSONEqual(t, got, platformtest.Fixture(t, "send_request_text.json"))
	if r.Method != http.MethodPost || r.URL.EscapedPath() != "/graph/me/messages/chat:C3ecb9d0fake01" ||
		r.URL.Query().Get("access_token") != token || r.Header.Get("Content-Type") != "application/json;charset=utf-8" {
		t.Errorf("%s %s (%s)", r.Method, r.URL.EscapedPath(), r.Header.Get("Content-Type"))
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
	platformtest.JSONEqual(t, sent[0].Body, platformtest.Fixture(t, "send_request_file.json"))
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
		{"expired token (fixture)", func(f *oktest.Fake) {
			f.FailNextSends(1, 200, string(platformtest.Fixture(t, "send_response_error.json")))
		}, "",
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
			se := platformtest.SendError(t, err)
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
			platformtest.NoSecret(t, err, account(), tt.token)
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
			platformtest.NoSecret(t, err, account())
			if tt.want == (messenger.SendError{}) {
				if err != nil || id != tt.id {
					t.Errorf("id %q, error %v; want %q", id, err, tt.id)
				}
				return
			}
			se := platformtest.SendError(t, err)
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
	p := ok.New(platformtest.DeadURL(t), nil)
	_, err := p.Send(t.Context(), account(), chat, messenger.Outgoing{Text: "hello"})
	if err == nil {
		t.Fatal("no error")
	}
	if se := messenger.AsSendError(err); se != nil && se.Permanent {
		t.Errorf("a network error is permanent: %v", err)
	}
	platformtest.NoSecret(t, err, account())

	_, p2 := newFake(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = p2.Send(ctx, account(), chat, messenger.Outgoing{Text: "x"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v does not say the context was cancelled", err)
	}
	platformtest.NoSecret(t, err, account())
}

func TestSendConcurrent(t *testing.T) {
	fake, p := newFake(t)
	platformtest.SendConcurrently(t, 8, func(i int) (string, error) {
		f := messenger.File{Filename: fmt.Sprintf("%d.txt", i), ContentType: "text/plain", Data: []byte("x")}
		return p.Send(context.Background(), account(), chat, messenger.Outgoing{Text: fmt.Sprint(i), Files: []messenger.File{f}})
	})
	// Each reply is a text and a file: two messages.
	ids := map[string]bool{}
	for _, s := range fake.Sent() {
		ids[s.MessageID] = true
	}
	if len(fake.Sent()) != 16 || len(ids) != 16 {
		t.Errorf("sent %d, %d ids", len(fake.Sent()), len(ids))
	}
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
			_, _ = w.Write(platformtest.Fixture(t, "subscribe_response.json"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	acc, err := ok.New(srv.URL, nil).Connect(t.Context(), account(), "https://switchboard.example.test/hooks/ok/42")
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Replace(platformtest.Fixture(t, "subscribe_request.json"), []byte("3f9c2b7e5d1a4c8b9e6f0a1b2c3d4e5f"), []byte(acc.Secrets["webhook_secret"]), 1)
	platformtest.JSONEqual(t, got, want)
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
			platformtest.NoSecret(t, err, account(), tt.token)
			if subs := fake.Subscriptions(); len(subs) != 0 {
				t.Errorf("subscribed %v although Connect failed", subs)
			}
		})
	}
}

func TestConnectUnreachable(t *testing.T) {
	_, err := ok.New(platformtest.DeadURL(t), nil).Connect(t.Context(), account(), "https://x.example/hooks/ok/1")
	if !errors.Is(err, errs.ErrUnavailable) || !strings.Contains(err.Error(), "cannot reach OK") {
		t.Fatalf("error %v", err)
	}
	platformtest.NoSecret(t, err, account())
	_, err = ok.New(platformtest.DeadURL(t), nil).Connect(t.Context(), account(), "not a url")
	if !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("bad hook URL: %v", err)
	}
}

// TestWebhookRoundTrip plays both sides: Switchboard's route
// /hooks/ok/{id}/{secret} passes the secret segment in PathSecretHeader; the
// fake delivers to the URL Connect subscribed.
func TestWebhookRoundTrip(t *testing.T) {
	fake, p := newFake(t)
	hook := platformtest.NewHook(t, p, messenger.Account{})
	read := platformtest.ReadResponse(t)
	hookURL := hook.URL + "/hooks/ok/42"
	connected, err := p.Connect(t.Context(), fake.Account(), hookURL)
	if err != nil {
		t.Fatal(err)
	}
	hook.SetAccount(connected)

	mid, text := fake.Text(oktest.ChatID, oktest.UserID, "", "Hello / привет")
	data := []byte("%PDF-1.4 invoice")
	fileMid, file := fake.File(oktest.ChatID, oktest.UserID, oktest.UserName, fake.AddMedia("application/pdf", data), "invoice.pdf", len(data))
	for _, body := range [][]byte{oktest.Fixture("message_text.json"), text, file} {
		if code, _ := read(fake.Deliver(t.Context(), hookURL, body)); code != http.StatusOK {
			t.Fatalf("webhook answered %d", code)
		}
	}
	// A caller who does not know the secret.
	for _, u := range []string{hookURL, hookURL + "/" + strings.Repeat("0", 64)} {
		if code, _ := read(http.Post(u, "application/json", bytes.NewReader(text))); code != http.StatusUnauthorized {
			t.Errorf("%s without the secret: %d", u, code)
		}
	}

	got := hook.Updates()
	if len(got) != 3 || got[0].Message == nil || got[0].Message.ExternalID != "mid:C3ecb9d0fake01.15cea67d78d2059" {
		t.Fatalf("delivered %s", platformtest.Dump(got...))
	}
	if m := got[1].Message; m == nil || m.ExternalID != mid || m.Text != "Hello / привет" || m.SenderName != "" || m.SenderID != oktest.ChatID {
		t.Errorf("text %s", platformtest.Dump(got[1:2]...))
	}
	m := got[2].Message
	if m == nil || m.ExternalID != fileMid || len(m.Files) != 1 {
		t.Fatalf("file %s", platformtest.Dump(got[2:]...))
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
	foreign := platformtest.Foreign(t)
	fake, p := newFake(t)

	// The fixtures' CDN hosts are not OK's: not fetched.
	us, err := p.Parse(account(), platformtest.Fixture(t, "message_image.json"))
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
}

func TestMediaHostAllowed(t *testing.T) {
	p := ok.New("http://127.0.0.1:8080/graph", nil)
	platformtest.AllowedHosts(t, func(u *url.URL) bool { return ok.MediaHostAllowed(p, u.String()) }, map[string]bool{
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
	})
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
	platformtest.Redacted(t, err, account())
	acc, err := p.Connect(t.Context(), account(), "https://x.example/hooks/ok/1")
	if err == nil {
		t.Fatalf("connected: %+v", acc)
	}
	platformtest.NoSecret(t, err, account())
}

// ---------------------------------------------------------------- fuzz

func FuzzParse(f *testing.F) {
	platformtest.NewParser(ok.New("", nil), account()).Fuzz(f, platformtest.Rules{
		Kinds:    []messenger.UpdateKind{messenger.Message, messenger.Ignored},
		NotEmpty: true,
	}, webhooks.Files(),
		event(`,"attachments":[{"type":"FILE","payload":{"url":"https://dfs.mycdn.me/f","name":"a\\b"}}]`),
		event(`,"attachments":[{"type":"LOCATION","payload":{"latitude":1e400,"longitude":0}}]`),
		[]byte(`{"recipient":{"chat_id":"chat:C"},"message":{"seq":"-1"}}`))
}
