package vk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/switchboard-hq/switchboard/internal/messenger"
)

// Errors of Fetch.
var (
	ErrHostNotAllowed = errors.New("vk: file host not allowed")
	ErrTooLarge       = errors.New("vk: file too large")
)

// Hosts are the domains (and their subdomains) VK serves files and uploads
// from: vk.com and vk.ru, the userapi.com/vkuser… CDNs, mycdn.me.
var Hosts = []string{
	"vk.com", "vk.ru", "vk.me", "userapi.com", "vkuser.net", "vk-cdn.net",
	"vkuseraudio.net", "vkuservideo.net", "mycdn.me",
}

// Fetch downloads a client's file from the URL the callback named (FileRef.ID),
// only from VK's hosts (or the configured base URL's host), at most
// messenger.MaxFile bytes. VK's file URLs are signed: no token is sent.
func (v *VK) Fetch(ctx context.Context, acc messenger.Account, f messenger.FileRef) (messenger.File, error) {
	if f.Size > messenger.MaxFile {
		return messenger.File{}, fmt.Errorf("%w: %d bytes", ErrTooLarge, f.Size)
	}
	u, err := url.Parse(f.ID)
	if err != nil || u.Host == "" {
		return messenger.File{}, errors.New("vk: the file has no download URL")
	}
	if !v.hostAllowed(u) {
		return messenger.File{}, fmt.Errorf("%w: %q", ErrHostNotAllowed, clip(u.Hostname(), 100))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return messenger.File{}, errors.New("vk: bad download URL")
	}
	resp, err := v.restricted().Do(req)
	if err != nil {
		if errors.Is(err, ErrHostNotAllowed) {
			return messenger.File{}, fmt.Errorf("%w (redirect)", ErrHostNotAllowed)
		}
		return messenger.File{}, &netError{msg: "vk: file download: " + redact(stripQuery(err.Error(), u), acc), err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return messenger.File{}, fmt.Errorf("vk: file download: HTTP %d", resp.StatusCode)
	}
	if resp.ContentLength > messenger.MaxFile {
		return messenger.File{}, fmt.Errorf("%w: %d bytes", ErrTooLarge, resp.ContentLength)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, messenger.MaxFile+1))
	if err != nil {
		return messenger.File{}, &netError{msg: "vk: file download: reading the body", err: err}
	}
	if len(data) > messenger.MaxFile {
		return messenger.File{}, ErrTooLarge
	}
	name := f.Filename
	if name == "" {
		name = cleanFilename(path.Base(u.Path))
	}
	if name == "" {
		name = "file"
	}
	ct := f.ContentType
	if ct == "" {
		ct = baseType(resp.Header.Get("Content-Type"))
	}
	if ct == "" || ct == "application/octet-stream" {
		ct = http.DetectContentType(data)
	}
	return messenger.File{Filename: name, ContentType: ct, Data: data}, nil
}

// hostAllowed admits the configured base URL's host (scheme and port as
// configured) and https on VK's Hosts (default port only).
func (v *VK) hostAllowed(u *url.URL) bool {
	if u == nil || u.User != nil || u.Host == "" {
		return false
	}
	if (u.Scheme == "http" || u.Scheme == "https") && u.Scheme == v.base.Scheme && strings.EqualFold(u.Host, v.base.Host) {
		return true
	}
	if u.Scheme != "https" || (u.Port() != "" && u.Port() != "443") {
		return false
	}
	h := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	for _, d := range Hosts {
		if h == d || strings.HasSuffix(h, "."+d) {
			return true
		}
	}
	return false
}

// restricted is the client, following redirects only to allowed hosts.
func (v *VK) restricted() *http.Client {
	c := *v.client
	c.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		if !v.hostAllowed(r.URL) {
			return ErrHostNotAllowed
		}
		return nil
	}
	return &c
}

// Profile asks users.get who the client is: name, 100 px photo, and the
// profile link (by screen name where there is one).
func (v *VK) Profile(ctx context.Context, acc messenger.Account, senderID string) (messenger.Profile, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(senderID), 10, 64)
	if err != nil || id <= 0 || id >= ChatPeerBase {
		return messenger.Profile{}, fmt.Errorf("vk: not a user id: %q", clip(senderID, 40))
	}
	res, err := v.call(ctx, acc, "users.get", url.Values{
		"user_ids": {strconv.FormatInt(id, 10)}, "fields": {"photo_100,screen_name"}})
	if err != nil {
		return messenger.Profile{}, err
	}
	list := array(res)
	if len(list) == 0 {
		return messenger.Profile{}, fmt.Errorf("vk: users.get knows no user %d", id)
	}
	u := object(list[0])
	p := messenger.Profile{
		Name:       clip(strings.TrimSpace(strings.TrimSpace(u.str("first_name"))+" "+strings.TrimSpace(u.str("last_name"))), 200),
		ProfileURL: "https://vk.com/id" + strconv.FormatInt(id, 10),
	}
	if a := webURL(u.str("photo_100")); strings.HasPrefix(a, "https://") {
		p.AvatarURL = a
	}
	if s := u.str("screen_name"); validScreenName(s) {
		p.ProfileURL = "https://vk.com/" + s
	}
	return p, nil
}

func validScreenName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
