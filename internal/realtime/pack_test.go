package realtime

import (
	"fmt"
	"slices"
	"testing"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
)

func TestPackedMessagesCarryEveryFrameInOrder(t *testing.T) {
	for _, n := range []int{0, 1, 2, maxPack, maxPack + 1, 3*maxPack + 7} {
		t.Run(fmt.Sprint(n, " frames"), func(t *testing.T) {
			var ds []Delivery
			for i := range n {
				ds = append(ds, deliver(cv.Event{Seq: int64(i + 1), Kind: "message.created", Data: []byte(`{"n":` + fmt.Sprint(i) + `}`)}))
			}
			msgs := Pack(ds)
			if want := (n + maxPack - 1) / maxPack; len(msgs) != want {
				t.Errorf("%d frames became %d messages, want %d", n, len(msgs), want)
			}
			var got [][]byte
			for _, m := range msgs {
				frames, err := SplitFrames(m)
				if err != nil {
					t.Fatalf("split %s: %v", m, err)
				}
				for _, f := range frames {
					got = append(got, f)
				}
			}
			if len(got) != n {
				t.Fatalf("%d frames came back, want %d", len(got), n)
			}
			for i := range got {
				if !slices.Equal(got[i], ds[i].Frame) {
					t.Errorf("frame %d = %s, want %s", i, got[i], ds[i].Frame)
				}
			}
			if n == 1 && string(msgs[0]) != string(ds[0].Frame) {
				t.Errorf("a lone frame is wrapped: %s", msgs[0])
			}
		})
	}
}
