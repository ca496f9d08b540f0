package instagram

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"path"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/switchboard-hq/switchboard/internal/messenger"
	"github.com/switchboard-hq/switchboard/internal/messenger/meta"
)

// The attachments Instagram takes, by type, and their largest sizes.
const (
	MaxImage = 8 << 20
	MaxMedia = 25 << 20 // video, audio and PDF files
)

// attachmentKinds maps the content types Instagram accepts to its
// attachment types.
var attachmentKinds = map[string]string{
	"image/jpeg": "image", "image/png": "image", "image/gif": "image",
	"video/mp4": "video", "video/ogg": "video", "video/quicktime": "video", "video/webm": "video",
	"video/x-msvideo": "video", "video/avi": "video", "video/msvideo": "video",
	"audio/aac": "audio", "audio/mp4": "audio", "audio/x-m4a": "audio", "audio/m4a": "audio",
	"audio/wav": "audio", "audio/x-wav": "audio", "audio/wave": "audio", "audio/vnd.wave": "audio",
	"application/pdf": "file",
}

// typesByExt names the content type of a file by its extension where the
// sender gave none.
var typesByExt = map[string]string{
	".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif",
	".mp4": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm", ".avi": "video/x-msvideo", ".ogv": "video/ogg",
	".m4a": "audio/mp4", ".aac": "audio/aac", ".wav": "audio/wav", ".pdf": "application/pdf",
}

// NotSendableReason explains a file Instagram cannot carry.
const NotSendableReason = "Instagram can only send images (JPEG, PNG, GIF), videos (MP4, MOV, WEBM, AVI, OGG), audio (AAC, M4A, WAV) and PDF files"

type sendRequest struct {
	Recipient     recipient   `json:"recipient"`
	MessagingType string      `json:"messaging_type"`
	Message       messageBody `json:"message"`
}

type recipient struct {
	ID string `json:"id"`
}

type messageBody struct {
	Text       string      `json:"text,omitempty"`
	Attachment *attachment `json:"attachment,omitempty"`
}

type attachment struct {
	Type    string         `json:"type"`
	Payload map[string]any `json:"payload"`
}

// outFile is a file checked for sending.
type outFile struct {
	kind, contentType, name string
	data                    []byte
}

// Send delivers m to the client with the Instagram-scoped id to, text first
// and then each file, and returns the id of the first message sent.
func (g *Instagram) Send(ctx context.Context, acc messenger.Account, to string, m messenger.Outgoing) (string, error) {
	if acc.Secrets[FieldAccessToken] == "" {
		return "", &messenger.SendError{Permanent: true, Broken: true,
			Reason: "The Instagram channel has no Page access token: reconnect it"}
	}
	to = strings.TrimSpace(to)
	if !isDigits(to) {
		return "", &messenger.SendError{Permanent: true, Reason: "The customer has no valid Instagram-scoped id"}
	}
	text := m.Text
	if strings.TrimSpace(text) == "" {
		text = ""
	}
	if text == "" && len(m.Files) == 0 {
		return "", &messenger.SendError{Permanent: true, Reason: "The reply is empty"}
	}

	// Check every file first: a file Instagram cannot carry sends nothing.
	files := make([]outFile, 0, len(m.Files))
	for _, f := range m.Files {
		of, err := checkFile(f)
		if err != nil {
			return "", err
		}
		files = append(files, of)
	}

	first := ""
	keep := func(id string) {
		if first == "" {
			first = id
		}
	}
	for _, part := range splitText(text, MaxText) {
		body, err := json.Marshal(sendRequest{Recipient: recipient{to}, MessagingType: "RESPONSE", Message: messageBody{Text: part}})
		if err != nil {
			return "", &messenger.SendError{Permanent: true, Reason: "The reply cannot be encoded"}
		}
		id, err := g.post(ctx, acc, "application/json", body)
		if err != nil {
			return "", err
		}
		keep(id)
	}
	for _, f := range files {
		ctype, body, err := multipartMessage(to, f)
		if err != nil {
			return "", err
		}
		id, err := g.post(ctx, acc, ctype, body)
		if err != nil {
			return "", err
		}
		keep(id)
	}
	return first, nil
}

// post sends one message to the Send API and returns its message id.
func (g *Instagram) post(ctx context.Context, acc messenger.Account, contentType string, body []byte) (string, error) {
	res, err := g.call(ctx, acc, http.MethodPost, g.endpoint(pageNode(acc), "messages"), contentType, body)
	if err != nil {
		return "", err
	}
	if res.Status/100 != 2 {
		return "", sendError(res, acc)
	}
	id := meta.ParseObject(res.Body).Str("message_id")
	if id == "" {
		return "", &messenger.SendError{Reason: "the Instagram Send API gave no message id"}
	}
	return id, nil
}

