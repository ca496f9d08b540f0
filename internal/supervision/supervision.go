// Package supervision is Management's view of the floor (docs/supervision.md):
// every open live chat, sortable and filtered, and every agent at work with
// their load and today's metrics. Both need the omnichannel.management right.
package supervision

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the team's time zone loads on machines without zoneinfo too

	"github.com/switchboard-hq/switchboard/internal/access"
	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/team"
)

// Sort is an order of the active chats, each an index scan.
type Sort string

// The orders of the active chats.
const (
	// SortDuration is the longest-running chat first (oldest created).
	SortDuration Sort = "duration"
	// SortActivity is the latest message first.
	SortActivity Sort = "activity"
	// SortCreated is the newest chat first.
	SortCreated Sort = "created"
)

// Valid reports whether s is a known order.
func (s Sort) Valid() bool { return s == SortDuration || s == SortActivity || s == SortCreated }

// Page sizes of the active chats.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// ChatQuery asks for one page of the active chats.
type ChatQuery struct {
	// DepartmentID and Kind narrow the list; zero values mean all.
	DepartmentID int64
	Kind         cv.ChannelKind
	// Sort is SortDuration when empty.
	Sort Sort
	// Cursor is Page.Next of the previous page ("" for the first page).
	Cursor string
	// Limit is clamped to 1…MaxLimit; 0 or less means DefaultLimit.
	Limit int
}

// Cursor is a position in the active chats: the sort time and id of the last
// row of a page.
type Cursor struct {
	At time.Time
	ID int64
}

// IsZero reports whether the cursor is the start of the list.
func (c Cursor) IsZero() bool { return c.ID == 0 }

// encode makes the cursor opaque; it names its order, so that a cursor is
// never read in another one.
func (c Cursor) encode(s Sort) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%s.%d.%d", s, c.At.UnixMilli(), c.ID))
}

func parseCursor(s Sort, v string) (Cursor, error) {
	if v == "" {
		return Cursor{}, nil
	}
	bad := errs.Invalid("cursor", "not a cursor of this list in this order")
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return Cursor{}, bad
	}
	parts := strings.Split(string(raw), ".")
	if len(parts) != 3 || Sort(parts[0]) != s {
		return Cursor{}, bad
	}
	ms, err1 := strconv.ParseInt(parts[1], 10, 64)
	id, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || id <= 0 {
		return Cursor{}, bad
	}
	return Cursor{At: time.UnixMilli(ms).UTC(), ID: id}, nil
}

// cursorOf is the position of c in the order s.
func cursorOf(s Sort, c Chat) Cursor {
	if s == SortActivity {
		return Cursor{At: c.LastMessageAt, ID: c.ID}
	}
	return Cursor{At: c.CreatedAt, ID: c.ID}
}

// Chat is an open live request with the names a supervisor reads.
type Chat struct {
	cv.Conversation
	// AssigneeName is "" for a request in the queue.
	AssigneeName   string `json:"assignee_name"`
	DepartmentName string `json:"department_name"`
}

// Page is one page of the active chats; Next is "" on the last page.
type Page struct {
	Chats []Chat `json:"chats"`
	Next  string `json:"next"`
}

// Agent is one agent at work, as Management → Agents shows them.
type Agent struct {
	ID   int64
	Name string
	// Avatar is the blob name of the avatar image, "" when there is none.
	Avatar   string
	Presence team.Presence
	// Reason is the name of the away reason of an Away agent, "" when none.
	Reason string
	// Since is when the current presence (and reason) started.
	Since time.Time
	// ConnectedUntil is until when a workspace tab vouches for the agent;
	// Connected is whether that is still in the future.
	ConnectedUntil time.Time
	Connected      bool
	// ActiveChats counts the agent's open live requests.
	ActiveChats int
	// Capacity is the largest capacity of the enabled dispatch rules of the
	// agent's groups; 0 when none applies.
	Capacity int
	// LastReplyAt is the time of the agent's latest reply anywhere.
	LastReplyAt *time.Time
	Today       Today
}

// Today is an agent's metrics of the current day (docs/supervision.md).
type Today struct {
	// FirstReplySeconds averages the first reply times of the requests
	// whose first reply by the agent was written today; nil when none.
	FirstReplySeconds *float64 `json:"first_reply_seconds"`
	// ReplySeconds averages the reply times of today's replies; nil when none.
	ReplySeconds *float64 `json:"reply_seconds"`
	// Replies counts the agent's replies written today.
	Replies int `json:"replies"`
}

// Sums are the metrics of a set of replies of one agent, to be added up.
type Sums struct {
	// Replies counts the replies.
	Replies int64
	// FirstReplies counts those that were the first reply since the
	// request was assigned to the agent; FirstReplyMillis adds up their
	// first reply times.
	FirstReplies, FirstReplyMillis int64
	// Answers counts those that answered a run of client messages;
	// AnswerMillis adds up their reply times.
	Answers, AnswerMillis int64
}

