package websock

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// harness is a Server behind a real HTTP server, with the connections it
// accepted and the OnClose calls it saw.
type harness struct {
	t      *testing.T
	s      *Server
	hs     *httptest.Server
	conns  chan *Conn
	mu     sync.Mutex
	closes map[*Conn]int
	msgs   chan string
}

func newHarness(t *testing.T, o Options) *harness {
	t.Helper()
	h := &harness{
		t:      t,
		conns:  make(chan *Conn, 1000),
		closes: make(map[*Conn]int),
		msgs:   make(chan string, 100),
	}
	o.Log = slog.New(slog.DiscardHandler)
	if o.OnMessage == nil {
		o.OnMessage = func(c *Conn, msg []byte) { h.msgs <- string(msg) }
	}
	o.OnClose = func(c *Conn) {
		h.mu.Lock()
		h.closes[c]++
		h.mu.Unlock()
	}
	s, err := NewServer(o)
	if err != nil {
		t.Fatalf(
			"NewServer: %v",
			err)
	}
	h.s = s
	h.hs = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := s.Upgrade(w, r)
		if err == nil {
			h.conns <- c
		}
	}))
	t.Cleanup(func() {
		s.Close()
		h.hs.Close()
	})
	return h
}

func (h *harness) url() string { return "ws" + strings.TrimPrefix(h.hs.URL, "http") }

// dial opens a coder/websocket client and returns it with the server's side.
func (h *harness) dial(ctx context.Context) (*websocket.Conn, *Conn) {
	h.t.Helper()
	cc, _, err := websocket.Dial(ctx, h.url(), nil)
	if err != nil {
		h.t.Fatalf(
			"dial: %v",
			err)
	}
	h.t.Cleanup(func() { cc.CloseNow() })
	return cc, h.accepted()
}

func (h *harness) accepted() *Conn {
	h.t.Helper()
	select {
	case c := <-h.conns:
		return c
	case <-time.After(5 * time.Second):
		h.t.Fatal("no connection accepted")
		return nil
	}
}

func (h *harness) closeCount(c *Conn) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closes[c]
}

// waitFor polls cond for up to 5s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf(
				"timed out waiting for %s",
				what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// endsOnce waits for c's OnClose and Len to drop to want, then checks that
