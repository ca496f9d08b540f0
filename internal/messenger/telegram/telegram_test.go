package telegram_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/messenger"
	"github.com/switchboard-hq/switchboard/internal/messenger/platformtest"
	"github.com/switchboard-hq/switchboard/internal/messenger/telegram"
	"github.com/switchboard-hq/switchboard/internal/messenger/telegram/telegramtest"
)

const (
	token    = "123456789:AAFakeTokenForTests_0123456789abcdef"
	secret   = "test-secret_0123456789abcdef"
	annaChat = "700000001"
)

func account() messenger.Account {
	return messenger.Account{
		ChannelID: 1,
		Public:    map[string]string{},
		Secrets:   map[string]string{"bot_token": token, "webhook_secret": secret},
	}
}

// anna is the sender of every fixture message, before content.
func anna(messageID string, sentAt int64) *messenger.Inbound {
	return &messenger.Inbound{
		ExternalID: annaChat + ":" + messageID,
		SenderID:   annaChat,
		SenderName: "Anna Test",
		ProfileURL: "https://t.me/anna_test",
		ChatURL:    "https://t.me/anna_test",
		SentAt:     time.Unix(sentAt, 0).UTC(),
	}
}

func with(in *messenger.Inbound, text string, files ...messenger.FileRef) *messenger.Inbound {
	in.Text = text
	in.Files = files
	return in
}

func message(in *messenger.Inbound) []messenger.Update {
	return []messenger.Update{{Kind: messenger.Message, Message: in}}
}

func TestKindAndFields(t *testing.T) {
	p := telegram.New("", nil)
	if p.Kind() != cv.Telegram {
		t.Errorf("Kind() = %q", p.Kind())
	}
	want := []messenger.Field{{Name: "bot_token", Label: "Bot token", Secret: true, Required: true, Help: "from @BotFather"}}
	if got := p.Fields(); !reflect.DeepEqual(got, want) {
		t.Errorf("Fields() = %+v", got)
	}
	if body, ok := p.Handshake(account(), nil); ok || body != "" {
		t.Errorf("Handshake() = %q, %v; Telegram has no handshake", body, ok)
	}
}

// webhooks are the webhook fixtures and what they parse to.
var webhooks = platformtest.Golden{
	"update_text.json": message(with(anna("11", 1735689600), "Hello, my order #4521 has not arrived")),
	"update_photo_caption.json": message(with(anna("12", 1735689660), "This is the damaged box",
		messenger.FileRef{ID: "AgACAgIAAxkBAAFAKE-photo-large", Filename: "photo-AQADfake01x.jpg", ContentType: "image/jpeg", Size: 98765})),
	"update_document.json": message(with(anna("13", 1735689720), "",
		messenger.FileRef{ID: "BQACAgIAAxkBAAFAKE-document", Filename: "invoice-4521.pdf", ContentType: "application/pdf", Size: 48213})),
	"update_voice.json": message(with(anna("14", 1735689780), "",
		messenger.FileRef{ID: "AwACAgIAAxkBAAFAKE-voice", Filename: "voice-AgADfake03.ogg", ContentType: "audio/ogg", Size: 23040})),
	"update_location.json": message(with(anna("15", 1735689840),
		"📍 52.520008,13.404954\nhttps://www.google.com/maps/search/?api=1&query=52.520008,13.404954")),
	"update_contact.json": message(with(anna("16", 1735689900), "👤 Bob Courier, +15550100777")),
	"update_sticker.json": message(with(anna("17", 1735689960), "[sticker 👍]",
		messenger.FileRef{ID: "CAACAgIAAxkBAAFAKE-sticker", Filename: "sticker-AgADfake04.webp", ContentType: "image/webp", Size: 21010})),
	// The same external id as update_text.json: an edit, not a new message;
	// SentAt is the edit_date.
	"update_edited_message.json": {{Kind: messenger.Edit,
		Message: with(anna("11", 1735690020), "Hello, my order #4522 has not arrived (typo fixed)")}},
	"update_my_chat_member_kicked.json": {{Kind: messenger.Ignored, Reason: "the client blocked the bot"}},
	"update_channel_post_ignored.json":  {{Kind: messenger.Ignored, Reason: "channel_post updates are not helpdesk traffic"}},
}

