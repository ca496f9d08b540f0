package vk

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/switchboard-hq/switchboard/internal/messenger"
)

// ErrNotVK is a webhook body that is not a Callback API event (the webhook
// answers 400).
var ErrNotVK = errors.New("vk: not a Callback API event")

// OK is the answer VK expects to every event but confirmation.
const OK = "ok"

// Unsupported is the text of an attachment Switchboard cannot render
// whose type VK does not name.
const Unsupported = "[unsupported message type]"

const (
	maxEvent = 4 << 20 // bytes of a callback Parse accepts
	maxFiles = 20      // files taken from one message (forwards included)
	maxDepth = 3       // levels of forwarded messages rendered
)

// Parse turns one callback into its updates: what the event reports (a
// client message, an edit, a read receipt, or Ignored), then the Answer VK
// expects: the channel's confirmation string for "confirmation", "ok" for
// every other event.
func (v *VK) Parse(acc messenger.Account, body []byte) ([]messenger.Update, error) {
	if len(body) > maxEvent {
		return nil, fmt.Errorf("%w: %d bytes is too large", ErrNotVK, len(body))
	}
	top := object(body)
	if top == nil {
		return nil, fmt.Errorf("%w: not a JSON object", ErrNotVK)
	}
	var typ string
	if json.Unmarshal(top["type"], &typ) != nil || typ == "" {
		return nil, fmt.Errorf("%w: no type", ErrNotVK)
	}
	gid, _ := parseGroupID(acc.Public[FieldGroupID])
	if got, ok := top.int("group_id"); !ok || got != gid || gid == 0 {
		return []messenger.Update{ignored("event for another community (group_id %s)", clip(top.str("group_id"), 20)), answer(OK)}, nil
	}
	if typ == "confirmation" {
		c := acc.Secrets[FieldConfirmation]
		if c == "" {
			return nil, errors.New("vk: the channel has no confirmation string; connect it again")
		}
		return []messenger.Update{answer(c)}, nil
	}
	return []messenger.Update{parseEvent(gid, typ, top), answer(OK)}, nil
}

func answer(s string) messenger.Update {
	return messenger.Update{Kind: messenger.Answer, Answer: s}
}

func ignored(format string, a ...any) messenger.Update {
	return messenger.Update{Kind: messenger.Ignored, Reason: fmt.Sprintf(format, a...)}
}

func parseEvent(gid int64, typ string, top jobj) messenger.Update {
	o := top.obj("object")
	switch typ {
	case "message_new":
		m := o.obj("message")
		if m == nil && o != nil && o["peer_id"] != nil {
			m = o // API versions before 5.103 send the message as the object
		}
		return parseMessage(gid, m, messenger.Message)
	case "message_edit":
		return parseMessage(gid, o, messenger.Edit)
	case "message_reply":
		return ignored("the community's own message %s to %s (message_reply)", clip(o.str("id"), 20), clip(o.str("peer_id"), 20))
	case "message_read":
		return parseRead(o)
	case "message_allow":
		return ignored("client %s allowed messages from the community", clip(o.str("user_id"), 20))
	case "message_deny":
		return ignored("client %s denied messages from the community: replies fail until they allow them again", clip(o.str("user_id"), 20))
	case "message_typing_state":
		return ignored("client %s is typing", clip(o.str("from_id"), 20))
	case "message_event":
		return ignored("callback button press (Switchboard sends no buttons)")
	}
	return ignored("%s events are not helpdesk traffic", cleanType(typ))
}

// parseRead reads message_read: the client read our messages up to
// read_message_id, so that one and every earlier reply are marked read.
func parseRead(o jobj) messenger.Update {
	peer, _ := o.int("peer_id")
	if peer >= ChatPeerBase {
		return ignored("read receipt in a group chat")
	}
	id, ok := o.int("read_message_id")
	if !ok || id <= 0 {
		return ignored("read receipt without read_message_id")
	}
	// VK means every message up to that one.
	return messenger.Update{Kind: messenger.Status, Status: &messenger.DeliveryStatus{
		ExternalID: strconv.FormatInt(id, 10), State: messenger.Read, UpTo: true, Recipient: strconv.FormatInt(peer, 10)}}
}

