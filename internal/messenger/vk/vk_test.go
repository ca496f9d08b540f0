package vk

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
	"strconv"
	"strings"
	"testing"
	"time"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/messenger"
	"github.com/switchboard-hq/switchboard/internal/messenger/platformtest"
	"github.com/switchboard-hq/switchboard/internal/messenger/vk/vktest"
)

const (
	testToken        = "vk1.a.FakeCommunityTokenForTests_0123456789"
	testGroup        = "200000001"
	testConfirmation = "a1b2c3d4"
	testSecret       = "test-callback-secret-01"
	ivan             = "100000001"
	ivanProfile      = "https://vk.com/id100000001"
	ivanChat         = "https://vk.com/gim200000001?sel=100000001"
)

func account() messenger.Account {
	return messenger.Account{
		ChannelID: 9,
		Public:    map[string]string{FieldGroupID: testGroup},
		Secrets: map[string]string{
			FieldAccessToken:  testToken,
			FieldConfirmation: testConfirmation,
			FieldSecret:       testSecret,
		},
	}
}

var okAnswer = messenger.Update{Kind: messenger.Answer, Answer: OK}

func fromIvan(cmid string, ts int64, text string, files ...messenger.FileRef) []messenger.Update {
	return []messenger.Update{{Kind: messenger.Message, Message: &messenger.Inbound{
		ExternalID: ivan + "_" + cmid, SenderID: ivan, ProfileURL: ivanProfile, ChatURL: ivanChat,
		Text: text, Files: files, SentAt: time.Unix(ts, 0).UTC(),
	}}, okAnswer}
}

func ignoredAs(reason string) []messenger.Update {
	return []messenger.Update{{Kind: messenger.Ignored, Reason: reason}, okAnswer}
}

func TestKindAndFields(t *testing.T) {
	v := New("", nil)
	if v.Kind() != cv.VK {
		t.Fatalf("Kind = %q", v.Kind())
	}
	if v.base.String() != DefaultBaseURL || DefaultBaseURL != "https://api.vk.com" {
		t.Fatalf("base = %q", v.base)
	}
	if got := v.methodURL("messages.send"); got != "https://api.vk.com/method/messages.send" {
		t.Errorf("methodURL = %q", got)
	}
	want := map[string]bool{FieldGroupID: false, FieldAccessToken: true, FieldConfirmation: true, FieldSecret: true}
	fields := v.Fields()
	if len(fields) != len(want) {
		t.Fatalf("fields = %+v", fields)
	}
	for _, f := range fields {
		secret, ok := want[f.Name]
		if !ok || f.Secret != secret || !f.Required || f.Label == "" || f.Help == "" {
			t.Errorf("field %+v", f)
		}
	}
	if body, ok := v.Handshake(account(), url.Values{"hub.challenge": {"1"}}); ok || body != "" {
		t.Errorf("Handshake = %q %v; VK has none", body, ok)
	}
}

// ---------------------------------------------------------------- Parse

// webhooks are the callback fixtures and what they parse to.
var webhooks = platformtest.Golden{
	"confirmation.json":     {{Kind: messenger.Answer, Answer: testConfirmation}},
	"message_new_text.json": fromIvan("1499", 1718000000, "Здравствуйте! Где мой заказ 1042?"),
	"message_new_photo.json": fromIvan("1500", 1718000060, "Вот фото коробки", messenger.FileRef{
		ID: "https://sun9-1.userapi.example.test/photo_z.jpg", Filename: "photo-100000001_457239001.jpg", ContentType: "image/jpeg"}),
	"message_new_doc.json": fromIvan("1501", 1718000120, "", messenger.FileRef{
		ID: "https://vk.example.test/doc100000001_660000001?hash=fake&dl=fake", Filename: "invoice-1042.pdf", ContentType: "application/pdf", Size: 52344}),
	"message_new_voice.json": fromIvan("1502", 1718000180, "", messenger.FileRef{
		ID: "https://psv4.userapi.example.test/voice-0001.ogg", Filename: "voice-100000001_670000001.ogg", ContentType: "audio/ogg"}),
	"message_new_geo.json": fromIvan("1503", 1718000240,
		"📍 55.751244,37.618423 (Moscow, Russia)\nhttps://maps.google.com/?q=55.751244,37.618423"),
	"message_new_sticker.json": fromIvan("1504", 1718000300, "[sticker]", messenger.FileRef{
		ID: "https://vk.example.test/sticker/1-49-128", Filename: "sticker-1-49.png", ContentType: "image/png"}),
	"message_read.json": {{Kind: messenger.Status,
		Status: &messenger.DeliveryStatus{ExternalID: "1510", State: messenger.Read, UpTo: true, Recipient: "100000001"}}, okAnswer},
	"message_reply.json":        ignoredAs("the community's own message 1510 to 100000001 (message_reply)"),
	"message_typing_state.json": ignoredAs("client 100000001 is typing"),
	"message_allow.json":        ignoredAs("client 100000001 allowed messages from the community"),
	"message_deny.json":         ignoredAs("client 100000001 denied messages from the community: replies fail until they allow them again"),
}

func TestParseFixtures(t *testing.T) {
	v := New("", nil)
	// Every fixture passes Verify too.
	platformtest.Parser{Parse: func(body []byte) ([]messenger.Update, error) {
		if err := v.Verify(account(), http.Header{}, body); err != nil {
			return nil, fmt.Errorf("verify: %w", err)
		}
		return v.Parse(account(), body)
	}}.Match(t, webhooks)
}

// event wraps an object in a callback envelope for the test community.
func event(typ, object string) []byte {
	return []byte(`{"group_id":200000001,"type":"` + typ + `","event_id":"e1","v":"5.199","object":` + object + `,"secret":"test-callback-secret-01"}`)
}

// msgNew is a message_new with a message object of fields (JSON members).
func msgNew(fields string) []byte {
	m := `{"date":1718000000,"from_id":100000001,"id":1,"out":0,"conversation_message_id":7,"peer_id":100000001,"text":""`
	if fields != "" {
		m += "," + fields
	}
	return event("message_new", `{"message":`+m+`},"client_info":{}}`)
}