func TestParseFixtures(t *testing.T) {
	platformtest.NewParser(telegram.New("", nil), account()).Match(t, webhooks)
}

// update wraps a message object from a private chat with Anna.
func update(content string) []byte {
	return []byte(`{"update_id":1,"message":{"message_id":5,"date":1735689600,` +
		`"from":{"id":700000001,"is_bot":false,"first_name":"Anna"},` +
		`"chat":{"id":700000001,"type":"private","first_name":"Anna"}` + content + `}}`)
}

func TestParseOtherShapes(t *testing.T) {
	platformtest.NewParser(telegram.New("", nil), account()).Cases(t, platformtest.NameAndType, []platformtest.Case{
		{Name: "poll is shown as unsupported", Body: string(update(`,"poll":{"id":"1","question":"?"}`)),
			Kind: messenger.Message, Text: "[unsupported message type: poll]"},
		{Name: "dice", Body: string(update(`,"dice":{"emoji":"🎲","value":3}`)),
			Kind: messenger.Message, Text: "[unsupported message type: dice]"},
		{Name: "story", Body: string(update(`,"story":{"chat":{"id":1,"type":"private"},"id":3}`)),
			Kind: messenger.Message, Text: "[unsupported message type: story]"},
		{Name: "venue is shown as a place", Body: string(update(`,"venue":{"location":{"latitude":1.5,"longitude":2},"title":"Shop","address":"Main St 1"},"location":{"latitude":1.5,"longitude":2}`)),
			Kind: messenger.Message, Text: "📍 Shop, Main St 1\n1.5,2\nhttps://www.google.com/maps/search/?api=1&query=1.5,2"},
		{Name: "service message", Body: string(update(`,"pinned_message":{"message_id":4}`)),
			Kind: messenger.Ignored, Reason: "service message (pinned_message)"},
		{Name: "message without content", Body: string(update(``)),
			Kind: messenger.Ignored, Reason: "without content"},
		{Name: "group chat", Body: `{"update_id":2,"message":{"message_id":5,"from":{"id":1},"chat":{"id":-100,"type":"group","title":"G"},"text":"hi"}}`,
			Kind: messenger.Ignored, Reason: "group chat"},
		{Name: "supergroup chat", Body: `{"update_id":2,"message":{"message_id":5,"from":{"id":1},"chat":{"id":-1001,"type":"supergroup"},"text":"hi"}}`,
			Kind: messenger.Ignored, Reason: "supergroup chat"},
		{Name: "edit in a group", Body: `{"update_id":2,"edited_message":{"message_id":5,"from":{"id":1},"chat":{"id":-100,"type":"group"},"text":"hi"}}`,
			Kind: messenger.Ignored, Reason: "group chat"},
		{Name: "unblocked", Body: `{"update_id":3,"my_chat_member":{"chat":{"id":7,"type":"private"},"from":{"id":7},"new_chat_member":{"status":"member"}}}`,
			Kind: messenger.Ignored, Reason: "the client unblocked the bot"},
		{Name: "bot added to a group", Body: `{"update_id":3,"my_chat_member":{"chat":{"id":-7,"type":"group"},"from":{"id":7},"new_chat_member":{"status":"member"}}}`,
			Kind: messenger.Ignored, Reason: "group or channel"},
		{Name: "button press", Body: `{"update_id":4,"callback_query":{"id":"9","from":{"id":7},"data":"x"}}`,
			Kind: messenger.Ignored, Reason: "button"},
		{Name: "unknown update type", Body: `{"update_id":5,"message_reaction":{}}`,
			Kind: messenger.Ignored, Reason: "message_reaction"},
		{Name: "ids above 2^53 stay exact", Body: `{"update_id":6,"message":{"message_id":9007199254740993,"from":{"id":9007199254740993},"chat":{"id":9007199254740993,"type":"private"},"text":"x"}}`,
			Kind: messenger.Message, Text: "x", ID: "9007199254740993:9007199254740993", Sender: "9007199254740993"},
		{Name: "animated sticker", Body: string(update(`,"sticker":{"file_id":"S","file_unique_id":"u1","is_animated":true,"is_video":false,"type":"regular"}`)),
			Kind: messenger.Message, Text: "[sticker]", Files: []string{"sticker-u1.tgs application/x-tgsticker"}},
		{Name: "video sticker", Body: string(update(`,"sticker":{"file_id":"S","file_unique_id":"u2","is_animated":false,"is_video":true,"emoji":"😀"}`)),
			Kind: messenger.Message, Text: "[sticker 😀]", Files: []string{"sticker-u2.webm video/webm"}},
		{Name: "GIF is one file, not two", Body: string(update(`,"animation":{"file_id":"A","file_unique_id":"u3","file_name":"cat.mp4","mime_type":"video/mp4"},"document":{"file_id":"A","file_unique_id":"u3","file_name":"cat.mp4","mime_type":"video/mp4"},"caption":"look"`)),
			Kind: messenger.Message, Text: "look", Files: []string{"cat.mp4 video/mp4"}},
		{Name: "video note", Body: string(update(`,"video_note":{"file_id":"V","file_unique_id":"u4","length":240,"duration":3}`)),
			Kind: messenger.Message, Files: []string{"video-note-u4.mp4 video/mp4"}},
		{Name: "document without a name", Body: string(update(`,"document":{"file_id":"D","file_unique_id":"u5"}`)),
			Kind: messenger.Message, Files: []string{"document-u5 application/octet-stream"}},
		{Name: "document name with a path", Body: string(update(`,"document":{"file_id":"D","file_unique_id":"u5","file_name":"../../etc/passwd","mime_type":"text/plain"}`)),
			Kind: messenger.Message, Files: []string{"....etcpasswd text/plain"}},
	})
}

