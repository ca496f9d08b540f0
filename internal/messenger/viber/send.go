package viber

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/switchboard-hq/switchboard/internal/messenger"
)

// Reasons shown to the agent for the refusals a team meets.
const (
	NotSubscribedReason = "The client has unsubscribed from the Viber bot (or never subscribed): Viber allows replies only after they write to the bot again"
	NoFileLinksReason   = "Viber takes files only as public links, and this Switchboard does not publish files: send the text alone, or the file another way"
)

type sendRequest struct {
	Receiver      string     `json:"receiver"`
	MinAPIVersion int        `json:"min_api_version"`
	Sender        senderInfo `json:"sender"`
	Type          string     `json:"type"`
	Text          *string    `json:"text,omitempty"`
	Media         string     `json:"media,omitempty"`
	Size          int64      `json:"size,omitempty"`
	FileName      string     `json:"file_name,omitempty"`
}

type senderInfo struct {
	Name   string `json:"name"`
	Avatar string `json:"avatar,omitempty"`
}

// Send delivers m to the subscriber `to` and returns the message_token of
// the first message sent. Text goes first; a single picture takes a short
// text as its caption.
func (v *Viber) Send(ctx context.Context, acc messenger.Account, to string, m messenger.Outgoing) (string, error) {
	token := acc.Secrets[FieldToken]
	if !validToken(token) {
		return "", &messenger.SendError{Permanent: true, Broken: true, Reason: "The channel has no valid Viber token: reconnect it"}
	}
	to = strings.TrimSpace(to)
	if !validUserID(to) {
		return "", &messenger.SendError{Permanent: true, Reason: "Not a Viber subscriber id: " + clip(strings.ToValidUTF8(to, "?"), 40)}
	}
	text := m.Text
	if strings.TrimSpace(text) == "" {
		text = ""
	}
	if text == "" && len(m.Files) == 0 {
		return "", &messenger.SendError{Permanent: true, Reason: "The reply is empty"}
	}
	if len(m.Files) > 0 && v.link == nil {
		return "", &messenger.SendError{Permanent: true, Reason: NoFileLinksReason}
	}
	for _, f := range m.Files {
		if len(f.Data) > MaxFileSend {
			return "", &messenger.SendError{Permanent: true, Reason: fmt.Sprintf("%s is larger than Viber's %d MB file limit", cleanFilename(f.Filename), MaxFileSend>>20)}
		}
	}
	base := sendRequest{Receiver: to, MinAPIVersion: 1, Sender: sender(acc)}

	// Publish every file first: a file that cannot be published sends nothing.
	media := make([]sendRequest, 0, len(m.Files))
	for _, f := range m.Files {
		link, err := v.link(ctx, f)
		if err != nil {
			return "", fmt.Errorf("viber: publishing %s for Viber: %w", cleanFilename(f.Filename), err)
		}
		if !httpsURL(link) {
			return "", &messenger.SendError{Permanent: true, Reason: "Viber needs an https:// link to the file; Switchboard's file links are not HTTPS"}
		}
		r := base
		r.Media = link
		if isPicture(f) {
			r.Type, r.Text = "picture", ptr("")
		} else {
			name := cleanFilename(f.Filename)
			if name == "" {
				name = "file"
			}
			r.Type, r.Size, r.FileName = "file", int64(len(f.Data)), clipRunes(name, MaxFileName)
		}
		media = append(media, r)
	}
	if len(media) == 1 && media[0].Type == "picture" && text != "" && utf16Len(text) <= MaxCaption {
		media[0].Text, text = ptr(text), ""
	}
	var reqs []sendRequest
	for _, part := range splitText(text, MaxText, maxTextJSONBytes) {
		r := base
		r.Type, r.Text = "text", ptr(part)
		reqs = append(reqs, r)
	}
	reqs = append(reqs, media...)

	first := ""
	for _, r := range reqs {
		res, err := v.call(ctx, token, "send_message", r)
		if err != nil {
			return "", sendError(err)
		}
		id := res.id("message_token")
		if id == "" {
			return "", &messenger.SendError{Permanent: true, Reason: "Viber's answer has no message_token; the message may have been sent"}
		}
		if first == "" {
			first = id
		}
	}
	return first, nil
}

func ptr(s string) *string { return &s }

// sender is the name and picture replies are shown under: the ones set for
// the channel, else the bot's own.
func sender(acc messenger.Account) senderInfo {
	s := senderInfo{Name: strings.TrimSpace(acc.Public[FieldSenderName]), Avatar: strings.TrimSpace(acc.Public[FieldSenderAvatar])}
	if s.Name == "" {
		s.Name = strings.TrimSpace(acc.Public[FieldBotName])
	}
	if s.Name == "" {
		s.Name = "Support"
	}
	s.Name = clipRunes(s.Name, MaxSenderName)
	if s.Avatar == "" {
		s.Avatar = acc.Public[FieldBotIcon]
	}
	if !httpsURL(s.Avatar) {
		s.Avatar = ""
	}
	return s
}

