// Package loadgen drives a running Switchboard over its real HTTP API on
// loopback: it sets up an api channel, a group with management rights and
// agents listening on the agent websocket, then posts inbound messages at an
// open-loop rate and measures what DESIGN.md "Targets" asks about: ingest
// latency, delivery latency to the agents' websockets, throughput, errors and
// the server's resident memory.
//
// The same package holds the crash-safety test (kill -9 under load, restart,
// prove nothing acknowledged was lost or doubled, and the event stream has no
// gap), which drives the real server binary the same way.
package loadgen

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Config is one load run.
type Config struct {
	URL           string // server base URL, loopback only
	AdminEmail    string
	AdminPassword string
	// Rate is the target of inbound messages per second; 0 sends as fast as
	// Concurrency allows (saturation).
	Rate float64
	// Concurrency is how many requests may be in flight at once.
	Concurrency int
	// Clients is the size of the pool of client ids messages come from.
	Clients int
	// NewEvery: one message in NewEvery replaces a random pool slot with a
	// brand-new client, whose first message opens a new request. 0: never.
	NewEvery int
	// Agents is how many agents listen on their own websocket.
	Agents int
	// Duration and Messages bound the send phase; the first reached ends it.
	// At least one must be set.
	Duration time.Duration
	Messages int64
	// DrainTimeout bounds the wait, after the last send, for the agents'
	// websockets to receive every acknowledged message.
	DrainTimeout time.Duration
	// Progress, when not nil, receives a line every few seconds.
	Progress io.Writer
	// Seed makes the choice of clients repeatable; 0 picks one.
	Seed uint64
}

func (c *Config) validate() error {
	if _, err := CheckLoopback(c.URL); err != nil {
		return err
	}
	switch {
	case c.AdminEmail == "" || c.AdminPassword == "":
		return errors.New("loadgen: the administrator's email and password are required")
	case c.Rate < 0:
		return errors.New("loadgen: rate must be 0 (as fast as possible) or positive")
	case c.Concurrency < 1:
		return errors.New("loadgen: concurrency must be at least 1")
	case c.Clients < 1:
		return errors.New("loadgen: clients must be at least 1")
	case c.NewEvery < 0:
		return errors.New("loadgen: new-every must not be negative")
	case c.Agents < 0:
		return errors.New("loadgen: agents must not be negative")
	case c.Duration <= 0 && c.Messages <= 0:
		return errors.New("loadgen: set a duration or a number of messages")
	case c.Messages > chunkSize*maxChunks:
		return fmt.Errorf("loadgen: at most %d messages per run", chunkSize*maxChunks)
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = 10 * time.Second
	}
	if c.Seed == 0 {
		c.Seed = mrand.Uint64()
	}
	return nil
}

// Report is what a run measured.
type Report struct {
	Config Config
	RunID  string

	Sent         int64 // requests issued
	Acknowledged int64 // answered 200
	Created      int64 // acknowledged messages that opened a new request
	Duplicates   int64 // acknowledged as duplicate (never expected here)
	SendPhase    time.Duration
	Throughput   float64 // acknowledged messages per second of the send phase

	Ingest Distribution // request start → 200 answer read
	// Lag is how late requests started against their schedule (open loop
	// only); a large lag means the generator, not the server, was the limit.
	Lag          Distribution
	BehindPeriod bool
	// Late counts requests that started more than LateThreshold after their
	// slot: LateBusy because the worker was still waiting for its previous
	// answer (every concurrency slot busy: the server is slower than
	// Concurrency/Rate), LateGenerator because the generator itself did not
	// run on time (timers, CPU).
	LateBusy, LateGenerator int64

	Sockets int
	// DeliveryFirst: per acknowledged message, request start → its
	// message.created frame on the first agent socket that got it.
	DeliveryFirst Distribution
	// DeliveryAll: one sample per (socket, message): request start → frame
	// on that socket; every listening socket is measured.
	DeliveryAll Distribution
	// Undelivered counts acknowledged messages that some socket had not
	// received when the drain ended; NeverDelivered, those no socket got.
	Undelivered, NeverDelivered int64
	Frames                      int64 // frames read on all sockets
	SeqGaps, SeqBackwards       int64 // stream-order violations seen
	SocketErrors                []string

	// RSSIdle is the server's resident memory before the setup, RSSBefore
	// after it (creating and logging in agents hashes passwords with
	// argon2id, which takes memory for a while), RSSAfter after the drain,
	// RSSPeak the most seen by the once-a-second sampling during the run.
	RSSIdle, RSSBefore, RSSAfter, RSSPeak int64

	Errors map[string]int64 // by status ("HTTP 503", "no answer")
	// ErrorSamples holds one message per kind of error.
	ErrorSamples map[string]string
}

