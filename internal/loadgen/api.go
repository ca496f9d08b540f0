package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/switchboard-hq/switchboard/internal/realtime"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// StatusError is an answer of the server with an unexpected status.
type StatusError struct {
	Method, Path string
	Code         int
	Body         string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: status %d: %s", e.Method, e.Path, e.Code, e.Body)
}

// CheckLoopback refuses every base URL that does not name a loopback address:
// the load generator and its tests only ever talk to a server on this machine.
func CheckLoopback(base string) (*url.URL, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("loadgen: server URL %q: %w", base, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("loadgen: server URL %q must be http(s)", base)
	}
	host := u.Hostname()
	if host == "localhost" {
		return u, nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("loadgen: server URL %q is not on loopback (127.0.0.1, ::1 or localhost)", base)
	}
	return u, nil
}

// NewTransport returns an HTTP transport that keeps at least conns idle
// connections to the server, so a load run never waits for new connections.
func NewTransport(conns int) *http.Transport {
	if conns < 2 {
		conns = 2
	}
	return &http.Transport{
		Proxy:               nil, // loopback only: never through a proxy
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns * 2,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
		WriteBufferSize:     16 << 10,
		ReadBufferSize:      16 << 10,
	}
}

// Session is a logged-in browser-like client of the JSON API: it keeps the
// session cookie and sends the server's own Origin, as the workspace does.
type Session struct {
	base   *url.URL
	origin string
	http   *http.Client
	// ws dials websockets; it shares the cookie jar but has no timeout,
	// which coder/websocket requires.
	ws *http.Client
}

// NewSession returns a client of the server at base (loopback only) using
// transport; call Login before anything that needs a session.
func NewSession(base string, transport http.RoundTripper) (*Session, error) {
	u, err := CheckLoopback(base)
	if err != nil {
		return nil, err
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	return &Session{
		base:   u,
		origin: u.Scheme + "://" + u.Host,
		http:   &http.Client{Transport: transport, Jar: jar, Timeout: 30 * time.Second},
		ws:     &http.Client{Transport: transport, Jar: jar},
	}, nil
}

// Origin is the server's origin, e.g. http://127.0.0.1:8080.
func (s *Session) Origin() string { return s.origin }

// HTTP is the session's HTTP client.
func (s *Session) HTTP() *http.Client { return s.http }

func (s *Session) url(path string) string { return s.origin + path }

// do sends a JSON request and decodes a JSON answer into out (when not nil);
// any status other than want is a *StatusError.
func (s *Session) do(ctx context.Context, method, path string, in, out any, want int) error {
	return s.send(ctx, method, s.url(path), path, in, out, want)
}

// doURL is do for an absolute URL answering 200.
func (s *Session) doURL(ctx context.Context, method, url string, in, out any) error {
	return s.send(ctx, method, url, url, in, out, http.StatusOK)
}

func (s *Session) send(ctx context.Context, method, url, path string, in, out any, want int) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Origin", s.origin)
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read the answer: %w", method, path, err)
	}
	if resp.StatusCode != want {
		return &StatusError{Method: method, Path: path, Code: resp.StatusCode, Body: strings.TrimSpace(string(data))}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decode the answer: %w", method, path, err)
		}
	}
	return nil
}

// Login signs in; the session cookie is kept for every later request.
func (s *Session) Login(ctx context.Context, email, password string) error {
	return s.do(ctx, http.MethodPost, "/api/v1/auth/login", map[string]string{"email": email, "password": password}, nil, http.StatusOK)
}

// CreateChannel creates an api channel and returns its id and API token.
func (s *Session) CreateChannel(ctx context.Context, name string) (int64, string, error) {
	var out struct {
		Channel struct {
			ID int64 `json:"id"`
		} `json:"channel"`
		Token string `json:"token"`
	}
	err := s.do(ctx, http.MethodPost, "/api/v1/channels", map[string]string{"kind": "api", "name": name}, &out, http.StatusCreated)
	return out.Channel.ID, out.Token, err
}

// CreateAgent creates an agent and returns its id.
func (s *Session) CreateAgent(ctx context.Context, email, name, password string) (int64, error) {
	var out struct {
		Agent struct {
			ID int64 `json:"id"`
		} `json:"agent"`
	}
	err := s.do(ctx, http.MethodPost, "/api/v1/agents", map[string]string{"email": email, "name": name, "password": password}, &out, http.StatusCreated)
	return out.Agent.ID, err
}

// ManagementRights are the rights of an agent that sees every request.
var ManagementRights = []string{"omnichannel", "omnichannel.unassigned", "omnichannel.management"}

// CreateGroup creates a group with rights and members and returns its id.
func (s *Session) CreateGroup(ctx context.Context, name string, rights []string, members []int64) (int64, error) {
	var out struct {
		ID int64 `json:"id"`
	}
	in := map[string]any{"name": name, "rights": rights, "member_ids": members}
	err := s.do(ctx, http.MethodPost, "/api/v1/groups", in, &out, http.StatusCreated)
	return out.ID, err
}

// Message is a stored message as the API shows it.
type Message struct {
	ID             int64  `json:"id"`
	ConversationID int64  `json:"conversation_id"`
	Kind           string `json:"kind"`
	Body           string `json:"body"`
}

