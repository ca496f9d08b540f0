// Package vibertest is a fake Viber REST Bot API for tests: an
// httptest.Server answering the methods Switchboard calls with the shapes
// documented in shared/channels/viber.md (fixtures in fixtures/), able to
// play Viber's side of the webhook with correctly signed callbacks.
//
//	fake := vibertest.New(t, vibertest.Token)
//	platform := viber.New(fake.URL, nil)
//	… connect a channel with bot_token vibertest.Token and hook URL srv.URL+"/…"
//	  (set_webhook calls the hook at once, as Viber does, and needs a 200)
//	_, body := fake.Text(vibertest.Customer, "Test Customer", "hello")
//	resp, err := fake.Deliver(ctx, hookURL, body)
//	… fake.Sent() lists the replies; fake.Status("delivered", sent.MessageToken)
//	  builds the callback about one.
package vibertest

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/switchboard-hq/switchboard/internal/messenger/fakeapi"
)

//go:embed fixtures/*.json
var fixtures embed.FS

// Fixture returns one of the documented sample payloads by file name
// ("message_text.json", "send_message_response_ok.json", …), byte-exact; it
// panics on unknown names.
func Fixture(name string) []byte { return fakeapi.Fixture(fixtures, "vibertest", name) }

// The fake's bot and the fixtures' client.
const (
	// Token is SIGNING.md's token: Deliver(…, Fixture("message_text.json"))
	// carries SIGNING.md's signature when the fake uses it.
	Token = "4ab1c0ffee000000-TESTTOKEN0000000-0000000000000001"
	// Customer is the subscriber id of the fixtures' client.
	Customer     = "TESTuserAAAAAAAAAAAAAA=="
	CustomerName = "Test Customer"
	// What get_account_info answers.
	AccountID = "pa:5700000000000000042"
	BotName   = "Switchboard Test Bot"
	BotURI    = "switchboardtestbot"
	BotIcon   = "https://media.example.test/bot/icon.jpg"
)

// Scripted answers for FailNextSends / FailNext (Viber answers HTTP 200 with
// a non-zero status).
var (
	// ErrorTooManyRequests is status 12.
	ErrorTooManyRequests = string(Fixture("send_message_response_too_many.json"))
	// ErrorNotSubscribed is status 6 (the client unsubscribed).
	ErrorNotSubscribed = string(Fixture("send_message_response_not_subscribed.json"))
	// ErrorInvalidToken is status 2.
	ErrorInvalidToken = `{"status":2,"status_message":"invalidAuthToken"}`
	// ErrorBadWebhook is set_webhook failing to reach the URL.
	ErrorBadWebhook = `{"status":1,"status_message":"Result[HttpRequest[POST / HTTP/1.1]@0, HttpResponse[null 0 null]@0, java.net.UnknownHostException]"}`
)

// SignatureHeader is the header Deliver sets to the body's HMAC.
const SignatureHeader = "X-Viber-Content-Signature"

// Sign is the X-Viber-Content-Signature of body under token: lowercase hex
// HMAC-SHA256.
func Sign(token string, body []byte) string { return fakeapi.HMAC(token, body) }

// Sent is one send_message the fake accepted.
type Sent struct {
	Receiver      string
	Type          string
	Text          string // the text, or a picture's caption
	SenderName    string
	SenderAvatar  string
	Media         string
	FileName      string
	Size          int64
	MinAPIVersion int
	// MessageToken is the message_token answered (decimal, above 2^53).
	MessageToken string
	// Body is the request as received.
	Body []byte
}

// Fake is a fake Viber API for one bot token. Safe for concurrent use.
type Fake struct {
	fakeapi.Base // the server, its lock, SetDown and scripted failures

	// URL is the base URL to give viber.New.
	URL   string
	Token string

	calls fakeapi.CallLog
	media fakeapi.Files

	// Guarded by the lock:
	skipCheck    bool
	webhookURL   string
	eventTypes   []string
	sendName     bool
	sendPhoto    bool
	sent         []Sent
	outSeq       int64
	inSeq        int64
	unsubscribed map[string]bool
}

// New starts a fake for token (Token when empty); it closes when the test
// ends.
func New(t testing.TB, token string) *Fake {
	t.Helper()
	if token == "" {
		token = Token
	}
	f := &Fake{Token: token, unsubscribed: map[string]bool{}}
	f.URL = f.Start(t, http.HandlerFunc(f.serve)) + "/pa"
	return f
}

