package widget

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"sync"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/realtime"
)

// Socket is a visitor's websocket.
type Socket interface {
	Send(frame []byte) error
	Close()
}

// Pusher forwards what happens in visitors' requests to their websockets:
// replies, typing, read state, who answers, the end of the chat. It reads the
// event stream once for every visitor connected to this instance, so an idle
// visitor costs a map entry and no goroutine.
type Pusher struct {
	svc *Service
	hub *realtime.Hub
	log *slog.Logger

	mu       sync.RWMutex
	byClient map[int64]map[*Link]struct{} // visitors who have written, by client
	waiting  map[int64]map[*Link]struct{} // visitors who have not, by channel

	queue queue
}

// NewPusher returns a pusher; Run starts it.
func NewPusher(svc *Service, hub *realtime.Hub, log *slog.Logger) *Pusher {
	return &Pusher{svc: svc, hub: hub, log: log, byClient: map[int64]map[*Link]struct{}{}, waiting: map[int64]map[*Link]struct{}{}}
}

// Link is one visitor's socket attached to the pusher.
type Link struct {
	p       *Pusher
	ch      cv.Channel
	visitor int64
	client  int64 // guarded by p.mu

	mu    sync.Mutex
	ready bool      // the catch-up has been sent
	held  []pending // live frames that came during the catch-up
	last  int64     // the highest message id sent
	place int       // the queue position last told (0: not waiting)
	sock  Socket
}

type pending struct {
	frame []byte
	id    int64
}

// Run forwards events until ctx ends.
func (p *Pusher) Run(ctx context.Context) {
	sub := p.hub.Subscribe(p.hub.Head(), func(cv.Event) bool { return true })
	defer sub.Close()
	go p.tellQueue(ctx)
	for {
		ds, err := sub.Next(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			p.log.Warn("widget pusher: read events", slog.Any("error", err))
			continue
		}
		for _, d := range ds {
			p.queue.note(d.Event)
		}
		if p.idle() {
			continue
		}
		for _, d := range ds {
			p.handle(ctx, d.Event)
		}
	}
}

func (p *Pusher) idle() bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return len(p.byClient) == 0 && len(p.waiting) == 0
}

