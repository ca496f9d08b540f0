package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// SocketsConfig describes an idle-websocket run: N widget visitors each hold
// their socket open while the server pings them, and the server's memory is
// read before and after.
type SocketsConfig struct {
	URL           string
	AdminEmail    string
	AdminPassword string
	// Sockets is how many visitor websockets to hold.
	Sockets int
	// Hold is how long they stay open before memory is read again; longer
	// than the server's ping interval (30 s), so pings are part of it.
	Hold        time.Duration
	Concurrency int
	Progress    io.Writer
}

// SocketsReport is what an idle-websocket run measured.
type SocketsReport struct {
	Sockets, Open, Failed int
	FirstError            string
	// Server memory before the sockets (visitors already started) and with
	// them all open: resident set, and the Go heap and stacks in use.
	RSSBefore, RSSAfter     int64
	HeapBefore, HeapAfter   int64
	Goroutines, GoroutinesB int64
	Held                    time.Duration
}

// Print writes the report.
func (r *SocketsReport) Print(w io.Writer) {
	per := func(before, after int64) float64 { return float64(after-before) / float64(max(r.Open, 1)) / 1024 }
	fmt.Fprintf(w, "visitor sockets: %d open of %d (%d failed) held %s\n", r.Open, r.Sockets, r.Failed, r.Held.Round(time.Second))
	if r.FirstError != "" {
		fmt.Fprintf(w, "first error: %s\n", r.FirstError)
	}
	fmt.Fprintf(w, "server resident memory: %s → %s = %.2f KiB per socket\n", mib(r.RSSBefore), mib(r.RSSAfter), per(r.RSSBefore, r.RSSAfter))
	fmt.Fprintf(w, "server Go heap+stacks:  %s → %s = %.2f KiB per socket\n", mib(r.HeapBefore), mib(r.HeapAfter), per(r.HeapBefore, r.HeapAfter))
	fmt.Fprintf(w, "server goroutines:      %d → %d\n", r.GoroutinesB, r.Goroutines)
}

var memoryGauges = []string{"process_resident_memory_bytes", "go_memstats_heap_inuse_bytes", "go_memstats_stack_inuse_bytes", "go_goroutines"}

// RunSockets starts cfg.Sockets widget visitors on a new widget channel,
// reads the server's memory, opens one websocket per visitor, holds them
// (answering pings) for cfg.Hold, and reads the memory again.
func RunSockets(ctx context.Context, cfg SocketsConfig) (*SocketsReport, error) {
	if cfg.Sockets <= 0 {
		return nil, errors.New("loadgen: --sockets must be positive")
	}
	cfg.Concurrency = max(cfg.Concurrency, 1)
	transport := NewTransport(cfg.Concurrency)
	admin, err := NewSession(cfg.URL, transport)
	if err != nil {
		return nil, err
	}
	if err := admin.Login(ctx, cfg.AdminEmail, cfg.AdminPassword); err != nil {
		return nil, fmt.Errorf("loadgen: log in: %w", err)
	}
	const site = "https://loadgen.example"
	var created struct {
		Channel struct{ ID int64 } `json:"channel"`
	}
	if err := admin.do(ctx, http.MethodPost, "/api/v1/channels", map[string]any{"kind": "widget", "name": "loadgen sockets " + strconv.FormatInt(time.Now().Unix(), 10),
		"widget": map[string]any{"origins": []string{site}}}, &created, http.StatusCreated); err != nil {
		return nil, err
	}
	base := admin.Origin() + "/widget/" + strconv.FormatInt(created.Channel.ID, 10)
	visitor := &Session{origin: site, http: &http.Client{Transport: transport, Timeout: 30 * time.Second}}
	rep := &SocketsReport{Sockets: cfg.Sockets}
	var firstErr sync.Once
	fail := func(err error) {
		firstErr.Do(func() { rep.FirstError = err.Error() })
	}

	// Visitors first, so that what they cost (rows, caches) is not counted
	// as the sockets' memory.
	tokens := make([]string, cfg.Sockets)
	var failed atomic.Int64
	parallel(cfg.Sockets, cfg.Concurrency, func(i int) {
		var s struct{ Token string }
		if err := visitor.doURL(ctx, http.MethodPost, base+"/session", map[string]string{"page_url": site + "/page/" + strconv.Itoa(i)}, &s); err != nil {
			failed.Add(1)
			fail(err)
			return
		}
		tokens[i] = s.Token
	})
	progress(cfg.Progress, "started %d visitors", cfg.Sockets-int(failed.Load()))
	time.Sleep(2 * time.Second) // let the server settle before reading its memory
	before, err := ServerMetrics(ctx, admin.HTTP(), cfg.URL, memoryGauges...)
	if err != nil {
		return nil, err
	}

	wsBase := "ws" + strings.TrimPrefix(base, "http")
	conns := make([]*websocket.Conn, cfg.Sockets)
	holdCtx, release := context.WithCancel(ctx)
	defer release()
	var readers sync.WaitGroup
	parallel(cfg.Sockets, cfg.Concurrency, func(i int) {
		if tokens[i] == "" {
			return
		}
		c, _, err := websocket.Dial(ctx, wsBase+"/ws?token="+tokens[i], &websocket.DialOptions{
			HTTPClient: &http.Client{Transport: transport}, HTTPHeader: http.Header{"Origin": {site}}})
		if err != nil {
			failed.Add(1)
			fail(err)
			return
		}
		conns[i] = c
		// Reading answers the server's pings.
		readers.Go(func() {
			for holdCtx.Err() == nil {
				if _, _, err := c.Read(holdCtx); err != nil {
					return
				}
			}
		})
	})
	for _, c := range conns {
		if c != nil {
			rep.Open++
		}
	}
	progress(cfg.Progress, "%d sockets open; holding them %s", rep.Open, cfg.Hold)
	start := time.Now()
	select {
	case <-ctx.Done():
	case <-time.After(cfg.Hold):
	}
	rep.Held = time.Since(start)
	after, err := ServerMetrics(context.Background(), admin.HTTP(), cfg.URL, memoryGauges...)
	release()
	for _, c := range conns {
		if c != nil {
			c.CloseNow()
		}
	}
	readers.Wait()
	if err != nil {
		return nil, err
	}
	rep.Failed = int(failed.Load())
	rep.RSSBefore, rep.RSSAfter = int64(before["process_resident_memory_bytes"]), int64(after["process_resident_memory_bytes"])
	rep.HeapBefore = int64(before["go_memstats_heap_inuse_bytes"] + before["go_memstats_stack_inuse_bytes"])
	rep.HeapAfter = int64(after["go_memstats_heap_inuse_bytes"] + after["go_memstats_stack_inuse_bytes"])
	rep.GoroutinesB, rep.Goroutines = int64(before["go_goroutines"]), int64(after["go_goroutines"])
	return rep, nil
}

// parallel runs fn(0..n-1) on at most workers goroutines.
func parallel(n, workers int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				fn(int(i))
			}
		})
	}
	wg.Wait()
}

func progress(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}
