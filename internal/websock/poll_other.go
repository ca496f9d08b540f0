//go:build !linux

package websock

import (
	"time"
)

// The fallback for systems without epoll: one reader goroutine per
// connection. Simple and correct, not cheap (a goroutine and a read buffer
// per idle connection).

type poller struct{}

type connSys struct{}

func (s *Server) startPoller() error { return nil }
func (s *Server) stopPoller()        {}
func (s *Server) closePoller() error { return nil }

func (c *Conn) sysInit() error { return nil }
func (c *Conn) sysClose()      {}

// start begins reading a connection just registered; s.mu is read-locked.
func (s *Server) start(c *Conn, initial []byte) {
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		s.serve(c, initial) // returns when the connection has ended
	}()
}

// readNow waits for bytes: here the reader goroutine owns the connection.
func (c *Conn) readNow(p []byte) (int, error) { return c.nc.Read(p) }

// tryWrite writes frame unless another write is in progress, waiting a short
// while at most; a failed or timed-out write returns an error.
func (c *Conn) tryWrite(frame []byte, force bool) error {
	if !c.wmu.TryLock() {
		return nil
	}
	defer c.wmu.Unlock()
	if !force && c.state.Load() != 0 {
		return nil
	}
	c.nc.SetWriteDeadline(time.Now().Add(min(c.s.opt.WriteTimeout, 100*time.Millisecond)))
	_, err := c.nc.Write(frame)
	return err
}