func TestParseCases(t *testing.T) {
	v := New("", nil)
	// Every event is answered "ok"; the cases check what comes before.
	p := platformtest.Parser{Parse: func(b []byte) ([]messenger.Update, error) {
		us, err := v.Parse(account(), b)
		if err != nil {
			return nil, err
		}
		if len(us) == 0 || us[len(us)-1] != okAnswer {
			return nil, fmt.Errorf("not answered ok: %s", platformtest.Dump(us...))
		}
		return us[:len(us)-1], nil
	}}

	t.Run("not a callback", func(t *testing.T) {
		for _, b := range []string{``, `nope`, `[]`, `{}`, `{"type":""}`, `{"type":5}`} {
			if us, err := v.Parse(account(), []byte(b)); !errors.Is(err, ErrNotVK) || us != nil {
				t.Errorf("%q: %s %v", b, platformtest.Dump(us...), err)
			}
		}
	})
	t.Run("another community", func(t *testing.T) {
		p.Ignored(t, bytes.Replace(msgNew(`"text":"hi"`), []byte("200000001"), []byte("200000002"), 1), "event for another community")
	})
	t.Run("confirmation without a confirmation string", func(t *testing.T) {
		acc := account()
		delete(acc.Secrets, FieldConfirmation)
		if _, err := v.Parse(acc, platformtest.Fixture(t, "confirmation.json")); err == nil {
			t.Error("answered without a confirmation string")
		}
	})
	t.Run("big ids stay exact", func(t *testing.T) {
		m := p.Text(t, msgNew(`"text":"x","conversation_message_id":9007199254740993`), "x")
		if m.ExternalID != "100000001_9007199254740993" {
			t.Errorf("external id %q", m.ExternalID)
		}
		u := p.One(t, event("message_read", `{"from_id":1,"peer_id":1,"read_message_id":9007199254740993}`))
		if u.Status == nil || u.Status.ExternalID != "9007199254740993" {
			t.Errorf("read %s", platformtest.Dump(u))
		}
	})
	t.Run("not from a person", func(t *testing.T) {
		p.Ignored(t, msgNew(`"text":"hi","peer_id":2000000005`), "message in a group chat")
		p.Ignored(t, msgNew(`"text":"hi","out":1`), "the community's own message")
		p.Ignored(t, msgNew(`"text":"hi","from_id":-200000001,"peer_id":-200000001`), "message from a community")
		p.Ignored(t, event("message_new", `{"client_info":{}}`), "message event without a message")
		p.Ignored(t, event("message_read", `{"from_id":1,"peer_id":2000000001,"read_message_id":5}`), "read receipt in a group chat")
		p.Ignored(t, event("message_read", `{"from_id":1,"peer_id":1}`), "read receipt without")
	})
	t.Run("ids", func(t *testing.T) {
		m := p.Text(t, msgNew(`"text":"x","conversation_message_id":0,"id":55`), "x")
		if m.ExternalID != "100000001_id55" {
			t.Errorf("without cmid: %q", m.ExternalID)
		}
		p.Ignored(t, msgNew(`"text":"x","conversation_message_id":0,"id":0`), "message without conversation_message_id")
		m = p.Text(t, msgNew(`"text":"x","peer_id":"100000001","conversation_message_id":"8"`), "x")
		if m.ExternalID != "100000001_8" {
			t.Errorf("string ids: %q", m.ExternalID)
		}
	})
	t.Run("old message_new shape", func(t *testing.T) {
		m := p.Text(t, event("message_new", `{"date":1,"from_id":5,"peer_id":5,"id":2,"conversation_message_id":3,"text":"old"}`), "old")
		if m.ExternalID != "5_3" || m.SenderID != "5" {
			t.Errorf("old shape: %+v", m)
		}
	})
	t.Run("edit", func(t *testing.T) {
		b := event("message_edit", `{"date":1718000000,"update_time":1718000500,"from_id":100000001,"id":1501,"out":0,"conversation_message_id":1499,"peer_id":100000001,"text":"Где мой заказ 1043?",`+
			`"attachments":[{"type":"photo","photo":{"id":1,"owner_id":1,"sizes":[{"type":"x","url":"https://sun9-1.userapi.com/a.jpg","width":1,"height":1}]}}]}`)
		u := p.One(t, b)
		if u.Kind != messenger.Edit || u.Message.ExternalID != ivan+"_1499" || u.Message.Text != "Где мой заказ 1043?" ||
			len(u.Message.Files) != 0 || u.Message.SentAt.Unix() != 1718000500 {
			t.Errorf("edit: %s", platformtest.Dump(u))
		}
		p.Ignored(t, event("message_edit", `{"from_id":-200000001,"peer_id":100000001,"out":1,"conversation_message_id":5,"text":"x"}`), "the community's own message")
	})
	t.Run("ignored events", func(t *testing.T) {
		p.Ignored(t, event("message_event", `{"user_id":1,"peer_id":1,"event_id":"x","payload":{}}`), "callback button press")
		p.Ignored(t, event("group_join", `{"user_id":1}`), "group_join events are not helpdesk traffic")
		p.Ignored(t, event("wall_post_new", `null`), "wall_post_new events")
		p.Ignored(t, event("<script>", `{}`), "script events")
	})
	t.Run("attachments as text", func(t *testing.T) {
		att := func(a string) []byte { return msgNew(`"attachments":[` + a + `]`) }
		p.Text(t, att(`{"type":"video","video":{"id":456239017,"owner_id":-1,"title":"Unboxing","duration":30}}`),
			"[video: Unboxing]\nhttps://vk.com/video-1_456239017")
		p.Text(t, att(`{"type":"audio","audio":{"id":1,"owner_id":2,"artist":"Artist","title":"Song"}}`), "[audio: Artist – Song]")
		p.Text(t, att(`{"type":"link","link":{"url":"https://example.com/a","title":"A page"}}`), "[link: A page]\nhttps://example.com/a")
		p.Text(t, att(`{"type":"link","link":{"url":"javascript:alert(1)","title":"bad"}}`), "[link: bad]")
		p.Text(t, att(`{"type":"wall","wall":{"id":12,"from_id":-5,"text":"post"}}`), "[wall post]\nhttps://vk.com/wall-5_12")
		p.Text(t, att(`{"type":"market","market":{"id":3,"owner_id":-5,"title":"Mug"}}`), "[product: Mug]\nhttps://vk.com/product-5_3")
		p.Text(t, att(`{"type":"poll","poll":{"id":1,"question":"Which?"}}`), "[poll: Which?]")
		p.Text(t, att(`{"type":"gift","gift":{"id":1}}`), "[gift]")
		p.Text(t, att(`{"type":"story","story":{"id":4,"owner_id":6}}`), "[story]\nhttps://vk.com/story6_4")
		p.Text(t, att(`{"type":"hologram","hologram":{}}`), "[unsupported message type: hologram]")
		p.Text(t, att(`{"type":"","x":{}}`), Unsupported)
		p.Text(t, att(`"not an object"`), Unsupported)
		p.Text(t, att(`{"type":"photo","photo":{"id":1,"owner_id":1,"sizes":[]}}`), "[photo]")
		p.Text(t, att(`{"type":"doc","doc":{"id":1,"owner_id":1,"title":"x.pdf","ext":"pdf"}}`), "[file: x.pdf]")
		p.Text(t, att(`{"type":"audio_message","audio_message":{"id":1,"owner_id":1,"transcript":"Привет"}}`), "[voice message]\n🎤 Привет")
	})
	t.Run("files", func(t *testing.T) {
		m := p.Text(t, msgNew(`"text":"two","attachments":[`+
			`{"type":"photo","photo":{"id":2,"owner_id":3,"sizes":[{"type":"z","url":"https://sun9-1.userapi.com/z.jpg","width":0,"height":0},{"type":"w","url":"https://sun9-1.userapi.com/w.jpg","width":0,"height":0},{"type":"m","url":"https://sun9-1.userapi.com/m.jpg"}]}},`+
			`{"type":"doc","doc":{"id":4,"owner_id":5,"title":"..\\..\\etc/pass\u0000wd","ext":"txt","size":-3,"url":"https://vk.com/doc5_4"}},`+
			`{"type":"audio_message","audio_message":{"id":6,"owner_id":7,"link_mp3":"https://psv4.userapi.com/v.mp3","transcript":"да"}},`+
			`{"type":"graffiti","graffiti":{"id":8,"owner_id":9,"url":"https://sun9-1.userapi.com/g.png"}}]`), "two\n🎤 да")
		want := []messenger.FileRef{
			{ID: "https://sun9-1.userapi.com/w.jpg", Filename: "photo-3_2.jpg", ContentType: "image/jpeg"},
			{ID: "https://vk.com/doc5_4", Filename: "passwd.txt", ContentType: "text/plain"},
			{ID: "https://psv4.userapi.com/v.mp3", Filename: "voice-7_6.mp3", ContentType: "audio/mpeg"},
			{ID: "https://sun9-1.userapi.com/g.png", Filename: "graffiti-9_8.png", ContentType: "image/png"},
		}
		if !reflect.DeepEqual(m.Files, want) {
			t.Errorf("files %+v", m.Files)
		}
	})
	t.Run("forwarded messages", func(t *testing.T) {
		m := p.Text(t, msgNew(`"text":"see below","fwd_messages":[{"from_id":5,"text":"original","attachments":[{"type":"doc","doc":{"id":1,"owner_id":5,"title":"a.pdf","ext":"pdf","url":"https://vk.com/doc5_1"}}],"fwd_messages":[{"from_id":6,"text":"deeper"}]},{"from_id":-3,"text":""}]`),
			"see below\n↪ forwarded message from https://vk.com/id5:\noriginal\n↪ forwarded message from https://vk.com/id6:\ndeeper\n↪ forwarded message:\n[empty message]")
		if len(m.Files) != 1 || m.Files[0].Filename != "a.pdf" {
			t.Errorf("forwarded files %+v", m.Files)
		}
	})
	t.Run("location without place, old coordinates", func(t *testing.T) {
		p.Text(t, msgNew(`"geo":{"type":"point","coordinates":{"latitude":-33.5,"longitude":151}}`), "📍 -33.5,151\nhttps://maps.google.com/?q=-33.5,151")
		p.Text(t, msgNew(`"geo":{"type":"point","coordinates":"55.75 37.61"}`), "📍 55.75,37.61\nhttps://maps.google.com/?q=55.75,37.61")
		p.Text(t, msgNew(`"geo":{"type":"point","coordinates":"x y"}`), "📍 [location]")
	})
	t.Run("empty message stays empty", func(t *testing.T) {
		p.Text(t, msgNew(""), "")
	})
}

