package messenger

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	msgr "github.com/switchboard-hq/switchboard/internal/messenger"
	"github.com/switchboard-hq/switchboard/internal/messenger/meta"
)

// Errors of Fetch.
var (
	ErrHostNotAllowed = errors.New("messenger: media host not allowed")
	ErrTooLarge       = errors.New("messenger: media file too large")
)

// Fetch downloads a client's file from the CDN URL its webhook named, with a
// plain GET (no token), only from Meta's CDN hosts (or the configured base
// URL's host), at most messenger.MaxFile bytes. The URLs expire: the
// receiver fetches right after the webhook.
func (m *Messenger) Fetch(ctx context.Context, acc msgr.Account, f msgr.FileRef) (msgr.File, error) {
	if f.Size > msgr.MaxFile {
		return msgr.File{}, fmt.Errorf("%w: %d bytes", ErrTooLarge, f.Size)
	}
	u, err := url.Parse(f.ID)
	if err != nil || u.Host == "" {
		return msgr.File{}, errors.New("messenger: invalid media URL")
	}
	if !m.mediaHostAllowed(u) {
		return msgr.File{}, fmt.Errorf("%w: %q", ErrHostNotAllowed, meta.Clip(u.Hostname(), 100))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return msgr.File{}, errors.New("messenger: invalid media URL")
	}
	client := *m.client
	client.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		if !m.mediaHostAllowed(r.URL) {
			return fmt.Errorf("%w: %q", ErrHostNotAllowed, meta.Clip(r.URL.Hostname(), 100))
		}
		return nil
	}
	resp, err := client.Do(req)
	if err != nil {
		return msgr.File{}, &netError{Msg: "messenger: media download: " + redact(transportText(err), acc), Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return msgr.File{}, fmt.Errorf("messenger: media download from %s: HTTP %d", meta.Clip(u.Hostname(), 100), resp.StatusCode)
	}
	if resp.ContentLength > msgr.MaxFile {
		return msgr.File{}, fmt.Errorf("%w: %d bytes", ErrTooLarge, resp.ContentLength)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, msgr.MaxFile+1))
	if err != nil {
		return msgr.File{}, &netError{Msg: "messenger: media download: " + redact(err.Error(), acc), Err: err}
	}
	if len(data) > msgr.MaxFile {
		return msgr.File{}, ErrTooLarge
	}
	ct := f.ContentType
	if ct == "" {
		ct = baseType(resp.Header.Get("Content-Type"))
	}
	if ct == "" || ct == "application/octet-stream" {
		ct = baseType(http.DetectContentType(data))
	}
	name := f.Filename
	if name == "" {
		name = "file" + extensions[ct]
	}
	return msgr.File{Filename: name, ContentType: ct, Data: data}, nil
}

// mediaHostAllowed admits the configured base URL's host (scheme and port
// as configured) and https on Meta's CDNs: fbcdn.net and fbsbx.com and
// their subdomains.
func (m *Messenger) mediaHostAllowed(u *url.URL) bool {
	if u == nil || u.User != nil {
		return false
	}
	if (u.Scheme == "http" || u.Scheme == "https") && u.Scheme == m.base.Scheme && strings.EqualFold(u.Host, m.base.Host) {
		return true
	}
	if u.Scheme != "https" || (u.Port() != "" && u.Port() != "443") {
		return false
	}
	h := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	for _, d := range []string{"fbcdn.net", "fbsbx.com"} {
		if h == d || strings.HasSuffix(h, "."+d) {
			return true
		}
	}
	return false
}

// Profile asks the User Profile API for a client's name and picture. A
// Page that may not see the profile (privacy, a deleted user) gets
// "Facebook user NNNN" (the PSID's last four digits); the picture's URL
// expires, so it is for downloading, not for linking.
func (m *Messenger) Profile(ctx context.Context, acc msgr.Account, psid string) (msgr.Profile, error) {
	if !isDigits(psid) {
		return msgr.Profile{}, errors.New("messenger: invalid sender id")
	}
	q := url.Values{"fields": {"first_name,last_name,profile_pic"}}
	res, err := m.call(ctx, acc, http.MethodGet, m.endpoint(q, psid), "", nil)
	if err != nil {
		return msgr.Profile{}, err
	}
	if res.Status != http.StatusOK {
		ge := graphErrorOf(res)
		if ge != nil && (ge.Code == 100 || ge.Code == 10 || (ge.Code >= 200 && ge.Code <= 299)) {
			return msgr.Profile{Name: fallbackName(psid)}, nil
		}
		if ge != nil {
			return msgr.Profile{}, fmt.Errorf("messenger: profile: error %d: %s", ge.Code, redact(ge.text(), acc))
		}
		return msgr.Profile{}, fmt.Errorf("messenger: profile: HTTP %d", res.Status)
	}
	p := meta.ParseObject(res.Body)
	if p == nil {
		return msgr.Profile{}, errors.New("messenger: profile: unreadable answer")
	}
	name := strings.TrimSpace(strings.TrimSpace(p.Str("first_name")) + " " + strings.TrimSpace(p.Str("last_name")))
	if name == "" {
		name = fallbackName(psid)
	}
	out := msgr.Profile{Name: meta.Clip(name, 200)}
	if pic, err := url.Parse(p.Str("profile_pic")); err == nil && pic.Scheme == "https" && pic.Host != "" {
		out.AvatarURL = pic.String()
	}
	return out, nil
}

// fallbackName names a client whose profile Meta does not show.
func fallbackName(psid string) string {
	return "Facebook user " + psid[max(0, len(psid)-4):]
}
