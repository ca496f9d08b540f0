// Package websock serves server-side websockets (RFC 6455) that cost almost
// nothing while idle: the website widget keeps one open per visitor.
//
// On Linux no goroutine and no buffer stays with an idle connection: after the
// handshake (done with github.com/gobwas/ws) the connection is registered with
// one epoll instance, and a short-lived goroutine reads it only when the
// kernel says bytes have arrived; buffers come from a pool for the duration of
// that read. One goroutine pings every connection each PingInterval and
// closes those that stayed silent for IdleTimeout. Writes (Send) happen
// directly on the caller's goroutine under a per-connection mutex. On other
// systems a fallback keeps one reader goroutine per connection.
//
// Limits, on purpose: server → client messages are single text frames; client
// messages must fit in one frame (fragmented messages are refused with 1003)
// and in MaxMessage bytes (else 1009); no extensions (permessage-deflate) or
// subprotocols are negotiated; TLS is not handled — terminate it in front of
// the server (Upgrade refuses a request that arrived over TLS).
package websock

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// Close status codes (RFC 6455 section 7.4.1) used by this package.
const (
	StatusNormalClosure   = 1000
	StatusGoingAway       = 1001
	StatusProtocolError   = 1002
	StatusUnsupportedData = 1003
	StatusInvalidPayload  = 1007
	StatusPolicyViolation = 1008
	StatusMessageTooBig   = 1009
	StatusInternalError   = 1011
)

// Errors returned by this package.
var (
	// ErrClosed is returned by Send on a connection that has ended.
	ErrClosed = errors.New("websock: connection closed")
	// ErrServerClosed is returned by Upgrade after Server.Close.
	ErrServerClosed = errors.New("websock: server closed")
	// ErrTLS is returned by Upgrade for a request that arrived over TLS.
	ErrTLS = errors.New("websock: TLS connections are not supported; terminate TLS in front of the server")
)

// Options configures a Server. Zero fields take their defaults.
type Options struct {
	// PingInterval is how often the server sends a ping frame to every
	// connection (default 30s).
	PingInterval time.Duration
	// IdleTimeout closes a connection from which nothing (pong, any frame)
	// was read for this long (default 75s). It must exceed PingInterval.
	// Checked once per PingInterval.
	IdleTimeout time.Duration
	// WriteTimeout is the deadline of each frame write (default 5s); a write
	// that times out closes the connection. It also bounds how long a client
	// may take to send the rest of a frame it has started.
	WriteTimeout time.Duration
	// MaxMessage is the largest client message accepted, in bytes (default
	// 4096); a bigger one closes the connection with 1009.
	MaxMessage int
	// OnMessage receives each text or binary message from a client, on a
	// goroutine of the Server; messages of one connection are delivered one
	// at a time, in order. msg is only valid until OnMessage returns. Nil:
	// messages are read and dropped.
	OnMessage func(c *Conn, msg []byte)
	// OnClose is called exactly once when a connection ends, whoever ended
	// it, on a goroutine of its own (never inside Send or Close). Server.Close
	// waits for it, so neither callback may call Server.Close.
	OnClose func(c *Conn)
	// Log receives unexpected errors (default slog.Default()).
	Log *slog.Logger
}

const numShards = 32

// Server accepts websocket connections and keeps them. Its methods are safe
// for concurrent use.
type Server struct {
	opt      Options
	log      *slog.Logger
	upgrader ws.HTTPUpgrader
	bufSize  int
	bufs     sync.Pool // *[]byte of len bufSize

	shards [numShards]shard
	n      atomic.Int64
	nextID atomic.Uint64

	mu     sync.RWMutex // guards closed against registrations
	closed bool
	stop   chan struct{} // closed by Close: stops the sweep
	done   chan struct{} // closed when Close has finished

	conns sync.WaitGroup // one per registered connection, until its OnClose returned
	bg    sync.WaitGroup // poller, sweep and reader goroutines

	poller
}

type shard struct {
	mu sync.Mutex
	m  map[uint64]*Conn
}

