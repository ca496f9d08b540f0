// Package vktest is a fake VK API for tests: an httptest.Server answering
// the methods Switchboard calls (groups.getById, groups.getTokenPermissions,
// messages.send, users.get, the photo and document uploads) with the shapes
// documented in shared/channels/vk.md (fixtures in fixtures/), serving
// clients' files, and able to play VK's side of the Callback API.
//
//	fake := vktest.New(t, "vk1.a.TEST")
//	platform := vk.New(fake.URL, nil)
//	… connect a channel with fake.Account()'s fields, hook URL srv.URL+"/…"
//	resp, err := fake.Confirm(ctx, hookURL)       // answers vktest.Confirmation
//	resp, err = fake.Deliver(ctx, hookURL, vktest.Fixture("message_new_text.json"))
//	… fake.Sent() lists the replies.
//
// The fixtures' community is GroupID with the secret key Secret, and their
// client is User; Account uses the same values so that they verify.
package vktest

import (
	"context"
	"crypto/sha1"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/switchboard-hq/switchboard/internal/messenger"
	"github.com/switchboard-hq/switchboard/internal/messenger/fakeapi"
)

// The fake's community and client, matching the shared fixtures.
const (
	GroupID         = "200000001"
	GroupName       = "Switchboard Test"
	GroupScreenName = "switchboard_test"
	// Confirmation is the string the fake's community expects back.
	Confirmation = "a1b2c3d4"
	// Secret is the Callback API secret key the fixtures carry.
	Secret = "test-callback-secret-01"
	// User is the fixtures' client (user id = peer id).
	User     = "100000001"
	UserName = "Иван Тестов"
	// MessagesMask is the rights mask of a token with messages, photos and docs.
	MessagesMask = 4096 | 4 | 131072
	// ManageMask adds the manage right (groups.getCallbackConfirmationCode).
	ManageMask = MessagesMask | 262144
	// FirstMessageID is the id of the first message the fake accepts (as in
	// messages_send_response_ok.json; message_read.json reads it).
	FirstMessageID = 1510
)

//go:embed fixtures/*.json
var fixtures embed.FS

// Fixture returns a copy of one of the shared VK fixtures, byte-exact
// ("message_new_text.json", "messages_send_error_901.json", …). It panics on
// an unknown name.
func Fixture(name string) []byte { return fakeapi.Fixture(fixtures, "vktest", name) }

// Error bodies for FailNextSends (VK answers errors with HTTP 200).
var (
	// ErrorNotAllowed is error 901: the user has not allowed messages.
	ErrorNotAllowed = string(Fixture("messages_send_error_901.json"))
	// ErrorFlood is error 9, flood control.
	ErrorFlood = string(Fixture("messages_send_error_9_flood.json"))
	// ErrorTooManyRequests is error 6.
	ErrorTooManyRequests = apiError(6, "Too many requests per second")
	// ErrorAuth is error 5, a revoked or wrong token.
	ErrorAuth = apiError(5, "User authorization failed: invalid access_token (4).")
)

// Sent is one message the fake accepted.
type Sent struct {
	ID          string // the message id answered
	PeerID      string
	RandomID    string
	Text        string
	Attachments []string // photo{owner}_{id}_{key}, doc{owner}_{id}
}

// Upload is one file saved through photos.saveMessagesPhoto or docs.save.
type Upload struct {
	Kind        string // "photo" or "doc"
	Attachment  string // what messages.send names it by
	Filename    string
	ContentType string
	Data        []byte
}

// Fake is a fake VK API for one community token. Safe for concurrent use.
type Fake struct {
	fakeapi.Base // the server, its lock, SetDown and scripted failures

	// URL is the base URL to give vk.New.
	URL   string
	Token string

	calls fakeapi.CallLog
	media fakeapi.Files

	// Guarded by the lock:
	mask     int64
	sent     []Sent
	byRandom map[string]string // peer/random_id → message id
	uploads  []Upload
	pending  map[string]Upload // upload tokens not saved yet
	saved    map[string]bool   // attachments messages.send accepts
	nextID   int64
	seq      int64
}

