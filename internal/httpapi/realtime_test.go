package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/switchboard-hq/switchboard/internal/app"
	"github.com/switchboard-hq/switchboard/internal/config"
	"github.com/switchboard-hq/switchboard/internal/loadgen"
	"github.com/switchboard-hq/switchboard/internal/storetest"
)

type wsFrame struct {
	Seq  int64  `json:"seq"`
	Kind string `json:"kind"`
	Data struct {
		Message *struct {
			ID   int64  `json:"id"`
			Body string `json:"body"`
			Kind string `json:"kind"`
		} `json:"message"`
	} `json:"data"`
}

// socket opens the agent websocket of c on the server at base, replaying after seq.
func (c *client) socket(t *testing.T, base string, after int64) *loadgen.Events {
	t.Helper()
	u, _ := url.Parse(base)
	h := http.Header{"Origin": {base}}
	for _, ck := range c.http.Jar.Cookies(u) {
		h.Add("Cookie", ck.Name+"="+ck.Value)
	}
	wsURL := "ws" + strings.TrimPrefix(base, "http") + "/api/v1/ws"
	if after >= 0 {
		wsURL += fmt.Sprintf("?after=%d", after)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		t.Fatalf("dial websocket: %v", err)
	}
	conn.SetReadLimit(1 << 20)
	return loadgen.NewEvents(conn)
}

func readFrame(t *testing.T, conn *loadgen.Events) wsFrame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	data, err := conn.Next(ctx)
	if err != nil {
		t.Fatalf("read websocket: %v", err)
	}
	var f wsFrame
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("frame %s: %v", data, err)
	}
	return f
}

// collect reads frames until every body in want has arrived as a client
// message, and checks that seq numbers only go up.
func collect(t *testing.T, conn *loadgen.Events, last *int64, seen map[string]int, want int) {
	t.Helper()
	for len(seen) < want {
		f := readFrame(t, conn)
		if f.Kind == "hello" || f.Seq == 0 {
			continue
		}
		if f.Seq <= *last {
			t.Fatalf("event %d arrived after %d: out of order or repeated", f.Seq, *last)
		}
		*last = f.Seq
		if f.Kind == "message.created" && f.Data.Message != nil && f.Data.Message.Kind == "client" {
			seen[f.Data.Message.Body]++
		}
	}
}

func TestAReconnectedSocketLosesAndRepeatsNothing(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		tm := newTeam(t, e)
		conn := tm.admin.socket(t, e.srv.URL, -1)
		if f := readFrame(t, conn); f.Kind != "hello" {
			t.Fatalf("first frame %+v, want hello", f)
		}
		const total = 60
		var wg sync.WaitGroup
		send := func(from, to int) {
			for i := from; i < to; i++ {
				wg.Go(func() {
					ingest(t, e, tm.channel, tm.token, fmt.Sprintf("client-%d", i%7), fmt.Sprintf("message %d", i), raw{})
				})
			}
		}
		send(0, 20)
		wg.Wait()
		var last int64
		seen := map[string]int{}
		collect(t, conn, &last, seen, 10)

		// The connection dies mid-stream while messages keep coming.
		conn.CloseNow()
		send(20, total)
		wg.Wait()
		conn = tm.admin.socket(t, e.srv.URL, last)
		defer conn.CloseNow()
		if f := readFrame(t, conn); f.Kind != "hello" || f.Seq != last {
			t.Fatalf("reconnect greeting %+v, want hello at %d", f, last)
		}
		collect(t, conn, &last, seen, total)
		for i := range total {
			if n := seen[fmt.Sprintf("message %d", i)]; n != 1 {
				t.Errorf("message %d arrived %d times", i, n)
			}
		}
	})
}

func TestAgentsSeeOnlyTheEventsOfTheirRequests(t *testing.T) {
	e := newEnv(t, sqliteEngine(t))
	tm := newTeam(t, e)
	outsider := tm.admin.create("/api/v1/agents", map[string]string{"email": "carl@example.com", "name": "Carl", "password": "carl-password"})
	tm.admin.create("/api/v1/groups", map[string]any{"name": "Chat only", "rights": []string{"omnichannel"}, "member_ids": []int64{outsider}})
	carl := e.login("carl@example.com", "carl-password")
	anna := tm.anna.socket(t, e.srv.URL, -1)
	defer anna.CloseNow()
	spy := carl.socket(t, e.srv.URL, -1)
	defer spy.CloseNow()
	readFrame(t, anna)
	readFrame(t, spy)

	id, _ := ingest(t, e, tm.channel, tm.token, "ivan", "secret order details", raw{})
	if f := readFrame(t, anna); f.Kind != "conversation.created" {
		t.Errorf("Anna (queue) got %s first, want conversation.created", f.Kind)
	}
	tm.admin.call("POST", fmt.Sprintf("/api/v1/conversations/%d/transfer", id), map[string]any{"agent_id": outsider})
	// Carl only sees the request from the moment it is his.
	for {
		f := readFrame(t, spy)
		if f.Kind == "message.created" && f.Data.Message != nil && f.Data.Message.Kind == "client" {
			t.Fatalf("an agent without the queue right saw a client message of someone else's request")
		}
		if f.Kind == "conversation.transferred" {
			break
		}
	}
}

func TestTwoInstancesOnOnePostgresDeliverEachOthersEvents(t *testing.T) {
	pg, ok := storetest.Postgres(t)
	if !ok {
		t.Skip("needs PostgreSQL: set " + storetest.PostgresEnv)
	}
	a := newEnv(t, pg)
	b := startInstance(t, pg, a.app)
	tm := newTeam(t, a)
	conn := tm.admin.socket(t, a.srv.URL, -1)
	defer conn.CloseNow()
	readFrame(t, conn)

	// Ingested on B, seen by an agent connected to A.
	ingest(t, b, tm.channel, tm.token, "ivan", "via instance B", raw{})
	var last int64
	seen := map[string]int{}
	collect(t, conn, &last, seen, 1)
	if seen["via instance B"] != 1 {
		t.Fatalf("the agent on A saw %v", seen)
	}

	// Concurrent writes on both instances still reach A in one gap-free order.
	var wg sync.WaitGroup
	for i := range 40 {
		target := a
		if i%2 == 1 {
			target = b
		}
		wg.Go(func() { ingest(t, target, tm.channel, tm.token, fmt.Sprintf("c%d", i%5), fmt.Sprintf("m%d", i), raw{}) })
	}
	wg.Wait()
	first := last
	collect(t, conn, &last, seen, 41)
	events, err := a.app.DB.EventsAfter(context.Background(), first, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for i, ev := range events {
		if ev.Seq != first+int64(i)+1 {
			t.Fatalf("the event log has a gap: event %d is seq %d", i, ev.Seq)
		}
	}
}

// startInstance starts a second server on the same database as the first.
func startInstance(t *testing.T, e storetest.Engine, _ *app.App) *env {
	t.Helper()
	cfg := config.Config{DatabaseURL: e.URL, DataDir: t.TempDir(), SessionLifetime: time.Hour, SessionIdle: time.Hour, SQLiteSynchronous: "NORMAL"}
	inst, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "test", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	inst.Start(ctx)
	srv := httptest.NewServer(inst.Handler)
	t.Cleanup(func() { srv.Close(); cancel(); inst.Wait(); inst.Close() })
	return &env{t: t, srv: srv, app: inst}
}