func TestParseRejectsWhatIsNotAnUpdate(t *testing.T) {
	p := telegram.New("", nil)
	for _, body := range []string{``, `not json`, `null`, `[]`, `{}`, `{"message":{}}`, `{"update_id":"1"}`, `{"update_id":1.5}`, `{"update_id":1e30}`} {
		if got, err := p.Parse(account(), []byte(body)); err == nil {
			t.Errorf("Parse(%q) = %s, want an error (the webhook answers 400)", body, platformtest.Dump(got...))
		}
	}
}

func TestVerify(t *testing.T) {
	platformtest.SecretHeader(t, telegram.New("", nil), account(), "X-Telegram-Bot-Api-Secret-Token", "webhook_secret",
		platformtest.Fixture(t, "update_text.json"))
}

// ---------------------------------------------------------------- Send

func newFake(t *testing.T) (*telegramtest.Fake, *telegram.Telegram) {
	fake := telegramtest.New(t, token)
	return fake, telegram.New(fake.URL, nil)
}

func TestSendPlainTextExactly(t *testing.T) {
	fake, p := newFake(t)
	text := "Use <b>bold</b> and *stars* _here_ & [links](x)"
	id, err := p.Send(t.Context(), account(), annaChat, messenger.Outgoing{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	if id != annaChat+":1" {
		t.Errorf("external id %q, want chat:message_id", id)
	}
	sent := fake.Sent()
	if len(sent) != 1 {
		t.Fatalf("sent %d messages", len(sent))
	}
	if s := sent[0]; s.Method != "sendMessage" || s.ChatID != annaChat || s.Text != text || s.ParseMode != "" {
		t.Errorf("sent %+v; want the text as is without parse_mode", s)
	}
}

func TestSendSplitsLongText(t *testing.T) {
	fake, p := newFake(t)
	para := strings.Repeat("word ", 700) + "\n" // 3501 characters
	text := para + para + "end"                 // 7005: two messages
	id, err := p.Send(t.Context(), account(), annaChat, messenger.Outgoing{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	sent := fake.Sent()
	if len(sent) != 2 {
		t.Fatalf("sent %d messages, want 2", len(sent))
	}
	if id != annaChat+":1" {
		t.Errorf("id %q: Send returns the first message's id", id)
	}
	// The cut is at the line break, not in the middle of a word.
	if sent[0].Text != strings.TrimSpace(para) || sent[1].Text != para+"end" {
		t.Errorf("parts %q…, %q…", sent[0].Text[:20], sent[1].Text[:20])
	}

	// No line break: cut after a space.
	words := strings.Repeat("abc ", 1500)
	if _, err := p.Send(t.Context(), account(), annaChat, messenger.Outgoing{Text: words}); err != nil {
		t.Fatal(err)
	}
	sent = fake.Sent()[2:]
	if len(sent) != 2 || !strings.HasSuffix(sent[0].Text, "abc") || !strings.HasPrefix(sent[1].Text, "abc") {
		t.Errorf("split into %d parts", len(sent))
	}

	// Telegram counts UTF-16 code units: 3000 emoji are 6000 of them.
	emoji := strings.Repeat("😀", 3000)
	if _, err := p.Send(t.Context(), account(), annaChat, messenger.Outgoing{Text: emoji}); err != nil {
		t.Fatal(err)
	}
	sent = fake.Sent()[4:]
	if len(sent) != 2 || sent[0].Text+sent[1].Text != emoji {
		t.Fatalf("emoji text sent as %d parts", len(sent))
	}
	for _, s := range sent {
		if n := len(utf16.Encode([]rune(s.Text))); n > 4096 {
			t.Errorf("a part has %d UTF-16 units", n)
		}
	}
}

func TestSendFiles(t *testing.T) {
	fake, p := newFake(t)
	photo := messenger.File{Filename: "box.jpg", ContentType: "image/jpeg", Data: jpegBytes(t)}
	pdf := messenger.File{Filename: "label \"A\".pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.4 fake")}

	if _, err := p.Send(t.Context(), account(), annaChat, messenger.Outgoing{Text: "Your label", Files: []messenger.File{pdf}}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Send(t.Context(), account(), annaChat, messenger.Outgoing{Text: "Two files", Files: []messenger.File{photo, pdf}}); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 1025)
	if _, err := p.Send(t.Context(), account(), annaChat, messenger.Outgoing{Text: long, Files: []messenger.File{photo}}); err != nil {
		t.Fatal(err)
	}
	type row struct{ Method, Text, Filename, ContentType string }
	var got []row
	for _, s := range fake.Sent() {
		got = append(got, row{s.Method, s.Text, s.Filename, s.ContentType})
	}
	want := []row{
		{"sendDocument", "Your label", `label "A".pdf`, "application/pdf"}, // one file: the text is its caption
		{"sendMessage", "Two files", "", ""},                               // several files: text first
		{"sendPhoto", "", "box.jpg", "image/jpeg"},
		{"sendDocument", "", `label "A".pdf`, "application/pdf"},
		{"sendMessage", long, "", ""}, // longer than a caption: text first
		{"sendPhoto", "", "box.jpg", "image/jpeg"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sent\n%+v\nwant\n%+v", got, want)
	}
	if !bytes.Equal(fake.Sent()[2].Data, photo.Data) {
		t.Error("the photo's bytes changed on the way")
	}
}

func jpegBytes(t testing.TB) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 8, 6))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestSendErrors(t *testing.T) {
	tests := []struct {
		name   string
		script func(*telegramtest.Fake)
		token  string
		want   messenger.SendError
	}{
		{"flood control waits retry_after", func(f *telegramtest.Fake) { f.FailNextSends(1, 429, telegramtest.ErrorTooManyRequests) }, "",
			messenger.SendError{RetryAfter: 14 * time.Second}},
		{"blocked", func(f *telegramtest.Fake) { f.FailNextSends(1, 403, telegramtest.ErrorBlocked) }, "",
			messenger.SendError{Permanent: true, Reason: "The client blocked the bot"}},
		{"deleted account", func(f *telegramtest.Fake) { f.FailNextSends(1, 403, telegramtest.ErrorDeactivated) }, "",
			messenger.SendError{Permanent: true, Reason: "The client's Telegram account was deleted"}},
		{"never started", func(f *telegramtest.Fake) {
			f.FailNextSends(1, 403, `{"ok":false,"error_code":403,"description":"Forbidden: bot can't initiate conversation with a user"}`)
		}, "", messenger.SendError{Permanent: true, Reason: "The client has not started the bot"}},
		{"Telegram down", func(f *telegramtest.Fake) { f.SetDown(true) }, "",
			messenger.SendError{Reason: "Telegram is unavailable (502 Bad Gateway)"}},
		{"server error", func(f *telegramtest.Fake) { f.FailNextSends(1, 500, "") }, "",
			messenger.SendError{Reason: "Telegram is unavailable (500 Internal Server Error)"}},
		{"revoked token", func(*telegramtest.Fake) {}, "987654321:AARevokedTokenxxxxxxxxxxxxxxxxxxxxxx",
			messenger.SendError{Permanent: true, Broken: true, Reason: "Telegram no longer accepts the bot token"}},
		{"other bad request", func(f *telegramtest.Fake) {
			f.FailNextSends(1, 400, `{"ok":false,"error_code":400,"description":"Bad Request: message is too long"}`)
		}, "", messenger.SendError{Permanent: true, Reason: "Telegram refused the message: Bad Request: message is too long"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, p := newFake(t)
			tt.script(fake)
			acc := account()
			if tt.token != "" {
				acc.Secrets["bot_token"] = tt.token
			}
			_, err := p.Send(t.Context(), acc, annaChat, messenger.Outgoing{Text: "hello"})
			se := platformtest.SendError(t, err)
			if tt.want.Reason == "" {
				tt.want.Reason = se.Reason
			}
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

func TestSendNetworkErrorIsTemporaryAndRedacted(t *testing.T) {
	p := telegram.New(platformtest.DeadURL(t), nil)
	_, err := p.Send(t.Context(), account(), annaChat, messenger.Outgoing{Text: "hello"})
	if err == nil {
		t.Fatal("no error")
	}
	if se := messenger.AsSendError(err); se != nil && se.Permanent {
		t.Errorf("a network error is permanent: %v", err)
	}
	platformtest.NoSecret(t, err, account())
}

func TestSendRefusesWhatCannotGo(t *testing.T) {
	_, p := newFake(t)
	for name, tc := range map[string]struct {
		to string
		m  messenger.Outgoing
	}{
		"empty":     {annaChat, messenger.Outgoing{Text: " \n "}},
		"not an id": {"@anna", messenger.Outgoing{Text: "x"}},
	} {
		_, err := p.Send(t.Context(), account(), tc.to, tc.m)
		if se := messenger.AsSendError(err); se == nil || !se.Permanent {
			t.Errorf("%s: %v, want a permanent SendError", name, err)
		}
	}
}

// ---------------------------------------------------------------- Connect

func TestConnectRegistersTheWebhook(t *testing.T) {
	fake, p := newFake(t)
	in := messenger.Account{ChannelID: 3, Public: map[string]string{}, Secrets: map[string]string{"bot_token": " " + token + "\n"}}
	hook := "https://support.example.com/hooks/telegram/3"
	acc, err := p.Connect(t.Context(), in, hook)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"bot_id": "7000000999", "bot_username": "switchboard_test_bot", "bot_name": "Switchboard Test Bot"}
	if !reflect.DeepEqual(acc.Public, want) {
		t.Errorf("Public = %v", acc.Public)
	}
	url, sec := fake.Webhook()
	if url != hook || sec == "" || sec != acc.Secrets["webhook_secret"] {
		t.Errorf("webhook %q secret %q; account secret %q", url, sec, acc.Secrets["webhook_secret"])
	}
	if len(sec) != 43 || strings.Trim(sec, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != "" {
		t.Errorf("secret %q is not 32 bytes of base64url", sec)
	}
	if got := fake.AllowedUpdates(); !reflect.DeepEqual(got, []string{"message", "edited_message", "callback_query", "my_chat_member"}) {
		t.Errorf("allowed_updates %v", got)
	}
	if acc.Secrets["bot_token"] != token || acc.ChannelID != 3 {
		t.Errorf("account %+v", acc)
	}
	if len(in.Secrets) != 1 || len(in.Public) != 0 {
		t.Error("Connect changed the account it was given")
	}

	again, err := p.Connect(t.Context(), acc, hook)
	if err != nil {
		t.Fatal(err)
	}
	if again.Secrets["webhook_secret"] == sec {
		t.Error("connecting again keeps the same secret")
	}
}

func TestConnectErrors(t *testing.T) {
	tests := []struct {
		name   string
		token  string
		script func(*telegramtest.Fake)
		kind   error
		field  string
		msg    string
	}{
		{"wrong token", "42:AAWrongTokenxxxxxxxxxxxxxxxxxxxxxxxxxx", nil, errs.ErrInvalid, "bot_token", "Telegram does not accept this token"},
		{"not a token", "hello world", nil, errs.ErrInvalid, "bot_token", "does not look like"},
		{"empty", "  ", nil, errs.ErrInvalid, "bot_token", "required"},
		{"not a bot", token, func(f *telegramtest.Fake) {
			f.FailNext("getMe", 1, 200, `{"ok":true,"result":{"id":5,"is_bot":false,"first_name":"Human"}}`)
		}, errs.ErrInvalid, "bot_token", "not belong to a bot"},
		{"webhook refused", token, func(f *telegramtest.Fake) { f.FailNext("setWebhook", 1, 400, telegramtest.ErrorBadWebhook) },
			errs.ErrInvalid, "webhook", "Bad Request: bad webhook: An HTTPS URL must be provided for webhook; Switchboard's public URL must be HTTPS on port 443, 80, 88 or 8443 (SWITCHBOARD_PUBLIC_URL)"},
		{"Telegram down", token, func(f *telegramtest.Fake) { f.SetDown(true) }, errs.ErrUnavailable, "", "cannot reach Telegram"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, p := newFake(t)
			if tt.script != nil {
				tt.script(fake)
			}
			acc := account()
			acc.Secrets["bot_token"] = tt.token
			_, err := p.Connect(t.Context(), acc, "http://insecure.example.com/hook")
			var e *errs.Error
			if !errors.As(err, &e) || !errors.Is(err, tt.kind) || e.Field != tt.field || !strings.Contains(e.Message, tt.msg) {
				t.Fatalf("error %#v, want %v on %q with %q", err, tt.kind, tt.field, tt.msg)
			}
			if tt.kind == errs.ErrInvalid && e.Code != "validation_failed" {
				t.Errorf("code %q", e.Code)
			}
			platformtest.NoSecret(t, err, account(), tt.token)
		})
	}
}

func TestConnectUnreachable(t *testing.T) {
	p := telegram.New(platformtest.DeadURL(t), nil)
	_, err := p.Connect(t.Context(), account(), "https://x.example/hook")
	if !errors.Is(err, errs.ErrUnavailable) || !strings.Contains(err.Error(), "cannot reach Telegram") {
		t.Fatalf("error %v", err)
	}
	platformtest.NoSecret(t, err, account())
}

// TestWebhookRoundTrip plays Telegram's side with the fake: the update the
// fake delivers passes Verify and parses.
func TestWebhookRoundTrip(t *testing.T) {
	fake, p := newFake(t)
	hook := platformtest.NewHook(t, p, messenger.Account{})
	connected, err := p.Connect(t.Context(), account(), hook.URL+"/hooks/telegram/1")
	if err != nil {
		t.Fatal(err)
	}
	hook.SetAccount(connected)
	if code, _ := platformtest.ReadResponse(t)(fake.Deliver(t.Context(), telegramtest.Fixture("update_text.json"))); code != http.StatusOK {
		t.Fatalf("webhook answered %d", code)
	}
	if got := hook.Updates(); len(got) != 1 || got[0].Message == nil || got[0].Message.ExternalID != annaChat+":11" {
		t.Errorf("delivered %s", platformtest.Dump(got...))
	}
}

// ---------------------------------------------------------------- Fetch

func TestFetchDownloadsAPhoto(t *testing.T) {
	fake, p := newFake(t)
	data := jpegBytes(t)
	fake.AddFile("AgACAgIAAxkBAAFAKE-photo-large", "photos/file_0.jpg", data)
	us, err := p.Parse(account(), platformtest.Fixture(t, "update_photo_caption.json"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := p.Fetch(t.Context(), account(), us[0].Message.Files[0])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.Data, data) || f.Filename != "photo-AQADfake01x.jpg" || f.ContentType != "image/jpeg" {
		t.Errorf("fetched %q %q %d bytes", f.Filename, f.ContentType, len(f.Data))
	}
	if calls := fake.Calls(); !reflect.DeepEqual(calls, []string{"getFile", "file"}) {
		t.Errorf("calls %v", calls)
	}
}

func TestFetchRefusesLargeFiles(t *testing.T) {
	fake, p := newFake(t)
	// Announced as too large: not even asked for.
	_, err := p.Fetch(t.Context(), account(), messenger.FileRef{ID: "big", Size: 30 << 20})
	if !errors.Is(err, telegram.ErrFileTooLarge) {
		t.Errorf("30 MB: %v", err)
	}
	// Larger than Switchboard keeps, size unknown beforehand.
	fake.AddFile("video", "videos/file_1.mp4", make([]byte, messenger.MaxFile+1))
	_, err = p.Fetch(t.Context(), account(), messenger.FileRef{ID: "video"})
	if !errors.Is(err, telegram.ErrFileTooLarge) {
		t.Errorf("MaxFile+1: %v", err)
	}
	// Larger than bots may download: Telegram says so.
	fake.AddFile("huge", "documents/file_2.zip", make([]byte, 21<<20))
	_, err = p.Fetch(t.Context(), account(), messenger.FileRef{ID: "huge"})
	if !errors.Is(err, telegram.ErrFileTooLarge) {
		t.Errorf("21 MB: %v", err)
	}
	if calls := fake.Calls(); !reflect.DeepEqual(calls, []string{"getFile", "getFile"}) {
		t.Errorf("calls %v: nothing too large is downloaded", calls)
	}
}

func TestFetchErrorsHideTheToken(t *testing.T) {
	_, p := newFake(t)
	_, err := p.Fetch(t.Context(), account(), messenger.FileRef{ID: "unknown"})
	if err == nil {
		t.Fatal("unknown file fetched")
	}
	platformtest.NoSecret(t, err, account())

	_, err = telegram.New(platformtest.DeadURL(t), nil).Fetch(t.Context(), account(), messenger.FileRef{ID: "x"})
	if err == nil {
		t.Fatal("fetched from nowhere")
	}
	platformtest.NoSecret(t, err, account())
}

func TestCancelledContext(t *testing.T) {
	_, p := newFake(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := p.Send(ctx, account(), annaChat, messenger.Outgoing{Text: "x"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v does not say the context was cancelled", err)
	}
	platformtest.NoSecret(t, err, account())
}

// ---------------------------------------------------------------- fuzz

func FuzzParse(f *testing.F) {
	platformtest.NewParser(telegram.New("", nil), account()).Fuzz(f, platformtest.Rules{
		Kinds:    []messenger.UpdateKind{messenger.Message, messenger.Edit, messenger.Ignored},
		NotEmpty: true,
	}, platformtest.Glob(f, "*.json"), update(`,"poll":{}`), update(`,"photo":[]`), update(`,"sticker":null,"caption":"x"`))
}

func TestSendPhotoRefusedGoesAsDocument(t *testing.T) {
	fake, p := newFake(t)
	fake.FailNext("sendPhoto", 1, 400, `{"ok":false,"error_code":400,"description":"Bad Request: PHOTO_INVALID_DIMENSIONS"}`)
	photo := messenger.File{Filename: "wide.jpg", ContentType: "image/jpeg", Data: jpegBytes(t)}
	if _, err := p.Send(t.Context(), account(), annaChat, messenger.Outgoing{Text: "see", Files: []messenger.File{photo}}); err != nil {
		t.Fatal(err)
	}
	if sent := fake.Sent(); len(sent) != 1 || sent[0].Method != "sendDocument" || sent[0].Text != "see" {
		t.Errorf("sent %+v", sent)
	}
}

// A later part of a reply waits out short flood control instead of failing
// the reply (a retry would repeat the parts already sent).
func TestSendLaterPartWaitsOutFloodControl(t *testing.T) {
	fake, p := newFake(t)
	fake.FailNext("sendPhoto", 1, 429, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}`)
	photo := messenger.File{Filename: "a.jpg", ContentType: "image/jpeg", Data: jpegBytes(t)}
	id, err := p.Send(t.Context(), account(), annaChat, messenger.Outgoing{Text: "two", Files: []messenger.File{photo, photo}})
	if err != nil {
		t.Fatal(err)
	}
	if sent := fake.Sent(); len(sent) != 3 || id != annaChat+":1" {
		t.Errorf("sent %d, id %q", len(sent), id)
	}
}
