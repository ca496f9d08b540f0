// Package messengertest is a fake Facebook Messenger Platform (Meta Graph API)
// for tests: an httptest.Server that checks the Page access token (and the
// appsecret_proof when sent), answers the Page lookup, the User Profile API
// and the Page's webhook subscription, records sent messages (JSON and
// multipart uploads), serves client media as Meta's CDN would, and can be
// taken down or made to fail; plus helpers that build and deliver signed
// webhook bodies to Switchboard, escaped the way Meta escapes them.
//
//	fake := messengertest.New(t, "EAAtoken")
//	platform := messenger.New(fake.URL, nil)
//	… connect a channel with fake.Account()
//	mid, body := fake.Text(messengertest.Customer, "hello")
//	resp, err := fake.Deliver(ctx, hookURL, body)
//	… fake.Sent() lists the replies.
package messengertest

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/switchboard-hq/switchboard/internal/messenger"
	"github.com/switchboard-hq/switchboard/internal/messenger/fakeapi"
)

// The fake's account, matching the shared fixtures (webhook fixtures name
// page 200000000000001 and customer 2100000000000001; SIGNING.md's app
// secret).
const (
	PageID      = "200000000000001"
	PageName    = "Switchboard Test Page"
	AppID       = "300000000000001"
	AppSecret   = "test_app_secret_0123456789abcdef"
	VerifyToken = "test-verify-token"
	// Customer is the fixtures' customer PSID; CustomerName the name in
	// profile_response.json.
	Customer     = "2100000000000001"
	CustomerName = "Jean Test"
)

//go:embed fixtures/*.json
var fixtures embed.FS

// Fixture returns a copy of one of the shared Messenger fixtures, byte-exact
// (e.g. "inbound_text.json", "send_error_window.json"). It panics on an
// unknown name.
func Fixture(name string) []byte { return fakeapi.Fixture(fixtures, "messengertest", name) }

// WindowClosedError is the Graph error body of code 10 / 2018278 (outside
// the 24-hour window), for FailNextSends.
func WindowClosedError() string { return string(Fixture("send_error_window.json")) }

// UnavailableError is the Graph error body of code 551 (the person is not
// available), for FailNextSends.
func UnavailableError() string { return string(Fixture("send_error_unavailable.json")) }

// Scripted error bodies for FailNextSends.
const (
	// TokenError is code 190 (bad or expired access token).
	TokenError = `{"error":{"message":"Invalid OAuth access token - Cannot parse access token","type":"OAuthException","code":190,"fbtrace_id":"BFakeTrace0190"}}`
	// RateLimitError is code 613 (calls exceeded the rate limit).
	RateLimitError = `{"error":{"message":"(#613) Calls to this api have exceeded the rate limit.","type":"OAuthException","code":613,"fbtrace_id":"BFakeTrace0613"}}`
	// ProofError is what Meta answers to a wrong appsecret_proof.
	ProofError = `{"error":{"message":"Invalid appsecret_proof provided in the API argument","type":"GraphMethodException","code":100,"fbtrace_id":"BFakeTrace0100"}}`
)

// Sent is one message the fake accepted.
type Sent struct {
	ID            string // the message_id answered
	To            string // the recipient PSID
	MessagingType string // RESPONSE, UPDATE or MESSAGE_TAG
	Tag           string // HUMAN_AGENT, …
	Text          string
	// Attachments: their type (image, video, audio, file), and either the
	// uploaded file or the link sent.
	AttachmentType string
	Filename       string
	ContentType    string
	Data           []byte
	URL            string
}

// Fake is a fake Graph API for one Page. It is safe for concurrent use.
type Fake struct {
	fakeapi.Base // the server, its lock, SetDown and scripted failures

	// URL is the base URL to give messenger.New.
	URL string

	token string
	no    int64

	media fakeapi.Files

	// Guarded by the lock:
	sent          []Sent
	subscriptions [][]string
	seq           int
}

var fakes atomic.Int64

