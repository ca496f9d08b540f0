package whatsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchboard-hq/switchboard/internal/messenger"
	"github.com/switchboard-hq/switchboard/internal/messenger/meta"
)

// Waits asked of the outbox for rate limits.
const (
	pairRateWait    = 6 * time.Second
	accountRateWait = time.Minute
	maxRetryAfter   = time.Hour
)

type sendRequest struct {
	MessagingProduct string     `json:"messaging_product"`
	RecipientType    string     `json:"recipient_type"`
	To               string     `json:"to"`
	Type             string     `json:"type"`
	Text             *textBody  `json:"text,omitempty"`
	Image            *mediaBody `json:"image,omitempty"`
	Document         *mediaBody `json:"document,omitempty"`
}

type textBody struct {
	PreviewURL bool   `json:"preview_url"`
	Body       string `json:"body"`
}

type mediaBody struct {
	ID       string `json:"id"`
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// Send delivers m to the customer with wa_id to and returns the wamid of the
// first message sent.
func (w *WhatsApp) Send(ctx context.Context, acc messenger.Account, to string, m messenger.Outgoing) (string, error) {
	pnid := acc.Public[FieldPhoneNumberID]
	if !isDigits(pnid) || acc.Secrets[FieldAccessToken] == "" {
		return "", &messenger.SendError{Permanent: true, Broken: true,
			Reason: "The WhatsApp channel has no phone number ID or access token: reconnect it"}
	}
	to = strings.TrimPrefix(strings.TrimSpace(to), "+")
	if !isDigits(to) {
		return "", &messenger.SendError{Permanent: true, Reason: "The customer has no valid WhatsApp number"}
	}
	text := m.Text
	if strings.TrimSpace(text) == "" {
		text = ""
	}
	if text == "" && len(m.Files) == 0 {
		return "", &messenger.SendError{Permanent: true, Reason: "The reply is empty"}
	}

	// Upload every file first: a refused file then sends nothing at all.
	media := make([]sendRequest, 0, len(m.Files))
	for _, f := range m.Files {
		ct := baseType(f.ContentType)
		if ct == "" || ct == "application/octet-stream" {
			ct = baseType(http.DetectContentType(f.Data))
		}
		id, err := w.upload(ctx, acc, pnid, f, ct)
		if err != nil {
			return "", err
		}
		req := sendRequest{MessagingProduct: "whatsapp", RecipientType: "individual", To: to}
		if ct == "image/jpeg" || ct == "image/png" {
			req.Type, req.Image = "image", &mediaBody{ID: id}
		} else {
			name := cleanFilename(f.Filename)
			if name == "" {
				name = generatedName("file", "", ct)
			}
			req.Type, req.Document = "document", &mediaBody{ID: id, Filename: name}
		}
		media = append(media, req)
	}
	if len(media) == 1 && text != "" && utf8.RuneCountInString(text) <= MaxCaption {
		if media[0].Image != nil {
			media[0].Image.Caption = text
		} else {
			media[0].Document.Caption = text
		}
		text = ""
	}

	var reqs []sendRequest
	for _, part := range splitText(text, MaxText) {
		reqs = append(reqs, sendRequest{MessagingProduct: "whatsapp", RecipientType: "individual", To: to,
			Type: "text", Text: &textBody{Body: part}})
	}
	reqs = append(reqs, media...)

	first := ""
	for _, r := range reqs {
		id, err := w.sendOne(ctx, acc, pnid, r)
		if err != nil {
			return "", err
		}
		if first == "" {
			first = id
		}
	}
	return first, nil
}

func (w *WhatsApp) sendOne(ctx context.Context, acc messenger.Account, pnid string, r sendRequest) (string, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return "", &messenger.SendError{Permanent: true, Reason: "The reply cannot be encoded"}
	}
	res, err := w.call(ctx, acc, http.MethodPost, w.endpoint(pnid, "messages"), "application/json", body)
	if err != nil {
		return "", err
	}
	if res.Status/100 != 2 {
		return "", sendError(res, acc)
	}
	var ok struct {
		Messages []struct {
			ID string `json:"id"`
		} `json:"messages"`
	}
	if json.Unmarshal(res.Body, &ok) != nil || len(ok.Messages) == 0 || ok.Messages[0].ID == "" {
		return "", &messenger.SendError{Reason: "the WhatsApp Cloud API gave no message id"}
	}
	return ok.Messages[0].ID, nil
}

// upload posts one file to /{pnid}/media and returns its media id.
func (w *WhatsApp) upload(ctx context.Context, acc messenger.Account, pnid string, f messenger.File, contentType string) (string, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("messaging_product", "whatsapp")
	_ = mw.WriteField("type", contentType)
	name := cleanFilename(f.Filename)
	if name == "" {
		name = generatedName("file", "", contentType)
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", mime.FormatMediaType("form-data", map[string]string{"name": "file", "filename": name}))
	h.Set("Content-Type", contentType)
	part, err := mw.CreatePart(h)
	if err != nil {
		return "", &messenger.SendError{Permanent: true, Reason: "The attached file cannot be encoded"}
	}
	_, _ = part.Write(f.Data)
	_ = mw.Close()

	res, err := w.call(ctx, acc, http.MethodPost, w.endpoint(pnid, "media"), mw.FormDataContentType(), buf.Bytes())
	if err != nil {
		return "", err
	}
	if res.Status/100 != 2 {
		return "", sendError(res, acc)
	}
	id := meta.ParseObject(res.Body).Str("id")
	if id == "" {
		return "", &messenger.SendError{Reason: "the WhatsApp Cloud API gave no media id"}
	}
	return id, nil
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
