package messenger

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	msgr "github.com/switchboard-hq/switchboard/internal/messenger"
)

// ErrNotMessenger is a webhook body that is not a Page notification (the
// webhook answers 400).
var ErrNotMessenger = errors.New("messenger: not a page notification")

// Unsupported is the text of a client message Switchboard cannot render.
const Unsupported = "[unsupported message type]"

// likeStickers are the ids of the Like (thumbs-up) button's stickers, in
// its three sizes.
var likeStickers = map[string]bool{"369239263222822": true, "369239343222814": true, "369239383222810": true}

// maxHook bounds the webhook body Parse reads.
const maxHook = 4 << 20

// Parse turns a verified webhook body into updates, in the body's order.
func (*Messenger) Parse(acc msgr.Account, body []byte) ([]msgr.Update, error) {
	if len(body) > maxHook {
		return nil, fmt.Errorf("%w: body of %d bytes", ErrNotMessenger, len(body))
	}
	top := object(body)
	if top == nil {
		return nil, fmt.Errorf("%w: not a JSON object", ErrNotMessenger)
	}
	if obj := top.str("object"); obj != "page" {
		return nil, fmt.Errorf("%w: object %q", ErrNotMessenger, clip(obj, 40))
	}
	page := acc.Public[FieldPageID]
	var out []msgr.Update
	for _, raw := range top.arr("entry") {
		e := object(raw)
		if e == nil {
			out = append(out, ignored("malformed entry"))
			continue
		}
		if id := e.str("id"); page == "" || id != page {
			out = append(out, ignored("another page (id %q)", clip(id, 40)))
			continue
		}
		for _, ev := range e.arr("messaging") {
			out = append(out, parseEvent(page, object(ev))...)
		}
		if n := len(e.arr("standby")); n > 0 {
			out = append(out, ignored("%d standby events: another app owns the thread", n))
		}
		if n := len(e.arr("changes")); n > 0 {
			out = append(out, ignored("%d page changes", n))
		}
	}
	return out, nil
}

func ignored(format string, a ...any) msgr.Update {
	return msgr.Update{Kind: msgr.Ignored, Reason: fmt.Sprintf(format, a...)}
}

