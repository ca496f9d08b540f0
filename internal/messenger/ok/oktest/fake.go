// Package oktest is a fake OK Graph API (the group "Bot API") for tests: an
// httptest.Server that checks the access token and the JSON content type,
// answers /me/info, keeps webhook subscriptions, records sent messages,
// runs the upload flow (fileUploadUrl, then a multipart POST), serves
// clients' files, and can be taken down or made to fail; plus Deliver, which
// posts a webhook body to the subscribed URL (its secret segment is OK's
// only authentication), and builders of webhook bodies.
//
// Point the platform at it with ok.New(fake.URL, nil) and use fake.Account()
// as the channel's account before Connect.
package oktest

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/switchboard-hq/switchboard/internal/messenger"
	"github.com/switchboard-hq/switchboard/internal/messenger/fakeapi"
)

// The fake's group and the fixtures' client.
const (
	// Token is the access token New accepts when given none.
	Token     = "tkn1FakeOKGroupToken0123456789:CQABPOJKAKEKEKEKE"
	GroupID   = "group:570000000000001"
	GroupName = "Switchboard Test Group"
	// ChatID, UserID and UserName are the client of the webhook fixtures.
	ChatID   = "chat:C3ecb9d0fake01"
	UserID   = "user:910000000001"
	UserName = "Тест Клиентов"
	// MaxText is the longest text the fake accepts, in runes.
	MaxText = 4000
)

//go:embed fixtures/*.json
var fixtures embed.FS

// Fixture returns a copy of one of the shared OK fixtures, byte-exact
// ("message_text.json", "send_response_error.json", …). It panics on an
// unknown name.
func Fixture(name string) []byte { return fakeapi.Fixture(fixtures, "oktest", name) }

// WebhookFixtures are the fixture names of webhook bodies.
var WebhookFixtures = []string{
	"message_text.json", "message_image.json", "message_file.json", "message_share.json",
	"message_location.json", "message_callback.json", "chat_system.json",
}

// Scripted error bodies for FailNextSends / FailNext (OK answers errors as
// {"error_code", "error_msg", "error_data"}, usually with HTTP 200).
var (
	// ErrorSessionExpired is a token OK no longer accepts (the fixture).
	ErrorSessionExpired = string(Fixture("send_response_error.json"))
	// ErrorFloodBlocked is OK's rate limit.
	ErrorFloodBlocked = `{"error_code":8,"error_msg":"FLOOD_BLOCKED : Too many requests","error_data":null}`
	// ErrorPermissionDenied is a client who does not accept the group's messages.
	ErrorPermissionDenied = `{"error_code":10,"error_msg":"PERMISSION_DENIED : User does not allow messages from this group","error_data":null}`
	// ErrorNotFound is an unknown chat.
	ErrorNotFound = `{"error_code":300,"error_msg":"NOT_FOUND : Chat not found","error_data":null}`
	// ErrorNotReady is an uploaded attachment still being processed (the
	// wording is a guess: OK documents none).
	ErrorNotReady = `{"error_code":1,"error_msg":"UNKNOWN : attachment.not.ready","error_data":null}`
	// ErrorService is OK's temporary SERVICE error.
	ErrorService = `{"error_code":2,"error_msg":"SERVICE : Service is temporarily unavailable","error_data":null}`
)

// Sent is one message the fake accepted.
type Sent struct {
	MessageID  string
	ChatID     string
	Text       string
	Attachment string  // the attachment's type (FILE, IMAGE…), "" for text
	Token      string  // the attachment's token
	Upload     *Upload // the uploaded file the token names (nil for text)
	Body       []byte  // the request body as received
}

// Upload is one file posted to an upload URL.
type Upload struct {
	Type        string // FILE, IMAGE, VIDEO or AUDIO (of fileUploadUrl)
	Token       string // the attachment token that names it
	Filename    string
	ContentType string
	Data        []byte
}

type slot struct {
	typ, token, fileID string
}

// Fake is a fake OK Graph API. It is safe for concurrent use.
type Fake struct {
	fakeapi.Base // the server, its lock, SetDown and scripted failures

	// URL is the base URL to give ok.New (…/graph).
	URL   string
	Token string

	calls fakeapi.CallLog
	media fakeapi.Files

	// Guarded by the lock:
	subs    []string
	sent    []Sent
	uploads []Upload
	slots   map[string]slot    // upload slot number → what fileUploadUrl named
	tokens  map[string]*Upload // attachment token → uploaded file
	nSlot   int
	nSent   int
	nMedia  int
	nIn     int
}

