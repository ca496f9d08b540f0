package conversation

import (
	"encoding/base64"
	"reflect"
	"testing"
	"time"

	"github.com/switchboard-hq/switchboard/internal/access"
	"github.com/switchboard-hq/switchboard/internal/errs"
)

// The agent of the visibility tests: agent 7, member of groups 1 and 2.
const me, other int64 = 7, 8

var (
	agentOnly  = Viewer{AgentID: me, Groups: []int64{1, 2}}
	queueAgent = Viewer{AgentID: me, Queue: true, Groups: []int64{1, 2}}
	supervisor = Viewer{AgentID: me, All: true, Queue: true, Groups: []int64{1, 2}}
)

func TestViewerOf(t *testing.T) {
	tests := []struct {
		name  string
		actor access.Actor
		want  Viewer
	}{
		{"an agent with the module right sees only their own requests",
			access.Actor{AgentID: me, Granted: []access.Right{access.Omnichannel}, Groups: []int64{1}},
			Viewer{AgentID: me, Groups: []int64{1}}},
		{"the unassigned right opens the queue",
			access.Actor{AgentID: me, Granted: []access.Right{access.Omnichannel, access.Unassigned}, Groups: []int64{1, 2}},
			Viewer{AgentID: me, Queue: true, Groups: []int64{1, 2}}},
		{"the management right sees everything",
			access.Actor{AgentID: me, Granted: []access.Right{access.Omnichannel, access.Management}},
			Viewer{AgentID: me, All: true}},
		{"sub-rights without the module right count for nothing",
			access.Actor{AgentID: me, Granted: []access.Right{access.Unassigned, access.Management}, Groups: []int64{3}},
			Viewer{AgentID: me, Groups: []int64{3}}},
		{"an administrator sees everything and the queue",
			access.Actor{AgentID: me, Admin: true},
			Viewer{AgentID: me, All: true, Queue: true}},
		{"the system actor is no agent but sees everything",
			access.System,
			Viewer{All: true, Queue: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ViewerOf(tt.actor); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ViewerOf = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestViewerSeesEvent(t *testing.T) {
	tests := []struct {
		name   string
		viewer Viewer
		event  Event
		want   bool
	}{
		{"an event without a request (presence) reaches every agent",
			agentOnly, Event{Kind: EventAgentPresence}, true},
		{"an event without a request reaches even a viewer that is no agent",
			Viewer{}, Event{Kind: EventAgentPresence}, true},
		{"a supervisor sees another agent's request",
			supervisor, Event{ConversationID: 1, AssigneeID: other}, true},
		{"a supervisor sees a request of a group they are not in",
			supervisor, Event{ConversationID: 1, GroupID: 9, Queued: true}, true},
		{"an agent sees their own request",
			agentOnly, Event{ConversationID: 1, AssigneeID: me, GroupID: 9}, true},
		{"an agent sees the event that transferred their request away",
			agentOnly, Event{ConversationID: 1, AssigneeID: other, PrevAssigneeID: me}, true},
		{"an agent does not see another agent's request",
			queueAgent, Event{ConversationID: 1, AssigneeID: other, GroupID: 1}, false},
		{"the queue right shows queued requests of the agent's groups",
			queueAgent, Event{ConversationID: 1, GroupID: 2, Queued: true}, true},
		{"the queue right shows queued requests of no group",
			queueAgent, Event{ConversationID: 1, Queued: true}, true},
		{"the queue right hides queued requests of other groups",
			queueAgent, Event{ConversationID: 1, GroupID: 9, Queued: true}, false},
		{"the take of a queued request reaches the other agents of the group",
			queueAgent, Event{ConversationID: 1, AssigneeID: other, GroupID: 1, Queued: true}, true},
		{"without the queue right queued requests stay hidden",
			agentOnly, Event{ConversationID: 1, GroupID: 1, Queued: true}, false},
		{"an unassigned request that is not queued (classic) stays hidden",
			queueAgent, Event{ConversationID: 1, GroupID: 1}, false},
		{"a viewer that is no agent does not own unassigned requests",
			Viewer{}, Event{ConversationID: 1}, false},
		{"a viewer that is no agent does not own requests transferred from nobody",
			Viewer{Queue: true, Groups: []int64{1}}, Event{ConversationID: 1, AssigneeID: other, GroupID: 9}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.viewer.Sees(tt.event); got != tt.want {
				t.Errorf("%+v.Sees(%+v) = %v, want %v", tt.viewer, tt.event, got, tt.want)
			}
		})
	}
}

func TestViewerSeesConversation(t *testing.T) {
	closed := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		viewer Viewer
		conv   Conversation
		want   bool
	}{
		{"a supervisor sees another agent's request",
			supervisor, Conversation{ID: 1, AssigneeID: other, GroupID: 9, Mode: Live}, true},
		{"a supervisor sees a closed classic request",
			supervisor, Conversation{ID: 1, AssigneeID: other, Mode: Classic, ClosedAt: &closed}, true},
		{"an agent sees their own live request",
			agentOnly, Conversation{ID: 1, AssigneeID: me, GroupID: 9, Mode: Live}, true},
		{"an agent sees their own classic request",
			agentOnly, Conversation{ID: 1, AssigneeID: me, Mode: Classic}, true},
		{"an agent sees their own closed request",
			agentOnly, Conversation{ID: 1, AssigneeID: me, Mode: Live, ClosedAt: &closed}, true},
		{"an agent does not see another agent's request",
			queueAgent, Conversation{ID: 1, AssigneeID: other, GroupID: 1, Mode: Live}, false},
		{"the previous assignee no longer sees a transferred request",
			queueAgent, Conversation{ID: 1, AssigneeID: other, PreviousAssigneeID: me, GroupID: 1, Mode: Live}, false},
		{"the queue right shows an unassigned open live request of the agent's group",
			queueAgent, Conversation{ID: 1, GroupID: 2, Mode: Live}, true},
		{"the queue right shows an unassigned open live request of no group",
			queueAgent, Conversation{ID: 1, Mode: Live}, true},
		{"the queue right hides unassigned requests of other groups",
			queueAgent, Conversation{ID: 1, GroupID: 9, Mode: Live}, false},
		{"the queue right hides closed unassigned requests",
			queueAgent, Conversation{ID: 1, GroupID: 1, Mode: Live, ClosedAt: &closed}, false},
		{"the queue right hides unassigned classic requests",
			queueAgent, Conversation{ID: 1, GroupID: 1, Mode: Classic}, false},
		{"without the queue right unassigned requests stay hidden",
			agentOnly, Conversation{ID: 1, GroupID: 1, Mode: Live}, false},
		{"an agent in no group sees the queue of no group only",
			Viewer{AgentID: me, Queue: true}, Conversation{ID: 1, GroupID: 1, Mode: Live}, false},
		{"a viewer that is no agent does not own unassigned requests",
			Viewer{}, Conversation{ID: 1, Mode: Live}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.viewer.SeesConversation(tt.conv); got != tt.want {
				t.Errorf("%+v.SeesConversation(%+v) = %v, want %v", tt.viewer, tt.conv, got, tt.want)
			}
		})
	}
}

func TestViewerEqual(t *testing.T) {
	base := Viewer{AgentID: me, Queue: true, Groups: []int64{1, 2}}
	tests := []struct {
		name string
		o    Viewer
		want bool
	}{
		{"the same viewer", Viewer{AgentID: me, Queue: true, Groups: []int64{1, 2}}, true},
		{"another agent", Viewer{AgentID: other, Queue: true, Groups: []int64{1, 2}}, false},
		{"gaining management", Viewer{AgentID: me, All: true, Queue: true, Groups: []int64{1, 2}}, false},
		{"losing the queue right", Viewer{AgentID: me, Groups: []int64{1, 2}}, false},
		{"leaving a group", Viewer{AgentID: me, Queue: true, Groups: []int64{1}}, false},
		{"joining a group", Viewer{AgentID: me, Queue: true, Groups: []int64{1, 2, 3}}, false},
		{"moving to another group", Viewer{AgentID: me, Queue: true, Groups: []int64{1, 3}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := base.Equal(tt.o); got != tt.want {
				t.Errorf("Equal(%+v) = %v, want %v", tt.o, got, tt.want)
			}
			if got := tt.o.Equal(base); got != tt.want {
				t.Errorf("Equal is not symmetric for %+v", tt.o)
			}
		})
	}
	t.Run("no groups equals an empty list of groups", func(t *testing.T) {
		if !(Viewer{AgentID: me}).Equal(Viewer{AgentID: me, Groups: []int64{}}) {
			t.Error("nil and empty groups differ")
		}
	})
}

// List cursors (list.go): the keyset position a viewer's list continues from.

func TestCursorOf(t *testing.T) {
	created := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	last := created.Add(time.Hour)
	c := Conversation{ID: 42, CreatedAt: created, LastMessageAt: last}
	tests := []struct {
		view View
		want Cursor
	}{
		{ViewUnassigned, Cursor{At: created, ID: 42}}, // the queue is oldest first
		{ViewChats, Cursor{At: last, ID: 42}},         // the others by latest activity
		{ViewClassic, Cursor{At: last, ID: 42}},
	}
	for _, tt := range tests {
		t.Run(string(tt.view), func(t *testing.T) {
			if got := CursorOf(tt.view, c); got != tt.want {
				t.Errorf("CursorOf(%s) = %+v, want %+v", tt.view, got, tt.want)
			}
		})
	}
}

func TestCursorRoundTrip(t *testing.T) {
	moscow := time.FixedZone("MSK", 3*60*60)
	tests := []struct {
		name string
		in   Cursor
		want Cursor
	}{
		{"a cursor survives encoding",
			Cursor{At: time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC), ID: 1},
			Cursor{At: time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC), ID: 1}},
		{"time is kept to the millisecond, as stored",
			Cursor{At: time.Date(2025, 6, 1, 10, 0, 0, 123_456_789, time.UTC), ID: 9},
			Cursor{At: time.Date(2025, 6, 1, 10, 0, 0, 123_000_000, time.UTC), ID: 9}},
		{"time comes back in UTC",
			Cursor{At: time.Date(2025, 6, 1, 13, 0, 0, 0, moscow), ID: 5},
			Cursor{At: time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC), ID: 5}},
		{"a large id survives",
			Cursor{At: time.UnixMilli(1).UTC(), ID: 1<<62 + 3},
			Cursor{At: time.UnixMilli(1).UTC(), ID: 1<<62 + 3}},
		{"a time before 1970 survives",
			Cursor{At: time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), ID: 2},
			Cursor{At: time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), ID: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.in.String()
			if s == "" {
				t.Fatal("a non-zero cursor encodes to the empty string")
			}
			for _, r := range s {
				if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
					t.Fatalf("cursor %q is not URL-safe", s)
				}
			}
			got, err := ParseCursor(s)
			if err != nil {
				t.Fatalf("ParseCursor(%q): %v", s, err)
			}
			if got.ID != tt.want.ID || !got.At.Equal(tt.want.At) || got.At.Location() != time.UTC {
				t.Errorf("ParseCursor(String()) = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestZeroCursorIsTheStartOfTheList(t *testing.T) {
	if !(Cursor{}).IsZero() || !(Cursor{At: time.Now()}).IsZero() {
		t.Error("a cursor without an id is not the start")
	}
	if s := (Cursor{At: time.Now()}).String(); s != "" {
		t.Errorf("the start encodes as %q, want empty", s)
	}
	c, err := ParseCursor("")
	if err != nil || !c.IsZero() {
		t.Errorf(`ParseCursor("") = %+v, %v; want the start`, c, err)
	}
}

func TestParseCursorRefusesForeignText(t *testing.T) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name string
		in   string
	}{
		{"not base64", "!!!"},
		{"padded base64", enc("1700000000000.5") + "="},
		{"standard base64 alphabet", "MTcwMDAwMDAwMDAwMC41/+"},
		{"no separator", enc("1700000000000")},
		{"a time that is no number", enc("yesterday.5")},
		{"an id that is no number", enc("1700000000000.five")},
		{"a zero id", enc("1700000000000.0")},
		{"a negative id", enc("1700000000000.-5")},
		{"an extra part", enc("1700000000000.5.6")},
		{"an empty time", enc(".5")},
		{"an empty id", enc("1700000000000.")},
		{"an id beyond int64", enc("1700000000000.9223372036854775808")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCursor(tt.in)
			wantErr(t, err, errs.ErrInvalid, "after")
			if c != (Cursor{}) {
				t.Errorf("ParseCursor(%q) also returned %+v", tt.in, c)
			}
		})
	}
}
