package instagram

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/switchboard-hq/switchboard/internal/messenger"
	"github.com/switchboard-hq/switchboard/internal/messenger/meta"
)

// ErrNotInstagram is a webhook body that is not an Instagram notification
// (the webhook answers 400).
var ErrNotInstagram = errors.New("instagram: not an instagram notification")

// Texts of client messages Switchboard renders in words.
const (
	// Unsupported is the text of a client message Switchboard cannot render.
	Unsupported = "[unsupported message type]"
	// StoryMention starts a message in which the client mentioned the
	// account in their story.
	StoryMention = "[mentioned you in their story]"
	// StoryReply starts a client's reply to the account's story.
	StoryReply = "[replied to your story]"
)

// Parse turns a verified webhook body into updates, in the body's order.
func (*Instagram) Parse(acc messenger.Account, body []byte) ([]messenger.Update, error) {
	top := meta.ParseObject(body)
	if top == nil {
		return nil, fmt.Errorf("%w: not a JSON object", ErrNotInstagram)
	}
	if obj := top.Str("object"); obj != "instagram" {
		return nil, fmt.Errorf("%w: object %q", ErrNotInstagram, meta.Clip(obj, 40))
	}
	ours := ownIDs(acc)
	var out []messenger.Update
	for _, rawEntry := range top.Arr("entry") {
		e := meta.ParseObject(rawEntry)
		if e == nil {
			out = append(out, ignored("malformed entry"))
			continue
		}
		if id := e.Str("id"); !ours[id] {
			out = append(out, ignored("another account (entry id %q)", meta.Clip(id, 40)))
			continue
		}
		for _, raw := range e.Arr("changes") {
			out = append(out, ignored("field %q: not a direct message", meta.Clip(meta.ParseObject(raw).Str("field"), 60)))
		}
		for range e.Arr("standby") {
			out = append(out, ignored("standby event: another app owns the conversation"))
		}
		for _, raw := range e.Arr("messaging") {
			out = append(out, parseEvent(meta.ParseObject(raw), ours)...)
		}
	}
	return out, nil
}

// ownIDs are the ids that name the channel's account: its Instagram account
// id, the linked Page's id, and the id entered.
func ownIDs(acc messenger.Account) map[string]bool {
	ids := map[string]bool{}
	for _, k := range []string{FieldInstagramID, FieldAccountID, FieldPageID} {
		if v := acc.Public[k]; isDigits(v) {
			ids[v] = true
		}
	}
	return ids
}

func ignored(format string, a ...any) messenger.Update {
	return messenger.Update{Kind: messenger.Ignored, Reason: fmt.Sprintf(format, a...)}
}

func one(u messenger.Update) []messenger.Update { return []messenger.Update{u} }

// Events that never become requests.
var ignoredEvents = []string{
	"referral", "optin", "account_linking", "policy_enforcement", "app_roles",
	"pass_thread_control", "take_thread_control", "request_thread_control",
	"messaging_handovers", "response_feedback", "messaging_feedback",
}

