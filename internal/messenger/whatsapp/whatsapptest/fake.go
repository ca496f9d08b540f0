// Package whatsapptest is a fake WhatsApp Cloud API (Meta Graph) for tests:
// an httptest.Server that checks the bearer token, answers the phone-number
// lookup, records sent messages, takes media uploads, serves media, and can
// be taken down or made to fail; plus helpers that build and deliver signed
// webhook bodies to Switchboard.
//
// Point the platform at it with whatsapp.New(fake.URL, nil) and use
// fake.Account() as the channel's account.
package whatsapptest

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/switchboard-hq/switchboard/internal/messenger"
	"github.com/switchboard-hq/switchboard/internal/messenger/fakeapi"
)

// The fake's account, matching the shared fixtures (webhook fixtures name
// phone_number_id 100000000000002; SIGNING.md's app secret and verify token).
const (
	PhoneNumberID      = "100000000000002"
	DisplayPhoneNumber = "+1 555-000-1111"
	VerifiedName       = "Switchboard Test"
	AppSecret          = "test_app_secret_0123456789abcdef"
	VerifyToken        = "test-verify-token"
	// Customer is the fixtures' customer wa_id.
	Customer = "15550002222"
)

//go:embed fixtures/*.json
var fixtures embed.FS

// Fixture returns a copy of one of the shared WhatsApp fixtures, byte-exact
// (e.g. "inbound_text.json", "send_error_131047.json"). It panics on an
// unknown name.
func Fixture(name string) []byte { return fakeapi.Fixture(fixtures, "whatsapptest", name) }

// WindowClosedError is the Graph error body of code 131047 (24-hour window),
// for FailNextSends.
func WindowClosedError() string { return string(Fixture("send_error_131047.json")) }

// RateLimitError is the Graph error body of code 130429, for FailNextSends.
func RateLimitError() string { return string(Fixture("send_error_rate_limit.json")) }

// TokenError is the Graph error body of code 190 (bad access token).
const TokenError = `{"error":{"message":"Invalid OAuth access token - Cannot parse access token","type":"OAuthException","code":190,"fbtrace_id":"AFakeTraceId000190"}}`

// Sent is one message the fake accepted.
type Sent struct {
	ID       string // the wamid answered
	To       string
	Type     string // text, image, document, …
	Text     string // the text body, or the media caption
	Filename string // document filename
	MediaID  string // uploaded media id of image/document
}

// Upload is one media upload the fake accepted.
type Upload struct {
	ID          string
	Filename    string
	ContentType string
	Data        []byte
}

// Fake is a fake Graph API. It is safe for concurrent use.
type Fake struct {
	fakeapi.Base // the server, its lock, SetDown and scripted failures

	// URL is the base URL to give whatsapp.New.
	URL string

	token string
	no    int64

	media fakeapi.Files

	// Guarded by the lock:
	sent    []Sent
	uploads []Upload
	seq     int
}

var fakes atomic.Int64