// Webhook is what the last set_webhook registered.
func (f *Fake) Webhook() (url string, eventTypes []string) {
	f.Lock()
	defer f.Unlock()
	return f.webhookURL, append([]string(nil), f.eventTypes...)
}

// SendsNameAndPhoto says whether the last set_webhook asked for send_name
// and send_photo.
func (f *Fake) SendsNameAndPhoto() (name, photo bool) {
	f.Lock()
	defer f.Unlock()
	return f.sendName, f.sendPhoto
}

// Sent lists the messages accepted so far, in order (not the refused ones).
func (f *Fake) Sent() []Sent { return fakeapi.Snapshot(f, &f.sent) }

// Calls lists every method called (and "media" for downloads), in order,
// including the ones answered with an error.
func (f *Fake) Calls() []string { return f.calls.List() }

// SkipWebhookCheck makes set_webhook accept a URL without calling it (Viber
// always calls it; for tests whose hook URL leads nowhere).
func (f *Fake) SkipWebhookCheck(skip bool) {
	f.Lock()
	defer f.Unlock()
	f.skipCheck = skip
}

// FailNextSends makes the next n send_message calls answer HTTP status with
// body (ErrorTooManyRequests, ErrorNotSubscribed… with status 200; an empty
// body becomes the status's text).
func (f *Fake) FailNextSends(n, status int, body string) {
	f.FailNext("send_message", n, status, body)
}

// FailNext makes the next n calls of method answer status with body.
func (f *Fake) FailNext(method string, n, status int, body string) {
	if body == "" {
		body = http.StatusText(status)
	}
	f.QueueFailures(n, status, body, method)
}

// Unsubscribe makes sends to userID fail with status 6, as after the
// client's "unsubscribed" event; Resubscribe undoes it.
func (f *Fake) Unsubscribe(userID string) {
	f.Lock()
	defer f.Unlock()
	f.unsubscribed[userID] = true
}

// Resubscribe lets userID receive messages again.
func (f *Fake) Resubscribe(userID string) {
	f.Lock()
	defer f.Unlock()
	delete(f.unsubscribed, userID)
}

// AddMedia makes data downloadable as a client's file and returns its link
// (on the fake's host, which the platform's Fetch allows).
func (f *Fake) AddMedia(name, contentType string, data []byte) string {
	f.media.Add(name, fakeapi.NewFile(contentType, data))
	return f.ServerURL() + "/media/" + url.PathEscape(name) + "?Expires=4102444800&Signature=FAKE"
}

// Deliver posts body to hookURL signed with the fake's token, as Viber posts
// callbacks. The caller closes the response body.
func (f *Fake) Deliver(ctx context.Context, hookURL string, body []byte) (*http.Response, error) {
	return fakeapi.PostHook(ctx, hookURL, body, map[string]string{SignatureHeader: Sign(f.Token, body)})
}

// ---------------------------------------------------------------- callbacks

func (f *Fake) nextIn() string {
	f.Lock()
	defer f.Unlock()
	f.inSeq++
	return strconv.FormatInt(5710000000000000100+f.inSeq, 10)
}

func now() int64 { return time.Now().UnixMilli() }

// callback encodes a callback with message_token as a JSON number.
func callback(fields map[string]any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(fields); err != nil {
		panic(err)
	}
	return b.Bytes()
}

func senderOf(userID, name string) map[string]any {
	s := map[string]any{"id": userID, "language": "en", "country": "GB", "api_version": 10}
	if name != "" {
		s["name"] = name
	}
	return s
}

// Text builds a "message" callback of a text from userID (named name; ""
// leaves the name out) and returns its new message_token.
func (f *Fake) Text(userID, name, text string) (messageToken string, body []byte) {
	messageToken = f.nextIn()
	return messageToken, callback(map[string]any{
		"event": "message", "timestamp": now(), "chat_hostname": "SN-FAKE_",
		"message_token": json.Number(messageToken), "sender": senderOf(userID, name),
		"message": map[string]any{"type": "text", "text": text}, "silent": false,
	})
}

// Picture builds a "message" callback of a picture at mediaURL (see
// AddMedia) with caption, and returns its new message_token.
func (f *Fake) Picture(userID, name, mediaURL, fileName, caption string) (messageToken string, body []byte) {
	messageToken = f.nextIn()
	return messageToken, callback(map[string]any{
		"event": "message", "timestamp": now(), "chat_hostname": "SN-FAKE_",
		"message_token": json.Number(messageToken), "sender": senderOf(userID, name),
		"message": map[string]any{"type": "picture", "text": caption, "media": mediaURL,
			"thumbnail": mediaURL, "file_name": fileName, "size": 1},
		"silent": false,
	})
}