// parseMessage reads a message object of message_new or message_edit.
func parseMessage(gid int64, m jobj, kind messenger.UpdateKind) messenger.Update {
	if m == nil {
		return ignored("%s event without a message", kind)
	}
	peer, _ := m.int("peer_id")
	from, _ := m.int("from_id")
	if out, _ := m.int("out"); out == 1 {
		return ignored("the community's own message (out=1)")
	}
	if peer >= ChatPeerBase {
		return ignored("message in a group chat (peer %d): only direct messages to the community are requests", peer)
	}
	if peer <= 0 || from <= 0 {
		return ignored("message from a community, not a person (peer %d, from %d)", peer, from)
	}
	cmid, _ := m.int("conversation_message_id")
	id, _ := m.int("id")
	var ext string
	switch {
	case cmid > 0:
		ext = fmt.Sprintf("%d_%d", peer, cmid)
	case id > 0: // not seen in dialogs; kept apart from conversation ids
		ext = fmt.Sprintf("%d_id%d", peer, id)
	default:
		return ignored("message without conversation_message_id")
	}
	in := &messenger.Inbound{
		ExternalID: ext,
		SenderID:   strconv.FormatInt(peer, 10),
		ProfileURL: "https://vk.com/id" + strconv.FormatInt(peer, 10),
		ChatURL:    fmt.Sprintf("https://vk.com/gim%d?sel=%d", gid, peer),
		SentAt:     unixTime(m, "date"),
	}
	if kind == messenger.Edit {
		if t := unixTime(m, "update_time"); !t.IsZero() {
			in.SentAt = t
		}
	}
	in.Text = render(m, in, 0)
	if kind == messenger.Edit {
		in.Files = nil // an edit changes the text only
	}
	return messenger.Update{Kind: kind, Message: in}
}

func unixTime(o jobj, k string) time.Time {
	n, ok := o.int(k)
	if !ok || n <= 0 || n > 1<<37 {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}

// render is a message's text with a line for each attachment, location and
// forwarded message; files found go to in.Files.
func render(m jobj, in *messenger.Inbound, depth int) string {
	var lines []string
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			lines = append(lines, s)
		}
	}
	add(m.str("text"))
	for _, raw := range m.arr("attachments") {
		add(attachment(object(raw), in))
	}
	if g := m.obj("geo"); g != nil {
		add(geoText(g))
	}
	if depth < maxDepth {
		for i, raw := range m.arr("fwd_messages") {
			if i == 10 {
				add(fmt.Sprintf("[%d more forwarded messages]", len(m.arr("fwd_messages"))-i))
				break
			}
			f := object(raw)
			if f == nil {
				continue
			}
			head := "↪ forwarded message"
			if from, ok := f.int("from_id"); ok && from > 0 {
				head += " from https://vk.com/id" + strconv.FormatInt(from, 10)
			}
			body := render(f, in, depth+1)
			if body == "" {
				body = "[empty message]"
			}
			add(head + ":\n" + body)
		}
	}
	return strings.Join(lines, "\n")
}

