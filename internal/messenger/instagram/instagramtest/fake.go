// Package instagramtest is a fake Instagram Messaging API (Meta Graph, Page
// flavour) for tests: an httptest.Server that checks the Page access token,
// answers the Page lookup and the webhook subscription, serves client
// profiles and client media (as Meta's CDN would, without a token), records
// sent messages and uploaded files, and can be taken down or made to fail;
// plus helpers that build and deliver signed webhook bodies to Switchboard.
//
// Point the platform at it with instagram.New(fake.URL, nil) and use
// fake.Account() as the channel's account.
package instagramtest

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/switchboard-hq/switchboard/internal/messenger"
	"github.com/switchboard-hq/switchboard/internal/messenger/fakeapi"
)

// The fake's account, matching the shared fixtures (webhook fixtures name the
// Instagram account 17840000000000001 and the customer 5300000000000001;
// SIGNING.md's app secret).
const (
	AccountID   = "17840000000000001"
	Username    = "switchboard.test"
	PageID      = "100000000000077"
	PageName    = "Switchboard Test Page"
	AppSecret   = "ig_app_secret_fedcba9876543210"
	VerifyToken = "test-verify-token"
	// Customer is the fixtures' customer IGSID, whose profile is
	// profile_response.json.
	Customer         = "5300000000000001"
	CustomerName     = "Lena Test"
	CustomerUsername = "lena.test.fake"
)

//go:embed fixtures/*.json
var fixtures embed.FS

// Fixture returns a copy of one of the shared Instagram fixtures, byte-exact
// (e.g. "inbound_text.json", "send_error_window.json"). It panics on an
// unknown name.
func Fixture(name string) []byte { return fakeapi.Fixture(fixtures, "instagramtest", name) }

// WindowClosedError is the Graph error body of a send outside the 24-hour
// window (code 10), for FailNextSends.
func WindowClosedError() string { return string(Fixture("send_error_window.json")) }

// RateLimitError is a Graph error body of code 613, for FailNextSends.
const RateLimitError = `{"error":{"message":"(#613) Calls to this api have exceeded the rate limit.","type":"OAuthException","code":613,"fbtrace_id":"CFakeTrace0613"}}`

// TokenError is the Graph error body of code 190 (bad access token).
const TokenError = `{"error":{"message":"Invalid OAuth access token - Cannot parse access token","type":"OAuthException","code":190,"fbtrace_id":"CFakeTrace0190"}}`

// Sent is one message the fake accepted.
type Sent struct {
	ID            string // the message_id answered
	To            string // the recipient's IGSID
	MessagingType string
	Type          string // text, image, video, audio or file
	Text          string
	// Uploaded files (multipart filedata).
	Filename    string
	ContentType string
	Data        []byte
}

// Fake is a fake Graph API. It is safe for concurrent use.
type Fake struct {
	fakeapi.Base // the server, its lock, SetDown and scripted failures

	// URL is the base URL to give instagram.New.
	URL string

	token string
	no    int64

	media fakeapi.Files

	// Guarded by the lock:
	sent         []Sent
	subscribed   []string
	cdnWithToken int
	seq          int
}

var fakes atomic.Int64

