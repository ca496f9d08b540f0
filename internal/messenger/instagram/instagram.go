// Package instagram is the Instagram Direct platform, through the Messenger
// Platform's Instagram Messaging (Facebook Login): one Switchboard channel is
// one Instagram professional account, reached through the Facebook Page it is
// linked to and that Page's access token.
//
// The webhook's callback URL and verify token are entered by the
// administrator in the Meta app (Webhooks → Instagram, fields messages,
// messaging_seen, messaging_postbacks, message_reactions, message_edit);
// Connect checks the Page access token, learns the linked Instagram account
// and subscribes the Page to the app (POST /{page-id}/subscribed_apps), which
// Meta requires before it sends the account's webhooks.
//
// Choices where Meta's documentation leaves room (see
// shared/channels/instagram.md):
//   - Echoes, reactions, unsent (deleted) messages, referrals, opt-ins,
//     handover and standby events, and entry changes (comments, mentions,
//     live comments) are Ignored with a reason; reactions and deletions are
//     not recorded as events yet.
//   - A story mention is a client message "[mentioned you in their story]"
//     with the story's media; a story reply is "[replied to your story]" plus
//     the text, with the story's media (story URLs expire within 24 hours, so
//     the media are fetched at once). Shared posts and reels and attachment
//     types this package does not know are shown as a line with their URL.
//   - A read event names one message id (Instagram sends no watermark): only
//     that reply is marked read.
//   - Text longer than MaxText UTF-16 code units is sent as several messages,
//     cut at a line break or space where possible. Instagram attachments have
//     no caption: the text goes first, then every file as its own message
//     (uploaded with the message in one multipart call). Send returns the id
//     of the first message. A reply in several parts is not atomic: when a
//     later part fails, a retry sends the earlier parts again.
//   - Replies use messaging_type RESPONSE, so they only work within the
//     24-hour window after the customer's last message; the HUMAN_AGENT tag
//     (7 days) is not used.
package instagram

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
	// DefaultBaseURL is Meta's Graph API, where Instagram Messaging through
	// a Facebook Page lives.
	DefaultBaseURL = "https://graph.facebook.com"
	// Version is the Graph API version every request names.
	Version = "v21.0"
	// SignatureHeader carries the webhook body's HMAC.
	SignatureHeader = meta.SignatureHeader
	// MaxText is the longest text of one message, in UTF-16 code units
	// (Meta: "less than 1000 characters"; counted strictly here).
	MaxText = 1000
	// SubscribedFields are the Page fields Connect subscribes the app to.
	SubscribedFields = "messages"
)

// The names of the account fields.
const (
	// FieldAccountID is entered: the Instagram professional account's id,
	// or the id of the Facebook Page linked to it.
	FieldAccountID   = "account_id"
	FieldAccessToken = "page_access_token"
	FieldAppSecret   = "app_secret"
	FieldVerifyToken = "verify_token"
	// Learned by Connect.
	FieldInstagramID = "instagram_account_id"
	FieldUsername    = "username"
	FieldPageID      = "page_id"
	FieldPageName    = "page_name"
	FieldWebhookURL  = "webhook_url"
)

// WindowClosedReason explains error code 10 on a send to the agent.
const WindowClosedReason = "The 24-hour messaging window has closed: Instagram only accepts replies within 24 hours of the customer's last message"

// Instagram implements messenger.Platform over the Graph API.
type Instagram struct {
	base   *url.URL
	client *http.Client
}

var _ messenger.Platform = (*Instagram)(nil)

// New returns the platform talking to the Graph API at baseURL (empty:
// DefaultBaseURL) through client (nil: a client with a 60 s timeout).
func New(baseURL string, client *http.Client) *Instagram {
	u, client := messenger.APIBase(baseURL, DefaultBaseURL), messenger.APIClient(client)
	return &Instagram{base: u, client: client}
}

// Kind is Instagram.
func (*Instagram) Kind() cv.ChannelKind { return cv.Instagram }

// Fields lists what connecting an account asks for.
func (*Instagram) Fields() []messenger.Field {
	return []messenger.Field{
		{Name: FieldAccountID, Label: "Instagram account ID", Required: true,
			Help: "the ID of the Instagram professional account, or of the Facebook Page linked to it"},
		{Name: FieldAccessToken, Label: "Page access token", Secret: true, Required: true,
			Help: "a long-lived access token of the Facebook Page linked to the Instagram account, with the instagram_basic, instagram_manage_messages, pages_messaging and pages_manage_metadata permissions"},
		{Name: FieldAppSecret, Label: "App secret", Secret: true, Required: true,
			Help: "the Meta app's App secret (App settings → Basic); it signs the webhooks"},
		{Name: FieldVerifyToken, Label: "Verify token", Secret: true, Required: true,
			Help: "any string you also enter in the Meta app's webhook settings"},
	}
}

