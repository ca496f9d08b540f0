package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
)

// memSource is an event log in memory.
type memSource struct {
	mu     sync.Mutex
	events []cv.Event
	reads  int   // calls of EventsAfter
	fail   error // when set, every call fails with it
}

func (s *memSource) EventsAfter(_ context.Context, after int64, limit int) ([]cv.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	if s.fail != nil {
		return nil, s.fail
	}
	i := sort.Search(len(s.events), func(i int) bool { return s.events[i].Seq > after })
	return slices.Clone(s.events[i:min(i+limit, len(s.events))]), nil
}

func (s *memSource) LastSeq(context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return 0, s.fail
	}
	if len(s.events) == 0 {
		return 0, nil
	}
	return s.events[len(s.events)-1].Seq, nil
}

// commit appends the events of seqs after the last one at once, as one
// transaction would, each on the request conv(seq); it returns the last seq.
func (s *memSource) commit(n int, conv func(seq int64) int64) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var last int64
	if len(s.events) > 0 {
		last = s.events[len(s.events)-1].Seq
	}
	for range n {
		last++
		s.events = append(s.events, event(last, conv(last)))
	}
	return last
}

func (s *memSource) readCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads
}

func event(seq, conv int64) cv.Event {
	return cv.Event{
		Seq: seq, Kind: cv.EventMessageCreated, ConversationID: conv,
		Data:      json.RawMessage(fmt.Sprintf(`{"n":%d}`, seq)),
		CreatedAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(seq) * time.Millisecond),
	}
}

func onRequest(id int64) func(int64) int64 { return func(int64) int64 { return id } }

func everything(cv.Event) bool { return true }

func newHub(t *testing.T, src *memSource) *Hub {
	t.Helper()
	h, err := NewHub(t.Context(), src, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// run runs the hub until the test ends (or stop is called) and waits for it.
func run(t *testing.T, h *Hub) (stop func()) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.Run(ctx)
	}()
	stop = sync.OnceFunc(func() {
		cancel()
		<-done
	})
	t.Cleanup(stop)
	return stop
}

// timeout bounds every wait of a test, so that a broken hub fails instead of hanging.
func timeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// next is sub.Next that fails the test, instead of hanging it, should Next
// not return soon after its context ends.
func next(t *testing.T, ctx context.Context, sub *Subscriber) ([]Delivery, error) {
	t.Helper()
	type result struct {
		ds  []Delivery
		err error
	}
	ch := make(chan result, 1)
	go func() {
		ds, err := sub.Next(ctx)
		ch <- result{ds, err}
	}()
	select {
	case r := <-ch:
		return r.ds, r.err
	case <-ctx.Done():
	}
	select {
	case r := <-ch:
		return r.ds, r.err
	case <-time.After(time.Second):
		t.Fatal("Next does not return although its context ended")
		return nil, nil
	}
}

// collect reads from sub until its position reaches until, and returns the
// seqs delivered, checking that each frame matches its event.
func collect(t *testing.T, ctx context.Context, sub *Subscriber, until int64) []int64 {
	t.Helper()
	var seqs []int64
	for sub.Position() < until {
		ds, err := next(t, ctx, sub)
		if err != nil {
			t.Fatalf("Next at position %d of %d: %v", sub.Position(), until, err)
		}
		for _, d := range ds {
			checkFrame(t, d)
			seqs = append(seqs, d.Event.Seq)
		}
	}
	return seqs
}

func checkFrame(t *testing.T, d Delivery) {
	t.Helper()
	var f struct {
		Seq            int64           `json:"seq"`
		Kind           string          `json:"kind"`
		ConversationID int64           `json:"conversation_id"`
		Data           json.RawMessage `json:"data"`
		At             time.Time       `json:"created_at"`
	}
	if err := json.Unmarshal(d.Frame, &f); err != nil {
		t.Fatalf("frame %q of seq %d: %v", d.Frame, d.Event.Seq, err)
	}
	if f.Seq != d.Event.Seq || f.Kind != d.Event.Kind || f.ConversationID != d.Event.ConversationID ||
		string(f.Data) != string(d.Event.Data) || !f.At.Equal(d.Event.CreatedAt) {
		t.Errorf("frame %s does not match event %+v", d.Frame, d.Event)
	}
}

func seqRange(from, to int64) []int64 {
	out := []int64{}
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

func TestHello(t *testing.T) {
	tests := []struct {
		name        string
		after, head int64
	}{
		{"a fresh log", 0, 0},
		{"a stream from now", 42, 42},
		{"a replay that has events to catch up", 7, 42},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := Hello(tt.after, tt.head)
			var fields map[string]json.RawMessage
			if err := json.Unmarshal(raw, &fields); err != nil {
				t.Fatalf("Hello = %s: %v", raw, err)
			}
			keys := make([]string, 0, len(fields))
			for k := range fields {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if !slices.Equal(keys, []string{"at", "head", "kind", "seq"}) {
				t.Errorf("Hello = %s, want exactly kind, seq, head and at", raw)
			}
			var h struct {
				Kind string    `json:"kind"`
				Seq  int64     `json:"seq"`
				Head int64     `json:"head"`
				At   time.Time `json:"at"`
			}
			if err := json.Unmarshal(raw, &h); err != nil {
				t.Fatal(err)
			}
			if h.Kind != "hello" || h.Seq != tt.after || h.Head != tt.head {
				t.Errorf("Hello = %s, want kind hello, seq %d, head %d", raw, tt.after, tt.head)
			}
			if h.At.IsZero() || h.At.Location() != time.UTC {
				t.Errorf("Hello at = %v, want a UTC time", h.At)
			}
		})
	}
}