// NewServer checks o, fills its defaults and starts the poller and the ping
// sweep. Call Close to stop them.
func NewServer(o Options) (*Server, error) {
	if o.PingInterval == 0 {
		o.PingInterval = 30 * time.Second
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = 75 * time.Second
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = 5 * time.Second
	}
	if o.MaxMessage == 0 {
		o.MaxMessage = 4096
	}
	switch {
	case o.PingInterval < 0, o.IdleTimeout < 0, o.WriteTimeout < 0, o.MaxMessage < 0:
		return nil, errors.New("websock: negative option")
	case o.IdleTimeout <= o.PingInterval:
		return nil, fmt.Errorf("websock: IdleTimeout %v must exceed PingInterval %v", o.IdleTimeout, o.PingInterval)
	}
	s := &Server{
		opt:      o,
		log:      o.Log,
		upgrader: ws.HTTPUpgrader{Timeout: o.WriteTimeout},
		// A read buffer holds a whole frame of the largest size accepted, and
		// whatever the HTTP server had read past the handshake request.
		bufSize: max(o.MaxMessage+ws.MaxHeaderSize, 4096),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.bufs.New = func() any {
		b := make([]byte, s.bufSize)
		return &b
	}
	for i := range s.shards {
		s.shards[i].m = make(map[uint64]*Conn)
	}
	if err := s.startPoller(); err != nil {
		return nil, err
	}
	s.bg.Add(1)
	go s.sweep()
	return s, nil
}

// Len reports how many connections are open.
func (s *Server) Len() int { return int(s.n.Load()) }

// Upgrade answers the websocket handshake of r, hijacks its connection and
// registers it; no goroutine stays behind for it, so the handler should
// return at once. On failure Upgrade has already answered the request with
// an HTTP error. Messages may reach OnMessage before Upgrade returns: use
// UpgradeValue to attach state that OnMessage needs.
func (s *Server) Upgrade(w http.ResponseWriter, r *http.Request) (*Conn, error) {
	return s.UpgradeValue(w, r, nil)
}

// UpgradeValue is Upgrade with the connection's Value set to v before any
// message can be delivered.
func (s *Server) UpgradeValue(w http.ResponseWriter, r *http.Request, v any) (*Conn, error) {
	if r.TLS != nil {
		http.Error(w, ErrTLS.Error(), http.StatusInternalServerError)
		return nil, ErrTLS
	}
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return nil, ErrServerClosed
	}
	nc, rw, _, err := s.upgrader.Upgrade(r, w)
	if err != nil {
		if nc != nil {
			nc.Close()
		}
		return nil, fmt.Errorf("websock: upgrade: %w", err)
	}
	c := &Conn{s: s, nc: nc, value: v}
	c.lastRead.Store(time.Now().UnixNano())
	// The HTTP server may have read bytes past the request (a client that
	// did not wait for the 101): keep a copy, drop the bufio buffers.
	var initial []byte
	if n := rw.Reader.Buffered(); n > 0 {
		p, _ := rw.Reader.Peek(n)
		initial = bytes.Clone(p)
	}
	rw = nil
	if err := c.sysInit(); err != nil {
		c.writeLocked(closeFrame(StatusInternalError, "unsupported connection"))
		nc.Close()
		return nil, err
	}

	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		c.writeLocked(closeGoingAway)
		nc.Close()
		return nil, ErrServerClosed
	}
	c.id = s.nextID.Add(1)
	s.conns.Add(1)
	sh := &s.shards[c.id%numShards]
	sh.mu.Lock()
	sh.m[c.id] = c
	sh.mu.Unlock()
	s.n.Add(1)
	s.start(c, initial)
	return c, nil
}

// Close closes every connection with 1001 (going away), waits for their
// OnClose calls and stops the server's goroutines. It is idempotent; later
// calls wait for the first to finish.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		<-s.done
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	close(s.stop)
	// No registration can happen any more: end what is registered.
	for _, c := range s.snapshot(nil) {
		c.end(closeGoingAway, writeTry)
	}
	s.conns.Wait()
	s.stopPoller()
	s.bg.Wait()
	err := s.closePoller()
	close(s.done)
	return err
}

