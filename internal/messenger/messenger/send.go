package messenger

import (
	"bytes"
	"context"
	"encoding/json"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"unicode/utf8"

	msgr "github.com/switchboard-hq/switchboard/internal/messenger"
	"github.com/switchboard-hq/switchboard/internal/messenger/meta"
)

// The messaging types of the Send API.
const (
	typeResponse   = "RESPONSE"
	typeMessageTag = "MESSAGE_TAG"
	tagHumanAgent  = "HUMAN_AGENT"
)

type sendRequest struct {
	Recipient     recipient   `json:"recipient"`
	MessagingType string      `json:"messaging_type"`
	Tag           string      `json:"tag,omitempty"`
	Message       sendMessage `json:"message"`
}

type recipient struct {
	ID string `json:"id"`
}

type sendMessage struct {
	Text       string      `json:"text,omitempty"`
	Attachment *attachment `json:"attachment,omitempty"`
}

type attachment struct {
	Type    string            `json:"type"`
	Payload attachmentPayload `json:"payload"`
}

type attachmentPayload struct {
	IsReusable bool `json:"is_reusable"`
}

// part is one message of a reply: a text or a file.
type part struct {
	text string
	file *msgr.File
}

// Send delivers m to the customer with PSID to and returns the message id of
// the first message sent: the text (in parts of at most MaxText runes), then
// each file as an uploaded attachment.
func (m *Messenger) Send(ctx context.Context, acc msgr.Account, to string, out msgr.Outgoing) (string, error) {
	page := acc.Public[FieldPageID]
	if !isDigits(page) || acc.Secrets[FieldPageAccessToken] == "" {
		return "", &msgr.SendError{Permanent: true, Broken: true,
			Reason: "The Messenger channel has no Page ID or Page access token: reconnect it"}
	}
	to = strings.TrimSpace(to)
	if !isDigits(to) {
		return "", &msgr.SendError{Permanent: true, Reason: "The customer has no valid Messenger id"}
	}
	text := out.Text
	if strings.TrimSpace(text) == "" {
		text = ""
	}
	if text == "" && len(out.Files) == 0 {
		return "", &msgr.SendError{Permanent: true, Reason: "The reply is empty"}
	}
	var parts []part
	for _, t := range splitText(text, MaxText) {
		parts = append(parts, part{text: t})
	}
	for i := range out.Files {
		f := &out.Files[i]
		if len(f.Data) == 0 {
			return "", &msgr.SendError{Permanent: true, Reason: "An attached file is empty"}
		}
		if len(f.Data) > MaxUpload {
			return "", &msgr.SendError{Permanent: true, Reason: "An attached file is larger than Messenger's 25 MB"}
		}
		parts = append(parts, part{file: f})
	}

	first := ""
	tagged := false
	for _, p := range parts {
		id, err := m.sendPart(ctx, acc, page, to, p, tagged)
		if se := msgr.AsSendError(err); se != nil && se.Reason == WindowClosedReason && !tagged && humanAgent(acc) {
			// Past 24 hours: the HUMAN_AGENT tag allows 7 days.
			tagged = true
			id, err = m.sendPart(ctx, acc, page, to, p, tagged)
			if se := msgr.AsSendError(err); se != nil && se.Reason == WindowClosedReason {
				err = &msgr.SendError{Permanent: true, Reason: HumanAgentClosedReason}
			}
		}
		if err != nil {
			return "", err
		}
		if first == "" {
			first = id
		}
	}
	return first, nil
}

