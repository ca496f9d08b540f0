package ok

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/switchboard-hq/switchboard/internal/messenger"
)

// ErrNotOK is a webhook body that is not an OK Graph API event (the webhook
// answers 400).
var ErrNotOK = errors.New("ok: not an OK webhook event")

// The webhook types (subscription types of graph.user.subscribe).
const (
	TypeMessageCreated  = "MESSAGE_CREATED"
	TypeMessageCallback = "MESSAGE_CALLBACK"
	TypeChatSystem      = "CHAT_SYSTEM"
)

// maxAttachmentsRead bounds the attachments read of one message.
const maxAttachmentsRead = 20

// Parse turns one webhook body (OK posts one event per request) into one
// Update. A body that is not a JSON object, or an untyped object without a
// message, is an error.
func (o *OK) Parse(acc messenger.Account, body []byte) ([]messenger.Update, error) {
	if len(body) > maxUpdate {
		return nil, fmt.Errorf("%w: %d bytes is too large", ErrNotOK, len(body))
	}
	top := object(body)
	if top == nil {
		return nil, fmt.Errorf("%w: not a JSON object", ErrNotOK)
	}
	typed := top.present("webhookType")
	kind := strings.ToUpper(strings.TrimSpace(top.str("webhookType")))
	switch {
	case kind == TypeMessageCreated || (!typed && top.present("message")):
		return one(parseMessage(acc, top)), nil
	case kind == TypeMessageCallback:
		return one(ignored("inline button press (MESSAGE_CALLBACK): Switchboard sends no buttons")), nil
	case kind == TypeChatSystem:
		return one(ignored("chat system event (CHAT_SYSTEM), not a client message")), nil
	case typed && cleanType(kind) != "":
		return one(ignored(cleanType(kind) + " events are not helpdesk traffic")), nil
	case typed:
		return one(ignored("event of an unreadable webhookType")), nil
	case top.present("recipient") || top.present("sender") || top.present("timestamp"):
		return one(ignored("event without a message")), nil
	}
	return nil, fmt.Errorf("%w: neither webhookType nor message", ErrNotOK)
}

func one(u messenger.Update) []messenger.Update { return []messenger.Update{u} }

func ignored(reason string) messenger.Update {
	return messenger.Update{Kind: messenger.Ignored, Reason: reason}
}

// parseMessage reads a MESSAGE_CREATED event.
func parseMessage(acc messenger.Account, top jobj) messenger.Update {
	m := top.obj("message")
	if m == nil {
		return ignored("MESSAGE_CREATED without a message object")
	}
	chat := strings.TrimSpace(top.obj("recipient").str("chat_id"))
	if !validChatID(chat) {
		return ignored("message without a usable recipient.chat_id")
	}
	sender := top.obj("sender")
	userID := strings.TrimSpace(sender.str("user_id"))
	if userID != "" && (strings.HasPrefix(userID, "group:") || userID == acc.Public[FieldGroupID]) {
		return ignored("the group's own message (echo)")
	}

	in := &messenger.Inbound{SenderID: chat}
	if mid := strings.TrimSpace(m.str("mid")); mid != "" && validID(mid) {
		in.ExternalID = mid
	} else if seq, ok := m.integer("seq"); ok {
		in.ExternalID = chat + ":" + strconv.FormatInt(seq, 10)
	} else {
		return ignored("message without mid or seq")
	}
	in.SenderName = clip(strings.TrimSpace(strings.Map(dropControl, sender.str("name"))), 200)
	if n, ok := strings.CutPrefix(userID, "user:"); ok && isDigits(n) {
		in.ProfileURL = "https://ok.ru/profile/" + n
	} else if isDigits(userID) {
		in.ProfileURL = "https://ok.ru/profile/" + userID
	}
	if ms, ok := top.integer("timestamp"); ok && ms > 0 && ms < 1<<45 {
		in.SentAt = time.UnixMilli(ms).UTC()
	}

	text := m.text("text")
	var lines []string
	for i, raw := range m.arr("attachments") {
		if i == maxAttachmentsRead {
			lines = append(lines, "[more attachments not shown]")
			break
		}
		line, ref := attachment(object(raw), len(in.Files)+1)
		if ref != nil {
			in.Files = append(in.Files, *ref)
		}
		if line != "" && !(strings.HasPrefix(line, "http") && strings.Contains(text, line)) {
			lines = append(lines, line)
		}
	}
	in.Text = strings.Join(append(nonEmpty(text), lines...), "\n")
	return messenger.Update{Kind: messenger.Message, Message: in}
}