// New starts a fake Graph API that accepts the access token token; it stops
// when the test ends.
func New(t testing.TB, token string) *Fake {
	t.Helper()
	f := &Fake{token: token, no: fakes.Add(1)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{version}/{id}", f.getObject)
	mux.HandleFunc("POST /{version}/{pnid}/messages", f.postMessage)
	mux.HandleFunc("POST /{version}/{pnid}/media", f.postMedia)
	mux.HandleFunc("GET /download/{id}", f.download)
	f.URL = f.Start(t, f.gate(mux))
	return f
}

// Account is a connected account for this fake: its phone number id and
// token, AppSecret and VerifyToken.
func (f *Fake) Account() messenger.Account {
	return messenger.Account{
		Public: map[string]string{
			"phone_number_id":      PhoneNumberID,
			"display_phone_number": DisplayPhoneNumber,
			"verified_name":        VerifiedName,
		},
		Secrets: map[string]string{
			"access_token": f.token,
			"app_secret":   AppSecret,
			"verify_token": VerifyToken,
		},
	}
}

// FailNextSends makes the next n POST …/messages answer status with body
// (e.g. WindowClosedError(), RateLimitError()).
func (f *Fake) FailNextSends(n, status int, body string) {
	f.ReplaceFailures("messages", n, status, body)
}

// Sent lists the messages accepted so far, in order.
func (f *Fake) Sent() []Sent { return fakeapi.Snapshot(f, &f.sent) }

// Uploads lists the media uploaded so far, in order.
func (f *Fake) Uploads() []Upload { return fakeapi.Snapshot(f, &f.uploads) }

// AddMedia makes media id downloadable (as a client's file would be).
func (f *Fake) AddMedia(id, contentType string, data []byte) {
	f.media.Add(id, fakeapi.NewFile(contentType, data))
}

func (f *Fake) gate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.RefuseWhileDown(w, "") {
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+f.token {
			writeJSON(w, http.StatusUnauthorized, []byte(TokenError))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	fakeapi.WriteJSON(w, "application/json", status, body)
}

func graphError(w http.ResponseWriter, status, code int, message string) {
	writeJSON(w, status, fakeapi.GraphError("AFakeTraceId", code, 0, message))
}

func unknownObject(w http.ResponseWriter, id string) {
	graphError(w, http.StatusBadRequest, 100, fakeapi.UnknownObject(id))
}

func (f *Fake) getObject(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !fakeapi.GraphVersion(r.PathValue("version")) {
		graphError(w, http.StatusBadRequest, 2500, "Unknown path components")
		return
	}
	if id == PhoneNumberID {
		all := map[string]string{"display_phone_number": DisplayPhoneNumber, "verified_name": VerifiedName,
			"quality_rating": "GREEN", "code_verification_status": "VERIFIED"}
		out := map[string]string{"id": PhoneNumberID}
		fields := r.URL.Query().Get("fields")
		if fields == "" {
			fields = "display_phone_number,verified_name,quality_rating"
		}
		for _, k := range strings.Split(fields, ",") {
			k = strings.TrimSpace(k)
			if k == "id" {
				continue
			}
			v, ok := all[k]
			if !ok {
				graphError(w, http.StatusBadRequest, 100, fmt.Sprintf("(#100) Tried accessing nonexisting field (%s)", k))
				return
			}
			out[k] = v
		}
		b, _ := json.Marshal(out)
		writeJSON(w, http.StatusOK, b)
		return
	}
	m, ok := f.media.Get(id)
	if !ok {
		unknownObject(w, id)
		return
	}
	var out map[string]any
	_ = json.Unmarshal(Fixture("media_url_response.json"), &out)
	sum := sha256.Sum256(m.Data)
	out["url"] = f.URL + "/download/" + url.PathEscape(id) + "?hash=FAKEHASH"
	out["mime_type"] = m.ContentType
	out["sha256"] = hex.EncodeToString(sum[:])
	out["file_size"] = len(m.Data)
	out["id"] = id
	b, _ := json.Marshal(out)
	writeJSON(w, http.StatusOK, b)
}

func (f *Fake) download(w http.ResponseWriter, r *http.Request) {
	if !f.media.Serve(w, r.PathValue("id")) {
		http.NotFound(w, r)
	}
}

type mediaObject struct {
	ID       string `json:"id"`
	Link     string `json:"link"`
	Caption  string `json:"caption"`
	Filename string `json:"filename"`
}

func (f *Fake) postMessage(w http.ResponseWriter, r *http.Request) {
	if !fakeapi.GraphVersion(r.PathValue("version")) {
		graphError(w, http.StatusBadRequest, 2500, "Unknown path components")
		return
	}
	if r.PathValue("pnid") != PhoneNumberID {
		unknownObject(w, r.PathValue("pnid"))
		return
	}
	if status, body, failed := f.NextFailure("messages"); failed {
		writeJSON(w, status, []byte(body))
		return
	}

	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		graphError(w, http.StatusBadRequest, 100, "(#100) The request body must be JSON")
		return
	}
	var req struct {
		MessagingProduct string `json:"messaging_product"`
		RecipientType    string `json:"recipient_type"`
		To               string `json:"to"`
		Type             string `json:"type"`
		Text             *struct {
			Body       string `json:"body"`
			PreviewURL bool   `json:"preview_url"`
		} `json:"text"`
		Image    *mediaObject `json:"image"`
		Document *mediaObject `json:"document"`
		Video    *mediaObject `json:"video"`
		Audio    *mediaObject `json:"audio"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		graphError(w, http.StatusBadRequest, 100, "(#100) Invalid JSON")
		return
	}
	bad := func(msg string) { graphError(w, http.StatusBadRequest, 100, "(#100) "+msg) }
	if req.MessagingProduct != "whatsapp" {
		bad("The parameter messaging_product is required.")
		return
	}
	if req.RecipientType != "" && req.RecipientType != "individual" {
		bad("Invalid parameter recipient_type")
		return
	}
	if req.To == "" || strings.Trim(req.To, "+0123456789") != "" {
		bad("Invalid parameter to")
		return
	}
	s := Sent{To: req.To, Type: req.Type}
	var mo *mediaObject
	switch req.Type {
	case "text":
		if req.Text == nil || strings.TrimSpace(req.Text.Body) == "" {
			bad("The parameter text['body'] is required.")
			return
		}
		if utf8.RuneCountInString(req.Text.Body) > 4096 {
			bad("Param text['body'] must be at most 4096 characters long.")
			return
		}
		s.Text = req.Text.Body
	case "image":
		mo = req.Image
	case "document":
		mo = req.Document
	case "video":
		mo = req.Video
	case "audio":
		mo = req.Audio
	default:
		bad("Invalid parameter type")
		return
	}
	if req.Type != "text" {
		if mo == nil || (mo.ID == "" && mo.Link == "") {
			bad(fmt.Sprintf("The parameter %s['id'] or %s['link'] is required.", req.Type, req.Type))
			return
		}
		if utf8.RuneCountInString(mo.Caption) > 1024 {
			bad("Param caption must be at most 1024 characters long.")
			return
		}
		if mo.ID != "" {
			if _, ok := f.media.Get(mo.ID); !ok {
				graphError(w, http.StatusBadRequest, 131053, "(#131053) Media upload error: unknown media id")
				return
			}
		}
		s.Text, s.Filename, s.MediaID = mo.Caption, mo.Filename, mo.ID
	}

	f.Lock()
	f.seq++
	s.ID = fmt.Sprintf("wamid.FAKE%dOUT%06d=", f.no, f.seq)
	f.sent = append(f.sent, s)
	f.Unlock()

	var out map[string]any
	_ = json.Unmarshal(Fixture("send_response_ok.json"), &out)
	out["contacts"] = []map[string]string{{"input": req.To, "wa_id": strings.TrimPrefix(req.To, "+")}}
	out["messages"] = []map[string]string{{"id": s.ID}}
	b, _ := json.Marshal(out)
	writeJSON(w, http.StatusOK, b)
}

func (f *Fake) postMedia(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("pnid") != PhoneNumberID {
		unknownObject(w, r.PathValue("pnid"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 110<<20)
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		graphError(w, http.StatusBadRequest, 100, "(#100) The request must be multipart/form-data")
		return
	}
	if r.FormValue("messaging_product") != "whatsapp" {
		graphError(w, http.StatusBadRequest, 100, "(#100) The parameter messaging_product is required.")
		return
	}
	typ := r.FormValue("type")
	file, hdr, err := r.FormFile("file")
	if err != nil || typ == "" {
		graphError(w, http.StatusBadRequest, 100, "(#100) The parameters file and type are required.")
		return
	}
	defer file.Close()
	data, _ := io.ReadAll(file)

	f.Lock()
	f.seq++
	id := strconv.FormatInt(800000000000000+int64(f.no)*100000+int64(f.seq), 10)
	f.media.Add(id, fakeapi.File{ContentType: typ, Data: data})
	f.uploads = append(f.uploads, Upload{ID: id, Filename: hdr.Filename, ContentType: typ, Data: data})
	f.Unlock()
	b, _ := json.Marshal(map[string]string{"id": id})
	writeJSON(w, http.StatusOK, b)
}

// Sign is the X-Hub-Signature-256 value of body under appSecret.
func Sign(appSecret string, body []byte) string { return "sha256=" + fakeapi.HMAC(appSecret, body) }

// Deliver POSTs a webhook body to hookURL, signed with appSecret, as Meta
// does. The caller closes the response body.
func (f *Fake) Deliver(ctx context.Context, hookURL, appSecret string, body []byte) (*http.Response, error) {
	return fakeapi.PostHook(ctx, hookURL, body, map[string]string{"X-Hub-Signature-256": Sign(appSecret, body)})
}

// Subscribe sends Meta's verification request (GET with hub.mode,
// hub.verify_token, hub.challenge) to hookURL.
func (f *Fake) Subscribe(ctx context.Context, hookURL, verifyToken, challenge string) (*http.Response, error) {
	return fakeapi.HubChallenge(ctx, hookURL, verifyToken, challenge)
}

// The webhook envelope, as Meta sends it.
type (
	hookBody struct {
		Object string      `json:"object"`
		Entry  []hookEntry `json:"entry"`
	}
	hookEntry struct {
		ID      string       `json:"id"`
		Changes []hookChange `json:"changes"`
	}
	hookChange struct {
		Value hookValue `json:"value"`
		Field string    `json:"field"`
	}
	hookValue struct {
		MessagingProduct string            `json:"messaging_product"`
		Metadata         map[string]string `json:"metadata"`
		Contacts         []hookContact     `json:"contacts,omitempty"`
		Messages         []map[string]any  `json:"messages,omitempty"`
		Statuses         []map[string]any  `json:"statuses,omitempty"`
	}
	hookContact struct {
		Profile map[string]string `json:"profile"`
		WaID    string            `json:"wa_id"`
	}
)

func (f *Fake) envelope(v hookValue) []byte {
	v.MessagingProduct = "whatsapp"
	v.Metadata = map[string]string{"display_phone_number": "15550001111", "phone_number_id": PhoneNumberID}
	b, err := json.Marshal(hookBody{Object: "whatsapp_business_account",
		Entry: []hookEntry{{ID: "100000000000001", Changes: []hookChange{{Value: v, Field: "messages"}}}}})
	if err != nil {
		panic(err)
	}
	return fakeapi.MetaEscape(b)
}

func now() string { return strconv.FormatInt(time.Now().Unix(), 10) }

// Status builds a status webhook body: state sent, delivered, read or
// played for the message wamid (as answered by the fake, see Sent.ID).
func (f *Fake) Status(wamid, state string) []byte {
	return f.envelope(hookValue{Statuses: []map[string]any{{
		"id": wamid, "status": state, "timestamp": now(), "recipient_id": Customer,
	}}})
}

// Failed builds a failed-status webhook body for wamid with one error (code
// 131047 with its details mimics the fixture).
func (f *Fake) Failed(wamid string, code int, title, details string) []byte {
	return f.envelope(hookValue{Statuses: []map[string]any{{
		"id": wamid, "status": "failed", "timestamp": now(), "recipient_id": Customer,
		"errors": []map[string]any{{"code": code, "title": title, "message": title,
			"error_data": map[string]string{"details": details},
			"href":       "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}},
	}}})
}

// nextInbound is a new wamid of a client's message.
func (f *Fake) nextInbound() string {
	f.Lock()
	defer f.Unlock()
	f.seq++
	return fmt.Sprintf("wamid.FAKE%dIN%06d=", f.no, f.seq)
}

// Text builds an inbound text message webhook body from the customer from
// (wa_id digits) named name, and returns its new wamid.
func (f *Fake) Text(from, name, text string) (wamid string, body []byte) {
	wamid = f.nextInbound()
	return wamid, f.envelope(hookValue{
		Contacts: []hookContact{{Profile: map[string]string{"name": name}, WaID: from}},
		Messages: []map[string]any{{"from": from, "id": wamid, "timestamp": now(), "type": "text",
			"text": map[string]string{"body": text}}},
	})
}

// Image builds an inbound image message webhook body for media id (add its
// bytes with AddMedia) and returns its new wamid.
func (f *Fake) Image(from, name, mediaID, mimeType, caption string) (wamid string, body []byte) {
	wamid = f.nextInbound()
	img := map[string]string{"mime_type": mimeType, "sha256": "ZmFrZQ==", "id": mediaID}
	if caption != "" {
		img["caption"] = caption
	}
	return wamid, f.envelope(hookValue{
		Contacts: []hookContact{{Profile: map[string]string{"name": name}, WaID: from}},
		Messages: []map[string]any{{"from": from, "id": wamid, "timestamp": now(), "type": "image", "image": img}},
	})
}