// ---------------------------------------------------------------- Verify

func TestVerify(t *testing.T) {
	v := New("", nil)
	raw := platformtest.Fixture(t, "message_new_text.json")
	if err := v.Verify(account(), http.Header{}, raw); err != nil {
		t.Fatalf("fixture refused: %v", err)
	}
	swap := func(b []byte, old, new string) []byte { return bytes.Replace(b, []byte(old), []byte(new), 1) }
	for name, b := range map[string][]byte{
		"wrong secret":   swap(raw, `"secret": "test-callback-secret-01"`, `"secret": "test-callback-secret-02"`),
		"prefix secret":  swap(raw, `"secret": "test-callback-secret-01"`, `"secret": "test-callback"`),
		"empty secret":   swap(raw, `"secret": "test-callback-secret-01"`, `"secret": ""`),
		"numeric secret": swap(raw, `"secret": "test-callback-secret-01"`, `"secret": 1`),
		"missing secret": swap(raw, `,
  "secret": "test-callback-secret-01"`, ``),
		"other community":                  swap(raw, `"group_id": 200000001`, `"group_id": 200000002`),
		"no community":                     swap(raw, `"group_id": 200000001,`, ``),
		"not json":                         []byte("secret=test-callback-secret-01&group_id=200000001"),
		"confirmation else":                []byte(`{"type": "confirmation", "group_id": 200000002}`),
		"confirmation with a wrong secret": []byte(`{"type": "confirmation", "group_id": 200000001, "secret": "x"}`),
	} {
		if err := v.Verify(account(), http.Header{}, b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := v.Verify(account(), http.Header{}, swap(raw, `"secret": "test-callback-secret-01"`, `"secret": "x"`)); !errors.Is(err, ErrBadSecret) {
		t.Errorf("wrong secret: %v", err)
	}
	if err := v.Verify(account(), http.Header{}, swap(raw, `"group_id": 200000001`, `"group_id": 1`)); !errors.Is(err, ErrWrongGroup) {
		t.Errorf("other group: %v", err)
	}
	// VK signs nothing over the bytes: the secret is a field, so the same
	// event re-serialised still verifies, and a re-serialised forgery not.
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	re, _ := json.Marshal(m)
	if bytes.Equal(re, raw) {
		t.Fatal("re-serialising did not change the bytes")
	}
	if err := v.Verify(account(), http.Header{}, re); err != nil {
		t.Errorf("re-serialised event refused: %v", err)
	}
	m["secret"] = "forged"
	re, _ = json.Marshal(m)
	if err := v.Verify(account(), http.Header{}, re); err == nil {
		t.Error("re-serialised forgery accepted")
	}
	// The confirmation request carries no secret; the community must match.
	if err := v.Verify(account(), http.Header{}, platformtest.Fixture(t, "confirmation.json")); err != nil {
		t.Errorf("confirmation: %v", err)
	}
	// A channel without its secret or community verifies nothing.
	acc := account()
	delete(acc.Secrets, FieldSecret)
	if err := v.Verify(acc, http.Header{}, raw); err == nil {
		t.Error("accepted without a secret key")
	}
	acc = account()
	delete(acc.Public, FieldGroupID)
	if err := v.Verify(acc, http.Header{}, platformtest.Fixture(t, "confirmation.json")); err == nil {
		t.Error("accepted without a community id")
	}
}

// ---------------------------------------------------------------- Send

func TestSendTextShape(t *testing.T) {
	srv := platformtest.Record(t, platformtest.Fixture(t, "messages_send_response_ok.json"))
	v := New(srv.URL, srv.Client())
	id, err := v.Send(context.Background(), account(), ivan, messenger.Outgoing{Text: "Мы проверяем заказ 1042.", Key: "outbox-41"})
	if err != nil {
		t.Fatal(err)
	}
	if id != "1510" {
		t.Errorf("id = %q", id)
	}
	r, body := srv.Last()
	if r.Method != http.MethodPost || r.URL.Path != "/method/messages.send" || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || r.URL.RawQuery != "" {
		t.Errorf("%s %s (%s)", r.Method, r.URL, r.Header.Get("Content-Type"))
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		t.Fatal(err)
	}
	rid, _ := randomID("outbox-41", 0)
	want := url.Values{
		"access_token": {testToken}, "v": {"5.199"}, "peer_id": {ivan},
		"random_id": {strconv.Itoa(int(rid))}, "message": {"Мы проверяем заказ 1042."},
	}
	if !reflect.DeepEqual(form, want) {
		t.Errorf("form\n got %v\nwant %v", form, want)
	}
}

func TestRandomID(t *testing.T) {
	a0, _ := randomID("job-1", 0)
	a0again, _ := randomID("job-1", 0)
	a1, _ := randomID("job-1", 1)
	b0, _ := randomID("job-2", 0)
	if a0 != a0again || a0 == a1 || a0 == b0 || a0 <= 0 || a1 <= 0 || b0 <= 0 {
		t.Errorf("random ids %d %d %d %d", a0, a0again, a1, b0)
	}
	r1, _ := randomID("", 0)
	r2, _ := randomID("", 0)
	if r1 == r2 || r1 <= 0 {
		t.Errorf("keyless random ids %d %d", r1, r2)
	}
}

func TestSendRetryIsDeduplicated(t *testing.T) {
	fake := vktest.New(t, testToken)
	v := New(fake.URL, nil)
	ctx := context.Background()
	m := messenger.Outgoing{Text: "only once", Key: "reply-77"}
	id1, err := v.Send(ctx, fake.Account(), ivan, m)
	if err != nil {
		t.Fatal(err)
	}
	id2, err := v.Send(ctx, fake.Account(), ivan, m)
	if err != nil {
		t.Fatal(err)
	}
	if sent := fake.Sent(); len(sent) != 1 || id1 != id2 || sent[0].ID != id1 || id1 != strconv.Itoa(vktest.FirstMessageID) {
		t.Errorf("retry sent again: %+v (%s, %s)", sent, id1, id2)
	}
	if _, err := v.Send(ctx, fake.Account(), ivan, messenger.Outgoing{Text: "only once", Key: "reply-78"}); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.Sent()); n != 2 {
		t.Errorf("another reply with the same text: %d sent", n)
	}
}

func TestSendLongTextSplits(t *testing.T) {
	fake := vktest.New(t, testToken)
	v := New(fake.URL, nil)
	para := strings.Repeat("ж", 6000)
	text := para + "\n" + para + " " + strings.Repeat("😀", 5000)
	m := messenger.Outgoing{Text: text, Key: "long"}
	id, err := v.Send(context.Background(), fake.Account(), ivan, m)
	if err != nil {
		t.Fatal(err)
	}
	sent := fake.Sent()
	if len(sent) < 3 || id != sent[0].ID {
		t.Fatalf("sent %d messages, id %q", len(sent), id)
	}
	rids := map[string]bool{}
	var joined []string
	for _, s := range sent {
		if n := utf16Len(s.Text); n > MaxText || s.PeerID != ivan {
			t.Errorf("part of %d units to %s", n, s.PeerID)
		}
		rids[s.RandomID] = true
		joined = append(joined, s.Text)
	}
	if len(rids) != len(sent) {
		t.Errorf("parts share a random_id: %v", rids)
	}
	if sent[0].Text != para || sent[1].Text != para {
		t.Errorf("did not cut at the line break and the space")
	}
	if strings.Join(joined, "") != strings.NewReplacer("\n", "", " ", "").Replace(text) {
		t.Error("text lost in splitting")
	}
	// A retry of the whole reply sends no part again.
	if _, err := v.Send(context.Background(), fake.Account(), ivan, m); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.Sent()); n != len(sent) {
		t.Errorf("retry sent %d more", n-len(sent))
	}
}

