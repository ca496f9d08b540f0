// Package telegram connects Switchboard to the Telegram Bot API: one channel is
// one bot token. See shared/channels/telegram.md for the protocol facts this
// follows (https://core.telegram.org/bots/api).
//
// Decisions worth knowing:
//   - Only private chats become client messages; groups, supergroups, channels,
//     button presses and other update types are acknowledged and ignored.
//   - Replies are plain text (no parse_mode). Text longer than 4096 UTF-16
//     code units (Telegram's own way of counting, stricter than runes) is
//     split into several messages, preferably at a line break or a space.
//     Send returns the id of the FIRST message sent.
//   - A reply sent in several parts is not atomic: if a later part fails
//     (after Telegram's flood control has been waited out for a few seconds
//     within Send), the error is returned and a retry resends the earlier
//     parts.
//   - The bot token appears only in request URLs; errors carry a redacted URL.
package telegram

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // DecodeConfig for the photo limits
	_ "image/png"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/messenger"
)

// DefaultBaseURL is the Bot API's address.
const DefaultBaseURL = "https://api.telegram.org"

// SecretHeader carries the webhook secret on every webhook POST.
const SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

// AllowedUpdates are the update types the webhook is registered for.
var AllowedUpdates = []string{"message", "edited_message", "callback_query", "my_chat_member"}

// Limits of the Bot API (#sendmessage, #sending-files, #getfile).
const (
	MaxText        = 4096     // UTF-16 code units per message
	MaxCaption     = 1024     // UTF-16 code units per caption
	MaxPhotoUpload = 10 << 20 // larger images go as documents
	MaxUpload      = 50 << 20 // any uploaded file
	MaxDownload    = 20 << 20 // what a bot may download
)

const (
	maxAnswer = 1 << 20 // bytes read from a method's answer
	maxUpdate = 4 << 20 // bytes of an update Parse accepts
	// Continuation parts of a split reply wait out flood control up to this.
	maxInlineWait = 10 * time.Second
)

// ErrFileTooLarge is returned by Fetch for files bots cannot or Switchboard
// will not download; the file's metadata is all there is.
var ErrFileTooLarge = errors.New("file too large to fetch")

// Telegram is the Telegram platform.
type Telegram struct {
	base   string
	client *http.Client
}

var _ messenger.Platform = (*Telegram)(nil)

// New returns the platform talking to baseURL (DefaultBaseURL when empty)
// through client (a client with a 60 s timeout when nil).
func New(baseURL string, client *http.Client) *Telegram {
	return &Telegram{base: messenger.APIBase(baseURL, DefaultBaseURL).String(), client: messenger.APIClient(client)}
}

// Kind is conversation.Telegram.
func (*Telegram) Kind() cv.ChannelKind { return cv.Telegram }

// Fields asks for the bot token.
func (*Telegram) Fields() []messenger.Field {
	return []messenger.Field{{
		Name: "bot_token", Label: "Bot token", Secret: true, Required: true,
		Help: "from @BotFather",
	}}
}

// Connect checks the token with getMe and registers the webhook at hookURL
// with a new random secret.
func (t *Telegram) Connect(ctx context.Context, acc messenger.Account, hookURL string) (messenger.Account, error) {
	out := messenger.Account{ChannelID: acc.ChannelID, Public: map[string]string{}, Secrets: map[string]string{}}
	for k, v := range acc.Public {
		out.Public[k] = v
	}
	for k, v := range acc.Secrets {
		out.Secrets[k] = v
	}
	token := strings.TrimSpace(out.Secrets["bot_token"])
	if token == "" {
		return acc, errs.Invalid("bot_token", "the bot token is required")
	}
	if !validToken(token) {
		return acc, errs.Invalid("bot_token", "this does not look like a Telegram bot token (123456:ABC…)")
	}
	out.Secrets["bot_token"] = token

	var me struct {
		ID        int64  `json:"id"`
		IsBot     bool   `json:"is_bot"`
		FirstName string `json:"first_name"`
		LastName  string `json:"last_name"`
		Username  string `json:"username"`
	}
	if err := t.callJSON(ctx, token, "getMe", nil, &me); err != nil {
		var ae *apiError
		switch {
		case !errors.As(err, &ae), ae.code >= 500:
			return acc, errs.Unavailable("cannot reach Telegram: " + err.Error())
		case ae.code == http.StatusUnauthorized, ae.code == http.StatusNotFound:
			return acc, errs.Invalid("bot_token", "Telegram does not accept this token")
		default:
			return acc, errs.Invalid("bot_token", "Telegram does not accept this token: "+ae.description)
		}
	}
	if !me.IsBot || me.ID == 0 {
		return acc, errs.Invalid("bot_token", "this token does not belong to a bot")
	}

	secret, err := newSecret()
	if err != nil {
		return acc, err
	}
	params := map[string]any{"url": hookURL, "secret_token": secret, "allowed_updates": AllowedUpdates}
	var ok bool
	if err := t.callJSON(ctx, token, "setWebhook", params, &ok); err != nil {
		var ae *apiError
		switch {
		case !errors.As(err, &ae), ae.code >= 500:
			return acc, errs.Unavailable("cannot reach Telegram: " + err.Error())
		case ae.code == http.StatusUnauthorized, ae.code == http.StatusNotFound:
			return acc, errs.Invalid("bot_token", "Telegram does not accept this token")
		default:
			return acc, errs.Invalid("webhook", ae.description+"; Switchboard's public URL must be HTTPS on port 443, 80, 88 or 8443 (SWITCHBOARD_PUBLIC_URL)")
		}
	}

	out.Public["bot_id"] = strconv.FormatInt(me.ID, 10)
	out.Public["bot_username"] = me.Username
	out.Public["bot_name"] = strings.TrimSpace(me.FirstName + " " + me.LastName)
	out.Secrets["webhook_secret"] = secret
	return out, nil
}

