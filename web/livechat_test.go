package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/switchboard-hq/switchboard/internal/access"
	"github.com/switchboard-hq/switchboard/internal/browsertest"
	"github.com/switchboard-hq/switchboard/internal/channel"
	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/team"
	"github.com/switchboard-hq/switchboard/internal/templates"
)

// agentIn creates an agent in a group with the queue right.
func agentIn(t *testing.T, srv server, email, name string) int64 {
	t.Helper()
	a, _, err := srv.app.Team.CreateAgent(context.Background(), access.System, team.NewAgent{Email: email, Name: name, Password: name + "-password"})
	if err != nil {
		t.Fatal(err)
	}
	return a.ID
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	step, cancel := browsertest.Step(ctx)
	defer cancel()
	v, err := chromedp.Run(step, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		screenshot(t, ctx, "text")
		t.Fatalf("read %s: %v", sel, err)
	}
	return v
}

func TestTwoAgentsWorkARequestLive(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	anna, boris := agentIn(t, srv, "anna@example.com", "anna"), agentIn(t, srv, "boris@example.com", "boris")
	name, members := "Support", []int64{anna, boris}
	rights := []access.Right{access.Omnichannel, access.Unassigned}
	if _, err := srv.app.Team.CreateGroup(ctx, access.System, team.GroupPatch{Name: &name, Rights: &rights, MemberIDs: &members}); err != nil {
		t.Fatal(err)
	}
	kind, chName := cv.API, "Shop"
	ch, _, err := srv.app.Channels.Create(ctx, access.System, channel.Patch{Kind: &kind, Name: &chName}, srv.url)
	if err != nil {
		t.Fatal(err)
	}
	tag, content := "thanks", "Thank you for waiting!"
	if _, err := srv.app.Templates.Create(ctx, access.System, templates.Patch{Tag: &tag, Content: &content}); err != nil {
		t.Fatal(err)
	}

	annaWin, borisWin := browsertest.Window(t), browsertest.Window(t)
	login(t, annaWin, srv.url, "anna@example.com", "anna-password")
	login(t, borisWin, srv.url, "boris@example.com", "boris-password")
	for _, w := range []context.Context{annaWin, borisWin} {
		do(t, w, "open the queue", chromedp.Navigate(srv.url+"/#/unassigned"), chromedp.WaitVisible(chromedp.CSS("h1")))
	}

	// A client writes: the request appears in both queues without a refresh.
	res, err := srv.app.Conversations.Ingest(ctx, ch.ID, cv.Inbound{ExternalID: "m1", Sender: cv.Sender{ExternalID: "ivan", Name: "Ivan"}, Text: "Where is my order?"})
	if err != nil {
		t.Fatal(err)
	}
	row := `li[data-conversation-id="` + strconv.FormatInt(res.ConversationID, 10) + `"]`
	do(t, annaWin, "see the request in Anna's queue", chromedp.WaitVisible(chromedp.CSS(row)))
	do(t, borisWin, "see the request in Boris's queue", chromedp.WaitVisible(chromedp.CSS(row)))

	// Anna takes it; it leaves Boris's queue live.
	do(t, annaWin, "take the chat", chromedp.Click(chromedp.CSS(row+` button[data-action=take]`)), chromedp.WaitVisible(chromedp.CSS("#composer")))
	do(t, borisWin, "see it leave the queue", chromedp.WaitNotPresent(chromedp.CSS(row)))

	send := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		do(t, annaWin, what, append(steps, chromedp.Click(chromedp.CSS("#composer-send")))...)
	}
	send("reply", chromedp.SendKeys(chromedp.CSS("#composer"), "Hello Ivan, checking now"))
	do(t, annaWin, "see the reply", chromedp.WaitVisible(chromedp.CSS(`.msg-reply`)))
	send("write a note", chromedp.Click(chromedp.CSS(`[data-mode=note]`)), chromedp.SendKeys(chromedp.CSS("#composer"), "Courier delayed"))
	do(t, annaWin, "see the note", chromedp.WaitVisible(chromedp.CSS(`.msg-note`)), chromedp.Click(chromedp.CSS(`[data-mode=reply]`)))
	send("reply with a template",
		chromedp.SendKeys(chromedp.CSS("#composer"), "/tha"),
		chromedp.WaitVisible(chromedp.CSS(`#template-suggestions [data-template-tag="thanks"]`)),
		chromedp.Click(chromedp.CSS(`#template-suggestions [data-template-tag="thanks"]`)),
	)
	send("reply with an emoji",
		chromedp.SendKeys(chromedp.CSS("#composer"), "Sorry :smil"),
		chromedp.WaitVisible(chromedp.CSS(`#emoji-suggestions [data-emoji-shortcode]`)),
		chromedp.Click(chromedp.CSS(`#emoji-suggestions [data-emoji-shortcode]`)),
	)
	png := filepath.Join(t.TempDir(), "receipt.png")
	os.WriteFile(png, pngBytes, 0o600)
	send("reply with an attachment", chromedp.SetUploadFiles(chromedp.CSS("#composer-files"), []string{png}))
	do(t, annaWin, "see the image", chromedp.WaitVisible(chromedp.CSS(`.msg-image img`)))

	waitFor(t, "the replies to be stored", func() bool {
		msgs, err := srv.app.Conversations.Messages(ctx, access.System, res.ConversationID, 0, 50)
		if err != nil {
			return false
		}
		var bodies []string
		for _, m := range msgs {
			bodies = append(bodies, string(m.Kind)+":"+m.Body)
		}
		all := strings.Join(bodies, "|")
		return strings.Contains(all, "reply:Hello Ivan, checking now") && strings.Contains(all, "note:Courier delayed") &&
			strings.Contains(all, "reply:Thank you for waiting!") && strings.Contains(all, "reply:Sorry 😄") &&
			len(msgs[len(msgs)-1].Attachments) == 1
	})

	// Transfer to Boris with a note: the chat appears in his All chats live.
	do(t, borisWin, "open All chats", chromedp.Navigate(srv.url+"/#/all"), chromedp.WaitVisible(chromedp.CSS("h1")))
	do(t, annaWin, "transfer to Boris",
		chromedp.Click(chromedp.CSS(`button[data-action=transfer]`)),
		chromedp.WaitVisible(chromedp.CSS("#transfer-agent")),
		chromedp.SetValue(chromedp.CSS("#transfer-agent"), strconv.FormatInt(boris, 10)),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#transfer-agent').dispatchEvent(new Event('change', {bubbles: true}))`),
		chromedp.SendKeys(chromedp.CSS("#transfer-note"), "Please follow up"),
		chromedp.Click(chromedp.CSS("#transfer-submit")),
	)
	do(t, borisWin, "receive the transferred chat", chromedp.WaitVisible(chromedp.CSS(row)))

	// Boris ends the chat but keeps the request open: it moves to Classic requests.
	do(t, borisWin, "close and open the request",
		chromedp.Navigate(srv.url+"/#/c/"+strconv.FormatInt(res.ConversationID, 10)),
		chromedp.WaitVisible(chromedp.CSS(`button[data-action=classic]`)),
		chromedp.Click(chromedp.CSS(`button[data-action=classic]`)),
		chromedp.Navigate(srv.url+"/#/classic"),
		chromedp.WaitVisible(chromedp.CSS(row)),
	)
	if got := text(t, borisWin, row); !strings.Contains(got, "Ivan") {
		t.Errorf("classic row reads %q", got)
	}
	c, err := srv.app.Conversations.Conversation(ctx, access.System, res.ConversationID)
	if err != nil || c.Mode != cv.Classic || c.AssigneeID != boris {
		t.Errorf("after the browser steps the request is %+v (%v)", c, err)
	}
}

// pngBytes is a valid 1×1 PNG.
var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
