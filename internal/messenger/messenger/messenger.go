// Package messenger is the Facebook Messenger platform (Meta Graph API): one
// Switchboard channel is one Facebook Page. See shared/channels/messenger.md
// for the protocol facts this follows.
//
// The administrator enters the webhook URL and the verify token in the Meta
// app (Messenger → Settings → Webhooks); Connect checks the Page id and the
// Page access token, learns the Page's name and subscribes the Page to the
// app's webhook fields (POST /{page}/subscribed_apps).
//
// Choices where Meta's documentation leaves room:
//   - Every Graph call carries the token in an Authorization header (never in
//     a URL) plus appsecret_proof, so that a Page whose app requires the proof
//     works, and a wrong app secret is found at Connect (Meta answers code 100
//     "Invalid appsecret_proof"; UNCONFIRMED wording, matched loosely).
//   - Echoes of the Page's own messages, reactions, standby (handover)
//     events, opt-ins, referrals and the other non-message events are
//     Ignored. A postback (button tap) becomes a client message with the
//     button's title. A message_edit event (UNCONFIRMED, not subscribed by
//     Connect) becomes an Edit.
//   - Delivery events become a Status for each message id they list. Read
//     events, and deliveries that name only a watermark, become an UpTo
//     status: every reply to that client sent until the watermark.
//   - Stickers arrive as images with a sticker_id: the Like stickers become
//     the text "👍", others an image file named sticker-ID. A location
//     attachment (UNCONFIRMED in the current API) is shown as "📍 lat,lon"
//     with a map link when it carries coordinates; other unknown content
//     becomes "[unsupported message type: TYPE]".
//   - Replies go with messaging_type RESPONSE. When the 24-hour window has
//     closed and the channel says the app has Meta's Human Agent permission,
//     the message is sent again with the HUMAN_AGENT tag (7 days).
//   - Text longer than 2000 runes is sent as several messages; each file is
//     uploaded with its own message (multipart, after the text). Messenger has
//     no idempotency key: a reply is not atomic, and a retry after a failure
//     of a later part, or after a crash between Meta's answer and the outbox's
//     commit, sends the earlier parts again. Send returns the first message id.
package messenger

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
	msgr "github.com/switchboard-hq/switchboard/internal/messenger"
	"github.com/switchboard-hq/switchboard/internal/messenger/meta"
)

const (
	// DefaultBaseURL is Meta's Graph API.
	DefaultBaseURL = "https://graph.facebook.com"
	// Version is the Graph API version every request names.
	Version = "v21.0"
	// SignatureHeader carries the webhook body's HMAC.
	SignatureHeader = meta.SignatureHeader
	// MaxText is the longest text of one message, in runes.
	MaxText = 2000
	// MaxUpload is the largest attachment Messenger takes.
	MaxUpload = 25 << 20
)

// The names of the account fields.
const (
	FieldPageID          = "page_id"
	FieldPageAccessToken = "page_access_token"
	FieldAppSecret       = "app_secret"
	FieldVerifyToken     = "verify_token"
	// FieldHumanAgent is "yes" when Meta approved the app's Human Agent
	// permission (optional; "no" when empty).
	FieldHumanAgent = "human_agent"
	// Learned by Connect.
	FieldPageName            = "page_name"
	FieldSubscribedFields    = "subscribed_fields"
	FieldSubscriptionWarning = "subscription_warning"
)

// SubscribedFields are the webhook fields Connect subscribes the Page to.
var SubscribedFields = []string{"messages", "messaging_postbacks", "message_deliveries", "message_reads"}

// Reasons shown to the agent when a reply falls outside Messenger's windows.
const (
	WindowClosedReason     = "24-hour window closed: Messenger lets a Page reply only within 24 hours of the customer's last message"
	HumanAgentClosedReason = "7-day window closed: even with the HUMAN_AGENT tag Messenger lets a Page reply only within 7 days of the customer's last message"
)

// Messenger implements messenger.Platform over the Graph API.
type Messenger struct {
	base   *url.URL
	client *http.Client
}

var _ msgr.Platform = (*Messenger)(nil)

// New returns the platform talking to the Graph API at baseURL (empty:
// DefaultBaseURL) through client (nil: a client with a 60 s timeout).
func New(baseURL string, client *http.Client) *Messenger {
	u, client := msgr.APIBase(baseURL, DefaultBaseURL), msgr.APIClient(client)
	return &Messenger{base: u, client: client}
}

// Kind is conversation.Messenger.
func (*Messenger) Kind() cv.ChannelKind { return cv.Messenger }