func TestNewHubStartsAtTheNewestEvent(t *testing.T) {
	src := &memSource{}
	src.commit(3, onRequest(1))
	if h := newHub(t, src); h.Head() != 3 {
		t.Errorf("Head = %d, want 3", h.Head())
	}
	broken := &memSource{fail: errors.New("database down")}
	if _, err := NewHub(t.Context(), broken, slog.New(slog.DiscardHandler)); err == nil {
		t.Error("NewHub on a failing log succeeded")
	}
}

func TestSubscriberFromNowReceivesNewEventsInOrder(t *testing.T) {
	ctx := timeout(t)
	src := &memSource{}
	src.commit(3, onRequest(1)) // before the hub: history, not news
	h := newHub(t, src)
	run(t, h)
	sub := h.Subscribe(h.Head(), everything)
	defer sub.Close()

	last := src.commit(5, func(seq int64) int64 { return seq % 2 })
	h.Notify(last)
	if got := collect(t, ctx, sub, last); !slices.Equal(got, seqRange(4, 8)) {
		t.Fatalf("first commit delivered %v, want 4…8", got)
	}

	// A second wake-up delivers only what is new.
	last = src.commit(4, onRequest(3))
	h.Notify(last)
	if got := collect(t, ctx, sub, last); !slices.Equal(got, seqRange(9, 12)) {
		t.Fatalf("second commit delivered %v, want 9…12", got)
	}
	if h.Head() != 12 || sub.Position() != 12 {
		t.Errorf("hub at %d, subscriber at %d; want both at 12", h.Head(), sub.Position())
	}
}

func TestSubscriberBehindTheWindowCatchesUpFromTheSource(t *testing.T) {
	ctx := timeout(t)
	src := &memSource{}
	h := newHub(t, src)
	stop := run(t, h)
	live := h.Subscribe(h.Head(), everything)
	defer live.Close()

	// More than twice the window, so the hub trims what it holds.
	const n = 2*window + batch + 500
	last := src.commit(n, func(seq int64) int64 { return seq%3 + 1 })
	h.Notify(last)
	if got := collect(t, ctx, live, last); !slices.Equal(got, seqRange(1, n)) {
		t.Fatalf("the live subscriber got %d events with gaps or repeats", len(got))
	}
	stop() // from here on only subscribers read the log

	h.mu.RLock()
	oldest := h.recent[0].Event.Seq
	held := len(h.recent)
	h.mu.RUnlock()
	if oldest <= 1 || held > 2*window {
		t.Fatalf("the hub holds %d events from seq %d: the window was not trimmed", held, oldest)
	}

	t.Run("a subscriber from the start gets every event once, in order", func(t *testing.T) {
		reads := src.readCount()
		sub := h.Subscribe(0, everything)
		defer sub.Close()
		if got := collect(t, ctx, sub, last); !slices.Equal(got, seqRange(1, n)) {
			t.Errorf("got %d events with gaps or repeats", len(got))
		}
		if src.readCount() == reads {
			t.Error("the subscriber did not read the log")
		}
	})

	t.Run("a filtered subscriber behind the window gets exactly what it sees", func(t *testing.T) {
		sub := h.Subscribe(oldest-batch/2, func(e cv.Event) bool { return e.Seq%2 == 0 })
		defer sub.Close()
		var want []int64
		for s := oldest - batch/2 + 1; s <= n; s++ {
			if s%2 == 0 {
				want = append(want, s)
			}
		}
		if got := collect(t, ctx, sub, last); !slices.Equal(got, want) {
			t.Errorf("got %d events, want the %d even ones", len(got), len(want))
		}
	})

	t.Run("a subscriber at the edge of the window needs no log read", func(t *testing.T) {
		reads := src.readCount()
		sub := h.Subscribe(oldest-1, everything)
		defer sub.Close()
		if got := collect(t, ctx, sub, last); !slices.Equal(got, seqRange(oldest, n)) {
			t.Errorf("got %d events with gaps or repeats", len(got))
		}
		if src.readCount() != reads {
			t.Error("the subscriber read the log although memory held its events")
		}
	})

	t.Run("a subscriber just behind the window reads the log", func(t *testing.T) {
		reads := src.readCount()
		sub := h.Subscribe(oldest-2, everything)
		defer sub.Close()
		if got := collect(t, ctx, sub, last); !slices.Equal(got, seqRange(oldest-1, n)) {
			t.Errorf("got %d events with gaps or repeats", len(got))
		}
		if src.readCount() == reads {
			t.Error("the subscriber did not read the log")
		}
	})

	t.Run("a failing log read ends Next with the error", func(t *testing.T) {
		src.mu.Lock()
		src.fail = errors.New("database down")
		src.mu.Unlock()
		defer func() {
			src.mu.Lock()
			src.fail = nil
			src.mu.Unlock()
		}()
		sub := h.Subscribe(0, everything)
		defer sub.Close()
		if _, err := next(t, ctx, sub); err == nil || ctx.Err() != nil {
			t.Errorf("Next = %v, want the log's error", err)
		}
		if sub.Position() != 0 {
			t.Errorf("position %d after a failed read, want 0", sub.Position())
		}
	})
}

