package store

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps prepared statements by query text. modernc's SQLite parses
// a statement on every execution otherwise, which cost a fifth of the
// writer's time under load; PostgreSQL needs no cache (pgx keeps its own).
type stmtCache struct {
	mu      sync.Mutex
	stmts   map[string]*sql.Stmt
	prepare func(ctx context.Context, query string) (*sql.Stmt, error)
}

// maxCachedStmts bounds the cache: queries built with a variable number of
// placeholders (batched inserts, IN lists) come in many shapes.
const maxCachedStmts = 1000

func newStmtCache(prepare func(ctx context.Context, query string) (*sql.Stmt, error)) *stmtCache {
	return &stmtCache{stmts: map[string]*sql.Stmt{}, prepare: prepare}
}

// get returns the prepared statement of query, or nil when it is not cached
// (the cache is full, or preparing failed: the caller then runs the query
// directly and gets the same error with the right result type).
func (c *stmtCache) get(ctx context.Context, query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts[query]; ok {
		return st
	}
	if len(c.stmts) >= maxCachedStmts {
		return nil
	}
	st, err := c.prepare(ctx, query)
	if err != nil {
		return nil
	}
	c.stmts[query] = st
	return st
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		st.Close()
	}
	c.stmts = map[string]*sql.Stmt{}
}