func TestSendRetryAfterPartialFailure(t *testing.T) {
	fake := vktest.New(t, testToken)
	v := New(fake.URL, nil)
	ctx := context.Background()
	first := strings.Repeat("a", MaxText)
	// The first attempt sent only the first part (as if it failed after).
	if _, err := v.Send(ctx, fake.Account(), ivan, messenger.Outgoing{Text: first, Key: "job-9"}); err != nil {
		t.Fatal(err)
	}
	id, err := v.Send(ctx, fake.Account(), ivan, messenger.Outgoing{Text: first + " second part", Key: "job-9"})
	if err != nil {
		t.Fatal(err)
	}
	sent := fake.Sent()
	if len(sent) != 2 || sent[0].Text != first || sent[1].Text != "second part" || id != sent[0].ID {
		t.Errorf("sent %d: %q… %q", len(sent), sent[0].Text[:5], sent[len(sent)-1].Text)
	}
}

func TestSplitText(t *testing.T) {
	for _, tt := range []struct {
		in    string
		limit int
		want  []string
	}{
		{"", 5, nil},
		{"   ", 5, nil},
		{"abc", 5, []string{"abc"}},
		{"abcdefghij", 5, []string{"abcde", "fghij"}},
		{"abc defghij", 5, []string{"abc", "defgh", "ij"}},
		{"a bcdefghij", 5, []string{"a bcd", "efghi", "j"}},
		{"😀😀😀", 4, []string{"😀😀", "😀"}},
		{"жжжжж", 2, []string{"жж", "жж", "ж"}},
	} {
		if got := splitText(tt.in, tt.limit); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitText(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
		}
	}
}

var jpeg = []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00 fake jpeg")