// Today returns the day's metrics of these sums.
func (s Sums) Today() Today {
	return Today{Replies: int(s.Replies), FirstReplySeconds: Average(s.FirstReplyMillis, s.FirstReplies), ReplySeconds: Average(s.AnswerMillis, s.Answers)}
}

// Average is totalMillis / n in seconds, nil when n is 0.
func Average(totalMillis, n int64) *float64 {
	if n == 0 {
		return nil
	}
	v := float64(totalMillis) / float64(n) / 1000
	return &v
}

// Store is what supervision reads.
type Store interface {
	// ManagementChats returns up to limit open live requests in the order q.Sort,
	// after the cursor, filtered by q.DepartmentID and q.Kind.
	ManagementChats(ctx context.Context, q ChatQuery, after Cursor, limit int) ([]Chat, error)
	// ManagementAgents returns every active agent with the omnichannel right
	// (administrators included), by name, without Today.
	ManagementAgents(ctx context.Context) ([]Agent, error)
	// ManagementMetrics sums, per agent of ids, the metrics of the replies
	// they wrote in [from, to) (docs/supervision.md). An agent without
	// replies there may be missing.
	ManagementMetrics(ctx context.Context, ids []int64, from, to time.Time) (map[int64]Sums, error)
	// Setting returns a team-wide setting's JSON, "" when never set.
	Setting(ctx context.Context, key string) (string, error)
}

// Service answers Management's questions.
type Service struct {
	store Store
}

// NewService returns the supervision service.
func NewService(store Store) *Service { return &Service{store: store} }

// ActiveChats returns one page of the open live requests.
func (s *Service) ActiveChats(ctx context.Context, actor access.Actor, q ChatQuery) (Page, error) {
	if err := actor.Require(access.Management); err != nil {
		return Page{}, err
	}
	if q.Sort == "" {
		q.Sort = SortDuration
	}
	if !q.Sort.Valid() {
		return Page{}, errs.Invalid("sort", "must be duration, activity or created")
	}
	if q.Kind != "" && !q.Kind.Valid() {
		return Page{}, errs.Invalid("channel", "unknown channel kind")
	}
	if q.DepartmentID < 0 {
		return Page{}, errs.Invalid("department_id", "must be a positive number")
	}
	after, err := parseCursor(q.Sort, q.Cursor)
	if err != nil {
		return Page{}, err
	}
	limit := ClampLimit(q.Limit)
	// One row more than the page tells whether there is a next page.
	chats, err := s.store.ManagementChats(ctx, q, after, limit+1)
	if err != nil {
		return Page{}, err
	}
	p := Page{Chats: chats}
	if len(chats) > limit {
		p.Chats = chats[:limit]
		p.Next = cursorOf(q.Sort, p.Chats[limit-1]).encode(q.Sort)
	}
	return p, nil
}

// ClampLimit is the page size for a requested limit.
func ClampLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultLimit
	case n > MaxLimit:
		return MaxLimit
	}
	return n
}

// Agents returns every agent at work with today's metrics, as of now.
func (s *Service) Agents(ctx context.Context, actor access.Actor, now time.Time) ([]Agent, error) {
	if err := actor.Require(access.Management); err != nil {
		return nil, err
	}
	loc, err := s.location(ctx)
	if err != nil {
		return nil, err
	}
	agents, err := s.store.ManagementAgents(ctx)
	if err != nil || len(agents) == 0 {
		return agents, err
	}
	ids := make([]int64, len(agents))
	for i, a := range agents {
		ids[i] = a.ID
	}
	from, to := Day(now, loc)
	sums, err := s.store.ManagementMetrics(ctx, ids, from, to)
	if err != nil {
		return nil, err
	}
	for i := range agents {
		a := &agents[i]
		a.Connected = a.ConnectedUntil.After(now)
		a.Today = sums[a.ID].Today()
	}
	return agents, nil
}

// location is the team's time zone (Settings → Omnichannel), UTC when unset
// or not loadable.
func (s *Service) location(ctx context.Context) (*time.Location, error) {
	raw, err := s.store.Setting(ctx, "omnichannel")
	if err != nil || raw == "" {
		return time.UTC, err
	}
	var v struct {
		TimeZone string `json:"time_zone"`
	}
	if json.Unmarshal([]byte(raw), &v) != nil || v.TimeZone == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(v.TimeZone)
	if err != nil {
		return time.UTC, nil
	}
	return loc, nil
}

// Day is the calendar day of t in loc, as [from, to).
func Day(t time.Time, loc *time.Location) (from, to time.Time) {
	y, m, d := t.In(loc).Date()
	from = time.Date(y, m, d, 0, 0, 0, 0, loc)
	return from, time.Date(y, m, d+1, 0, 0, 0, 0, loc)
}