// Fields lists what connecting a Page asks for.
func (*Messenger) Fields() []msgr.Field {
	return []msgr.Field{
		{Name: FieldPageID, Label: "Page ID", Required: true,
			Help: "the numeric ID of the Facebook Page (Page → About → Page transparency, or the Meta app's Messenger settings)"},
		{Name: FieldPageAccessToken, Label: "Page access token", Secret: true, Required: true,
			Help: "a Page access token generated in the Meta app (Messenger → Settings), with the pages_messaging and pages_manage_metadata permissions"},
		{Name: FieldAppSecret, Label: "App secret", Secret: true, Required: true,
			Help: "the Meta app's App secret (App settings → Basic); it signs the webhooks"},
		{Name: FieldVerifyToken, Label: "Verify token", Secret: true, Required: true,
			Help: "any string you also enter, with the webhook URL, in the Meta app's Messenger webhook settings"},
		{Name: FieldHumanAgent, Label: "Human Agent permission approved",
			Help: "yes only if Meta approved the app's Human Agent permission: replies between 24 hours and 7 days after the customer's last message then go with the HUMAN_AGENT tag; no otherwise"},
	}
}

// Connect checks the Page id and the Page access token with the Graph API,
// learns the Page's name and subscribes the Page to the app's webhook.
func (m *Messenger) Connect(ctx context.Context, acc msgr.Account, hookURL string) (msgr.Account, error) {
	out := msgr.Account{ChannelID: acc.ChannelID, Public: map[string]string{}, Secrets: map[string]string{}}
	for k, v := range acc.Public {
		out.Public[k] = v
	}
	for k, v := range acc.Secrets {
		out.Secrets[k] = v
	}
	for _, f := range m.Fields() {
		mm := out.Public
		if f.Secret {
			mm = out.Secrets
		}
		mm[f.Name] = strings.TrimSpace(mm[f.Name])
		if f.Required && mm[f.Name] == "" {
			return msgr.Account{}, errs.Invalid(f.Name, f.Label+" is required")
		}
	}
	page := out.Public[FieldPageID]
	if !isDigits(page) {
		return msgr.Account{}, errs.Invalid(FieldPageID, "The Page ID is a number such as 104123456789012, shown under the Page's About → Page transparency")
	}
	if strings.ContainsAny(out.Secrets[FieldPageAccessToken], " \t\r\n") {
		return msgr.Account{}, errs.Invalid(FieldPageAccessToken, "Meta does not accept this Page access token")
	}
	switch strings.ToLower(out.Public[FieldHumanAgent]) {
	case "yes", "true", "on", "1":
		out.Public[FieldHumanAgent] = "yes"
	case "no", "false", "off", "0", "":
		out.Public[FieldHumanAgent] = "no"
	default:
		return msgr.Account{}, errs.Invalid(FieldHumanAgent, "Answer yes or no")
	}
	delete(out.Public, FieldPageName)
	delete(out.Public, FieldSubscribedFields)
	delete(out.Public, FieldSubscriptionWarning)

	res, err := m.call(ctx, out, http.MethodGet, m.endpoint(url.Values{"fields": {"name"}}, page), "", nil)
	if err != nil {
		return msgr.Account{}, unreachable(ctx)
	}
	if res.Status != http.StatusOK {
		return msgr.Account{}, connectError(res, out, "")
	}
	info := meta.ParseObject(res.Body)
	if info == nil || strings.TrimSpace(info.Str("name")) == "" {
		return msgr.Account{}, errs.Unavailable("Meta's Graph API gave an unreadable answer; try again later")
	}
	if id := info.Str("id"); id != "" && id != page {
		return msgr.Account{}, errs.Invalid(FieldPageID, "This ID names another object than the Page (Meta answered id "+meta.Clip(id, 32)+")")
	}
	out.Public[FieldPageName] = strings.TrimSpace(info.Str("name"))

	q := url.Values{"subscribed_fields": {strings.Join(SubscribedFields, ",")}}
	res, err = m.call(ctx, out, http.MethodPost, m.endpoint(q, page, "subscribed_apps"), "", nil)
	if err != nil {
		return msgr.Account{}, unreachable(ctx)
	}
	if res.Status == http.StatusOK && meta.ParseObject(res.Body).Bool("success") {
		out.Public[FieldSubscribedFields] = strings.Join(SubscribedFields, ",")
		return out, nil
	}
	if ge := graphErrorOf(res); ge != nil && (ge.Code == 10 || (ge.Code >= 200 && ge.Code <= 299 && ge.Code != 210)) {
		// The token may message but not manage the Page: the administrator
		// can still subscribe the Page in the Meta app.
		out.Public[FieldSubscriptionWarning] = "Switchboard could not subscribe the Page to the app's webhook (the token lacks pages_manage_metadata): " +
			"add the Page's subscription to messages, messaging_postbacks, message_deliveries and message_reads in the Meta app (Messenger → Settings → Webhooks)"
		return out, nil
	}
	if res.Status == http.StatusOK {
		return msgr.Account{}, errs.Unavailable("Meta did not confirm the Page's webhook subscription; try again later")
	}
	return msgr.Account{}, connectError(res, out, "subscribing the Page to the app's webhook: ")
}

