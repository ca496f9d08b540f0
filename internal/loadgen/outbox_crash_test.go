package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-hq/switchboard/internal/messenger/telegram/telegramtest"
	"github.com/switchboard-hq/switchboard/internal/storetest"
)

// Scale of the outbox crash scenario.
const (
	outboxClients  = 10 // requests, each worked by its own client chat
	outboxReplies  = 3  // replies per request
	outboxHold     = 800 * time.Millisecond
	outboxParallel = 8 // the outbox worker's default Options.Parallel
	// A job leased by the killed server is sent again only after its lease
	// (--outbox-lease, a minute by default) runs out: the servers here take
	// a short one.
	outboxLease   = 5 * time.Second
	outboxBotName = "424242:CRASH-test_bot-token"
	// A send the server got its answer to this shortly before the kill may
	// not have been committed: it counts as in flight.
	outboxCommitSlack = 500 * time.Millisecond
)

// TestOutboxKillNineWhileSendingLosesNoReply is README "Messengers": the
// server is killed with SIGKILL while replies are being sent to a slow
// Telegram; after a restart on the same database every reply is sent, in
// order per request, and a reply reaches the client twice only if its send
// was in flight at the kill (the platform accepted it, the commit did not
// happen).
func TestOutboxKillNineWhileSendingLosesNoReply(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			outboxCrashScenario(t, e)
		})
	}
}

// heldSend is one sendMessage that reached the fake through the slow proxy.
type heldSend struct {
	chat, text string
	server     int       // which server process sent it: 1 before the kill, 2 after
	accepted   time.Time // the fake's answer came (the message was sent)
	answered   time.Time // the answer reached the server; zero if never
}

// slowTelegram sits in front of the fake Bot API: every call goes through
// at once, but the answer to a sendMessage is held back, so sends the fake
// has accepted are in flight at the server for a while. Each server process
// gets its own address (listen), so a request is known to come from the
// killed one even when the proxy reads it after the kill.
type slowTelegram struct {
	fake   *telegramtest.Fake
	client *http.Client
	hold   atomic.Int64 // nanoseconds

	mu    sync.Mutex
	sends []*heldSend
}

func newSlowTelegram(fake *telegramtest.Fake, hold time.Duration) *slowTelegram {
	p := &slowTelegram{fake: fake, client: &http.Client{Timeout: 30 * time.Second}}
	p.hold.Store(int64(hold))
	return p
}

// listen returns the base URL that server process number server uses.
func (p *slowTelegram) listen(t *testing.T, server int) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { p.serve(w, r, server) }))
	t.Cleanup(srv.Close)
	return srv.URL
}

func (p *slowTelegram) serve(w http.ResponseWriter, r *http.Request, server int) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req, err := http.NewRequestWithContext(context.WithoutCancel(r.Context()), r.Method, p.fake.URL+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	resp, err := p.client.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()

	var s *heldSend
	if strings.HasSuffix(r.URL.Path, "/sendMessage") && resp.StatusCode == http.StatusOK {
		var params struct {
			ChatID json.RawMessage `json:"chat_id"`
			Text   string          `json:"text"`
		}
		_ = json.Unmarshal(body, &params)
		s = &heldSend{chat: strings.Trim(string(params.ChatID), `"`), text: params.Text, server: server, accepted: time.Now()}
		p.mu.Lock()
		p.sends = append(p.sends, s)
		p.mu.Unlock()
		select {
		case <-time.After(time.Duration(p.hold.Load())):
		case <-r.Context().Done():
			return // the server is gone: it never learns that the send went
		}
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, err = w.Write(answer)
	if f, ok := w.(http.Flusher); ok && err == nil {
		f.Flush()
	}
	if s != nil && err == nil && r.Context().Err() == nil {
		p.mu.Lock()
		s.answered = time.Now()
		p.mu.Unlock()
	}
}

// state counts the sends accepted so far and those still held.
func (p *slowTelegram) state() (accepted, held int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.sends {
		if s.answered.IsZero() {
			held++
		}
	}
	return len(p.sends), held
}

// inFlightAt lists the texts whose send the killed server (number 1) had
// started, and the fake accepted, but whose answer it had not got (or got
// only just) when it died at at.
func (p *slowTelegram) inFlightAt(at time.Time) map[string]bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]bool{}
	for _, s := range p.sends {
		if s.server == 1 && (s.answered.IsZero() || s.answered.After(at.Add(-outboxCommitSlack))) {
			out[s.text] = true
		}
	}
	return out
}