// snapshot appends every registered connection to dst.
func (s *Server) snapshot(dst []*Conn) []*Conn {
	for i := range s.shards {
		dst = s.shards[i].appendTo(dst)
	}
	return dst
}

func (sh *shard) appendTo(dst []*Conn) []*Conn {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for _, c := range sh.m {
		dst = append(dst, c)
	}
	return dst
}

func (s *Server) lookup(id uint64) *Conn {
	sh := &s.shards[id%numShards]
	sh.mu.Lock()
	c := sh.m[id]
	sh.mu.Unlock()
	return c
}

// sweep pings every connection each PingInterval and ends those that stayed
// silent for IdleTimeout. Its writes never wait: a connection whose socket
// buffer is full, or that is being written to, is skipped this round.
func (s *Server) sweep() {
	defer s.bg.Done()
	t := time.NewTicker(s.opt.PingInterval)
	defer t.Stop()
	var batch []*Conn
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		now := time.Now().UnixNano()
		for i := range s.shards {
			batch = s.shards[i].appendTo(batch[:0])
			for _, c := range batch {
				if now-c.lastRead.Load() > int64(s.opt.IdleTimeout) {
					c.end(closeIdle, writeTry)
					continue
				}
				if err := c.tryWrite(pingFrame, false); err != nil {
					c.end(nil, writeNone)
				}
			}
			clear(batch)
		}
	}
}

// finish runs once per connection after it ended.
func (s *Server) finish(c *Conn) {
	defer s.conns.Done()
	sh := &s.shards[c.id%numShards]
	sh.mu.Lock()
	delete(sh.m, c.id)
	sh.mu.Unlock()
	s.n.Add(-1)
	if s.opt.OnClose != nil {
		defer s.recover(c, "OnClose")
		s.opt.OnClose(c)
	}
}

func (s *Server) recover(c *Conn, where string) {
	if v := recover(); v != nil {
		s.log.Error("websock: panic in "+where, "remote", c.RemoteAddr(), "panic", v)
		c.end(closeFrame(StatusInternalError, ""), writeWait)
	}
}

func (s *Server) getBuf() *[]byte  { return s.bufs.Get().(*[]byte) }
func (s *Server) putBuf(b *[]byte) { s.bufs.Put(b) }

var errWouldBlock = errors.New("websock: would block")

// serve reads what the client sent: initial first, then whatever the socket
// holds, until the socket is drained at a frame boundary (it then returns
// true: the caller re-arms the connection) or the connection ended (false).
// A frame whose start has arrived must arrive whole within WriteTimeout.
func (s *Server) serve(c *Conn, initial []byte) bool {
	bp := s.getBuf()
	defer s.putBuf(bp)
	buf := *bp
	n := 0
	deadline := false
	for {
		if len(initial) > 0 {
			m := copy(buf[n:], initial)
			initial = initial[m:]
			n += m
		} else {
			var m int
			var err error
			if n == 0 {
				if deadline {
					c.nc.SetReadDeadline(time.Time{})
					deadline = false
				}
				m, err = c.readNow(buf)
				if err == errWouldBlock {
					return true
				}
			} else {
				if !deadline {
					c.nc.SetReadDeadline(time.Now().Add(s.opt.WriteTimeout))
					deadline = true
				}
				m, err = c.nc.Read(buf[n:])
			}
			if m > 0 {
				n += m
				c.lastRead.Store(time.Now().UnixNano())
			}
			if err != nil {
				c.end(nil, writeNone)
				return false
			}
		}
		off, ok := s.parse(c, buf[:n])
		if !ok {
			return false
		}
		n = copy(buf, buf[off:n])
	}
}