// Connect checks the Page access token (and, through appsecret_proof, the
// app secret) with the Graph API, learns the Page and its linked Instagram
// account, checks that the account id entered is one of them, and
// subscribes the Page to the app's webhooks.
func (g *Instagram) Connect(ctx context.Context, acc messenger.Account, hookURL string) (messenger.Account, error) {
	out := messenger.Account{ChannelID: acc.ChannelID, Public: map[string]string{}, Secrets: map[string]string{}}
	for k, v := range acc.Public {
		out.Public[k] = v
	}
	for k, v := range acc.Secrets {
		out.Secrets[k] = v
	}
	for _, f := range g.Fields() {
		m := out.Public
		if f.Secret {
			m = out.Secrets
		}
		m[f.Name] = strings.TrimSpace(m[f.Name])
		if m[f.Name] == "" {
			return messenger.Account{}, errs.Invalid(f.Name, f.Label+" is required")
		}
	}
	id := out.Public[FieldAccountID]
	if !isDigits(id) {
		return messenger.Account{}, errs.Invalid(FieldAccountID, "The Instagram account ID is a number such as 17841400000000000 (or the linked Page's ID)")
	}
	if strings.ContainsAny(out.Secrets[FieldAccessToken], " \t\r\n") {
		return messenger.Account{}, errs.Invalid(FieldAccessToken, "Meta does not accept this Page access token")
	}

	fields := "id,name,instagram_business_account{id,username,name}"
	res, err := g.call(ctx, out, http.MethodGet, g.endpoint("me")+"?fields="+url.QueryEscape(fields), "", nil)
	if err != nil {
		return messenger.Account{}, unreachable(ctx)
	}
	if res.Status != http.StatusOK {
		return messenger.Account{}, connectError(res, out, "")
	}
	page := meta.ParseObject(res.Body)
	if page == nil || !isDigits(page.Str("id")) {
		return messenger.Account{}, errs.Unavailable("Meta's Graph API gave an unreadable answer; try again later")
	}
	pageID, pageName := page.Str("id"), strings.TrimSpace(page.Str("name"))
	ig := page.Obj("instagram_business_account")
	igID := ig.Str("id")
	if !isDigits(igID) {
		return messenger.Account{}, errs.Invalid(FieldAccountID, fmt.Sprintf("The Facebook Page %q has no linked Instagram professional account", meta.Clip(pageName, 80)))
	}
	if id != igID && id != pageID {
		return messenger.Account{}, errs.Invalid(FieldAccountID, fmt.Sprintf("This Page access token belongs to the Page %q (ID %s), linked to the Instagram account ID %s, not to %s",
			meta.Clip(pageName, 80), pageID, igID, id))
	}

	res, err = g.call(ctx, out, http.MethodPost, g.endpoint(pageID, "subscribed_apps"),
		"application/x-www-form-urlencoded", []byte(url.Values{"subscribed_fields": {SubscribedFields}}.Encode()))
	if err != nil {
		return messenger.Account{}, unreachable(ctx)
	}
	if res.Status != http.StatusOK || !meta.ParseObject(res.Body).Bool("success") {
		if res.Status == http.StatusOK {
			return messenger.Account{}, errs.Unavailable("Meta did not confirm the Page's webhook subscription; try again later")
		}
		return messenger.Account{}, connectError(res, out, "subscribing the Page to the app's webhooks: ")
	}

	out.Public[FieldInstagramID] = igID
	out.Public[FieldUsername] = ig.Str("username")
	out.Public[FieldPageID] = pageID
	out.Public[FieldPageName] = pageName
	if hookURL != "" {
		out.Public[FieldWebhookURL] = hookURL
	}
	return out, nil
}

func unreachable(ctx context.Context) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return errs.Unavailable("Meta's Graph API cannot be reached; try again later")
}

