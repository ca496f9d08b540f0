// Package telegramtest is a fake Telegram Bot API for tests: an
// httptest.Server answering the methods Switchboard calls with the shapes
// documented in shared/channels/telegram.md (fixtures in fixtures/), and
// able to play Telegram's side of the webhook.
//
//	fake := telegramtest.New(t, "123:TEST")
//	platform := telegram.New(fake.URL, nil)
//	… connect a channel with bot_token "123:TEST" and hook URL srv.URL+"/…"
//	resp, err := fake.Deliver(ctx, telegramtest.Fixture("update_text.json"))
//	… fake.Sent() lists the replies.
package telegramtest

import (
	"bytes"
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
	"unicode/utf16"

	"github.com/switchboard-hq/switchboard/internal/messenger/fakeapi"
)

//go:embed fixtures/*.json
var fixtures embed.FS

// Fixture returns one of the documented sample payloads by file name
// ("update_text.json", "send_error_429.json", …); it panics on unknown names.
func Fixture(name string) []byte { return fakeapi.Fixture(fixtures, "telegramtest", name) }

// Scripted error bodies for FailNextSends / FailNext.
var (
	// ErrorTooManyRequests is a 429 with retry_after 14.
	ErrorTooManyRequests = string(Fixture("send_error_429.json"))
	// ErrorBlocked is the 403 "bot was blocked by the user".
	ErrorBlocked = string(Fixture("send_error_blocked.json"))
	// ErrorDeactivated is the 403 for a deleted account.
	ErrorDeactivated = `{"ok":false,"error_code":403,"description":"Forbidden: user is deactivated"}`
	// ErrorUnauthorized is the 401 of a revoked token.
	ErrorUnauthorized = `{"ok":false,"error_code":401,"description":"Unauthorized"}`
	// ErrorBadWebhook is setWebhook refusing a non-HTTPS URL.
	ErrorBadWebhook = `{"ok":false,"error_code":400,"description":"Bad Request: bad webhook: An HTTPS URL must be provided for webhook"}`
)

// SecretHeader is the header Deliver sets to the registered secret.
const SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

// Sent is one message the fake accepted (sendMessage, sendPhoto, sendDocument).
type Sent struct {
	Method      string
	ChatID      string
	Text        string // the text, or the caption of a file
	ParseMode   string // "" unless the caller set one
	Filename    string
	ContentType string
	Data        []byte
	MessageID   int64
}

type file struct {
	path string
	data []byte
}

// Fake is a fake Bot API for one bot token. Safe for concurrent use.
type Fake struct {
	fakeapi.Base // the server, its lock, SetDown and scripted failures

	// URL is the base URL to give telegram.New.
	URL   string
	Token string

	calls fakeapi.CallLog

	// Guarded by the lock:
	webhookURL     string
	webhookSecret  string
	allowedUpdates []string
	sent           []Sent
	nextID         int64
	files          map[string]file // by file_id
	paths          map[string][]byte
}

// New starts a fake for token; it closes when the test ends.
func New(t testing.TB, token string) *Fake {
	t.Helper()
	f := &Fake{Token: token, files: map[string]file{}, paths: map[string][]byte{}}
	f.URL = f.Start(t, http.HandlerFunc(f.serve))
	return f
}

// Webhook is what the last setWebhook registered.
func (f *Fake) Webhook() (url, secret string) {
	f.Lock()
	defer f.Unlock()
	return f.webhookURL, f.webhookSecret
}

// AllowedUpdates is the allowed_updates of the last setWebhook.
func (f *Fake) AllowedUpdates() []string { return fakeapi.Snapshot(f, &f.allowedUpdates) }

// Sent lists the messages accepted so far, in order (not the refused ones).
func (f *Fake) Sent() []Sent { return fakeapi.Snapshot(f, &f.sent) }

// Calls lists every method called (and "file" for downloads), in order,
// including the ones answered with an error.
func (f *Fake) Calls() []string { return f.calls.List() }

// AddFile makes fileID known to getFile, downloadable at path.
func (f *Fake) AddFile(fileID, path string, data []byte) {
	f.Lock()
	defer f.Unlock()
	f.files[fileID] = file{path: path, data: data}
	f.paths[path] = data
}

// FailNextSends makes the next n sendMessage/sendPhoto/sendDocument calls
// answer status with body (ErrorTooManyRequests, ErrorBlocked…; an empty
// body becomes a Telegram error with the status's text).
func (f *Fake) FailNextSends(n, status int, body string) {
	f.fail(n, status, body, "sendMessage", "sendPhoto", "sendDocument")
}

// FailNext makes the next n calls of method answer status with body.
func (f *Fake) FailNext(method string, n, status int, body string) {
	f.fail(n, status, body, method)
}

func (f *Fake) fail(n, status int, body string, methods ...string) {
	if body == "" {
		body = apiError(status, http.StatusText(status))
	}
	f.QueueFailures(n, status, body, methods...)
}

