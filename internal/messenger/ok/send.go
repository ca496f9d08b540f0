package ok

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchboard-hq/switchboard/internal/messenger"
)

// The body of POST /me/messages/{chat_id} (send_request_*.json).
type (
	sendRequest struct {
		Recipient recipient   `json:"recipient"`
		Message   messageBody `json:"message"`
	}
	recipient struct {
		ChatID string `json:"chat_id"`
	}
	messageBody struct {
		Text       string          `json:"text,omitempty"`
		Attachment *attachmentBody `json:"attachment,omitempty"`
	}
	attachmentBody struct {
		Type    string       `json:"type"`
		Payload tokenPayload `json:"payload"`
	}
	tokenPayload struct {
		Token string `json:"token"`
	}
)

// Reasons shown to the agent.
const (
	// NotAllowedReason explains OK's PERMISSION_DENIED on a send.
	NotAllowedReason = "The client does not accept messages from the group (they have not allowed them, or left the chat)"
	// BrokenReason explains a token OK no longer accepts.
	BrokenReason = "OK no longer accepts the group's access token: reconnect the channel with a new token"
)

// Send delivers m to the chat `to` ("chat:…") and returns the id of the
// first message sent (OK's message_id, "" when OK's answer names none).
// Text goes first, in parts of at most MaxText runes; then one message per
// file. Every file is uploaded before anything is sent.
func (o *OK) Send(ctx context.Context, acc messenger.Account, to string, m messenger.Outgoing) (string, error) {
	token := acc.Secrets[FieldAccessToken]
	if !validToken(token) {
		return "", &messenger.SendError{Permanent: true, Broken: true, Reason: "The OK channel has no valid access token: reconnect it"}
	}
	chat := strings.TrimSpace(to)
	if !validChatID(chat) {
		return "", &messenger.SendError{Permanent: true, Reason: "Not an OK chat id: " + clip(strings.Map(dropControl, to), 40)}
	}
	text := m.Text
	if strings.TrimSpace(text) == "" {
		text = ""
	}
	parts := splitText(text, MaxText)
	if len(parts) == 0 && len(m.Files) == 0 {
		return "", &messenger.SendError{Permanent: true, Reason: "The reply is empty"}
	}

	atts := make([]*attachmentBody, 0, len(m.Files))
	for _, f := range m.Files {
		if len(f.Data) == 0 {
			return "", &messenger.SendError{Permanent: true, Reason: "The attached file " + clip(cleanFilename(f.Filename), 100) + " is empty"}
		}
		a, err := o.upload(ctx, acc, token, f)
		if err != nil {
			return "", err
		}
		atts = append(atts, a)
	}

	first := ""
	send := func(body messageBody) error {
		id, err := o.post(ctx, acc, token, chat, body)
		if err == nil && first == "" {
			first = id
		}
		return err
	}
	for _, p := range parts {
		if err := send(messageBody{Text: p}); err != nil {
			return "", err
		}
	}
	for _, a := range atts {
		if err := send(messageBody{Attachment: a}); err != nil {
			return "", err
		}
	}
	return first, nil
}

// post sends one message. An attachment OK is still processing is sent
// again after the readyWaits pauses.
func (o *OK) post(ctx context.Context, acc messenger.Account, token, chat string, body messageBody) (string, error) {
	req := sendRequest{Recipient: recipient{ChatID: chat}, Message: body}
	for attempt := 0; ; attempt++ {
		res, err := o.call(ctx, token, http.MethodPost, "me/messages/"+url.PathEscape(chat), nil, req)
		if err != nil {
			return "", err // a network error: the outbox retries
		}
		ae := res.apiError()
		if ae == nil {
			answer := object(res.body)
			if ok, present := answer.boolean("success"); present && !ok {
				return "", &messenger.SendError{Permanent: true, Reason: "OK did not send the message (success: false)"}
			}
			id := strings.TrimSpace(answer.str("message_id"))
			if id == "" {
				id = strings.TrimSpace(answer.str("mid"))
			}
			if !validID(id) {
				id = ""
			}
			return id, nil
		}
		if body.Attachment == nil || !ae.notReady() || attempt >= len(o.readyWaits) {
			return "", sendError(ae, acc)
		}
		timer := time.NewTimer(o.readyWaits[attempt])
		select {
		case <-ctx.Done():
			timer.Stop()
			return "", ctx.Err()
		case <-timer.C:
		}
	}
}

// sendError turns a failed answer into what the outbox decides on.
func sendError(ae *apiError, acc messenger.Account) *messenger.SendError {
	detail := redact(ae.text(), acc)
	switch {
	case ae.tokenInvalid():
		return &messenger.SendError{Permanent: true, Broken: true, Reason: BrokenReason + " (" + detail + ")"}
	case ae.rateLimited():
		wait := ae.retryAfter
		if wait <= 0 {
			wait = RateLimitWait
		}
		return &messenger.SendError{RetryAfter: wait, Reason: "OK's rate limit was reached (" + detail + ")"}
	case ae.notReady():
		return &messenger.SendError{RetryAfter: 10 * time.Second, Reason: "OK is still processing the attached file (" + detail + ")"}
	case ae.temporary():
		return &messenger.SendError{RetryAfter: ae.retryAfter, Reason: "OK is unavailable (" + detail + ")"}
	case ae.code == 10 || strings.Contains(ae.name, "PERMISSION_DENIED") || strings.Contains(ae.name, "NOT_ALLOWED"):
		return &messenger.SendError{Permanent: true, Reason: NotAllowedReason + " (" + detail + ")"}
	case ae.code == 300 || strings.Contains(ae.name, "NOT_FOUND"):
		return &messenger.SendError{Permanent: true, Reason: "OK does not know this chat; the client may have deleted it (" + detail + ")"}
	}
	return &messenger.SendError{Permanent: true, Reason: "OK refused the message: " + detail}
}

