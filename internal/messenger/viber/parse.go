package viber

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/switchboard-hq/switchboard/internal/messenger"
)

// ErrNotViber is a callback body that is not a Viber event (the webhook
// answers 400).
var ErrNotViber = errors.New("viber: not a Viber callback")

// Parse turns one callback (Viber posts one event per request) into one
// update.
func (*Viber) Parse(_ messenger.Account, body []byte) ([]messenger.Update, error) {
	if len(body) > maxUpdate {
		return nil, fmt.Errorf("%w: %d bytes is too large", ErrNotViber, len(body))
	}
	top := object(body)
	if top == nil {
		return nil, fmt.Errorf("%w: not a JSON object", ErrNotViber)
	}
	event := top.str("event")
	if event == "" {
		return nil, fmt.Errorf("%w: no event", ErrNotViber)
	}
	switch event {
	case "message":
		return one(parseMessage(top)), nil
	case "delivered", "seen", "failed":
		return one(parseStatus(event, top)), nil
	case "subscribed":
		return one(ignored("the client subscribed to the bot")), nil
	case "unsubscribed":
		return one(ignored("the client unsubscribed: Viber refuses replies until they write again")), nil
	case "conversation_started":
		return one(ignored("the client opened the chat (conversation_started); no request until they write")), nil
	case "webhook":
		return one(ignored("Viber's webhook check")), nil
	}
	return one(ignored("event " + strconv.Quote(clip(event, 60)) + " is not helpdesk traffic")), nil
}

func one(u messenger.Update) []messenger.Update { return []messenger.Update{u} }

func ignored(reason string) messenger.Update {
	return messenger.Update{Kind: messenger.Ignored, Reason: reason}
}