// New starts a fake Graph API that accepts the Page access token token; it
// stops when the test ends.
func New(t testing.TB, token string) *Fake {
	t.Helper()
	f := &Fake{token: token, no: fakes.Add(1)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{version}/{id}", f.getObject)
	mux.HandleFunc("POST /{version}/{node}/messages", f.postMessage)
	mux.HandleFunc("POST /{version}/{node}/subscribed_apps", f.subscribe)
	mux.HandleFunc("GET /cdn/{id}", f.download)
	f.URL = f.Start(t, f.gate(mux))
	return f
}

// Account is a connected account for this fake: its ids and names, the
// token, AppSecret and VerifyToken.
func (f *Fake) Account() messenger.Account {
	return messenger.Account{
		Public: map[string]string{
			"account_id":           AccountID,
			"instagram_account_id": AccountID,
			"username":             Username,
			"page_id":              PageID,
			"page_name":            PageName,
		},
		Secrets: map[string]string{
			"page_access_token": f.token,
			"app_secret":        AppSecret,
			"verify_token":      VerifyToken,
		},
	}
}

// FailNextSends makes the next n POST …/messages answer status with body
// (e.g. WindowClosedError(), RateLimitError).
func (f *Fake) FailNextSends(n, status int, body string) {
	f.ReplaceFailures("messages", n, status, body)
}

// Sent lists the messages accepted so far, in order.
func (f *Fake) Sent() []Sent { return fakeapi.Snapshot(f, &f.sent) }

// Subscriptions lists the subscribed_fields of every Page subscription
// (POST /{page-id}/subscribed_apps) so far.
func (f *Fake) Subscriptions() []string { return fakeapi.Snapshot(f, &f.subscribed) }

// TokenSentToCDN counts media downloads that carried an Authorization
// header or access_token (they are refused: the CDN needs no token).
func (f *Fake) TokenSentToCDN() int {
	f.Lock()
	defer f.Unlock()
	return f.cdnWithToken
}

// AddMedia makes a client's file downloadable and returns its URL (as an
// attachment's payload.url would name it).
func (f *Fake) AddMedia(id, contentType string, data []byte) string {
	f.media.Add(id, fakeapi.NewFile(contentType, data))
	return f.MediaURL(id)
}

// MediaURL is the download URL of media id.
func (f *Fake) MediaURL(id string) string {
	return f.URL + "/cdn/" + url.PathEscape(id) + "?asset_id=" + url.QueryEscape(id) + "&signature=FAKE"
}

func (f *Fake) gate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.RefuseWhileDown(w, "") {
			return
		}
		if strings.HasPrefix(r.URL.Path, "/cdn/") {
			if r.Header.Get("Authorization") != "" || r.URL.Query().Has("access_token") {
				f.Lock()
				f.cdnWithToken++
				f.Unlock()
				http.Error(w, "no token belongs here", http.StatusBadRequest)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if fakeapi.AccessToken(r) != f.token {
			writeJSON(w, http.StatusBadRequest, []byte(TokenError))
			return
		}
		if proof := r.URL.Query().Get("appsecret_proof"); proof != "" && proof != AppSecretProof(AppSecret, f.token) {
			graphError(w, http.StatusBadRequest, 100, 0, "Invalid appsecret_proof provided in the API argument")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	fakeapi.WriteJSON(w, "application/json", status, body)
}

func graphError(w http.ResponseWriter, status, code, subcode int, message string) {
	writeJSON(w, status, fakeapi.GraphError("CFakeTrace", code, subcode, message))
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

func (f *Fake) getObject(w http.ResponseWriter, r *http.Request) {
	if badVersion(w, r) {
		return
	}
	id := r.PathValue("id")
	var out any
	switch id {
	case "me", PageID:
		out = map[string]any{"id": PageID, "name": PageName,
			"instagram_business_account": map[string]string{"id": AccountID, "username": Username, "name": "Switchboard Test"}}
	case AccountID:
		out = map[string]string{"id": AccountID, "username": Username, "name": "Switchboard Test"}
	case Customer:
		writeJSON(w, http.StatusOK, Fixture("profile_response.json"))
		return
	default:
		unknownObject(w, id)
		return
	}
	b, _ := json.Marshal(out)
	writeJSON(w, http.StatusOK, b)
}

func (f *Fake) subscribe(w http.ResponseWriter, r *http.Request) {
	if badVersion(w, r) {
		return
	}
	if r.PathValue("node") != PageID {
		unknownObject(w, r.PathValue("node"))
		return
	}
	if err := r.ParseForm(); err != nil || r.Form.Get("subscribed_fields") == "" {
		graphError(w, http.StatusBadRequest, 100, 0, "(#100) The parameter subscribed_fields is required")
		return
	}
	f.Lock()
	f.subscribed = append(f.subscribed, r.Form.Get("subscribed_fields"))
	f.Unlock()
	writeJSON(w, http.StatusOK, []byte(`{"success":true}`))
}

func (f *Fake) download(w http.ResponseWriter, r *http.Request) {
	if !f.media.Serve(w, r.PathValue("id")) {
		http.NotFound(w, r)
	}
}

type sendRequest struct {
	Recipient struct {
		ID string `json:"id"`
	} `json:"recipient"`
	MessagingType string `json:"messaging_type"`
	Tag           string `json:"tag"`
	Message       struct {
		Text       *string `json:"text"`
		Attachment *struct {
			Type    string         `json:"type"`
			Payload map[string]any `json:"payload"`
		} `json:"attachment"`
	} `json:"message"`
}

// Limits of the fake Send API (Instagram's).
const (
	maxText  = 1000
	maxImage = 8 << 20
	maxMedia = 25 << 20
)

func (f *Fake) postMessage(w http.ResponseWriter, r *http.Request) {
	if badVersion(w, r) {
		return
	}
	if n := r.PathValue("node"); n != PageID && n != "me" {
		unknownObject(w, n)
		return
	}
	if status, body, failed := f.NextFailure("messages"); failed {
		writeJSON(w, status, []byte(body))
		return
	}

	bad := func(msg string) { graphError(w, http.StatusBadRequest, 100, 0, "(#100) "+msg) }
	var req sendRequest
	var s Sent
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "application/json"):
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
			bad("Invalid JSON")
			return
		}
	case strings.HasPrefix(ct, "multipart/form-data"):
		r.Body = http.MaxBytesReader(w, r.Body, maxMedia+1<<20)
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			bad("Invalid multipart body")
			return
		}
		if json.Unmarshal([]byte(r.FormValue("recipient")), &req.Recipient) != nil ||
			json.Unmarshal([]byte(r.FormValue("message")), &req.Message) != nil {
			bad("Invalid parameter recipient or message")
			return
		}
		req.MessagingType = r.FormValue("messaging_type")
		file, hdr, err := r.FormFile("filedata")
		if err != nil {
			bad("The parameter filedata is required for an upload")
			return
		}
		defer file.Close()
		data, _ := io.ReadAll(file)
		s.Filename, s.ContentType, s.Data = hdr.Filename, hdr.Header.Get("Content-Type"), data
	default:
		bad("The request body must be JSON or multipart/form-data")
		return
	}
	if req.Recipient.ID == "" || strings.Trim(req.Recipient.ID, "0123456789") != "" {
		graphError(w, http.StatusBadRequest, 100, 2534014, "No matching user found")
		return
	}
	switch req.MessagingType {
	case "RESPONSE", "UPDATE":
	case "MESSAGE_TAG":
		if req.Tag == "" {
			bad("The parameter tag is required")
			return
		}
	default:
		bad("Invalid parameter messaging_type")
		return
	}
	s.To, s.MessagingType = req.Recipient.ID, req.MessagingType
	switch {
	case req.Message.Text != nil && req.Message.Attachment == nil:
		t := *req.Message.Text
		if strings.TrimSpace(t) == "" {
			bad("The parameter message[text] must not be empty")
			return
		}
		if len(utf16.Encode([]rune(t))) > maxText {
			bad(fmt.Sprintf("Length of param message[text] must be less than or equal to %d", maxText))
			return
		}
		if s.Data != nil {
			bad("An upload needs an attachment")
			return
		}
		s.Type, s.Text = "text", t
	case req.Message.Attachment != nil && req.Message.Text == nil:
		a := req.Message.Attachment
		switch a.Type {
		case "image", "video", "audio", "file":
		default:
			bad("Invalid attachment type")
			return
		}
		if s.Data == nil {
			if u, _ := a.Payload["url"].(string); u == "" {
				bad("The parameter message[attachment][payload][url] is required")
				return
			}
		} else {
			limit := maxMedia
			if a.Type == "image" {
				limit = maxImage
			}
			if len(s.Data) == 0 || len(s.Data) > limit {
				graphError(w, http.StatusBadRequest, 100, 2018047, "Upload attachment failure.")
				return
			}
			if want := a.Type; !(want == "file" && s.ContentType == "application/pdf") && !strings.HasPrefix(s.ContentType, want+"/") {
				graphError(w, http.StatusBadRequest, 100, 2018047, "Upload attachment failure: the file does not match the attachment type.")
				return
			}
		}
		s.Type = a.Type
	default:
		bad("A message needs either text or an attachment")
		return
	}

	f.Lock()
	f.seq++
	s.ID = fmt.Sprintf("aWdfZAG1faWQ6FAKE%dOUT%06d", f.no, f.seq)
	f.sent = append(f.sent, s)
	f.Unlock()

	var out map[string]any
	_ = json.Unmarshal(Fixture("send_response_ok.json"), &out)
	out["recipient_id"] = s.To
	out["message_id"] = s.ID
	b, _ := json.Marshal(out)
	writeJSON(w, http.StatusOK, b)
}

