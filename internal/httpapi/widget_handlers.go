package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/go-chi/chi/v5"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/websock"
	"github.com/switchboard-hq/switchboard/internal/widget"
	widgetjs "github.com/switchboard-hq/switchboard/web/widget"
)

// widgetAssets are the two widget files: the loader at a stable URL, and the
// chat at a URL named by its content hash, so it can be cached forever.
type widgetAssets struct {
	loader   []byte
	chat     []byte
	chatPath string
}

func newWidgetAssets() widgetAssets {
	chat := widgetjs.Chat()
	sum := sha256.Sum256(chat)
	return widgetAssets{loader: widgetjs.Loader(), chat: chat, chatPath: "/widget/chat-" + hex.EncodeToString(sum[:6]) + ".js"}
}

// baseURL is where visitors reach this server: the public URL when one is
// configured, else the address the request came to.
func (s *Server) baseURL(r *http.Request) string {
	if s.publicURL != "" {
		return strings.TrimSuffix(s.publicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) widgetLoader(w http.ResponseWriter, r *http.Request) {
	body := strings.Replace(string(s.widget.loader), "__CHAT_URL__", s.baseURL(r)+s.widget.chatPath, 1)
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
	_, _ = w.Write([]byte(body))
}

func (s *Server) widgetChat(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != s.widget.chatPath {
		// An old bundle: the loader that asked for it is at most 5 minutes old.
		s.writeError(w, r, errs.NotFound("widget version"))
		return
	}
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
	_, _ = w.Write(s.widget.chat)
}

// widgetPreview is the page the widget settings show in a frame: the real
// loader and chat in preview mode, with a sample conversation and no visitor.
func (s *Server) widgetPreview(w http.ResponseWriter, r *http.Request, id int64) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'self'; base-uri 'none'")
	fmt.Fprintf(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Widget preview</title></head>
<body><script src="/widget/loader.js" data-channel="%d" data-preview="1"></script></body></html>`, id)
}

// visitorKey carries the widget channel and, past the session call, the
// visitor, from the middleware to the handler.
type visitorKey struct{}

type visitorCall struct {
	ch      cv.Channel
	visitor widget.Visitor
}

func visitorFrom(ctx context.Context) visitorCall {
	v, _ := ctx.Value(visitorKey{}).(visitorCall)
	return v
}

// widgetChannel loads the channel of a /widget/{id}/… call and applies CORS:
// the answer is readable by the page that asked, so the widget can say what
// is wrong, but only the channel's own sites may do anything.
func (s *Server) widgetChannel(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Add("Vary", "Origin")
			if r.Method == http.MethodOptions {
				h.Set("Access-Control-Allow-Methods", "GET, POST")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		if !s.limits.allowIP(s.clientIP(r)) {
			s.writeError(w, r, errs.RateLimited("too many requests from your address; try again in a minute"))
			return
		}
		id, err := pathID(r)
		if err != nil {
			s.writeError(w, r, errs.NotFound("channel"))
			return
		}
		ch, err := s.visitors.Channel(r.Context(), id)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if origin := r.Header.Get("Origin"); origin != "" && !slices.Contains(ch.Widget.Origins, strings.ToLower(origin)) && origin != s.ownOrigin(r) {
			s.writeError(w, r, &errs.Error{Kind: errs.ErrForbidden, Code: "origin_not_allowed",
				Message: fmt.Sprintf("this chat is not set up for %s; add it to the channel's sites in Settings → Channels", origin)})
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), visitorKey{}, visitorCall{ch: ch})))
	})
}

func (s *Server) ownOrigin(r *http.Request) string {
	return strings.ToLower(s.baseURL(r))
}

// requireVisitor authenticates the visitor's bearer token (or ?token= where
// a browser cannot send headers: the websocket and file links).
func (s *Server) requireVisitor(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		call := visitorFrom(r.Context())
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			token = r.URL.Query().Get("token")
		}
		v, err := s.visitors.Authenticate(r.Context(), call.ch, strings.TrimSpace(token))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		call.visitor = v
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), visitorKey{}, call)))
	})
}

func (s *Server) visitorSession(w http.ResponseWriter, r *http.Request) {
	var in widget.SessionInput
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	call := visitorFrom(r.Context())
	out, err := s.visitors.StartSession(r.Context(), call.ch, in, s.clientIP(r))
	respond(s, w, r, http.StatusOK, out, err)
}

func (s *Server) visitorPage(w http.ResponseWriter, r *http.Request) {
	var in struct {
		PageURL   string `json:"page_url"`
		PageTitle string `json:"page_title"`
	}
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	call := visitorFrom(r.Context())
	err := s.visitors.RecordPage(r.Context(), call.visitor, in.PageURL, in.PageTitle, s.clientIP(r))
	respond(s, w, r, http.StatusNoContent, nil, err)
}

func (s *Server) visitorMessages(w http.ResponseWriter, r *http.Request) {
	var bounds [2]int64
	for i, name := range []string{"after", "before"} {
		if v := r.URL.Query().Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				s.writeError(w, r, errs.Invalid(name, "must be a message id"))
				return
			}
			bounds[i] = n
		}
	}
	call := visitorFrom(r.Context())
	list, err := s.visitors.History(r.Context(), call.ch, call.visitor, bounds[0], bounds[1])
	respond(s, w, r, http.StatusOK, map[string]any{"messages": list}, err)
}

func (s *Server) visitorSend(w http.ResponseWriter, r *http.Request) {
	call := visitorFrom(r.Context())
	if !s.limits.allowVisitor(call.visitor.ID) {
		s.writeError(w, r, errs.RateLimited("you are sending messages too fast; wait a moment"))
		return
	}
	var in struct {
		Text string `json:"text"`
		Key  string `json:"key"`
	}
	var files []cv.Upload
	if isMultipart(r) {
		form, uploads, err := readUploads(w, r, "file")
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		defer closeUploads(form, uploads)
		in.Text, in.Key, files = r.FormValue("text"), r.FormValue("key"), uploads
	} else if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	m, err := s.visitors.Send(r.Context(), call.ch, call.visitor, in.Text, in.Key, files)
	respond(s, w, r, http.StatusCreated, map[string]any{"message": m}, err)
}

func (s *Server) visitorForm(w http.ResponseWriter, r *http.Request) {
	call := visitorFrom(r.Context())
	if !s.limits.allowVisitor(call.visitor.ID) {
		s.writeError(w, r, errs.RateLimited("you are sending messages too fast; wait a moment"))
		return
	}
	var in struct {
		Name    string `json:"name"`
		Email   string `json:"email"`
		Message string `json:"message"`
	}
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	m, err := s.visitors.SubmitForm(r.Context(), call.ch, call.visitor, in.Name, in.Email, in.Message)
	respond(s, w, r, http.StatusCreated, map[string]any{"message": m}, err)
}

func (s *Server) visitorTyping(w http.ResponseWriter, r *http.Request) {
	call := visitorFrom(r.Context())
	if s.limits.allowTyping(call.visitor.ID) {
		ev, err := s.visitors.Typing(r.Context(), call.ch, call.visitor)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if ev.Kind != "" {
			s.hub.Publish(ev)
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) visitorFile(w http.ResponseWriter, r *http.Request) {
	call := visitorFrom(r.Context())
	msg, err1 := strconv.ParseInt(chi.URLParam(r, "message"), 10, 64)
	index, err2 := strconv.Atoi(chi.URLParam(r, "index"))
	if err1 != nil || err2 != nil {
		s.writeError(w, r, errs.NotFound("file"))
		return
	}
	a, f, err := s.visitors.Attachment(r.Context(), call.ch, call.visitor, msg, index)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer f.Close()
	w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
	w.Header().Set("Cache-Control", "private, max-age=86400")
	serveAttachment(w, r, a, f)
}

// visitorSocket pushes replies, typing and read state to the visitor. The
// socket is handed to the poller and this goroutine ends: an idle visitor
// costs no goroutine.
func (s *Server) visitorSocket(w http.ResponseWriter, r *http.Request) {
	call := visitorFrom(r.Context())
	var after int64
	if v := r.URL.Query().Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			s.writeError(w, r, errs.Invalid("after", "must be a message id"))
			return
		}
		after = n
	}
	vc := &visitorConn{}
	conn, err := s.sockets.UpgradeValue(w, r, vc)
	if err != nil {
		return
	}
	vc.conn = conn
	// The socket outlives the request, so its catch-up reads use a context
	// of their own.
	link, err := s.pusher.Attach(context.WithoutCancel(r.Context()), call.ch, call.visitor, vc, after)
	if err != nil {
		s.log.Warn("visitor socket: catch up", "error", err)
		conn.Close(websock.StatusInternalError, "try again")
		return
	}
	vc.attached(link)
}

// visitorConn is a visitor's socket as the pusher uses it. The socket may
// close before its link exists (a visitor leaving at once), so whichever of
// attach and close comes second detaches the link.
type visitorConn struct {
	conn *websock.Conn

	mu     sync.Mutex
	link   *widget.Link
	closed bool
}

func (v *visitorConn) Send(frame []byte) error { return v.conn.Send(frame) }
func (v *visitorConn) Close()                  { v.conn.Close(websock.StatusGoingAway, "reconnect") }

func (v *visitorConn) attached(l *widget.Link) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		l.Detach()
		return
	}
	v.link = l
}

// VisitorSocketClosed is the websock OnClose of visitor sockets.
func VisitorSocketClosed(c *websock.Conn) {
	v, ok := c.Value().(*visitorConn)
	if !ok {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.closed = true
	if v.link != nil {
		v.link.Detach()
	}
}

func (s *Server) agentTyping(w http.ResponseWriter, r *http.Request, id int64) {
	ev, err := s.conversations.AgentTyping(r.Context(), actorFrom(r.Context()), id)
	if err == nil {
		s.hub.Publish(ev)
	}
	respond(s, w, r, http.StatusNoContent, nil, err)
}

func (s *Server) listScripts(w http.ResponseWriter, r *http.Request) {
	list, err := s.visitors.Scripts(r.Context(), actorFrom(r.Context()))
	respond(s, w, r, http.StatusOK, map[string]any{"scripts": list}, err)
}

func (s *Server) createScript(w http.ResponseWriter, r *http.Request) {
	var in widget.ScriptPatch
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	sc, err := s.visitors.CreateScript(r.Context(), actorFrom(r.Context()), in)
	respond(s, w, r, http.StatusCreated, sc, err)
}

func (s *Server) updateScript(w http.ResponseWriter, r *http.Request, id int64) {
	var in widget.ScriptPatch
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	sc, err := s.visitors.UpdateScript(r.Context(), actorFrom(r.Context()), id, in)
	respond(s, w, r, http.StatusOK, sc, err)
}

func (s *Server) deleteScript(w http.ResponseWriter, r *http.Request, id int64) {
	respond(s, w, r, http.StatusNoContent, nil, s.visitors.DeleteScript(r.Context(), actorFrom(r.Context()), id))
}

func (s *Server) reorderScripts(w http.ResponseWriter, r *http.Request) {
	var in struct {
		IDs []int64 `json:"ids"`
	}
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	list, err := s.visitors.ReorderScripts(r.Context(), actorFrom(r.Context()), in.IDs)
	respond(s, w, r, http.StatusOK, map[string]any{"scripts": list}, err)
}

func (s *Server) listVisitors(w http.ResponseWriter, r *http.Request) {
	list, err := s.visitors.Visitors(r.Context(), actorFrom(r.Context()))
	respond(s, w, r, http.StatusOK, map[string]any{"visitors": list}, err)
}