// Deliver posts update to the registered webhook with the registered
// secret, as Telegram does. The caller closes the response body.
func (f *Fake) Deliver(ctx context.Context, update []byte) (*http.Response, error) {
	url, secret := f.Webhook()
	if url == "" {
		return nil, errors.New("telegramtest: no webhook registered (setWebhook was not called)")
	}
	return fakeapi.PostHook(ctx, url, update, map[string]string{SecretHeader: secret})
}

// ---------------------------------------------------------------- server

func apiError(code int, description string) string {
	b, _ := json.Marshal(map[string]any{"ok": false, "error_code": code, "description": description})
	return string(b)
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	fakeapi.WriteJSON(w, "application/json", status, []byte(body))
}

func ok(w http.ResponseWriter, result any) {
	b, err := json.Marshal(map[string]any{"ok": true, "result": result})
	if err != nil {
		writeJSON(w, 500, apiError(500, "Internal Server Error: "+err.Error()))
		return
	}
	writeJSON(w, 200, string(b))
}

// downPage is what Telegram's nginx answers while the Bot API is out.
const downPage = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	// method is the Bot API method, or the file path of a download.
	p := r.URL.Path
	var method string
	isFile := strings.HasPrefix(p, "/file/bot")
	switch {
	case isFile:
		f.calls.Add("file")
		token, filePath, _ := strings.Cut(strings.TrimPrefix(p, "/file/bot"), "/")
		if token != f.Token {
			writeJSON(w, 404, apiError(404, "Not Found"))
			return
		}
		method = filePath
	case strings.HasPrefix(p, "/bot"):
		token, m, _ := strings.Cut(strings.TrimPrefix(p, "/bot"), "/")
		method = m
		f.calls.Add(method)
		if token != f.Token {
			writeJSON(w, 401, apiError(401, "Unauthorized"))
			return
		}
	default:
		writeJSON(w, 404, apiError(404, "Not Found"))
		return
	}

	if f.RefuseWhileDown(w, downPage) {
		return
	}
	if isFile {
		f.Lock()
		data, found := f.paths[method]
		f.Unlock()
		if !found {
			writeJSON(w, 404, apiError(404, "Not Found"))
			return
		}
		fakeapi.File{ContentType: "application/octet-stream", Data: data}.Serve(w)
		return
	}
	if status, body, failed := f.NextFailure(method); failed {
		writeJSON(w, status, body)
		return
	}

	ps, err := params(r)
	if err != nil {
		writeJSON(w, 400, apiError(400, "Bad Request: "+err.Error()))
		return
	}
	switch method {
	case "getMe":
		writeJSON(w, 200, string(Fixture("getme_response.json")))
	case "setWebhook":
		f.setWebhook(w, ps)
	case "deleteWebhook":
		f.Lock()
		f.webhookURL, f.webhookSecret, f.allowedUpdates = "", "", nil
		f.Unlock()
		ok(w, true)
	case "getWebhookInfo":
		url, _ := f.Webhook()
		ok(w, map[string]any{"url": url, "has_custom_certificate": false, "pending_update_count": 0})
	case "sendMessage", "sendPhoto", "sendDocument":
		f.send(w, method, ps)
	case "getFile":
		f.getFile(w, ps)
	default:
		writeJSON(w, 404, apiError(404, "Not Found"))
	}
}

// upload is a file part of a multipart request.
type upload struct {
	filename, contentType string
	data                  []byte
}

type request struct {
	values map[string]string
	files  map[string]upload
}

// params reads a method's parameters the ways Telegram accepts them: query
// string, application/json, x-www-form-urlencoded or multipart/form-data.
// JSON values other than strings are kept as their JSON text.
func params(r *http.Request) (request, error) {
	req := request{values: map[string]string{}, files: map[string]upload{}}
	for k, v := range r.URL.Query() {
		req.values[k] = v[0]
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		var m map[string]json.RawMessage
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			return req, err
		}
		if len(bytes.TrimSpace(body)) == 0 {
			return req, nil
		}
		if err := json.Unmarshal(body, &m); err != nil {
			return req, errors.New("can't parse JSON object")
		}
		for k, v := range m {
			var s string
			if json.Unmarshal(v, &s) == nil {
				req.values[k] = s
			} else {
				req.values[k] = string(v)
			}
		}
	case "multipart/form-data":
		if err := r.ParseMultipartForm(64 << 20); err != nil {
			return req, err
		}
		for k, v := range r.MultipartForm.Value {
			req.values[k] = v[0]
		}
		for k, fhs := range r.MultipartForm.File {
			fh := fhs[0]
			rd, err := fh.Open()
			if err != nil {
				return req, err
			}
			data, err := io.ReadAll(rd)
			rd.Close()
			if err != nil {
				return req, err
			}
			req.files[k] = upload{filename: fh.Filename, contentType: fh.Header.Get("Content-Type"), data: data}
		}
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return req, err
		}
		for k, v := range r.PostForm {
			req.values[k] = v[0]
		}
	}
	return req, nil
}