// AppSecretProof is the appsecret_proof of token under appSecret; the fake
// refuses requests with another proof (but takes requests without one).
func AppSecretProof(appSecret, token string) string { return fakeapi.HMAC(appSecret, []byte(token)) }

// Sign is the X-Hub-Signature-256 value of body under appSecret.
func Sign(appSecret string, body []byte) string { return "sha256=" + fakeapi.HMAC(appSecret, body) }

// Deliver POSTs a webhook body to hookURL, signed with AppSecret, as Meta
// does. The caller closes the response body.
func (f *Fake) Deliver(ctx context.Context, hookURL string, body []byte) (*http.Response, error) {
	return f.DeliverSigned(ctx, hookURL, AppSecret, body)
}

// DeliverSigned is Deliver with another app secret (a forged webhook).
func (f *Fake) DeliverSigned(ctx context.Context, hookURL, appSecret string, body []byte) (*http.Response, error) {
	return fakeapi.PostHook(ctx, hookURL, body, map[string]string{"X-Hub-Signature-256": Sign(appSecret, body)})
}

// Subscribe sends Meta's verification request (GET with hub.mode,
// hub.verify_token, hub.challenge) to hookURL.
func (f *Fake) Subscribe(ctx context.Context, hookURL, verifyToken, challenge string) (*http.Response, error) {
	return fakeapi.HubChallenge(ctx, hookURL, verifyToken, challenge)
}