// LateThreshold is how late a request may start against the schedule before
// it counts as late.
const LateThreshold = time.Millisecond

// runner is the state of one run.
type runner struct {
	cfg   Config
	runID string
	base  time.Time

	channel *Channel
	sockets []*socket

	next    atomic.Int64 // next message number
	acked   atomic.Int64
	starts  table // message → request start (ns since base, +1)
	ackedAt table // message → 1 when acknowledged
	first   table // message → first frame arrival (ns since base, +1)
	seen    table // message → frames received for it

	poolMu    sync.Mutex
	pool      []string
	newClient int64

	bodyPrefix []byte // `"body":"lg:RUN:` in a frame
}

type socket struct {
	conn       *Events
	samples    []time.Duration
	matched    atomic.Int64
	frames     int64
	gaps, back int64
	last       int64
	err        error
}

type worker struct {
	ingest, lag       []time.Duration
	acked, created    int64
	dups              int64
	end               time.Duration
	lateBusy, lateGen int64
	errs              map[string]int64
	errSamples        map[string]string
	rng               *mrand.Rand
	sent              int64
}

var messageCreated = []byte(`"kind":"message.created"`)

// Run sets the server up for the load, sends it and returns what it measured.
// It stops by itself when the duration or message count is reached, or when
// ctx ends (then it still reports what was measured so far).
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, runID: randomID(6)}
	r.bodyPrefix = []byte(`"body":"lg:` + r.runID + `:`)
	transport := NewTransport(cfg.Concurrency + cfg.Agents + 4)
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}

	rssIdle, _ := ResidentMemory(ctx, client, cfg.URL)
	setupCtx, cancelSetup := context.WithTimeout(ctx, 2*time.Minute)
	err := r.setup(setupCtx, transport, client)
	cancelSetup()
	defer func() {
		for _, s := range r.sockets {
			s.conn.CloseNow()
		}
	}()
	if err != nil {
		return nil, err
	}
	rep := &Report{Config: cfg, RunID: r.runID, Sockets: len(r.sockets), RSSIdle: rssIdle, Errors: map[string]int64{}, ErrorSamples: map[string]string{}}
	rep.RSSBefore, _ = ResidentMemory(ctx, client, cfg.URL)

	// The sockets read until the drain ends.
	sockCtx, stopSockets := context.WithCancel(context.Background())
	defer stopSockets()
	r.base = time.Now()
	var socketsDone sync.WaitGroup
	for _, s := range r.sockets {
		socketsDone.Go(func() { r.read(sockCtx, s) })
	}

	// Memory and progress are watched while sending.
	sendCtx, stopSend := context.WithCancel(ctx)
	defer stopSend()
	var watchers sync.WaitGroup
	var rssPeak atomic.Int64
	rssPeak.Store(rep.RSSBefore)
	watchers.Go(func() { r.watch(sendCtx, client, &rssPeak) })

	workers := make([]*worker, cfg.Concurrency)
	var sending sync.WaitGroup
	for i := range workers {
		w := &worker{errs: map[string]int64{}, errSamples: map[string]string{}, rng: mrand.New(mrand.NewPCG(cfg.Seed, uint64(i)))}
		workers[i] = w
		sending.Go(func() { r.send(sendCtx, client, w) })
	}
	sending.Wait()
	stopSend()
	watchers.Wait()

	// Drain: wait (bounded) until every socket got every acknowledged message.
	drainEnd := time.Now().Add(cfg.DrainTimeout)
	for len(r.sockets) > 0 && time.Now().Before(drainEnd) && ctx.Err() == nil {
		done := true
		for _, s := range r.sockets {
			if s.matched.Load() < r.acked.Load() {
				done = false
			}
		}
		if done {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	stopSockets()
	socketsDone.Wait()
	rep.RSSAfter, _ = ResidentMemory(context.Background(), client, cfg.URL)
	rep.RSSPeak = max(rssPeak.Load(), rep.RSSAfter)

	r.report(rep, workers)
	return rep, nil
}

func (r *runner) setup(ctx context.Context, transport http.RoundTripper, client *http.Client) error {
	cfg := r.cfg
	admin, err := NewSession(cfg.URL, transport)
	if err != nil {
		return err
	}
	if err := admin.Login(ctx, cfg.AdminEmail, cfg.AdminPassword); err != nil {
		return fmt.Errorf("loadgen: log in as the administrator: %w", err)
	}
	chID, token, err := admin.CreateChannel(ctx, "load "+r.runID)
	if err != nil {
		return fmt.Errorf("loadgen: create the api channel: %w", err)
	}
	if r.channel, err = NewChannel(cfg.URL, client, chID, token); err != nil {
		return err
	}
	r.pool = make([]string, cfg.Clients)
	for i := range r.pool {
		r.pool[i] = r.clientID()
	}
	if cfg.Agents == 0 {
		return nil
	}
	type agent struct {
		email, password string
		id              int64
	}
	agents := make([]agent, cfg.Agents)
	ids := make([]int64, cfg.Agents)
	for i := range agents {
		a := &agents[i]
		a.email = fmt.Sprintf("load-%s-%d@example.com", r.runID, i+1)
		a.password = randomID(12)
		if a.id, err = admin.CreateAgent(ctx, a.email, fmt.Sprintf("Load agent %d", i+1), a.password); err != nil {
			return fmt.Errorf("loadgen: create agent %d: %w", i+1, err)
		}
		ids[i] = a.id
	}
	if _, err := admin.CreateGroup(ctx, "load "+r.runID, ManagementRights, ids); err != nil {
		return fmt.Errorf("loadgen: create the agents' group: %w", err)
	}
	for i, a := range agents {
		s, err := NewSession(cfg.URL, transport)
		if err != nil {
			return err
		}
		if err := s.Login(ctx, a.email, a.password); err != nil {
			return fmt.Errorf("loadgen: log in agent %d: %w", i+1, err)
		}
		conn, err := s.DialEvents(ctx, -1)
		if err != nil {
			return fmt.Errorf("loadgen: agent %d: %w", i+1, err)
		}
		sock := &socket{conn: conn}
		r.sockets = append(r.sockets, sock)
		hello, err := conn.Next(ctx)
		if err != nil {
			return fmt.Errorf("loadgen: agent %d: read hello: %w", i+1, err)
		}
		if !bytes.Contains(hello, []byte(`"kind":"hello"`)) {
			return fmt.Errorf("loadgen: agent %d: the first frame is not hello: %s", i+1, hello)
		}
		// Counting gaps starts where the stream does: events committed
		// before (other agents' statuses) are not this run's business.
		if i := bytes.Index(hello, []byte(`"seq":`)); i >= 0 {
			sock.last, _ = leadingInt(hello[i+len(`"seq":`):])
		}
	}
	return nil
}

// clientID returns a brand-new client id.
func (r *runner) clientID() string {
	r.newClient++
	return "lg-" + r.runID + "-c" + strconv.FormatInt(r.newClient, 10)
}

// sender picks the client of message n: a random pool client, or, for one
// message in NewEvery, a brand-new client that replaces a random slot.
func (r *runner) sender(n int64, rng *mrand.Rand) string {
	r.poolMu.Lock()
	defer r.poolMu.Unlock()
	slot := rng.IntN(len(r.pool))
	if r.cfg.NewEvery > 0 && n%int64(r.cfg.NewEvery) == int64(r.cfg.NewEvery)-1 {
		r.pool[slot] = r.clientID()
	}
	return r.pool[slot]
}

func (r *runner) since() time.Duration { return time.Since(r.base) }

// send is one of Concurrency workers. Each takes the next message number and,
// with a rate, waits for that message's slot in the schedule (open loop: the
// schedule does not slow down when the server does; lateness is measured).
func (r *runner) send(ctx context.Context, client *http.Client, w *worker) {
	cfg := r.cfg
	for ctx.Err() == nil {
		n := r.next.Add(1) - 1
		if cfg.Messages > 0 && n >= cfg.Messages {
			return
		}
		var due time.Duration
		if cfg.Rate > 0 {
			due = time.Duration(float64(n) * float64(time.Second) / cfg.Rate)
			if cfg.Duration > 0 && due >= cfg.Duration {
				return
			}
			if wait := due - r.since(); wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-t.C:
				}
			}
		} else if cfg.Duration > 0 && r.since() >= cfg.Duration {
			return
		}
		var in Inbound
		in.MessageID = "lg-" + r.runID + "-m" + strconv.FormatInt(n, 10)
		in.Sender.ID = r.sender(n, w.rng)
		in.Sender.Name = "Load client " + in.Sender.ID
		in.Text = "lg:" + r.runID + ":" + strconv.FormatInt(n, 10) + " hello from the load generator"

		start := r.since()
		if cfg.Rate > 0 {
			lag := max(0, start-due)
			w.lag = append(w.lag, lag)
			if lag > LateThreshold {
				if w.end > due {
					w.lateBusy++ // still waiting for the previous answer when this one was due
				} else {
					w.lateGen++
				}
			}
		}
		r.starts.store(n, int64(start)+1)
		w.sent++
		res, err := r.channel.Post(ctx, in)
		end := r.since()
		w.end = max(w.end, end)
		if err != nil {
			if ctx.Err() != nil {
				return // interrupted: not the server's fault
			}
			key, sample := classify(err)
			w.errs[key]++
			if _, ok := w.errSamples[key]; !ok {
				w.errSamples[key] = sample
			}
			continue
		}
		w.ingest = append(w.ingest, end-start)
		w.acked++
		if res.Created {
			w.created++
		}
		if res.Duplicate {
			w.dups++
		}
		r.ackedAt.store(n, 1)
		r.acked.Add(1)
	}
}