func nonEmpty(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	return []string{s}
}

// attachment renders one attachment as a line of text, a file, or both.
func attachment(a jobj, n int) (string, *messenger.FileRef) {
	if a == nil {
		return "[unsupported message type]", nil
	}
	typ := strings.ToUpper(strings.TrimSpace(a.str("type")))
	p := a.obj("payload")
	switch typ {
	case "IMAGE", "VIDEO", "AUDIO", "FILE", "STICKER":
		placeholder := "[OK attachment " + typ + "]"
		if typ == "STICKER" {
			placeholder = "[sticker]"
		}
		u := strings.TrimSpace(p.str("url"))
		if !fileURL(u) {
			return placeholder, nil
		}
		ref := &messenger.FileRef{ID: u}
		if typ == "FILE" {
			ref.Filename = cleanFilename(p.str("name"))
			if size, ok := p.integer("size"); ok && size > 0 {
				ref.Size = size
			}
		}
		if ref.Filename == "" {
			ref.Filename = strings.ToLower(typ) + "-" + fileKey(u, n)
		}
		if typ == "STICKER" {
			return "[sticker]", ref
		}
		return "", ref
	case "SHARE":
		if u := strings.TrimSpace(p.str("url")); u != "" && len(u) <= 2048 && !strings.ContainsFunc(u, unicode.IsControl) {
			return u, nil
		}
		return "[OK attachment SHARE]", nil
	case "LOCATION":
		if t, ok := locationText(p); ok {
			return t, nil
		}
		return "[OK attachment LOCATION]", nil
	case "CONTACT":
		if t := contactText(p); t != "" {
			return t, nil
		}
		return "[OK attachment CONTACT]", nil
	case "INLINE_KEYBOARD":
		return "", nil // buttons, nothing the client wrote
	case "MUSIC", "CALL", "PRESENT":
		return "[OK attachment " + typ + "]", nil
	}
	if t := cleanType(typ); t != "" {
		return "[unsupported message type: " + t + "]", nil
	}
	return "[unsupported message type]", nil
}

// fileURL accepts absolute http(s) URLs that Fetch may download (Fetch
// checks the host).
func fileURL(s string) bool {
	if s == "" || len(s) > 4096 {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// fileKey names a file after its URL's id parameter, else its number in
// the message.
func fileKey(s string, n int) string {
	if u, err := url.Parse(s); err == nil {
		for _, k := range []string{"id", "fid", "file_id"} {
			if id := safeName(u.Query().Get(k)); id != "" {
				return id
			}
		}
	}
	return strconv.Itoa(n)
}

// safeName keeps letters, digits, _ and - (at most 40).
func safeName(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' {
			b.WriteByte(c)
		}
		if b.Len() == 40 {
			break
		}
	}
	return b.String()
}

func locationText(p jobj) (string, bool) {
	lat, ok1 := p.number("latitude")
	lon, ok2 := p.number("longitude")
	if !ok1 || !ok2 {
		return "", false
	}
	la, _ := strconv.ParseFloat(lat, 64)
	lo, _ := strconv.ParseFloat(lon, 64)
	if la < -90 || la > 90 || lo < -180 || lo > 180 {
		return "", false
	}
	ll := lat + "," + lon
	return "📍 " + ll + "\nhttps://www.google.com/maps/search/?api=1&query=" + ll, true
}

