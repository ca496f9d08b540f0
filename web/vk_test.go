package web_test

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/switchboard-hq/switchboard/internal/access"
	"github.com/switchboard-hq/switchboard/internal/browsertest"
	"github.com/switchboard-hq/switchboard/internal/config"
	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/messenger/vk/vktest"
)

// An administrator connects a VK community in Settings; VK confirms the
// webhook; a VK user writes to the community; the agent takes the request and
// answers in the same chat window; the answer reaches VK and shows "Sent".
func TestAgentAnswersAVKCustomer(t *testing.T) {
	const token = "vk1.a.TEST-community-token"
	fake := vktest.New(t, token)
	srv := startServer(t, func(c *config.Config) { c.VKAPIURL = fake.URL })
	ctx := context.Background()
	win := browsertest.Window(t)
	login(t, win, srv.url, "admin@example.com", "admin-password")

	acc := fake.Account()
	goTo(t, win, "#/settings/channels", "#channel-kind")
	do(t, win, "connect the community",
		chromedp.SetValue(chromedp.CSS("#channel-kind"), "vk"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#channel-kind').dispatchEvent(new Event('change', {bubbles: true}))`),
		chromedp.WaitVisible(chromedp.CSS("#channel-account-group_id")),
		chromedp.SendKeys(chromedp.CSS("#channel-name"), "VK community"),
		chromedp.SendKeys(chromedp.CSS("#channel-account-group_id"), acc.Public["group_id"]),
		chromedp.SendKeys(chromedp.CSS("#channel-account-access_token"), acc.Secrets["access_token"]),
		chromedp.SendKeys(chromedp.CSS("#channel-account-confirmation"), acc.Secrets["confirmation"]),
		chromedp.SendKeys(chromedp.CSS("#channel-account-secret"), acc.Secrets["secret"]),
		chromedp.Click(chromedp.CSS("#channel-create")),
		chromedp.WaitVisible(chromedp.CSS("#channel-created-webhook-url")),
	)
	list, err := srv.app.Channels.List(ctx, access.System)
	if err != nil || len(list) != 1 || list[0].Kind != cv.VK {
		t.Fatalf("channels after connecting: %+v %v", list, err)
	}
	if got := text(t, win, "#channel-created"); !containsAll(got, "VK community", vktest.GroupName, vktest.GroupScreenName, vktest.GroupID) {
		t.Errorf("the channels page does not show the community: %q", got)
	}
	hook := strings.TrimSpace(text(t, win, "#channel-created-webhook-url"))
	if !strings.HasPrefix(hook, srv.url+"/") {
		t.Fatalf("the webhook URL shown is %q, want one on %s", hook, srv.url)
	}

	// VK checks the server with the confirmation request.
	res, err := fake.Confirm(ctx, hook)
	if err != nil {
		t.Fatalf("confirm: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || string(body) != vktest.Confirmation {
		t.Fatalf("the confirmation request was answered %d %q, want 200 %q", res.StatusCode, body, vktest.Confirmation)
	}

	// The VK user writes to the community.
	_, update := fake.Text(vktest.User, "Добрый день, где мой заказ 1042?")
	res, err = fake.Deliver(ctx, hook, update)
	if err != nil {
		t.Fatalf("deliver the message: %v", err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || string(body) != "ok" {
		t.Fatalf("the message was answered %d %q, want 200 \"ok\"", res.StatusCode, body)
	}
	goTo(t, win, "#/unassigned", "li[data-conversation-id]")
	waitJS(t, win, "the client's name from users.get", `document.querySelector('li[data-conversation-id]').textContent.includes(`+js(vktest.UserName)+`)`)
	if got := text(t, win, "li[data-conversation-id]"); !containsAll(got, vktest.UserName, "где мой заказ 1042") {
		t.Errorf("the queue row reads %q", got)
	}
	do(t, win, "take the chat and answer",
		chromedp.Click(chromedp.CSS(`li[data-conversation-id] button[data-action=take]`)),
		chromedp.WaitVisible(chromedp.CSS("#composer")),
		chromedp.SendKeys(chromedp.CSS("#composer"), "Hello <b>there</b>"),
		chromedp.Click(chromedp.CSS("#composer-send")),
		chromedp.WaitVisible(chromedp.CSS(`.message-delivery[data-delivery="sent"]`)),
	)
	screenshot(t, win, "vk-sent")
	sent := fake.Sent()
	if len(sent) != 1 || sent[0].PeerID != vktest.User || sent[0].Text != "Hello <b>there</b>" || len(sent[0].Attachments) != 0 {
		t.Fatalf("VK received %+v, want one message to peer %s with the text as typed", sent, vktest.User)
	}
	if n, err := strconv.ParseInt(sent[0].RandomID, 10, 32); err != nil || n == 0 {
		t.Errorf("the message's random_id is %q, want a non-zero int32 (so VK drops a retried send)", sent[0].RandomID)
	}
}
