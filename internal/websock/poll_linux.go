//go:build linux

package websock

import (
	"errors"
	"io"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// poller is one epoll instance. Each connection is registered with
// EPOLLONESHOT under its id (the fd number could be reused after a close;
// the id is not), so one readiness report wakes one reader goroutine and the
// connection is re-armed only after that goroutine has drained it: a
// connection is never read by two goroutines at once.
//
// The sockets stay registered with Go's own netpoller too; reading one after
// epoll reported it readable is fine.
type poller struct {
	epfd int
	efd  int // eventfd that wakes the poll loop to stop it (id 0)
}

// connSys is what a connection needs on Linux: the socket, reachable
// without racing its Close.
type connSys struct {
	rc syscall.RawConn
}

const armEvents = unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT

func (s *Server) startPoller() error {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return &osError{"epoll_create1", err}
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return &osError{"eventfd", err}
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, efd, &ev); err != nil {
		unix.Close(efd)
		unix.Close(epfd)
		return &osError{"epoll_ctl", err}
	}
	s.poller = poller{epfd: epfd, efd: efd}
	s.bg.Add(1)
	go s.pollLoop()
	return nil
}

type osError struct {
	call string
	err  error
}

func (e *osError) Error() string { return "websock: " + e.call + ": " + e.err.Error() }
func (e *osError) Unwrap() error { return e.err }

func (s *Server) pollLoop() {
	defer s.bg.Done()
	events := make([]unix.EpollEvent, 128)
	for {
		n, err := unix.EpollWait(s.epfd, events, -1)
		if err != nil {
			if err == unix.EINTR {
				continue
			}
			s.log.Error("websock: epoll_wait failed; no more reads", "err", err)
			return
		}
		for i := range events[:n] {
			id := uint64(uint32(events[i].Fd)) | uint64(uint32(events[i].Pad))<<32
			if id == 0 {
				return
			}
			c := s.lookup(id)
			if c == nil {
				continue // ended since
			}
			s.bg.Add(1)
			go s.handle(c)
		}
	}
}

// handle reads a connection that epoll reported, then re-arms it.
func (s *Server) handle(c *Conn) {
	defer s.bg.Done()
	if s.serve(c, nil) {
		s.arm(c, unix.EPOLL_CTL_MOD)
	}
}

// start begins reading a connection just registered; s.mu is read-locked.
func (s *Server) start(c *Conn, initial []byte) {
	if len(initial) == 0 {
		s.arm(c, unix.EPOLL_CTL_ADD)
		return
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		if s.serve(c, initial) {
			s.arm(c, unix.EPOLL_CTL_ADD)
		}
	}()
}

func (s *Server) arm(c *Conn, op int) {
	ev := unix.EpollEvent{Events: armEvents, Fd: int32(uint32(c.id)), Pad: int32(uint32(c.id >> 32))}
	var err error
	cerr := c.rc.Control(func(fd uintptr) {
		err = unix.EpollCtl(s.epfd, op, int(fd), &ev)
	})
	if cerr == nil && err == nil {
		return
	}
	if c.state.Load() == 0 {
		s.log.Error("websock: epoll_ctl failed", "remote", c.RemoteAddr(), "err", errors.Join(cerr, err))
		c.end(closeFrame(StatusInternalError, ""), writeWait)
	}
}

func (s *Server) stopPoller() {
	var one [8]byte
	one[0] = 1 // any non-zero count wakes the loop
	unix.Write(s.efd, one[:])
}

func (s *Server) closePoller() error {
	return errors.Join(unix.Close(s.efd), unix.Close(s.epfd))
}

var errNotSyscallConn = errors.New("websock: hijacked connection has no file descriptor (TLS or a wrapped net.Conn?)")

func (c *Conn) sysInit() error {
	sc, ok := c.nc.(syscall.Conn)
	if !ok {
		return errNotSyscallConn
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	c.rc = rc
	return nil
}

// sysClose unregisters the socket before it is closed.
func (c *Conn) sysClose() {
	epfd := c.s.epfd
	c.rc.Control(func(fd uintptr) {
		unix.EpollCtl(epfd, unix.EPOLL_CTL_DEL, int(fd), nil)
	})
}

// readNow reads what the socket holds without waiting: errWouldBlock when it
// holds nothing, io.EOF when the client has closed.
func (c *Conn) readNow(p []byte) (int, error) {
	var n int
	var rerr error
	err := c.rc.Read(func(fd uintptr) bool {
		for {
			n, rerr = unix.Read(int(fd), p)
			if rerr != unix.EINTR {
				return true
			}
		}
	})
	switch {
	case err != nil:
		return 0, err
	case rerr == unix.EAGAIN:
		return 0, errWouldBlock
	case rerr != nil:
		return 0, rerr
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// tryWrite writes frame only if nothing else is writing to the connection
// and the socket takes the whole frame at once; otherwise it skips it and
// returns nil. A partial write (the stream is then broken) or a failed one
// returns an error. Unless force, nothing is written after the connection
// ended.
func (c *Conn) tryWrite(frame []byte, force bool) error {
	if !c.wmu.TryLock() {
		return nil
	}
	defer c.wmu.Unlock()
	if !force && c.state.Load() != 0 {
		return nil
	}
	// An expired deadline left by an earlier write would fail the raw write.
	c.nc.SetWriteDeadline(time.Time{})
	var n int
	var werr error
	err := c.rc.Write(func(fd uintptr) bool {
		for {
			n, werr = unix.Write(int(fd), frame)
			if werr != unix.EINTR {
				return true
			}
		}
	})
	switch {
	case err != nil:
		return err
	case werr == unix.EAGAIN:
		return nil
	case werr != nil:
		return werr
	case n < len(frame):
		return io.ErrShortWrite
	}
	return nil
}