func classify(err error) (key, sample string) {
	var se *StatusError
	if errors.As(err, &se) {
		return "HTTP " + strconv.Itoa(se.Code), truncate(se.Body, 200)
	}
	return "no answer", truncate(err.Error(), 200)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// watch samples the server's memory every second and prints progress every
// five, until ctx ends.
func (r *runner) watch(ctx context.Context, client *http.Client, peak *atomic.Int64) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	lastAcked, lastAt := int64(0), time.Now()
	for i := 1; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if rss, err := ResidentMemory(ctx, client, r.cfg.URL); err == nil && rss > peak.Load() {
			peak.Store(rss)
		}
		if r.cfg.Progress != nil && i%5 == 0 {
			acked, now := r.acked.Load(), time.Now()
			fmt.Fprintf(r.cfg.Progress, "loadgen: %5.1fs  issued %d  acknowledged %d  (%.0f msg/s over the last %.0fs)  server RSS %s\n",
				r.since().Seconds(), r.next.Load(), acked, float64(acked-lastAcked)/now.Sub(lastAt).Seconds(), now.Sub(lastAt).Seconds(), mib(peak.Load()))
			lastAcked, lastAt = acked, now
		}
	}
}

// read records the message.created frames of this run arriving on one socket.
// It matches a frame to its message by the nonce at the start of the body
// ("lg:RUN:N …") without decoding the whole frame, so that 20 sockets at
// thousands of frames a second cost the generator little.
func (r *runner) read(ctx context.Context, s *socket) {
	for {
		data, err := s.conn.Next(ctx)
		at := r.since()
		if err != nil {
			if ctx.Err() == nil {
				s.err = err
			}
			return
		}
		s.frames++
		if seq, ok := frameSeq(data); ok && seq != 0 {
			switch {
			case seq <= s.last:
				s.back++
			case seq > s.last+1:
				s.gaps++
			}
			s.last = max(s.last, seq)
		}
		if !bytes.Contains(data, messageCreated) {
			continue
		}
		i := bytes.Index(data, r.bodyPrefix)
		if i < 0 {
			continue
		}
		n, ok := leadingInt(data[i+len(r.bodyPrefix):])
		if !ok {
			continue
		}
		start := r.starts.load(n)
		if start == 0 {
			continue
		}
		s.samples = append(s.samples, at-time.Duration(start-1))
		r.first.storeMin(n, int64(at)+1)
		r.seen.add(n, 1)
		s.matched.Add(1)
	}
}