// New starts a fake that accepts the access token token (Token when none is
// given); it stops when the test ends.
func New(t testing.TB, token ...string) *Fake {
	t.Helper()
	f := &Fake{Token: Token, slots: map[string]slot{}, tokens: map[string]*Upload{}}
	if len(token) > 0 {
		f.Token = token[0]
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /graph/me/info", f.info)
	mux.HandleFunc("POST /graph/me/subscribe", f.subscribe)
	mux.HandleFunc("POST /graph/me/unsubscribe", f.unsubscribe)
	mux.HandleFunc("GET /graph/me/subscriptions", f.subscriptions)
	mux.HandleFunc("POST /graph/me/messages/{chat}", f.message)
	mux.HandleFunc("GET /graph/me/fileUploadUrl", f.fileUploadURL)
	mux.HandleFunc("POST /upload/{slot}", f.upload)
	mux.HandleFunc("GET /media/{id}", f.download)
	f.URL = f.Start(t, f.gate(mux)) + "/graph"
	return f
}

// Account is an account for this fake before Connect: just the token.
func (f *Fake) Account() messenger.Account {
	return messenger.Account{Public: map[string]string{}, Secrets: map[string]string{"access_token": f.Token}}
}

// FailNextSends makes the next n POST /me/messages/{chat} answer status with
// body (ErrorFloodBlocked, ErrorPermissionDenied…; an empty body is a bare
// HTTP status).
func (f *Fake) FailNextSends(n, status int, body string) { f.FailNext("messages", n, status, body) }

// FailNext makes the next n calls of endpoint answer status with body. The
// endpoints: info, subscribe, unsubscribe, subscriptions, messages,
// fileUploadUrl, upload, media.
func (f *Fake) FailNext(endpoint string, n, status int, body string) {
	f.QueueFailures(n, status, body, endpoint)
}

// Sent lists the messages accepted so far, in order (not the refused ones).
func (f *Fake) Sent() []Sent { return fakeapi.Snapshot(f, &f.sent) }

// Uploads lists the files uploaded so far, in order.
func (f *Fake) Uploads() []Upload { return fakeapi.Snapshot(f, &f.uploads) }

// Subscriptions lists the subscribed webhook URLs, oldest first.
func (f *Fake) Subscriptions() []string { return fakeapi.Snapshot(f, &f.subs) }

// Calls lists the endpoints called (see FailNext), in order, including the
// ones answered with an error.
func (f *Fake) Calls() []string { return f.calls.List() }

// AddMedia makes data downloadable as a client's file and returns its URL
// (on the fake's host, as OK's CDN URLs are for a real channel).
func (f *Fake) AddMedia(contentType string, data []byte) string {
	f.Lock()
	defer f.Unlock()
	f.nMedia++
	id := strconv.Itoa(910000000000 + f.nMedia)
	f.media.Add(id, fakeapi.NewFile(contentType, data))
	return f.ServerURL() + "/media/" + id + "?id=" + id + "&t=fake"
}

// Deliver POSTs a webhook body as OK does: to the URL subscribed for
// hookURL, that is hookURL itself or hookURL + "/" + its secret segment
// (OK's only authentication). The caller closes the response body.
func (f *Fake) Deliver(ctx context.Context, hookURL string, body []byte) (*http.Response, error) {
	target := ""
	prefix := strings.TrimRight(hookURL, "/") + "/"
	f.Lock()
	for i := len(f.subs) - 1; i >= 0; i-- {
		if s := f.subs[i]; s == hookURL || strings.HasPrefix(s, prefix) {
			target = s
			break
		}
	}
	f.Unlock()
	if target == "" {
		return nil, errors.New("oktest: no webhook is subscribed at " + hookURL)
	}
	return fakeapi.PostHook(ctx, target, body, map[string]string{"Content-Type": "application/json;charset=utf-8"})
}

// Text builds a MESSAGE_CREATED webhook body from the client userID (name
// may be empty) in chat, with a new mid and a seq above 2^53, and returns
// the mid.
func (f *Fake) Text(chat, userID, name, text string) (mid string, body []byte) {
	return f.webhook(chat, userID, name, map[string]any{"text": text})
}

// File builds a MESSAGE_CREATED webhook body with one FILE attachment at
// fileURL (see AddMedia) and returns its mid.
func (f *Fake) File(chat, userID, name, fileURL, filename string, size int) (mid string, body []byte) {
	return f.webhook(chat, userID, name, map[string]any{"text": "", "attachments": []map[string]any{{
		"type": "FILE", "payload": map[string]any{"url": fileURL, "name": filename, "size": size},
	}}})
}

func (f *Fake) webhook(chat, userID, name string, message map[string]any) (string, []byte) {
	f.Lock()
	f.nIn++
	n := f.nIn
	f.Unlock()
	mid := fmt.Sprintf("mid:%s.%x", strings.TrimPrefix(chat, "chat:"), 0x15cea67d7900000+n)
	message["mid"] = mid
	message["seq"] = int64(98211023614200000) + int64(n)
	sender := map[string]any{"user_id": userID}
	if name != "" {
		sender["name"] = name
	}
	b, err := json.Marshal(map[string]any{
		"webhookType": "MESSAGE_CREATED",
		"sender":      sender,
		"recipient":   map[string]any{"chat_id": chat},
		"message":     message,
		"timestamp":   time.Now().UnixMilli(),
	})
	if err != nil {
		panic(err)
	}
	return mid, b
}

// ---------------------------------------------------------------- server

func okError(code int, msg string) string {
	b, _ := json.Marshal(map[string]any{"error_code": code, "error_msg": msg, "error_data": nil})
	return string(b)
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	fakeapi.WriteJSON(w, "application/json;charset=utf-8", status, []byte(body))
}

// endpoint names a request for FailNext and Calls.
func endpoint(r *http.Request) string {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/graph/me/messages/"):
		return "messages"
	case strings.HasPrefix(p, "/graph/me/"):
		return strings.TrimPrefix(p, "/graph/me/")
	case strings.HasPrefix(p, "/upload/"):
		return "upload"
	case strings.HasPrefix(p, "/media/"):
		return "media"
	}
	return p
}

