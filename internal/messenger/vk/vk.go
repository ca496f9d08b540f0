// Package vk connects Switchboard to VK (VKontakte) community messages
// through the Callback API: one channel is one community (group_id) with a
// community access token. See shared/channels/vk.md for the protocol facts
// this follows (https://dev.vk.com/ru/api/callback/getting-started).
//
// Decisions worth knowing:
//   - The administrator enters the webhook URL, the secret key and API
//     version 5.199 in Community management → Working with API → Callback
//     API, and the confirmation string VK shows there in Switchboard; Connect
//     does not register the server (that needs the token's manage right).
//   - VK posts `confirmation` without the secret key: it is answered with the
//     channel's confirmation string when its group_id is the channel's.
//     Every other event must carry the channel's secret key and group_id,
//     and is answered "ok" (as VK requires) once stored.
//   - Only direct messages to the community (peer_id below 2000000000)
//     become client messages; group-chat traffic, the community's own
//     messages (message_reply, out=1), typing, message_allow/message_deny and
//     callback buttons are acknowledged and Ignored.
//   - A client message is identified by "{peer_id}_{conversation_message_id}";
//     our replies by VK's message id, which is what message_read names: that
//     reply and every earlier one are marked read (an UpTo status).
//   - Replies are plain text of at most 9000 UTF-16 code units per message
//     (longer ones are split at a line break or space). Files are uploaded
//     before any message goes: images as photos (falling back to documents),
//     other files as documents, at most 10 per message. Every message sent
//     carries a random_id derived from Outgoing.Key and the part's number, so
//     VK drops a retried send it already delivered.
//   - The community token travels only in POST bodies, never in URLs, and is
//     redacted from every error text.
package vk

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/messenger"
)

const (
	// DefaultBaseURL is VK's API host; methods are {base}/method/{name}
	// (VK also serves https://api.vk.ru).
	DefaultBaseURL = "https://api.vk.com"
	// Version is the API version every call names; the Callback API server
	// must be set to the same version in the community's settings.
	Version = "5.199"
	// MaxText is the longest text of one message, in UTF-16 code units.
	MaxText = 9000
	// MaxAttachments is how many files one message carries.
	MaxAttachments = 10
	// ChatPeerBase is where group-chat peer ids start (2000000000 + chat id).
	ChatPeerBase = 2000000000
)

// The names of the account fields.
const (
	FieldGroupID      = "group_id"
	FieldAccessToken  = "access_token"
	FieldConfirmation = "confirmation"
	FieldSecret       = "secret"
	// Learned by Connect.
	FieldGroupName       = "group_name"
	FieldGroupScreenName = "group_screen_name"
)

// NotAllowedReason explains error 901 to the agent.
const NotAllowedReason = "The client has not allowed messages from the community: VK delivers a reply only after the client writes again or allows messages"

// VK implements messenger.Platform over the Callback API and messages.send.
type VK struct {
	base   *url.URL
	client *http.Client
}

var _ messenger.Platform = (*VK)(nil)

// New returns the platform talking to the API at baseURL (empty:
// DefaultBaseURL) through client (nil: a client with a 60 s timeout).
func New(baseURL string, client *http.Client) *VK {
	u, client := messenger.APIBase(baseURL, DefaultBaseURL), messenger.APIClient(client)
	return &VK{base: u, client: client}
}

// Kind is conversation.VK.
func (*VK) Kind() cv.ChannelKind { return cv.VK }

// Fields lists what connecting a community asks for.
func (*VK) Fields() []messenger.Field {
	return []messenger.Field{
		{Name: FieldGroupID, Label: "Community ID", Required: true,
			Help: "the community's numeric id (Community management → Working with API → Callback API shows it as group_id)"},
		{Name: FieldAccessToken, Label: "Community access token", Secret: true, Required: true,
			Help: "created in Community management → Working with API → Access tokens, with the messages, photos and docs rights"},
		{Name: FieldConfirmation, Label: "Confirmation string", Secret: true, Required: true,
			Help: "the string VK says the server should return, shown in the Callback API settings"},
		{Name: FieldSecret, Label: "Secret key", Secret: true, Required: true,
			Help: "any string you also enter as the Secret key in the Callback API settings"},
	}
}

