// Package whatsapp is the WhatsApp Cloud API (Meta Graph) platform: one
// Switchboard channel is one business phone number (phone_number_id).
//
// Webhooks are configured by the administrator in the Meta app (callback URL
// and verify token); Connect only checks the number and the access token.
//
// Choices where Meta's documentation leaves room (see
// shared/channels/whatsapp.md):
//   - Inbound `system` and `request_welcome` messages are Ignored; `order`
//     becomes a client message "[order: N items]" (plus its note); any type
//     this package does not know becomes "[unsupported message type: TYPE]",
//     and Meta's own `unsupported`/`unknown` becomes "[unsupported message
//     type]". A known type whose object cannot be read is shown the same way.
//   - Reactions are Ignored (reason "reaction …"); recording them as events is
//     left to a later version.
//   - Text longer than 4096 runes is sent as several messages, cut at a line
//     break or space where possible. Files are uploaded before any message is
//     sent (an upload failure then sends nothing); one file with a text of at
//     most 1024 runes goes as one message with the text as caption. Send
//     returns the id of the first message sent.
//   - Media sha256 values are accepted as hex or base64; a value that is
//     neither is not checked.
package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/messenger"
	"github.com/switchboard-hq/switchboard/internal/messenger/meta"
)

const (
	// DefaultBaseURL is Meta's Graph API.
	DefaultBaseURL = "https://graph.facebook.com"
	// Version is the Graph API version every request names.
	Version = "v21.0"
	// SignatureHeader carries the webhook body's HMAC.
	SignatureHeader = meta.SignatureHeader
	// MaxText is the longest text body of one message, in runes.
	MaxText = 4096
	// MaxCaption is the longest media caption, in runes.
	MaxCaption = 1024
)

// The names of the account fields.
const (
	FieldPhoneNumberID = "phone_number_id"
	FieldAccessToken   = "access_token"
	FieldAppSecret     = "app_secret"
	FieldVerifyToken   = "verify_token"
	// Learned by Connect.
	FieldDisplayPhoneNumber = "display_phone_number"
	FieldVerifiedName       = "verified_name"
)

// WindowClosedReason explains error 131047 to the agent.
const WindowClosedReason = "The 24-hour customer service window has closed: WhatsApp only allows template messages now"

// WhatsApp implements messenger.Platform over the Cloud API.
type WhatsApp struct {
	base   *url.URL
	client *http.Client
}

var _ messenger.Platform = (*WhatsApp)(nil)

// New returns the platform talking to the Graph API at baseURL (empty:
// DefaultBaseURL) through client (nil: a client with a 60 s timeout).
func New(baseURL string, client *http.Client) *WhatsApp {
	u, client := messenger.APIBase(baseURL, DefaultBaseURL), messenger.APIClient(client)
	return &WhatsApp{base: u, client: client}
}

// Kind is WhatsApp.
func (w *WhatsApp) Kind() cv.ChannelKind { return cv.WhatsApp }

// Fields lists what connecting a number asks for.
func (w *WhatsApp) Fields() []messenger.Field {
	return []messenger.Field{
		{Name: FieldPhoneNumberID, Label: "Phone number ID", Required: true,
			Help: "the Phone number ID shown in the Meta app under WhatsApp → API Setup (not the phone number itself)"},
		{Name: FieldAccessToken, Label: "Access token", Secret: true, Required: true,
			Help: "a permanent system-user access token with the whatsapp_business_messaging permission"},
		{Name: FieldAppSecret, Label: "App secret", Secret: true, Required: true,
			Help: "the Meta app's App secret (App settings → Basic); it signs the webhooks"},
		{Name: FieldVerifyToken, Label: "Verify token", Secret: true, Required: true,
			Help: "any string you also enter in the Meta app's webhook settings"},
	}
}