// downPage is what OK's front end answers while the API is out.
const downPage = "<html><body><h1>502 Bad Gateway</h1></body></html>\n"

func (f *Fake) gate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ep := endpoint(r)
		f.calls.Add(ep)
		if f.RefuseWhileDown(w, downPage) {
			return
		}
		if status, body, failed := f.NextFailure(ep); failed {
			if body == "" {
				http.Error(w, http.StatusText(status), status)
				return
			}
			writeJSON(w, status, body)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/graph/") {
			if r.URL.Query().Get("access_token") != f.Token {
				writeJSON(w, http.StatusOK, ErrorSessionExpired)
				return
			}
			if r.Method == http.MethodPost {
				mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
				if err != nil || mt != "application/json" || !strings.EqualFold(params["charset"], "utf-8") {
					writeJSON(w, http.StatusOK, okError(100, "PARAM : Content-Type: application/json;charset=utf-8 is required"))
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (f *Fake) info(w http.ResponseWriter, _ *http.Request) {
	b, _ := json.Marshal(map[string]string{"name": GroupName, "group_id": GroupID})
	writeJSON(w, http.StatusOK, string(b))
}

// readURL reads {"url": …} and checks it is http(s).
func readURL(w http.ResponseWriter, r *http.Request) (string, bool) {
	var req struct {
		URL string `json:"url"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		writeJSON(w, http.StatusOK, okError(100, "PARAM : Invalid JSON"))
		return "", false
	}
	if !strings.HasPrefix(req.URL, "https://") && !strings.HasPrefix(req.URL, "http://") {
		writeJSON(w, http.StatusOK, okError(100, "PARAM : url must be an http: or https: URL"))
		return "", false
	}
	return req.URL, true
}

func (f *Fake) subscribe(w http.ResponseWriter, r *http.Request) {
	u, ok := readURL(w, r)
	if !ok {
		return
	}
	f.Lock()
	found := false
	for _, s := range f.subs {
		found = found || s == u
	}
	if !found {
		f.subs = append(f.subs, u)
	}
	f.Unlock()
	writeJSON(w, http.StatusOK, string(Fixture("subscribe_response.json")))
}

func (f *Fake) unsubscribe(w http.ResponseWriter, r *http.Request) {
	u, ok := readURL(w, r)
	if !ok {
		return
	}
	f.Lock()
	kept := f.subs[:0]
	for _, s := range f.subs {
		if s != u {
			kept = append(kept, s)
		}
	}
	f.subs = kept
	f.Unlock()
	writeJSON(w, http.StatusOK, string(Fixture("subscribe_response.json")))
}

func (f *Fake) subscriptions(w http.ResponseWriter, _ *http.Request) {
	var list []map[string]string
	for _, s := range f.Subscriptions() {
		list = append(list, map[string]string{"url": s})
	}
	b, _ := json.Marshal(map[string]any{"subscriptions": list})
	writeJSON(w, http.StatusOK, string(b))
}

func (f *Fake) message(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeJSON(w, http.StatusOK, okError(100, "PARAM : unreadable body"))
		return
	}
	var req struct {
		Recipient struct {
			ChatID string `json:"chat_id"`
		} `json:"recipient"`
		Message *struct {
			Text       string `json:"text"`
			Attachment *struct {
				Type    string `json:"type"`
				Payload struct {
					Token string `json:"token"`
					URL   string `json:"url"`
				} `json:"payload"`
			} `json:"attachment"`
		} `json:"message"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Message == nil {
		writeJSON(w, http.StatusOK, okError(100, "PARAM : message is required"))
		return
	}
	chat := r.PathValue("chat")
	if !strings.HasPrefix(chat, "chat:") || req.Recipient.ChatID != chat {
		writeJSON(w, http.StatusOK, okError(100, "PARAM : recipient.chat_id does not match the chat of the URL"))
		return
	}
	s := Sent{ChatID: chat, Text: req.Message.Text, Body: body}
	if a := req.Message.Attachment; a != nil {
		s.Attachment, s.Token = a.Type, a.Payload.Token
		f.Lock()
		up := f.tokens[a.Payload.Token]
		f.Unlock()
		if up == nil || up.Type != a.Type {
			writeJSON(w, http.StatusOK, okError(100, "PARAM : invalid attachment token"))
			return
		}
		s.Upload = up
	} else if strings.TrimSpace(s.Text) == "" {
		writeJSON(w, http.StatusOK, okError(100, "PARAM : message text is empty"))
		return
	}
	if utf8.RuneCountInString(s.Text) > MaxText {
		writeJSON(w, http.StatusOK, okError(100, "PARAM : message text is too long"))
		return
	}
	f.Lock()
	s.MessageID = fmt.Sprintf("mid:%s.%x", strings.TrimPrefix(chat, "chat:"), 0x15cea67d78d3000+f.nSent)
	f.nSent++
	f.sent = append(f.sent, s)
	f.Unlock()

	var out map[string]any
	_ = json.Unmarshal(Fixture("send_response_ok.json"), &out)
	out["message_id"] = s.MessageID
	b, _ := json.Marshal(out)
	writeJSON(w, http.StatusOK, string(b))
}

func (f *Fake) fileUploadURL(w http.ResponseWriter, r *http.Request) {
	typ := r.URL.Query().Get("type")
	switch typ {
	case "FILE", "IMAGE", "VIDEO", "AUDIO":
	default:
		writeJSON(w, http.StatusOK, okError(100, "PARAM : type must be FILE, IMAGE, VIDEO or AUDIO"))
		return
	}
	f.Lock()
	f.nSlot++
	n := strconv.Itoa(f.nSlot)
	s := slot{typ: typ}
	if typ == "IMAGE" {
		s.fileID = fmt.Sprintf("fakeFileId%04d", f.nSlot)
	} else {
		s.token = fmt.Sprintf("fakeUploadToken%04d", f.nSlot)
	}
	f.slots[n] = s
	f.Unlock()

	var out map[string]any
	_ = json.Unmarshal(Fixture("file_upload_url_response.json"), &out)
	out["url"] = f.ServerURL() + "/upload/" + n + "?sig=fake&expires=1718003600000&clientType=3&id=" + n + "&userId=1"
	if typ == "IMAGE" {
		delete(out, "token")
		out["file_id"] = s.fileID
	} else {
		out["token"] = s.token
	}
	b, _ := json.Marshal(out)
	writeJSON(w, http.StatusOK, string(b))
}

func (f *Fake) upload(w http.ResponseWriter, r *http.Request) {
	n := r.PathValue("slot")
	f.Lock()
	s, ok := f.slots[n]
	delete(f.slots, n)
	f.Unlock()
	if !ok {
		http.Error(w, "unknown upload URL", http.StatusNotFound)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<20)
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		http.Error(w, "multipart/form-data expected", http.StatusBadRequest)
		return
	}
	file, hdr, err := r.FormFile("file")
	if err != nil {
		http.Error(w, "no file part", http.StatusBadRequest)
		return
	}
	defer file.Close()
	data, _ := io.ReadAll(file)
	up := Upload{Type: s.typ, Token: s.token, Filename: hdr.Filename, ContentType: hdr.Header.Get("Content-Type"), Data: data}
	if s.typ == "IMAGE" {
		up.Token = "fakePhotoToken" + strings.TrimPrefix(s.fileID, "fakeFileId")
	}
	f.Lock()
	f.uploads = append(f.uploads, up)
	stored := up
	f.tokens[up.Token] = &stored
	f.Unlock()
	if s.typ == "IMAGE" {
		b, _ := json.Marshal(map[string]any{"photos": map[string]any{s.fileID: map[string]string{"token": up.Token}}})
		writeJSON(w, http.StatusOK, string(b))
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (f *Fake) download(w http.ResponseWriter, r *http.Request) {
	if !f.media.Serve(w, r.PathValue("id")) {
		http.NotFound(w, r)
	}
}
