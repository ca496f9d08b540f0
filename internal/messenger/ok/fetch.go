package ok

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
	ErrHostNotAllowed = errors.New("ok: file host not allowed")
	ErrTooLarge       = errors.New("ok: file too large")
)

// mediaDomains are OK's own domains (site and CDNs); their subdomains serve
// the files clients send.
var mediaDomains = []string{"ok.ru", "odnoklassniki.ru", "mycdn.me", "okcdn.ru"}

// Fetch downloads a client's file from the URL the webhook named (FileRef.ID)
// only from OK's hosts (https) or the configured base URL's host, at most
// messenger.MaxFile bytes. OK's file URLs are signed: no token is sent.
func (o *OK) Fetch(ctx context.Context, acc messenger.Account, f messenger.FileRef) (messenger.File, error) {
	if f.Size > messenger.MaxFile {
		return messenger.File{}, fmt.Errorf("%w: %d bytes", ErrTooLarge, f.Size)
	}
	u, err := url.Parse(f.ID)
	if err != nil || u.Host == "" {
		return messenger.File{}, errors.New("ok: the file has no download URL")
	}
	if !o.mediaHostAllowed(u) {
		return messenger.File{}, fmt.Errorf("%w: %q", ErrHostNotAllowed, clip(u.Hostname(), 100))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return messenger.File{}, errors.New("ok: bad download URL")
	}
	client := *o.client
	client.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		if !o.mediaHostAllowed(r.URL) {
			return fmt.Errorf("%w: %q", ErrHostNotAllowed, clip(r.URL.Hostname(), 100))
		}
		return nil
	}
	resp, err := client.Do(req)
	if err != nil {
		return messenger.File{}, cleanNetError("ok: file download: ", err, acc.Secrets[FieldAccessToken])
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return messenger.File{}, fmt.Errorf("ok: file download: HTTP %d", resp.StatusCode)
	}
	if resp.ContentLength > messenger.MaxFile {
		return messenger.File{}, fmt.Errorf("%w: %d bytes", ErrTooLarge, resp.ContentLength)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, messenger.MaxFile+1))
	if err != nil {
		return messenger.File{}, cleanNetError("ok: file download: ", err, acc.Secrets[FieldAccessToken])
	}
	if len(data) > messenger.MaxFile {
		return messenger.File{}, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, messenger.MaxFile)
	}

	ct := baseType(f.ContentType)
	if ct == "" {
		if h := baseType(resp.Header.Get("Content-Type")); strings.Contains(h, "/") && h != "application/octet-stream" && h != "text/html" {
			ct = h
		}
	}
	if ct == "" && f.Filename != "" {
		ct = baseType(mime.TypeByExtension(path.Ext(f.Filename)))
	}
	if ct == "" {
		ct = baseType(http.DetectContentType(data))
	}
	name := cleanFilename(f.Filename)
	if name == "" {
		name = "file"
	}
	if path.Ext(name) == "" {
		name += extension(ct)
	}
	return messenger.File{Filename: name, ContentType: ct, Data: data}, nil
}

// mediaHostAllowed admits the configured base URL's host (as configured)
// and https on OK's domains and their subdomains.
func (o *OK) mediaHostAllowed(u *url.URL) bool {
	if u == nil || u.User != nil {
		return false
	}
	if (u.Scheme == "http" || u.Scheme == "https") && u.Scheme == o.base.Scheme && strings.EqualFold(u.Host, o.base.Host) {
		return true
	}
	if u.Scheme != "https" || (u.Port() != "" && u.Port() != "443") {
		return false
	}
	h := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	for _, d := range mediaDomains {
		if h == d || strings.HasSuffix(h, "."+d) {
			return true
		}
	}
	return false
}

var extensions = map[string]string{
	"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/gif": ".gif",
	"video/mp4": ".mp4", "video/webm": ".webm", "video/quicktime": ".mov",
	"audio/ogg": ".ogg", "audio/mpeg": ".mp3", "audio/mp4": ".m4a", "audio/aac": ".aac", "audio/wav": ".wav",
	"application/pdf": ".pdf", "text/plain": ".txt", "text/csv": ".csv", "application/zip": ".zip",
}

// extension maps a MIME type to a file extension ("" when unknown).
func extension(contentType string) string {
	return extensions[baseType(contentType)]
}