// connectError turns a failed Graph API answer during Connect into an error
// naming the field to fix.
func connectError(res *result, acc messenger.Account, doing string) error {
	ge := graphErrorOf(res)
	switch {
	case ge != nil && ge.Code == 190, ge == nil && res.Status == http.StatusUnauthorized:
		return errs.Invalid(FieldAccessToken, "Meta does not accept this Page access token")
	case ge.invalidProof():
		return errs.Invalid(FieldAppSecret, "This is not the App secret of the Meta app this Page access token was made for")
	case ge != nil && ge.Code == 100 && strings.Contains(ge.Message, "node type (User)"):
		return errs.Invalid(FieldAccessToken, "This is a user access token: use the access token of the Facebook Page linked to the Instagram account")
	case ge != nil && (ge.Code == 10 || (ge.Code >= 200 && ge.Code <= 299)):
		return errs.Invalid(FieldAccessToken, doing+"This Page access token lacks a permission (it needs instagram_basic, instagram_manage_messages, pages_messaging and pages_manage_metadata): "+redact(ge.text(), acc))
	case ge != nil && res.Status < 500 && !temporaryCode(ge.Code):
		return errs.Invalid(FieldAccessToken, fmt.Sprintf("%sMeta refused (error %d): %s", doing, ge.Code, redact(ge.text(), acc)))
	default:
		return errs.Unavailable(fmt.Sprintf("Meta's Graph API is not available (HTTP %d); try again later", res.Status))
	}
}

// Handshake answers Meta's webhook verification request.
func (*Instagram) Handshake(acc messenger.Account, query url.Values) (string, bool) {
	return meta.Handshake(acc.Secrets[FieldVerifyToken], query)
}

// Errors of Verify.
var (
	ErrNoSignature  = errors.New("instagram: missing " + SignatureHeader + " header")
	ErrBadSignature = errors.New("instagram: webhook signature does not match")
)

// Verify checks X-Hub-Signature-256 over the exact body bytes.
func (*Instagram) Verify(acc messenger.Account, header http.Header, body []byte) error {
	return meta.Verify("instagram", acc.Secrets[FieldAppSecret], header, body, ErrNoSignature, ErrBadSignature)
}

// Profile asks the Graph API for a client's name, username and picture
// (allowed once the client has written to the account).
func (g *Instagram) Profile(ctx context.Context, acc messenger.Account, senderID string) (messenger.Profile, error) {
	if !isDigits(senderID) {
		return messenger.Profile{}, errors.New("instagram: invalid Instagram-scoped user id")
	}
	res, err := g.call(ctx, acc, http.MethodGet, g.endpoint(senderID)+"?fields=name,username,profile_pic", "", nil)
	if err != nil {
		return messenger.Profile{}, err
	}
	if res.Status != http.StatusOK {
		if ge := graphErrorOf(res); ge != nil {
			return messenger.Profile{}, fmt.Errorf("instagram: profile: error %d: %s", ge.Code, redact(ge.text(), acc))
		}
		return messenger.Profile{}, fmt.Errorf("instagram: profile: HTTP %d", res.Status)
	}
	o := meta.ParseObject(res.Body)
	if o == nil {
		return messenger.Profile{}, errors.New("instagram: profile: unreadable answer")
	}
	var p messenger.Profile
	username := o.Str("username")
	if !validUsername(username) {
		username = ""
	}
	p.Name = meta.Clip(strings.TrimSpace(o.Str("name")), 200)
	if p.Name == "" && username != "" {
		p.Name = "@" + username
	}
	if username != "" {
		p.ProfileURL = "https://www.instagram.com/" + username
	}
	if u, err := url.Parse(o.Str("profile_pic")); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.User == nil {
		p.AvatarURL = u.String()
	}
	return p, nil
}

// endpoint is {base}/{version}/{segments...}, each segment path-escaped.
func (g *Instagram) endpoint(segments ...string) string {
	u := *g.base
	p := strings.TrimRight(u.Path, "/") + "/" + Version
	for _, s := range segments {
		p += "/" + url.PathEscape(s)
	}
	u.Path, u.RawPath = "", ""
	return u.String() + p
}

// pageNode is where the account's messages are sent: the linked Page, or
// "me" (the Page the token belongs to) when the Page id is not known.
func pageNode(acc messenger.Account) string {
	if id := acc.Public[FieldPageID]; isDigits(id) {
		return id
	}
	return "me"
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

// validUsername accepts Instagram usernames: letters, digits, "." and "_",
// at most 30.
func validUsername(s string) bool {
	if s == "" || len(s) > 30 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// redact removes the account's secrets from a text that came from outside.
func redact(s string, acc messenger.Account) string {
	return meta.Redact(s, acc.Secrets)
}