// Status builds a "delivered", "seen" or "failed" callback about the reply
// with messageToken (see Sent.MessageToken).
func (f *Fake) Status(event, messageToken string) []byte {
	c := map[string]any{"event": event, "timestamp": now(), "chat_hostname": "SN-FAKE_",
		"message_token": json.Number(messageToken), "user_id": Customer}
	if event == "failed" {
		c["desc"] = "failure description"
	}
	return callback(c)
}

// ---------------------------------------------------------------- server

func writeJSON(w http.ResponseWriter, status int, body string) {
	fakeapi.WriteJSON(w, "application/json", status, []byte(body))
}

func status(w http.ResponseWriter, code int, message string) {
	b, _ := json.Marshal(map[string]any{"status": code, "status_message": message, "chat_hostname": "SN-CHAT-FAKE_"})
	writeJSON(w, http.StatusOK, string(b))
}

func okAnswer(w http.ResponseWriter, fields map[string]any) {
	fields["status"], fields["status_message"] = 0, "ok"
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(fields)
	writeJSON(w, http.StatusOK, b.String())
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	isMedia := strings.HasPrefix(r.URL.Path, "/media/")
	method := strings.TrimPrefix(r.URL.Path, "/pa/")
	switch {
	case isMedia:
		f.calls.Add("media")
	case strings.HasPrefix(r.URL.Path, "/pa/") && r.Method == http.MethodPost:
		f.calls.Add(method)
	default:
		http.NotFound(w, r)
		return
	}

	if f.RefuseWhileDown(w, fakeapi.GatewayPage) {
		return
	}
	if isMedia {
		f.download(w, r)
		return
	}
	// A scripted failure is spent even on a call with a wrong token.
	failStatus, failBody, failed := f.NextFailure(method)
	// Viber answers 200 with status 2 to a missing or wrong token.
	if r.Header.Get("X-Viber-Auth-Token") != f.Token {
		status(w, 2, "invalidAuthToken")
		return
	}
	if failed {
		writeJSON(w, failStatus, failBody)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		status(w, 3, "badData")
		return
	}
	var req map[string]json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil {
		status(w, 3, "badData: the body is not a JSON object")
		return
	}
	switch method {
	case "get_account_info":
		okAnswer(w, map[string]any{"id": AccountID, "name": BotName, "uri": BotURI, "icon": BotIcon,
			"background": "https://media.example.test/bot/background.jpg", "category": "Companies",
			"subcategory": "Customer service", "country": "GB", "webhook": f.webhook(),
			"subscribers_count": 1, "members": []any{}})
	case "set_webhook":
		f.setWebhook(r.Context(), w, req)
	case "send_message":
		f.send(w, body)
	case "get_user_details":
		f.userDetails(w, req)
	case "get_online":
		okAnswer(w, map[string]any{"users": []any{}})
	default:
		status(w, 3, "badData: unknown method "+method)
	}
}

func (f *Fake) webhook() string {
	u, _ := f.Webhook()
	return u
}

func str(req map[string]json.RawMessage, k string) (string, bool) {
	var s string
	raw, ok := req[k]
	if !ok {
		return "", false
	}
	return s, json.Unmarshal(raw, &s) == nil
}

func (f *Fake) setWebhook(ctx context.Context, w http.ResponseWriter, req map[string]json.RawMessage) {
	hook, ok := str(req, "url")
	if !ok {
		status(w, 3, "badData: url is required")
		return
	}
	var types []string
	if raw, has := req["event_types"]; has && json.Unmarshal(raw, &types) != nil {
		status(w, 3, "badData: event_types")
		return
	}
	var sendName, sendPhoto bool
	_ = json.Unmarshal(req["send_name"], &sendName)
	_ = json.Unmarshal(req["send_photo"], &sendPhoto)
	f.Lock()
	skip := f.skipCheck
	f.Unlock()
	if hook != "" && !skip {
		// Viber calls the URL at once and registers it only on a 200.
		f.Lock()
		f.inSeq++
		tok := 5700000000000000100 + f.inSeq
		f.Unlock()
		check := callback(map[string]any{"event": "webhook", "timestamp": now(), "chat_hostname": "SN-FAKE_",
			"message_token": tok})
		resp, err := f.Deliver(ctx, hook, check)
		if err != nil {
			status(w, 1, fmt.Sprintf("Result[HttpRequest[POST %s HTTP/1.1], HttpResponse[null 0 null], %s]", hook, errText(err)))
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			status(w, 1, fmt.Sprintf("Result[HttpRequest[POST %s HTTP/1.1], HttpResponse[HTTP/1.1 %d]]", hook, resp.StatusCode))
			return
		}
	}
	f.Lock()
	f.webhookURL, f.eventTypes, f.sendName, f.sendPhoto = hook, types, sendName, sendPhoto
	f.Unlock()
	if types == nil {
		types = []string{"delivered", "seen", "failed", "subscribed", "unsubscribed", "conversation_started", "message"}
	}
	okAnswer(w, map[string]any{"event_types": types, "chat_hostname": "SN-CHAT-FAKE_"})
}