// New starts a fake Graph API that accepts the Page access token token; it
// stops when the test ends.
func New(t testing.TB, token string) *Fake {
	t.Helper()
	f := &Fake{token: token, no: fakes.Add(1)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{version}/{id}", f.getObject)
	mux.HandleFunc("POST /{version}/{id}/messages", f.postMessage)
	mux.HandleFunc("POST /{version}/{id}/subscribed_apps", f.subscribe)
	mux.HandleFunc("GET /{version}/{id}/subscribed_apps", f.subscribedApps)
	f.URL = f.Start(t, f.gate(mux))
	return f
}

// Account is a connected account for this fake: PageID, its token,
// AppSecret and VerifyToken.
func (f *Fake) Account() messenger.Account {
	return messenger.Account{
		Public: map[string]string{
			"page_id":           PageID,
			"page_name":         PageName,
			"human_agent":       "no",
			"subscribed_fields": "messages,messaging_postbacks,message_deliveries,message_reads",
		},
		Secrets: map[string]string{
			"page_access_token": f.token,
			"app_secret":        AppSecret,
			"verify_token":      VerifyToken,
		},
	}
}

// FailNextSends makes the next n POST …/messages answer status with body
// (e.g. WindowClosedError(), UnavailableError(), RateLimitError).
func (f *Fake) FailNextSends(n, status int, body string) {
	f.ReplaceFailures("messages", n, status, body)
}

// Sent lists the messages accepted so far, in order.
func (f *Fake) Sent() []Sent {
	return fakeapi.SnapshotWith(f, &f.sent, func(s Sent) Sent {
		s.Data = append([]byte(nil), s.Data...)
		return s
	})
}

// Subscriptions lists the subscribed_fields of every subscription of the
// Page to the app, in order.
func (f *Fake) Subscriptions() [][]string {
	return fakeapi.SnapshotWith(f, &f.subscriptions, func(fields []string) []string {
		return append([]string(nil), fields...)
	})
}

// AddMedia makes data downloadable as a client's file named name and
// returns its URL on the fake (on the base URL's host, which the platform
// accepts like Meta's CDN).
func (f *Fake) AddMedia(name, contentType string, data []byte) string {
	f.Lock()
	defer f.Unlock()
	f.seq++
	dir, base := fmt.Sprintf("/v/t%d.%d/", f.no, f.seq), path.Base("/"+name)
	f.media.Add(dir+base, fakeapi.NewFile(contentType, data))
	return f.URL + dir + url.PathEscape(base) + "?_nc_cat=1&oh=fake&oe=FFFFFFFF"
}

// gate answers 502 while down; serves media without a token (Meta's CDN
// takes none); checks the token, as a bearer header or an access_token
// parameter, and the appsecret_proof when there is one.
func (f *Fake) gate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.RefuseWhileDown(w, "") {
			return
		}
		if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v/") {
			f.download(w, r)
			return
		}
		if fakeapi.AccessToken(r) != f.token {
			writeJSON(w, http.StatusBadRequest, []byte(TokenError))
			return
		}
		if p := r.URL.Query().Get("appsecret_proof"); p != "" && p != Proof(AppSecret, f.token) {
			writeJSON(w, http.StatusBadRequest, []byte(ProofError))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Proof is the appsecret_proof of token under appSecret.
func Proof(appSecret, token string) string { return fakeapi.HMAC(appSecret, []byte(token)) }

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	fakeapi.WriteJSON(w, "application/json", status, body)
}

func graphError(w http.ResponseWriter, status, code, subcode int, message string) {
	writeJSON(w, status, fakeapi.GraphError("BFakeTrace", code, subcode, message))
}

func unknownObject(w http.ResponseWriter, id string) {
	graphError(w, http.StatusBadRequest, 100, 33, fakeapi.UnknownObject(id))
}

func badVersion(w http.ResponseWriter, r *http.Request) bool {
	if fakeapi.GraphVersion(r.PathValue("version")) {
		return false
	}
	graphError(w, http.StatusBadRequest, 2500, 0, "Unknown path components")
	return true
}

