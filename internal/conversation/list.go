package conversation

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-hq/switchboard/internal/errs"
)

// View names a request list.
type View string

// The request lists.
const (
	// ViewUnassigned is the queue, oldest first.
	ViewUnassigned View = "unassigned"
	// ViewChats is every live request the viewer sees, latest activity first
	// (All chats, and the channel tabs with Kind set).
	ViewChats View = "chats"
	// ViewClassic is the classic request interface, latest activity first.
	ViewClassic View = "classic"
)

// ListQuery asks for one page of a list. Lists are keyset-paginated: After is
// the cursor of the last row of the previous page.
type ListQuery struct {
	View     View
	Viewer   Viewer
	Kind     ChannelKind
	StatusID int64
	// Kinds and Statuses are the team's view settings for the Omnichannel
	// lists (empty: all).
	Kinds    []ChannelKind
	Statuses []int64
	After    Cursor
	Limit    int
}

// Cursor is a position in a list: the sort time and id of a row.
type Cursor struct {
	At time.Time
	ID int64
}

// IsZero reports whether the cursor is the start of the list.
func (c Cursor) IsZero() bool { return c.ID == 0 }

// CursorOf returns the cursor just after c in view.
func CursorOf(view View, c Conversation) Cursor {
	if view == ViewUnassigned {
		return Cursor{At: c.CreatedAt, ID: c.ID}
	}
	return Cursor{At: c.LastMessageAt, ID: c.ID}
}

// String encodes the cursor opaquely for URLs.
func (c Cursor) String() string {
	if c.IsZero() {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d.%d", c.At.UnixMilli(), c.ID))
}

// ParseCursor decodes a cursor from String.
func ParseCursor(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	bad := errs.Invalid("after", "not a cursor from this list")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, bad
	}
	at, id, ok := strings.Cut(string(raw), ".")
	ms, err1 := strconv.ParseInt(at, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if !ok || err1 != nil || err2 != nil || n <= 0 {
		return Cursor{}, bad
	}
	return Cursor{At: time.UnixMilli(ms).UTC(), ID: n}, nil
}
