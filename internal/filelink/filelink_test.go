package filelink_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-hq/switchboard/internal/filelink"
)

func TestALinkOpensItsFileUntilItExpiresAndNothingElse(t *testing.T) {
	s := filelink.New([]byte("key"), "https://support.example.com/")
	now := time.Unix(1_800_000_000, 0)
	link := s.Link("files/abc.png", "image/png", "receipt.png", now, time.Hour)
	u, err := url.Parse(link)
	if err != nil || u.Host != "support.example.com" {
		t.Fatalf("link %q", link)
	}
	parts := strings.SplitN(strings.TrimPrefix(u.Path, "/files/"), "/", 3)
	exp, sig, blob := parts[0], parts[1], parts[2]
	typ, name := u.Query().Get("type"), u.Query().Get("name")
	if !s.Valid(blob, typ, name, exp, sig, now.Add(59*time.Minute)) {
		t.Fatal("a fresh link is refused")
	}
	for what, ok := range map[string]bool{
		"expired":        s.Valid(blob, typ, name, exp, sig, now.Add(61*time.Minute)),
		"another file":   s.Valid("files/other.png", typ, name, exp, sig, now),
		"another type":   s.Valid(blob, "text/html", name, exp, sig, now),
		"another name":   s.Valid(blob, typ, "x.html", exp, sig, now),
		"a later expiry": s.Valid(blob, typ, name, "1900000000", sig, now),
		"another key":    filelink.New([]byte("other"), "https://x").Valid(blob, typ, name, exp, sig, now),
		"no signature":   s.Valid(blob, typ, name, exp, "", now),
	} {
		if ok {
			t.Errorf("%s: accepted", what)
		}
	}
}