// fieldsOf answers the requested fields of all (id always), or an error.
func fieldsOf(w http.ResponseWriter, r *http.Request, all map[string]any, def string) {
	fields := r.URL.Query().Get("fields")
	if fields == "" {
		fields = def
	}
	out := map[string]any{"id": all["id"]}
	for _, k := range strings.Split(fields, ",") {
		k = strings.TrimSpace(k)
		v, ok := all[k]
		if !ok {
			graphError(w, http.StatusBadRequest, 100, 0, fmt.Sprintf("(#100) Tried accessing nonexisting field (%s)", k))
			return
		}
		out[k] = v
	}
	b, _ := json.Marshal(out)
	writeJSON(w, http.StatusOK, b)
}

func (f *Fake) getObject(w http.ResponseWriter, r *http.Request) {
	if badVersion(w, r) {
		return
	}
	switch id := r.PathValue("id"); id {
	case PageID, "me":
		fieldsOf(w, r, map[string]any{"id": PageID, "name": PageName, "category": "Shopping & retail"}, "name")
	case Customer:
		var all map[string]any
		_ = json.Unmarshal(Fixture("profile_response.json"), &all)
		fieldsOf(w, r, all, "first_name,last_name,profile_pic")
	default:
		unknownObject(w, id)
	}
}

func (f *Fake) subscribe(w http.ResponseWriter, r *http.Request) {
	if badVersion(w, r) {
		return
	}
	if id := r.PathValue("id"); id != PageID {
		unknownObject(w, id)
		return
	}
	_ = r.ParseForm()
	fields := r.Form.Get("subscribed_fields")
	if fields == "" {
		graphError(w, http.StatusBadRequest, 100, 0, "(#100) The parameter subscribed_fields is required.")
		return
	}
	known := map[string]bool{"messages": true, "messaging_postbacks": true, "message_deliveries": true, "message_reads": true,
		"message_echoes": true, "message_reactions": true, "messaging_optins": true, "messaging_referrals": true,
		"messaging_handovers": true, "standby": true, "messaging_policy_enforcement": true, "message_edits": true}
	var list []string
	for _, s := range strings.Split(fields, ",") {
		if !known[strings.TrimSpace(s)] {
			graphError(w, http.StatusBadRequest, 100, 0, "(#100) Param subscribed_fields must be one of {…} - got \""+s+"\".")
			return
		}
		list = append(list, strings.TrimSpace(s))
	}
	f.Lock()
	f.subscriptions = append(f.subscriptions, list)
	f.Unlock()
	writeJSON(w, http.StatusOK, []byte(`{"success":true}`))
}

func (f *Fake) subscribedApps(w http.ResponseWriter, r *http.Request) {
	if badVersion(w, r) {
		return
	}
	f.Lock()
	var fields []string
	if n := len(f.subscriptions); n > 0 {
		fields = f.subscriptions[n-1]
	}
	f.Unlock()
	data := []map[string]any{}
	if fields != nil {
		data = append(data, map[string]any{"category": "Business", "link": "https://switchboard.example/",
			"name": "Switchboard", "id": AppID, "subscribed_fields": fields})
	}
	b, _ := json.Marshal(map[string]any{"data": data})
	writeJSON(w, http.StatusOK, b)
}

var contentTypes = map[string]string{".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif",
	".webp": "image/webp", ".mp4": "video/mp4", ".mp3": "audio/mpeg", ".pdf": "application/pdf", ".txt": "text/plain"}

// download serves a file added with AddMedia, or stand-in bytes for any
// other CDN-like path (the fixtures' files, see Localize).
func (f *Fake) download(w http.ResponseWriter, r *http.Request) {
	m, ok := f.media.Get(r.URL.Path)
	if !ok {
		ct, ok := contentTypes[strings.ToLower(path.Ext(r.URL.Path))]
		if !ok {
			ct = "application/octet-stream"
		}
		m = fakeapi.File{ContentType: ct, Data: []byte("fake media " + path.Base(r.URL.Path))}
	}
	m.Serve(w)
}

type sendMessage struct {
	Text       string `json:"text"`
	Attachment *struct {
		Type    string `json:"type"`
		Payload struct {
			URL        string `json:"url"`
			IsReusable bool   `json:"is_reusable"`
		} `json:"payload"`
	} `json:"attachment"`
}