// New starts a fake accepting the community token token; it stops when the
// test ends.
func New(t testing.TB, token string) *Fake {
	t.Helper()
	f := &Fake{
		Token:    token,
		mask:     MessagesMask,
		byRandom: map[string]string{},
		pending:  map[string]Upload{},
		saved:    map[string]bool{},
		nextID:   FirstMessageID,
		seq:      2000,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /method/{method}", f.method)
	mux.HandleFunc("POST /upload/{kind}", f.upload)
	mux.HandleFunc("GET /media/{name}", f.download)
	f.URL = f.Start(t, f.gate(mux))
	return f
}

// Account is a connected account for this fake: GroupID, the token,
// Confirmation and Secret.
func (f *Fake) Account() messenger.Account {
	return messenger.Account{
		Public: map[string]string{"group_id": GroupID, "group_name": GroupName, "group_screen_name": GroupScreenName},
		Secrets: map[string]string{
			"access_token": f.Token,
			"confirmation": Confirmation,
			"secret":       Secret,
		},
	}
}

// SetTokenMask sets the rights groups.getTokenPermissions reports
// (MessagesMask by default; ManageMask lets Connect read Confirmation).
func (f *Fake) SetTokenMask(mask int64) {
	f.Lock()
	defer f.Unlock()
	f.mask = mask
}

// FailNextSends makes the next n messages.send calls answer status with
// body (ErrorNotAllowed, ErrorFlood…; VK itself answers errors with 200).
func (f *Fake) FailNextSends(n, status int, body string) {
	f.ReplaceFailures("messages.send", n, status, body)
}

// Sent lists the messages accepted so far, in order; a send VK drops as a
// repeated random_id is not listed again.
func (f *Fake) Sent() []Sent {
	return fakeapi.SnapshotWith(f, &f.sent, func(s Sent) Sent {
		s.Attachments = append([]string(nil), s.Attachments...)
		return s
	})
}

// Uploads lists the files saved so far, in order.
func (f *Fake) Uploads() []Upload { return fakeapi.Snapshot(f, &f.uploads) }

// Calls lists the methods called (and "upload/photo", "upload/doc",
// "media"), in order, including the ones answered with an error.
func (f *Fake) Calls() []string { return f.calls.List() }

// AddMedia serves data as a client's file and returns its URL on the fake
// (use it in a webhook body: the platform fetches from the base URL's host).
func (f *Fake) AddMedia(name, contentType string, data []byte) string {
	f.media.Add(name, fakeapi.NewFile(contentType, data))
	return f.URL + "/media/" + url.PathEscape(name)
}

// ---------------------------------------------------------------- server

func apiError(code int, msg string) string {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"error_code": code, "error_msg": msg,
		"request_params": []map[string]string{{"key": "oauth", "value": "1"}, {"key": "v", "value": "5.199"}},
	}})
	return string(b)
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	fakeapi.WriteJSON(w, "application/json; charset=utf-8", status, []byte(body))
}

func respond(w http.ResponseWriter, v any) {
	b, err := json.Marshal(map[string]any{"response": v})
	if err != nil {
		writeJSON(w, 200, apiError(10, "Internal server error: "+err.Error()))
		return
	}
	writeJSON(w, 200, string(b))
}

