package widget

import (
	"context"
	"strings"
	"sync"
	"time"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
)

// cardTTL is how long a name and avatar are reused before being read again.
const cardTTL = 10 * time.Second

type cachedCard struct {
	card Card
	at   time.Time
}

// cards finds who the visitor sees answering, keeping names and avatars for
// a few seconds: every reply pushed to a visitor needs one.
type cards struct {
	store      Store
	teamAvatar func(context.Context) bool
	mu         sync.Mutex
	seen       map[int64]cachedCard // agents by id, departments by -id
}

func newCards(store Store) *cards { return &cards{store: store, seen: map[int64]cachedCard{}} }

func (c *cards) channel(ctx context.Context, id int64) (cv.Channel, error) {
	return c.store.Channel(ctx, id)
}

func (c *cards) cached(key int64, load func() (Card, error)) (Card, error) {
	c.mu.Lock()
	hit, ok := c.seen[key]
	c.mu.Unlock()
	if ok && time.Since(hit.at) < cardTTL {
		return hit.card, nil
	}
	card, err := load()
	if err != nil {
		return Card{}, err
	}
	c.mu.Lock()
	if len(c.seen) > 10000 {
		clear(c.seen)
	}
	c.seen[key] = cachedCard{card: card, at: time.Now()}
	c.mu.Unlock()
	return card, nil
}

func (c *cards) agent(ctx context.Context, id int64) Card {
	card, err := c.cached(id, func() (Card, error) {
		a, err := c.store.Agent(ctx, id)
		return Card{Name: a.Name, AvatarURL: avatarURL(a.Avatar)}, err
	})
	if err != nil {
		return Card{Name: "Support"}
	}
	return card
}

func (c *cards) department(ctx context.Context, id int64) (Card, error) {
	return c.cached(-id, func() (Card, error) {
		d, err := c.store.Department(ctx, id)
		name := d.DisplayName
		if name == "" {
			name = d.Name
		}
		return Card{Name: name, AvatarURL: avatarURL(d.Avatar)}, err
	})
}

// single reports whether the visitor sees the department instead of agents:
// the channel's own setting or the team's.
func (c *cards) single(ctx context.Context, ch cv.Channel) bool {
	return ch.Widget != nil && ch.Widget.Appearance.DepartmentAvatar || c.teamAvatar != nil && c.teamAvatar(ctx)
}

// answering is who the visitor sees answering a request: its department when
// the channel shows a single department avatar, else the agent.
func (c *cards) answering(ctx context.Context, ch cv.Channel, departmentID, agentID int64) Card {
	if departmentID != 0 && c.single(ctx, ch) {
		if card, err := c.department(ctx, departmentID); err == nil {
			return card
		}
	}
	return c.agent(ctx, agentID)
}

func avatarURL(blob string) string {
	if blob == "" {
		return ""
	}
	return "/avatars/" + strings.TrimPrefix(blob, "avatars/")
}