// parse handles the complete frames at the start of p and reports how many
// bytes they took, and whether the connection is still open.
func (s *Server) parse(c *Conn, p []byte) (off int, ok bool) {
	for {
		rem := p[off:]
		if len(rem) < 2 {
			return off, true
		}
		fin := rem[0]&0x80 != 0
		rsv := rem[0] & 0x70
		op := ws.OpCode(rem[0] & 0x0f)
		masked := rem[1]&0x80 != 0
		length := uint64(rem[1] & 0x7f)
		hl := 2
		switch length {
		case 126:
			if len(rem) < 4 {
				return off, true
			}
			length = uint64(binary.BigEndian.Uint16(rem[2:]))
			hl = 4
		case 127:
			if len(rem) < 10 {
				return off, true
			}
			length = binary.BigEndian.Uint64(rem[2:])
			hl = 10
		}
		if masked {
			hl += 4
		}
		switch {
		case rsv != 0 || !masked || op.IsReserved():
			return off, c.fail(StatusProtocolError, "protocol error")
		case op.IsControl() && (!fin || length > ws.MaxControlFramePayloadSize):
			return off, c.fail(StatusProtocolError, "bad control frame")
		case op == ws.OpContinuation:
			return off, c.fail(StatusProtocolError, "unexpected continuation frame")
		case !fin:
			return off, c.fail(StatusUnsupportedData, "fragmented messages are not supported")
		case length > uint64(s.opt.MaxMessage):
			return off, c.fail(StatusMessageTooBig, "message too big")
		}
		end := hl + int(length)
		if len(rem) < end {
			return off, true
		}
		payload := rem[hl:end]
		ws.Cipher(payload, [4]byte(rem[hl-4:hl]), 0)
		off += end

		switch op {
		case ws.OpPing:
			c.control(ws.OpPong, payload)
		case ws.OpPong:
		case ws.OpClose:
			c.end(closeReply(payload), writeWait)
			return off, false
		case ws.OpText, ws.OpBinary:
			if op == ws.OpText && !utf8.Valid(payload) {
				return off, c.fail(StatusInvalidPayload, "invalid UTF-8")
			}
			if s.opt.OnMessage != nil {
				s.deliver(c, payload)
			}
		}
		if c.state.Load() != 0 {
			return off, false
		}
	}
}

func (s *Server) deliver(c *Conn, msg []byte) {
	defer s.recover(c, "OnMessage")
	s.opt.OnMessage(c, msg)
}

// closeReply is the close frame that answers a client's close frame.
func closeReply(p []byte) []byte {
	if len(p) == 0 {
		return ws.CompiledClose
	}
	code := int(binary.BigEndian.Uint16(p))
	switch {
	case len(p) == 1 || !validCode(code):
		return closeFrame(StatusProtocolError, "bad close frame")
	case !utf8.Valid(p[2:]):
		return closeFrame(StatusInvalidPayload, "invalid UTF-8")
	}
	return closeFrame(code, "")
}

// validCode reports whether code may be sent in a close frame.
func validCode(code int) bool {
	switch {
	case code >= 3000 && code <= 4999:
		return true
	case code < 1000 || code > 1014:
		return false
	case code == 1004 || code == 1005 || code == 1006:
		return false
	}
	return true
}

// Conn is one websocket connection. Its methods are safe for concurrent use.
type Conn struct {
	s        *Server
	nc       net.Conn
	id       uint64
	lastRead atomic.Int64  // unix nanoseconds of the last bytes read
	state    atomic.Uint32 // 0 open, 1 ended
	wmu      sync.Mutex    // one frame written at a time
	vmu      sync.Mutex
	value    any
	connSys
}

// Value returns what SetValue or UpgradeValue stored.
func (c *Conn) Value() any {
	c.vmu.Lock()
	defer c.vmu.Unlock()
	return c.value
}

// SetValue stores v with the connection (the caller's own state).
func (c *Conn) SetValue(v any) {
	c.vmu.Lock()
	c.value = v
	c.vmu.Unlock()
}

