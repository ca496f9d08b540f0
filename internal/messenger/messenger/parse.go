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
	"github.com/switchboard-hq/switchboard/internal/messenger/meta"
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
	top := meta.ParseObject(body)
	if top == nil {
		return nil, fmt.Errorf("%w: not a JSON object", ErrNotMessenger)
	}
	if obj := top.Str("object"); obj != "page" {
		return nil, fmt.Errorf("%w: object %q", ErrNotMessenger, meta.Clip(obj, 40))
	}
	page := acc.Public[FieldPageID]
	var out []msgr.Update
	for _, raw := range top.Arr("entry") {
		e := meta.ParseObject(raw)
		if e == nil {
			out = append(out, ignored("malformed entry"))
			continue
		}
		if id := e.Str("id"); page == "" || id != page {
			out = append(out, ignored("another page (id %q)", meta.Clip(id, 40)))
			continue
		}
		for _, ev := range e.Arr("messaging") {
			out = append(out, parseEvent(page, meta.ParseObject(ev))...)
		}
		if n := len(e.Arr("standby")); n > 0 {
			out = append(out, ignored("%d standby events: another app owns the thread", n))
		}
		if n := len(e.Arr("changes")); n > 0 {
			out = append(out, ignored("%d page changes", n))
		}
	}
	return out, nil
}

func ignored(format string, a ...any) msgr.Update {
	return msgr.Update{Kind: msgr.Ignored, Reason: fmt.Sprintf(format, a...)}
}