// unreachable is Connect's error when the Graph API cannot be reached.
func unreachable(ctx context.Context) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return errs.Unavailable("Meta's Graph API cannot be reached; try again later")
}

// connectError explains a refused Graph call of Connect, naming the field.
func connectError(res *result, acc msgr.Account, doing string) error {
	ge := graphErrorOf(res)
	switch {
	case ge != nil && ge.Code == 190:
		return errs.Invalid(FieldPageAccessToken, "Meta does not accept this Page access token")
	case ge != nil && ge.Code == 210:
		return errs.Invalid(FieldPageAccessToken, "This is not a Page access token: generate one for the Page in the Meta app (Messenger → Settings)")
	case ge != nil && ge.Code == 100 && strings.Contains(strings.ToLower(ge.Message), "appsecret_proof"):
		return errs.Invalid(FieldAppSecret, "This app secret is not the one of the Meta app the Page access token belongs to")
	case ge != nil && (ge.Code == 10 || (ge.Code >= 200 && ge.Code <= 299)):
		return errs.Invalid(FieldPageAccessToken, "This token may not manage this Page: it needs the pages_messaging permission")
	case ge != nil && ge.Code == 100:
		return errs.Invalid(FieldPageID, "Meta does not know this Page ID, or this Page access token may not use it")
	case res.Status == http.StatusUnauthorized:
		return errs.Invalid(FieldPageAccessToken, "Meta does not accept this Page access token")
	case ge != nil && res.Status < 500 && !temporaryCode(ge.Code):
		return errs.Invalid(FieldPageID, fmt.Sprintf("Meta refused %sthe Page (error %d): %s", doing, ge.Code, redact(ge.text(), acc)))
	default:
		return errs.Unavailable(fmt.Sprintf("Meta's Graph API is not available (HTTP %d); try again later", res.Status))
	}
}

// Handshake answers Meta's webhook verification request.
func (*Messenger) Handshake(acc msgr.Account, query url.Values) (string, bool) {
	return meta.Handshake(acc.Secrets[FieldVerifyToken], query)
}

// Errors of Verify.
var (
	ErrNoSignature  = errors.New("messenger: missing " + SignatureHeader + " header")
	ErrBadSignature = errors.New("messenger: webhook signature does not match")
)

// Verify checks X-Hub-Signature-256 over the exact body bytes (the legacy
// SHA-1 X-Hub-Signature is not enough).
func (*Messenger) Verify(acc msgr.Account, header http.Header, body []byte) error {
	return meta.Verify("messenger", acc.Secrets[FieldAppSecret], header, body, ErrNoSignature, ErrBadSignature)
}

// endpoint is {base}/{version}/{segments...}?{query}, each segment
// path-escaped.
func (m *Messenger) endpoint(query url.Values, segments ...string) string {
	u := *m.base
	p := strings.TrimRight(u.Path, "/") + "/" + Version
	for _, s := range segments {
		p += "/" + url.PathEscape(s)
	}
	u.Path, u.RawPath = "", ""
	s := u.String() + p
	if len(query) > 0 {
		s += "?" + query.Encode()
	}
	return s
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

// proof is the appsecret_proof of the account's token ("" without both).
func proof(acc msgr.Account) string {
	token, secret := acc.Secrets[FieldPageAccessToken], acc.Secrets[FieldAppSecret]
	if token == "" || secret == "" {
		return ""
	}
	return meta.AppSecretProof(secret, token)
}

// redact removes the account's secrets (and the token's appsecret_proof)
// from a text that came from outside.
func redact(s string, acc msgr.Account) string {
	return meta.Redact(s, acc.Secrets, proof(acc))
}

// humanAgent says whether the channel may use the HUMAN_AGENT tag.
func humanAgent(acc msgr.Account) bool {
	switch strings.ToLower(strings.TrimSpace(acc.Public[FieldHumanAgent])) {
	case "yes", "true", "on", "1":
		return true
	}
	return false
}
