package httpapi_test

import (
	"encoding/json"
	"fmt"
	"testing"
)

// queueFrame reads a {"type":"queue"} frame's place and estimated wait.
func queueFrame(f widgetFrame) (position, wait int) {
	var q struct {
		Position    int `json:"position"`
		WaitSeconds int `json:"wait_seconds"`
	}
	_ = json.Unmarshal([]byte(f.raw), &q)
	return q.Position, q.WaitSeconds
}

// A visitor waiting for an agent sees their place in the queue, and it
// moves up live as the requests ahead are taken.
func TestAWaitingVisitorSeesTheirPlaceInTheQueue(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		s := newShop(t, e)
		first, second := arrive(t, e, s.widget, nil), arrive(t, e, s.widget, nil)
		ahead := first.say("I was here first")
		mine := second.say("Me too")
		ws := second.socket(mine.ID)
		at := func(place int) func(widgetFrame) bool {
			return func(f widgetFrame) bool {
				p, _ := queueFrame(f)
				return f.Type == "queue" && p == place
			}
		}
		ws.until("second in the queue", at(2))
		s.anna.call("POST", fmt.Sprintf("/api/v1/conversations/%d/take", ahead.ConversationID), nil)
		frames := ws.until("first in the queue", at(1))
		if _, wait := queueFrame(frames[len(frames)-1]); wait <= 0 {
			t.Errorf("after one assignment the wait estimate is %d s, want a positive estimate", wait)
		}
		s.anna.call("POST", fmt.Sprintf("/api/v1/conversations/%d/take", mine.ConversationID), nil)
		ws.until("who answers", func(f widgetFrame) bool { return f.Type == "agent" })
		ws.until("out of the queue", at(0))
	})
}