// startServerWith is startServer with extra serve flags.
func startServerWith(t *testing.T, databaseURL, dataDir string, extra ...string) *server {
	t.Helper()
	bin := serverBinary(t)
	for attempt := 1; ; attempt++ {
		s, err := tryStartWith(bin, databaseURL, dataDir, extra)
		if err == nil {
			t.Cleanup(s.Kill)
			return s
		}
		if attempt < 3 && strings.Contains(err.Error(), "address already in use") {
			continue
		}
		t.Fatalf("start the server: %v", err)
	}
}

func tryStartWith(bin, databaseURL, dataDir string, extra []string) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	args := append([]string{"serve", "--addr", addr, "--data-dir", dataDir, "--database-url", databaseURL,
		"--admin-email", adminEmail, "--admin-password", adminPassword, "--log-level", "warn"}, extra...)
	cmd := exec.Command(bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SWITCHBOARD_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	s := &server{URL: "http://" + addr, cmd: cmd, exited: make(chan struct{}), out: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = s.out, s.out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		_ = cmd.Wait()
		close(s.exited)
	}()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return nil, fmt.Errorf("the server exited before it was ready:\n%s", s.out)
		default:
		}
		if resp, err := client.Get(s.URL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	s.Kill()
	return nil, fmt.Errorf("the server was not ready within a minute:\n%s", s.out)
}

// outboxReply is a reply as the API shows it.
type outboxReply struct {
	ID            int64  `json:"id"`
	Kind          string `json:"kind"`
	Body          string `json:"body"`
	Delivery      string `json:"delivery"`
	DeliveryError string `json:"delivery_error"`
}

func replyText(client, n int) string { return fmt.Sprintf("crash reply %d to client %d", n+1, client) }

