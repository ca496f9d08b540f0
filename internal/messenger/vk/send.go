package vk

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/switchboard-hq/switchboard/internal/messenger"
)

// Waits asked of the outbox for VK's rate limits (shared/channels/vk.md).
const (
	perSecondWait = time.Second      // error 6: too many requests per second
	floodWait     = 10 * time.Minute // error 9: flood control
	quotaWait     = time.Hour        // error 29: the method's daily quota
)

// MaxPhotoUpload is the largest image sent as a photo; larger ones go as
// documents.
const MaxPhotoUpload = 50 << 20

// Send delivers m to the client with peer id to and returns VK's id of the
// first message sent. Files are uploaded before any message goes (a refused
// file sends nothing); the text parts go first, the files with the last
// part, at most MaxAttachments per message.
func (v *VK) Send(ctx context.Context, acc messenger.Account, to string, m messenger.Outgoing) (string, error) {
	if acc.Secrets[FieldAccessToken] == "" {
		return "", &messenger.SendError{Permanent: true, Broken: true,
			Reason: "The VK channel has no community access token: reconnect it"}
	}
	peer, err := strconv.ParseInt(strings.TrimSpace(to), 10, 64)
	if err != nil || peer <= 0 || peer >= ChatPeerBase {
		return "", &messenger.SendError{Permanent: true, Reason: "Not a VK user id: " + clip(to, 40)}
	}
	text := m.Text
	if strings.TrimSpace(text) == "" {
		text = ""
	}
	if text == "" && len(m.Files) == 0 {
		return "", &messenger.SendError{Permanent: true, Reason: "The reply is empty"}
	}

	atts := make([]string, 0, len(m.Files))
	for _, f := range m.Files {
		a, err := v.upload(ctx, acc, peer, f)
		if err != nil {
			return "", err
		}
		atts = append(atts, a)
	}

	type message struct {
		text string
		atts []string
	}
	var msgs []message
	for _, p := range splitText(text, MaxText) {
		msgs = append(msgs, message{text: p})
	}
	for len(atts) > 0 {
		n := min(len(atts), MaxAttachments)
		if last := len(msgs) - 1; last >= 0 && msgs[last].atts == nil {
			msgs[last].atts = atts[:n]
		} else {
			msgs = append(msgs, message{atts: atts[:n]})
		}
		atts = atts[n:]
	}

	first := ""
	for i, msg := range msgs {
		rid, err := randomID(m.Key, i)
		if err != nil {
			return "", err
		}
		params := url.Values{"peer_id": {strconv.FormatInt(peer, 10)}, "random_id": {strconv.FormatInt(int64(rid), 10)}}
		if msg.text != "" {
			params.Set("message", msg.text)
		}
		if len(msg.atts) > 0 {
			params.Set("attachment", strings.Join(msg.atts, ","))
		}
		res, err := v.call(ctx, acc, "messages.send", params)
		if err != nil {
			return "", sendError(err)
		}
		id, ok := sentID(res)
		if !ok {
			// Sent, most likely: a retry carries the same random_id.
			return "", &messenger.SendError{Reason: "VK gave no message id"}
		}
		if first == "" {
			first = id
		}
	}
	return first, nil
}

// randomID is messages.send's random_id for part i of the reply with key:
// the same on every attempt, so VK drops a message it already has. Without
// a key it is random (no deduplication).
func randomID(key string, i int) (int32, error) {
	var b [4]byte
	if key == "" {
		if _, err := rand.Read(b[:]); err != nil {
			return 0, fmt.Errorf("vk: random_id: %w", err)
		}
	} else {
		sum := sha256.Sum256([]byte("switchboard/vk/random_id\x00" + key + "\x00" + strconv.Itoa(i)))
		copy(b[:], sum[:4])
	}
	n := int32(binary.BigEndian.Uint32(b[:]) & 0x7fffffff)
	if n == 0 {
		n = 1 // 0 would turn deduplication off
	}
	return n, nil
}

// sentID reads messages.send's answer: the message id, or (with peer_ids)
// [{peer_id, message_id, conversation_message_id, error?}].
func sentID(res json.RawMessage) (string, bool) {
	var n json.Number
	if json.Unmarshal(res, &n) == nil {
		if id, err := strconv.ParseInt(n.String(), 10, 64); err == nil && id > 0 {
			return strconv.FormatInt(id, 10), true
		}
		return "", false
	}
	list := array(res)
	if len(list) == 0 {
		return "", false
	}
	o := object(list[0])
	if id, ok := o.int("message_id"); ok && id > 0 {
		return strconv.FormatInt(id, 10), true
	}
	return "", false
}