func validSecret(s string) bool {
	if len(s) < 1 || len(s) > 256 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func (f *Fake) setWebhook(w http.ResponseWriter, req request) {
	secret, hasSecret := req.values["secret_token"]
	if hasSecret && !validSecret(secret) {
		writeJSON(w, 400, apiError(400, "Bad Request: secret token contains unallowed characters"))
		return
	}
	var allowed []string
	if a := req.values["allowed_updates"]; a != "" {
		if err := json.Unmarshal([]byte(a), &allowed); err != nil {
			writeJSON(w, 400, apiError(400, "Bad Request: can't parse allowed updates JSON array"))
			return
		}
	}
	f.Lock()
	f.webhookURL, f.webhookSecret, f.allowedUpdates = req.values["url"], secret, allowed
	f.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"ok":true,"result":true,"description":"Webhook was set"}`)
}

func utf16Len(s string) int { return len(utf16.Encode([]rune(s))) }

func (f *Fake) send(w http.ResponseWriter, method string, req request) {
	chatID := req.values["chat_id"]
	if chatID == "" {
		writeJSON(w, 400, apiError(400, "Bad Request: chat_id is empty"))
		return
	}
	if _, err := strconv.ParseInt(chatID, 10, 64); err != nil && !strings.HasPrefix(chatID, "@") {
		writeJSON(w, 400, apiError(400, "Bad Request: chat not found"))
		return
	}
	s := Sent{Method: method, ChatID: chatID, ParseMode: req.values["parse_mode"]}
	switch method {
	case "sendMessage":
		s.Text = req.values["text"]
		if strings.TrimSpace(s.Text) == "" {
			writeJSON(w, 400, apiError(400, "Bad Request: message text is empty"))
			return
		}
		if utf16Len(s.Text) > 4096 {
			writeJSON(w, 400, apiError(400, "Bad Request: message is too long"))
			return
		}
	default:
		field := "photo"
		if method == "sendDocument" {
			field = "document"
		}
		up, found := req.files[field]
		if !found {
			writeJSON(w, 400, apiError(400, "Bad Request: there is no "+field+" in the request"))
			return
		}
		if method == "sendPhoto" && len(up.data) > 10<<20 {
			writeJSON(w, 400, apiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS"))
			return
		}
		s.Text = req.values["caption"]
		if utf16Len(s.Text) > 1024 {
			writeJSON(w, 400, apiError(400, "Bad Request: message caption is too long"))
			return
		}
		s.Filename, s.ContentType, s.Data = up.filename, up.contentType, up.data
	}

	f.Lock()
	f.nextID++
	s.MessageID = f.nextID
	f.sent = append(f.sent, s)
	f.Unlock()

	// The answer is send_message_ok.json with this message's values.
	var a struct {
		Result map[string]any `json:"result"`
	}
	_ = json.Unmarshal(Fixture("send_message_ok.json"), &a)
	res := a.Result
	res["message_id"] = s.MessageID
	res["date"] = time.Now().Unix()
	if chat, isMap := res["chat"].(map[string]any); isMap {
		chat["id"] = json.Number(chatID)
		if strings.HasPrefix(chatID, "@") {
			chat["id"] = chatID
		}
	}
	delete(res, "text")
	unique := fmt.Sprintf("AgADfake%d", s.MessageID)
	switch method {
	case "sendMessage":
		res["text"] = s.Text
	case "sendPhoto":
		res["photo"] = []map[string]any{{"file_id": "fake-photo-" + strconv.FormatInt(s.MessageID, 10), "file_unique_id": unique, "file_size": len(s.Data), "width": 1280, "height": 960}}
	case "sendDocument":
		res["document"] = map[string]any{"file_id": "fake-document-" + strconv.FormatInt(s.MessageID, 10), "file_unique_id": unique, "file_name": s.Filename, "mime_type": s.ContentType, "file_size": len(s.Data)}
	}
	if s.Text != "" && method != "sendMessage" {
		res["caption"] = s.Text
	}
	ok(w, res)
}

func (f *Fake) getFile(w http.ResponseWriter, req request) {
	id := req.values["file_id"]
	f.Lock()
	fl, found := f.files[id]
	f.Unlock()
	if !found {
		writeJSON(w, 400, apiError(400, "Bad Request: invalid file_id"))
		return
	}
	var a struct {
		Result map[string]any `json:"result"`
	}
	_ = json.Unmarshal(Fixture("getfile_response.json"), &a)
	res := a.Result
	res["file_id"] = id
	res["file_unique_id"] = fmt.Sprintf("AQADfake%x", len(id)+len(fl.path))
	res["file_size"] = len(fl.data)
	res["file_path"] = fl.path
	if len(fl.data) > 20<<20 { // bots cannot download these
		writeJSON(w, 400, apiError(400, "Bad Request: file is too big"))
		return
	}
	ok(w, res)
}