func (f *Fake) gate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.RefuseWhileDown(w, fakeapi.GatewayPage) {
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (f *Fake) method(w http.ResponseWriter, r *http.Request) {
	method := r.PathValue("method")
	f.calls.Add(method)
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-www-form-urlencoded" && ct != "" {
		writeJSON(w, 200, apiError(8, "Invalid request: expected form-encoded parameters"))
		return
	}
	if err := r.ParseForm(); err != nil {
		writeJSON(w, 200, apiError(8, "Invalid request: "+err.Error()))
		return
	}
	p := r.Form
	if p.Get("access_token") != f.Token {
		writeJSON(w, 200, ErrorAuth)
		return
	}
	if p.Get("v") == "" {
		writeJSON(w, 200, apiError(8, "Invalid request: v (version) is required"))
		return
	}
	switch method {
	case "groups.getById":
		if ids := p.Get("group_id") + p.Get("group_ids"); ids != "" && ids != GroupID {
			writeJSON(w, 200, apiError(100, "One of the parameters specified was missing or invalid: group_ids is invalid"))
			return
		}
		respond(w, map[string]any{"groups": []map[string]any{{
			"id": json.Number(GroupID), "name": GroupName, "screen_name": GroupScreenName,
			"is_closed": 0, "type": "group", "photo_50": "https://sun9-3.userapi.com/fake_group_50.jpg",
		}}, "profiles": []any{}})
	case "groups.getTokenPermissions":
		f.Lock()
		mask := f.mask
		f.Unlock()
		var perms []map[string]any
		for _, x := range []struct {
			bit  int64
			name string
		}{{4, "photos"}, {4096, "messages"}, {131072, "docs"}, {262144, "manage"}} {
			if mask&x.bit != 0 {
				perms = append(perms, map[string]any{"setting": x.bit, "name": x.name})
			}
		}
		respond(w, map[string]any{"mask": mask, "permissions": perms})
	case "groups.getCallbackConfirmationCode":
		f.Lock()
		mask := f.mask
		f.Unlock()
		if mask&262144 == 0 {
			writeJSON(w, 200, apiError(15, "Access denied: no access to call this method"))
			return
		}
		if p.Get("group_id") != GroupID {
			writeJSON(w, 200, apiError(100, "One of the parameters specified was missing or invalid: group_id is invalid"))
			return
		}
		respond(w, map[string]string{"code": Confirmation})
	case "messages.send":
		f.send(w, p)
	case "users.get":
		f.usersGet(w, p)
	case "photos.getMessagesUploadServer":
		if _, err := strconv.ParseInt(p.Get("peer_id"), 10, 64); err != nil && p.Get("peer_id") != "" {
			writeJSON(w, 200, apiError(100, "One of the parameters specified was missing or invalid: peer_id is invalid"))
			return
		}
		respond(w, map[string]any{"upload_url": f.URL + "/upload/photo?act=do_add&mid=" + GroupID, "album_id": -3, "group_id": json.Number(GroupID)})
	case "docs.getMessagesUploadServer":
		if p.Get("peer_id") == "" {
			writeJSON(w, 200, apiError(100, "One of the parameters specified was missing or invalid: peer_id is undefined"))
			return
		}
		respond(w, map[string]any{"upload_url": f.URL + "/upload/doc?act=add_doc&mid=" + GroupID})
	case "photos.saveMessagesPhoto":
		f.save(w, "photo", p.Get("photo"), p.Get("hash"), "")
	case "docs.save":
		f.save(w, "doc", p.Get("file"), "", p.Get("title"))
	default:
		writeJSON(w, 200, apiError(3, "Unknown method passed"))
	}
}

func (f *Fake) send(w http.ResponseWriter, p url.Values) {
	if status, body, failed := f.NextFailure("messages.send"); failed {
		writeJSON(w, status, body)
		return
	}

	bad := func(msg string) {
		writeJSON(w, 200, apiError(100, "One of the parameters specified was missing or invalid: "+msg))
	}
	peer := p.Get("peer_id")
	if n, err := strconv.ParseInt(peer, 10, 64); err != nil || n == 0 {
		bad("peer_id is undefined")
		return
	}
	rid := p.Get("random_id")
	if _, err := strconv.ParseInt(rid, 10, 32); err != nil {
		bad("random_id is undefined")
		return
	}
	s := Sent{PeerID: peer, RandomID: rid, Text: p.Get("message")}
	if a := p.Get("attachment"); a != "" {
		s.Attachments = strings.Split(a, ",")
	}
	if strings.TrimSpace(s.Text) == "" && len(s.Attachments) == 0 {
		bad("message is empty")
		return
	}
	if len(utf16.Encode([]rune(s.Text))) > 9000 {
		writeJSON(w, 200, apiError(914, "Message is too long"))
		return
	}
	if len(s.Attachments) > 10 {
		bad("too many attachments")
		return
	}

	f.Lock()
	defer f.Unlock()
	for _, a := range s.Attachments {
		if !f.saved[a] {
			writeJSON(w, 200, apiError(100, "One of the parameters specified was missing or invalid: attachment is invalid"))
			return
		}
	}
	key := peer + "/" + rid
	if rid != "0" {
		if id, dup := f.byRandom[key]; dup {
			// VK drops a message whose random_id it has seen from this sender.
			respond(w, json.Number(id))
			return
		}
	}
	s.ID = strconv.FormatInt(f.nextID, 10)
	f.nextID++
	f.byRandom[key] = s.ID
	f.sent = append(f.sent, s)
	// The answer is messages_send_response_ok.json with this message's id.
	var a map[string]json.RawMessage
	_ = json.Unmarshal(Fixture("messages_send_response_ok.json"), &a)
	a["response"] = json.RawMessage(s.ID)
	b, _ := json.Marshal(a)
	writeJSON(w, 200, string(b))
}

func (f *Fake) usersGet(w http.ResponseWriter, p url.Values) {
	var out []any
	for _, id := range strings.Split(p.Get("user_ids"), ",") {
		id = strings.TrimSpace(id)
		if id == User {
			var a struct {
				Response []map[string]any `json:"response"`
			}
			_ = json.Unmarshal(Fixture("users_get_response.json"), &a)
			out = append(out, a.Response[0])
			continue
		}
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || n <= 0 || n >= 2000000000 {
			writeJSON(w, 200, apiError(113, "Invalid user id"))
			return
		}
		out = append(out, map[string]any{"id": n, "first_name": "User", "last_name": id,
			"can_access_closed": true, "is_closed": false,
			"photo_100": "https://vk.com/images/camera_100.png", "screen_name": "id" + id})
	}
	respond(w, out)
}

