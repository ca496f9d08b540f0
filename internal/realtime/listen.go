package realtime

import (
	"context"
	"log/slog"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgxlisten"
)

// ListenPostgres wakes the hub whenever any instance sharing the database
// commits events (the store sends NOTIFY on channel with the last seq). It
// holds one direct connection and reconnects until ctx ends.
func ListenPostgres(ctx context.Context, databaseURL, channel string, hub *Hub, log *slog.Logger) {
	l := &pgxlisten.Listener{
		Connect: func(ctx context.Context) (*pgx.Conn, error) { return pgx.Connect(ctx, databaseURL) },
		LogError: func(ctx context.Context, err error) {
			if ctx.Err() == nil {
				log.Warn("realtime: listen for events", slog.Any("error", err))
			}
		},
		ReconnectDelay: time.Second,
	}
	// Commits send no payload: the hub reads whatever is new.
	l.Handle(channel, pgxlisten.HandlerFunc(func(ctx context.Context, _ *pgconn.Notification, _ *pgx.Conn) error {
		hub.Notify(math.MaxInt64)
		return nil
	}))
	_ = l.Listen(ctx)
}