// envelope wraps one messaging event as Meta sends it.
func envelope(event map[string]any) []byte {
	return fakeapi.MessagingHook("instagram", AccountID, event)
}

func (f *Fake) nextMID(dir string) string {
	f.Lock()
	defer f.Unlock()
	f.seq++
	return fmt.Sprintf("aWdfZAG1faWQ6FAKE%d%s%06d", f.no, dir, f.seq)
}

func event(from, to string, key string, value any) map[string]any {
	return map[string]any{
		"sender": map[string]string{"id": from}, "recipient": map[string]string{"id": to},
		"timestamp": time.Now().UnixMilli(), key: value,
	}
}

// Text builds an inbound text message webhook body from the customer from
// (an IGSID) and returns its new mid.
func (f *Fake) Text(from, text string) (mid string, body []byte) {
	mid = f.nextMID("IN")
	return mid, envelope(event(from, AccountID, "message", map[string]any{"mid": mid, "text": text}))
}

// Image builds an inbound image message webhook body for mediaURL (see
// AddMedia) and returns its new mid.
func (f *Fake) Image(from, mediaURL string) (mid string, body []byte) {
	mid = f.nextMID("IN")
	return mid, envelope(event(from, AccountID, "message", map[string]any{"mid": mid,
		"attachments": []map[string]any{{"type": "image", "payload": map[string]string{"url": mediaURL}}}}))
}

// Read builds a read webhook body: the customer from read the reply mid.
func (f *Fake) Read(from, mid string) []byte {
	return envelope(event(from, AccountID, "read", map[string]string{"mid": mid}))
}

// Echo builds the echo of a message the account sent to the customer to.
func (f *Fake) Echo(to, text string) []byte {
	return envelope(event(AccountID, to, "message", map[string]any{"mid": f.nextMID("OUT"), "text": text, "is_echo": true}))
}
