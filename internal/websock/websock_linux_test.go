package websock

import (
	"bytes"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// BenchmarkIdleConnections holds many idle connections (10,000 when the file
// limit allows, b.N is ignored) with pings on, and reports what the server
// keeps per connection: Go heap plus goroutine stacks (B/conn), goroutines
// per connection, and the growth of all memory the Go runtime took from the
// OS (sys-B/conn, which includes the runtime's poll descriptors). Kernel
// socket buffers are not Go memory and are not counted.
//
// Client and server share the process, so the clients are kept out of the
// measurement: each is a bare socket made with raw system calls (blocking,
// outside Go's netpoller), doing a minimal handshake with a stack buffer; all
// that the clients keep on the Go heap is the slice of their descriptors,
// allocated before the first measurement.
func BenchmarkIdleConnections(b *testing.B) {
	want := 10000
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			b.Logf(
				"raising RLIMIT_NOFILE: %v",
				err)
		}
		syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	// Two descriptors per connection (client and server) and some spare.
	n := min(want, int(lim.Cur-200)/2)
	if n < want {
		b.Logf(
			"file limit %d: holding %d connections instead of %d",
			lim.Cur, n, want)
	}

	s, err := NewServer(Options{
		PingInterval: 200 * time.Millisecond,
		IdleTimeout:  time.Hour, // the raw clients never answer pings
		Log:          slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.Upgrade(w, r) }))
	addr := hs.Listener.Addr().(*net.TCPAddr)
	fds := make([]int, n)

	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m0)
	g0 := runtime.NumGoroutine()

	b.ResetTimer()
	start := time.Now()
	const dialers = 8
	var wg sync.WaitGroup
	errs := make(chan error, dialers)
	for d := range dialers {
		wg.Go(func() {
			for i := d; i < n; i += dialers {
				fd, err := rawClient(addr)
				if err != nil {
					errs <- err
					return
				}
				fds[i] = fd
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	for s.Len() < n {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	b.Logf(
		"%d connections open in %v",
		n, time.Since(start).Round(time.Millisecond))
	time.Sleep(700 * time.Millisecond) // a few ping rounds
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m1)
	g1 := runtime.NumGoroutine()

	// The pings went out: a client's socket holds ping frames.
	var in [64]byte
	if m, _, _ := unix.Recvfrom(fds[0], in[:], unix.MSG_DONTWAIT); m < 2 || in[0] != 0x89 {
		b.Fatalf(
			"client 0 holds %x, want ping frames",
			in[:max(m, 0)])
	}

	perConn := func(after, before uint64) float64 { return (float64(after) - float64(before)) / float64(n) }
	b.ReportMetric(perConn(m1.HeapAlloc+m1.StackInuse, m0.HeapAlloc+m0.StackInuse), "B/conn")
	b.ReportMetric(perConn(m1.Sys, m0.Sys), "sys-B/conn")
	b.ReportMetric(float64(g1-g0)/float64(n), "goroutines/conn")
	b.ReportMetric(0, "ns/op")

	s.Close()
	for _, fd := range fds {
		unix.Close(fd)
	}
	hs.Close()
}

var handshake = []byte("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")

// rawClient connects a blocking socket and completes the handshake.
func rawClient(addr *net.TCPAddr) (int, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	sa := &unix.SockaddrInet4{Port: addr.Port, Addr: [4]byte(addr.IP.To4())}
	if err := unix.Connect(fd, sa); err != nil {
		unix.Close(fd)
		return -1, err
	}
	if _, err := unix.Write(fd, handshake); err != nil {
		unix.Close(fd)
		return -1, err
	}
	var buf [512]byte
	got := 0
	for !bytes.Contains(buf[:got], []byte("\r\n\r\n")) {
		m, err := unix.Read(fd, buf[got:])
		if err != nil || m <= 0 {
			unix.Close(fd)
			return -1, &net.OpError{Op: "handshake", Err: err}
		}
		got += m
	}
	if !bytes.HasPrefix(buf[:got], []byte("HTTP/1.1 101")) {
		unix.Close(fd)
		return -1, &net.OpError{Op: "handshake", Err: syscall.EPROTO}
	}
	return fd, nil
}