func errText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err.Error()
	}
	return err.Error()
}

func (f *Fake) send(w http.ResponseWriter, body []byte) {
	if len(body) > 30*1024 {
		status(w, 3, "badData: the request is larger than 30 KB")
		return
	}
	var s struct {
		Receiver      string  `json:"receiver"`
		MinAPIVersion *int    `json:"min_api_version"`
		Type          string  `json:"type"`
		Text          *string `json:"text"`
		Media         string  `json:"media"`
		Size          int64   `json:"size"`
		FileName      string  `json:"file_name"`
		Sender        struct {
			Name   string `json:"name"`
			Avatar string `json:"avatar"`
		} `json:"sender"`
	}
	if err := json.Unmarshal(body, &s); err != nil {
		status(w, 3, "badData: "+err.Error())
		return
	}
	switch {
	case s.Receiver == "":
		status(w, 4, "missingData: receiver")
		return
	case s.Sender.Name == "":
		status(w, 4, "missingData: sender.name")
		return
	case utf8.RuneCountInString(s.Sender.Name) > 28:
		status(w, 3, "badData: sender.name is longer than 28 characters")
		return
	}
	units := 0
	if s.Text != nil {
		units = len(utf16.Encode([]rune(*s.Text)))
	}
	switch s.Type {
	case "text":
		if s.Text == nil || strings.TrimSpace(*s.Text) == "" {
			status(w, 4, "missingData: text")
			return
		}
		if units > 7000 {
			status(w, 3, "badData: text is longer than 7000 characters")
			return
		}
	case "picture":
		if s.Media == "" || s.Text == nil {
			status(w, 4, "missingData: media and text")
			return
		}
		if units > 768 {
			status(w, 3, "badData: picture text is longer than 768 characters")
			return
		}
	case "file":
		if s.Media == "" || s.Size <= 0 || s.FileName == "" {
			status(w, 4, "missingData: media, size and file_name")
			return
		}
	case "video", "url", "location", "contact", "sticker", "rich_media":
	default:
		status(w, 3, "badData: unknown type")
		return
	}
	f.Lock()
	if f.unsubscribed[s.Receiver] {
		f.Unlock()
		writeJSON(w, http.StatusOK, ErrorNotSubscribed)
		return
	}
	f.outSeq++
	token := strconv.FormatInt(5720000000000000000+f.outSeq, 10)
	sent := Sent{Receiver: s.Receiver, Type: s.Type, SenderName: s.Sender.Name, SenderAvatar: s.Sender.Avatar,
		Media: s.Media, FileName: s.FileName, Size: s.Size, MessageToken: token, Body: append([]byte(nil), body...)}
	if s.Text != nil {
		sent.Text = *s.Text
	}
	if s.MinAPIVersion != nil {
		sent.MinAPIVersion = *s.MinAPIVersion
	}
	f.sent = append(f.sent, sent)
	f.Unlock()

	// The answer is send_message_response_ok.json with this message's token.
	var a map[string]any
	d := json.NewDecoder(bytes.NewReader(Fixture("send_message_response_ok.json")))
	d.UseNumber()
	_ = d.Decode(&a)
	a["message_token"] = json.Number(token)
	okAnswer(w, a)
}

func (f *Fake) userDetails(w http.ResponseWriter, req map[string]json.RawMessage) {
	id, _ := str(req, "id")
	if id == "" {
		status(w, 4, "missingData: id")
		return
	}
	var a map[string]any
	d := json.NewDecoder(bytes.NewReader(Fixture("get_user_details_response.json")))
	d.UseNumber()
	_ = d.Decode(&a)
	if u, ok := a["user"].(map[string]any); ok {
		u["id"] = id
	}
	okAnswer(w, a)
}

func (f *Fake) download(w http.ResponseWriter, r *http.Request) {
	if !f.media.Serve(w, strings.TrimPrefix(r.URL.Path, "/media/")) {
		http.Error(w, "Forbidden", http.StatusForbidden) // as an expired CDN link
	}
}