// parseEvent reads one entry.messaging[] element.
func parseEvent(ev meta.Object, ours map[string]bool) []messenger.Update {
	if ev == nil {
		return one(ignored("malformed event"))
	}
	sender := ev.Obj("sender").Str("id")
	ts := msTime(ev.Str("timestamp"))
	switch {
	case ev.HasValue("message"):
		m := ev.Obj("message")
		mid := m.Str("mid")
		switch {
		case m == nil:
			return one(ignored("malformed message"))
		case m.Bool("is_echo") || ours[sender]:
			return one(ignored("echo of message %s sent by the account", meta.Clip(mid, 100)))
		case m.Bool("is_deleted"):
			return one(ignored("the customer unsent message %s", meta.Clip(mid, 100)))
		case mid == "" || !isDigits(sender):
			return one(ignored("message without id or sender"))
		}
		return one(parseMessage(m, mid, sender, ts))
	case ev.HasValue("message_edit"):
		e := ev.Obj("message_edit")
		mid := e.Str("mid")
		switch {
		case ours[sender]:
			return one(ignored("edit of message %s sent by the account", meta.Clip(mid, 100)))
		case mid == "" || !isDigits(sender) || strings.TrimSpace(e.Str("text")) == "":
			return one(ignored("edit without message id, sender or text"))
		}
		return one(messenger.Update{Kind: messenger.Edit, Message: &messenger.Inbound{
			ExternalID: mid, SenderID: sender, Text: e.Str("text"), SentAt: ts}})
	case ev.HasValue("read"):
		r := ev.Obj("read")
		mid := r.Str("mid")
		switch {
		case ours[sender]:
			return one(ignored("read by the account"))
		case mid == "":
			return one(ignored("read without a message id (watermark %q)", meta.Clip(r.Str("watermark"), 20)))
		}
		return one(messenger.Update{Kind: messenger.Status, Status: &messenger.DeliveryStatus{ExternalID: mid, State: messenger.Read}})
	case ev.HasValue("delivery"):
		var out []messenger.Update
		for _, raw := range ev.Obj("delivery").Arr("mids") {
			var mid string
			if json.Unmarshal(raw, &mid) == nil && mid != "" {
				out = append(out, messenger.Update{Kind: messenger.Status, Status: &messenger.DeliveryStatus{ExternalID: mid, State: messenger.Delivered}})
			}
		}
		if len(out) == 0 {
			return one(ignored("delivery without message ids"))
		}
		return out
	case ev.HasValue("postback"):
		p := ev.Obj("postback")
		if ours[sender] {
			return one(ignored("postback by the account"))
		}
		if !isDigits(sender) {
			return one(ignored("postback without sender"))
		}
		text := strings.TrimSpace(p.Str("title"))
		if text == "" {
			text = strings.TrimSpace(p.Str("payload"))
		}
		if text == "" {
			text = "[button pressed]"
		}
		id := p.Str("mid")
		if id == "" {
			// Meta names no id: one derived from what identifies the tap
			// keeps redeliveries from being stored twice.
			id = "postback:" + sender + ":" + ev.Str("timestamp") + ":" + meta.Clip(p.Str("payload"), 100)
		}
		return one(messenger.Update{Kind: messenger.Message, Message: &messenger.Inbound{
			ExternalID: id, SenderID: sender, Text: text, SentAt: ts}})
	case ev.HasValue("reaction"):
		r := ev.Obj("reaction")
		what := r.Str("emoji")
		if what == "" {
			what = r.Str("reaction")
		}
		return one(ignored("reaction %s %s to %s", meta.Clip(r.Str("action"), 10), meta.Clip(what, 20), meta.Clip(r.Str("mid"), 100)))
	}
	for _, k := range ignoredEvents {
		if ev.HasValue(k) {
			return one(ignored("%s event", k))
		}
	}
	var keys []string
	for k := range ev {
		if k != "sender" && k != "recipient" && k != "timestamp" {
			keys = append(keys, meta.Clip(k, 40))
		}
	}
	slices.Sort(keys)
	if len(keys) > 5 {
		keys = keys[:5]
	}
	return one(ignored("unknown event %q", strings.Join(keys, ",")))
}

// msTime reads a timestamp of unix milliseconds.
func msTime(s string) time.Time {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 || n > 1<<47 {
		return time.Time{}
	}
	return time.UnixMilli(n).UTC()
}

// Default file extensions of attachment types, until Fetch learns the real
// content type.
var typeExt = map[string]string{"image": "jpg", "video": "mp4", "audio": "m4a", "file": "bin", "story": "jpg", "sticker": "png"}

// parseMessage reads a client message (not an echo, with mid and sender).
func parseMessage(m meta.Object, mid, sender string, ts time.Time) messenger.Update {
	in := &messenger.Inbound{ExternalID: mid, SenderID: sender, SentAt: ts}
	msg := messenger.Update{Kind: messenger.Message, Message: in}
	if m.Bool("is_unsupported") {
		in.Text = Unsupported
		return msg
	}
	var head, tail []string
	short := func(fallback, u string, i int) string {
		if id := assetID(u); id != "" {
			return id
		}
		s := safeID(fallback)
		if i > 0 {
			s += "-" + strconv.Itoa(i+1)
		}
		return s
	}
	if story := m.Obj("reply_to").Obj("story"); story != nil {
		head = append(head, StoryReply)
		if u := story.Str("url"); mediaURL(u) {
			id := safeID(story.Str("id"))
			if id == "" {
				id = short(mid, u, 0)
			}
			in.Files = append(in.Files, fileRef("story", u, id))
		}
	}
	for i, raw := range m.Arr("attachments") {
		a := meta.ParseObject(raw)
		typ := a.Str("type")
		p := a.Obj("payload")
		u := p.Str("url")
		switch typ {
		case "image", "video", "audio", "file":
			if !mediaURL(u) {
				tail = append(tail, unsupported(typ, ""))
				continue
			}
			kind := typ
			if typ == "image" && p.Str("sticker_id") != "" {
				kind = "sticker"
			}
			in.Files = append(in.Files, fileRef(kind, u, short(mid, u, i)))
		case "story_mention":
			head = append(head, StoryMention)
			if mediaURL(u) {
				in.Files = append(in.Files, fileRef("story", u, short(mid, u, i)))
			}
		case "share", "ig_post", "ig_reel", "reel", "fallback":
			label := "[shared post]"
			if strings.Contains(typ, "reel") {
				label = "[shared reel]"
			} else if typ == "fallback" {
				label = "[shared link]"
			}
			line := label
			if t := strings.TrimSpace(p.Str("title")); t != "" {
				line += " " + meta.Clip(t, 300)
			}
			if linkURL(u) {
				line += " " + u
			}
			tail = append(tail, line)
		case "location":
			if t, ok := locationText(p.Obj("coordinates")); ok {
				tail = append(tail, t)
			} else {
				tail = append(tail, unsupported(typ, ""))
			}
		case "like_heart":
			tail = append(tail, "❤️")
		case "sticker":
			if mediaURL(u) {
				in.Files = append(in.Files, fileRef("sticker", u, short(mid, u, i)))
			} else {
				tail = append(tail, "[sticker]")
			}
		default:
			link := ""
			if linkURL(u) {
				link = u
			}
			tail = append(tail, unsupported(typ, link))
		}
	}
	var parts []string
	parts = append(parts, head...)
	if t := m.Str("text"); strings.TrimSpace(t) != "" {
		parts = append(parts, t)
	}
	parts = append(parts, tail...)
	in.Text = strings.Join(parts, "\n")
	if in.Text == "" && len(in.Files) == 0 {
		in.Text = Unsupported
	}
	return msg
}