func (f *Fake) postMessage(w http.ResponseWriter, r *http.Request) {
	if badVersion(w, r) {
		return
	}
	if id := r.PathValue("id"); id != PageID && id != "me" {
		unknownObject(w, id)
		return
	}
	if status, body, failed := f.NextFailure("messages"); failed {
		writeJSON(w, status, []byte(body))
		return
	}

	bad := func(msg string) { graphError(w, http.StatusBadRequest, 100, 0, "(#100) "+msg) }
	var (
		rcpt struct {
			ID string `json:"id"`
		}
		msgType, tag string
		msg          sendMessage
		s            Sent
	)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		var req struct {
			Recipient     json.RawMessage `json:"recipient"`
			MessagingType string          `json:"messaging_type"`
			Tag           string          `json:"tag"`
			Message       json.RawMessage `json:"message"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
			bad("Invalid JSON")
			return
		}
		if json.Unmarshal(req.Recipient, &rcpt) != nil || json.Unmarshal(req.Message, &msg) != nil {
			bad("param recipient and message must be objects")
			return
		}
		msgType, tag = req.MessagingType, req.Tag
	case "multipart/form-data":
		r.Body = http.MaxBytesReader(w, r.Body, 30<<20)
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			bad("The request could not be read")
			return
		}
		if json.Unmarshal([]byte(r.FormValue("recipient")), &rcpt) != nil || json.Unmarshal([]byte(r.FormValue("message")), &msg) != nil {
			bad("param recipient and message must be JSON objects")
			return
		}
		msgType, tag = r.FormValue("messaging_type"), r.FormValue("tag")
		file, hdr, err := r.FormFile("filedata")
		if err != nil {
			bad("An attachment upload needs filedata")
			return
		}
		s.Data, _ = io.ReadAll(file)
		file.Close()
		s.Filename, s.ContentType = hdr.Filename, hdr.Header.Get("Content-Type")
		if msg.Attachment == nil || len(s.Data) == 0 {
			bad("An uploaded file needs message.attachment")
			return
		}
	default:
		bad("The request must be JSON or multipart/form-data")
		return
	}

	if rcpt.ID == "" || strings.Trim(rcpt.ID, "0123456789") != "" {
		graphError(w, http.StatusBadRequest, 100, 2018001, "(#100) No matching user found")
		return
	}
	switch msgType {
	case "RESPONSE", "UPDATE":
	case "MESSAGE_TAG":
		if tag == "" {
			bad("param tag is required with messaging_type MESSAGE_TAG")
			return
		}
	default:
		bad("param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}")
		return
	}
	s.To, s.MessagingType, s.Tag = rcpt.ID, msgType, tag
	switch {
	case msg.Attachment != nil:
		switch msg.Attachment.Type {
		case "image", "video", "audio", "file":
		default:
			bad("param message[attachment][type] must be one of {image, video, audio, file, template}")
			return
		}
		if s.Data == nil && msg.Attachment.Payload.URL == "" {
			bad("An attachment needs a url or an uploaded file")
			return
		}
		s.AttachmentType, s.URL = msg.Attachment.Type, msg.Attachment.Payload.URL
		if msg.Text != "" {
			bad("A message has text or an attachment, not both")
			return
		}
	case strings.TrimSpace(msg.Text) == "":
		bad("param message must be non-empty.")
		return
	case utf8.RuneCountInString(msg.Text) > 2000:
		bad("Length of param message[text] must be less than or equal to 2000")
		return
	default:
		s.Text = msg.Text
	}

	f.Lock()
	f.seq++
	s.ID = fmt.Sprintf("m_FAKE%dOUT%06d", f.no, f.seq)
	f.sent = append(f.sent, s)
	f.Unlock()

	var out map[string]any
	_ = json.Unmarshal(Fixture("send_response_ok.json"), &out)
	out["recipient_id"], out["message_id"] = s.To, s.ID
	b, _ := json.Marshal(out)
	writeJSON(w, http.StatusOK, b)
}

// Sign is the X-Hub-Signature-256 value of body under appSecret.
func Sign(appSecret string, body []byte) string { return "sha256=" + fakeapi.HMAC(appSecret, body) }

// Deliver POSTs a webhook body to hookURL signed with AppSecret, as Meta
// does. The caller closes the response body.
func (f *Fake) Deliver(ctx context.Context, hookURL string, body []byte) (*http.Response, error) {
	return f.DeliverSigned(ctx, hookURL, Sign(AppSecret, body), body)
}

// DeliverSigned POSTs a webhook body to hookURL with the X-Hub-Signature-256
// value signature ("" for none).
func (f *Fake) DeliverSigned(ctx context.Context, hookURL, signature string, body []byte) (*http.Response, error) {
	return fakeapi.PostHook(ctx, hookURL, body, map[string]string{"X-Hub-Signature-256": signature})
}

// Subscribe sends Meta's verification request (GET with hub.mode,
// hub.verify_token, hub.challenge) to hookURL.
func (f *Fake) Subscribe(ctx context.Context, hookURL, verifyToken, challenge string) (*http.Response, error) {
	return fakeapi.HubChallenge(ctx, hookURL, verifyToken, challenge)
}

// Localize rewrites the Meta CDN URLs of a webhook body (a fixture's) to
// the fake, which serves stand-in bytes for them, so that fetching a
// fixture's files works offline. Deliver signs the rewritten body.
func (f *Fake) Localize(body []byte) []byte {
	for _, host := range []string{"https://cdn.fbsbx.com", "https://scontent.xx.fbcdn.net"} {
		body = bytes.ReplaceAll(body, fakeapi.MetaEscape([]byte(host)), fakeapi.MetaEscape([]byte(f.URL)))
		body = bytes.ReplaceAll(body, []byte(host), []byte(f.URL))
	}
	return body
}

func nowMillis() int64 { return time.Now().UnixMilli() }

// envelope wraps one messaging event for the fake's Page, escaped like Meta.
func envelope(event map[string]any) []byte { return fakeapi.MessagingHook("page", PageID, event) }

func (f *Fake) nextMid() string {
	f.Lock()
	defer f.Unlock()
	f.seq++
	return fmt.Sprintf("m_FAKE%dIN%06d", f.no, f.seq)
}

func fromClient(psid string, key string, value any) map[string]any {
	return map[string]any{"sender": map[string]string{"id": psid}, "recipient": map[string]string{"id": PageID},
		"timestamp": nowMillis(), key: value}
}

// Text builds an inbound text message webhook body from the customer psid
// and returns its new mid.
func (f *Fake) Text(psid, text string) (mid string, body []byte) {
	mid = f.nextMid()
	return mid, envelope(fromClient(psid, "message", map[string]any{"mid": mid, "text": text}))
}

// Attachment builds an inbound message with one attachment of type typ
// (image, video, audio, file) whose bytes the fake serves (see AddMedia),
// and returns its new mid.
func (f *Fake) Attachment(psid, typ, filename, contentType string, data []byte) (mid string, body []byte) {
	link := f.AddMedia(filename, contentType, data)
	mid = f.nextMid()
	return mid, envelope(fromClient(psid, "message", map[string]any{"mid": mid,
		"attachments": []map[string]any{{"type": typ, "payload": map[string]string{"url": link}}}}))
}

// Postback builds a button tap (title, payload) and returns its new mid.
func (f *Fake) Postback(psid, title, payload string) (mid string, body []byte) {
	mid = f.nextMid()
	return mid, envelope(fromClient(psid, "postback", map[string]any{"mid": mid, "title": title, "payload": payload}))
}

// Delivery builds a delivery event of the customer for the page's messages
// mids (as answered by the fake, see Sent.ID).
func (f *Fake) Delivery(psid string, mids ...string) []byte {
	return envelope(fromClient(psid, "delivery", map[string]any{"mids": mids, "watermark": nowMillis()}))
}

// Read builds a read event of the customer up to watermark.
func (f *Fake) Read(psid string, watermark time.Time) []byte {
	return envelope(fromClient(psid, "read", map[string]any{"watermark": watermark.UnixMilli()}))
}

// Echo builds the echo of a message the page sent to the customer psid.
func (f *Fake) Echo(psid, mid, text string) []byte {
	return envelope(map[string]any{"sender": map[string]string{"id": PageID}, "recipient": map[string]string{"id": psid},
		"timestamp": nowMillis(), "message": map[string]any{"is_echo": true, "app_id": json.Number(AppID), "mid": mid, "text": text}})
}