// upload makes one file an attachment: JPEG, PNG and GIF images as photos
// (a photo VK refuses goes as a document), anything else as a document.
func (v *VK) upload(ctx context.Context, acc messenger.Account, peer int64, f messenger.File) (string, error) {
	name := cleanFilename(f.Filename)
	if len(f.Data) == 0 {
		return "", &messenger.SendError{Permanent: true, Reason: fmt.Sprintf("The file %q is empty", clip(name, 80))}
	}
	ct := baseType(f.ContentType)
	if ct == "" || ct == "application/octet-stream" {
		ct = baseType(http.DetectContentType(f.Data))
	}
	if name == "" {
		name = "file" + extensionOf(ct)
	}
	if (ct == "image/jpeg" || ct == "image/png" || ct == "image/gif") && len(f.Data) <= MaxPhotoUpload {
		a, err := v.uploadPhoto(ctx, acc, peer, name, ct, f.Data)
		if !errors.Is(err, errPhotoRefused) {
			return a, err
		}
	}
	return v.uploadDoc(ctx, acc, peer, name, ct, f.Data)
}

// errPhotoRefused is a photo VK's upload server would not take.
var errPhotoRefused = errors.New("vk: photo refused")

func (v *VK) uploadPhoto(ctx context.Context, acc messenger.Account, peer int64, name, ct string, data []byte) (string, error) {
	res, err := v.call(ctx, acc, "photos.getMessagesUploadServer", url.Values{"peer_id": {strconv.FormatInt(peer, 10)}})
	if err != nil {
		return "", sendError(err)
	}
	up, err := v.post(ctx, acc, object(res).str("upload_url"), "photo", name, ct, data)
	if err != nil {
		return "", err
	}
	photo := up.str("photo")
	if up.str("error") != "" || photo == "" || photo == "[]" {
		return "", errPhotoRefused
	}
	res, err = v.call(ctx, acc, "photos.saveMessagesPhoto", url.Values{
		"server": {up.str("server")}, "photo": {photo}, "hash": {up.str("hash")}})
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) && (ae.code == 100 || ae.code == 129) {
			return "", errPhotoRefused
		}
		return "", sendError(err)
	}
	list := array(res)
	if len(list) == 0 {
		return "", &messenger.SendError{Reason: "VK did not save the photo"}
	}
	if a := attachmentID("photo", object(list[0])); a != "" {
		return a, nil
	}
	return "", &messenger.SendError{Reason: "VK did not save the photo"}
}

func (v *VK) uploadDoc(ctx context.Context, acc messenger.Account, peer int64, name, ct string, data []byte) (string, error) {
	res, err := v.call(ctx, acc, "docs.getMessagesUploadServer", url.Values{"type": {"doc"}, "peer_id": {strconv.FormatInt(peer, 10)}})
	if err != nil {
		return "", sendError(err)
	}
	up, err := v.post(ctx, acc, object(res).str("upload_url"), "file", name, ct, data)
	if err != nil {
		return "", err
	}
	if e := up.str("error"); e != "" || up.str("file") == "" {
		why := strings.TrimSpace(up.str("error_descr"))
		if why == "" {
			why = e
		}
		if why == "" {
			why = "no file in the answer"
		}
		return "", &messenger.SendError{Permanent: true,
			Reason: fmt.Sprintf("VK refused the file %q: %s", clip(name, 80), clip(redact(why, acc), 200))}
	}
	res, err = v.call(ctx, acc, "docs.save", url.Values{"file": {up.str("file")}, "title": {name}})
	if err != nil {
		return "", sendError(err)
	}
	// {"type":"doc","doc":{…}}; a bare array in old versions.
	o := object(res)
	doc := o.obj(o.str("type"))
	if doc == nil {
		if list := array(res); len(list) > 0 {
			doc = object(list[0])
		}
	}
	if a := attachmentID("doc", doc); a != "" {
		return a, nil
	}
	return "", &messenger.SendError{Reason: "VK did not save the document"}
}

// attachmentID is "{kind}{owner_id}_{id}[_{access_key}]", or "".
func attachmentID(kind string, o jobj) string {
	owner, ok1 := o.int("owner_id")
	id, ok2 := o.int("id")
	if !ok1 || !ok2 || id <= 0 {
		return ""
	}
	a := fmt.Sprintf("%s%d_%d", kind, owner, id)
	if k := o.str("access_key"); k != "" && isToken(k) {
		a += "_" + k
	}
	return a
}

