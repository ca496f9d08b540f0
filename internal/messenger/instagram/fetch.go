package instagram

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/switchboard-hq/switchboard/internal/messenger"
	"github.com/switchboard-hq/switchboard/internal/messenger/meta"
)

// Errors of Fetch.
var (
	ErrHostNotAllowed = errors.New("instagram: media host not allowed")
	ErrTooLarge       = errors.New("instagram: media file too large")
)

// Fetch downloads a client's file: the webhook named its URL on Meta's CDN
// (FileRef.ID), which is read with a plain GET (no token is sent), only from
// Meta's media hosts (or the configured base URL's host), at most
// messenger.MaxFile bytes. The URLs expire (stories within 24 hours).
func (g *Instagram) Fetch(ctx context.Context, acc messenger.Account, f messenger.FileRef) (messenger.File, error) {
	if f.Size > messenger.MaxFile {
		return messenger.File{}, ErrTooLarge
	}
	u, err := url.Parse(f.ID)
	if err != nil || u.Host == "" || len(f.ID) > 4096 {
		return messenger.File{}, errors.New("instagram: invalid media URL")
	}
	if !g.mediaHostAllowed(u) {
		return messenger.File{}, fmt.Errorf("%w: %q", ErrHostNotAllowed, meta.Clip(u.Hostname(), 100))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return messenger.File{}, errors.New("instagram: invalid media URL")
	}
	client := *g.client
	client.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		if !g.mediaHostAllowed(r.URL) {
			return fmt.Errorf("%w: %q", ErrHostNotAllowed, meta.Clip(r.URL.Hostname(), 100))
		}
		return nil
	}
	resp, err := client.Do(req)
	if err != nil {
		// The URL's own text (with its CDN signature) stays out of the error.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return messenger.File{}, &netError{Msg: "instagram: media download from " + meta.Clip(u.Hostname(), 100) + ": " + redact(err.Error(), acc), Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return messenger.File{}, fmt.Errorf("instagram: media download: HTTP %d (the link may have expired)", resp.StatusCode)
	}
	if resp.ContentLength > messenger.MaxFile {
		return messenger.File{}, fmt.Errorf("%w: %d bytes", ErrTooLarge, resp.ContentLength)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, messenger.MaxFile+1))
	if err != nil {
		return messenger.File{}, &netError{Msg: "instagram: media download: " + redact(err.Error(), acc), Err: err}
	}
	if len(data) > messenger.MaxFile {
		return messenger.File{}, ErrTooLarge
	}

	ct := baseType(resp.Header.Get("Content-Type"))
	if ct == "" || ct == "application/octet-stream" {
		if f.ContentType != "" {
			ct = baseType(f.ContentType)
		} else {
			ct = baseType(http.DetectContentType(data))
		}
	}
	name := ""
	if _, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); err == nil {
		name = cleanFilename(params["filename"])
	}
	if name == "" {
		name = cleanFilename(f.Filename)
		if name == "" {
			name = "file"
		}
		name = withExtension(name, ct)
	}
	return messenger.File{Filename: name, ContentType: ct, Data: data}, nil
}

// mediaHostAllowed admits the configured base URL's host (as configured)
// and https on Meta's media hosts: lookaside.fbsbx.com and the other
// subdomains of fbsbx.com, fbcdn.net and cdninstagram.com.
func (g *Instagram) mediaHostAllowed(u *url.URL) bool {
	if u == nil || u.User != nil {
		return false
	}
	if (u.Scheme == "http" || u.Scheme == "https") && u.Scheme == g.base.Scheme && strings.EqualFold(u.Host, g.base.Host) {
		return true
	}
	if u.Scheme != "https" || (u.Port() != "" && u.Port() != "443") {
		return false
	}
	h := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	for _, suffix := range []string{".fbsbx.com", ".fbcdn.net", ".cdninstagram.com"} {
		if strings.HasSuffix(h, suffix) {
			return true
		}
	}
	return false
}