// Attach connects a visitor's socket: it first sends the visitor's messages
// after the id they last saw (the latest page for 0), then live frames, so a
// reconnect neither loses nor repeats a message.
func (p *Pusher) Attach(ctx context.Context, ch cv.Channel, v Visitor, sock Socket, after int64) (*Link, error) {
	// Filed before anything is read: a first message written meanwhile moves
	// the link under its client (linksOf), and what commits meanwhile is held.
	l := &Link{p: p, ch: ch, visitor: v.ID, sock: sock}
	p.mu.Lock()
	p.place(l, 0)
	p.mu.Unlock()
	client, err := p.svc.store.VisitorClient(ctx, v.ID)
	if err != nil {
		l.Detach()
		return nil, err
	}
	p.mu.Lock()
	if l.client == 0 && client != 0 {
		p.unplace(l)
		p.place(l, client)
	}
	p.mu.Unlock()
	// Registered before reading the backlog: what commits meanwhile is held
	// and sent after it, minus what the backlog already had.
	var backlog []Message
	if client != 0 {
		for {
			page, err := p.svc.History(ctx, ch, v, after, 0)
			if err != nil {
				l.Detach()
				return nil, err
			}
			backlog = append(backlog, page...)
			if after == 0 || len(page) < pageSize || len(backlog) >= 10*pageSize {
				break
			}
			after = page[len(page)-1].ID
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range backlog {
		l.sendLocked(messageFrame(m), m.ID)
	}
	l.ready = true
	p.queue.touch()
	for _, h := range l.held {
		l.sendLocked(h.frame, h.id)
	}
	l.held = nil
	return l, nil
}

// Detach forgets the socket (it has closed).
func (l *Link) Detach() {
	l.p.mu.Lock()
	defer l.p.mu.Unlock()
	l.p.unplace(l)
}

// unplace removes a link from where it is filed. p.mu is held.
func (p *Pusher) unplace(l *Link) {
	key, set := l.client, p.byClient
	if key == 0 {
		key, set = l.ch.ID, p.waiting
	}
	delete(set[key], l)
	if len(set[key]) == 0 {
		delete(set, key)
	}
}

// place files a link under its client, or under its channel while the
// visitor has not written yet. p.mu is held.
func (p *Pusher) place(l *Link, client int64) {
	l.client = client
	key, set := client, p.byClient
	if client == 0 {
		key, set = l.ch.ID, p.waiting
	}
	if set[key] == nil {
		set[key] = map[*Link]struct{}{}
	}
	set[key][l] = struct{}{}
}

func (l *Link) push(frame []byte, id int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.ready {
		l.held = append(l.held, pending{frame, id})
		return
	}
	l.sendLocked(frame, id)
}

func (l *Link) sendLocked(frame []byte, id int64) {
	if id != 0 {
		if id <= l.last {
			return
		}
		l.last = id
	}
	if err := l.sock.Send(frame); err != nil {
		l.sock.Close() // the widget reconnects and catches up
	}
}

// eventData is the part of a request event the pusher reads.
type eventData struct {
	Conversation cv.Conversation `json:"conversation"`
	Message      *cv.Message     `json:"message"`
	// Typing events carry these instead of a conversation.
	Who       string `json:"who"`
	AgentID   int64  `json:"agent_id"`
	ChannelID int64  `json:"channel_id"`
	ClientID  int64  `json:"client_id"`
}

func (p *Pusher) handle(ctx context.Context, e cv.Event) {
	switch e.Kind {
	case cv.EventMessageCreated, cv.EventConversationAssigned, cv.EventConversationTransferred,
		cv.EventConversationClosed, cv.EventConversationUpdated, cv.EventConversationRead, cv.EventTyping:
	default:
		return
	}
	var d eventData
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return
	}
	c := d.Conversation
	if e.Kind == cv.EventTyping {
		if d.Who != "agent" {
			return
		}
		c = cv.Conversation{ID: e.ConversationID, ChannelID: d.ChannelID, ChannelKind: cv.Widget, ClientID: d.ClientID}
	}
	if c.ChannelKind != cv.Widget || c.ClientID == 0 {
		return
	}
	links := p.linksOf(ctx, c, e.Kind == cv.EventMessageCreated && d.Message != nil && d.Message.Kind == cv.FromClient)
	if len(links) == 0 {
		return
	}
	ch := links[0].ch
	var frame []byte
	var id int64
	switch e.Kind {
	case cv.EventTyping:
		frame = jsonFrame(map[string]any{"type": "typing", "name": p.svc.cards.answering(ctx, ch, c.DepartmentID, d.AgentID).Name})
	case cv.EventMessageCreated:
		if d.Message == nil || !ForVisitor(d.Message.Kind) {
			return
		}
		m := p.svc.present(ctx, ch, map[int64]int64{c.ID: c.DepartmentID}, []cv.Message{*d.Message})[0]
		frame, id = messageFrame(m), m.ID
	case cv.EventConversationAssigned, cv.EventConversationTransferred:
		if c.AssigneeID == 0 {
			return
		}
		frame = jsonFrame(map[string]any{"type": "agent", "conversation_id": c.ID, "agent": p.svc.cards.answering(ctx, ch, c.DepartmentID, c.AssigneeID)})
	case cv.EventConversationClosed, cv.EventConversationUpdated:
		if c.Open() && c.Mode == cv.Live {
			return
		}
		frame = jsonFrame(map[string]any{"type": "closed", "conversation_id": c.ID})
	case cv.EventConversationRead:
		frame = jsonFrame(map[string]any{"type": "read", "conversation_id": c.ID})
	}
	for _, l := range links {
		l.push(frame, id)
	}
}

// linksOf returns the sockets of the visitors who are the request's client on
// its channel. A visitor's first message makes them that client: their
// socket, waiting under the channel, moves under the client — also when the
// client has sockets already (the same verified person on a second device).
func (p *Pusher) linksOf(ctx context.Context, c cv.Conversation, clientWrote bool) []*Link {
	p.mu.RLock()
	links := matching(p.byClient[c.ClientID], c.ChannelID)
	anyWaiting := len(p.waiting[c.ChannelID]) > 0
	p.mu.RUnlock()
	if !clientWrote || !anyWaiting {
		return links
	}
	visitors, err := p.svc.store.VisitorsOfClient(ctx, c.ClientID)
	if err != nil || len(visitors) == 0 {
		return links
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for l := range p.waiting[c.ChannelID] {
		if slices.Contains(visitors, l.visitor) {
			p.unplace(l)
			p.place(l, c.ClientID)
		}
	}
	return matching(p.byClient[c.ClientID], c.ChannelID)
}

func matching(set map[*Link]struct{}, channelID int64) []*Link {
	var out []*Link
	for l := range set {
		if l.ch.ID == channelID {
			out = append(out, l)
		}
	}
	return out
}

func messageFrame(m Message) []byte {
	return jsonFrame(map[string]any{"type": "message", "message": m})
}

func jsonFrame(v any) []byte {
	data, _ := json.Marshal(v)
	return data
}