func isToken(s string) bool {
	if len(s) > 128 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// post uploads one file as multipart field to an upload server VK named,
// only on VK's hosts (or the configured base URL's), and reads its JSON
// answer.
func (v *VK) post(ctx context.Context, acc messenger.Account, uploadURL, field, name, ct string, data []byte) (jobj, error) {
	u, err := url.Parse(uploadURL)
	if err != nil || !v.hostAllowed(u) {
		return nil, &messenger.SendError{Reason: "VK named no usable upload server"}
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", mime.FormatMediaType("form-data", map[string]string{"name": field, "filename": name}))
	h.Set("Content-Type", ct)
	part, err := mw.CreatePart(h)
	if err != nil {
		return nil, &messenger.SendError{Permanent: true, Reason: "The attached file cannot be encoded"}
	}
	_, _ = part.Write(data)
	_ = mw.Close()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), &buf)
	if err != nil {
		return nil, &messenger.SendError{Reason: "VK named no usable upload server"}
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := v.restricted().Do(req)
	if err != nil {
		return nil, &netError{msg: "vk: upload: " + redact(stripQuery(err.Error(), u), acc), err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, &netError{msg: "vk: upload: reading the answer", err: err}
	}
	o := object(raw)
	if resp.StatusCode/100 != 2 || o == nil {
		return nil, &messenger.SendError{Reason: fmt.Sprintf("VK's upload server answered HTTP %d", resp.StatusCode)}
	}
	return o, nil
}

// stripQuery removes an upload URL's signed query from an error text.
func stripQuery(s string, u *url.URL) string {
	if u.RawQuery == "" {
		return s
	}
	return strings.ReplaceAll(s, u.RawQuery, "…")
}

// baseType is a MIME type without parameters, lower case.
func baseType(ct string) string {
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		return mt
	}
	return strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
}

// extensionOf is ".ext" for a MIME type, or "".
func extensionOf(ct string) string {
	best := ""
	for ext, t := range contentTypes {
		if t == ct && (best == "" || len(ext) < len(best) || (len(ext) == len(best) && ext < best)) {
			best = ext
		}
	}
	return best
}

// utf16Len counts like VK counts message lengths (UTF-16 code units; an
// assumption on the safe side of counting characters).
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// splitText cuts text into parts of at most limit UTF-16 code units,
// preferably after a line break, else after a space, else between runes.
// Spaces and line breaks around a cut, and whitespace-only parts, are dropped.
func splitText(text string, limit int) []string {
	var parts []string
	add := func(p string) {
		if strings.TrimSpace(p) != "" {
			parts = append(parts, p)
		}
	}
	for utf16Len(text) > limit {
		cut, n := 0, 0
		for cut < len(text) {
			r, size := utf8.DecodeRuneInString(text[cut:])
			if n += utf16.RuneLen(r); n > limit {
				break
			}
			cut += size
		}
		if cut == 0 {
			_, cut = utf8.DecodeRuneInString(text)
		}
		chunk := text[:cut]
		if i := strings.LastIndexByte(chunk, '\n'); i >= cut/2 {
			cut = i + 1
		} else if i := strings.LastIndexByte(chunk, ' '); i >= cut/2 {
			cut = i + 1
		}
		add(strings.TrimRight(text[:cut], " \n"))
		text = strings.TrimLeft(text[cut:], " \n")
	}
	add(text)
	return parts
}

// sendError turns a failed call into what the outbox decides on: network
// errors are returned as they are (retried), VK's answers become
// *messenger.SendError.
func sendError(err error) error {
	var ae *apiError
	if !errors.As(err, &ae) {
		return err
	}
	if ae.code == 0 {
		// 5xx, a proxy's page, or an answer that could not be read: retried;
		// messages.send's random_id makes that safe.
		return &messenger.SendError{Reason: fmt.Sprintf("VK is unavailable (HTTP %d: %s)", ae.status, ae.msg)}
	}
	withCode := func(reason string) string {
		if ae.msg == "" {
			return fmt.Sprintf("%s (error %d)", reason, ae.code)
		}
		return fmt.Sprintf("%s (error %d: %s)", reason, ae.code, ae.msg)
	}
	upload := ae.method != "messages.send"
	switch c := ae.code; {
	case c == 6:
		return &messenger.SendError{RetryAfter: perSecondWait, Reason: withCode("Too many requests to VK per second")}
	case c == 9:
		return &messenger.SendError{RetryAfter: floodWait, Reason: withCode("VK flood control: too many messages in a short time")}
	case c == 29:
		return &messenger.SendError{RetryAfter: quotaWait, Reason: withCode("VK's rate limit for the community was reached")}
	case c == 1 || c == 10:
		return &messenger.SendError{Reason: withCode("VK is temporarily unavailable")}
	case c == 5 || c == 27 || c == 28:
		return &messenger.SendError{Permanent: true, Broken: true,
			Reason: fmt.Sprintf("VK no longer accepts the community access token (error %d): reconnect the channel", c)}
	case c == 7 && !upload:
		return &messenger.SendError{Permanent: true, Broken: true,
			Reason: withCode("The community may not send messages: enable community messages and give the token the messages right")}
	case upload && (c == 7 || c == 15):
		return &messenger.SendError{Permanent: true,
			Reason: withCode("The community token may not upload files: it needs the photos and docs rights")}
	case c == 901:
		return &messenger.SendError{Permanent: true, Reason: NotAllowedReason}
	case c == 900:
		return &messenger.SendError{Permanent: true, Reason: "The client has blocked the community: VK does not deliver messages to them"}
	case c == 902:
		return &messenger.SendError{Permanent: true, Reason: "The client's privacy settings do not allow messages from the community"}
	case c == 914:
		return &messenger.SendError{Permanent: true, Reason: "VK says the message is too long"}
	case c == 15 || c == 917 || c == 932:
		return &messenger.SendError{Permanent: true, Reason: withCode("VK does not let the community write in this conversation")}
	case c == 100:
		return &messenger.SendError{Permanent: true, Reason: withCode("VK refused a parameter of the message")}
	}
	return &messenger.SendError{Permanent: true, Reason: withCode("VK refused the message")}
}
