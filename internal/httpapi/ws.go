package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/coder/websocket"

	"github.com/switchboard-hq/switchboard/internal/access"
	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
	"github.com/switchboard-hq/switchboard/internal/realtime"
)

const (
	wsWriteTimeout = 10 * time.Second
	// wsRecheck is how often a socket re-checks its session and rights, so a
	// revoked session, a deactivated agent or a removed right stops the stream
	// within this time.
	wsRecheck = 30 * time.Second
)

// agentSocket streams the events the agent may see. ?after=SEQ replays
// everything after SEQ first (a reconnect); without it the stream starts now.
// Events are sent in seq order; ephemeral ones (typing) carry seq 0.
func (s *Server) agentSocket(w http.ResponseWriter, r *http.Request) {
	actor := actorFrom(r.Context())
	if err := actor.Require(access.Omnichannel); err != nil {
		s.writeError(w, r, err)
		return
	}
	after := s.hub.Head()
	if v := r.URL.Query().Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			s.writeError(w, r, errs.Invalid("after", "must be an event sequence number"))
			return
		}
		after = n
	}
	conn, err := websocket.Accept(w, r, nil) // checks that Origin is this host
	if err != nil {
		return
	}
	defer conn.CloseNow()
	// The request's context ends at server shutdown too (BaseContext).
	ctx := conn.CloseRead(r.Context())
	viewer := cv.ViewerOf(actor)
	sub := s.hub.Subscribe(after, viewer.Sees)
	defer sub.Close()

	send := func(data []byte) error {
		wctx, cancel := context.WithTimeout(ctx, wsWriteTimeout)
		defer cancel()
		return conn.Write(wctx, websocket.MessageText, data)
	}
	if err := send(realtime.Hello(after, s.hub.Head())); err != nil {
		return
	}
	token := sessionFrom(r.Context()).TokenHash
	s.markConnected(ctx, actor.AgentID)
	recheck := time.Now().Add(wsRecheck)
	for {
		nctx, cancel := context.WithDeadline(ctx, recheck)
		evs, err := sub.Next(nctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil && nctx.Err() == nil {
			s.log.Warn("agent socket: read events", slog.Any("error", err))
			conn.Close(websocket.StatusInternalError, "event stream failed")
			return
		}
		for _, msg := range realtime.Pack(evs) {
			if err := send(msg); err != nil {
				return // the client reconnects with its last seq and catches up
			}
		}
		if time.Now().After(recheck) {
			s.markConnected(ctx, actor.AgentID)
			now, live := s.auth.Recheck(ctx, token)
			if !live {
				conn.Close(websocket.StatusPolicyViolation, "session ended")
				return
			}
			if !cv.ViewerOf(now).Equal(viewer) {
				// The client reconnects and gets a stream filtered by the new rights.
				conn.Close(websocket.StatusTryAgainLater, "rights changed")
				return
			}
			recheck = time.Now().Add(wsRecheck)
		}
	}
}

// markConnected vouches that the agent has a workspace tab open (every
// wsRecheck while it stays open), so the dispatcher counts them as present.
func (s *Server) markConnected(ctx context.Context, agentID int64) {
	o, err := s.settings.Omnichannel(ctx)
	if err == nil {
		err = s.team.MarkConnected(ctx, agentID, o.Grace())
	}
	if err != nil && ctx.Err() == nil {
		s.log.Warn("agent socket: mark connected", slog.Any("error", err))
	}
}