// errNoImageToken: the image upload answered no token; the file goes as FILE.
var errNoImageToken = errors.New("ok: no token in the image upload answer")

// upload sends one file through OK's upload flow and returns the attachment
// to send: JPEG, PNG and GIF images as IMAGE, anything else as FILE.
func (o *OK) upload(ctx context.Context, acc messenger.Account, token string, f messenger.File) (*attachmentBody, error) {
	ct := baseType(f.ContentType)
	if ct == "" || ct == "application/octet-stream" {
		ct = baseType(http.DetectContentType(f.Data))
	}
	if ct == "image/jpeg" || ct == "image/png" || ct == "image/gif" {
		a, err := o.uploadAs(ctx, acc, token, f, ct, "IMAGE")
		if !errors.Is(err, errNoImageToken) {
			return a, err
		}
	}
	return o.uploadAs(ctx, acc, token, f, ct, "FILE")
}

// uploadAs: GET /me/fileUploadUrl?type=typ names an upload URL (and, for
// FILE, the attachment token); the file is POSTed there as multipart "file"
// with its real type; an IMAGE's token comes back in the upload's answer
// ({"photos":{"<id>":{"token":"…"}}}).
func (o *OK) uploadAs(ctx context.Context, acc messenger.Account, token string, f messenger.File, ct, typ string) (*attachmentBody, error) {
	res, err := o.call(ctx, token, http.MethodGet, "me/fileUploadUrl", url.Values{"type": {typ}}, nil)
	if err != nil {
		return nil, err
	}
	if ae := res.apiError(); ae != nil {
		return nil, sendError(ae, acc)
	}
	info := object(res.body)
	upURL, attToken := strings.TrimSpace(info.str("url")), strings.TrimSpace(info.str("token"))
	if !fileURL(upURL) {
		return nil, &messenger.SendError{Reason: "OK gave no upload URL for the attached file"}
	}

	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	name := cleanFilename(f.Filename)
	if name == "" {
		name = "file" + extension(ct)
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", mime.FormatMediaType("form-data", map[string]string{"name": "file", "filename": name}))
	h.Set("Content-Type", ct)
	part, err := mw.CreatePart(h)
	if err != nil {
		return nil, &messenger.SendError{Permanent: true, Reason: "The attached file cannot be encoded"}
	}
	_, _ = part.Write(f.Data)
	_ = mw.Close()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, upURL, bytes.NewReader(buf.Bytes()))
	if err != nil {
		return nil, &messenger.SendError{Reason: "OK gave an unusable upload URL"}
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := o.client.Do(req)
	if err != nil {
		return nil, cleanNetError("ok: file upload: ", err, token)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, cleanNetError("ok: file upload: ", err, token)
	}
	up := &result{status: resp.StatusCode, header: resp.Header, body: data}
	if ae := up.apiError(); ae != nil {
		if ae.code == 0 && ae.msg == "" && ae.status < 500 && ae.status != http.StatusTooManyRequests {
			return nil, &messenger.SendError{Permanent: true, Reason: fmt.Sprintf("OK refused the attached file %s (HTTP %d)", clip(name, 100), ae.status)}
		}
		return nil, sendError(ae, acc)
	}
	if typ == "IMAGE" {
		for _, raw := range object(data).obj("photos") {
			if t := strings.TrimSpace(object(raw).str("token")); t != "" {
				return &attachmentBody{Type: typ, Payload: tokenPayload{Token: t}}, nil
			}
		}
		if attToken == "" {
			return nil, errNoImageToken
		}
	}
	if attToken == "" {
		return nil, &messenger.SendError{Reason: "OK gave no token for the uploaded file"}
	}
	return &attachmentBody{Type: typ, Payload: tokenPayload{Token: attToken}}, nil
}

// baseType is a MIME type without parameters, lower case.
func baseType(ct string) string {
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		return mt
	}
	return strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
}

// splitText cuts s into parts of at most limit runes, at a line break or a
// space in the second half of a part where there is one. Whitespace-only
// parts are dropped.
func splitText(s string, limit int) []string {
	var out []string
	add := func(p string) {
		if strings.TrimSpace(p) != "" {
			out = append(out, p)
		}
	}
	for utf8.RuneCountInString(s) > limit {
		cut, n := 0, 0
		for cut < len(s) && n < limit {
			_, size := utf8.DecodeRuneInString(s[cut:])
			cut += size
			n++
		}
		head, next := s[:cut], cut
		if i := strings.LastIndexByte(head, '\n'); i >= len(head)/2 {
			head, next = head[:i], i+1
		} else if i := strings.LastIndexByte(head, ' '); i >= len(head)/2 {
			head, next = head[:i], i+1
		}
		add(head)
		s = s[next:]
	}
	add(s)
	return out
}
