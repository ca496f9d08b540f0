package viber

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/switchboard-hq/switchboard/internal/messenger"
)

// Errors of Fetch.
var (
	ErrHostNotAllowed = errors.New("viber: media host not allowed")
	ErrTooLarge       = errors.New("viber: media file too large")
)

// Fetch downloads a client's file from the media URL of its callback (a
// signed, expiring link on Viber's CDN), only from Viber's hosts (https on
// viber.com or a subdomain) or the configured base URL's host, at most
// messenger.MaxFile bytes. The token is not sent: the links are public.
func (v *Viber) Fetch(ctx context.Context, _ messenger.Account, f messenger.FileRef) (messenger.File, error) {
	if f.Size > messenger.MaxFile {
		return messenger.File{}, fmt.Errorf("%w: %d bytes", ErrTooLarge, f.Size)
	}
	u, err := url.Parse(f.ID)
	if err != nil || u.Host == "" {
		return messenger.File{}, errors.New("viber: the file has no download link")
	}
	if !v.mediaHostAllowed(u) {
		return messenger.File{}, fmt.Errorf("%w: %q", ErrHostNotAllowed, clip(u.Hostname(), 100))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return messenger.File{}, errors.New("viber: bad download link")
	}
	client := *v.client
	client.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		if !v.mediaHostAllowed(r.URL) {
			return fmt.Errorf("%w: %q", ErrHostNotAllowed, clip(r.URL.Hostname(), 100))
		}
		return nil
	}
	resp, err := client.Do(req)
	if err != nil {
		return messenger.File{}, fmt.Errorf("viber: media download from %s: %w", clip(u.Hostname(), 100), unwrapURL(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return messenger.File{}, fmt.Errorf("viber: media download: HTTP %d (the link may have expired)", resp.StatusCode)
	}
	if resp.ContentLength > messenger.MaxFile {
		return messenger.File{}, fmt.Errorf("%w: %d bytes", ErrTooLarge, resp.ContentLength)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, messenger.MaxFile+1))
	if err != nil {
		return messenger.File{}, fmt.Errorf("viber: media download: %w", unwrapURL(err))
	}
	if len(data) > messenger.MaxFile {
		return messenger.File{}, ErrTooLarge
	}

	ct := f.ContentType
	if ct == "" || ct == "application/octet-stream" {
		if h, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err == nil &&
			strings.Contains(h, "/") && h != "application/octet-stream" && !strings.HasPrefix(h, "text/") {
			ct = h
		} else {
			ct = http.DetectContentType(data)
		}
	}
	name := f.Filename
	if name == "" {
		name = cleanFilename(path.Base(u.Path))
	}
	if name == "" {
		name = "file"
	}
	return messenger.File{Filename: name, ContentType: ct, Data: data}, nil
}

// mediaHostAllowed admits the configured base URL's scheme and host, and
// https (port 443) on viber.com and its subdomains.
func (v *Viber) mediaHostAllowed(u *url.URL) bool {
	if u == nil || u.User != nil {
		return false
	}
	if (u.Scheme == "http" || u.Scheme == "https") && u.Scheme == v.host.Scheme && strings.EqualFold(u.Host, v.host.Host) {
		return true
	}
	if u.Scheme != "https" || (u.Port() != "" && u.Port() != "443") {
		return false
	}
	h := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	return h == "viber.com" || strings.HasSuffix(h, ".viber.com")
}

// unwrapURL drops the URL from a transport error: media links carry
// signatures that have no place in logs.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}
