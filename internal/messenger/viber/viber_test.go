package viber

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/messenger"
	"github.com/switchboard-hq/switchboard/internal/messenger/platformtest"
	"github.com/switchboard-hq/switchboard/internal/messenger/viber/vibertest"
)

const (
	// token is SIGNING.md's fake token; signingHex its header for message_text.json.
	token      = "4ab1c0ffee000000-TESTTOKEN0000000-0000000000000001"
	signingHex = "5c6e4b62b2318d878dbe2c05639b391b49c5caea20887fea94b54d6576c58e17"
	customer   = "TESTuserAAAAAAAAAAAAAA=="
	customerNm = "Test Customer"
)

func account() messenger.Account {
	return messenger.Account{
		ChannelID: 5,
		Public: map[string]string{
			FieldSenderName:   "Support",
			FieldSenderAvatar: "https://switchboard.example.test/avatars/support.png",
			FieldBotName:      vibertest.BotName,
		},
		Secrets: map[string]string{FieldToken: token},
	}
}

func TestKindAndFields(t *testing.T) {
	v := New("", nil)
	if v.Kind() != cv.Viber {
		t.Errorf("Kind() = %q", v.Kind())
	}
	if v.base != DefaultBaseURL || DefaultBaseURL != "https://chatapi.viber.com/pa" {
		t.Errorf("base = %q", v.base)
	}
	want := map[string][2]bool{ // secret, required
		FieldToken: {true, true}, FieldSenderName: {false, false}, FieldSenderAvatar: {false, false},
	}
	fields := v.Fields()
	if len(fields) != len(want) {
		t.Fatalf("Fields() = %+v", fields)
	}
	for _, f := range fields {
		w, ok := want[f.Name]
		if !ok || f.Secret != w[0] || f.Required != w[1] || f.Label == "" || f.Help == "" {
			t.Errorf("field %+v", f)
		}
	}
	if body, ok := v.Handshake(account(), url.Values{"hub.challenge": {"x"}}); ok || body != "" {
		t.Errorf("Handshake() = %q, %v; Viber has none", body, ok)
	}
	if New("not a url", nil).base != "https://invalid.invalid" {
		t.Error("a bad base URL is used")
	}
}

// ---------------------------------------------------------------- Parse

func message(id, text string, ms int64, files ...messenger.FileRef) []messenger.Update {
	return []messenger.Update{{Kind: messenger.Message, Message: &messenger.Inbound{
		ExternalID: id, SenderID: customer, SenderName: customerNm, Text: text, Files: files,
		SentAt: time.UnixMilli(ms).UTC(),
	}}}
}

// callbacks are the callback fixtures and what they parse to.
var callbacks = platformtest.Golden{
	"message_text.json": message("5710000000000000001", "Hello, my order #1042 has not arrived yet.", 1718000000123),
	"message_picture.json": message("5710000000000000002", "This is the damaged box", 1718000060456, messenger.FileRef{
		ID:       "https://dl-media.viber.example.test/media/photo-0001.jpg?Expires=1718086400&Signature=FAKE",
		Filename: "photo-0001.jpg", ContentType: "image/jpeg", Size: 184213}),
	"message_file.json": message("5710000000000000003", "", 1718000120789, messenger.FileRef{
		ID:       "https://dl-media.viber.example.test/media/invoice-1042.pdf?Expires=1718086400&Signature=FAKE",
		Filename: "invoice-1042.pdf", ContentType: "application/pdf", Size: 52344}),
	"message_video.json": message("5710000000000000004", "", 1718000150000, messenger.FileRef{
		ID:       "https://dl-media.viber.example.test/media/clip-0001.mp4?Expires=1718086400&Signature=FAKE",
		Filename: "video-5710000000000000004.mp4", ContentType: "video/mp4", Size: 2048000}),
	"message_location.json": message("5710000000000000005",
		"📍 51.50735,-0.12776\nhttps://www.google.com/maps/search/?api=1&query=51.50735,-0.12776", 1718000180000),
	"message_contact.json": message("5710000000000000006", "👤 Warehouse Desk, +440000000000", 1718000210000),
	"message_sticker.json": message("5710000000000000007", "[sticker]", 1718000240000, messenger.FileRef{
		ID: "https://content.viber.example.test/stickers/46105.png", Filename: "sticker-46105.png", ContentType: "image/png"}),
	"delivered.json": {{Kind: messenger.Status,
		Status: &messenger.DeliveryStatus{ExternalID: "5720000000000000001", State: messenger.Delivered}}},
	"seen.json": {{Kind: messenger.Status,
		Status: &messenger.DeliveryStatus{ExternalID: "5720000000000000001", State: messenger.Read}}},
	"failed.json": {{Kind: messenger.Status,
		Status: &messenger.DeliveryStatus{ExternalID: "5720000000000000002", State: messenger.Failed, Error: "failure description"}}},
	"subscribed.json": {{Kind: messenger.Ignored, Reason: "the client subscribed to the bot"}},
	"unsubscribed.json": {{Kind: messenger.Ignored,
		Reason: "the client unsubscribed: Viber refuses replies until they write again"}},
	"webhook_check.json": {{Kind: messenger.Ignored, Reason: "Viber's webhook check"}},
}