// unsupported is the placeholder of an attachment type, with its link.
func unsupported(typ, link string) string {
	s := Unsupported
	if t := cleanType(typ); t != "" {
		s = "[unsupported message type: " + t + "]"
	}
	if link != "" {
		s += " " + link
	}
	return s
}

func fileRef(kind, u, id string) messenger.FileRef {
	name := kind + "." + typeExt[kind]
	if id != "" {
		name = kind + "-" + id + "." + typeExt[kind]
	}
	return messenger.FileRef{ID: u, Filename: name}
}

// assetID is the asset_id of a Meta CDN URL, when it is a number.
func assetID(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return ""
	}
	if id := pu.Query().Get("asset_id"); isDigits(id) {
		return id
	}
	return ""
}

// safeID keeps the last 24 ASCII letters and digits of id (Instagram mids
// share a long common prefix).
func safeID(id string) string {
	s := strings.Map(func(r rune) rune {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return r
		}
		return -1
	}, id)
	if len(s) > 24 {
		s = s[len(s)-24:]
	}
	return s
}

// mediaURL says whether u can be fetched later (Fetch checks the host).
func mediaURL(u string) bool {
	if len(u) > 4096 {
		return false
	}
	pu, err := url.Parse(u)
	return err == nil && (pu.Scheme == "https" || pu.Scheme == "http") && pu.Host != ""
}

// linkURL says whether u is fit to show as a link.
func linkURL(u string) bool {
	return mediaURL(u) && !strings.ContainsAny(u, " \t\r\n")
}

// cleanType keeps a message type safe to show.
func cleanType(t string) string {
	t = meta.Clip(t, 40)
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-' {
			return r
		}
		return -1
	}, t)
}

func locationText(c meta.Object) (string, bool) {
	lat, ok1 := c.Number("lat")
	lon, ok2 := c.Number("long")
	if !ok1 || !ok2 {
		return "", false
	}
	return "📍 " + lat + "," + lon + "\nhttps://maps.google.com/?q=" + lat + "," + lon, true
}

var extensions = map[string]string{
	"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif",
	"video/mp4": "mp4", "video/quicktime": "mov", "video/webm": "webm", "video/ogg": "ogv",
	"video/x-msvideo": "avi", "video/3gpp": "3gp",
	"audio/mp4": "m4a", "audio/x-m4a": "m4a", "audio/m4a": "m4a", "audio/aac": "aac", "audio/mpeg": "mp3",
	"audio/ogg": "ogg", "audio/wav": "wav", "audio/x-wav": "wav", "audio/wave": "wav",
	"application/pdf": "pdf", "text/plain": "txt",
}

// baseType is a MIME type without parameters, lower case.
func baseType(ct string) string {
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		return mt
	}
	return strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
}

// withExtension gives name the extension of contentType, when known.
func withExtension(name, contentType string) string {
	ext, ok := extensions[baseType(contentType)]
	if !ok {
		return name
	}
	return strings.TrimSuffix(name, path.Ext(name)) + "." + ext
}

// cleanFilename keeps the last path element of a file name, without control
// characters, at most 200 bytes.
func cleanFilename(name string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base(strings.TrimSpace(name))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "." || name == ".." || name == "/" {
		return ""
	}
	if len(name) > 200 {
		cut := 0
		for i := range name {
			if i > 200 {
				break
			}
			cut = i
		}
		name = name[:cut]
	}
	return name
}