// Messages returns every message of a request, oldest first, paging back
// through the API 100 at a time (at most maxPages pages).
func (s *Session) Messages(ctx context.Context, conversationID int64, maxPages int) ([]Message, error) {
	var all []Message
	before := int64(0)
	for range maxPages {
		path := "/api/v1/conversations/" + strconv.FormatInt(conversationID, 10) + "/messages"
		if before > 0 {
			path += "?before=" + strconv.FormatInt(before, 10)
		}
		var out struct {
			Messages []Message `json:"messages"`
		}
		if err := s.do(ctx, http.MethodGet, path, nil, &out, http.StatusOK); err != nil {
			return nil, err
		}
		all = append(out.Messages, all...)
		if len(out.Messages) == 0 {
			return all, nil
		}
		before = out.Messages[0].ID
		for _, m := range out.Messages {
			before = min(before, m.ID)
		}
	}
	return nil, fmt.Errorf("loadgen: request %d has more than %d pages of messages", conversationID, maxPages)
}

// DialEvents opens the agent websocket. With after >= 0 it asks for every
// event after that seq (a reconnect); with after < 0 the stream starts now.
func (s *Session) DialEvents(ctx context.Context, after int64) (*Events, error) {
	u := s.base.JoinPath("/api/v1/ws")
	u.Scheme = strings.Replace(u.Scheme, "http", "ws", 1)
	if after >= 0 {
		u.RawQuery = "after=" + strconv.FormatInt(after, 10)
	}
	conn, resp, err := websocket.Dial(ctx, u.String(), &websocket.DialOptions{
		HTTPClient: s.ws,
		HTTPHeader: http.Header{"Origin": {s.origin}},
	})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("loadgen: websocket: status %d: %w", resp.StatusCode, err)
		}
		return nil, fmt.Errorf("loadgen: websocket: %w", err)
	}
	conn.SetReadLimit(16 << 20)
	return NewEvents(conn), nil
}

// Events is an agent's event stream, read one frame at a time whether the
// server sent a frame alone or several packed in one message.
type Events struct {
	conn    *websocket.Conn
	pending []json.RawMessage
}

// NewEvents reads the event stream of an open agent websocket.
func NewEvents(conn *websocket.Conn) *Events { return &Events{conn: conn} }

// Next returns the next frame.
func (e *Events) Next(ctx context.Context) ([]byte, error) {
	for len(e.pending) == 0 {
		_, msg, err := e.conn.Read(ctx)
		if err != nil {
			return nil, err
		}
		if e.pending, err = realtime.SplitFrames(msg); err != nil {
			return nil, fmt.Errorf("loadgen: decode %s: %w", msg, err)
		}
	}
	f := e.pending[0]
	e.pending = e.pending[1:]
	return f, nil
}

// CloseNow closes the socket at once.
func (e *Events) CloseNow() error { return e.conn.CloseNow() }

// Inbound is one message posted to an api channel.
type Inbound struct {
	MessageID string `json:"message_id"`
	Sender    struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"sender"`
	Text string `json:"text"`
}

// InboundResult is the server's answer to an inbound message.
type InboundResult struct {
	ConversationID int64 `json:"conversation_id"`
	MessageID      int64 `json:"message_id"`
	Created        bool  `json:"created"`
	Duplicate      bool  `json:"duplicate"`
}

// Channel posts inbound messages to one api channel with its token.
type Channel struct {
	client *http.Client
	url    string
	auth   string
}

// NewChannel returns a poster for channel id on the server at base.
func NewChannel(base string, client *http.Client, id int64, token string) (*Channel, error) {
	u, err := CheckLoopback(base)
	if err != nil {
		return nil, err
	}
	return &Channel{
		client: client,
		url:    u.Scheme + "://" + u.Host + "/api/v1/channels/" + strconv.FormatInt(id, 10) + "/inbound",
		auth:   "Bearer " + token,
	}, nil
}

// Post sends one inbound message. A non-200 answer is a *StatusError; any
// other error means no answer came (the message may or may not be stored).
func (c *Channel) Post(ctx context.Context, in Inbound) (InboundResult, error) {
	var res InboundResult
	b, err := json.Marshal(in)
	if err != nil {
		return res, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(b))
	if err != nil {
		return res, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", c.auth)
	resp, err := c.client.Do(req)
	if err != nil {
		return res, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return res, err
	}
	if resp.StatusCode != http.StatusOK {
		return res, &StatusError{Method: http.MethodPost, Path: "inbound", Code: resp.StatusCode, Body: strings.TrimSpace(string(data))}
	}
	if err := json.Unmarshal(data, &res); err != nil {
		return res, fmt.Errorf("inbound: decode the answer: %w", err)
	}
	return res, nil
}

// ResidentMemory reads process_resident_memory_bytes from the server's
// /metrics.
func ResidentMemory(ctx context.Context, client *http.Client, base string) (int64, error) {
	m, err := ServerMetrics(ctx, client, base, "process_resident_memory_bytes")
	return int64(m["process_resident_memory_bytes"]), err
}

// ServerMetrics reads unlabelled gauges from the server's /metrics.
func ServerMetrics(ctx context.Context, client *http.Client, base string, names ...string) (map[string]float64, error) {
	u, err := CheckLoopback(base)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.Scheme+"://"+u.Host+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("metrics: status %d", resp.StatusCode)
	}
	out := make(map[string]float64, len(names))
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if !ok || !slices.Contains(names, name) {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return nil, fmt.Errorf("metrics: %s %q: %w", name, v, err)
		}
		out[name] = f
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, n := range names {
		if _, ok := out[n]; !ok {
			return out, fmt.Errorf("metrics: no %s", n)
		}
	}
	return out, nil
}
