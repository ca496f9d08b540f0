package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/store"
	"github.com/switchboard-hq/switchboard/internal/team"
)

// Ingest is the behaviour suite of the one inbound path and the event log.
func Ingest(t *testing.T, db *store.DB) {
	ctx := context.Background()
	ch, err := db.CreateChannel(ctx, cv.Channel{Kind: cv.API, Name: "suite", Active: true}, "")
	if err != nil {
		t.Fatal(err)
	}
	msg := func(sender, id, text string) cv.Inbound {
		return cv.Inbound{ExternalID: id, Sender: cv.Sender{ExternalID: sender, Name: sender}, Text: text}
	}

	t.Run("concurrent messages are each answered after their own commit, and one failure spoils none of the others", func(t *testing.T) {
		head, _ := db.LastSeq(ctx)
		const n = 64
		results := make([]cv.IngestResult, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				target := ch
				if i == 13 {
					target = cv.Channel{ID: 999999, Kind: cv.API} // no such channel: this one fails
				}
				results[i], errs[i] = db.Ingest(ctx, target, msg(fmt.Sprintf("batch-client-%d", i%9), fmt.Sprintf("batch-%d", i), fmt.Sprintf("text %d", i)))
			})
		}
		wg.Wait()
		created := 0
		for i := range n {
			switch {
			case i == 13 && errs[i] == nil:
				t.Errorf("a message to a missing channel was accepted")
			case i != 13 && errs[i] != nil:
				t.Errorf("message %d failed: %v", i, errs[i])
			case i != 13:
				stored, err := db.Message(ctx, results[i].MessageID)
				if err != nil || stored.Body != fmt.Sprintf("text %d", i) {
					t.Errorf("message %d acknowledged but stored as %+v (%v)", i, stored, err)
				}
				if results[i].Created {
					created++
				}
			}
		}
		if created != 9 {
			t.Errorf("%d requests opened for 9 clients", created)
		}
		// Concurrent batches must not lose each other's counts.
		perRequest := map[int64]int{}
		for i := range n {
			if i != 13 {
				perRequest[results[i].ConversationID]++
			}
		}
		for id, want := range perRequest {
			if c, err := db.Conversation(ctx, id); err != nil || c.Unread != want {
				t.Errorf("request %d counts %d unread messages, want %d (%v)", id, c.Unread, want, err)
			}
		}
		evs, err := db.EventsAfter(ctx, head, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != n-1+created {
			t.Errorf("%d events for %d messages and %d new requests", len(evs), n-1, created)
		}
		for i, e := range evs {
			if e.Seq != head+int64(i)+1 {
				t.Fatalf("event log gap: position %d has seq %d", i, e.Seq)
			}
		}
	})

	t.Run("a redelivered message is stored once, even when both deliveries arrive together", func(t *testing.T) {
		var wg sync.WaitGroup
		results := make([]cv.IngestResult, 6)
		for i := range results {
			wg.Go(func() {
				var err error
				if results[i], err = db.Ingest(ctx, ch, msg("redelivered", "same-id", "once")); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		fresh := 0
		for _, r := range results {
			if !r.Duplicate {
				fresh++
			}
			if r.MessageID != results[0].MessageID {
				t.Errorf("deliveries of one message point at messages %d and %d", r.MessageID, results[0].MessageID)
			}
		}
		if fresh != 1 {
			t.Errorf("%d deliveries stored the message", fresh)
		}
	})

	t.Run("a client's messages go to their open request until it is closed", func(t *testing.T) {
		first, err := db.Ingest(ctx, ch, msg("loyal", "l1", "First question\nwith details"))
		if err != nil {
			t.Fatal(err)
		}
		second, _ := db.Ingest(ctx, ch, msg("loyal", "l2", "More"))
		if second.ConversationID != first.ConversationID || second.Created {
			t.Errorf("second message: %+v, want the request %d", second, first.ConversationID)
		}
		c, _ := db.Conversation(ctx, first.ConversationID)
		if c.Subject != "First question" || c.Unread != 2 || c.Mode != cv.Live {
			t.Errorf("request %+v", c)
		}
		agent := firstAgent(t, db)
		if _, err := db.Finish(ctx, c.ID, func(cv.Conversation) error { return nil }, agent, false, false); err != nil {
			t.Fatal(err)
		}
		third, _ := db.Ingest(ctx, ch, msg("loyal", "l3", "Me again"))
		if third.ConversationID == first.ConversationID || !third.Created {
			t.Errorf("after close: %+v", third)
		}
	})
}

func firstAgent(t *testing.T, db *store.DB) int64 {
	a, err := db.CreateAgent(context.Background(), team.Agent{Email: "closer@example.com", Name: "Closer", Admin: true, Active: true, Presence: team.Offline}, "x")
	if err != nil {
		t.Fatal(err)
	}
	return a.ID
}
