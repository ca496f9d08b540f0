// Package realtime streams committed events to agents (and later visitors).
// One Hub per instance reads each new batch of events from the log once and
// fans it out in memory; a subscriber that is behind the in-memory window
// (a reconnect after a long gap) catches up from the table. Because sequence
// numbers become visible strictly in order, "everything after seq N" is
// always complete, so reconnecting clients never lose or repeat an event.
package realtime

import (
	"context"
	"encoding/json"
	"log/slog"
	"sort"
	"sync"
	"time"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
)

// Source is the event log.
type Source interface {
	EventsAfter(ctx context.Context, after int64, limit int) ([]cv.Event, error)
	LastSeq(ctx context.Context) (int64, error)
}

const (
	// window is how many recent events stay in memory for fan-out.
	window = 4096
	// batch is how many events one read takes from the log.
	batch = 1000
	// poll is the safety net: the hub looks for events this often even
	// without a wake-up (a lost NOTIFY, a commit by a crashed instance).
	poll = time.Second
)

// Hub fans committed events out to subscribers.
type Hub struct {
	src  Source
	log  *slog.Logger
	wake chan struct{}

	mu     sync.RWMutex
	head   int64      // last seq read from the log
	recent []Delivery // the last events up to head, oldest first
	subs   map[*Subscriber]struct{}
}

// Delivery is an event with its frame, encoded once for every socket.
type Delivery struct {
	Event cv.Event
	Frame []byte
}

// deliver encodes an event as its frame: the event's own JSON (ephemeral
// events, such as typing, carry seq 0).
func deliver(e cv.Event) Delivery {
	data, _ := json.Marshal(e)
	return Delivery{Event: e, Frame: data}
}

// maxPack bounds how many frames go into one websocket message.
const maxPack = 256

// Pack groups deliveries into websocket messages: a single frame as it is,
// several as one JSON array, so a socket that is behind pays one write (one
// system call) for many events instead of one each.
func Pack(ds []Delivery) [][]byte {
	var out [][]byte
	for len(ds) > 0 {
		n := min(len(ds), maxPack)
		if n == 1 {
			out = append(out, ds[0].Frame)
		} else {
			size := n + 1
			for _, d := range ds[:n] {
				size += len(d.Frame)
			}
			msg := make([]byte, 0, size)
			msg = append(msg, '[')
			for i, d := range ds[:n] {
				if i > 0 {
					msg = append(msg, ',')
				}
				msg = append(msg, d.Frame...)
			}
			out = append(out, append(msg, ']'))
		}
		ds = ds[n:]
	}
	return out
}

// SplitFrames reads the frames of one websocket message of the stream: a
// frame, or an array of frames.
func SplitFrames(msg []byte) ([]json.RawMessage, error) {
	if len(msg) > 0 && msg[0] == '[' {
		var frames []json.RawMessage
		err := json.Unmarshal(msg, &frames)
		return frames, err
	}
	return []json.RawMessage{msg}, nil
}

// Hello is the first frame of a stream: where it starts (after) and the
// newest seq at that moment (head), so a replaying client knows when it has
// caught up.
func Hello(after, head int64) []byte {
	data, _ := json.Marshal(struct {
		Kind string    `json:"kind"`
		Seq  int64     `json:"seq"`
		Head int64     `json:"head"`
		At   time.Time `json:"at"`
	}{"hello", after, head, time.Now().UTC()})
	return data
}

// NewHub returns a hub reading from src, positioned at the newest event so
// that "from now on" means now from the first subscriber on. Call Run.
func NewHub(ctx context.Context, src Source, log *slog.Logger) (*Hub, error) {
	head, err := src.LastSeq(ctx)
	if err != nil {
		return nil, err
	}
	return &Hub{src: src, log: log, head: head, wake: make(chan struct{}, 1), subs: map[*Subscriber]struct{}{}}, nil
}

// Notify tells the hub that events up to seq were committed. It never blocks.
func (h *Hub) Notify(seq int64) {
	h.mu.RLock()
	behind := seq > h.head
	h.mu.RUnlock()
	if behind {
		select {
		case h.wake <- struct{}{}:
		default:
		}
	}
}

// Run reads new events until ctx ends.
func (h *Hub) Run(ctx context.Context) {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.wake:
		case <-t.C:
		}
		for h.readMore(ctx) {
		}
	}
}

