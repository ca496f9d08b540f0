package whatsapp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/switchboard-hq/switchboard/internal/messenger"
	"github.com/switchboard-hq/switchboard/internal/messenger/meta"
)

// Errors of Fetch.
var (
	ErrHostNotAllowed = errors.New("whatsapp: media host not allowed")
	ErrTooLarge       = errors.New("whatsapp: media file too large")
	ErrChecksum       = errors.New("whatsapp: media sha256 does not match")
)

// Fetch downloads a client's file: the Graph API names a short-lived URL,
// which is read with the same bearer token, only from Meta's media hosts (or
// the configured base URL's host), at most messenger.MaxFile bytes.
func (w *WhatsApp) Fetch(ctx context.Context, acc messenger.Account, f messenger.FileRef) (messenger.File, error) {
	if !validMediaID(f.ID) {
		return messenger.File{}, errors.New("whatsapp: invalid media id")
	}
	if f.Size > messenger.MaxFile {
		return messenger.File{}, ErrTooLarge
	}
	res, err := w.call(ctx, acc, http.MethodGet, w.endpoint(f.ID), "", nil)
	if err != nil {
		return messenger.File{}, err
	}
	if res.Status != http.StatusOK {
		if ge := graphErrorOf(res); ge != nil {
			return messenger.File{}, fmt.Errorf("whatsapp: media %s: error %d: %s", f.ID, ge.Code, redact(ge.text(), acc))
		}
		return messenger.File{}, fmt.Errorf("whatsapp: media %s: HTTP %d", f.ID, res.Status)
	}
	info := meta.ParseObject(res.Body)
	if size, err := strconv.ParseInt(info.Str("file_size"), 10, 64); err == nil && size > messenger.MaxFile {
		return messenger.File{}, fmt.Errorf("%w: %d bytes", ErrTooLarge, size)
	}
	u, err := url.Parse(info.Str("url"))
	if err != nil || u.Host == "" {
		return messenger.File{}, fmt.Errorf("whatsapp: media %s: no download URL", f.ID)
	}
	if !w.mediaHostAllowed(u) {
		return messenger.File{}, fmt.Errorf("%w: %q", ErrHostNotAllowed, meta.Clip(u.Hostname(), 100))
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return messenger.File{}, fmt.Errorf("whatsapp: media %s: bad download URL", f.ID)
	}
	req.Header.Set("Authorization", "Bearer "+acc.Secrets[FieldAccessToken])
	client := *w.client
	client.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		if !w.mediaHostAllowed(r.URL) {
			return fmt.Errorf("%w: %q", ErrHostNotAllowed, meta.Clip(r.URL.Hostname(), 100))
		}
		return nil
	}
	resp, err := client.Do(req)
	if err != nil {
		return messenger.File{}, &netError{Msg: "whatsapp: media download: " + redact(err.Error(), acc), Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return messenger.File{}, fmt.Errorf("whatsapp: media download: HTTP %d", resp.StatusCode)
	}
	if resp.ContentLength > messenger.MaxFile {
		return messenger.File{}, fmt.Errorf("%w: %d bytes", ErrTooLarge, resp.ContentLength)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, messenger.MaxFile+1))
	if err != nil {
		return messenger.File{}, &netError{Msg: "whatsapp: media download: " + redact(err.Error(), acc), Err: err}
	}
	if len(data) > messenger.MaxFile {
		return messenger.File{}, ErrTooLarge
	}
	if want := decodeSum(info.Str("sha256")); want != nil {
		got := sha256.Sum256(data)
		if !bytes.Equal(want, got[:]) {
			return messenger.File{}, ErrChecksum
		}
	}

	ct := f.ContentType
	if ct == "" {
		ct = info.Str("mime_type")
	}
	if ct == "" {
		ct = resp.Header.Get("Content-Type")
	}
	name := f.Filename
	if name == "" {
		name = generatedName("file", f.ID, ct)
	}
	return messenger.File{Filename: name, ContentType: ct, Data: data}, nil
}

// mediaHostAllowed admits the configured base URL's host (any port as
// configured) and https on lookaside.fbsbx.com or another subdomain of
// fbsbx.com or whatsapp.net.
func (w *WhatsApp) mediaHostAllowed(u *url.URL) bool {
	if u == nil || u.User != nil {
		return false
	}
	if (u.Scheme == "http" || u.Scheme == "https") && u.Scheme == w.base.Scheme && strings.EqualFold(u.Host, w.base.Host) {
		return true
	}
	if u.Scheme != "https" || (u.Port() != "" && u.Port() != "443") {
		return false
	}
	h := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	return h == "lookaside.fbsbx.com" || strings.HasSuffix(h, ".fbsbx.com") || strings.HasSuffix(h, ".whatsapp.net")
}

func validMediaID(id string) bool {
	if id == "" || len(id) > 128 || id == "." || id == ".." {
		return false
	}
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// decodeSum reads a SHA-256 given as hex or base64; nil if it is neither.
func decodeSum(s string) []byte {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	if b, err := hex.DecodeString(s); err == nil && len(b) == sha256.Size {
		return b
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == sha256.Size {
			return b
		}
	}
	return nil
}