func TestSendFiles(t *testing.T) {
	fake := vktest.New(t, testToken)
	v := New(fake.URL, nil)
	ctx := context.Background()

	// Text and one image: one message with the photo attached.
	id, err := v.Send(ctx, fake.Account(), ivan, messenger.Outgoing{Text: "the label", Key: "f1",
		Files: []messenger.File{{Filename: "label.jpg", ContentType: "image/jpeg", Data: jpeg}}})
	if err != nil {
		t.Fatal(err)
	}
	sent, up := fake.Sent(), fake.Uploads()
	if len(sent) != 1 || sent[0].ID != id || sent[0].Text != "the label" || len(sent[0].Attachments) != 1 ||
		!strings.HasPrefix(sent[0].Attachments[0], "photo-200000001_") {
		t.Fatalf("photo: %+v", sent)
	}
	if len(up) != 1 || up[0].Kind != "photo" || up[0].Filename != "label.jpg" || !bytes.Equal(up[0].Data, jpeg) || up[0].Attachment != sent[0].Attachments[0] {
		t.Fatalf("upload: %+v", up)
	}

	// A PDF goes as a document; an "image" that is not one falls back to a
	// document; a nameless file is named by its type.
	_, err = v.Send(ctx, fake.Account(), ivan, messenger.Outgoing{Key: "f2", Files: []messenger.File{
		{Filename: "invoice.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.4")},
		{Filename: "fake.png", ContentType: "image/png", Data: []byte("not a png at all")},
		{Data: []byte("%PDF-1.4 nameless")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	sent, up = fake.Sent()[1:], fake.Uploads()[1:]
	if len(sent) != 1 || sent[0].Text != "" || len(sent[0].Attachments) != 3 {
		t.Fatalf("documents: %+v", sent)
	}
	if len(up) != 3 || up[0].Kind != "doc" || up[0].Filename != "invoice.pdf" || up[1].Kind != "doc" || up[1].Filename != "fake.png" ||
		up[2].Kind != "doc" || up[2].Filename != "file.pdf" {
		t.Fatalf("document uploads: %+v", up)
	}
	if calls := strings.Join(fake.Calls(), " "); !strings.Contains(calls, "upload/photo photos.saveMessagesPhoto") ||
		strings.Count(calls, "upload/photo") != 2 {
		t.Errorf("calls: %s", calls)
	}

	// Twelve files: ten with the text, two in a second message.
	var files []messenger.File
	for i := range 12 {
		files = append(files, messenger.File{Filename: fmt.Sprintf("f%d.txt", i), ContentType: "text/plain", Data: []byte("x")})
	}
	before := len(fake.Sent())
	if _, err := v.Send(ctx, fake.Account(), ivan, messenger.Outgoing{Text: "many", Key: "f3", Files: files}); err != nil {
		t.Fatal(err)
	}
	sent = fake.Sent()[before:]
	if len(sent) != 2 || sent[0].Text != "many" || len(sent[0].Attachments) != 10 || sent[1].Text != "" || len(sent[1].Attachments) != 2 {
		t.Fatalf("twelve files: %+v", sent)
	}

	// A file VK refuses sends nothing.
	before = len(fake.Sent())
	_, err = v.Send(ctx, fake.Account(), ivan, messenger.Outgoing{Text: "and a program", Key: "f4",
		Files: []messenger.File{{Filename: "setup.exe", ContentType: "application/octet-stream", Data: []byte("MZ")}}})
	se := messenger.AsSendError(err)
	if se == nil || !se.Permanent || !strings.Contains(se.Reason, "setup.exe") || !strings.Contains(se.Reason, "not allowed") {
		t.Errorf("exe: %v", err)
	}
	if len(fake.Sent()) != before {
		t.Error("a message went although its file was refused")
	}
}

func TestSendErrors(t *testing.T) {
	fake := vktest.New(t, testToken)
	v := New(fake.URL, nil)
	ctx := context.Background()
	send := func() *messenger.SendError {
		t.Helper()
		_, err := v.Send(ctx, fake.Account(), ivan, messenger.Outgoing{Text: "hello", Key: "k"})
		platformtest.NoSecret(t, err, account())
		return platformtest.SendError(t, err)
	}

	fake.FailNextSends(1, http.StatusOK, vktest.ErrorNotAllowed)
	if se := send(); !se.Permanent || se.Broken || se.Reason != NotAllowedReason {
		t.Errorf("901: %+v", se)
	}
	fake.FailNextSends(1, http.StatusOK, vktest.ErrorFlood)
	if se := send(); se.Permanent || se.RetryAfter != floodWait || !strings.Contains(se.Reason, "flood") {
		t.Errorf("flood: %+v", se)
	}
	fake.FailNextSends(1, http.StatusOK, vktest.ErrorTooManyRequests)
	if se := send(); se.Permanent || se.RetryAfter != perSecondWait {
		t.Errorf("6: %+v", se)
	}
	fake.SetDown(true)
	if se := send(); se.Permanent || se.Broken {
		t.Errorf("down: %+v", se)
	}
	fake.SetDown(false)
	if _, err := v.Send(ctx, fake.Account(), ivan, messenger.Outgoing{Text: "works again", Key: "k"}); err != nil {
		t.Fatal(err)
	}

	acc := fake.Account()
	acc.Secrets[FieldAccessToken] = "vk1.a.wrongTOKEN"
	_, err := v.Send(ctx, acc, ivan, messenger.Outgoing{Text: "hello"})
	se := messenger.AsSendError(err)
	if se == nil || !se.Permanent || !se.Broken || strings.Contains(err.Error(), "wrongTOKEN") {
		t.Errorf("wrong token: %v", err)
	}
	acc.Secrets[FieldAccessToken] = ""
	if se := messenger.AsSendError(func() error { _, err := v.Send(ctx, acc, ivan, messenger.Outgoing{Text: "x"}); return err }()); se == nil || !se.Broken {
		t.Errorf("no token: %+v", se)
	}

	// Bad recipients and empty replies never reach VK.
	for _, c := range []struct {
		to string
		m  messenger.Outgoing
	}{{"not-a-number", messenger.Outgoing{Text: "x"}}, {"-200000001", messenger.Outgoing{Text: "x"}},
		{"2000000001", messenger.Outgoing{Text: "x"}}, {ivan, messenger.Outgoing{Text: "  \n"}},
		{ivan, messenger.Outgoing{Files: []messenger.File{{Filename: "empty.txt"}}}}} {
		_, err := v.Send(ctx, fake.Account(), c.to, c.m)
		if se := messenger.AsSendError(err); se == nil || !se.Permanent {
			t.Errorf("%q %q: %v", c.to, c.m.Text, err)
		}
	}
	if n := len(fake.Sent()); n != 1 {
		t.Errorf("sent %d", n)
	}

	// Unreachable: a network error, retried by the outbox.
	_, err = New(platformtest.DeadURL(t), nil).Send(ctx, account(), ivan, messenger.Outgoing{Text: "x"})
	platformtest.Unreachable(t, err, account())
}

func TestSendErrorCodes(t *testing.T) {
	type want struct {
		permanent, broken bool
		retry             time.Duration
	}
	cases := map[int]want{
		6: {retry: perSecondWait}, 9: {retry: floodWait}, 29: {retry: quotaWait}, 1: {}, 10: {},
		5: {true, true, 0}, 27: {true, true, 0}, 28: {true, true, 0}, 7: {true, true, 0},
		15: {permanent: true}, 917: {permanent: true}, 932: {permanent: true}, 100: {permanent: true},
		900: {permanent: true}, 901: {permanent: true}, 902: {permanent: true}, 914: {permanent: true},
		999999: {permanent: true},
	}
	for code, w := range cases {
		err := sendError(&apiError{method: "messages.send", code: code, msg: "the message"})
		se := messenger.AsSendError(err)
		if se == nil || se.Permanent != w.permanent || se.Broken != w.broken || se.RetryAfter != w.retry || se.Reason == "" {
			t.Errorf("%d: %+v", code, se)
		}
	}
	reasons := map[int]string{
		901: NotAllowedReason,
		900: "The client has blocked the community: VK does not deliver messages to them",
		902: "The client's privacy settings do not allow messages from the community",
		999: "VK refused the message (error 999: the message)",
	}
	for code, r := range reasons {
		if se := messenger.AsSendError(sendError(&apiError{method: "messages.send", code: code, msg: "the message"})); se.Reason != r {
			t.Errorf("%d: %q", code, se.Reason)
		}
	}
	// A missing right for uploads does not break the channel.
	if se := messenger.AsSendError(sendError(&apiError{method: "photos.getMessagesUploadServer", code: 15})); !se.Permanent || se.Broken {
		t.Errorf("upload 15: %+v", se)
	}
	if se := messenger.AsSendError(sendError(&apiError{method: "messages.send", status: 503, msg: "Service Unavailable"})); se.Permanent {
		t.Errorf("503: %+v", se)
	}
	netErr := &netError{msg: "vk: dial"}
	if err := sendError(netErr); err != netErr {
		t.Errorf("network: %v", err)
	}
}

func TestSendConcurrent(t *testing.T) {
	fake := vktest.New(t, testToken)
	v := New(fake.URL, nil)
	platformtest.SendConcurrently(t, 20, func(i int) (string, error) {
		return v.Send(context.Background(), fake.Account(), ivan, messenger.Outgoing{Text: fmt.Sprint("n", i), Key: fmt.Sprint("job", i)})
	})
}

// ---------------------------------------------------------------- Connect

func TestConnect(t *testing.T) {
	fake := vktest.New(t, testToken)
	v := New(fake.URL, nil)
	ctx := context.Background()
	acc := account()
	acc.Public[FieldGroupID] = " club200000001 "

	got, err := v.Connect(ctx, acc, "https://switchboard.example/hooks/vk/9")
	if err != nil {
		t.Fatal(err)
	}
	if got.ChannelID != 9 || got.Public[FieldGroupID] != testGroup || got.Public[FieldGroupName] != vktest.GroupName ||
		got.Public[FieldGroupScreenName] != vktest.GroupScreenName || got.Secrets[FieldAccessToken] != testToken ||
		got.Secrets[FieldConfirmation] != testConfirmation || got.Secrets[FieldSecret] != testSecret {
		t.Errorf("connected %+v", got)
	}
	if acc.Public[FieldGroupName] != "" || acc.Public[FieldGroupID] != " club200000001 " {
		t.Error("Connect changed its argument")
	}
	if calls := strings.Join(fake.Calls(), ","); calls != "groups.getById,groups.getTokenPermissions" {
		t.Errorf("calls %s", calls)
	}

	wrong := account()
	wrong.Secrets[FieldAccessToken] = "vk1.a.wrongTOKEN"
	_, err = v.Connect(ctx, wrong, "")
	if platformtest.ErrField(err) != FieldAccessToken || err.Error() != "access_token: VK does not accept this access token" {
		t.Errorf("wrong token: %v", err)
	}
	if strings.Contains(err.Error(), "wrongTOKEN") {
		t.Errorf("secret in %v", err)
	}
	other := account()
	other.Public[FieldGroupID] = "200000002"
	if _, err := v.Connect(ctx, other, ""); platformtest.ErrField(err) != FieldGroupID || !strings.Contains(err.Error(), vktest.GroupName) {
		t.Errorf("another community: %v", err)
	}
	other.Public[FieldGroupID] = "../me"
	if _, err := v.Connect(ctx, other, ""); platformtest.ErrField(err) != FieldGroupID {
		t.Errorf("not digits: %v", err)
	}
	platformtest.Required(t, v, account(), FieldAccessToken, FieldConfirmation, FieldSecret, FieldGroupID)

	fake.SetTokenMask(4 | 131072)
	if _, err := v.Connect(ctx, account(), ""); platformtest.ErrField(err) != FieldAccessToken || !strings.Contains(err.Error(), "messages right") {
		t.Errorf("no messages right: %v", err)
	}
	fake.SetTokenMask(vktest.ManageMask)
	if _, err := v.Connect(ctx, account(), ""); err != nil {
		t.Errorf("manage right, right confirmation: %v", err)
	}
	stale := account()
	stale.Secrets[FieldConfirmation] = "0ld0c0de"
	if _, err := v.Connect(ctx, stale, ""); platformtest.ErrField(err) != FieldConfirmation || strings.Contains(err.Error(), vktest.Confirmation) {
		t.Errorf("stale confirmation: %v", err)
	}
	fake.SetTokenMask(vktest.MessagesMask)
	if _, err := v.Connect(ctx, stale, ""); err != nil {
		t.Errorf("without the manage right the confirmation is not checked: %v", err)
	}

	fake.SetDown(true)
	if _, err := v.Connect(ctx, account(), ""); platformtest.ErrField(err) != "unavailable" {
		t.Errorf("down: %v", err)
	}
	fake.SetDown(false)

	_, err = New(platformtest.DeadURL(t), nil).Connect(ctx, account(), "")
	if platformtest.ErrField(err) != "unavailable" {
		t.Errorf("unreachable: %v", err)
	}
	platformtest.NoSecret(t, err, account())
}

func TestConnectAnswers(t *testing.T) {
	answer := ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if r.URL.Path == "/method/groups.getTokenPermissions" {
			_, _ = io.WriteString(w, `{"response":{"mask":4096,"permissions":[]}}`)
			return
		}
		_, _ = io.WriteString(w, answer)
	}))
	defer srv.Close()
	v := New(srv.URL, nil)
	for body, field := range map[string]string{
		// Before 5.194 groups.getById answered a bare array.
		`{"response":[{"id":200000001,"name":"Old","screen_name":"old"}]}`: "",
		`{"response":{"groups":[]}}`:                                       "unavailable",
		`{"error":{"error_code":100,"error_msg":"One of the parameters specified was missing or invalid: group_ids is undefined"}}`: FieldAccessToken,
		`{"error":{"error_code":27,"error_msg":"Group authorization failed"}}`:                                                      FieldAccessToken,
		`{"error":{"error_code":6,"error_msg":"Too many requests per second"}}`:                                                     "unavailable",
		`{"error":{"error_code":15,"error_msg":"Access denied ` + testToken + `"}}`:                                                 FieldAccessToken,
		`<html>`: "unavailable",
	} {
		answer = body
		got, err := v.Connect(context.Background(), account(), "")
		platformtest.NoSecret(t, err, account())
		if field == "" {
			if err != nil || got.Public[FieldGroupName] != "Old" {
				t.Errorf("%s: %v %+v", body, err, got)
			}
			continue
		}
		if platformtest.ErrField(err) != field {
			t.Errorf("%s: %v", body, err)
		}
	}
}

