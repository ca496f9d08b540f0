package whatsapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/switchboard-hq/switchboard/internal/messenger"
	"github.com/switchboard-hq/switchboard/internal/messenger/meta"
)

// ErrNotWhatsApp is a webhook body that is not a WhatsApp Business Account
// notification (the webhook answers 400).
var ErrNotWhatsApp = errors.New("whatsapp: not a whatsapp_business_account notification")

// Unsupported is the text of a client message Switchboard cannot render.
const Unsupported = "[unsupported message type]"

// Parse turns a verified webhook body into updates, in the body's order.
func (w *WhatsApp) Parse(acc messenger.Account, body []byte) ([]messenger.Update, error) {
	top := meta.ParseObject(body)
	if top == nil {
		return nil, fmt.Errorf("%w: not a JSON object", ErrNotWhatsApp)
	}
	if obj := top.Str("object"); obj != "whatsapp_business_account" {
		return nil, fmt.Errorf("%w: object %q", ErrNotWhatsApp, meta.Clip(obj, 40))
	}
	pnid := acc.Public[FieldPhoneNumberID]
	var out []messenger.Update
	for _, rawEntry := range top.Arr("entry") {
		for _, rawChange := range meta.ParseObject(rawEntry).Arr("changes") {
			out = append(out, parseChange(pnid, meta.ParseObject(rawChange))...)
		}
	}
	return out, nil
}

func ignored(format string, a ...any) messenger.Update {
	return messenger.Update{Kind: messenger.Ignored, Reason: fmt.Sprintf(format, a...)}
}

func parseChange(pnid string, ch meta.Object) []messenger.Update {
	if ch == nil {
		return []messenger.Update{ignored("malformed change")}
	}
	if f := ch.Str("field"); f != "messages" {
		return []messenger.Update{ignored("field %q", meta.Clip(f, 60))}
	}
	v := ch.Obj("value")
	if v == nil {
		return []messenger.Update{ignored("change without a value")}
	}
	if got := v.Obj("metadata").Str("phone_number_id"); pnid == "" || got != pnid {
		return []messenger.Update{ignored("another number (phone_number_id %q)", meta.Clip(got, 40))}
	}

	names := map[string]string{}
	for _, raw := range v.Arr("contacts") {
		c := meta.ParseObject(raw)
		if id := c.Str("wa_id"); id != "" {
			names[id] = strings.TrimSpace(c.Obj("profile").Str("name"))
		}
	}

	var out []messenger.Update
	for _, raw := range v.Arr("messages") {
		out = append(out, parseMessage(meta.ParseObject(raw), names))
	}
	for _, raw := range v.Arr("statuses") {
		out = append(out, parseStatus(meta.ParseObject(raw)))
	}
	for _, raw := range v.Arr("errors") {
		e := apiError(meta.ParseObject(raw))
		out = append(out, ignored("webhook error %s: %s", e.code, meta.Clip(e.text(), 200)))
	}
	return out
}

// parseMessage reads one value.messages[] element.
func parseMessage(m meta.Object, names map[string]string) messenger.Update {
	if m == nil {
		return ignored("malformed message")
	}
	from, id, typ := m.Str("from"), m.Str("id"), m.Str("type")
	if from == "" || id == "" {
		return ignored("message without id or sender")
	}
	in := &messenger.Inbound{
		ExternalID: id,
		SenderID:   from,
		SenderName: names[from],
		SentAt:     unixTime(m.Str("timestamp")),
	}
	if isDigits(from) {
		in.Phone = "+" + from
		in.ChatURL = "https://wa.me/" + from
	}
	msg := messenger.Update{Kind: messenger.Message, Message: in}

	body := m.Obj(typ)
	switch typ {
	case "text":
		if body == nil {
			break
		}
		in.Text = body.Str("body")
		return msg
	case "image", "video", "sticker", "document", "audio":
		if body == nil || body.Str("id") == "" {
			break
		}
		in.Files = []messenger.FileRef{mediaRef(typ, body)}
		in.Text = body.Str("caption")
		return msg
	case "location":
		if t, ok := locationText(body); ok {
			in.Text = t
			return msg
		}
	case "contacts":
		if t := contactsText(m.Arr("contacts")); t != "" {
			in.Text = t
			return msg
		}
	case "interactive":
		if body == nil {
			break
		}
		if reply := body.Obj(body.Str("type")); reply != nil && reply.Str("title") != "" {
			in.Text = reply.Str("title")
			return msg
		}
	case "button":
		if body != nil && (body.Str("text") != "" || body.Str("payload") != "") {
			in.Text = body.Str("text")
			if in.Text == "" {
				in.Text = body.Str("payload")
			}
			return msg
		}
	case "reaction":
		emoji := "removed"
		if body != nil && body.Str("emoji") != "" {
			emoji = body.Str("emoji")
		}
		return ignored("reaction %s to %s", meta.Clip(emoji, 8), meta.Clip(body.Str("message_id"), 80))
	case "system":
		return ignored("system message: %s", meta.Clip(body.Str("body"), 200))
	case "request_welcome":
		return ignored("request_welcome")
	case "order":
		n := 0
		if body != nil {
			n = len(body.Arr("product_items"))
		}
		in.Text = fmt.Sprintf("[order: %d items]", n)
		if note := body.Str("text"); note != "" {
			in.Text += "\n" + note
		}
		return msg
	case "unsupported", "unknown":
		in.Text = Unsupported
		return msg
	}
	// An unknown type, or a known one whose object could not be read.
	if t := cleanType(typ); t != "" {
		in.Text = "[unsupported message type: " + t + "]"
	} else {
		in.Text = Unsupported
	}
	return msg
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

// unixTime reads a timestamp of unix seconds (a string or a number).
func unixTime(s string) time.Time {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 || n > 1<<37 {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}

func mediaRef(typ string, body meta.Object) messenger.FileRef {
	id := body.Str("id")
	ct := body.Str("mime_type")
	ref := messenger.FileRef{ID: id, ContentType: ct}
	if typ == "document" {
		ref.Filename = cleanFilename(body.Str("filename"))
	}
	if ref.Filename == "" {
		prefix := typ
		if typ == "audio" && body.Bool("voice") {
			prefix = "voice"
		}
		ref.Filename = generatedName(prefix, id, ct)
	}
	return ref
}

// generatedName is "{prefix}-{id prefix}.{ext}"; voice notes are always .ogg.
func generatedName(prefix, id, contentType string) string {
	short := strings.Map(func(r rune) rune {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return r
		}
		return -1
	}, id)
	if len(short) > 16 {
		short = short[:16]
	}
	ext := extension(contentType)
	if prefix == "voice" {
		ext = "ogg"
	}
	if short == "" {
		return prefix + "." + ext
	}
	return prefix + "-" + short + "." + ext
}

var extensions = map[string]string{
	"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif",
	"video/mp4": "mp4", "video/3gpp": "3gp", "video/quicktime": "mov",
	"audio/ogg": "ogg", "audio/opus": "opus", "audio/mpeg": "mp3", "audio/mp4": "m4a",
	"audio/aac": "aac", "audio/amr": "amr", "audio/wav": "wav",
	"application/pdf": "pdf", "text/plain": "txt", "text/csv": "csv",
	"application/zip":    "zip",
	"application/msword": "doc", "application/vnd.ms-excel": "xls", "application/vnd.ms-powerpoint": "ppt",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document":   "docx",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         "xlsx",
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
}

// extension maps a MIME type (parameters allowed) to a file extension.
func extension(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0]))
	}
	if ext, ok := extensions[mt]; ok {
		return ext
	}
	return "bin"
}