func (f *Fake) upload(w http.ResponseWriter, r *http.Request) {
	kind := r.PathValue("kind")
	f.calls.Add("upload/" + kind)
	field := map[string]string{"photo": "photo", "doc": "file"}[kind]
	if field == "" {
		http.NotFound(w, r)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 210<<20)
	file, hdr, err := r.FormFile(field)
	if err != nil {
		writeJSON(w, 200, `{"error":"ERR_UPLOAD_FILE_NOT_UPLOADED: file not uploaded","error_descr":"no `+field+` field"}`)
		return
	}
	defer file.Close()
	data, _ := io.ReadAll(file)
	up := Upload{Kind: kind, Filename: hdr.Filename, ContentType: hdr.Header.Get("Content-Type"), Data: data}
	sum := sha1.Sum(data)
	token := hex.EncodeToString(sum[:8])

	f.Lock()
	f.seq++
	token = fmt.Sprintf("%s%d", token, f.seq)
	f.pending[token] = up
	f.Unlock()

	if kind == "photo" {
		if !strings.HasPrefix(http.DetectContentType(data), "image/") {
			// VK's photo server takes no other files: an empty list.
			writeJSON(w, 200, `{"server":1,"photo":"[]","hash":"0"}`)
			return
		}
		b, _ := json.Marshal(map[string]any{"server": 1, "photo": token, "hash": "h" + token})
		writeJSON(w, 200, string(b))
		return
	}
	if strings.HasSuffix(strings.ToLower(hdr.Filename), ".exe") {
		writeJSON(w, 200, `{"error":"ERR_UPLOAD_BAD_FILE_EXTENSION: invalid file extension","error_descr":"This file type is not allowed"}`)
		return
	}
	b, _ := json.Marshal(map[string]any{"file": token})
	writeJSON(w, 200, string(b))
}

func (f *Fake) save(w http.ResponseWriter, kind, token, hash, title string) {
	f.Lock()
	up, ok := f.pending[token]
	if ok && kind == "photo" && hash != "h"+token {
		ok = false
	}
	if !ok || up.Kind != kind {
		f.Unlock()
		writeJSON(w, 200, apiError(100, "One of the parameters specified was missing or invalid: "+kind+" is undefined"))
		return
	}
	delete(f.pending, token)
	f.seq++
	id := 457000000 + f.seq
	owner := "-" + GroupID
	if kind == "photo" {
		up.Attachment = fmt.Sprintf("photo%s_%d_k%d", owner, id, f.seq)
	} else {
		up.Attachment = fmt.Sprintf("doc%s_%d", owner, id)
		if title != "" {
			up.Filename = title
		}
	}
	f.saved[up.Attachment] = true
	f.uploads = append(f.uploads, up)
	f.Unlock()

	if kind == "photo" {
		respond(w, []map[string]any{{"id": id, "owner_id": json.Number(owner), "album_id": -3,
			"access_key": fmt.Sprintf("k%d", id-457000000), "date": time.Now().Unix(),
			"sizes": []map[string]any{{"type": "x", "url": f.URL + "/media/none", "width": 604, "height": 453}}}})
		return
	}
	respond(w, map[string]any{"type": "doc", "doc": map[string]any{"id": id, "owner_id": json.Number(owner),
		"title": up.Filename, "size": len(up.Data), "ext": strings.TrimPrefix(extOf(up.Filename), "."),
		"url": f.URL + "/media/none", "date": time.Now().Unix(), "type": 8}})
}

func extOf(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i:]
	}
	return ""
}

func (f *Fake) download(w http.ResponseWriter, r *http.Request) {
	f.calls.Add("media")
	if !f.media.Serve(w, r.PathValue("name")) {
		http.NotFound(w, r)
	}
}

// ---------------------------------------------------------------- callbacks

// Deliver POSTs a Callback API body to hookURL as VK does (the body carries
// the secret key; the builders below and the fixtures carry Secret). The
// caller reads the answer ("ok", or the confirmation string) and closes it.
func (f *Fake) Deliver(ctx context.Context, hookURL string, body []byte) (*http.Response, error) {
	return fakeapi.PostHook(ctx, hookURL, body, map[string]string{"User-Agent": "VKCallbackAPI/1.0 (vktest)"})
}