// contactText summarises a contact card; OK documents no CONTACT payload, so
// the usual field names are tried.
func contactText(p jobj) string {
	name := strings.TrimSpace(p.str("name"))
	if name == "" {
		name = strings.TrimSpace(p.str("first_name") + " " + p.str("last_name"))
	}
	phone := ""
	for _, k := range []string{"phone", "phone_number", "vcf_phone"} {
		if phone = strings.TrimSpace(p.str(k)); phone != "" {
			break
		}
	}
	parts := []string{}
	for _, s := range []string{name, phone} {
		if s = clip(strings.Map(dropControl, s), 200); s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "👤 " + strings.Join(parts, ", ")
}

// cleanType keeps a type name safe to show.
func cleanType(t string) string {
	return clip(strings.Map(func(r rune) rune {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) || r == '_' || r == '-' || r == '.' {
			return r
		}
		return -1
	}, t), 40)
}

// validID accepts a message id OK made ("mid:C3ecb9d02a600.15cea67d78d2059").
func validID(s string) bool {
	return len(s) <= 200 && !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == utf8.RuneError })
}

func dropControl(r rune) rune {
	if unicode.IsControl(r) || r == utf8.RuneError {
		return -1
	}
	return r
}

// cleanFilename keeps the base name a client gave, without control
// characters or path separators, at most 200 bytes.
func cleanFilename(name string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base(strings.TrimSpace(name))
	name = strings.TrimSpace(strings.Map(dropControl, name))
	if name == "." || name == ".." || name == "/" {
		return ""
	}
	return clip(name, 200)
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

// ---------------------------------------------------------------- JSON

// jobj is a JSON object read leniently: a field of an unexpected type reads
// as empty instead of failing the whole document. Numbers are kept as their
// literal text, never through float64.
type jobj map[string]json.RawMessage

// object decodes raw as a JSON object, or nil.
func object(raw []byte) jobj {
	var o jobj
	if json.Unmarshal(raw, &o) != nil {
		return nil
	}
	return o
}

// present: the field is there and not null.
func (o jobj) present(k string) bool {
	raw, ok := o[k]
	return ok && len(raw) > 0 && string(raw) != "null"
}

// str is a string field, or the literal text of a number field.
func (o jobj) str(k string) string {
	raw, ok := o[k]
	if !ok || len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	if raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9') {
		var n json.Number
		if json.Unmarshal(raw, &n) == nil {
			return n.String()
		}
	}
	return ""
}

// text is a string field only.
func (o jobj) text(k string) string {
	var s string
	if raw, ok := o[k]; ok && json.Unmarshal(raw, &s) == nil {
		return s
	}
	return ""
}

func (o jobj) obj(k string) jobj {
	if raw, ok := o[k]; ok {
		return object(raw)
	}
	return nil
}

func (o jobj) arr(k string) []json.RawMessage {
	var a []json.RawMessage
	if raw, ok := o[k]; ok && json.Unmarshal(raw, &a) == nil {
		return a
	}
	return nil
}

// boolean is a boolean field and whether it is one.
func (o jobj) boolean(k string) (value, ok bool) {
	raw, found := o[k]
	if !found {
		return false, false
	}
	if json.Unmarshal(raw, &value) == nil {
		return value, true
	}
	return false, false
}

// integer is an integer field (or a string of digits) as int64: seq and
// ids larger than 2^53 stay exact.
func (o jobj) integer(k string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(o.str(k)), 10, 64)
	return n, err == nil
}

// number is a numeric field (or a numeric string) as its literal text.
func (o jobj) number(k string) (string, bool) {
	s := strings.TrimSpace(o.str(k))
	if s == "" {
		return "", false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != f {
		return "", false
	}
	return s, true
}