// OnClose is not called again.
func (h *harness) endsOnce(c *Conn, wantLen int) {
	h.t.Helper()
	waitFor(h.t, "OnClose", func() bool { return h.closeCount(c) > 0 })
	waitFor(h.t, "Len to drop", func() bool { return h.s.Len() == wantLen })
	time.Sleep(50 * time.Millisecond)
	if n := h.closeCount(c); n != 1 {
		h.t.Fatalf(
			"OnClose called %d times, want 1",
			n)
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSendArrivesInOrderFromConcurrentSenders(t *testing.T) {
	h := newHarness(t, Options{})
	ctx := ctxT(t)
	cc, c := h.dial(ctx)

	const senders, each = 8, 200
	var wg sync.WaitGroup
	for g := range senders {
		wg.Go(func() {
			for i := range each {
				if err := c.Send(fmt.Appendf(nil, "%d:%d:%s", g, i, strings.Repeat("x", i*7))); err != nil {
					t.Errorf(
						"Send: %v",
						err)
					return
				}
			}
		})
	}
	next := make([]int, senders)
	for range senders * each {
		typ, msg, err := cc.Read(ctx)
		if err != nil {
			t.Fatalf(
				"Read: %v",
				err)
		}
		var g, i int
		if _, err := fmt.Sscanf(string(msg), "%d:%d:", &g, &i); err != nil || typ != websocket.MessageText {
			t.Fatalf(
				"bad message %q (type %v)",
				msg, typ)
		}
		if i != next[g] {
			t.Fatalf(
				"sender %d: got message %d, want %d",
				g, i, next[g])
		}
		next[g]++
	}
	wg.Wait()
}

func TestClientMessageReachesOnMessage(t *testing.T) {
	h := newHarness(t, Options{})
	ctx := ctxT(t)
	cc, c := h.dial(ctx)
	c.SetValue("visitor 7")
	for _, m := range []string{"hello", strings.Repeat("é", 2000)} {
		if err := cc.Write(ctx, websocket.MessageText, []byte(m)); err != nil {
			t.Fatalf(
				"Write: %v",
				err)
		}
		if got := <-h.msgs; got != m {
			t.Fatalf(
				"OnMessage got %d bytes, want %d",
				len(got), len(m))
		}
	}
	if c.Value() != "visitor 7" {
		t.Fatalf(
			"Value = %v",
			c.Value())
	}
}

func TestMessageOverMaxMessageClosesWith1009(t *testing.T) {
	h := newHarness(t, Options{MaxMessage: 64})
	ctx := ctxT(t)
	cc, c := h.dial(ctx)
	if err := cc.Write(ctx, websocket.MessageText, bytes.Repeat([]byte("a"), 65)); err != nil {
		t.Fatalf(
			"Write: %v",
			err)
	}
	_, _, err := cc.Read(ctx)
	if got := websocket.CloseStatus(err); got != websocket.StatusMessageTooBig {
		t.Fatalf(
			"close status %v (err %v), want 1009",
			got, err)
	}
	h.endsOnce(c, 0)
	if err := c.Send([]byte("late")); !errors.Is(err, ErrClosed) {
		t.Fatalf(
			"Send after close: %v, want ErrClosed",
			err)
	}
}

func TestServerAnswersPingsAndKeepsResponsiveClients(t *testing.T) {
	h := newHarness(t, Options{PingInterval: 20 * time.Millisecond, IdleTimeout: 100 * time.Millisecond})
	ctx := ctxT(t)
	cc, c := h.dial(ctx)
	// A reader answers the server's pings and reads the pongs to ours.
	got := make(chan string, 1)
	go func() {
		for {
			_, msg, err := cc.Read(ctx)
			if err != nil {
				return
			}
			got <- string(msg)
		}
	}()
	for range 3 {
		if err := cc.Ping(ctx); err != nil {
			t.Fatalf(
				"Ping: %v",
				err)
		}
	}
	// Many ping rounds and idle timeouts later, the client is still there.
	time.Sleep(400 * time.Millisecond)
	if h.closeCount(c) != 0 || h.s.Len() != 1 {
		t.Fatalf(
			"a client answering pings was closed (OnClose %d, Len %d)",
			h.closeCount(c), h.s.Len())
	}
	if err := c.Send([]byte("still here")); err != nil {
		t.Fatalf(
			"Send: %v",
			err)
	}
	if m := <-got; m != "still here" {
		t.Fatalf(
			"client got %q",
			m)
	}
}

// rawDial completes the handshake on a plain TCP connection and returns it
// with a reader positioned after the 101 response; extra is sent in the same
// write as the request.
func rawDial(t testing.TB, addr string, extra []byte) (net.Conn, *bufio.Reader) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf(
			"dial: %v",
			err)
	}
	t.Cleanup(func() { nc.Close() })
	req := "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := nc.Write(append([]byte(req), extra...)); err != nil {
		t.Fatalf(
			"write handshake: %v",
			err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf(
			"handshake: %v %v",
			resp, err)
	}
	return nc, br
}

// maskedFrame is a client frame: first byte b0, masked payload p.
func maskedFrame(b0 byte, p []byte) []byte {
	mask := [4]byte{1, 2, 3, 4}
	f := []byte{b0}
	switch {
	case len(p) < 126:
		f = append(f, 0x80|byte(len(p)))
	default:
		f = binary.BigEndian.AppendUint16(append(f, 0x80|126), uint16(len(p)))
	}
	f = append(f, mask[:]...)
	for i, b := range p {
		f = append(f, b^mask[i%4])
	}
	return f
}