// parseEvent reads one entry.messaging[] element.
func parseEvent(page string, ev jobj) []msgr.Update {
	if ev == nil {
		return []msgr.Update{ignored("malformed event")}
	}
	sender := ev.obj("sender").str("id")
	at := millis(ev.str("timestamp"))
	switch {
	case ev.has("message"):
		m := ev.obj("message")
		if m == nil {
			return []msgr.Update{ignored("malformed message")}
		}
		if m.boolean("is_echo") {
			return []msgr.Update{ignored("echo of the page's own message %s (app %s)", clip(m.str("mid"), 80), clip(m.str("app_id"), 20))}
		}
		if sender == page {
			return []msgr.Update{ignored("message from the page itself")}
		}
		return []msgr.Update{parseMessage(sender, at, m)}
	case ev.has("message_edit"):
		// UNCONFIRMED shape: {"mid", "text", "num_edit"}.
		m := ev.obj("message_edit")
		mid, text := m.str("mid"), m.str("text")
		if !validSender(sender) || mid == "" || text == "" {
			return []msgr.Update{ignored("message edit without sender, mid or text")}
		}
		return []msgr.Update{{Kind: msgr.Edit, Message: &msgr.Inbound{ExternalID: mid, SenderID: sender, Text: text, SentAt: at}}}
	case ev.has("postback"):
		return []msgr.Update{parsePostback(sender, at, ev.str("timestamp"), ev.obj("postback"))}
	case ev.has("delivery"):
		d := ev.obj("delivery")
		var out []msgr.Update
		seen := map[string]bool{}
		for _, raw := range d.arr("mids") {
			var mid string
			if json.Unmarshal(raw, &mid) != nil || mid == "" || seen[mid] {
				continue
			}
			seen[mid] = true
			out = append(out, msgr.Update{Kind: msgr.Status, Status: &msgr.DeliveryStatus{ExternalID: mid, State: msgr.Delivered}})
		}
		if len(out) == 0 {
			w, ok := d.number("watermark")
			ms, err := strconv.ParseInt(w, 10, 64)
			if !ok || err != nil || ms <= 0 || !validSender(sender) {
				return []msgr.Update{ignored("delivery receipt without message ids or a usable watermark")}
			}
			return []msgr.Update{{Kind: msgr.Status, Status: &msgr.DeliveryStatus{UpTo: true, Recipient: sender, Before: time.UnixMilli(ms), State: msgr.Delivered}}}
		}
		return out
	case ev.has("read"):
		// A watermark: everything sent to this client until then was read.
		w, ok := ev.obj("read").number("watermark")
		ms, err := strconv.ParseInt(w, 10, 64)
		if !ok || err != nil || ms <= 0 || !validSender(sender) {
			return []msgr.Update{ignored("read receipt without a usable watermark")}
		}
		return []msgr.Update{{Kind: msgr.Status, Status: &msgr.DeliveryStatus{UpTo: true, Recipient: sender, Before: time.UnixMilli(ms), State: msgr.Read}}}
	case ev.has("reaction"):
		r := ev.obj("reaction")
		what := r.str("emoji")
		if what == "" {
			what = r.str("reaction")
		}
		return []msgr.Update{ignored("reaction %s %s to %s", clip(r.str("action"), 10), clip(what, 16), clip(r.str("mid"), 80))}
	}
	var keys []string
	for k := range ev {
		if k != "sender" && k != "recipient" && k != "timestamp" {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return []msgr.Update{ignored("empty event")}
	}
	sort.Strings(keys)
	return []msgr.Update{ignored("%s event", cleanType(keys[0]))}
}

// validSender says whether id can be a PSID (digits).
func validSender(id string) bool { return isDigits(id) }

// parseMessage reads a client's message event.
func parseMessage(sender string, at time.Time, m jobj) msgr.Update {
	mid := m.str("mid")
	if mid == "" || len(mid) > 256 {
		return ignored("message without mid")
	}
	if !validSender(sender) {
		return ignored("message %s without sender", clip(mid, 80))
	}
	in := &msgr.Inbound{ExternalID: mid, SenderID: sender, SentAt: at}
	var lines []string
	if t := m.str("text"); t != "" {
		lines = append(lines, t)
	}
	for i, raw := range m.arr("attachments") {
		a := object(raw)
		typ := a.str("type")
		p := a.obj("payload")
		ref, hasRef := fileRef(typ, p.str("url"), mid, i, len(m.arr("attachments")) > 1)
		switch typ {
		case "image":
			sticker := p.str("sticker_id")
			if sticker == "" {
				sticker = m.str("sticker_id")
			}
			switch {
			case sticker != "" && likeStickers[sticker]:
				lines = append(lines, "👍")
			case sticker != "" && hasRef:
				ref.Filename = "sticker-" + safeID(sticker) + "." + extOf(ref.Filename, "png")
				in.Files = append(in.Files, ref)
			case sticker != "":
				lines = append(lines, "[sticker]")
			case hasRef:
				in.Files = append(in.Files, ref)
			default:
				lines = append(lines, "[unsupported message type: image]")
			}
		case "video", "audio", "file":
			if hasRef {
				in.Files = append(in.Files, ref)
			} else {
				lines = append(lines, "[unsupported message type: "+typ+"]")
			}
		case "fallback":
			link := strings.TrimSpace(p.str("url"))
			if link == "" {
				link = strings.TrimSpace(a.str("url"))
			}
			title := strings.TrimSpace(p.str("title"))
			if title == "" {
				title = strings.TrimSpace(a.str("title"))
			}
			switch {
			case link != "" && title != "":
				lines = append(lines, "🔗 "+title+"\n"+link)
			case link != "" || title != "":
				lines = append(lines, "🔗 "+title+link)
			default:
				lines = append(lines, "[unsupported message type: fallback]")
			}
		case "location":
			if t, ok := locationText(p.obj("coordinates"), strings.TrimSpace(a.str("title"))); ok {
				lines = append(lines, t)
			} else {
				lines = append(lines, "[unsupported message type: location]")
			}
		default:
			if t := cleanType(typ); t != "" {
				lines = append(lines, "[unsupported message type: "+t+"]")
			} else {
				lines = append(lines, Unsupported)
			}
		}
	}
	in.Text = strings.Join(lines, "\n")
	if in.Text == "" && len(in.Files) == 0 {
		in.Text = Unsupported
	}
	return msgr.Update{Kind: msgr.Message, Message: in}
}

// parsePostback reads a button tap: a client message with the button's
// title. Postbacks of old API versions carry no mid: the sender and the
// timestamp (repeated by redeliveries) then name it.
func parsePostback(sender string, at time.Time, ts string, p jobj) msgr.Update {
	if p == nil {
		return ignored("malformed postback")
	}
	if !validSender(sender) {
		return ignored("postback without sender")
	}
	mid := p.str("mid")
	if mid == "" {
		if !isDigits(ts) {
			return ignored("postback without mid or timestamp")
		}
		mid = "postback:" + sender + ":" + ts
	}
	if len(mid) > 256 {
		return ignored("postback with a malformed mid")
	}
	text := strings.TrimSpace(p.str("title"))
	if text == "" {
		text = strings.TrimSpace(p.str("payload"))
	}
	if text == "" {
		text = "[button pressed]"
	}
	return msgr.Update{Kind: msgr.Message, Message: &msgr.Inbound{ExternalID: mid, SenderID: sender, Text: text, SentAt: at}}
}

// millis reads a timestamp of unix milliseconds.
func millis(s string) time.Time {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 || n > 1<<47 {
		return time.Time{}
	}
	return time.UnixMilli(n).UTC()
}

// fileRef names an attachment by its CDN URL, with a file name from the
// URL's path where it has one.
func fileRef(typ, link, mid string, i int, several bool) (msgr.FileRef, bool) {
	link = strings.TrimSpace(link)
	if link == "" || len(link) > 4096 {
		return msgr.FileRef{}, false
	}
	u, err := url.Parse(link)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return msgr.FileRef{}, false
	}
	name := cleanFilename(path.Base(u.Path))
	if !strings.Contains(strings.TrimPrefix(name, "."), ".") {
		prefix := typ
		if typ == "" || cleanType(typ) != typ {
			prefix = "file"
		}
		name = prefix + "-" + safeID(mid)
		if several {
			name += "-" + strconv.Itoa(i+1)
		}
		name += "." + defaultExt[typ]
		name = strings.TrimSuffix(name, ".")
	}
	return msgr.FileRef{ID: link, Filename: name}, true
}

