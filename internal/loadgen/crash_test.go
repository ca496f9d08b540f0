package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-hq/switchboard/internal/store"
	"github.com/switchboard-hq/switchboard/internal/storetest"
)

// Scale of the crash scenario: small enough to run in seconds per engine,
// large enough that the kill lands with requests in flight.
const (
	crashWorkers   = 16
	crashMaxSends  = 2000 // upper bound of messages ever sent
	crashKillAfter = 600  // SIGKILL when this many messages were acknowledged
	crashPool      = 40   // client pool; one message in crashNewEvery from a new client
	crashNewEvery  = 10
)

// TestKillNineUnderLoadLosesNothingAcknowledgedAndBreaksNoEventStream is
// DESIGN.md "Reliability": kill -9 under load, restart, and every
// acknowledged message is there exactly once, and an agent that reconnects
// with its last seq gets every event it missed, without gap or repeat.
func TestKillNineUnderLoadLosesNothingAcknowledgedAndBreaksNoEventStream(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) { crashScenario(t, e) })
	}
}

// sendOutcome is what the client knows of one inbound message.
type sendOutcome struct {
	in       Inbound
	sent     bool
	answered bool // 200 received: acknowledged
	res      InboundResult
	err      error
}

// wireFrame is an agent websocket frame.
type wireFrame struct {
	Seq            int64           `json:"seq"`
	Kind           string          `json:"kind"`
	ConversationID int64           `json:"conversation_id"`
	Data           json.RawMessage `json:"data"`
}

// message returns the message a message.created frame carries.
func (f wireFrame) message() (Message, bool) {
	if f.Kind != "message.created" {
		return Message{}, false
	}
	var d struct {
		Message *Message `json:"message"`
	}
	if json.Unmarshal(f.Data, &d) != nil || d.Message == nil {
		return Message{}, false
	}
	return *d.Message, true
}

func readFrame(ctx context.Context, conn *Events) (wireFrame, error) {
	data, err := conn.Next(ctx)
	if err != nil {
		return wireFrame{}, err
	}
	var f wireFrame
	if err := json.Unmarshal(data, &f); err != nil {
		return f, fmt.Errorf("decode frame %s: %w", data, err)
	}
	return f, nil
}