func TestParseFixtures(t *testing.T) {
	platformtest.NewParser(New("", nil), account()).Match(t, callbacks)
	// The other fixtures are the API's answers.
	for _, name := range platformtest.Glob(t, "*.json") {
		if _, ok := callbacks[name]; !ok && !strings.HasPrefix(name, "send_message_") && !strings.HasPrefix(name, "get_user_details") {
			t.Errorf("callback fixture %s is not in the table", name)
		}
	}
}

// msg is a "message" callback from the customer with the message object m.
func msg(m string) []byte {
	return []byte(`{"event":"message","timestamp":1718000000000,"message_token":5710000000000000099,` +
		`"sender":{"id":"TESTuserAAAAAAAAAAAAAA==","name":"Test Customer"},"message":` + m + `}`)
}

func TestParseOtherShapes(t *testing.T) {
	platformtest.NewParser(New("", nil), account()).Cases(t, platformtest.NameAndType, []platformtest.Case{
		{Name: "rich media", Body: string(msg(`{"type":"rich_media","rich_media":{"Type":"rich_media"}}`)),
			Kind: messenger.Message, Text: "[unsupported message type: rich_media]"},
		{Name: "future type with text", Body: string(msg(`{"type":"poll","text":"Which one?"}`)),
			Kind: messenger.Message, Text: "[unsupported message type: poll]\nWhich one?"},
		{Name: "no type", Body: string(msg(`{"text":"x"}`)),
			Kind: messenger.Message, Text: "[unsupported message type]\nx"},
		{Name: "no message object", Body: `{"event":"message","message_token":1,"sender":{"id":"u="}}`,
			Kind: messenger.Message, Text: "[unsupported message type]"},
		{Name: "picture without media", Body: string(msg(`{"type":"picture","text":"look"}`)),
			Kind: messenger.Message, Text: "[unsupported message type: picture]\nlook"},
		{Name: "url", Body: string(msg(`{"type":"url","media":"https://shop.example/item/1"}`)),
			Kind: messenger.Message, Text: "https://shop.example/item/1"},
		{Name: "location out of range", Body: string(msg(`{"type":"location","location":{"lat":91,"lon":0}}`)),
			Kind: messenger.Message, Text: "[unsupported message type: location]"},
		{Name: "location as strings with exponent", Body: string(msg(`{"type":"location","location":{"lat":"1e1","lon":-2.5}}`)),
			Kind: messenger.Message, Text: "📍 10,-2.5\nhttps://www.google.com/maps/search/?api=1&query=10,-2.5"},
		{Name: "contact without name", Body: string(msg(`{"type":"contact","contact":{"phone_number":"+1555"}}`)),
			Kind: messenger.Message, Text: "👤 +1555"},
		{Name: "sticker without media", Body: string(msg(`{"type":"sticker","sticker_id":1}`)),
			Kind: messenger.Message, Text: "[sticker]"},
		{Name: "file name with a path", Body: string(msg(`{"type":"file","media":"https://dl-media.viber.com/x","file_name":"..\\..\\etc/pass\u0000wd.txt","size":3}`)),
			Kind: messenger.Message, Files: []string{"passwd.txt text/plain"}},
		{Name: "file without a name", Body: string(msg(`{"type":"file","media":"https://dl-media.viber.com/x/y"}`)),
			Kind: messenger.Message, Files: []string{"file-5710000000000000099 application/octet-stream"}},
		{Name: "picture png without a name", Body: string(msg(`{"type":"picture","text":"","media":"https://dl-media.viber.com/a/b.png?x=1"}`)),
			Kind: messenger.Message, Files: []string{"picture-5710000000000000099.png image/png"}},
		{Name: "voice, undocumented", Body: string(msg(`{"type":"audio","media":"https://dl-media.viber.com/v.m4a"}`)),
			Kind: messenger.Message, Files: []string{"audio-5710000000000000099.m4a audio/mp4"}},
		{Name: "media that is not a link", Body: string(msg(`{"type":"video","media":"javascript:alert(1)"}`)),
			Kind: messenger.Message, Text: "[unsupported message type: video]"},
		{Name: "token above 2^53 stays exact", Body: `{"event":"message","message_token":9007199254740993,"sender":{"id":"u="},"message":{"type":"text","text":"x"}}`,
			Kind: messenger.Message, Text: "x", ID: "9007199254740993"},
		{Name: "token as a string", Body: `{"event":"message","message_token":"5710000000000000123","sender":{"id":"u="},"message":{"type":"text","text":"x"}}`,
			Kind: messenger.Message, Text: "x", ID: "5710000000000000123"},
		{Name: "token as a float", Body: `{"event":"message","message_token":5.71e18,"sender":{"id":"u="},"message":{"type":"text","text":"x"}}`,
			Kind: messenger.Ignored, Reason: "without a message_token"},
		{Name: "no token", Body: `{"event":"message","sender":{"id":"u="},"message":{"type":"text","text":"x"}}`,
			Kind: messenger.Ignored, Reason: "without a message_token"},
		{Name: "no sender", Body: `{"event":"message","message_token":1,"message":{"type":"text","text":"x"}}`,
			Kind: messenger.Ignored, Reason: "without a valid sender id"},
		{Name: "status without token", Body: `{"event":"seen","user_id":"u="}`,
			Kind: messenger.Ignored, Reason: "seen callback without a message_token"},
		{Name: "failed without desc", Body: `{"event":"failed","message_token":7}`,
			Kind: messenger.Status, Check: func(t *testing.T, u messenger.Update) {
				if s := u.Status; s.State != messenger.Failed || s.Error != "Viber could not deliver the message" || s.ExternalID != "7" {
					t.Errorf("status %+v", s)
				}
			}},
		{Name: "conversation started", Body: `{"event":"conversation_started","timestamp":1,"message_token":4,"type":"open","context":"","user":{"id":"u=","name":"A"},"subscribed":false}`,
			Kind: messenger.Ignored, Reason: "conversation_started"},
		{Name: "client status", Body: `{"event":"client_status","timestamp":1}`,
			Kind: messenger.Ignored, Reason: `event "client_status" is not helpdesk traffic`},
	})
}