// attachment is the line shown for one attachment; a downloadable file is
// added to in.Files as well.
func attachment(a jobj, in *messenger.Inbound) string {
	if a == nil {
		return Unsupported
	}
	typ := a.str("type")
	b := a.obj(typ)
	file := func(url, name, contentType string, size int64) bool {
		if !strings.HasPrefix(url, "https://") && !strings.HasPrefix(url, "http://") {
			return false
		}
		if len(in.Files) >= maxFiles {
			return false
		}
		in.Files = append(in.Files, messenger.FileRef{ID: url, Filename: name, ContentType: contentType, Size: max(size, 0)})
		return true
	}
	ids := func(prefix string) string { return prefix + "-" + ownerID(b) }
	switch typ {
	case "photo":
		if u := largest(b.arr("sizes")); u != "" && file(u, ids("photo")+".jpg", "image/jpeg", 0) {
			return ""
		}
		return "[photo]"
	case "graffiti":
		if file(b.str("url"), ids("graffiti")+".png", "image/png", 0) {
			return ""
		}
		return "[graffiti]"
	case "doc":
		name := cleanFilename(b.str("title"))
		ext := cleanType(b.str("ext"))
		if name == "" {
			name = ids("doc")
		}
		if ext != "" && !strings.HasSuffix(strings.ToLower(name), "."+strings.ToLower(ext)) {
			name += "." + ext
		}
		size, _ := b.int("size")
		if file(b.str("url"), name, contentTypeOf(path.Ext(name)), size) {
			return ""
		}
		return "[file: " + name + "]"
	case "audio_message":
		transcript := strings.TrimSpace(b.str("transcript"))
		if transcript != "" {
			transcript = "🎤 " + transcript
		}
		if u := b.str("link_ogg"); file(u, ids("voice")+".ogg", "audio/ogg", 0) {
			return transcript
		}
		if u := b.str("link_mp3"); file(u, ids("voice")+".mp3", "audio/mpeg", 0) {
			return transcript
		}
		return strings.TrimSpace("[voice message]\n" + transcript)
	case "sticker":
		u := largest(b.arr("images"))
		if u == "" {
			u = largest(b.arr("images_with_background"))
		}
		name := fmt.Sprintf("sticker-%s-%s.png", digits(b.str("product_id")), digits(b.str("sticker_id")))
		file(u, name, "image/png", 0)
		return "[sticker]"
	case "video":
		return titled("video", b.str("title"), link("video", b))
	case "audio":
		return titled("audio", strings.Trim(strings.TrimSpace(b.str("artist"))+" – "+strings.TrimSpace(b.str("title")), " –"), "")
	case "wall":
		return titled("wall post", "", link("wall", b))
	case "wall_reply":
		return titled("wall comment", b.str("text"), "")
	case "link":
		return titled("link", b.str("title"), webURL(b.str("url")))
	case "article":
		return titled("article", b.str("title"), webURL(b.str("url")))
	case "market":
		return titled("product", b.str("title"), link("product", b))
	case "market_album":
		return titled("product collection", b.str("title"), "")
	case "poll":
		return titled("poll", b.str("question"), "")
	case "story":
		return titled("story", "", link("story", b))
	case "gift":
		return "[gift]"
	case "call":
		return "[call]"
	}
	if t := cleanType(typ); t != "" {
		return "[unsupported message type: " + t + "]"
	}
	return Unsupported
}

// titled is "[kind: title]" and a link on the next line.
func titled(kind, title, link string) string {
	s := "[" + kind + "]"
	if t := strings.TrimSpace(clip(title, 200)); t != "" {
		s = "[" + kind + ": " + t + "]"
	}
	if link != "" {
		s += "\n" + link
	}
	return s
}

// link is https://vk.com/{kind}{owner}_{id} of an object, or "".
func link(kind string, b jobj) string {
	owner, ok1 := b.int("owner_id")
	if !ok1 {
		owner, ok1 = b.int("from_id")
	}
	id, ok2 := b.int("id")
	if !ok1 || !ok2 {
		return ""
	}
	return fmt.Sprintf("https://vk.com/%s%d_%d", kind, owner, id)
}

// webURL keeps an http(s) URL without control characters.
func webURL(s string) string {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "https://") && !strings.HasPrefix(s, "http://") || strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return ""
	}
	return clip(s, 500)
}

// ownerID is "{owner_id}_{id}" of an object, in digits (and "-") only.
func ownerID(b jobj) string {
	owner, id := digits(b.str("owner_id")), digits(b.str("id"))
	switch {
	case owner != "" && id != "":
		return owner + "_" + id
	case id != "":
		return id
	}
	return "file"
}