// parseEvent reads one entry.messaging[] element.
func parseEvent(page string, ev meta.Object) []msgr.Update {
	if ev == nil {
		return []msgr.Update{ignored("malformed event")}
	}
	sender := ev.Obj("sender").Str("id")
	at := millis(ev.Str("timestamp"))
	switch {
	case ev.Has("message"):
		m := ev.Obj("message")
		if m == nil {
			return []msgr.Update{ignored("malformed message")}
		}
		if m.Bool("is_echo") {
			return []msgr.Update{ignored("echo of the page's own message %s (app %s)", meta.Clip(m.Str("mid"), 80), meta.Clip(m.Str("app_id"), 20))}
		}
		if sender == page {
			return []msgr.Update{ignored("message from the page itself")}
		}
		return []msgr.Update{parseMessage(sender, at, m)}
	case ev.Has("message_edit"):
		// UNCONFIRMED shape: {"mid", "text", "num_edit"}.
		m := ev.Obj("message_edit")
		mid, text := m.Str("mid"), m.Str("text")
		if !validSender(sender) || mid == "" || text == "" {
			return []msgr.Update{ignored("message edit without sender, mid or text")}
		}
		return []msgr.Update{{Kind: msgr.Edit, Message: &msgr.Inbound{ExternalID: mid, SenderID: sender, Text: text, SentAt: at}}}
	case ev.Has("postback"):
		return []msgr.Update{parsePostback(sender, at, ev.Str("timestamp"), ev.Obj("postback"))}
	case ev.Has("delivery"):
		d := ev.Obj("delivery")
		var out []msgr.Update
		seen := map[string]bool{}
		for _, raw := range d.Arr("mids") {
			var mid string
			if json.Unmarshal(raw, &mid) != nil || mid == "" || seen[mid] {
				continue
			}
			seen[mid] = true
			out = append(out, msgr.Update{Kind: msgr.Status, Status: &msgr.DeliveryStatus{ExternalID: mid, State: msgr.Delivered}})
		}
		if len(out) == 0 {
			w, ok := number(d, "watermark")
			ms, err := strconv.ParseInt(w, 10, 64)
			if !ok || err != nil || ms <= 0 || !validSender(sender) {
				return []msgr.Update{ignored("delivery receipt without message ids or a usable watermark")}
			}
			return []msgr.Update{{Kind: msgr.Status, Status: &msgr.DeliveryStatus{UpTo: true, Recipient: sender, Before: time.UnixMilli(ms), State: msgr.Delivered}}}
		}
		return out
	case ev.Has("read"):
		// A watermark: everything sent to this client until then was read.
		w, ok := number(ev.Obj("read"), "watermark")
		ms, err := strconv.ParseInt(w, 10, 64)
		if !ok || err != nil || ms <= 0 || !validSender(sender) {
			return []msgr.Update{ignored("read receipt without a usable watermark")}
		}
		return []msgr.Update{{Kind: msgr.Status, Status: &msgr.DeliveryStatus{UpTo: true, Recipient: sender, Before: time.UnixMilli(ms), State: msgr.Read}}}
	case ev.Has("reaction"):
		r := ev.Obj("reaction")
		what := r.Str("emoji")
		if what == "" {
			what = r.Str("reaction")
		}
		return []msgr.Update{ignored("reaction %s %s to %s", meta.Clip(r.Str("action"), 10), meta.Clip(what, 16), meta.Clip(r.Str("mid"), 80))}
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
func parseMessage(sender string, at time.Time, m meta.Object) msgr.Update {
	mid := m.Str("mid")
	if mid == "" || len(mid) > 256 {
		return ignored("message without mid")
	}
	if !validSender(sender) {
		return ignored("message %s without sender", meta.Clip(mid, 80))
	}
	in := &msgr.Inbound{ExternalID: mid, SenderID: sender, SentAt: at}
	var lines []string
	if t := m.Str("text"); t != "" {
		lines = append(lines, t)
	}
	for i, raw := range m.Arr("attachments") {
		a := meta.ParseObject(raw)
		typ := a.Str("type")
		p := a.Obj("payload")
		ref, hasRef := fileRef(typ, p.Str("url"), mid, i, len(m.Arr("attachments")) > 1)
		switch typ {
		case "image":
			sticker := p.Str("sticker_id")
			if sticker == "" {
				sticker = m.Str("sticker_id")
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
			link := strings.TrimSpace(p.Str("url"))
			if link == "" {
				link = strings.TrimSpace(a.Str("url"))
			}
			title := strings.TrimSpace(p.Str("title"))
			if title == "" {
				title = strings.TrimSpace(a.Str("title"))
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
			if t, ok := locationText(p.Obj("coordinates"), strings.TrimSpace(a.Str("title"))); ok {
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
func parsePostback(sender string, at time.Time, ts string, p meta.Object) msgr.Update {
	if p == nil {
		return ignored("malformed postback")
	}
	if !validSender(sender) {
		return ignored("postback without sender")
	}
	mid := p.Str("mid")
	if mid == "" {
		if !isDigits(ts) {
			return ignored("postback without mid or timestamp")
		}
		mid = "postback:" + sender + ":" + ts
	}
	if len(mid) > 256 {
		return ignored("postback with a malformed mid")
	}
	text := strings.TrimSpace(p.Str("title"))
	if text == "" {
		text = strings.TrimSpace(p.Str("payload"))
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
	t = meta.Clip(t, 40)
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-' {
			return r
		}
		return -1
	}, t)
}

// locationText is "📍 lat,lon (title)" and a map link.
func locationText(c meta.Object, title string) (string, bool) {
	lat, ok1 := coordinate(c, "lat", 90)
	lon, ok2 := coordinate(c, "long", 180)
	if !ok1 || !ok2 {
		return "", false
	}
	t := "📍 " + lat + "," + lon
	if title = meta.Clip(title, 200); title != "" {
		t += " (" + title + ")"
	}
	return t + "\nhttps://maps.google.com/?q=" + lat + "," + lon, true
}

// coordinate is a finite number within ±limit, as its literal text.
func coordinate(c meta.Object, k string, limit float64) (string, bool) {
	s, ok := number(c, k)
	if !ok || strings.Trim(s, "0123456789.-+eE") != "" {
		return "", false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < -limit || f > limit {
		return "", false
	}
	return s, true
}