// sentAt reads the callback's timestamp of epoch milliseconds.
func sentAt(top jobj) time.Time {
	ms, ok := top.integer("timestamp")
	if !ok || ms <= 0 || ms > 1<<47 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func parseStatus(event string, top jobj) messenger.Update {
	token := top.id("message_token")
	if token == "" {
		return ignored(event + " callback without a message_token")
	}
	ds := &messenger.DeliveryStatus{ExternalID: token}
	switch event {
	case "delivered":
		ds.State = messenger.Delivered
	case "seen":
		ds.State = messenger.Read
	default:
		ds.State = messenger.Failed
		ds.Error = clip(strings.TrimSpace(top.str("desc")), 300)
		if ds.Error == "" {
			ds.Error = "Viber could not deliver the message"
		}
	}
	return messenger.Update{Kind: messenger.Status, Status: ds}
}

// parseMessage reads a "message" callback: a client wrote to the bot.
func parseMessage(top jobj) messenger.Update {
	token := top.id("message_token")
	if token == "" {
		return ignored("message without a message_token")
	}
	sender := top.obj("sender")
	from := sender.str("id")
	if !validUserID(from) {
		return ignored("message without a valid sender id")
	}
	in := &messenger.Inbound{
		ExternalID: token,
		SenderID:   from,
		SenderName: clip(strings.TrimSpace(sender.str("name")), 200),
		SentAt:     sentAt(top),
	}
	m := top.obj("message")
	typ := m.str("type")
	text := m.str("text")
	file := func(prefix, name, defaultExt, defaultType string) bool {
		media := m.str("media")
		if !absoluteURL(media) {
			return false
		}
		name = cleanFilename(name)
		if name == "" {
			ext := path.Ext(urlPath(media))
			if _, known := contentTypes[strings.ToLower(ext)]; !known {
				ext = defaultExt
			}
			name = prefix + "-" + token + ext
		}
		ct := contentTypes[strings.ToLower(path.Ext(name))]
		if ct == "" {
			ct = defaultType
		}
		size, _ := m.integer("size")
		in.Files = append(in.Files, messenger.FileRef{ID: media, Filename: name, ContentType: ct, Size: max(size, 0)})
		return true
	}
	switch typ {
	case "text":
		in.Text = text
		return messenger.Update{Kind: messenger.Message, Message: in}
	case "picture":
		if file("picture", m.str("file_name"), ".jpg", "image/jpeg") {
			in.Text = text
			return messenger.Update{Kind: messenger.Message, Message: in}
		}
	case "video":
		if file("video", m.str("file_name"), ".mp4", "video/mp4") {
			in.Text = text
			return messenger.Update{Kind: messenger.Message, Message: in}
		}
	case "file":
		if file("file", m.str("file_name"), "", "application/octet-stream") {
			in.Text = text
			return messenger.Update{Kind: messenger.Message, Message: in}
		}
	case "audio", "voice": // not in Viber's documentation: kept if they come
		if file(typ, m.str("file_name"), "", "") {
			in.Text = text
			return messenger.Update{Kind: messenger.Message, Message: in}
		}
	case "sticker":
		in.Text = "[sticker]"
		name := ""
		if id := m.id("sticker_id"); id != "" {
			name = "sticker-" + id + ".png"
		}
		file("sticker", name, ".png", "image/png")
		return messenger.Update{Kind: messenger.Message, Message: in}
	case "location":
		if t, ok := locationText(m.obj("location")); ok {
			in.Text = t
			return messenger.Update{Kind: messenger.Message, Message: in}
		}
	case "contact":
		if t := contactText(m.obj("contact")); t != "" {
			in.Text = t
			return messenger.Update{Kind: messenger.Message, Message: in}
		}
	case "url":
		if media := strings.TrimSpace(m.str("media")); media != "" {
			in.Text = media
			if strings.TrimSpace(text) != "" && text != media {
				in.Text = text + "\n" + media
			}
			return messenger.Update{Kind: messenger.Message, Message: in}
		}
	}
	// An unknown type, or a known one whose fields could not be read.
	if t := cleanType(typ); t != "" {
		in.Text = "[unsupported message type: " + t + "]"
	} else {
		in.Text = "[unsupported message type]"
	}
	if strings.TrimSpace(text) != "" {
		in.Text += "\n" + text
	}
	in.Files = nil
	return messenger.Update{Kind: messenger.Message, Message: in}
}

// locationText is "📍 {lat},{lon}\n{map link}".
func locationText(loc jobj) (string, bool) {
	lat, ok1 := loc.number("lat")
	lon, ok2 := loc.number("lon")
	if !ok1 || !ok2 {
		return "", false
	}
	la, _ := strconv.ParseFloat(lat, 64)
	lo, _ := strconv.ParseFloat(lon, 64)
	if !(la >= -90 && la <= 90 && lo >= -180 && lo <= 180) {
		return "", false
	}
	ll := lat + "," + lon
	return "📍 " + ll + "\nhttps://www.google.com/maps/search/?api=1&query=" + ll, true
}

// contactText is "👤 {name}, {phone}".
func contactText(c jobj) string {
	var parts []string
	for _, k := range []string{"name", "phone_number"} {
		if s := clip(strings.TrimSpace(c.str(k)), 200); s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "👤 " + strings.Join(parts, ", ")
}

// cleanType keeps a message type safe to show.
func cleanType(t string) string {
	return strings.Map(func(r rune) rune {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-') {
			return r
		}
		return -1
	}, clip(t, 40))
}

func absoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && len(s) <= 4000
}

func urlPath(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Path
	}
	return ""
}

// contentTypes are the file types Switchboard names by extension (the same
// on every machine, unlike mime.TypeByExtension).
var contentTypes = map[string]string{
	".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif", ".webp": "image/webp",
	".mp4": "video/mp4", ".mov": "video/quicktime", ".3gp": "video/3gpp", ".webm": "video/webm",
	".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".ogg": "audio/ogg", ".opus": "audio/opus", ".aac": "audio/aac",
	".amr": "audio/amr", ".wav": "audio/wav",
	".pdf": "application/pdf", ".txt": "text/plain", ".csv": "text/csv", ".zip": "application/zip",
	".doc": "application/msword", ".xls": "application/vnd.ms-excel", ".ppt": "application/vnd.ms-powerpoint",
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}

// cleanFilename keeps the last path element of a client's file name,
// without control characters, at most 200 bytes.
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
	if name == "." || name == ".." {
		return ""
	}
	return clip(name, 200)
}