// isPicture: JPEG or PNG up to MaxPicture, shown inline by Viber.
func isPicture(f messenger.File) bool {
	ct, _, _ := mime.ParseMediaType(f.ContentType)
	if ct == "" || ct == "application/octet-stream" {
		ct = http.DetectContentType(f.Data)
	}
	return (ct == "image/jpeg" || ct == "image/png") && len(f.Data) > 0 && len(f.Data) <= MaxPicture
}

// sendError turns a failed call into what the outbox decides on: network
// errors are returned as they are (retried), answers become *SendError.
func sendError(err error) error {
	var ae *apiError
	if !errors.As(err, &ae) {
		return fmt.Errorf("viber: %w", err)
	}
	if ae.code < 0 {
		if ae.httpStatus == http.StatusOK {
			return &messenger.SendError{Permanent: true, Reason: fmt.Sprintf("Viber's answer could not be read; the message may have been sent (HTTP %d %s)", ae.httpStatus, ae.message)}
		}
		if ae.httpStatus == http.StatusUnauthorized || ae.httpStatus == http.StatusForbidden {
			return &messenger.SendError{Permanent: true, Broken: true, Reason: fmt.Sprintf("Viber refused the channel's token (HTTP %d): reconnect the channel", ae.httpStatus)}
		}
		return &messenger.SendError{RetryAfter: ae.retryAfter, Reason: fmt.Sprintf("Viber is unavailable (HTTP %d %s)", ae.httpStatus, ae.message)}
	}
	detail := statusName(ae)
	switch ae.code {
	case 1:
		return &messenger.SendError{Permanent: true, Reason: "Viber refused a link in the message (" + detail + ")"}
	case 2:
		return &messenger.SendError{Permanent: true, Broken: true, Reason: "Viber no longer accepts the bot's token: reconnect the channel"}
	case 3, 4:
		return &messenger.SendError{Permanent: true, Reason: "Viber refused the message as malformed (" + detail + ")"}
	case 5:
		return &messenger.SendError{Permanent: true, Reason: "The client is no longer registered on Viber"}
	case 6:
		return &messenger.SendError{Permanent: true, Reason: NotSubscribedReason}
	case 7:
		return &messenger.SendError{Permanent: true, Broken: true, Reason: "The Viber bot is blocked (" + detail + ")"}
	case 8:
		return &messenger.SendError{Permanent: true, Broken: true, Reason: "Viber no longer knows the bot (" + detail + ")"}
	case 9:
		return &messenger.SendError{Permanent: true, Broken: true, Reason: "The Viber bot is suspended (" + detail + ")"}
	case 15:
		return &messenger.SendError{Permanent: true, Broken: true, Reason: "The Viber bot is not authorized (" + detail + ")"}
	case 10:
		return &messenger.SendError{Permanent: true, Broken: true, Reason: "The Viber bot has no webhook: reconnect the channel"}
	case 11:
		return &messenger.SendError{Permanent: true, Reason: "The client has no Viber device that can receive this message"}
	case 12:
		return &messenger.SendError{RetryAfter: tooManyWait, Reason: "Viber's rate limit (at most 100 messages an hour to a client who has not replied): " + detail}
	case 13, 14:
		return &messenger.SendError{Permanent: true, Reason: "The client's Viber version cannot show this message (" + detail + ")"}
	}
	return &messenger.SendError{Permanent: true, Reason: "Viber refused the message (" + detail + ")"}
}

// utf16Len counts like Viber's clients count text length.
func utf16Len(s string) int {
	n := 0
	for _, r := range s { // invalid UTF-8 comes as U+FFFD: one unit
		n += utf16.RuneLen(r)
	}
	return n
}

// jsonLen is the length of r inside a JSON string as encoding/json writes
// it without HTML escaping.
func jsonLen(r rune, size int) int {
	switch {
	case r == '"' || r == '\\' || r == '\n' || r == '\r' || r == '\t':
		return 2
	case r < 0x20, r == '\u2028', r == '\u2029', r == utf8.RuneError && size == 1:
		return 6
	}
	return size
}

// splitText cuts text into parts of at most units UTF-16 code units and
// bytes of JSON text, preferably after a line break, else after a space, else
// anywhere between runes. Whitespace-only parts are dropped.
func splitText(text string, units, bytes int) []string {
	var parts []string
	add := func(p string) {
		if strings.TrimSpace(p) != "" {
			parts = append(parts, p)
		}
	}
	for text != "" {
		// cut: the byte offset after the last rune that fits.
		cut, n, b := 0, 0, 0
		for cut < len(text) {
			r, size := utf8.DecodeRuneInString(text[cut:])
			n += utf16.RuneLen(r) // U+FFFD for invalid UTF-8: one unit
			b += jsonLen(r, size)
			if n > units || b > bytes {
				break
			}
			cut += size
		}
		if cut == len(text) {
			add(text)
			break
		}
		if cut == 0 { // cannot happen with sane limits; stay safe
			_, cut = utf8.DecodeRuneInString(text)
		}
		chunk := text[:cut]
		if i := strings.LastIndexByte(chunk, '\n'); i >= cut/2 {
			cut = i + 1
		} else if i := strings.LastIndexByte(chunk, ' '); i >= cut/2 {
			cut = i + 1
		}
		add(strings.TrimRight(text[:cut], " \n"))
		text = text[cut:]
	}
	return parts
}

// clipRunes shortens s to at most n runes.
func clipRunes(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}