// frameSeq reads the seq of a frame, which the server writes first:
// {"seq":123,…
func frameSeq(frame []byte) (int64, bool) {
	rest, ok := bytes.CutPrefix(frame, []byte(`{"seq":`))
	if !ok {
		return 0, false
	}
	return leadingInt(rest)
}

func leadingInt(b []byte) (int64, bool) {
	var n int64
	i := 0
	for ; i < len(b) && i < 18 && b[i] >= '0' && b[i] <= '9'; i++ {
		n = n*10 + int64(b[i]-'0')
	}
	return n, i > 0
}

func (r *runner) report(rep *Report, workers []*worker) {
	var ingest, lag []time.Duration
	for _, w := range workers {
		ingest = append(ingest, w.ingest...)
		lag = append(lag, w.lag...)
		rep.Sent += w.sent
		rep.Acknowledged += w.acked
		rep.Created += w.created
		rep.Duplicates += w.dups
		rep.SendPhase = max(rep.SendPhase, w.end)
		rep.LateBusy += w.lateBusy
		rep.LateGenerator += w.lateGen
		for k, v := range w.errs {
			rep.Errors[k] += v
			if _, ok := rep.ErrorSamples[k]; !ok {
				rep.ErrorSamples[k] = w.errSamples[k]
			}
		}
	}
	if rep.SendPhase > 0 {
		rep.Throughput = float64(rep.Acknowledged) / rep.SendPhase.Seconds()
	}
	rep.Ingest = Summarize(ingest)
	rep.Lag = Summarize(lag)
	rep.BehindPeriod = r.cfg.Rate > 0 && rep.Lag.P99 > 5*time.Millisecond

	var all []time.Duration
	for _, s := range r.sockets {
		all = append(all, s.samples...)
		rep.Frames += s.frames
		rep.SeqGaps += s.gaps
		rep.SeqBackwards += s.back
		if s.err != nil {
			rep.SocketErrors = append(rep.SocketErrors, s.err.Error())
		}
	}
	rep.DeliveryAll = Summarize(all)
	if len(r.sockets) > 0 {
		var first []time.Duration
		issued := min(r.next.Load(), chunkSize*maxChunks)
		for n := range issued {
			if r.ackedAt.load(n) == 0 {
				continue
			}
			switch got := r.seen.load(n); {
			case got == 0:
				rep.NeverDelivered++
				rep.Undelivered++
				continue
			case got < int64(len(r.sockets)):
				rep.Undelivered++
			}
			first = append(first, time.Duration(r.first.load(n)-r.starts.load(n)))
		}
		rep.DeliveryFirst = Summarize(first)
	}
}