func TestParseRejectsWhatIsNotACallback(t *testing.T) {
	v := New("", nil)
	for _, b := range []string{``, `nope`, `[]`, `{}`, `{"event":""}`, `{"event":null}`, `"message"`} {
		if us, err := v.Parse(account(), []byte(b)); !errors.Is(err, ErrNotViber) || us != nil {
			t.Errorf("%q: %v %v", b, us, err)
		}
	}
	big := append([]byte(`{"event":"message","x":"`), bytes.Repeat([]byte("a"), maxUpdate)...)
	if _, err := v.Parse(account(), append(big, `"}`...)); !errors.Is(err, ErrNotViber) {
		t.Errorf("too large: %v", err)
	}
}

// ---------------------------------------------------------------- Verify

func TestVerifySigning(t *testing.T) {
	platformtest.Signature{
		Platform: New("", nil), Account: account(), Secret: FieldToken, Header: SignatureHeader,
		Fixture: "message_text.json", Size: 452, Hex: signingHex,
		ErrNo: ErrNoSignature, ErrBad: ErrBadSignature, Sign: vibertest.Sign,
	}.Check(t)
}

// ---------------------------------------------------------------- Send

func TestSendTextMatchesFixture(t *testing.T) {
	srv := platformtest.Record(t, platformtest.Fixture(t, "send_message_response_ok.json"))
	v := New(srv.URL+"/pa", srv.Client())
	id, err := v.Send(context.Background(), account(), customer, messenger.Outgoing{Text: "Hi! We are checking order #1042 now.", Key: "41"})
	if err != nil {
		t.Fatal(err)
	}
	if id != "5720000000000000001" {
		t.Errorf("id = %q (a message_token above 2^53 must stay exact)", id)
	}
	r, got := srv.Last()
	if r.Header.Get(AuthHeader) != token || r.URL.Path != "/pa/send_message" || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("%s %s", r.URL, r.Header)
	}
	platformtest.JSONEqual(t, got, platformtest.Fixture(t, "send_message_request.json"))
}