// cleanFilename keeps the last path element of a client's file name,
// without control characters, at most 200 bytes.
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

func locationText(loc meta.Object) (string, bool) {
	lat, ok1 := loc.Number("latitude")
	lon, ok2 := loc.Number("longitude")
	if !ok1 || !ok2 {
		return "", false
	}
	var place []string
	for _, k := range []string{"name", "address"} {
		if s := strings.TrimSpace(loc.Str(k)); s != "" {
			place = append(place, s)
		}
	}
	t := "📍 " + lat + "," + lon
	if len(place) > 0 {
		t += " (" + strings.Join(place, ", ") + ")"
	}
	return t + "\nhttps://maps.google.com/?q=" + lat + "," + lon, true
}

func contactsText(cards []json.RawMessage) string {
	var lines []string
	for _, raw := range cards {
		c := meta.ParseObject(raw)
		if c == nil {
			continue
		}
		n := c.Obj("name")
		name := strings.TrimSpace(n.Str("formatted_name"))
		if name == "" {
			name = strings.TrimSpace(n.Str("first_name") + " " + n.Str("last_name"))
		}
		parts := []string{}
		if name != "" {
			parts = append(parts, name)
		}
		for _, p := range c.Arr("phones") {
			ph := meta.ParseObject(p)
			num := strings.TrimSpace(ph.Str("phone"))
			if num == "" && ph.Str("wa_id") != "" {
				num = "+" + ph.Str("wa_id")
			}
			if num != "" {
				parts = append(parts, num)
			}
		}
		if len(parts) > 0 {
			lines = append(lines, "👤 "+strings.Join(parts, ", "))
		}
	}
	return strings.Join(lines, "\n")
}

// parseStatus reads one value.statuses[] element.
func parseStatus(s meta.Object) messenger.Update {
	if s == nil {
		return ignored("malformed status")
	}
	id, st := s.Str("id"), s.Str("status")
	if id == "" {
		return ignored("status without id")
	}
	ds := &messenger.DeliveryStatus{ExternalID: id}
	switch st {
	case "sent":
		ds.State = messenger.Sent
	case "delivered":
		ds.State = messenger.Delivered
	case "read", "played":
		ds.State = messenger.Read
	case "failed":
		ds.State = messenger.Failed
		ds.Error = failReason(s.Arr("errors"))
	default:
		return ignored("status %q", meta.Clip(st, 40))
	}
	return messenger.Update{Kind: messenger.Status, Status: ds}
}

type webhookError struct {
	code, title, message, details string
}

func apiError(o meta.Object) webhookError {
	return webhookError{
		code:    o.Str("code"),
		title:   o.Str("title"),
		message: o.Str("message"),
		details: o.Obj("error_data").Str("details"),
	}
}

func (e webhookError) text() string {
	for _, s := range []string{e.details, e.title, e.message} {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return "no details"
}

// failReason explains a failed status to the agent.
func failReason(errors []json.RawMessage) string {
	if len(errors) == 0 {
		return "WhatsApp could not deliver the message"
	}
	e := apiError(meta.ParseObject(errors[0]))
	if e.code == "131047" {
		return WindowClosedReason
	}
	if e.code == "" {
		return meta.Clip(e.text(), 300)
	}
	return fmt.Sprintf("%s (error %s)", meta.Clip(e.text(), 300), meta.Clip(e.code, 12))
}