// readFrames reads server frames until EOF or the deadline and returns their
// opcodes and the close code, if any.
func readFrames(t *testing.T, br *bufio.Reader, nc net.Conn) (ops []byte, closeCode int) {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		var hdr [2]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf(
					"read: %v",
					err)
			}
			return ops, closeCode
		}
		if hdr[1]&0x80 != 0 || hdr[1]&0x7f > 125 {
			t.Fatalf(
				"unexpected server frame header %x",
				hdr)
		}
		p := make([]byte, hdr[1]&0x7f)
		if _, err := io.ReadFull(br, p); err != nil {
			t.Fatalf(
				"read payload: %v",
				err)
		}
		ops = append(ops, hdr[0]&0x0f)
		if hdr[0]&0x0f == 0x8 && len(p) >= 2 {
			closeCode = int(binary.BigEndian.Uint16(p))
		}
	}
}

func TestSilentClientIsClosedAfterIdleTimeout(t *testing.T) {
	h := newHarness(t, Options{PingInterval: 20 * time.Millisecond, IdleTimeout: 100 * time.Millisecond})
	nc, br := rawDial(t, h.hs.Listener.Addr().String(), nil)
	c := h.accepted()
	start := time.Now()
	h.endsOnce(c, 0)
	if d := time.Since(start); d < 80*time.Millisecond {
		t.Fatalf(
			"closed after %v, before IdleTimeout",
			d)
	}
	ops, code := readFrames(t, br, nc)
	if len(ops) < 2 || ops[0] != 0x9 || ops[len(ops)-1] != 0x8 || code != StatusGoingAway {
		t.Fatalf(
			"client saw frames %x, close code %d; want pings then a 1001 close",
			ops, code)
	}
}

func TestClientCloseEndsConnectionOnce(t *testing.T) {
	h := newHarness(t, Options{})
	ctx := ctxT(t)
	cc, c := h.dial(ctx)
	h.dial(ctx) // a second connection, which stays
	if err := cc.Close(websocket.StatusNormalClosure, "bye"); err != nil {
		t.Fatalf(
			"client Close (waits for the server's echo): %v",
			err)
	}
	h.endsOnce(c, 1)
	c.Close(StatusNormalClosure, "again") // does nothing
	if err := c.Send([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf(
			"Send after close: %v",
			err)
	}
}

func TestServerCloseEndsAllWith1001AndLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	o := Options{PingInterval: 20 * time.Millisecond, IdleTimeout: time.Second}
	var closes atomic.Int32
	o.OnClose = func(*Conn) { closes.Add(1) }
	o.Log = slog.New(slog.DiscardHandler)
	s, err := NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.Upgrade(w, r) }))
	url := "ws" + strings.TrimPrefix(hs.URL, "http")
	ctx := ctxT(t)

	const n = 5
	codes := make(chan websocket.StatusCode, n)
	var clients []*websocket.Conn
	for range n {
		cc, _, err := websocket.Dial(ctx, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, cc)
		go func() {
			_, _, err := cc.Read(ctx)
			codes <- websocket.CloseStatus(err)
		}()
	}
	waitFor(t, "all connections", func() bool { return s.Len() == n })

	if err := s.Close(); err != nil {
		t.Fatalf(
			"Close: %v",
			err)
	}
	if s.Len() != 0 || closes.Load() != n {
		t.Fatalf(
			"after Close: Len %d, OnClose %d times; want 0 and %d",
			s.Len(), closes.Load(), n)
	}
	for range n {
		if code := <-codes; code != websocket.StatusGoingAway {
			t.Fatalf(
				"client saw close %v, want 1001",
				code)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf(
			"second Close: %v",
			err)
	}
	resp, err := http.Get(hs.URL)
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf(
			"Upgrade after Close: %v %v, want 503",
			resp, err)
	}
	resp.Body.Close()

	for _, cc := range clients {
		cc.CloseNow()
	}
	hs.Close()
	http.DefaultClient.CloseIdleConnections()
	waitFor(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
	if closes.Load() != n {
		t.Fatalf(
			"OnClose %d times, want %d",
			closes.Load(), n)
	}
}