func TestSendSender(t *testing.T) {
	fake := vibertest.New(t, token)
	v := New(fake.URL, nil)
	acc := account()
	acc.Public = map[string]string{FieldBotName: "A very long bot name of more than 28 characters", FieldBotIcon: vibertest.BotIcon}
	if _, err := v.Send(context.Background(), acc, customer, messenger.Outgoing{Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	acc.Public = map[string]string{FieldSenderAvatar: "http://insecure.example/a.png"}
	if _, err := v.Send(context.Background(), acc, customer, messenger.Outgoing{Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	sent := fake.Sent()
	if sent[0].SenderName != "A very long bot name of more" || sent[0].SenderAvatar != vibertest.BotIcon || sent[0].MinAPIVersion != 1 {
		t.Errorf("bot's own sender: %+v", sent[0])
	}
	if sent[1].SenderName != "Support" || sent[1].SenderAvatar != "" {
		t.Errorf("fallback sender: %+v", sent[1])
	}
}

func TestSendSplitsLongText(t *testing.T) {
	fake := vibertest.New(t, token)
	v := New(fake.URL, nil)
	para := strings.Repeat("ä", 5000)
	text := para + "\n" + para + " " + strings.Repeat("😀", 4000)
	id, err := v.Send(context.Background(), account(), customer, messenger.Outgoing{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	sent := fake.Sent()
	if len(sent) != 4 || id != sent[0].MessageToken {
		t.Fatalf("sent %d messages, id %q", len(sent), id)
	}
	var joined string
	for _, s := range sent {
		if n := len(utf16.Encode([]rune(s.Text))); n > MaxText || s.Type != "text" || s.Receiver != customer || len(s.Body) > 30*1024 {
			t.Errorf("part of %d units, %d bytes: %s", n, len(s.Body), s.Type)
		}
		joined += s.Text
	}
	if sent[0].Text != para || sent[1].Text != para {
		t.Error("did not cut at the line break and the space")
	}
	if joined != strings.NewReplacer("\n", "", " ", "").Replace(text) {
		t.Error("text lost in splitting")
	}
}

func TestSplitText(t *testing.T) {
	for _, tt := range []struct {
		in           string
		units, bytes int
		want         []string
	}{
		{"", 5, 100, nil},
		{" \n ", 5, 100, nil},
		{"abc", 5, 100, []string{"abc"}},
		{"abcdefghij", 5, 100, []string{"abcde", "fghij"}},
		{"abc defghij", 5, 100, []string{"abc", "defgh", "ij"}},
		{"a bcdefghij", 5, 100, []string{"a bcd", "efghi", "j"}}, // space too early: hard cut
		{"😀😀😀", 4, 100, []string{"😀😀", "😀"}},                     // two UTF-16 units each
		{`""""""`, 100, 6, []string{`"""`, `"""`}},               // escaped in JSON: two bytes each
		{"\x01\x01\x01", 100, 12, []string{"\x01\x01", "\x01"}},
	} {
		if got := splitText(tt.in, tt.units, tt.bytes); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitText(%q, %d, %d) = %q, want %q", tt.in, tt.units, tt.bytes, got, tt.want)
		}
	}
}

func TestSendErrors(t *testing.T) {
	tests := []struct {
		name   string
		script func(*vibertest.Fake)
		token  string
		want   messenger.SendError
	}{
		{"not subscribed", func(f *vibertest.Fake) { f.FailNextSends(1, 200, vibertest.ErrorNotSubscribed) }, "",
			messenger.SendError{Permanent: true, Reason: NotSubscribedReason}},
		{"unsubscribed by event", func(f *vibertest.Fake) { f.Unsubscribe(customer) }, "",
			messenger.SendError{Permanent: true, Reason: NotSubscribedReason}},
		{"too many requests", func(f *vibertest.Fake) { f.FailNextSends(1, 200, vibertest.ErrorTooManyRequests) }, "",
			messenger.SendError{RetryAfter: tooManyWait, Reason: "Viber's rate limit (at most 100 messages an hour to a client who has not replied): status 12: Too many requests"}},
		{"revoked token", func(*vibertest.Fake) {}, "4ab1c0ffee000000-REVOKED",
			messenger.SendError{Permanent: true, Broken: true, Reason: "Viber no longer accepts the bot's token: reconnect the channel"}},
		{"Viber down", func(f *vibertest.Fake) { f.SetDown(true) }, "",
			messenger.SendError{Reason: "Viber is unavailable (HTTP 502 Bad Gateway)"}},
		{"server error", func(f *vibertest.Fake) { f.FailNextSends(1, 500, "") }, "",
			messenger.SendError{Reason: "Viber is unavailable (HTTP 500 Internal Server Error)"}},
		{"receiver not registered", func(f *vibertest.Fake) {
			f.FailNextSends(1, 200, `{"status":5,"status_message":"receiverNotRegistered"}`)
		}, "",
			messenger.SendError{Permanent: true, Reason: "The client is no longer registered on Viber"}},
		{"bot suspended", func(f *vibertest.Fake) {
			f.FailNextSends(1, 200, `{"status":9,"status_message":"publicAccountSuspended"}`)
		}, "",
			messenger.SendError{Permanent: true, Broken: true, Reason: "The Viber bot is suspended (status 9: publicAccountSuspended)"}},
		{"no webhook", func(f *vibertest.Fake) { f.FailNextSends(1, 200, `{"status":10,"status_message":"webhookNotSet"}`) }, "",
			messenger.SendError{Permanent: true, Broken: true, Reason: "The Viber bot has no webhook: reconnect the channel"}},
		{"no suitable device", func(f *vibertest.Fake) {
			f.FailNextSends(1, 200, `{"status":11,"status_message":"receiverNoSuitableDevice"}`)
		}, "",
			messenger.SendError{Permanent: true, Reason: "The client has no Viber device that can receive this message"}},
		{"unknown status", func(f *vibertest.Fake) { f.FailNextSends(1, 200, `{"status":99,"status_message":"billingProblem"}`) }, "",
			messenger.SendError{Permanent: true, Reason: "Viber refused the message (status 99: billingProblem)"}},
		{"unreadable answer", func(f *vibertest.Fake) { f.FailNextSends(1, 200, `<html>`) }, "",
			messenger.SendError{Permanent: true, Reason: "Viber's answer could not be read; the message may have been sent (HTTP 200 unreadable answer)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := vibertest.New(t, token)
			tt.script(fake)
			acc := account()
			if tt.token != "" {
				acc.Secrets[FieldToken] = tt.token
			}
			_, err := New(fake.URL, nil).Send(context.Background(), acc, customer, messenger.Outgoing{Text: "hello"})
			se := platformtest.SendError(t, err)
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

func TestSendErrorHTTP(t *testing.T) {
	h := http.Header{"Retry-After": {"30"}}
	se := messenger.AsSendError(sendError(&apiError{method: "send_message", httpStatus: 429, code: -1, message: "Too Many Requests", retryAfter: retryAfter(h)}))
	if se == nil || se.Permanent || se.RetryAfter != 30*time.Second {
		t.Errorf("429: %+v", se)
	}
	se = messenger.AsSendError(sendError(&apiError{method: "send_message", httpStatus: 401, code: -1}))
	if se == nil || !se.Permanent || !se.Broken {
		t.Errorf("401: %+v", se)
	}
	for _, code := range []int{1, 3, 4, 13, 14, 16, 20} {
		if se := messenger.AsSendError(sendError(&apiError{code: code, message: "x"})); se == nil || !se.Permanent || se.Broken {
			t.Errorf("%d: %+v", code, se)
		}
	}
	for _, code := range []int{2, 7, 8, 9, 10, 15} {
		if se := messenger.AsSendError(sendError(&apiError{code: code, message: "x"})); se == nil || !se.Permanent || !se.Broken {
			t.Errorf("%d: %+v", code, se)
		}
	}
}

func TestSendNetworkErrorIsTemporaryAndRedacted(t *testing.T) {
	_, err := New(platformtest.DeadURL(t), nil).Send(context.Background(), account(), customer, messenger.Outgoing{Text: "hello"})
	platformtest.Unreachable(t, err, account())
}

func TestSendRefusesWhatCannotGo(t *testing.T) {
	fake := vibertest.New(t, token)
	v := New(fake.URL, nil)
	noToken := account()
	noToken.Secrets = map[string]string{}
	for name, tc := range map[string]struct {
		acc messenger.Account
		to  string
		m   messenger.Outgoing
	}{
		"empty":         {account(), customer, messenger.Outgoing{Text: " \n "}},
		"no receiver":   {account(), " ", messenger.Outgoing{Text: "x"}},
		"bad receiver":  {account(), "a b", messenger.Outgoing{Text: "x"}},
		"no token":      {noToken, customer, messenger.Outgoing{Text: "x"}},
		"no file links": {account(), customer, messenger.Outgoing{Text: "x", Files: []messenger.File{{Filename: "a.pdf", Data: []byte("%PDF")}}}},
	} {
		_, err := v.Send(context.Background(), tc.acc, tc.to, tc.m)
		se := messenger.AsSendError(err)
		if se == nil || !se.Permanent {
			t.Errorf("%s: %v, want a permanent SendError", name, err)
		}
		if name == "no file links" && se.Reason != NoFileLinksReason {
			t.Errorf("no file links: %q", se.Reason)
		}
		if name == "no token" && !se.Broken {
			t.Errorf("no token: %+v", se)
		}
	}
	if n := len(fake.Sent()); n != 0 {
		t.Errorf("sent %d", n)
	}
}

func jpegBytes() []byte { return []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00 fake jpeg") }

func TestSendFiles(t *testing.T) {
	fake := vibertest.New(t, token)
	var mu sync.Mutex
	var linked []string
	v := New(fake.URL, nil).WithFileLinks(func(_ context.Context, f messenger.File) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		linked = append(linked, f.Filename)
		return "https://switchboard.example.test/files/" + url.PathEscape(f.Filename) + "?sig=x", nil
	})
	ctx := context.Background()
	photo := messenger.File{Filename: "box.jpg", ContentType: "image/jpeg", Data: jpegBytes()}
	pdf := messenger.File{Filename: "label.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.4 label")}
	big := messenger.File{Filename: "big.png", ContentType: "", Data: append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, MaxPicture)...)}

	id, err := v.Send(ctx, account(), customer, messenger.Outgoing{Text: "Your box", Files: []messenger.File{photo}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Send(ctx, account(), customer, messenger.Outgoing{Text: "Two files", Files: []messenger.File{pdf, big}}); err != nil {
		t.Fatal(err)
	}
	type row struct {
		Type, Text, Media, FileName string
		Size                        int64
	}
	var got []row
	for _, s := range fake.Sent() {
		got = append(got, row{s.Type, s.Text, s.Media, s.FileName, s.Size})
	}
	want := []row{
		{"picture", "Your box", "https://switchboard.example.test/files/box.jpg?sig=x", "", 0}, // one picture: the text is its caption
		{"text", "Two files", "", "", 0},
		{"file", "", "https://switchboard.example.test/files/label.pdf?sig=x", "label.pdf", int64(len(pdf.Data))},
		{"file", "", "https://switchboard.example.test/files/big.png?sig=x", "big.png", int64(len(big.Data))}, // too large for a picture
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sent\n%+v\nwant\n%+v", got, want)
	}
	if id != fake.Sent()[0].MessageToken {
		t.Errorf("id %q", id)
	}

	// A link that is not HTTPS, and a file that cannot be published.
	insecure := New(fake.URL, nil).WithFileLinks(func(context.Context, messenger.File) (string, error) { return "http://x.example/f", nil })
	_, err = insecure.Send(ctx, account(), customer, messenger.Outgoing{Text: "x", Files: []messenger.File{pdf}})
	if se := messenger.AsSendError(err); se == nil || !se.Permanent {
		t.Errorf("http link: %v", err)
	}
	failing := New(fake.URL, nil).WithFileLinks(func(context.Context, messenger.File) (string, error) { return "", errors.New("blob store down") })
	_, err = failing.Send(ctx, account(), customer, messenger.Outgoing{Text: "x", Files: []messenger.File{pdf}})
	if err == nil || messenger.AsSendError(err) != nil || !strings.Contains(err.Error(), "blob store down") {
		t.Errorf("link failure: %v", err)
	}
	if n := len(fake.Sent()); n != 4 {
		t.Errorf("sent %d: a reply whose file cannot go sends nothing", n)
	}
}

func TestSendConcurrent(t *testing.T) {
	fake := vibertest.New(t, token)
	v := New(fake.URL, nil)
	platformtest.SendConcurrently(t, 20, func(i int) (string, error) {
		return v.Send(context.Background(), account(), customer, messenger.Outgoing{Text: fmt.Sprint("n", i)})
	})
}

// ---------------------------------------------------------------- Connect

func TestConnectRegistersTheWebhook(t *testing.T) {
	fake := vibertest.New(t, token)
	v := New(fake.URL, nil)
	in := messenger.Account{ChannelID: 3, Public: map[string]string{FieldSenderName: " Support "},
		Secrets: map[string]string{FieldToken: " " + token + "\n"}}
	// The framework stores the credentials before Connect: Viber's check of
	// the webhook verifies with them.
	hook := platformtest.NewHook(t, New("", nil), messenger.Account{Secrets: map[string]string{FieldToken: token}})
	hookURL := hook.URL + "/hooks/viber/3"
	acc, err := v.Connect(context.Background(), in, hookURL)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		FieldSenderName: "Support", FieldSenderAvatar: "",
		FieldAccountID: vibertest.AccountID, FieldBotName: vibertest.BotName, FieldBotURI: vibertest.BotURI,
		FieldBotIcon: vibertest.BotIcon, FieldWebhook: hookURL,
	}
	if !reflect.DeepEqual(acc.Public, want) {
		t.Errorf("Public = %v", acc.Public)
	}
	if acc.Secrets[FieldToken] != token || len(acc.Secrets) != 1 || acc.ChannelID != 3 {
		t.Errorf("account %+v", acc)
	}
	if in.Public[FieldBotName] != "" || in.Secrets[FieldToken] == token {
		t.Error("Connect changed the account it was given")
	}
	u, types := fake.Webhook()
	if u != hookURL || !reflect.DeepEqual(types, EventTypes) {
		t.Errorf("webhook %q %v", u, types)
	}
	if name, photo := fake.SendsNameAndPhoto(); !name || !photo {
		t.Error("set_webhook did not ask for send_name and send_photo")
	}
	if got := hook.Updates(); len(got) != 1 || got[0].Kind != messenger.Ignored || got[0].Reason != "Viber's webhook check" {
		t.Errorf("webhook check: %s", platformtest.Dump(got...))
	}
	if calls := fake.Calls(); !reflect.DeepEqual(calls, []string{"get_account_info", "set_webhook"}) {
		t.Errorf("calls %v", calls)
	}
}

func TestConnectErrors(t *testing.T) {
	tests := []struct {
		name   string
		token  string
		public map[string]string
		script func(*vibertest.Fake)
		hook   string // "": a hook that answers
		kind   error
		field  string
		msg    string
	}{
		{name: "wrong token", token: "4ab1c0ffee000000-WRONG", kind: errs.ErrInvalid, field: FieldToken, msg: "Viber does not accept this token"},
		{name: "empty", token: "  ", kind: errs.ErrInvalid, field: FieldToken, msg: "required"},
		{name: "not a token", token: "abc def", kind: errs.ErrInvalid, field: FieldToken, msg: "does not look like"},
		{name: "bot blocked", token: token, script: func(f *vibertest.Fake) {
			f.FailNext("get_account_info", 1, 200, `{"status":7,"status_message":"publicAccountBlocked"}`)
		}, kind: errs.ErrInvalid, field: FieldToken, msg: "Viber refuses this bot: status 7: publicAccountBlocked"},
		{name: "sender name too long", token: token, public: map[string]string{FieldSenderName: strings.Repeat("x", 29)},
			kind: errs.ErrInvalid, field: FieldSenderName, msg: "at most 28"},
		{name: "sender picture not https", token: token, public: map[string]string{FieldSenderAvatar: "http://x.example/a.png"},
			kind: errs.ErrInvalid, field: FieldSenderAvatar, msg: "https://"},
		{name: "webhook unreachable", token: token, hook: "dead", kind: errs.ErrInvalid, field: FieldWebhook, msg: "Viber could not register the webhook (status 1: "},
		{name: "webhook refused", token: token, script: func(f *vibertest.Fake) {
			f.FailNext("set_webhook", 1, 200, vibertest.ErrorBadWebhook)
		}, kind: errs.ErrInvalid, field: FieldWebhook, msg: "SWITCHBOARD_PUBLIC_URL"},
		{name: "Viber down", token: token, script: func(f *vibertest.Fake) { f.SetDown(true) }, kind: errs.ErrUnavailable, msg: "cannot reach Viber"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := vibertest.New(t, token)
			if tt.script != nil {
				tt.script(fake)
			}
			hook := platformtest.NewHook(t, New("", nil), account()).URL
			if tt.hook == "dead" {
				hook = platformtest.DeadURL(t)
			}
			acc := account()
			acc.Public = map[string]string{}
			for k, val := range tt.public {
				acc.Public[k] = val
			}
			acc.Secrets[FieldToken] = tt.token
			_, err := New(fake.URL, nil).Connect(context.Background(), acc, hook)
			var e *errs.Error
			if !errors.As(err, &e) || !errors.Is(err, tt.kind) || e.Field != tt.field || !strings.Contains(e.Message, tt.msg) {
				t.Fatalf("error %#v, want %v on %q with %q", err, tt.kind, tt.field, tt.msg)
			}
			platformtest.NoSecret(t, err, account(), tt.token)
		})
	}
}

func TestConnectUnreachable(t *testing.T) {
	_, err := New(platformtest.DeadURL(t), nil).Connect(context.Background(), account(), "https://x.example/hook")
	if !errors.Is(err, errs.ErrUnavailable) || !strings.Contains(err.Error(), "cannot reach Viber") {
		t.Fatalf("error %v", err)
	}
	platformtest.NoSecret(t, err, account())
}

// TestWebhookRoundTrip plays Viber's side with the fake: what it delivers
// passes Verify and parses; a wrong signature does not.
func TestWebhookRoundTrip(t *testing.T) {
	fake := vibertest.New(t, token)
	v := New(fake.URL, nil)
	hook := platformtest.NewHook(t, New("", nil), account())
	read := platformtest.ReadResponse(t)
	ctx := context.Background()
	id, err := v.Send(ctx, account(), customer, messenger.Outgoing{Text: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	in, text := fake.Text(customer, "", "hello again")
	bodies := [][]byte{platformtest.Fixture(t, "message_text.json"), text, fake.Status("delivered", id), fake.Status("seen", id), fake.Status("failed", id)}
	for _, b := range bodies {
		if code, _ := read(fake.Deliver(ctx, hook.URL, b)); code != http.StatusOK {
			t.Fatalf("webhook answered %d", code)
		}
	}
	other := vibertest.New(t, "4ab1c0ffee000000-OTHERTOKEN")
	if code, _ := read(other.Deliver(ctx, hook.URL, text)); code != http.StatusUnauthorized {
		t.Errorf("another bot's signature: %d", code)
	}

	got := hook.Updates()
	if len(got) != 5 {
		t.Fatalf("updates %s", platformtest.Dump(got...))
	}
	if m := got[0].Message; m == nil || m.ExternalID != "5710000000000000001" {
		t.Errorf("fixture: %s", platformtest.Dump(got[:1]...))
	}
	if m := got[1].Message; m == nil || m.ExternalID != in || m.Text != "hello again" || m.SenderName != "" || m.SenderID != customer {
		t.Errorf("built text: %s", platformtest.Dump(got[1:2]...))
	}
	for i, state := range []string{messenger.Delivered, messenger.Read, messenger.Failed} {
		if s := got[2+i].Status; s == nil || s.ExternalID != id || s.State != state {
			t.Errorf("status %d: %s", i, platformtest.Dump(got[2+i:3+i]...))
		}
	}
}

// ---------------------------------------------------------------- Fetch

func TestFetch(t *testing.T) {
	fake := vibertest.New(t, token)
	v := New(fake.URL, nil)
	ctx := context.Background()
	data := jpegBytes()
	link := fake.AddMedia("photo-9.jpg", "image/jpeg", data)
	_, body := fake.Picture(customer, customerNm, link, "photo-9.jpg", "the box")
	us, err := v.Parse(account(), body)
	if err != nil || len(us) != 1 || us[0].Message == nil || len(us[0].Message.Files) != 1 {
		t.Fatalf("parse: %v %s", err, platformtest.Dump(us...))
	}
	f, err := v.Fetch(ctx, account(), us[0].Message.Files[0])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.Data, data) || f.Filename != "photo-9.jpg" || f.ContentType != "image/jpeg" {
		t.Errorf("fetched %q %q %d bytes", f.Filename, f.ContentType, len(f.Data))
	}
	// Without names: from the link and the answer.
	pdfLink := fake.AddMedia("doc.pdf", "application/pdf", []byte("%PDF-1.4"))
	f, err = v.Fetch(ctx, account(), messenger.FileRef{ID: pdfLink})
	if err != nil || f.Filename != "doc.pdf" || f.ContentType != "application/pdf" {
		t.Errorf("without names: %+v %v", f, err)
	}
	// An expired link.
	if _, err := v.Fetch(ctx, account(), messenger.FileRef{ID: strings.Replace(link, "photo-9.jpg", "gone.jpg", 1)}); err == nil || !strings.Contains(err.Error(), "HTTP 403") {
		t.Errorf("expired link: %v", err)
	}
	// Too large: announced, and actual.
	if _, err := v.Fetch(ctx, account(), messenger.FileRef{ID: link, Size: messenger.MaxFile + 1}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("announced too large: %v", err)
	}
	hugeLink := fake.AddMedia("huge.bin", "application/octet-stream", make([]byte, messenger.MaxFile+1))
	if _, err := v.Fetch(ctx, account(), messenger.FileRef{ID: hugeLink}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("too large: %v", err)
	}
	// Not a link.
	if _, err := v.Fetch(ctx, account(), messenger.FileRef{ID: "abc"}); err == nil {
		t.Error("fetched a non-link")
	}
}

func TestFetchRefusesOtherHosts(t *testing.T) {
	ctx := context.Background()
	foreign := platformtest.Foreign(t)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, foreign.URL+"/stolen", http.StatusFound)
	}))
	defer api.Close()
	v := New(api.URL+"/pa", nil)

	_, err := v.Fetch(ctx, account(), messenger.FileRef{ID: foreign.URL + "/x.jpg"})
	if !errors.Is(err, ErrHostNotAllowed) {
		t.Errorf("foreign host: %v", err)
	}
	_, err = v.Fetch(ctx, account(), messenger.FileRef{ID: api.URL + "/media/x.jpg"})
	if !errors.Is(err, ErrHostNotAllowed) {
		t.Errorf("redirect to a foreign host: %v", err)
	}
	platformtest.NoSecret(t, err, account())
}

func TestMediaHostAllowed(t *testing.T) {
	v := New("http://127.0.0.1:8080/pa", nil)
	platformtest.AllowedHosts(t, v.mediaHostAllowed, map[string]bool{
		"https://dl-media.viber.com/1/share/2/x.jpg":    true,
		"https://media-direct.cdn.viber.com/download":   true,
		"https://viber.com/x":                           true,
		"https://content.cdn.viber.com:443/stickers/1":  true,
		"http://127.0.0.1:8080/media/x":                 true,
		"http://127.0.0.1:9090/media/x":                 false,
		"https://127.0.0.1:8080/media/x":                false,
		"http://dl-media.viber.com/x":                   false,
		"https://dl-media.viber.com:8443/x":             false,
		"https://viber.com.evil.example/x":              false,
		"https://evilviber.com/x":                       false,
		"https://user@dl-media.viber.com/x":             false,
		"https://dl-media.viber.example.test/media/x":   false,
		"https://example.com/x":                         false,
		"ftp://dl-media.viber.com/x":                    false,
		"https://DL-MEDIA.VIBER.COM./x":                 true,
		"https://avatar.example.test/u/aaaa.jpg":        false,
		"https://switchboard.example.test/files/a.jpg":  false,
		"https://chatapi.viber.com/pa/get_account_info": true,
	})
}

// ---------------------------------------------------------------- Profile

func TestProfile(t *testing.T) {
	fake := vibertest.New(t, token)
	v := New(fake.URL, nil)
	p, err := v.Profile(context.Background(), account(), customer)
	if err != nil {
		t.Fatal(err)
	}
	if p != (messenger.Profile{Name: "Test Customer", AvatarURL: "https://avatar.example.test/u/aaaa.jpg"}) {
		t.Errorf("profile %+v", p)
	}
	fake.FailNext("get_user_details", 1, 200, `{"status":12,"status_message":"maximum get_user_details requests exceeded"}`)
	if _, err := v.Profile(context.Background(), account(), customer); err == nil || !strings.Contains(err.Error(), "status 12") {
		t.Errorf("rate limited: %v", err)
	}
	if _, err := v.Profile(context.Background(), account(), ""); err == nil {
		t.Error("empty id looked up")
	}
	wrong := account()
	wrong.Secrets[FieldToken] = "4ab1c0ffee000000-WRONG"
	_, err = v.Profile(context.Background(), wrong, customer)
	if err == nil {
		t.Error("wrong token answered")
	}
	platformtest.NoSecret(t, err, account(), "4ab1c0ffee000000-WRONG")
	if calls := fake.Calls(); len(calls) != 3 || calls[0] != "get_user_details" {
		t.Errorf("calls %v", calls)
	}
}

// ---------------------------------------------------------------- secrets

func TestSecretsRedacted(t *testing.T) {
	// An API that echoes the token in every answer.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"status":99,"status_message":"bad token %s"}`, r.Header.Get(AuthHeader))
	}))
	defer srv.Close()
	v := New(srv.URL, nil)
	ctx := context.Background()
	_, err := v.Send(ctx, account(), customer, messenger.Outgoing{Text: "x"})
	if err == nil || !strings.Contains(err.Error(), "[redacted]") {
		t.Fatalf("send: %v", err)
	}
	platformtest.NoSecret(t, err, account())
	_, err = v.Connect(ctx, account(), "https://x.example/hook")
	platformtest.Redacted(t, err, account())
	_, err = v.Profile(ctx, account(), customer)
	platformtest.Redacted(t, err, account())
}

func TestCancelledContext(t *testing.T) {
	fake := vibertest.New(t, token)
	v := New(fake.URL, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := v.Send(ctx, account(), customer, messenger.Outgoing{Text: "x"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("send: %v does not say the context was cancelled", err)
	}
	platformtest.NoSecret(t, err, account())
	if _, err := v.Connect(ctx, account(), "https://x.example/hook"); !errors.Is(err, context.Canceled) {
		t.Errorf("connect: %v", err)
	}
}

// ---------------------------------------------------------------- fuzz

func FuzzParse(f *testing.F) {
	platformtest.NewParser(New("", nil), account()).Fuzz(f, platformtest.Rules{
		Kinds:  []messenger.UpdateKind{messenger.Message, messenger.Status, messenger.Ignored},
		Single: true,
	}, callbacks.Files(),
		msg(`{"type":"rich_media","rich_media":{}}`),
		msg(`{"type":"sticker","sticker_id":"x","media":"https://a.viber.com/1.png"}`),
		msg(`{"type":"location","location":{"lat":"NaN","lon":1}}`),
		[]byte(`{"event":"message","message_token":"-1","sender":{"id":"\u0000"}}`))
}