// ---------------------------------------------------------------- Fetch and Profile

func TestFetch(t *testing.T) {
	fake := vktest.New(t, testToken)
	v := New(fake.URL, nil)
	ctx := context.Background()
	u := fake.AddMedia("photo_z.jpg", "image/jpeg", jpeg)

	f, err := v.Fetch(ctx, fake.Account(), messenger.FileRef{ID: u, Filename: "photo-1_2.jpg", ContentType: "image/jpeg"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.Data, jpeg) || f.Filename != "photo-1_2.jpg" || f.ContentType != "image/jpeg" {
		t.Errorf("fetched %+v", f)
	}
	f, err = v.Fetch(ctx, fake.Account(), messenger.FileRef{ID: u})
	if err != nil || f.Filename != "photo_z.jpg" || f.ContentType != "image/jpeg" {
		t.Errorf("without names: %+v %v", f, err)
	}
	if _, err := v.Fetch(ctx, fake.Account(), messenger.FileRef{ID: fake.URL + "/media/missing"}); err == nil {
		t.Error("missing file fetched")
	}
	if _, err := v.Fetch(ctx, fake.Account(), messenger.FileRef{ID: u, Size: messenger.MaxFile + 1}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("known size too large: %v", err)
	}
	// The fixtures' hosts are not VK's: refused without a request.
	for _, name := range []string{"message_new_photo.json", "message_new_doc.json", "message_new_voice.json", "message_new_sticker.json"} {
		us, _ := v.Parse(account(), platformtest.Fixture(t, name))
		ref := us[0].Message.Files[0]
		if _, err := v.Fetch(ctx, fake.Account(), ref); !errors.Is(err, ErrHostNotAllowed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestFetchRefuses(t *testing.T) {
	ctx := context.Background()
	foreign := platformtest.Foreign(t)
	base := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/redirect":
			http.Redirect(w, r, foreign.URL+"/stolen", http.StatusFound)
		case "/big":
			w.Header().Set("Content-Length", strconv.Itoa(messenger.MaxFile+1))
			w.WriteHeader(200)
		case "/endless":
			for i := 0; i <= messenger.MaxFile/(1<<20); i++ {
				_, _ = w.Write(make([]byte, 1<<20))
			}
		default:
			_, _ = w.Write([]byte("local"))
		}
	}))
	defer base.Close()
	v := New(base.URL, nil)
	if _, err := v.Fetch(ctx, account(), messenger.FileRef{ID: foreign.URL + "/x"}); !errors.Is(err, ErrHostNotAllowed) {
		t.Errorf("foreign host: %v", err)
	}
	if _, err := v.Fetch(ctx, account(), messenger.FileRef{ID: base.URL + "/redirect"}); !errors.Is(err, ErrHostNotAllowed) {
		t.Errorf("redirect: %v", err)
	}
	if _, err := v.Fetch(ctx, account(), messenger.FileRef{ID: base.URL + "/big"}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("big: %v", err)
	}
	if _, err := v.Fetch(ctx, account(), messenger.FileRef{ID: base.URL + "/endless"}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("endless: %v", err)
	}
	for _, id := range []string{"", "not a url", "/relative", "file:///etc/passwd"} {
		if _, err := v.Fetch(ctx, account(), messenger.FileRef{ID: id}); err == nil {
			t.Errorf("%q fetched", id)
		}
	}
}