func TestNoGoroutineStaysPerIdleConnection(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the fallback keeps one goroutine per connection")
	}
	h := newHarness(t, Options{})
	addr := h.hs.Listener.Addr().String()
	time.Sleep(20 * time.Millisecond)
	before := runtime.NumGoroutine()
	const n = 200
	for range n {
		rawDial(t, addr, nil)
	}
	waitFor(t, "all connections", func() bool { return h.s.Len() == n })
	time.Sleep(50 * time.Millisecond) // let the HTTP server's per-connection goroutines end
	if grew := runtime.NumGoroutine() - before; grew > 10 {
		t.Fatalf(
			"%d idle connections added %d goroutines",
			n, grew)
	}
}

func TestBytesSentWithTheHandshakeAreRead(t *testing.T) {
	h := newHarness(t, Options{})
	frames := append(maskedFrame(0x81, []byte("early")), maskedFrame(0x81, []byte("bird"))...)
	rawDial(t, h.hs.Listener.Addr().String(), frames)
	for _, want := range []string{"early", "bird"} {
		if got := <-h.msgs; got != want {
			t.Fatalf(
				"OnMessage got %q, want %q",
				got, want)
		}
	}
}

func TestFrameSplitAcrossWritesIsReadWhole(t *testing.T) {
	h := newHarness(t, Options{})
	nc, _ := rawDial(t, h.hs.Listener.Addr().String(), nil)
	f := maskedFrame(0x81, bytes.Repeat([]byte("z"), 300))
	for _, part := range [][]byte{f[:1], f[1:3], f[3:100], f[100:]} {
		if _, err := nc.Write(part); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := <-h.msgs; got != strings.Repeat("z", 300) {
		t.Fatalf(
			"OnMessage got %q",
			got)
	}
}

func TestBadFramesCloseWithTheRightCode(t *testing.T) {
	unmasked := []byte{0x81, 2, 'h', 'i'}
	cases := []struct {
		name  string
		frame []byte
		code  int
	}{
		{
			name:  "fragmented message",
			frame: maskedFrame(0x01, []byte("part")),
			code:  StatusUnsupportedData,
		},
		{
			name:  "unmasked frame",
			frame: unmasked,
			code:  StatusProtocolError,
		},
		{
			name:  "invalid UTF-8 text",
			frame: maskedFrame(0x81, []byte{0xff, 0xfe}),
			code:  StatusInvalidPayload,
		},
		{
			name:  "reserved opcode",
			frame: maskedFrame(0x83, nil),
			code:  StatusProtocolError,
		},
		{
			name:  "client close is echoed",
			frame: maskedFrame(0x88, []byte{0x0f, 0xa0}), // 4000
			code:  4000,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Options{})
			nc, br := rawDial(t, h.hs.Listener.Addr().String(), nil)
			c := h.accepted()
			if _, err := nc.Write(tc.frame); err != nil {
				t.Fatal(err)
			}
			_, code := readFrames(t, br, nc)
			if code != tc.code {
				t.Fatalf(
					"close code %d, want %d",
					code, tc.code)
			}
			h.endsOnce(c, 0)
		})
	}
}

func TestPlainRequestGetsAnHTTPError(t *testing.T) {
	h := newHarness(t, Options{})
	resp, err := http.Get(h.hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || h.s.Len() != 0 {
		t.Fatalf(
			"status %d, Len %d; want 400 and 0",
			resp.StatusCode, h.s.Len())
	}
}

func TestOptionsAreChecked(t *testing.T) {
	if _, err := NewServer(Options{PingInterval: time.Minute, IdleTimeout: time.Second}); err == nil {
		t.Fatal("IdleTimeout below PingInterval accepted")
	}
}
