package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/switchboard-hq/switchboard/internal/access"
	"github.com/switchboard-hq/switchboard/internal/browsertest"
	"github.com/switchboard-hq/switchboard/internal/config"
	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/messenger/telegram/telegramtest"
)

// An administrator connects a Telegram bot in Settings; a customer writes to
// the bot; the agent takes the request and answers in the same chat window;
// the answer reaches Telegram and shows "Sent".
func TestAgentAnswersATelegramCustomer(t *testing.T) {
	const token = "123456789:test-token_ABCdef"
	fake := telegramtest.New(t, token)
	srv := startServer(t, func(c *config.Config) { c.TelegramAPIURL = fake.URL })
	ctx := context.Background()
	win := browsertest.Window(t)
	login(t, win, srv.url, "admin@example.com", "admin-password")

	goTo(t, win, "#/settings/channels", "#channel-kind")
	do(t, win, "connect the bot",
		chromedp.SetValue(chromedp.CSS("#channel-kind"), "telegram"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#channel-kind').dispatchEvent(new Event('change', {bubbles: true}))`),
		chromedp.WaitVisible(chromedp.CSS("#channel-account-bot_token")),
		chromedp.SendKeys(chromedp.CSS("#channel-name"), "Shop bot"),
		chromedp.SendKeys(chromedp.CSS("#channel-account-bot_token"), token),
		chromedp.Click(chromedp.CSS("#channel-create")),
	)
	waitFor(t, "the webhook to be registered", func() bool { url, _ := fake.Webhook(); return url != "" })
	list, err := srv.app.Channels.List(ctx, access.System)
	if err != nil || len(list) != 1 || list[0].Kind != cv.Telegram {
		t.Fatalf("channels after connecting: %+v %v", list, err)
	}
	do(t, win, "see the bot's name", chromedp.WaitVisible(chromedp.CSS(`[data-channel-id]`)))
	if got := text(t, win, "body"); !containsAll(got, "Shop bot", list[0].Account["bot_username"]) {
		t.Errorf("the channels page does not show the bot: %q", got)
	}

	// The customer writes to the bot.
	res, err := fake.Deliver(ctx, telegramtest.Fixture("update_text.json"))
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("deliver the update: %v %v", res, err)
	}
	res.Body.Close()
	goTo(t, win, "#/unassigned", "li[data-conversation-id]")
	if got := text(t, win, "li[data-conversation-id]"); !containsAll(got, "Anna", "my order #4521") {
		t.Errorf("the queue row reads %q", got)
	}
	do(t, win, "take the chat and answer",
		chromedp.Click(chromedp.CSS(`li[data-conversation-id] button[data-action=take]`)),
		chromedp.WaitVisible(chromedp.CSS("#composer")),
		chromedp.SendKeys(chromedp.CSS("#composer"), "Hello Anna, <b>checking</b> *now*"),
		chromedp.Click(chromedp.CSS("#composer-send")),
		chromedp.WaitVisible(chromedp.CSS(`.message-delivery[data-delivery="sent"]`)),
	)
	screenshot(t, win, "sent")
	sent := fake.Sent()
	if len(sent) != 1 || sent[0].ChatID != "700000001" || sent[0].Text != "Hello Anna, <b>checking</b> *now*" {
		t.Errorf("Telegram received %+v, want one message to chat 700000001 with the text as typed", sent)
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