// readMore reads one batch after head and wakes subscribers; it reports
// whether there may be more.
func (h *Hub) readMore(ctx context.Context) bool {
	h.mu.RLock()
	head := h.head
	h.mu.RUnlock()
	evs, err := h.src.EventsAfter(ctx, head, batch)
	if err != nil {
		if ctx.Err() == nil {
			h.log.Warn("realtime: read events", slog.Int64("seq", head), slog.Any("error", err))
		}
		return false
	}
	if len(evs) == 0 {
		return false
	}
	fresh := make([]Delivery, len(evs))
	for i, e := range evs {
		fresh[i] = deliver(e)
	}
	h.mu.Lock()
	h.recent = append(h.recent, fresh...)
	// Trim only when twice the window is held: a copy every window events,
	// not on every wake-up.
	if len(h.recent) > 2*window {
		h.recent = append([]Delivery(nil), h.recent[len(h.recent)-window:]...)
	}
	h.head = evs[len(evs)-1].Seq
	for s := range h.subs {
		s.signal()
	}
	h.mu.Unlock()
	return len(evs) == batch
}

// Head returns the last seq the hub has read.
func (h *Hub) Head() int64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.head
}

// Publish sends an ephemeral event (typing) to current subscribers; it is not
// stored and not replayed.
func (h *Hub) Publish(e cv.Event) {
	d := deliver(e)
	h.mu.RLock()
	defer h.mu.RUnlock()
	for s := range h.subs {
		if s.sees(e) {
			select {
			case s.ephemeral <- d:
			default: // a slow subscriber misses a typing indicator, nothing more
			}
		}
	}
}

// Subscriber receives the events after its position that its filter lets through.
type Subscriber struct {
	hub       *Hub
	pos       int64
	sees      func(cv.Event) bool
	notify    chan struct{}
	ephemeral chan Delivery
}

// Subscribe starts a subscription after seq (use Head for "from now on").
func (h *Hub) Subscribe(after int64, sees func(cv.Event) bool) *Subscriber {
	s := &Subscriber{hub: h, pos: after, sees: sees, notify: make(chan struct{}, 1), ephemeral: make(chan Delivery, 16)}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	s.signal()
	return s
}

// Close ends the subscription.
func (s *Subscriber) Close() {
	s.hub.mu.Lock()
	delete(s.hub.subs, s)
	s.hub.mu.Unlock()
}

func (s *Subscriber) signal() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// Next waits for events after the subscriber's position that it may see and
// returns them, advancing the position past everything examined (filtered-out
// events included). It waits until there are some, or ctx ends. Ephemeral
// events come alone.
func (s *Subscriber) Next(ctx context.Context) ([]Delivery, error) {
	for {
		evs, more, err := s.pending(ctx)
		if err != nil {
			return nil, err
		}
		if len(evs) > 0 {
			return evs, nil
		}
		if more {
			continue
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case d := <-s.ephemeral:
			return []Delivery{d}, nil
		case <-s.notify:
		}
	}
}

// pending returns the visible events after pos from memory, or from the log
// when pos is older than the in-memory window.
func (s *Subscriber) pending(ctx context.Context) (visible []Delivery, more bool, err error) {
	h := s.hub
	h.mu.RLock()
	head := h.head
	var ds []Delivery
	inWindow := len(h.recent) > 0 && h.recent[0].Event.Seq <= s.pos+1
	if inWindow {
		ds = h.recent[sort.Search(len(h.recent), func(i int) bool { return h.recent[i].Event.Seq > s.pos }):]
	}
	h.mu.RUnlock()
	if s.pos >= head {
		return nil, false, nil
	}
	if !inWindow {
		evs, err := h.src.EventsAfter(ctx, s.pos, batch)
		if err != nil {
			return nil, false, err
		}
		for _, e := range evs {
			if s.sees(e) {
				ds = append(ds, deliver(e))
			} else {
				ds = append(ds, Delivery{Event: e})
			}
		}
		if len(ds) == 0 {
			return nil, false, nil
		}
	}
	for _, d := range ds {
		if d.Event.Seq > head {
			break
		}
		if s.sees(d.Event) {
			visible = append(visible, d)
		}
		s.pos = d.Event.Seq
	}
	return visible, s.pos < head, nil
}

// Position returns the last seq the subscriber has examined.
func (s *Subscriber) Position() int64 { return s.pos }