// sendPart sends one message, as JSON or (a file) as multipart.
func (m *Messenger) sendPart(ctx context.Context, acc msgr.Account, page, to string, p part, tagged bool) (string, error) {
	req := sendRequest{Recipient: recipient{ID: to}, MessagingType: typeResponse}
	if tagged {
		req.MessagingType, req.Tag = typeMessageTag, tagHumanAgent
	}
	var body []byte
	var contentType string
	if p.file == nil {
		req.Message.Text = p.text
		b, err := json.Marshal(req)
		if err != nil {
			return "", &msgr.SendError{Permanent: true, Reason: "The reply cannot be encoded"}
		}
		body, contentType = b, "application/json"
	} else {
		b, ct, err := multipartBody(req, *p.file)
		if err != nil {
			return "", &msgr.SendError{Permanent: true, Reason: "The attached file cannot be encoded"}
		}
		body, contentType = b, ct
	}
	res, err := m.call(ctx, acc, http.MethodPost, m.endpoint(nil, page, "messages"), contentType, body)
	if err != nil {
		return "", err
	}
	if res.Status/100 != 2 {
		return "", sendError(res, acc)
	}
	id := meta.ParseObject(res.Body).Str("message_id")
	if id == "" {
		return "", &msgr.SendError{Reason: "the Messenger Send API gave no message id"}
	}
	return id, nil
}

// multipartBody is a Send API request with an uploaded file: recipient,
// messaging_type, tag and message as JSON form fields, the file as filedata.
func multipartBody(req sendRequest, f msgr.File) ([]byte, string, error) {
	ct := baseType(f.ContentType)
	if ct == "" || ct == "application/octet-stream" {
		ct = baseType(http.DetectContentType(f.Data))
	}
	req.Message.Attachment = &attachment{Type: attachmentType(ct)}
	name := cleanFilename(f.Filename)
	if name == "" {
		name = "file" + extensions[ct]
	}
	rcpt, err := json.Marshal(req.Recipient)
	if err != nil {
		return nil, "", err
	}
	msg, err := json.Marshal(req.Message)
	if err != nil {
		return nil, "", err
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("recipient", string(rcpt))
	_ = mw.WriteField("messaging_type", req.MessagingType)
	if req.Tag != "" {
		_ = mw.WriteField("tag", req.Tag)
	}
	_ = mw.WriteField("message", string(msg))
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", mime.FormatMediaType("form-data", map[string]string{"name": "filedata", "filename": name}))
	h.Set("Content-Type", ct)
	w, err := mw.CreatePart(h)
	if err != nil {
		return nil, "", err
	}
	_, _ = w.Write(f.Data)
	if err := mw.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), mw.FormDataContentType(), nil
}

// extensions name generated files of common types.
var extensions = map[string]string{
	"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp",
	"video/mp4": ".mp4", "audio/mpeg": ".mp3", "audio/mp4": ".m4a", "audio/ogg": ".ogg",
	"application/pdf": ".pdf", "text/plain": ".txt",
}

// attachmentType is the Send API's attachment type for a MIME type: images
// Messenger shows inline (JPEG, PNG, GIF), video, audio, or a file.
func attachmentType(ct string) string {
	switch {
	case ct == "image/jpeg" || ct == "image/png" || ct == "image/gif":
		return "image"
	case strings.HasPrefix(ct, "video/"):
		return "video"
	case strings.HasPrefix(ct, "audio/"):
		return "audio"
	}
	return "file"
}

// baseType is a MIME type without parameters, lower case.
func baseType(ct string) string {
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		return mt
	}
	return strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
}

// splitText cuts s into parts of at most max runes, at a line break or a
// space in the second half of a part where there is one.
func splitText(s string, max int) []string {
	var out []string
	for utf8.RuneCountInString(s) > max {
		cut, n := 0, 0
		for i := range s {
			if n == max {
				cut = i
				break
			}
			n++
		}
		head := s[:cut]
		next := cut
		if i := strings.LastIndexByte(head, '\n'); i > len(head)/2 {
			head, next = head[:i], i+1
		} else if i := strings.LastIndexByte(head, ' '); i > len(head)/2 {
			head, next = head[:i], i+1
		}
		out = append(out, head)
		s = s[next:]
	}
	if s != "" {
		out = append(out, s)
	}
	return out
}