// Connect checks the phone number id and the access token with the Graph
// API and learns the number's display number and verified name.
func (w *WhatsApp) Connect(ctx context.Context, acc messenger.Account, hookURL string) (messenger.Account, error) {
	out := messenger.Account{ChannelID: acc.ChannelID, Public: map[string]string{}, Secrets: map[string]string{}}
	for k, v := range acc.Public {
		out.Public[k] = v
	}
	for k, v := range acc.Secrets {
		out.Secrets[k] = v
	}
	for _, f := range w.Fields() {
		m := out.Public
		if f.Secret {
			m = out.Secrets
		}
		m[f.Name] = strings.TrimSpace(m[f.Name])
		if m[f.Name] == "" {
			return messenger.Account{}, errs.Invalid(f.Name, f.Label+" is required")
		}
	}
	pnid := out.Public[FieldPhoneNumberID]
	if !isDigits(pnid) {
		return messenger.Account{}, errs.Invalid(FieldPhoneNumberID, "The phone number ID is a number such as 106540352242922, shown in the Meta app under WhatsApp → API Setup")
	}
	if strings.ContainsAny(out.Secrets[FieldAccessToken], " \t\r\n") {
		return messenger.Account{}, errs.Invalid(FieldAccessToken, "Meta does not accept this access token")
	}

	u := w.endpoint(pnid) + "?fields=display_phone_number,verified_name"
	res, err := w.call(ctx, out, http.MethodGet, u, "", nil)
	if err != nil {
		if ctx.Err() != nil {
			return messenger.Account{}, ctx.Err()
		}
		return messenger.Account{}, errs.Unavailable("Meta's Graph API cannot be reached; try again later")
	}
	if res.Status != http.StatusOK {
		ge := graphErrorOf(res)
		switch {
		case ge != nil && ge.Code == 190:
			return messenger.Account{}, errs.Invalid(FieldAccessToken, "Meta does not accept this access token")
		case ge != nil && (ge.Code == 10 || (ge.Code >= 200 && ge.Code <= 299)):
			return messenger.Account{}, errs.Invalid(FieldAccessToken, "This access token may not manage this phone number: it needs the whatsapp_business_messaging permission")
		case ge != nil && ge.Code == 100:
			return messenger.Account{}, errs.Invalid(FieldPhoneNumberID, "Meta does not know this phone number ID, or this access token may not use it")
		case res.Status == http.StatusUnauthorized:
			return messenger.Account{}, errs.Invalid(FieldAccessToken, "Meta does not accept this access token")
		case ge != nil && res.Status < 500 && !temporaryCode(ge.Code):
			return messenger.Account{}, errs.Invalid(FieldPhoneNumberID, fmt.Sprintf("Meta refused this phone number (error %d): %s", ge.Code, redact(ge.text(), out)))
		default:
			return messenger.Account{}, errs.Unavailable(fmt.Sprintf("Meta's Graph API is not available (HTTP %d); try again later", res.Status))
		}
	}
	info := meta.ParseObject(res.Body)
	if info == nil {
		return messenger.Account{}, errs.Unavailable("Meta's Graph API gave an unreadable answer; try again later")
	}
	out.Public[FieldDisplayPhoneNumber] = info.Str("display_phone_number")
	out.Public[FieldVerifiedName] = info.Str("verified_name")
	return out, nil
}

// Handshake answers Meta's webhook verification request.
func (w *WhatsApp) Handshake(acc messenger.Account, query url.Values) (string, bool) {
	return meta.Handshake(acc.Secrets[FieldVerifyToken], query)
}

// Errors of Verify.
var (
	ErrNoSignature  = errors.New("whatsapp: missing " + SignatureHeader + " header")
	ErrBadSignature = errors.New("whatsapp: webhook signature does not match")
)

// Verify checks X-Hub-Signature-256 over the exact body bytes.
func (w *WhatsApp) Verify(acc messenger.Account, header http.Header, body []byte) error {
	return meta.Verify("whatsapp", acc.Secrets[FieldAppSecret], header, body, ErrNoSignature, ErrBadSignature)
}

// endpoint is {base}/{version}/{segments...}, each segment path-escaped.
func (w *WhatsApp) endpoint(segments ...string) string {
	u := *w.base
	p := strings.TrimRight(u.Path, "/") + "/" + Version
	for _, s := range segments {
		p += "/" + url.PathEscape(s)
	}
	u.Path, u.RawPath = "", ""
	return u.String() + p
}

func isDigits(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// redact removes the account's secrets from a text that came from outside.
func redact(s string, acc messenger.Account) string {
	return meta.Redact(s, acc.Secrets)
}

// Profile answers nothing: the WhatsApp updates carry the client's name.
func (*WhatsApp) Profile(context.Context, messenger.Account, string) (messenger.Profile, error) {
	return messenger.Profile{}, nil
}