// Confirm sends VK's confirmation request (confirmation.json) to hookURL;
// a correctly connected channel answers 200 with Confirmation.
func (f *Fake) Confirm(ctx context.Context, hookURL string) (*http.Response, error) {
	return f.Deliver(ctx, hookURL, Fixture("confirmation.json"))
}

// Event builds a callback body of type typ around object, for GroupID,
// with a new event_id, v 5.199 and Secret.
func (f *Fake) Event(typ string, object any) []byte {
	f.Lock()
	f.seq++
	n := f.seq
	f.Unlock()
	sum := sha1.Sum([]byte(fmt.Sprintf("%s/%p/%d", typ, f, n)))
	b, err := json.Marshal(map[string]any{
		"group_id": json.Number(GroupID), "type": typ, "event_id": hex.EncodeToString(sum[:]),
		"v": "5.199", "object": object, "secret": Secret,
	})
	if err != nil {
		panic(err)
	}
	return b
}

// num writes an id as a JSON number when it is one (as VK does), else as
// a string.
func num(s string) any {
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return json.Number(s)
	}
	return s
}

// message is a message object from the client peer (a user id).
func (f *Fake) message(peer, text string, attachments []any) (externalID string, m map[string]any) {
	f.Lock()
	f.seq++
	cmid := f.seq
	f.Unlock()
	if attachments == nil {
		attachments = []any{}
	}
	return peer + "_" + strconv.FormatInt(cmid, 10), map[string]any{
		"date": time.Now().Unix(), "from_id": num(peer), "id": cmid + 100000, "out": 0,
		"attachments": attachments, "conversation_message_id": cmid, "fwd_messages": []any{},
		"important": false, "is_hidden": false, "peer_id": num(peer), "random_id": 0, "text": text,
	}
}

var clientInfo = map[string]any{"button_actions": []string{"text"}, "keyboard": true, "inline_keyboard": true, "carousel": true, "lang_id": 0}

// Text builds a message_new body with text from the client peer (a user id
// such as User) and returns the external id the platform gives it.
func (f *Fake) Text(peer, text string) (externalID string, body []byte) {
	id, m := f.message(peer, text, nil)
	return id, f.Event("message_new", map[string]any{"message": m, "client_info": clientInfo})
}

// Photo builds a message_new body with a photo at fileURL (see AddMedia)
// and a caption.
func (f *Fake) Photo(peer, fileURL, caption string) (externalID string, body []byte) {
	id, m := f.message(peer, caption, []any{map[string]any{"type": "photo", "photo": map[string]any{
		"id": 457239100, "owner_id": num(peer), "album_id": -3, "date": time.Now().Unix(),
		"sizes": []map[string]any{{"type": "x", "url": fileURL, "width": 604, "height": 453}},
	}}})
	return id, f.Event("message_new", map[string]any{"message": m, "client_info": clientInfo})
}

// Doc builds a message_new body with a document at fileURL (see AddMedia).
func (f *Fake) Doc(peer, fileURL, title string, size int) (externalID string, body []byte) {
	id, m := f.message(peer, "", []any{map[string]any{"type": "doc", "doc": map[string]any{
		"id": 660000100, "owner_id": num(peer), "title": title, "size": size,
		"ext": strings.TrimPrefix(extOf(title), "."), "type": 1, "url": fileURL, "date": time.Now().Unix(),
	}}})
	return id, f.Event("message_new", map[string]any{"message": m, "client_info": clientInfo})
}

// Edit builds a message_edit body changing the text of the client's message
// externalID ("{peer}_{conversation_message_id}").
func (f *Fake) Edit(externalID, text string) []byte {
	peer, cmid, _ := strings.Cut(externalID, "_")
	_, m := f.message(peer, text, nil)
	m["conversation_message_id"] = num(cmid)
	m["update_time"] = time.Now().Unix()
	return f.Event("message_edit", m)
}

// Read builds a message_read body: the client peer read our messages up to
// messageID (an id Send returned).
func (f *Fake) Read(peer, messageID string) []byte {
	return f.Event("message_read", map[string]any{
		"from_id": num(peer), "peer_id": num(peer), "read_message_id": num(messageID)})
}

// Deny builds a message_deny body for the client user.
func (f *Fake) Deny(user string) []byte {
	return f.Event("message_deny", map[string]any{"user_id": num(user)})
}

// Allow builds a message_allow body for the client user.
func (f *Fake) Allow(user string) []byte {
	return f.Event("message_allow", map[string]any{"user_id": num(user), "key": "vktest"})
}