func crashScenario(t *testing.T, e storetest.Engine) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	dataDir := t.TempDir()
	transport := NewTransport(crashWorkers + 4)
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}

	// Setup: an api channel, and one agent with management rights.
	srv := startServer(t, e.URL, dataDir)
	admin := login(ctx, t, srv, transport, adminEmail, adminPassword)
	channelID, token, err := admin.CreateChannel(ctx, "crash")
	if err != nil {
		t.Fatal(err)
	}
	const watcherEmail, watcherPassword = "watcher@example.com", "watcher-password"
	watcherID, err := admin.CreateAgent(ctx, watcherEmail, "Watcher", watcherPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateGroup(ctx, "Supervisors", ManagementRights, []int64{watcherID}); err != nil {
		t.Fatal(err)
	}
	// Two agent sockets record every frame from the first event of the log
	// on: "live" until the kill, "dropped" only until half the load, as an
	// agent whose connection broke earlier and must catch up from the table.
	watcher := login(ctx, t, srv, transport, watcherEmail, watcherPassword)
	live := record(ctx, t, watcher, "live", 0)
	dropped := record(ctx, t, watcher, "dropped", 0)
	watchers := []*recording{live, dropped}

	// Load: crashWorkers senders; the one whose answer is acknowledgement
	// number crashKillAfter kills the server with SIGKILL while the others
	// still have requests in flight. Nobody sends after the kill.
	channel, err := NewChannel(srv.URL, client, channelID, token)
	if err != nil {
		t.Fatal(err)
	}
	outcomes := make([]sendOutcome, crashMaxSends)
	var next, acked atomic.Int64
	killed := make(chan struct{})
	var killOnce sync.Once
	kill := func() { killOnce.Do(func() { srv.Kill(); close(killed) }) }
	pick := newClientPicker(crashPool, crashNewEvery)
	var wg sync.WaitGroup
	for range crashWorkers {
		wg.Go(func() {
			for {
				select {
				case <-killed:
					return
				default:
				}
				n := next.Add(1) - 1
				if n >= crashMaxSends {
					return
				}
				o := &outcomes[n]
				o.in.MessageID = "crash-m" + strconv.FormatInt(n, 10)
				o.in.Sender.ID = pick(n)
				o.in.Sender.Name = "Client " + o.in.Sender.ID
				o.in.Text = "crash:" + strconv.FormatInt(n, 10) + " is this stored once?"
				o.sent = true
				o.res, o.err = channel.Post(ctx, o.in)
				if o.err == nil {
					o.answered = true
					switch acked.Add(1) {
					case crashKillAfter / 2:
						dropped.conn.CloseNow()
					case crashKillAfter:
						kill()
					}
				}
			}
		})
	}
	wg.Wait()
	kill() // in case fewer than crashKillAfter were acknowledged; checked below
	for _, w := range watchers {
		<-w.done // the socket broke with the server, or was dropped
	}
	// A message is acknowledged only by a 200. One answered 5xx was not taken
	// and is treated like one without an answer (may or may not be stored,
	// never twice); a 4xx means this test sent something wrong.
	sent, unanswered := 0, 0
	for _, o := range outcomes {
		if !o.sent {
			continue
		}
		sent++
		if !o.answered {
			unanswered++
			var se *StatusError
			if errors.As(o.err, &se) {
				if se.Code < 500 {
					t.Fatalf("message %s was refused with %d before the kill: %s", o.in.MessageID, se.Code, se.Body)
				}
				t.Logf("message %s was answered %d before the kill (not an acknowledgement): %s", o.in.MessageID, se.Code, se.Body)
			}
		}
	}
	if acked.Load() < crashKillAfter {
		t.Fatalf("only %d of %d messages were acknowledged before the load ended", acked.Load(), sent)
	}
	t.Logf("%s: sent %d, acknowledged %d, unanswered at the kill %d; the sockets saw events up to seq %d (live) and %d (dropped)",
		e.Name, sent, acked.Load(), unanswered, live.lastSeq(), dropped.lastSeq())

	// Restart on the same database and data dir.
	srv = startServer(t, e.URL, dataDir)
	channel, err = NewChannel(srv.URL, client, channelID, token)
	if err != nil {
		t.Fatal(err)
	}
	admin = login(ctx, t, srv, transport, adminEmail, adminPassword)
	watcher = login(ctx, t, srv, transport, watcherEmail, watcherPassword)

	// Each socket reconnects with the last seq it saw. A sentinel message
	// sent now marks the end of the replay: its event comes after every event
	// committed before the kill.
	for _, w := range watchers {
		w.reconnect(ctx, t, watcher)
	}
	var sentinel Inbound
	sentinel.MessageID, sentinel.Sender.ID, sentinel.Text = "crash-sentinel", "crash-sentinel-client", "crash:sentinel after the restart"
	sentinelRes, err := channel.Post(ctx, sentinel)
	if err != nil {
		t.Fatalf("post the sentinel after the restart: %v", err)
	}
	for _, w := range watchers {
		w.replayUntil(ctx, t, sentinelRes.MessageID)
		t.Logf("%s: the %s socket's replay after the restart brought %d events (seq %d..%d)",
			e.Name, w.name, len(w.replay), w.resumedAfter+1, w.replay[len(w.replay)-1].Seq)
	}
	stream := live.stream()
	head := stream[len(stream)-1].Seq

	// Every message.created event of the stream, by message body.
	events := map[string][]Message{}
	for _, f := range stream {
		if m, ok := f.message(); ok {
			events[m.Body] = append(events[m.Body], m)
		}
	}

	t.Run("each reconnected socket's replay continues its stream with no gap and no repeated seq, up to the head", func(t *testing.T) {
		for _, w := range watchers {
			for i, f := range w.stream() {
				if f.Seq != int64(i)+1 {
					t.Fatalf("%s socket: frame %d has seq %d, want %d (frames before the kill: %d, last seen %d)",
						w.name, i, f.Seq, i+1, len(w.before), w.resumedAfter)
				}
			}
			if last := w.stream()[len(w.stream())-1].Seq; last != head {
				t.Errorf("%s socket ends at seq %d, want the head %d", w.name, last, head)
			}
		}
	})

	t.Run("the events seen and replayed are exactly the events in the log", func(t *testing.T) {
		db, err := store.Open(ctx, e.URL, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var log []wireFrame
		for after := int64(0); after < head; {
			evs, err := db.EventsAfter(ctx, after, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) == 0 {
				break
			}
			for _, ev := range evs {
				if ev.Seq <= head {
					log = append(log, wireFrame{Seq: ev.Seq, Kind: ev.Kind, ConversationID: ev.ConversationID, Data: ev.Data})
				}
			}
			after = evs[len(evs)-1].Seq
		}
		for _, w := range watchers {
			stream := w.stream()
			if len(log) != len(stream) {
				t.Fatalf("the log holds %d events up to seq %d, the %s socket got %d", len(log), head, w.name, len(stream))
			}
			for i := range log {
				got, want := stream[i], log[i]
				if got.Seq != want.Seq || got.Kind != want.Kind || got.ConversationID != want.ConversationID || !sameJSON(got.Data, want.Data) {
					t.Fatalf("event %d: the %s socket got seq %d %s on request %d, the log has seq %d %s on request %d (or other data)",
						i, w.name, got.Seq, got.Kind, got.ConversationID, want.Seq, want.Kind, want.ConversationID)
				}
			}
		}
	})

	t.Run("every acknowledged message has exactly one message.created event, with its id", func(t *testing.T) {
		for _, o := range outcomes {
			if !o.answered {
				continue
			}
			evs := events[o.in.Text]
			if len(evs) != 1 || evs[0].ID != o.res.MessageID || evs[0].ConversationID != o.res.ConversationID {
				t.Errorf("message %s (acknowledged as message %d in request %d) has these message.created events: %+v",
					o.in.MessageID, o.res.MessageID, o.res.ConversationID, evs)
			}
		}
	})

	// Count what is stored through the API: every request that any event or
	// acknowledgement names, paged back to its first message.
	stored := storedMessages(ctx, t, admin, outcomes, stream)

	t.Run("every acknowledged message is stored exactly once, under the acknowledged id", func(t *testing.T) {
		for _, o := range outcomes {
			if !o.answered {
				continue
			}
			got := stored[o.in.Text]
			if len(got) != 1 || got[0].ID != o.res.MessageID || got[0].ConversationID != o.res.ConversationID {
				t.Errorf("acknowledged message %s (message %d in request %d) is stored as %+v", o.in.MessageID, o.res.MessageID, o.res.ConversationID, got)
			}
		}
	})

	t.Run("an unanswered message is stored at most once, and only with its event", func(t *testing.T) {
		kept := 0
		for _, o := range outcomes {
			if !o.sent || o.answered {
				continue
			}
			got, evs := stored[o.in.Text], events[o.in.Text]
			kept += len(got)
			if len(got) > 1 {
				t.Errorf("unanswered message %s is stored %d times: %+v", o.in.MessageID, len(got), got)
			}
			if len(got) != len(evs) || (len(got) == 1 && got[0].ID != evs[0].ID) {
				t.Errorf("unanswered message %s: stored %+v, events %+v", o.in.MessageID, got, evs)
			}
		}
		t.Logf("%d of the unanswered messages were committed before the kill", kept)
	})

	t.Run("nothing is stored that was not sent, and every stored message has its event", func(t *testing.T) {
		sentTexts := map[string]bool{sentinel.Text: true}
		for _, o := range outcomes {
			if o.sent {
				sentTexts[o.in.Text] = true
			}
		}
		for body, got := range stored {
			if !sentTexts[body] {
				t.Errorf("stored but never sent: %q %+v", body, got)
			}
			if evs := events[body]; len(evs) != len(got) {
				t.Errorf("%q is stored %d times with %d message.created events", body, len(got), len(evs))
			}
		}
	})

	t.Run("resending an acknowledged message returns the same message as a duplicate", func(t *testing.T) {
		resend(ctx, t, channel, outcomes, func(o *sendOutcome) bool { return o.answered }, func(o *sendOutcome, res InboundResult) error {
			if !res.Duplicate || res.MessageID != o.res.MessageID || res.ConversationID != o.res.ConversationID {
				return fmt.Errorf("resending %s answered %+v, want duplicate of message %d in request %d", o.in.MessageID, res, o.res.MessageID, o.res.ConversationID)
			}
			return nil
		})
	})

	t.Run("resending an unanswered message stores it if and only if it was not stored", func(t *testing.T) {
		resend(ctx, t, channel, outcomes, func(o *sendOutcome) bool { return o.sent && !o.answered }, func(o *sendOutcome, res InboundResult) error {
			switch got := stored[o.in.Text]; {
			case len(got) == 1 && (!res.Duplicate || res.MessageID != got[0].ID):
				return fmt.Errorf("resending %s (stored as message %d) answered %+v, want that duplicate", o.in.MessageID, got[0].ID, res)
			case len(got) == 0 && res.Duplicate:
				return fmt.Errorf("resending %s (not stored) answered a duplicate: %+v", o.in.MessageID, res)
			}
			o.res, o.answered = res, true
			return nil
		})
		final := storedMessages(ctx, t, admin, outcomes, nil)
		for _, o := range outcomes {
			if o.sent && len(final[o.in.Text]) != 1 {
				t.Errorf("after resending, message %s is stored %d times", o.in.MessageID, len(final[o.in.Text]))
			}
		}
	})
}

// recording is an agent socket that records every frame, and after the
// restart reconnects where it stopped.
type recording struct {
	name         string
	conn         *Events
	before       []wireFrame // frames read before the socket broke
	done         chan struct{}
	resumedAfter int64
	replay       []wireFrame // frames read after reconnecting
}

// record opens an agent socket asking for every event after seq after and
// records its frames until it breaks.
func record(ctx context.Context, t *testing.T, sess *Session, name string, after int64) *recording {
	t.Helper()
	w := &recording{name: name, done: make(chan struct{})}
	conn, err := sess.DialEvents(ctx, after)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	if hello, err := readFrame(ctx, conn); err != nil || hello.Kind != "hello" || hello.Seq != after {
		t.Fatalf("%s socket: first frame = %+v, %v; want hello at seq %d", name, hello, err, after)
	}
	w.conn = conn
	go func() {
		defer close(w.done)
		for {
			f, err := readFrame(ctx, conn)
			if err != nil {
				return
			}
			w.before = append(w.before, f)
		}
	}()
	return w
}

// lastSeq is the last seq the socket saw before it broke.
func (w *recording) lastSeq() int64 {
	if len(w.before) == 0 {
		return 0
	}
	return w.before[len(w.before)-1].Seq
}

// reconnect opens a new socket asking for every event after the last seq seen.
func (w *recording) reconnect(ctx context.Context, t *testing.T, sess *Session) {
	t.Helper()
	w.resumedAfter = w.lastSeq()
	conn, err := sess.DialEvents(ctx, w.resumedAfter)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	if hello, err := readFrame(ctx, conn); err != nil || hello.Kind != "hello" || hello.Seq != w.resumedAfter {
		t.Fatalf("%s socket: first frame after reconnecting = %+v, %v; want hello at seq %d", w.name, hello, err, w.resumedAfter)
	}
	w.conn = conn
}

// replayUntil reads the reconnected socket up to the message.created event of
// message id.
func (w *recording) replayUntil(ctx context.Context, t *testing.T, id int64) {
	t.Helper()
	for {
		f, err := readFrame(ctx, w.conn)
		if err != nil {
			t.Fatalf("%s socket: the replay after seq %d ended before message %d's event (got %d frames): %v", w.name, w.resumedAfter, id, len(w.replay), err)
		}
		w.replay = append(w.replay, f)
		if m, ok := f.message(); ok && m.ID == id {
			return
		}
	}
}

// stream is everything the socket received, before and after the restart.
func (w *recording) stream() []wireFrame { return slices.Concat(w.before, w.replay) }

// newClientPicker returns the client of message n: a random one from a pool,
// or for one message in newEvery a brand-new client taking a random slot.
func newClientPicker(pool, newEvery int) func(n int64) string {
	var mu sync.Mutex
	rng := mrand.New(mrand.NewPCG(1, 2))
	clients := make([]string, pool)
	made := 0
	fresh := func() string { made++; return "crash-c" + strconv.Itoa(made) }
	for i := range clients {
		clients[i] = fresh()
	}
	return func(n int64) string {
		mu.Lock()
		defer mu.Unlock()
		slot := rng.IntN(pool)
		if n%int64(newEvery) == int64(newEvery)-1 {
			clients[slot] = fresh()
		}
		return clients[slot]
	}
}

// storedMessages reads, through the API, every message of every request that
// an acknowledgement or an event names, by body.
func storedMessages(ctx context.Context, t *testing.T, admin *Session, outcomes []sendOutcome, stream []wireFrame) map[string][]Message {
	t.Helper()
	conversations := map[int64]bool{}
	for _, o := range outcomes {
		if o.answered {
			conversations[o.res.ConversationID] = true
		}
	}
	for _, f := range stream {
		if f.ConversationID != 0 {
			conversations[f.ConversationID] = true
		}
	}
	out := map[string][]Message{}
	for id := range conversations {
		msgs, err := admin.Messages(ctx, id, 1000)
		if err != nil {
			t.Fatalf("messages of request %d: %v", id, err)
		}
		for _, m := range msgs {
			if !strings.HasPrefix(m.Body, "crash:") || m.Kind != "client" {
				t.Fatalf("request %d holds an unexpected message %+v", id, m)
			}
			out[m.Body] = append(out[m.Body], m)
		}
	}
	return out
}

// resend posts again, at the load's concurrency, every message that pick
// selects, and checks each answer.
func resend(ctx context.Context, t *testing.T, channel *Channel, outcomes []sendOutcome, pick func(*sendOutcome) bool, check func(*sendOutcome, InboundResult) error) {
	t.Helper()
	todo := make(chan *sendOutcome)
	var mu sync.Mutex
	var failures []string
	var wg sync.WaitGroup
	for range crashWorkers {
		wg.Go(func() {
			for o := range todo {
				res, err := channel.Post(ctx, o.in)
				if err == nil {
					err = check(o, res)
				}
				if err != nil {
					mu.Lock()
					failures = append(failures, err.Error())
					mu.Unlock()
				}
			}
		})
	}
	count := 0
	for i := range outcomes {
		if pick(&outcomes[i]) {
			todo <- &outcomes[i]
			count++
		}
	}
	close(todo)
	wg.Wait()
	for _, f := range failures {
		t.Error(f)
	}
	t.Logf("resent %d messages", count)
}

func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