func TestHostAllowed(t *testing.T) {
	v := New("http://127.0.0.1:8080", nil)
	platformtest.AllowedHosts(t, v.hostAllowed, map[string]bool{
		"https://sun9-1.userapi.com/impg/x.jpg":     true,
		"https://psv4.userapi.com/c1/voice.ogg":     true,
		"https://vk.com/doc1_2?hash=x":              true,
		"https://vk.com/sticker/1-49-128":           true,
		"https://pu.vk.com/c123/upload.php":         true,
		"https://sun1.vkuser.net/x.jpg":             true,
		"https://vkvd1.mycdn.me/x":                  true,
		"https://api.vk.ru/x":                       true,
		"https://VK.COM./x":                         true,
		"http://127.0.0.1:8080/x":                   true,
		"http://127.0.0.1:9090/x":                   false,
		"http://vk.com/x":                           false,
		"https://vk.com:8443/x":                     false,
		"https://vk.com.evil.example/x":             false,
		"https://evilvk.com/x":                      false,
		"https://user@vk.com/x":                     false,
		"https://sun9-1.userapi.example.test/x.jpg": false,
		"https://vk.example.test/doc":               false,
	})
}

func TestProfile(t *testing.T) {
	fake := vktest.New(t, testToken)
	v := New(fake.URL, nil)
	ctx := context.Background()
	p, err := v.Profile(ctx, fake.Account(), ivan)
	if err != nil {
		t.Fatal(err)
	}
	want := messenger.Profile{Name: "Иван Тестов", AvatarURL: "https://sun9-2.userapi.example.test/avatar_100.jpg", ProfileURL: "https://vk.com/id100000001"}
	if p != want {
		t.Errorf("profile %+v", p)
	}
	if p, err := v.Profile(ctx, fake.Account(), "42"); err != nil || p.Name != "User 42" || p.ProfileURL != "https://vk.com/id42" {
		t.Errorf("other user: %+v %v", p, err)
	}
	for _, id := range []string{"", "x", "-1", "2000000001"} {
		if _, err := v.Profile(ctx, fake.Account(), id); err == nil {
			t.Errorf("%q: no error", id)
		}
	}
	acc := fake.Account()
	acc.Secrets[FieldAccessToken] = "vk1.a.wrongTOKEN"
	if _, err := v.Profile(ctx, acc, ivan); err == nil || strings.Contains(err.Error(), "wrongTOKEN") {
		t.Errorf("wrong token: %v", err)
	}

	// The request, and a screen name that is not the id.
	var form url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		form = r.PostForm
		_, _ = io.WriteString(w, `{"response":[{"id":5,"first_name":"Anna","last_name":"","photo_100":"javascript:x","screen_name":"anna.k"}]}`)
	}))
	defer srv.Close()
	p, err = New(srv.URL, nil).Profile(ctx, account(), "5")
	if err != nil || p != (messenger.Profile{Name: "Anna", ProfileURL: "https://vk.com/anna.k"}) {
		t.Errorf("anna: %+v %v", p, err)
	}
	if form.Get("user_ids") != "5" || form.Get("fields") != "photo_100,screen_name" || form.Get("v") != Version {
		t.Errorf("users.get form %v", form)
	}
}