// Connect checks the community token with groups.getById (it must belong to
// the community group_id) and groups.getTokenPermissions (it must have the
// messages right), and learns the community's name. When the token may
// manage the community, the confirmation string is compared with
// groups.getCallbackConfirmationCode. The secret key cannot be checked: VK
// shows it to nobody.
func (v *VK) Connect(ctx context.Context, acc messenger.Account, hookURL string) (messenger.Account, error) {
	out := messenger.Account{ChannelID: acc.ChannelID, Public: map[string]string{}, Secrets: map[string]string{}}
	for k, val := range acc.Public {
		out.Public[k] = val
	}
	for k, val := range acc.Secrets {
		out.Secrets[k] = val
	}
	for _, f := range v.Fields() {
		m := out.Public
		if f.Secret {
			m = out.Secrets
		}
		m[f.Name] = strings.TrimSpace(m[f.Name])
		if m[f.Name] == "" {
			return messenger.Account{}, errs.Invalid(f.Name, f.Label+" is required")
		}
	}
	gid, ok := parseGroupID(out.Public[FieldGroupID])
	if !ok {
		return messenger.Account{}, errs.Invalid(FieldGroupID, "The community ID is a number such as 200000001 (the group_id in the Callback API settings)")
	}
	out.Public[FieldGroupID] = strconv.FormatInt(gid, 10)
	token := out.Secrets[FieldAccessToken]
	if strings.ContainsAny(token, " \t\r\n") || len(token) > 512 {
		return messenger.Account{}, errs.Invalid(FieldAccessToken, "VK does not accept this access token")
	}

	unavailable := func(err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ae *apiError
		if errors.As(err, &ae) && ae.code != 0 {
			return errs.Unavailable(fmt.Sprintf("VK is not available (error %d); try again later", ae.code))
		}
		return errs.Unavailable("VK's API cannot be reached; try again later")
	}
	tokenRefused := func(err error) error {
		var ae *apiError
		if !errors.As(err, &ae) || ae.code == 0 || temporaryCode(ae.code) {
			return unavailable(err)
		}
		switch ae.code {
		case 5, 27, 28:
			return errs.Invalid(FieldAccessToken, "VK does not accept this access token")
		case 100:
			return errs.Invalid(FieldAccessToken, "This is not a community access token: create one in Community management → Working with API")
		}
		return errs.Invalid(FieldAccessToken, fmt.Sprintf("VK refused this access token (error %d): %s", ae.code, redact(ae.msg, out)))
	}

	// Without group_id, groups.getById names the community the token is of.
	res, err := v.call(ctx, out, "groups.getById", url.Values{})
	if err != nil {
		return messenger.Account{}, tokenRefused(err)
	}
	g, ok := ownGroup(res)
	if !ok {
		return messenger.Account{}, errs.Unavailable("VK gave an unreadable answer; try again later")
	}
	if g.id != gid {
		return messenger.Account{}, errs.Invalid(FieldGroupID, fmt.Sprintf("The access token belongs to the community %q (id %d), not to %d", clip(g.name, 100), g.id, gid))
	}

	res, err = v.call(ctx, out, "groups.getTokenPermissions", url.Values{})
	if err != nil {
		return messenger.Account{}, tokenRefused(err)
	}
	mask, err := strconv.ParseInt(object(res).str("mask"), 10, 64)
	if err == nil && mask&permMessages == 0 {
		return messenger.Account{}, errs.Invalid(FieldAccessToken, "This access token lacks the messages right: create a token with access to community messages (and photos, docs for files)")
	}
	if err == nil && mask&permManage != 0 {
		// A token that may manage the community can read the confirmation
		// string: a stale copy is caught now rather than when VK confirms.
		res, err := v.call(ctx, out, "groups.getCallbackConfirmationCode", url.Values{"group_id": {out.Public[FieldGroupID]}})
		if code := object(res).str("code"); err == nil && code != "" &&
			subtle.ConstantTimeCompare([]byte(code), []byte(out.Secrets[FieldConfirmation])) != 1 {
			return messenger.Account{}, errs.Invalid(FieldConfirmation, "VK expects another confirmation string for this community: copy it again from the Callback API settings")
		}
	}

	out.Public[FieldGroupName] = g.name
	out.Public[FieldGroupScreenName] = g.screenName
	return out, nil
}

// Bits of a community token's rights mask (groups.getTokenPermissions).
const (
	permMessages = 4096
	permManage   = 262144
)

type group struct {
	id         int64
	name       string
	screenName string
}

// ownGroup reads groups.getById: {"groups":[…]} since 5.194, a bare array
// before.
func ownGroup(res []byte) (group, bool) {
	list := array(res)
	if list == nil {
		list = object(res).arr("groups")
	}
	if len(list) == 0 {
		return group{}, false
	}
	o := object(list[0])
	id, ok := o.int("id")
	if !ok || id <= 0 {
		return group{}, false
	}
	return group{id: id, name: o.str("name"), screenName: o.str("screen_name")}, true
}

// parseGroupID accepts 200000001, -200000001, club200000001 and public…
// as VK writes community ids in various places.
func parseGroupID(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	for _, p := range []string{"-", "club", "public", "event"} {
		s = strings.TrimPrefix(s, p)
	}
	if !isDigits(s) {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}

// Handshake: VK has none (its confirmation is a POST, answered by Parse).
func (*VK) Handshake(messenger.Account, url.Values) (string, bool) { return "", false }

// Errors of Verify.
var (
	ErrWrongGroup = errors.New("vk: the callback names another community")
	ErrNoSecret   = errors.New("vk: the callback carries no secret")
	ErrBadSecret  = errors.New("vk: the callback's secret does not match")
)

// Verify checks the callback's group_id and its secret field (constant
// time). A confirmation request carries no secret: its group_id suffices,
// as it only asks for the confirmation string.
func (*VK) Verify(acc messenger.Account, _ http.Header, body []byte) error {
	want, ok := parseGroupID(acc.Public[FieldGroupID])
	if !ok {
		return errors.New("vk: the channel has no community id; connect it again")
	}
	top := object(body)
	if top == nil {
		return errors.New("vk: the callback is not a JSON object")
	}
	if gid, ok := top.int("group_id"); !ok || gid != want {
		return ErrWrongGroup
	}
	got, hasSecret := top.strOK("secret")
	if top.str("type") == "confirmation" && !hasSecret {
		return nil
	}
	secret := acc.Secrets[FieldSecret]
	switch {
	case secret == "":
		return errors.New("vk: the channel has no secret key; connect it again")
	case !hasSecret || got == "":
		return ErrNoSecret
	case subtle.ConstantTimeCompare([]byte(got), []byte(secret)) != 1:
		return ErrBadSecret
	}
	return nil
}

func isDigits(s string) bool {
	if s == "" || len(s) > 19 {
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
	for _, val := range acc.Secrets {
		if len(val) >= 4 {
			s = strings.ReplaceAll(s, val, "[redacted]")
		}
	}
	return s
}