// Handshake: Telegram has none.
func (*Telegram) Handshake(messenger.Account, url.Values) (string, bool) { return "", false }

// Verify compares the secret header with the channel's webhook secret.
func (*Telegram) Verify(acc messenger.Account, header http.Header, _ []byte) error {
	want := acc.Secrets["webhook_secret"]
	got := header.Get(SecretHeader)
	switch {
	case want == "":
		return errs.Unauthenticated("webhook_unverified", "the channel has no webhook secret; connect it again")
	case got == "":
		return errs.Unauthenticated("webhook_unverified", "missing "+SecretHeader+" header")
	case subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1:
		return errs.Unauthenticated("webhook_unverified", "wrong "+SecretHeader+" header")
	}
	return nil
}

// ---------------------------------------------------------------- helpers

// validToken accepts what can go into a URL path as is: Telegram tokens are
// "{bot id}:{35 chars of A-Z a-z 0-9 _ -}".
func validToken(s string) bool {
	if len(s) < 3 || len(s) > 256 || !strings.Contains(s, ":") {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ':' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// newSecret is 32 random bytes in base64url without padding: 43 characters
// of A-Z a-z 0-9 _ -, which secret_token allows.
func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("telegram: webhook secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// utf16Len counts like Telegram counts message lengths.
func utf16Len(s string) int {
	n := 0
	for _, r := range s { // invalid UTF-8 comes as U+FFFD: one unit
		n += utf16.RuneLen(r)
	}
	return n
}

// ---------------------------------------------------------------- API calls

// apiError is an answer other than {"ok":true}.
type apiError struct {
	method      string
	code        int // error_code, else the HTTP status
	description string
	retryAfter  int
}

func (e *apiError) Error() string {
	return fmt.Sprintf("telegram %s: %d %s", e.method, e.code, e.description)
}

type answer struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// methodURL is the URL of a method; it holds the token.
func (t *Telegram) methodURL(token, method string) string {
	return t.base + "/bot" + token + "/" + method
}

// redact removes the token from a transport error: *url.Error prints the
// URL, which holds the token.
func redact(err error, token string) error {
	if err == nil || token == "" {
		return err
	}
	clean := func(s string) string { return strings.ReplaceAll(s, token, "<token>") }
	var ue *url.Error
	if errors.As(err, &ue) {
		inner := ue.Err
		if inner != nil && strings.Contains(inner.Error(), token) {
			inner = errors.New(clean(inner.Error()))
		}
		return &url.Error{Op: ue.Op, URL: clean(ue.URL), Err: inner}
	}
	if strings.Contains(err.Error(), token) {
		return errors.New(clean(err.Error()))
	}
	return err
}

// call posts to a method and decodes result into out (when not nil).
// Transport failures come back redacted; answers other than ok as *apiError.
func (t *Telegram) call(ctx context.Context, token, method, contentType string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.methodURL(token, method), bytes.NewReader(body))
	if err != nil {
		return redact(err, token)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	resp, err := t.client.Do(req)
	if err != nil {
		return redact(err, token)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return redact(err, token)
	}
	var a answer
	if jerr := json.Unmarshal(raw, &a); jerr != nil || (!a.OK && a.ErrorCode == 0 && a.Description == "") {
		if resp.StatusCode/100 == 2 {
			return &apiError{method: method, code: resp.StatusCode, description: "unreadable answer"}
		}
		return &apiError{method: method, code: resp.StatusCode, description: http.StatusText(resp.StatusCode)}
	}
	if !a.OK {
		code := a.ErrorCode
		if code == 0 {
			code = resp.StatusCode
		}
		return &apiError{method: method, code: code, description: a.Description, retryAfter: a.Parameters.RetryAfter}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(a.Result, out); err != nil {
		return &apiError{method: method, code: resp.StatusCode, description: "unreadable result: " + err.Error()}
	}
	return nil
}

func (t *Telegram) callJSON(ctx context.Context, token, method string, params any, out any) error {
	body := []byte("{}")
	if params != nil {
		var err error
		if body, err = json.Marshal(params); err != nil {
			return err
		}
	}
	return t.call(ctx, token, method, "application/json", body, out)
}

// ---------------------------------------------------------------- Parse

type tgUser struct {
	ID        int64  `json:"id"`
	IsBot     bool   `json:"is_bot"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Username  string `json:"username"`
}

type tgChat struct {
	ID        int64  `json:"id"`
	Type      string `json:"type"`
	Title     string `json:"title"`
	Username  string `json:"username"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
}

type tgFile struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	FileName     string `json:"file_name"`
	MimeType     string `json:"mime_type"`
	FileSize     int64  `json:"file_size"`
}

type tgSticker struct {
	tgFile
	Emoji      string `json:"emoji"`
	IsAnimated bool   `json:"is_animated"`
	IsVideo    bool   `json:"is_video"`
}

type tgLocation struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
}

type tgVenue struct {
	Location tgLocation `json:"location"`
	Title    string     `json:"title"`
	Address  string     `json:"address"`
}

type tgContact struct {
	PhoneNumber string `json:"phone_number"`
	FirstName   string `json:"first_name"`
	LastName    string `json:"last_name"`
}

type tgMessage struct {
	MessageID int64       `json:"message_id"`
	From      *tgUser     `json:"from"`
	Chat      *tgChat     `json:"chat"`
	Date      int64       `json:"date"`
	EditDate  int64       `json:"edit_date"`
	Text      *string     `json:"text"`
	Caption   string      `json:"caption"`
	Photo     []tgFile    `json:"photo"`
	Document  *tgFile     `json:"document"`
	Voice     *tgFile     `json:"voice"`
	Audio     *tgFile     `json:"audio"`
	Video     *tgFile     `json:"video"`
	VideoNote *tgFile     `json:"video_note"`
	Animation *tgFile     `json:"animation"`
	Sticker   *tgSticker  `json:"sticker"`
	Location  *tgLocation `json:"location"`
	Venue     *tgVenue    `json:"venue"`
	Contact   *tgContact  `json:"contact"`
}

type tgChatMember struct {
	Status string `json:"status"`
}

type tgMyChatMember struct {
	Chat          *tgChat      `json:"chat"`
	From          *tgUser      `json:"from"`
	NewChatMember tgChatMember `json:"new_chat_member"`
}

// contentKeys are the message fields Switchboard renders.
var contentKeys = map[string]bool{
	"text": true, "photo": true, "document": true, "voice": true, "audio": true, "video": true,
	"video_note": true, "animation": true, "sticker": true, "location": true, "venue": true, "contact": true,
}

// metaKeys describe a message without being its content (#message).
var metaKeys = map[string]bool{
	"message_id": true, "message_thread_id": true, "direct_messages_topic": true, "from": true,
	"sender_chat": true, "sender_boost_count": true, "sender_business_bot": true, "date": true,
	"business_connection_id": true, "chat": true, "forward_origin": true, "forward_from": true,
	"forward_from_chat": true, "forward_from_message_id": true, "forward_signature": true,
	"forward_sender_name": true, "forward_date": true, "is_topic_message": true,
	"is_automatic_forward": true, "reply_to_message": true, "external_reply": true, "quote": true,
	"reply_to_story": true, "reply_to_checklist_task_id": true, "via_bot": true, "edit_date": true,
	"has_protected_content": true, "is_from_offline": true, "is_paid_post": true,
	"media_group_id": true, "author_signature": true, "paid_star_count": true, "entities": true,
	"caption": true, "caption_entities": true, "link_preview_options": true,
	"suggested_post_info": true, "effect_id": true, "show_caption_above_media": true,
	"has_media_spoiler": true, "reply_markup": true, "sender_tag": true,
}

// serviceKeys mark service messages: events in the chat, nothing a client wrote.
var serviceKeys = map[string]bool{
	"new_chat_members": true, "left_chat_member": true, "new_chat_title": true,
	"new_chat_photo": true, "delete_chat_photo": true, "group_chat_created": true,
	"supergroup_chat_created": true, "channel_chat_created": true,
	"message_auto_delete_timer_changed": true, "migrate_to_chat_id": true,
	"migrate_from_chat_id": true, "pinned_message": true, "successful_payment": true,
	"refunded_payment": true, "users_shared": true, "user_shared": true, "chat_shared": true,
	"connected_website": true, "write_access_allowed": true, "passport_data": true,
	"proximity_alert_triggered": true, "boost_added": true, "chat_background_set": true,
	"forum_topic_created": true, "forum_topic_edited": true, "forum_topic_closed": true,
	"forum_topic_reopened": true, "general_forum_topic_hidden": true,
	"general_forum_topic_unhidden": true, "giveaway_created": true, "giveaway_completed": true,
	"video_chat_scheduled": true, "video_chat_started": true, "video_chat_ended": true,
	"video_chat_participants_invited": true, "web_app_data": true, "gift": true,
	"unique_gift": true, "paid_message_price_changed": true, "checklist_tasks_done": true,
	"checklist_tasks_added": true, "direct_message_price_changed": true,
	"chat_owner_left": true, "chat_owner_changed": true, "suggested_post_approved": true,
	"suggested_post_approval_failed": true, "suggested_post_declined": true,
	"suggested_post_paid": true, "suggested_post_refunded": true, "gift_upgrade_sent": true,
}

// Parse turns one update (Telegram posts one per request) into one Update.
// A body that is not a JSON object with an integer update_id is an error.
func (*Telegram) Parse(_ messenger.Account, body []byte) ([]messenger.Update, error) {
	if len(body) > maxUpdate {
		return nil, fmt.Errorf("telegram: update of %d bytes is too large", len(body))
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, fmt.Errorf("telegram: update is not a JSON object: %w", err)
	}
	rawID, ok := fields["update_id"]
	if !ok {
		return nil, errors.New("telegram: update has no update_id")
	}
	var updateID int64
	if err := json.Unmarshal(rawID, &updateID); err != nil {
		return nil, errors.New("telegram: update_id is not an integer")
	}
	delete(fields, "update_id")

	switch {
	case fields["message"] != nil:
		return one(parseMessage(fields["message"], messenger.Message)), nil
	case fields["edited_message"] != nil:
		return one(parseMessage(fields["edited_message"], messenger.Edit)), nil
	case fields["my_chat_member"] != nil:
		return one(parseMyChatMember(fields["my_chat_member"])), nil
	case fields["callback_query"] != nil:
		return one(ignored("inline button presses are not handled (Switchboard sends no buttons)")), nil
	}
	kinds := make([]string, 0, len(fields))
	for k := range fields {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	if len(kinds) == 0 {
		return one(ignored("empty update")), nil
	}
	if len(kinds) > 3 {
		kinds = kinds[:3]
	}
	return one(ignored(clip(strings.Join(kinds, ","), 100) + " updates are not helpdesk traffic")), nil
}

func one(u messenger.Update) []messenger.Update { return []messenger.Update{u} }

func ignored(reason string) messenger.Update {
	return messenger.Update{Kind: messenger.Ignored, Reason: reason}
}

func parseMyChatMember(raw json.RawMessage) messenger.Update {
	var m tgMyChatMember
	if err := json.Unmarshal(raw, &m); err != nil {
		return ignored("unreadable my_chat_member: " + clip(err.Error(), 200))
	}
	if m.Chat == nil || m.Chat.Type != "private" {
		return ignored("the bot's membership in a group or channel changed")
	}
	switch m.NewChatMember.Status {
	case "kicked":
		return ignored("the client blocked the bot")
	case "member":
		return ignored("the client unblocked the bot")
	}
	return ignored("the bot's membership changed to " + clip(m.NewChatMember.Status, 40))
}

func parseMessage(raw json.RawMessage, kind messenger.UpdateKind) messenger.Update {
	var keys map[string]json.RawMessage
	var m tgMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		return ignored("unreadable message: " + clip(err.Error(), 200))
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return ignored("unreadable message: " + clip(err.Error(), 200))
	}
	if m.Chat == nil {
		return ignored("message without a chat")
	}
	if m.Chat.Type != "private" {
		return ignored("message in a " + clip(m.Chat.Type, 40) + " chat (only private chats are helpdesk traffic)")
	}
	if m.From == nil || m.From.ID == 0 {
		return ignored("message without a sender")
	}
	if m.MessageID == 0 {
		return ignored("message without a message_id")
	}

	in := &messenger.Inbound{
		ExternalID: strconv.FormatInt(m.Chat.ID, 10) + ":" + strconv.FormatInt(m.MessageID, 10),
		SenderID:   strconv.FormatInt(m.From.ID, 10),
		SenderName: strings.TrimSpace(m.From.FirstName + " " + m.From.LastName),
	}
	if in.SenderName == "" {
		in.SenderName = m.From.Username
	}
	if validUsername(m.From.Username) {
		in.ProfileURL = "https://t.me/" + m.From.Username
		in.ChatURL = in.ProfileURL
	}
	date := m.Date
	if kind == messenger.Edit && m.EditDate > 0 {
		date = m.EditDate
	}
	if date > 0 && date < 1<<40 {
		in.SentAt = time.Unix(date, 0).UTC()
	}

	if !renderContent(&m, in) {
		var unknown, service []string
		for k := range keys {
			switch {
			case metaKeys[k], contentKeys[k]:
			case serviceKeys[k]:
				service = append(service, k)
			default:
				unknown = append(unknown, k)
			}
		}
		sort.Strings(unknown)
		sort.Strings(service)
		switch {
		case len(unknown) > 0:
			in.Text = "[unsupported message type: " + clip(unknown[0], 60) + "]"
			if c := strings.TrimSpace(m.Caption); c != "" {
				in.Text += "\n" + c
			}
		case len(service) > 0:
			return ignored("service message (" + service[0] + ")")
		case strings.TrimSpace(m.Caption) != "":
			in.Text = m.Caption
		default:
			return ignored("message without content")
		}
	}
	return messenger.Update{Kind: kind, Message: in}
}

// renderContent fills the text and files of the content kinds Switchboard
// knows; false when there is none of them.
func renderContent(m *tgMessage, in *messenger.Inbound) bool {
	caption := m.Caption
	file := func(f *tgFile, prefix, ext, contentType string, useName bool) {
		if f == nil || f.FileID == "" {
			return
		}
		name := ""
		if useName {
			name = cleanFilename(f.FileName)
		}
		if name == "" {
			name = prefix + "-" + safeID(f.FileUniqueID, f.FileID) + ext
		}
		ct := contentType
		if f.MimeType != "" && useMime(f.MimeType) {
			ct = f.MimeType
		}
		in.Files = append(in.Files, messenger.FileRef{ID: f.FileID, Filename: name, ContentType: ct, Size: max(f.FileSize, 0)})
	}
	switch {
	case m.Text != nil:
		in.Text = *m.Text
	case len(m.Photo) > 0:
		p := m.Photo[len(m.Photo)-1] // sizes come smallest first
		p.MimeType, p.FileName = "", ""
		file(&p, "photo", ".jpg", "image/jpeg", false)
		in.Text = caption
	case m.Animation != nil: // a GIF also carries a document field: take only this one
		file(m.Animation, "animation", ".mp4", "video/mp4", true)
		in.Text = caption
	case m.Document != nil:
		file(m.Document, "document", "", "application/octet-stream", true)
		in.Text = caption
	case m.Voice != nil:
		file(m.Voice, "voice", ".ogg", "audio/ogg", false)
		in.Text = caption
	case m.Audio != nil:
		file(m.Audio, "audio", ".mp3", "audio/mpeg", true)
		in.Text = caption
	case m.Video != nil:
		file(m.Video, "video", ".mp4", "video/mp4", true)
		in.Text = caption
	case m.VideoNote != nil:
		file(m.VideoNote, "video-note", ".mp4", "video/mp4", false)
		in.Text = caption
	case m.Sticker != nil:
		s := m.Sticker
		s.MimeType, s.FileName = "", ""
		switch {
		case s.IsVideo:
			file(&s.tgFile, "sticker", ".webm", "video/webm", false)
		case s.IsAnimated:
			file(&s.tgFile, "sticker", ".tgs", "application/x-tgsticker", false)
		default:
			file(&s.tgFile, "sticker", ".webp", "image/webp", false)
		}
		if e := strings.TrimSpace(s.Emoji); e != "" {
			in.Text = "[sticker " + clip(e, 40) + "]"
		} else {
			in.Text = "[sticker]"
		}
	case m.Venue != nil: // before location: a venue also carries a location field
		v := m.Venue
		in.Text = "📍 " + strings.Trim(strings.TrimSpace(v.Title)+", "+strings.TrimSpace(v.Address), ", ") +
			"\n" + mapLink(v.Location)
	case m.Location != nil:
		in.Text = "📍 " + mapLink(*m.Location)
	case m.Contact != nil:
		c := m.Contact
		name := strings.TrimSpace(c.FirstName + " " + c.LastName)
		in.Text = "👤 " + strings.Trim(name+", "+strings.TrimSpace(c.PhoneNumber), ", ")
	default:
		return false
	}
	return true
}

// mapLink is "{lat},{lon}\n{map link}", e.g. for "📍 52.52,13.40".
func mapLink(l tgLocation) string {
	ll := strconv.FormatFloat(l.Latitude, 'f', -1, 64) + "," + strconv.FormatFloat(l.Longitude, 'f', -1, 64)
	return ll + "\nhttps://www.google.com/maps/search/?api=1&query=" + ll
}

func validUsername(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// safeID makes a file id fit in a file name.
func safeID(ids ...string) string {
	for _, id := range ids {
		var b strings.Builder
		for _, c := range []byte(id) {
			if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' {
				b.WriteByte(c)
			}
			if b.Len() == 64 {
				break
			}
		}
		if b.Len() > 0 {
			return b.String()
		}
	}
	return "file"
}

// cleanFilename keeps the base name a client gave, without control
// characters or path separators.
func cleanFilename(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '/' || r == '\\' || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if s == "." || s == ".." {
		return ""
	}
	return clip(s, 200)
}

// useMime accepts a client-declared MIME type only when it parses.
func useMime(s string) bool {
	mt, _, err := mime.ParseMediaType(s)
	return err == nil && strings.Contains(mt, "/") && len(s) <= 200
}

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// ---------------------------------------------------------------- Send

type sentMessage struct {
	MessageID int64 `json:"message_id"`
}

// Send delivers m to the chat `to` and returns "{chat}:{message_id}" of the
// first message sent. Text goes before files unless it fits as the caption
// of a single file.
func (t *Telegram) Send(ctx context.Context, acc messenger.Account, to string, m messenger.Outgoing) (string, error) {
	token := acc.Secrets["bot_token"]
	if !validToken(token) {
		return "", &messenger.SendError{Permanent: true, Broken: true, Reason: "The channel has no valid Telegram bot token"}
	}
	chatID, err := strconv.ParseInt(strings.TrimSpace(to), 10, 64)
	if err != nil {
		return "", &messenger.SendError{Permanent: true, Reason: "Not a Telegram chat id: " + clip(to, 40)}
	}
	for _, f := range m.Files {
		if len(f.Data) > MaxUpload {
			return "", &messenger.SendError{Permanent: true, Reason: fmt.Sprintf("%s is larger than Telegram's %d MB upload limit", f.Filename, MaxUpload>>20)}
		}
	}
	text := m.Text
	if strings.TrimSpace(text) == "" {
		text = ""
	}
	caption := ""
	if len(m.Files) == 1 && text != "" && utf16Len(text) <= MaxCaption {
		caption, text = text, ""
	}
	parts := splitText(text, MaxText)
	if len(parts) == 0 && len(m.Files) == 0 {
		return "", &messenger.SendError{Permanent: true, Reason: "The reply is empty"}
	}

	first := ""
	record := func(id int64) {
		if first == "" {
			first = strconv.FormatInt(chatID, 10) + ":" + strconv.FormatInt(id, 10)
		}
	}
	for _, p := range parts {
		id, err := t.withFlood(ctx, first != "", func() (int64, error) {
			var r sentMessage
			err := t.callJSON(ctx, token, "sendMessage", map[string]any{"chat_id": chatID, "text": p}, &r)
			return r.MessageID, err
		})
		if err != nil {
			return "", sendError(err)
		}
		record(id)
	}
	for _, f := range m.Files {
		id, err := t.withFlood(ctx, first != "", func() (int64, error) { return t.sendFile(ctx, token, chatID, f, caption) })
		if err != nil {
			return "", sendError(err)
		}
		record(id)
	}
	return first, nil
}

// withFlood runs send; for a continuation part (an earlier part already
// went) it waits out short flood control instead of failing the whole reply.
func (t *Telegram) withFlood(ctx context.Context, continuation bool, send func() (int64, error)) (int64, error) {
	for attempt := 0; ; attempt++ {
		id, err := send()
		var ae *apiError
		if err == nil {
			if id <= 0 {
				return 0, &apiError{code: 200, description: "no message_id in Telegram's answer"}
			}
			return id, nil
		}
		if !continuation || attempt >= 3 || !errors.As(err, &ae) || ae.code != http.StatusTooManyRequests {
			return 0, err
		}
		wait := time.Duration(max(ae.retryAfter, 1)) * time.Second
		if wait > maxInlineWait {
			return 0, err
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return 0, err
		case <-timer.C:
		}
	}
}

// sendFile uploads one file: an image Telegram can show as sendPhoto, any
// other file (or an image sendPhoto refuses) as sendDocument.
func (t *Telegram) sendFile(ctx context.Context, token string, chatID int64, f messenger.File, caption string) (int64, error) {
	if isPhoto(f) {
		id, err := t.upload(ctx, token, "sendPhoto", "photo", chatID, f, caption)
		var ae *apiError
		if !errors.As(err, &ae) || ae.code != http.StatusBadRequest {
			return id, err
		}
		// e.g. "PHOTO_INVALID_DIMENSIONS", "IMAGE_PROCESS_FAILED": try as a file.
	}
	return t.upload(ctx, token, "sendDocument", "document", chatID, f, caption)
}

// isPhoto: JPEG/PNG/WebP up to 10 MB; for JPEG and PNG also Telegram's
// dimension rules (width+height ≤ 10000, ratio ≤ 20).
func isPhoto(f messenger.File) bool {
	ct, _, _ := mime.ParseMediaType(f.ContentType)
	if ct == "" {
		ct = http.DetectContentType(f.Data)
	}
	switch ct {
	case "image/jpeg", "image/png", "image/webp":
	default:
		return false
	}
	if len(f.Data) == 0 || len(f.Data) > MaxPhotoUpload {
		return false
	}
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(f.Data)); err == nil {
		w, h := cfg.Width, cfg.Height
		if w <= 0 || h <= 0 || w+h > 10000 || w > 20*h || h > 20*w {
			return false
		}
	}
	return true
}

func (t *Telegram) upload(ctx context.Context, token, method, field string, chatID int64, f messenger.File, caption string) (int64, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.WriteField("chat_id", strconv.FormatInt(chatID, 10))
	if caption != "" {
		_ = w.WriteField("caption", caption)
	}
	name := cleanFilename(f.Filename)
	if name == "" {
		name = "file"
	}
	ct := f.ContentType
	if !useMime(ct) {
		ct = "application/octet-stream"
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", mime.FormatMediaType("form-data", map[string]string{"name": field, "filename": name}))
	h.Set("Content-Type", ct)
	part, err := w.CreatePart(h)
	if err != nil {
		return 0, err
	}
	if _, err := part.Write(f.Data); err != nil {
		return 0, err
	}
	if err := w.Close(); err != nil {
		return 0, err
	}
	var r sentMessage
	err = t.call(ctx, token, method, w.FormDataContentType(), buf.Bytes(), &r)
	return r.MessageID, err
}

// splitText cuts text into parts of at most limit UTF-16 code units,
// preferably after a line break, else after a space, else anywhere between
// runes. Whitespace-only parts are dropped.
func splitText(text string, limit int) []string {
	var parts []string
	add := func(p string) {
		if strings.TrimSpace(p) != "" {
			parts = append(parts, p)
		}
	}
	for utf16Len(text) > limit {
		// cut: the byte offset after the last rune that fits.
		cut, n := 0, 0
		for cut < len(text) {
			r, size := utf8.DecodeRuneInString(text[cut:])
			if n += utf16.RuneLen(r); n > limit {
				break
			}
			cut += size
		}
		if cut == 0 { // cannot happen with limit ≥ 2; stay safe
			_, cut = utf8.DecodeRuneInString(text)
		}
		chunk := text[:cut]
		if i := strings.LastIndexByte(chunk, '\n'); i >= cut/2 {
			cut = i + 1
		} else if i := strings.LastIndexByte(chunk, ' '); i >= cut/2 {
			cut = i + 1
		}
		add(strings.TrimRight(text[:cut], " \n"))
		text = text[cut:]
	}
	add(text)
	return parts
}

// sendError turns a failed call into what the outbox decides on: network
// errors are returned as they are (retried), answers become *SendError.
func sendError(err error) error {
	var ae *apiError
	if !errors.As(err, &ae) {
		return fmt.Errorf("telegram: %w", err)
	}
	desc := ae.description
	lower := strings.ToLower(desc)
	switch {
	case ae.code == http.StatusTooManyRequests:
		return &messenger.SendError{RetryAfter: time.Duration(max(ae.retryAfter, 0)) * time.Second, Reason: "Telegram flood control: " + desc}
	case ae.code >= 500:
		return &messenger.SendError{Reason: fmt.Sprintf("Telegram is unavailable (%d %s)", ae.code, desc)}
	case ae.code == http.StatusUnauthorized, ae.code == http.StatusNotFound:
		return &messenger.SendError{Permanent: true, Broken: true, Reason: "Telegram no longer accepts the bot token"}
	case ae.code == http.StatusForbidden:
		reason := "Telegram refused the message: " + desc
		switch {
		case strings.Contains(lower, "blocked"):
			reason = "The client blocked the bot"
		case strings.Contains(lower, "deactivated"):
			reason = "The client's Telegram account was deleted"
		case strings.Contains(lower, "initiate"):
			reason = "The client has not started the bot"
		case strings.Contains(lower, "kicked"):
			reason = "The bot was removed from the chat"
		}
		return &messenger.SendError{Permanent: true, Reason: reason}
	case ae.code == http.StatusOK:
		return &messenger.SendError{Permanent: true, Reason: "Telegram's answer could not be read; the message may have been sent (" + desc + ")"}
	case strings.Contains(lower, "chat not found"):
		return &messenger.SendError{Permanent: true, Reason: "Telegram does not know this chat (" + desc + ")"}
	}
	return &messenger.SendError{Permanent: true, Reason: "Telegram refused the message: " + desc}
}

// ---------------------------------------------------------------- Fetch

// Fetch downloads a file through getFile, from the configured base URL only,
// at most messenger.MaxFile bytes (and never more than Telegram's 20 MB).
// Files too large wrap ErrFileTooLarge.
func (t *Telegram) Fetch(ctx context.Context, acc messenger.Account, f messenger.FileRef) (messenger.File, error) {
	token := acc.Secrets["bot_token"]
	if !validToken(token) {
		return messenger.File{}, errors.New("telegram: the channel has no valid bot token")
	}
	limit := int64(min(messenger.MaxFile, MaxDownload))
	tooLarge := func(size int64) error {
		return fmt.Errorf("telegram: %w (%.1f MB; the limit is %d MB)", ErrFileTooLarge, float64(size)/(1<<20), limit>>20)
	}
	if f.Size > limit {
		return messenger.File{}, tooLarge(f.Size)
	}
	var info struct {
		FileSize int64  `json:"file_size"`
		FilePath string `json:"file_path"`
	}
	if err := t.callJSON(ctx, token, "getFile", map[string]string{"file_id": f.ID}, &info); err != nil {
		var ae *apiError
		if errors.As(err, &ae) && strings.Contains(strings.ToLower(ae.description), "too big") {
			return messenger.File{}, fmt.Errorf("telegram: %w (%s)", ErrFileTooLarge, ae.description)
		}
		return messenger.File{}, err
	}
	if info.FileSize > limit {
		return messenger.File{}, tooLarge(info.FileSize)
	}
	p := info.FilePath
	if p == "" {
		return messenger.File{}, fmt.Errorf("telegram: %w (Telegram gives no download path)", ErrFileTooLarge)
	}
	if strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?#\\") || strings.Contains("/"+p+"/", "/../") || strings.Contains("/"+p+"/", "/./") {
		return messenger.File{}, errors.New("telegram: getFile answered an unsafe file_path")
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	fileURL := t.base + "/file/bot" + token + "/" + strings.Join(segs, "/")

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fileURL, nil)
	if err != nil {
		return messenger.File{}, redact(err, token)
	}
	client := *t.client
	baseHost := req.URL.Host
	client.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if r.URL.Host != baseHost || len(via) >= 3 {
			return errors.New("redirect away from Telegram refused")
		}
		return nil
	}
	resp, err := client.Do(req)
	if err != nil {
		return messenger.File{}, redact(err, token)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return messenger.File{}, fmt.Errorf("telegram: file download answered %s", resp.Status)
	}
	if resp.ContentLength > limit {
		return messenger.File{}, tooLarge(resp.ContentLength)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return messenger.File{}, redact(err, token)
	}
	if int64(len(data)) > limit {
		return messenger.File{}, tooLarge(int64(len(data)))
	}
	out := messenger.File{Filename: f.Filename, ContentType: f.ContentType, Data: data}
	if out.Filename == "" {
		out.Filename = cleanFilename(path.Base(p))
	}
	if out.ContentType == "" {
		out.ContentType = mime.TypeByExtension(path.Ext(p))
	}
	if out.ContentType == "" {
		out.ContentType = http.DetectContentType(data)
	}
	return out, nil
}

// Profile answers nothing: the Telegram updates carry the client's name.
func (*Telegram) Profile(context.Context, messenger.Account, string) (messenger.Profile, error) {
	return messenger.Profile{}, nil
}