// checkFile finds a file's Instagram attachment type and checks its size.
func checkFile(f messenger.File) (outFile, error) {
	name := asciiName(cleanFilename(f.Filename))
	ct := baseType(f.ContentType)
	if ct == "" || ct == "application/octet-stream" {
		ct = typesByExt[strings.ToLower(path.Ext(name))]
	}
	if ct == "" {
		ct = baseType(http.DetectContentType(f.Data))
	}
	shown := cleanFilename(f.Filename)
	if shown == "" {
		shown = "a file"
	}
	kind := attachmentKinds[ct]
	if kind == "" {
		return outFile{}, &messenger.SendError{Permanent: true,
			Reason: fmt.Sprintf("%s (%s) cannot be sent: %s", meta.Clip(shown, 80), meta.Clip(ct, 60), NotSendableReason)}
	}
	limit := MaxMedia
	if kind == "image" {
		limit = MaxImage
	}
	if len(f.Data) == 0 {
		return outFile{}, &messenger.SendError{Permanent: true, Reason: fmt.Sprintf("%s is empty", meta.Clip(shown, 80))}
	}
	if len(f.Data) > limit {
		return outFile{}, &messenger.SendError{Permanent: true,
			Reason: fmt.Sprintf("%s is too large for Instagram (%s files up to %d MB)", meta.Clip(shown, 80), kind, limit>>20)}
	}
	if name == "" || path.Ext(name) == "" {
		name = withExtension(kind, ct)
		if name == kind {
			name = kind + ".bin"
		}
	}
	return outFile{kind: kind, contentType: ct, name: name, data: f.Data}, nil
}

// multipartMessage is a Send API request that uploads the file with the
// message (Meta's upload-and-send in one call).
func multipartMessage(to string, f outFile) (string, []byte, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	rcpt, _ := json.Marshal(recipient{to})
	msg, _ := json.Marshal(messageBody{Attachment: &attachment{Type: f.kind, Payload: map[string]any{"is_reusable": false}}})
	_ = mw.WriteField("recipient", string(rcpt))
	_ = mw.WriteField("messaging_type", "RESPONSE")
	_ = mw.WriteField("message", string(msg))
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", mime.FormatMediaType("form-data", map[string]string{"name": "filedata", "filename": f.name}))
	h.Set("Content-Type", f.contentType)
	part, err := mw.CreatePart(h)
	if err != nil {
		return "", nil, &messenger.SendError{Permanent: true, Reason: "The attached file cannot be encoded"}
	}
	_, _ = part.Write(f.data)
	if err := mw.Close(); err != nil {
		return "", nil, &messenger.SendError{Permanent: true, Reason: "The attached file cannot be encoded"}
	}
	return mw.FormDataContentType(), buf.Bytes(), nil
}

// asciiName replaces what is not printable ASCII in a file name (Meta's
// upload does not take other names).
func asciiName(name string) string {
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' {
			return '_'
		}
		return r
	}, name)
	if strings.Trim(name, "_.") == "" {
		return ""
	}
	return name
}

// utf16Len counts s as Instagram does, in UTF-16 code units.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += runeLen16(r)
	}
	return n
}

func runeLen16(r rune) int {
	if n := utf16.RuneLen(r); n > 0 {
		return n
	}
	return 1
}

// splitText cuts s into parts of at most max UTF-16 code units, at a line
// break or a space in the second half of a part where there is one; parts
// of only spaces are dropped.
func splitText(s string, max int) []string {
	var out []string
	add := func(p string) {
		if strings.TrimSpace(p) != "" {
			out = append(out, p)
		}
	}
	for utf16Len(s) > max {
		cut, n := len(s), 0
		for i, r := range s {
			w := runeLen16(r)
			if n+w > max {
				cut = i
				break
			}
			n += w
		}
		if cut == 0 {
			// max smaller than one character: take it whole.
			_, cut = utf8.DecodeRuneInString(s)
		}
		head, next := s[:cut], cut
		if i := strings.LastIndexByte(head, '\n'); i > len(head)/2 {
			head, next = head[:i], i+1
		} else if i := strings.LastIndexByte(head, ' '); i > len(head)/2 {
			head, next = head[:i], i+1
		}
		add(head)
		s = s[next:]
	}
	add(s)
	return out
}
