package widget

import (
	"context"
	"log/slog"
	"math"
	"sync"
	"time"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
)

const (
	// rateWindow is how far back assignments count for the wait estimate.
	rateWindow = 30 * time.Minute
	// queueEvery is how often changed queue positions are told to visitors.
	queueEvery = 2 * time.Second
	// queueDepth bounds how much of the queue is read each time.
	queueDepth = 1000
)

// Waiting is a request waiting in the Unassigned queue.
type Waiting struct {
	ID, ChannelID, ClientID, GroupID int64
}

// queue keeps what the visitors' place in the queue needs: whether the
// queue changed, and when requests were recently assigned (the rate that
// gives the estimated wait).
type queue struct {
	mu       sync.Mutex
	dirty    bool
	assigned []time.Time
}

// note watches the event stream: a request arriving, taken, returned or
// ended changes everyone's place.
func (q *queue) note(e cv.Event) {
	switch e.Kind {
	case cv.EventConversationAssigned:
		q.mu.Lock()
		q.assigned = append(q.assigned, e.CreatedAt)
		q.dirty = true
		q.mu.Unlock()
	case cv.EventConversationCreated, cv.EventConversationReturned, cv.EventConversationClosed,
		cv.EventConversationUpdated, cv.EventConversationTransferred:
		q.touch()
	}
}

func (q *queue) touch() {
	q.mu.Lock()
	q.dirty = true
	q.mu.Unlock()
}

// changed reports and clears whether the queue changed.
func (q *queue) changed() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	was := q.dirty
	q.dirty = false
	return was
}

// wait estimates how long the request at position waits: the position over
// the recent assignment rate (0 when nothing was assigned lately: unknown).
func (q *queue) wait(position int, now time.Time) time.Duration {
	q.mu.Lock()
	defer q.mu.Unlock()
	cut := 0
	for cut < len(q.assigned) && now.Sub(q.assigned[cut]) > rateWindow {
		cut++
	}
	q.assigned = q.assigned[cut:]
	if len(q.assigned) == 0 {
		return 0
	}
	span := max(now.Sub(q.assigned[0]), time.Minute)
	perAssignment := span.Seconds() / float64(len(q.assigned))
	return time.Duration(math.Ceil(perAssignment*float64(position))) * time.Second
}

// tellQueue sends waiting visitors their place in their group's queue and
// the estimated wait, whenever the queue has changed (at most every
// queueEvery), and only to those whose place changed.
func (p *Pusher) tellQueue(ctx context.Context) {
	t := time.NewTicker(queueEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !p.queue.changed() || p.idle() {
			continue
		}
		list, err := p.svc.store.WaitingQueue(ctx, queueDepth)
		if err != nil {
			if ctx.Err() == nil {
				p.log.Warn("widget pusher: read the queue", slog.Any("error", err))
			}
			continue
		}
		ahead := map[int64]int{} // per group
		places := map[*Link]int{}
		now := time.Now()
		for _, w := range list {
			ahead[w.GroupID]++
			p.mu.RLock()
			for l := range p.byClient[w.ClientID] {
				if l.ch.ID == w.ChannelID {
					places[l] = ahead[w.GroupID]
				}
			}
			p.mu.RUnlock()
		}
		p.mu.RLock()
		var all []*Link
		for _, set := range p.byClient {
			for l := range set {
				all = append(all, l)
			}
		}
		p.mu.RUnlock()
		for _, l := range all {
			place := places[l]
			l.mu.Lock()
			same := l.place == place
			l.place = place
			l.mu.Unlock()
			if same {
				continue
			}
			l.push(jsonFrame(map[string]any{"type": "queue", "position": place, "wait_seconds": int(p.queue.wait(place, now).Seconds())}), 0)
		}
	}
}
