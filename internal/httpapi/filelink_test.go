package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-hq/switchboard/internal/config"
	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/messenger/viber"
	"github.com/switchboard-hq/switchboard/internal/messenger/viber/vibertest"
)

// Viber takes files only as links: a reply's picture goes out as a signed,
// expiring link to Switchboard's public address, which serves that file and
// nothing else.
func TestAViberReplysFileGoesOutAsASignedLink(t *testing.T) {
	const public = "https://support.example.com"
	eachPlatformEngine(t, func(_ *platformEnv, cfg *config.Config) { cfg.PublicURL = public }, func(t *testing.T, p *platformEnv) {
		// Connecting registers the public address with Viber, which this test
		// cannot reach: the channel is stored as connecting would leave it.
		stored, err := p.app.DB.CreateChannel(context.Background(), cv.Channel{Kind: cv.Viber, Name: "Viber", Active: true,
			Account: map[string]string{viber.FieldBotName: vibertest.BotName}, Secrets: map[string]string{viber.FieldToken: vibertest.Token}}, "")
		if err != nil {
			t.Fatal(err)
		}
		ch := channelJSON{ID: stored.ID, Kind: "viber", WebhookURL: fmt.Sprintf("%s/hooks/viber/%d", p.srv.URL, stored.ID)}
		_, body := p.vb.Text(vibertest.Customer, "", "Can you send the invoice?")
		if r := got(p.vb.Deliver(context.Background(), ch.WebhookURL, body)); r.status != http.StatusOK {
			t.Fatalf("deliver: %d %s", r.status, r.body)
		}
		request := p.oneClientMessage(t, ch, vibertest.CustomerName, "Can you send the invoice?")
		take(t, p.tm.anna, request.ID)

		var form bytes.Buffer
		mw := multipart.NewWriter(&form)
		mw.WriteField("kind", "reply")
		fw, _ := mw.CreateFormFile("files", "invoice.png")
		fw.Write(pngBytes)
		mw.Close()
		if r := p.tm.anna.call("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", request.ID), raw{mw.FormDataContentType(), form.Bytes()}); r.status != http.StatusCreated {
			t.Fatalf("reply with a file: %d %s", r.status, r.body)
		}
		var link string
		deadline := time.Now().Add(10 * time.Second)
		for link == "" && time.Now().Before(deadline) {
			for _, s := range p.vb.Sent() {
				if s.Type == "picture" {
					link = s.Media
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		if !strings.HasPrefix(link, public+"/files/") {
			t.Fatalf("Viber got the picture as %q, want a link under %s/files/", link, public)
		}
		// The link, asked of this server (the public address is its proxy).
		u, err := url.Parse(link)
		if err != nil {
			t.Fatal(err)
		}
		get := func(path string) (int, []byte) {
			res, err := http.Get(p.srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			data, _ := io.ReadAll(res.Body)
			return res.StatusCode, data
		}
		if status, data := get(u.RequestURI()); status != http.StatusOK || !bytes.Equal(data, pngBytes) {
			t.Errorf("the link answers %d with %d bytes, want the picture", status, len(data))
		}
		tampered := strings.Replace(u.RequestURI(), "type=image%2Fpng", "type=text%2Fhtml", 1)
		if status, _ := get(tampered); status != http.StatusNotFound {
			t.Errorf("a link with another type answers %d, want 404", status)
		}
		if status, _ := get("/files/9999999999/00/" + strings.SplitN(strings.TrimPrefix(u.Path, "/files/"), "/", 3)[2]); status != http.StatusNotFound {
			t.Errorf("a forged signature answers %d, want 404", status)
		}
	})
}