var defaultExt = map[string]string{"image": "jpg", "video": "mp4", "audio": "mp4", "file": "bin"}

// extOf is the extension of name, or def.
func extOf(name, def string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 && i < len(name)-1 {
		if ext := name[i+1:]; len(ext) <= 8 && safeID(ext) == ext {
			return strings.ToLower(ext)
		}
	}
	return def
}

// safeID keeps the ASCII letters and digits of an id, at most 24.
func safeID(id string) string {
	s := strings.Map(func(r rune) rune {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return r
		}
		return -1
	}, id)
	if len(s) > 24 {
		s = s[:24]
	}
	if s == "" {
		return "x"
	}
	return s
}

// cleanFilename keeps the last path element of a file name, without
// control characters, at most 200 bytes.
func cleanFilename(name string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base(strings.TrimSpace(name))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar || r == '/' {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "." || name == ".." || name == "" {
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

// cleanType keeps a type name safe to show.
func cleanType(t string) string {
	t = clip(t, 40)
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-' {
			return r
		}
		return -1
	}, t)
}

// locationText is "📍 lat,lon (title)" and a map link.
func locationText(c jobj, title string) (string, bool) {
	lat, ok1 := coordinate(c, "lat", 90)
	lon, ok2 := coordinate(c, "long", 180)
	if !ok1 || !ok2 {
		return "", false
	}
	t := "📍 " + lat + "," + lon
	if title = clip(title, 200); title != "" {
		t += " (" + title + ")"
	}
	return t + "\nhttps://maps.google.com/?q=" + lat + "," + lon, true
}

// coordinate is a finite number within ±limit, as its literal text.
func coordinate(c jobj, k string, limit float64) (string, bool) {
	s, ok := c.number(k)
	if !ok || strings.Trim(s, "0123456789.-+eE") != "" {
		return "", false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < -limit || f > limit {
		return "", false
	}
	return s, true
}
