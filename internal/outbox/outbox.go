// Package outbox delivers agents' replies to messaging platforms. A reply
// and its delivery job are committed together (package store); workers here
// lease due jobs, send them through the channel's platform, and record the
// outcome: sent with the platform's id, retried later with backoff (or when
// the platform asks), or failed with the platform's reason.
//
// Leases make a job belong to one worker at a time, on any instance. A worker
// that dies mid-send leaves its lease to expire, and the job is sent again:
// if the platform had already accepted it, the client gets that reply twice.
// Neither Telegram nor WhatsApp takes an idempotency key for sends, so that
// window (a crash between the platform's answer and the commit) cannot be
// closed on our side.
package outbox

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"strconv"
	"sync"
	"time"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/messenger"
)

// Job is one reply to deliver.
type Job struct {
	ID, MessageID, ConversationID, ChannelID int64
	// Attempts counts this one.
	Attempts int
}

// Store is what the worker needs of the database.
type Store interface {
	ClaimJobs(ctx context.Context, owner string, lease time.Duration, limit int) ([]Job, error)
	CompleteJob(ctx context.Context, j Job, owner, externalID string) error
	RetryJob(ctx context.Context, j Job, owner string, at time.Time, reason string) error
	FailJob(ctx context.Context, j Job, owner, reason string) error
	JobRecipient(ctx context.Context, conversationID int64) (string, error)
	Message(ctx context.Context, id int64) (cv.Message, error)
	Channel(ctx context.Context, id int64) (cv.Channel, error)
}

// Blobs opens stored attachments.
type Blobs interface {
	Open(ctx context.Context, name string) (io.ReadSeekCloser, error)
}

// Options tune the worker; zero values take the defaults.
type Options struct {
	// Poll is how often due jobs are looked for (default 250 ms).
	Poll time.Duration
	// Lease is how long a claimed job belongs to this worker (default 1 min).
	Lease time.Duration
	// Parallel is how many jobs are sent at once (default 8).
	Parallel int
	// MaxAttempts gives up a job whose temporary failures never end (default 12).
	MaxAttempts int
	// Backoff is the first retry's wait, doubled each attempt up to MaxBackoff
	// (defaults 2 s and 5 min).
	Backoff, MaxBackoff time.Duration
}

// Worker sends due jobs until its context ends.
type Worker struct {
	store     Store
	blobs     Blobs
	platforms messenger.Registry
	log       *slog.Logger
	opt       Options
	owner     string
	wake      chan struct{}
}

// New returns a worker with a random owner name for its leases.
func New(store Store, blobs Blobs, platforms messenger.Registry, log *slog.Logger, opt Options) *Worker {
	if opt.Poll <= 0 {
		opt.Poll = 250 * time.Millisecond
	}
	if opt.Lease <= 0 {
		opt.Lease = time.Minute
	}
	if opt.Parallel <= 0 {
		opt.Parallel = 8
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = 12
	}
	if opt.Backoff <= 0 {
		opt.Backoff = 2 * time.Second
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = 5 * time.Minute
	}
	return &Worker{store: store, blobs: blobs, platforms: platforms, log: log, opt: opt,
		owner: "worker-" + rand.Text()[:10], wake: make(chan struct{}, 1)}
}

// Wake makes the worker look for jobs now (a reply was just committed).
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run sends jobs until ctx ends; jobs in flight then are left to their
// leases.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTicker(w.opt.Poll)
	defer t.Stop()
	var inflight sync.WaitGroup
	defer inflight.Wait()
	slots := make(chan struct{}, w.opt.Parallel)
	for {
		free := w.opt.Parallel - len(slots)
		if free > 0 {
			jobs, err := w.store.ClaimJobs(ctx, w.owner, w.opt.Lease, free)
			if err != nil && ctx.Err() == nil {
				w.log.Warn("outbox: claim jobs", slog.Any("error", err))
			}
			for _, j := range jobs {
				slots <- struct{}{}
				inflight.Go(func() {
					defer func() { <-slots }()
					w.deliver(ctx, j)
				})
			}
			if len(jobs) == free {
				continue // more may be due
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.wake:
		}
	}
}

