package store

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"

	cv "github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
)

// maxBatch is the most inbound messages one transaction takes.
const maxBatch = 128

// ingester commits concurrent inbound messages together (group commit): a
// worker takes every message waiting and commits them in one transaction.
// Each caller is answered only after that commit. Under light load a batch is
// one message and nothing waits; under heavy load the cost of a commit (and
// of the event-log lock on PostgreSQL) is shared. Batches are optimistic: when
// one message fails (a redelivery, a bad channel), the batch is rolled back
// and its messages are committed one by one, so a failure never touches the
// others and the common case pays for no savepoints.
type ingester struct {
	db    *DB
	queue chan *ingestJob
	wg    sync.WaitGroup
	// stopping guards queue against sends after stop closed it.
	mu       sync.RWMutex
	stopping bool
}

type ingestJob struct {
	ctx  context.Context
	ch   cv.Channel
	in   cv.Inbound
	done chan ingestOutcome
}

type ingestOutcome struct {
	res cv.IngestResult
	err error
}

// startIngester runs workers until stop: one on SQLite (one writer anyway),
// a few on PostgreSQL, whose transactions only serialize at the event log.
func startIngester(db *DB, workers int) *ingester {
	g := &ingester{db: db, queue: make(chan *ingestJob, maxBatch)}
	for range workers {
		g.wg.Go(g.run)
	}
	return g
}

// stop lets the workers finish the queued messages and waits for them.
func (g *ingester) stop() {
	g.mu.Lock()
	g.stopping = true
	close(g.queue)
	g.mu.Unlock()
	g.wg.Wait()
}

func (g *ingester) submit(ctx context.Context, ch cv.Channel, in cv.Inbound) (cv.IngestResult, error) {
	job := &ingestJob{ctx: ctx, ch: ch, in: in, done: make(chan ingestOutcome, 1)}
	g.mu.RLock()
	if g.stopping {
		g.mu.RUnlock()
		return cv.IngestResult{}, errs.Unavailable("the server is shutting down; retry")
	}
	select {
	case g.queue <- job:
	case <-ctx.Done():
		g.mu.RUnlock()
		return cv.IngestResult{}, ctx.Err()
	}
	g.mu.RUnlock()
	select {
	case out := <-job.done:
		return out.res, out.err
	case <-ctx.Done():
		// The message may still be committed; the caller was not told so,
		// and a redelivery with the same id will find it.
		return cv.IngestResult{}, ctx.Err()
	}
}

func (g *ingester) run() {
	for job := range g.queue {
		batch := []*ingestJob{job}
	gather:
		for len(batch) < maxBatch {
			select {
			case j, ok := <-g.queue:
				if !ok {
					break gather
				}
				batch = append(batch, j)
			default:
				break gather
			}
		}
		// One lock order for every batch: rows of the same client are
		// always touched in the same sequence, so parallel batches on
		// PostgreSQL do not deadlock each other.
		slices.SortStableFunc(batch, func(a, b *ingestJob) int {
			return cmp.Or(cmp.Compare(a.ch.ID, b.ch.ID), strings.Compare(a.in.Sender.ExternalID, b.in.Sender.ExternalID))
		})
		g.commit(batch)
	}
}

// commit stores a batch and answers every job.
func (g *ingester) commit(batch []*ingestJob) {
	if len(batch) > 1 {
		if outs, err := g.store(batch); err == nil {
			for i, j := range batch {
				j.done <- outs[i]
			}
			return
		}
	}
	for _, j := range batch {
		outs, err := g.store([]*ingestJob{j})
		if err != nil {
			outs[0] = ingestOutcome{err: err}
		}
		j.done <- outs[0]
	}
}

// store ingests the jobs in one transaction; any failure rolls back all.
func (g *ingester) store(jobs []*ingestJob) ([]ingestOutcome, error) {
	outs := make([]ingestOutcome, len(jobs))
	err := g.db.tx(context.Background(), func(tx *txn) error {
		for i, j := range jobs {
			if err := j.ctx.Err(); err != nil {
				return err
			}
			var err error
			if outs[i].res, err = tx.ingest(j.ctx, j.ch, j.in); err != nil {
				return err
			}
		}
		return nil
	})
	return outs, err
}