func outboxCrashScenario(t *testing.T, e storetest.Engine) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	fake := telegramtest.New(t, outboxBotName)
	proxy := newSlowTelegram(fake, outboxHold)
	dataDir := t.TempDir()
	transport := NewTransport(8)
	defer transport.CloseIdleConnections()
	srv := startServerWith(t, e.URL, dataDir, "--telegram-api-url", proxy.listen(t, 1), "--outbox-lease", outboxLease.String())
	admin := login(ctx, t, srv, transport, adminEmail, adminPassword)
	var created struct {
		Channel struct {
			ID int64 `json:"id"`
		} `json:"channel"`
	}
	in := map[string]any{"kind": "telegram", "name": "Crash bot", "account": map[string]string{"bot_token": outboxBotName}}
	if err := admin.do(ctx, http.MethodPost, "/api/v1/channels", in, &created, http.StatusCreated); err != nil {
		t.Fatalf("connect the bot: %v", err)
	}

	// Each client writes once (message ids far from the fake's, which count
	// from 1: a reply's stored id "chat:message" must not equal a client's).
	chat := func(i int) int64 { return 810000000 + int64(i) }
	for i := range outboxClients {
		update, _ := json.Marshal(map[string]any{
			"update_id": 100 + i,
			"message": map[string]any{
				"message_id": 50000 + i, "date": time.Now().Unix(), "text": fmt.Sprintf("client %d needs help", i),
				"from": map[string]any{"id": chat(i), "is_bot": false, "first_name": "Client", "last_name": strconv.Itoa(i)},
				"chat": map[string]any{"id": chat(i), "type": "private", "first_name": "Client", "last_name": strconv.Itoa(i)},
			},
		})
		res, err := fake.Deliver(ctx, update)
		if err != nil {
			t.Fatalf("deliver client %d's message: %v", i, err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("deliver client %d's message: %d", i, res.StatusCode)
		}
	}
	var queue struct {
		Conversations []struct {
			ID         int64  `json:"id"`
			ClientName string `json:"client_name"`
		} `json:"conversations"`
	}
	if err := admin.do(ctx, http.MethodGet, "/api/v1/conversations?view=unassigned", nil, &queue, http.StatusOK); err != nil {
		t.Fatal(err)
	}
	requests := make([]int64, outboxClients)
	for _, c := range queue.Conversations {
		var i int
		if _, err := fmt.Sscanf(c.ClientName, "Client %d", &i); err == nil && i >= 0 && i < outboxClients {
			requests[i] = c.ID
		}
	}
	for i, id := range requests {
		if id == 0 {
			t.Fatalf("no request of client %d in the queue %+v", i, queue.Conversations)
		}
		if err := admin.do(ctx, http.MethodPost, fmt.Sprintf("/api/v1/conversations/%d/take", id), nil, nil, http.StatusOK); err != nil {
			t.Fatal(err)
		}
	}

	// The agent answers every client a few times; the outbox starts sending
	// at once, and Telegram answers each send only after outboxHold.
	start := time.Now()
	for n := range outboxReplies {
		for i, id := range requests {
			body := map[string]string{"kind": "reply", "body": replyText(i, n)}
			if err := admin.do(ctx, http.MethodPost, fmt.Sprintf("/api/v1/conversations/%d/messages", id), body, nil, http.StatusCreated); err != nil {
				t.Fatalf("reply: %v", err)
			}
		}
	}
	// Kill once the first wave went through and the next is held.
	for {
		accepted, held := proxy.state()
		if accepted >= outboxParallel+2 && held >= 3 {
			break
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("the sends never reached the kill point: %d accepted, %d held", accepted, held)
		}
		time.Sleep(2 * time.Millisecond)
	}
	srv.Kill()
	killedAt := time.Now()
	accepted, held := proxy.state()
	t.Logf("%s: killed %s after the first reply, with %d sends accepted by Telegram, %d of them unanswered",
		e.Name, killedAt.Sub(start).Round(time.Millisecond), accepted, held)

	// Restart on the same database; Telegram answers fast now.
	proxy.hold.Store(int64(20 * time.Millisecond))
	srv = startServerWith(t, e.URL, dataDir, "--telegram-api-url", proxy.listen(t, 2), "--outbox-lease", outboxLease.String())
	restarted := time.Now()
	admin = login(ctx, t, srv, transport, adminEmail, adminPassword)

	replies := func() (map[string]outboxReply, error) {
		out := map[string]outboxReply{}
		for _, id := range requests {
			var page struct {
				Messages []outboxReply `json:"messages"`
			}
			if err := admin.do(ctx, http.MethodGet, fmt.Sprintf("/api/v1/conversations/%d/messages", id), nil, &page, http.StatusOK); err != nil {
				return nil, err
			}
			for _, m := range page.Messages {
				if m.Kind == "reply" {
					out[m.Body] = m
				}
			}
		}
		return out, nil
	}
	deadline := restarted.Add(outboxLease + 30*time.Second)
	var final map[string]outboxReply
	for {
		got, err := replies()
		if err != nil {
			t.Fatal(err)
		}
		pending := 0
		for _, m := range got {
			if m.Delivery != "sent" {
				pending++
			}
		}
		if len(got) == outboxClients*outboxReplies && pending == 0 {
			final = got
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s after the restart, %d of %d replies are not sent: %+v", time.Since(restarted).Round(time.Second), pending, len(got), got)
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("%s: every reply was sent %s after the restart", e.Name, time.Since(restarted).Round(time.Millisecond))

	t.Run("every reply is stored once and shows sent", func(t *testing.T) {
		for i := range outboxClients {
			for n := range outboxReplies {
				if m, ok := final[replyText(i, n)]; !ok || m.Delivery != "sent" {
					t.Errorf("reply %q: %+v", replyText(i, n), m)
				}
			}
		}
	})

	sent := fake.Sent()
	count := map[string]int{}
	byChat := map[string][]string{}
	for _, s := range sent {
		count[s.Text]++
		byChat[s.ChatID] = append(byChat[s.ChatID], s.Text)
	}

	t.Run("no reply is lost, and each client gets its replies in order", func(t *testing.T) {
		for i := range outboxClients {
			var want []string
			for n := range outboxReplies {
				want = append(want, replyText(i, n))
			}
			// A duplicate follows its original before the next reply (a
			// request's next job waits for the one in flight).
			got := slices.Compact(slices.Clone(byChat[strconv.FormatInt(chat(i), 10)]))
			if !slices.Equal(got, want) {
				t.Errorf("client %d received %q, want %q", i, byChat[strconv.FormatInt(chat(i), 10)], want)
			}
		}
	})

	// The killed server's last requests may reach the proxy only after the
	// kill; by now they all have.
	inFlight := proxy.inFlightAt(killedAt)
	t.Run("only a reply in flight at the kill is sent twice, at most one per send slot", func(t *testing.T) {
		var dups []string
		for text, n := range count {
			if n > 1 {
				dups = append(dups, fmt.Sprintf("%q×%d", text, n))
				if !inFlight[text] {
					t.Errorf("%q was sent %d times but was not in flight at the kill", text, n)
				}
				if n > 2 {
					t.Errorf("%q was sent %d times: only one send can be interrupted", text, n)
				}
			}
		}
		slices.Sort(dups)
		if len(dups) > len(inFlight) || len(dups) > outboxParallel {
			t.Errorf("%d replies were sent twice, more than the %d in flight at the kill (the outbox sends at most %d at once)", len(dups), len(inFlight), outboxParallel)
		}
		t.Logf("%s: %d messages sent for %d replies; %d duplicated, %d were in flight at the kill (accepted by Telegram, answer not received or less than %s before): %v",
			e.Name, len(sent), outboxClients*outboxReplies, len(dups), len(inFlight), outboxCommitSlack, dups)
	})
}