func TestFilterHidesEventsButThePositionAdvances(t *testing.T) {
	ctx := timeout(t)
	src := &memSource{}
	h := newHub(t, src)
	run(t, h)
	mine := func(e cv.Event) bool { return e.ConversationID == 2 }
	sub := h.Subscribe(h.Head(), mine)
	defer sub.Close()
	all := h.Subscribe(h.Head(), everything) // tells when the hub has read a commit
	defer all.Close()

	requests := []int64{1, 1, 2, 1, 2, 1} // seqs 1…6
	last := src.commit(len(requests), func(seq int64) int64 { return requests[seq-1] })
	h.Notify(last)
	ds, err := next(t, ctx, sub)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, d := range ds {
		checkFrame(t, d)
		got = append(got, d.Event.Seq)
	}
	if !slices.Equal(got, []int64{3, 5}) {
		t.Errorf("delivered %v, want the events of request 2: [3 5]", got)
	}
	if sub.Position() != 6 {
		t.Errorf("position %d, want 6: the hidden event after the last visible one was examined too", sub.Position())
	}

	// A commit the subscriber may not see moves it on without a delivery.
	last = src.commit(3, onRequest(1))
	h.Notify(last)
	collect(t, ctx, all, last)
	done, cancel := context.WithCancel(ctx)
	cancel()
	if ds, err := next(t, done, sub); !errors.Is(err, context.Canceled) || len(ds) != 0 {
		t.Errorf("Next = %v, %v; want nothing to deliver", ds, err)
	}
	if sub.Position() != last {
		t.Errorf("position %d after hidden events, want %d", sub.Position(), last)
	}

	// What comes next is delivered alone: nothing hidden, nothing repeated.
	last = src.commit(1, onRequest(2))
	h.Notify(last)
	if got := collect(t, ctx, sub, last); !slices.Equal(got, []int64{last}) {
		t.Errorf("delivered %v, want [%d]", got, last)
	}
}

func typing(conv int64, n int) cv.Event {
	return cv.Event{
		Kind: cv.EventTyping, ConversationID: conv, Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, n)),
		CreatedAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

func TestPublish(t *testing.T) {
	onConv := func(id int64) func(cv.Event) bool {
		return func(e cv.Event) bool { return e.ConversationID == id }
	}

	t.Run("an ephemeral event reaches only the subscribers that see it", func(t *testing.T) {
		ctx := timeout(t)
		h := newHub(t, &memSource{})
		a := h.Subscribe(h.Head(), onConv(1))
		defer a.Close()
		b := h.Subscribe(h.Head(), onConv(2))
		defer b.Close()
		gone := h.Subscribe(h.Head(), everything)
		gone.Close()

		h.Publish(typing(1, 0))
		ds, err := next(t, ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 1 || ds[0].Event.Kind != cv.EventTyping {
			t.Fatalf("delivered %+v, want the typing event", ds)
		}
		var f map[string]any
		if err := json.Unmarshal(ds[0].Frame, &f); err != nil || f["seq"] != 0.0 || f["kind"] != cv.EventTyping {
			t.Errorf("frame %s, want seq 0 and kind typing", ds[0].Frame)
		}
		if len(b.ephemeral) != 0 {
			t.Error("a subscriber whose filter refuses the event got it")
		}
		if len(gone.ephemeral) != 0 {
			t.Error("a closed subscriber got the event")
		}
		if h.Head() != 0 || a.Position() != 0 {
			t.Errorf("an ephemeral event moved the stream: head %d, position %d", h.Head(), a.Position())
		}
	})

	t.Run("a subscriber with a full buffer misses events without blocking the hub", func(t *testing.T) {
		ctx := timeout(t)
		h := newHub(t, &memSource{})
		// Not closed on failure: Close would wait for a Publish that blocks.
		slow := h.Subscribe(h.Head(), everything)
		size := cap(slow.ephemeral)

		published := make(chan struct{})
		go func() {
			defer close(published)
			for i := range size + 5 {
				h.Publish(typing(1, i))
			}
		}()
		select {
		case <-published:
		case <-ctx.Done():
			t.Fatal("Publish blocked on a full subscriber")
		}

		for i := range size {
			ds, err := next(t, ctx, slow)
			if err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf(`{"n":%d}`, i); len(ds) != 1 || string(ds[0].Event.Data) != want {
				t.Fatalf("delivery %d = %+v, want data %s", i, ds, want)
			}
		}
		if len(slow.ephemeral) != 0 {
			t.Errorf("%d events beyond the buffer were kept", len(slow.ephemeral))
		}
		slow.Close()
	})
}