// Print writes the report in a readable form.
func (rep *Report) Print(w io.Writer) {
	c := rep.Config
	rate := "as fast as possible (saturation)"
	if c.Rate > 0 {
		rate = fmt.Sprintf("%.0f msg/s (open loop)", c.Rate)
	}
	bound := []string{}
	if c.Duration > 0 {
		bound = append(bound, c.Duration.String())
	}
	if c.Messages > 0 {
		bound = append(bound, strconv.FormatInt(c.Messages, 10)+" messages")
	}
	fmt.Fprintf(w, "Switchboard load run %s against %s\n", rep.RunID, c.URL)
	fmt.Fprintf(w, "  target:      %s, concurrency %d, %d clients, 1 message in %d from a new client, %d agent sockets, for %v\n",
		rate, c.Concurrency, c.Clients, c.NewEvery, c.Agents, bound)
	fmt.Fprintf(w, "  sent:        %d requests, %d acknowledged (200), %d opened a new request, %d duplicates\n",
		rep.Sent, rep.Acknowledged, rep.Created, rep.Duplicates)
	fmt.Fprintf(w, "  throughput:  %.1f acknowledged msg/s over a send phase of %.2f s\n", rep.Throughput, rep.SendPhase.Seconds())
	fmt.Fprintf(w, "  ingest latency (request start → 200 read):\n               %s\n", rep.Ingest)
	if c.Rate > 0 {
		verdict := "the generator kept up with the schedule"
		if rep.BehindPeriod {
			verdict = "FELL BEHIND the schedule (p99 lag > 5 ms)"
		}
		fmt.Fprintf(w, "  schedule lag (actual − scheduled request start): %s\n               %s; started > %v late: %d (%d while all %d requests were in flight: server-bound; %d from the generator's own delays)\n",
			rep.Lag, verdict, LateThreshold, rep.LateBusy+rep.LateGenerator, rep.LateBusy, c.Concurrency, rep.LateGenerator)
	}
	if rep.Sockets > 0 {
		fmt.Fprintf(w, "  delivery latency (request start → message.created frame on an agent websocket):\n")
		fmt.Fprintf(w, "    first socket per message:   %s\n", rep.DeliveryFirst)
		fmt.Fprintf(w, "    every socket (%d sockets):  %s\n", rep.Sockets, rep.DeliveryAll)
		fmt.Fprintf(w, "    acknowledged but missing on some socket after the drain: %d (on every socket: %d)\n", rep.Undelivered, rep.NeverDelivered)
		fmt.Fprintf(w, "    frames read: %d; seq gaps: %d; seq repeated or backwards: %d\n", rep.Frames, rep.SeqGaps, rep.SeqBackwards)
		for _, e := range rep.SocketErrors {
			fmt.Fprintf(w, "    socket error: %s\n", e)
		}
	}
	fmt.Fprintf(w, "  server RSS:  %s before the setup, %s after it (argon2id logins), %s after the run, peak sampled %s\n",
		mib(rep.RSSIdle), mib(rep.RSSBefore), mib(rep.RSSAfter), mib(rep.RSSPeak))
	if len(rep.Errors) == 0 {
		fmt.Fprintf(w, "  errors:      none\n")
		return
	}
	keys := make([]string, 0, len(rep.Errors))
	for k := range rep.Errors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintf(w, "  errors:\n")
	for _, k := range keys {
		fmt.Fprintf(w, "    %-10s %d  (e.g. %s)\n", k, rep.Errors[k], rep.ErrorSamples[k])
	}
}

func mib(b int64) string {
	if b <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}

func randomID(n int) string {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return string(b)
}