// RemoteAddr is the client's address as the TCP connection sees it (the
// proxy's, behind one).
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// Send writes msg as one text frame, waiting at most WriteTimeout; a write
// that fails closes the connection. It returns ErrClosed once the connection
// has ended.
func (c *Conn) Send(msg []byte) error {
	var bp *[]byte
	var frame []byte
	if need := len(msg) + 10; need <= c.s.bufSize {
		bp = c.s.getBuf()
		frame = (*bp)[:0]
	} else {
		frame = make([]byte, 0, need)
	}
	frame = appendHeader(frame, ws.OpText, len(msg))
	frame = append(frame, msg...)
	c.wmu.Lock()
	err := ErrClosed
	if c.state.Load() == 0 {
		err = c.writeLocked(frame)
	}
	c.wmu.Unlock()
	if bp != nil {
		c.s.putBuf(bp)
	}
	if err != nil && err != ErrClosed {
		c.end(nil, writeNone)
		return fmt.Errorf("websock: send: %w", err)
	}
	return err
}

// Close sends a close frame with code and reason (at most 123 bytes kept) and
// closes the connection. An invalid code is sent as 1000. It waits at most
// WriteTimeout for the frame to go out; later calls do nothing.
func (c *Conn) Close(code int, reason string) {
	if !validCode(code) {
		code = StatusNormalClosure
	}
	c.end(closeFrame(code, reason), writeWait)
}

// How end writes its close frame.
const (
	writeNone = iota // no frame
	writeWait        // wait for the write lock and WriteTimeout
	writeTry         // only if the write lock is free and the socket takes it at once
)

// end ends the connection once: writes frame, closes the socket and hands
// the rest (unregistering, OnClose) to a new goroutine.
func (c *Conn) end(frame []byte, how int) {
	if !c.state.CompareAndSwap(0, 1) {
		return
	}
	switch {
	case frame == nil:
	case how == writeWait:
		c.wmu.Lock()
		c.writeLocked(frame)
		c.wmu.Unlock()
	case how == writeTry:
		c.tryWrite(frame, true)
	}
	c.sysClose()
	c.nc.Close()
	go c.s.finish(c)
}

// fail closes the connection with code after a client error; it returns
// false for parse.
func (c *Conn) fail(code int, reason string) bool {
	c.end(closeFrame(code, reason), writeWait)
	return false
}

// control writes a control frame unless the connection has ended.
func (c *Conn) control(op ws.OpCode, payload []byte) {
	var a [2 + ws.MaxControlFramePayloadSize]byte
	frame := append(appendHeader(a[:0], op, len(payload)), payload...)
	c.wmu.Lock()
	var err error
	if c.state.Load() == 0 {
		err = c.writeLocked(frame)
	}
	c.wmu.Unlock()
	if err != nil {
		c.end(nil, writeNone)
	}
}

// writeLocked writes one whole frame; the caller holds wmu (or is the only
// one with the connection).
func (c *Conn) writeLocked(frame []byte) error {
	c.nc.SetWriteDeadline(time.Now().Add(c.s.opt.WriteTimeout))
	_, err := c.nc.Write(frame)
	return err
}

// appendHeader appends the header of an unmasked, final frame.
func appendHeader(dst []byte, op ws.OpCode, n int) []byte {
	b0 := 0x80 | byte(op)
	switch {
	case n < 126:
		return append(dst, b0, byte(n))
	case n <= 0xffff:
		return append(dst, b0, 126, byte(n>>8), byte(n))
	default:
		return binary.BigEndian.AppendUint64(append(dst, b0, 127), uint64(n))
	}
}

// closeFrame is a whole close frame; reason is cut to fit, at a rune boundary.
func closeFrame(code int, reason string) []byte {
	const maxReason = ws.MaxControlFramePayloadSize - 2
	if len(reason) > maxReason {
		i := maxReason
		for i > 0 && !utf8.RuneStart(reason[i]) {
			i--
		}
		reason = reason[:i]
	}
	f := appendHeader(make([]byte, 0, 4+len(reason)), ws.OpClose, 2+len(reason))
	f = binary.BigEndian.AppendUint16(f, uint16(code))
	return append(f, reason...)
}

var (
	pingFrame      = ws.CompiledPing
	closeGoingAway = closeFrame(StatusGoingAway, "server shutting down")
	closeIdle      = closeFrame(StatusGoingAway, "idle timeout")
)