// deliver sends one job and records what came of it.
func (w *Worker) deliver(ctx context.Context, j Job) {
	log := w.log.With(slog.Int64("job", j.ID), slog.Int64("message", j.MessageID), slog.Int("attempt", j.Attempts))
	externalID, err := w.send(ctx, j)
	if ctx.Err() != nil {
		return // shutting down: the lease runs out and the job is tried again
	}
	switch se := messenger.AsSendError(err); {
	case err == nil:
		err = w.store.CompleteJob(ctx, j, w.owner, externalID)
	case se != nil && se.Permanent:
		log.Info("outbox: reply failed", slog.String("reason", se.Reason))
		err = w.store.FailJob(ctx, j, w.owner, se.Reason)
	case j.Attempts >= w.opt.MaxAttempts:
		log.Warn("outbox: giving up", slog.Any("error", err))
		err = w.store.FailJob(ctx, j, w.owner, fmt.Sprintf("could not be sent after %d attempts: %v", j.Attempts, reason(err)))
	default:
		wait := w.backoff(j.Attempts)
		if se != nil && se.RetryAfter > 0 {
			wait = se.RetryAfter
		}
		log.Debug("outbox: will retry", slog.Duration("in", wait), slog.Any("error", err))
		err = w.store.RetryJob(ctx, j, w.owner, time.Now().Add(wait), reason(err))
	}
	if err != nil && ctx.Err() == nil {
		log.Warn("outbox: record the outcome", slog.Any("error", err))
	}
}

func reason(err error) string {
	if se := messenger.AsSendError(err); se != nil {
		return se.Reason
	}
	return err.Error()
}

// backoff doubles from Backoff up to MaxBackoff, with ±20% jitter so that
// replies held back by one outage do not all come back at once.
func (w *Worker) backoff(attempt int) time.Duration {
	d := w.opt.Backoff << min(attempt-1, 20)
	if d <= 0 || d > w.opt.MaxBackoff {
		d = w.opt.MaxBackoff
	}
	return time.Duration(float64(d) * (0.8 + 0.4*mrand.Float64()))
}

// send loads the reply and hands it to the channel's platform.
func (w *Worker) send(ctx context.Context, j Job) (string, error) {
	ch, err := w.store.Channel(ctx, j.ChannelID)
	if err != nil {
		return "", &messenger.SendError{Permanent: true, Reason: "the channel was removed"}
	}
	platform, ok := w.platforms[ch.Kind]
	if !ok {
		return "", &messenger.SendError{Permanent: true, Reason: "Switchboard cannot send to " + string(ch.Kind) + " yet"}
	}
	if !ch.Active {
		return "", &messenger.SendError{Permanent: true, Reason: "the channel is disabled"}
	}
	m, err := w.store.Message(ctx, j.MessageID)
	if err != nil {
		return "", err
	}
	to, err := w.store.JobRecipient(ctx, j.ConversationID)
	if err != nil {
		return "", err
	}
	out := messenger.Outgoing{Text: m.Body, Key: strconv.FormatInt(m.ID, 10)}
	for _, a := range m.Attachments {
		data, err := w.read(ctx, a.Blob)
		if err != nil {
			return "", err
		}
		out.Files = append(out.Files, messenger.File{Filename: a.Filename, ContentType: a.ContentType, Data: data, Blob: a.Blob})
	}
	acc := messenger.Account{ChannelID: ch.ID, Public: ch.Account, Secrets: ch.Secrets}
	return platform.Send(ctx, acc, to, out)
}

func (w *Worker) read(ctx context.Context, blob string) ([]byte, error) {
	f, err := w.blobs.Open(ctx, blob)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}
