package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/outbox"
	"github.com/switchboard-hq/switchboard/internal/store"
)

// Outbox is the behaviour suite of replies to messengers: a reply and its
// delivery job commit together; jobs are leased one at a time per request
// and in order, to one worker only; outcomes move the reply's delivery
// state, which never moves back; clients' edits change the text.
func Outbox(t *testing.T, db *store.DB) {
	ctx := context.Background()
	ch, err := db.CreateChannel(ctx, cv.Channel{Kind: cv.Telegram, Name: "Bot", Active: true,
		Account: map[string]string{"bot_username": "shop_bot"}, Secrets: map[string]string{"bot_token": "123:secret"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	agent := newAgent(t, db, "outbox-agent@example.com", "Olga", true, true)
	anyone := func(cv.Conversation) error { return nil }
	// request opens a request of a new client with one message, taken by the agent.
	request := func(t *testing.T, client string) cv.Conversation {
		t.Helper()
		res, err := db.Ingest(ctx, ch, cv.Inbound{ExternalID: client + ":1", Text: "Hello", Sender: cv.Sender{ExternalID: client, Name: client}})
		if err != nil {
			t.Fatal(err)
		}
		c, err := db.Take(ctx, res.ConversationID, agent.ID)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	reply := func(t *testing.T, c cv.Conversation, text string) cv.Message {
		t.Helper()
		m, err := db.AddMessage(ctx, c.ID, anyone, cv.Message{Kind: cv.Reply, AuthorID: agent.ID, Body: text, Delivery: cv.DeliveryQueued})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	claim := func(t *testing.T, owner string) []outbox.Job {
		t.Helper()
		jobs, err := db.ClaimJobs(ctx, owner, time.Minute, 100)
		if err != nil {
			t.Fatal(err)
		}
		return jobs
	}
	delivery := func(t *testing.T, id int64) cv.Message {
		t.Helper()
		m, err := db.Message(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	// drain finishes every job still pending, so subtests start clean.
	drain := func(t *testing.T) {
		t.Helper()
		for jobs := claim(t, "drain"); len(jobs) > 0; jobs = claim(t, "drain") {
			for _, j := range jobs {
				if err := db.CompleteJob(ctx, j, "drain", fmt.Sprintf("drained-%d", j.MessageID)); err != nil {
					t.Fatal(err)
				}
			}
		}
	}

	t.Run("replies of one request are leased one at a time, in order; other requests go alongside", func(t *testing.T) {
		drain(t)
		a, b := request(t, "order-a"), request(t, "order-b")
		a1, a2, b1 := reply(t, a, "first"), reply(t, a, "second"), reply(t, b, "other")
		jobs := claim(t, "w1")
		got := map[int64]bool{}
		for _, j := range jobs {
			got[j.MessageID] = true
			if j.Attempts != 1 {
				t.Errorf("job of message %d: attempts %d, want 1", j.MessageID, j.Attempts)
			}
		}
		if len(jobs) != 2 || !got[a1.ID] || !got[b1.ID] {
			t.Fatalf("first claim got messages %v, want %d and %d (not %d before %d is sent)", got, a1.ID, b1.ID, a2.ID, a1.ID)
		}
		if again := claim(t, "w2"); len(again) != 0 {
			t.Fatalf("a second worker leased %d jobs that are leased already", len(again))
		}
		for _, j := range jobs {
			if err := db.CompleteJob(ctx, j, "w1", fmt.Sprintf("tg-%d", j.MessageID)); err != nil {
				t.Fatal(err)
			}
		}
		next := claim(t, "w2")
		if len(next) != 1 || next[0].MessageID != a2.ID {
			t.Fatalf("after the first reply was sent, got %v, want the second reply", next)
		}
		if m := delivery(t, a1.ID); m.Delivery != cv.DeliverySent {
			t.Errorf("sent reply: delivery %q", m.Delivery)
		}
		if err := db.CompleteJob(ctx, next[0], "w2", "tg-second"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a job whose lease ran out goes to another worker, and the first can no longer finish it", func(t *testing.T) {
		drain(t)
		m := reply(t, request(t, "lease"), "hello")
		jobs, err := db.ClaimJobs(ctx, "crashed", -time.Second, 10) // a lease already over
		if err != nil || len(jobs) != 1 {
			t.Fatalf("claim: %v %v", jobs, err)
		}
		taken := claim(t, "survivor")
		if len(taken) != 1 || taken[0].MessageID != m.ID || taken[0].Attempts != 2 {
			t.Fatalf("the survivor got %+v, want the job again at attempt 2", taken)
		}
		if err := db.CompleteJob(ctx, jobs[0], "crashed", "late"); !errs.IsNotFound(err) {
			t.Errorf("the worker that lost its lease completed the job: %v", err)
		}
		if err := db.CompleteJob(ctx, taken[0], "survivor", "tg-lease"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("concurrent workers never lease the same job", func(t *testing.T) {
		drain(t)
		var want int
		for i := range 20 {
			c := request(t, fmt.Sprintf("race-%d", i))
			reply(t, c, "one")
			want++
		}
		var mu sync.Mutex
		seen := map[int64]string{}
		var leased []outbox.Job
		var wg sync.WaitGroup
		for w := range 4 {
			owner := fmt.Sprintf("racer-%d", w)
			wg.Go(func() {
				for range 5 {
					jobs, err := db.ClaimJobs(ctx, owner, time.Minute, 3)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					for _, j := range jobs {
						if prev, dup := seen[j.ID]; dup {
							t.Errorf("job %d leased by %s and %s", j.ID, prev, owner)
						}
						seen[j.ID] = owner
						leased = append(leased, j)
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(seen) != want {
			t.Errorf("%d jobs leased, want %d", len(seen), want)
		}
		for _, j := range leased {
			if err := db.CompleteJob(ctx, j, seen[j.ID], fmt.Sprintf("race-sent-%d", j.MessageID)); err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("a retried job waits; a failed one records the reason and can be sent again", func(t *testing.T) {
		drain(t)
		c := request(t, "retry")
		m := reply(t, c, "hello")
		j := claim(t, "w")[0]
		if err := db.RetryJob(ctx, j, "w", db.Now().Add(time.Hour), "Telegram is down"); err != nil {
			t.Fatal(err)
		}
		if jobs := claim(t, "w"); len(jobs) != 0 {
			t.Fatalf("a job due in an hour was leased now: %v", jobs)
		}
		later := db.Now
		db.Now = func() time.Time { return later().Add(2 * time.Hour) }
		defer func() { db.Now = later }()
		jobs := claim(t, "w")
		if len(jobs) != 1 || jobs[0].MessageID != m.ID {
			t.Fatalf("when due, the claim got %+v, want the job of message %d", jobs, m.ID)
		}
		if err := db.FailJob(ctx, jobs[0], "w", "The client blocked the bot"); err != nil {
			t.Fatal(err)
		}
		if got := delivery(t, m.ID); got.Delivery != cv.DeliveryFailed || got.DeliveryError != "The client blocked the bot" {
			t.Fatalf("failed reply: %q %q", got.Delivery, got.DeliveryError)
		}
		again, err := db.RetryDelivery(ctx, m.ID, anyone)
		if err != nil || again.Delivery != cv.DeliveryQueued {
			t.Fatalf("retry: %+v %v", again, err)
		}
		if jobs := claim(t, "w"); len(jobs) != 1 || jobs[0].MessageID != m.ID {
			t.Fatalf("the retried reply was not queued: %v", jobs)
		}
		if _, err := db.RetryDelivery(ctx, m.ID, anyone); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("retrying a reply that has not failed: %v, want a conflict", err)
		}
		drain(t)
	})

	t.Run("delivery states only move forward; unknown ids change nothing", func(t *testing.T) {
		drain(t)
		m := reply(t, request(t, "states"), "hello")
		j := claim(t, "w")[0]
		if err := db.CompleteJob(ctx, j, "w", "tg-states"); err != nil {
			t.Fatal(err)
		}
		for _, step := range []struct{ state, want string }{
			{cv.DeliveryRead, cv.DeliveryRead},
			{cv.DeliveryDelivered, cv.DeliveryRead}, // late
			{cv.DeliverySent, cv.DeliveryRead},
		} {
			if err := db.SetDelivery(ctx, ch.ID, "tg-states", step.state, ""); err != nil {
				t.Fatal(err)
			}
			if got := delivery(t, m.ID).Delivery; got != step.want {
				t.Errorf("after %s: %s, want %s", step.state, got, step.want)
			}
		}
		if err := db.SetDelivery(ctx, ch.ID, "no-such-message", cv.DeliveryRead, ""); err != nil {
			t.Errorf("a status for an unknown message: %v", err)
		}
	})

	t.Run("a status up to a reply or a time moves every earlier reply of the client too", func(t *testing.T) {
		drain(t)
		c := request(t, "upto")
		var sent []cv.Message
		clock := db.Now
		defer func() { db.Now = clock }()
		for i := range 3 {
			at := clock().Add(time.Duration(i) * time.Second) // a second apart, so a watermark falls between them
			db.Now = func() time.Time { return at }
			m := reply(t, c, fmt.Sprintf("reply %d", i))
			jobs := claim(t, "w")
			if len(jobs) != 1 {
				t.Fatalf("claim: %v", jobs)
			}
			if err := db.CompleteJob(ctx, jobs[0], "w", fmt.Sprintf("upto-%d", i)); err != nil {
				t.Fatal(err)
			}
			sent = append(sent, delivery(t, m.ID))
		}
		// Delivered up to the second reply (VK names the last one read).
		if err := db.SetDeliveryUpTo(ctx, ch.ID, "upto", "upto-1", time.Time{}, cv.DeliveryDelivered); err != nil {
			t.Fatal(err)
		}
		// Read up to a time after the first reply (Messenger's watermark).
		if err := db.SetDeliveryUpTo(ctx, ch.ID, "upto", "", sent[0].CreatedAt, cv.DeliveryRead); err != nil {
			t.Fatal(err)
		}
		for i, want := range []string{cv.DeliveryRead, cv.DeliveryDelivered, cv.DeliverySent} {
			if got := delivery(t, sent[i].ID).Delivery; got != want {
				t.Errorf("reply %d: %s, want %s", i, got, want)
			}
		}
		// A watermark of another client moves nothing here.
		if err := db.SetDeliveryUpTo(ctx, ch.ID, "someone-else", "", db.Now(), cv.DeliveryRead); err != nil {
			t.Fatal(err)
		}
		if got := delivery(t, sent[2].ID).Delivery; got != cv.DeliverySent {
			t.Errorf("another client's watermark moved reply 2 to %s", got)
		}
	})

	t.Run("a client's edit changes the text and marks it edited", func(t *testing.T) {
		res, err := db.Ingest(ctx, ch, cv.Inbound{ExternalID: "edit:7", Text: "Helo", Sender: cv.Sender{ExternalID: "edit", Name: "Ed"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.EditClientMessage(ctx, ch.ID, "edit:7", "Hello"); err != nil {
			t.Fatal(err)
		}
		m := delivery(t, res.MessageID)
		if m.Body != "Hello" || m.EditedAt == nil {
			t.Errorf("edited message: %q edited at %v", m.Body, m.EditedAt)
		}
		if seen, err := db.HasMessage(ctx, ch.ID, "edit:7"); err != nil || !seen {
			t.Errorf("HasMessage: %v %v", seen, err)
		}
		if err := db.EditClientMessage(ctx, ch.ID, "edit:unknown", "x"); err != nil {
			t.Errorf("editing an unknown message: %v", err)
		}
	})
}