func digits(s string) string {
	s = clip(s, 24)
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return -1
	}, s)
}

// sizeRank orders photo size types when VK gives no dimensions
// (https://dev.vk.com/ru/reference/objects/photo-sizes).
var sizeRank = map[string]int{"s": 1, "m": 2, "x": 3, "o": 4, "p": 5, "q": 6, "r": 7, "y": 8, "z": 9, "w": 10}

// largest is the URL of the largest image of sizes[] or images[].
func largest(sizes []json.RawMessage) string {
	best, bestArea, bestRank := "", int64(-1), -1
	for _, raw := range sizes {
		s := object(raw)
		u := s.str("url")
		if u == "" {
			u = s.str("src")
		}
		if u == "" {
			continue
		}
		w, _ := s.int("width")
		h, _ := s.int("height")
		area := int64(0)
		if w > 0 && h > 0 && w < 1<<20 && h < 1<<20 {
			area = w * h
		}
		rank := sizeRank[s.str("type")]
		if area > bestArea || (area == bestArea && rank > bestRank) {
			best, bestArea, bestRank = u, area, rank
		}
	}
	return best
}

// geoText is "📍 lat,lon (place)" and a map link.
func geoText(g jobj) string {
	c := g.obj("coordinates")
	lat, ok1 := c.number("latitude")
	lon, ok2 := c.number("longitude")
	if !ok1 || !ok2 {
		// Old versions: "coordinates": "55.75 37.61".
		f := strings.Fields(g.str("coordinates"))
		if len(f) != 2 {
			return "📍 [location]"
		}
		if _, err := strconv.ParseFloat(f[0], 64); err != nil {
			return "📍 [location]"
		}
		if _, err := strconv.ParseFloat(f[1], 64); err != nil {
			return "📍 [location]"
		}
		lat, lon = f[0], f[1]
	}
	t := "📍 " + lat + "," + lon
	p := g.obj("place")
	place := strings.TrimSpace(p.str("title"))
	if place == "" {
		place = strings.Trim(strings.TrimSpace(p.str("city"))+", "+strings.TrimSpace(p.str("country")), ", ")
	}
	if place != "" {
		t += " (" + clip(place, 200) + ")"
	}
	return t + "\nhttps://maps.google.com/?q=" + lat + "," + lon
}

// cleanType keeps a type or extension safe to show.
func cleanType(t string) string {
	t = clip(t, 40)
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-' {
			return r
		}
		return -1
	}, strings.TrimSuffix(t, "…"))
}

var contentTypes = map[string]string{
	".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif", ".webp": "image/webp",
	".heic": "image/heic", ".bmp": "image/bmp", ".tif": "image/tiff", ".tiff": "image/tiff", ".svg": "image/svg+xml",
	".mp4": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm", ".avi": "video/x-msvideo", ".3gp": "video/3gpp",
	".ogg": "audio/ogg", ".opus": "audio/ogg", ".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".wav": "audio/wav", ".aac": "audio/aac",
	".pdf": "application/pdf", ".txt": "text/plain", ".csv": "text/csv", ".rtf": "application/rtf",
	".zip": "application/zip", ".rar": "application/vnd.rar", ".7z": "application/x-7z-compressed", ".gz": "application/gzip",
	".doc": "application/msword", ".xls": "application/vnd.ms-excel", ".ppt": "application/vnd.ms-powerpoint",
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	".odt":  "application/vnd.oasis.opendocument.text", ".ods": "application/vnd.oasis.opendocument.spreadsheet",
}

// contentTypeOf maps a file extension (".pdf") to a MIME type.
func contentTypeOf(ext string) string {
	if ct, ok := contentTypes[strings.ToLower(ext)]; ok {
		return ct
	}
	return "application/octet-stream"
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