func TestSecretsRedacted(t *testing.T) {
	// An API that echoes the token in every error.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		tok := r.PostForm.Get("access_token")
		fmt.Fprintf(w, `{"error":{"error_code":15,"error_msg":"bad token %s and %s %s","request_params":[{"key":"access_token","value":%q}]}}`,
			tok, testSecret, testConfirmation, tok)
	}))
	defer srv.Close()
	v := New(srv.URL, nil)
	ctx := context.Background()
	_, err := v.Send(ctx, account(), ivan, messenger.Outgoing{Text: "x"})
	platformtest.Redacted(t, err, account())
	_, err = v.Connect(ctx, account(), "")
	platformtest.NoSecret(t, err, account())
	_, err = v.Profile(ctx, account(), ivan)
	platformtest.NoSecret(t, err, account())
	_, err = v.Send(ctx, account(), ivan, messenger.Outgoing{Files: []messenger.File{{Filename: "a.jpg", ContentType: "image/jpeg", Data: jpeg}}})
	platformtest.NoSecret(t, err, account())
}

// ---------------------------------------------------------------- round trip

func TestWebhookRoundTrip(t *testing.T) {
	fake := vktest.New(t, testToken)
	v := New(fake.URL, nil)
	ctx := context.Background()
	connected, err := v.Connect(ctx, fake.Account(), "")
	if err != nil {
		t.Fatal(err)
	}
	hook := platformtest.NewHook(t, v, connected)
	read := platformtest.ReadResponse(t)
	deliver := func(body []byte) (int, string) { return read(fake.Deliver(ctx, hook.URL, body)) }

	if status, answer := read(fake.Confirm(ctx, hook.URL)); status != 200 || answer != vktest.Confirmation {
		t.Errorf("confirmation: %d %q", status, answer)
	}

	photoURL := fake.AddMedia("box.jpg", "image/jpeg", jpeg)
	textID, text := fake.Text(vktest.User, "Где мой заказ?")
	photoID, photo := fake.Photo(vktest.User, photoURL, "коробка")
	docID, doc := fake.Doc(vktest.User, fake.AddMedia("a.pdf", "application/pdf", []byte("%PDF")), "a.pdf", 4)
	sentID, err := v.Send(ctx, connected, vktest.User, messenger.Outgoing{Text: "Проверяем", Key: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range [][]byte{text, text, photo, doc, fake.Edit(textID, "Где мой заказ 1042?"), fake.Read(vktest.User, sentID),
		fake.Deny(vktest.User), fake.Allow(vktest.User), vktest.Fixture("message_new_text.json")} {
		if status, answer := deliver(body); status != 200 || answer != "ok" {
			t.Fatalf("deliver: %d %q", status, answer)
		}
	}
	forged := bytes.Replace(text, []byte(vktest.Secret), []byte("guessed"), 1)
	if status, _ := deliver(forged); status != http.StatusUnauthorized {
		t.Errorf("forged secret: %d", status)
	}

	got := hook.Updates()
	if len(got) != 9 {
		t.Fatalf("updates: %s", platformtest.Dump(got...))
	}
	if m := got[0].Message; got[0].Kind != messenger.Message || m.ExternalID != textID || m.Text != "Где мой заказ?" || m.SenderID != vktest.User || m.SenderName != "" {
		t.Errorf("text: %s", platformtest.Dump(got[:1]...))
	}
	if got[1].Message == nil || got[1].Message.ExternalID != textID {
		t.Errorf("redelivery has another id: %s", platformtest.Dump(got[1:2]...))
	}
	if m := got[2].Message; m == nil || m.ExternalID != photoID || m.Text != "коробка" || len(m.Files) != 1 {
		t.Fatalf("photo: %s", platformtest.Dump(got[2:3]...))
	}
	f, err := v.Fetch(ctx, connected, got[2].Message.Files[0])
	if err != nil || !bytes.Equal(f.Data, jpeg) {
		t.Errorf("fetch photo: %v", err)
	}
	if m := got[3].Message; m == nil || m.ExternalID != docID || len(m.Files) != 1 || m.Files[0].Filename != "a.pdf" || m.Files[0].ContentType != "application/pdf" {
		t.Errorf("doc: %s", platformtest.Dump(got[3:4]...))
	}
	if got[4].Kind != messenger.Edit || got[4].Message.ExternalID != textID || got[4].Message.Text != "Где мой заказ 1042?" {
		t.Errorf("edit: %s", platformtest.Dump(got[4:5]...))
	}
	if s := got[5].Status; s == nil || s.ExternalID != sentID || s.State != messenger.Read {
		t.Errorf("read: %s", platformtest.Dump(got[5:6]...))
	}
	if got[6].Kind != messenger.Ignored || got[7].Kind != messenger.Ignored {
		t.Errorf("deny/allow: %s", platformtest.Dump(got[6:8]...))
	}
	p, err := v.Profile(ctx, connected, got[0].Message.SenderID)
	if err != nil || p.Name != vktest.UserName {
		t.Errorf("profile: %+v %v", p, err)
	}
}

func FuzzParse(f *testing.F) {
	platformtest.NewParser(New("", nil), account()).Fuzz(f, platformtest.Rules{
		Kinds:   []messenger.UpdateKind{messenger.Message, messenger.Edit, messenger.Status, messenger.Ignored, messenger.Answer},
		States:  []string{messenger.Read},
		Answers: []string{OK, testConfirmation},
	}, webhooks.Files(),
		msgNew(`"text":"x","fwd_messages":[{"from_id":1,"text":"y","fwd_messages":[{"attachments":[{"type":"sticker","sticker":{"images":[{"url":"https://vk.com/s"}]}}]}]}]`),
		event("message_edit", `{"from_id":1,"peer_id":1,"conversation_message_id":2,"text":"e"}`),
		msgNew(`"attachments":[{"type":"video","video":{"id":1e400,"owner_id":"x"}}],"geo":{"coordinates":"1 2"}`))
}
