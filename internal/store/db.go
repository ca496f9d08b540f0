// Package store implements every storage interface of Switchboard over
// database/sql, on SQLite (modernc.org/sqlite) and PostgreSQL (pgx). One set of
// hand-written queries with ? placeholders serves both; dialect.go holds the
// few real differences. SQL lives in one file per aggregate.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/switchboard-hq/switchboard/internal/conversation"
	"github.com/switchboard-hq/switchboard/internal/errs"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations
var migrations embed.FS

// Options tune how a database is opened.
type Options struct {
	// SQLiteSynchronous is NORMAL (survives a process crash) or FULL (also a
	// power loss, at the cost of an fsync per commit).
	SQLiteSynchronous string
}

// DB is an open Switchboard database.
type DB struct {
	// write takes every transaction. On SQLite it is a single connection that
	// begins with BEGIN IMMEDIATE, so writers queue in Go instead of failing
	// with SQLITE_BUSY; on PostgreSQL it is the same pool as read.
	write *sql.DB
	// read serves plain queries; on SQLite (WAL) readers never wait for the writer.
	read    *sql.DB
	dialect dialect
	// Now is the clock of every write; tests may replace it.
	Now func() time.Time
	// OnCommit is called after every transaction that appended events, with
	// the last seq it appended: it wakes the real-time hubs of this instance.
	OnCommit func(seq int64)
	// eventLock and notifyChannel keep the event log's lock and wake-ups to
	// this database (schema) on a shared PostgreSQL server.
	eventLock     int64
	notifyChannel string
	ingester      *ingester

	// On SQLite every write transaction runs on writeConn, one connection
	// kept for it (writeMu queues the writers), whose statements are prepared
	// once; reads use statements prepared on the read pool.
	writeMu    sync.Mutex
	writeConn  *sql.Conn
	writeStmts *stmtCache
	readStmts  *stmtCache

	// sla caches the SLA policies and business hours (see sla.go).
	sla slaCache
}

// Open connects to the database named by url: "postgres://…" or
// "postgresql://…" for PostgreSQL, "sqlite://path" or a plain file path for SQLite.
func Open(ctx context.Context, dbURL string, opts Options) (*DB, error) {
	if strings.HasPrefix(dbURL, "postgres://") || strings.HasPrefix(dbURL, "postgresql://") {
		return openPostgres(ctx, dbURL)
	}
	return openSQLite(ctx, strings.TrimPrefix(strings.TrimPrefix(dbURL, "sqlite:"), "//"), opts)
}

func openPostgres(ctx context.Context, dbURL string) (*DB, error) {
	pool, err := sql.Open("pgx", dbURL)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	// As many idle connections as open ones: a burst must not open and
	// close PostgreSQL backends (each one a process) over and over.
	pool.SetMaxOpenConns(32)
	pool.SetMaxIdleConns(32)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	db := &DB{write: pool, read: pool, dialect: postgres, Now: time.Now}
	var schema string
	if err := pool.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: connect to postgres: %w", err)
	}
	db.eventLock, db.notifyChannel = schemaKeys(schema)
	db.ingester = startIngester(db, 4)
	return db, nil
}

func openSQLite(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" {
		return nil, errors.New("store: empty sqlite path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("store: create database directory: %w", err)
		}
	}
	sync := strings.ToUpper(opts.SQLiteSynchronous)
	if sync == "" {
		sync = "NORMAL"
	}
	// busy_timeout comes first so that switching to WAL waits for other
	// processes instead of failing at once.
	pragmas := url.Values{"_pragma": {
		"busy_timeout(5000)", "journal_mode(WAL)", "synchronous(" + sync + ")", "foreign_keys(1)",
	}}
	base := "file:" + path + "?" + pragmas.Encode()
	write, err := sql.Open("sqlite", base+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	// One connection is kept for write transactions; the second serves
	// migrations, which run before any transaction.
	write.SetMaxOpenConns(2)
	write.SetConnMaxIdleTime(0)
	read, err := sql.Open("sqlite", base+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	read.SetMaxOpenConns(8)
	read.SetMaxIdleConns(8)
	db := &DB{write: write, read: read, dialect: sqlite, Now: time.Now}
	// The write connection creates the file and switches it to WAL before any reader opens it.
	conn, err := write.Conn(ctx)
	if err == nil {
		err = conn.PingContext(ctx)
	}
	if err != nil {
		write.Close()
		read.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	db.writeConn = conn
	db.writeStmts = newStmtCache(conn.PrepareContext)
	db.readStmts = newStmtCache(read.PrepareContext)
	db.ingester = startIngester(db, 1)
	return db, nil
}

// Close finishes the queued inbound messages and closes the connection pools.
func (db *DB) Close() error {
	db.ingester.stop()
	var err error
	if db.writeConn != nil {
		db.writeStmts.close()
		db.readStmts.close()
		err = db.writeConn.Close()
	}
	err = errors.Join(err, db.write.Close())
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// Engine names the database engine: "sqlite" or "postgres".
func (db *DB) Engine() string { return db.dialect.name() }

// Pools returns the connection pools, for metrics.
func (db *DB) Pools() map[string]*sql.DB {
	if db.read == db.write {
		return map[string]*sql.DB{"main": db.write}
	}
	return map[string]*sql.DB{"write": db.write, "read": db.read}
}

// NotifyChannel is the PostgreSQL channel on which commits announce new
// events; empty on SQLite.
func (db *DB) NotifyChannel() string { return db.notifyChannel }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.read.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

func (db *DB) migrator() (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations/"+db.dialect.name())
	if err != nil {
		return nil, err
	}
	var opts []goose.ProviderOption
	gooseDialect := goose.DialectSQLite3
	if db.dialect == postgres {
		gooseDialect = goose.DialectPostgres
		// Two instances starting at once: one migrates, the other waits for it.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(gooseDialect, db.write, sub, opts...)
}

// Migrate applies every pending migration and returns how many ran.
func (db *DB) Migrate(ctx context.Context) (int, error) {
	p, err := db.migrator()
	if err != nil {
		return 0, fmt.Errorf("store: migrations: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return len(results), fmt.Errorf("store: migrate: %w", err)
	}
	return len(results), nil
}

// MigrationsCurrent reports whether the schema has every migration applied.
func (db *DB) MigrationsCurrent(ctx context.Context) (bool, error) {
	p, err := db.migrator()
	if err != nil {
		return false, fmt.Errorf("store: migrations: %w", err)
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return false, fmt.Errorf("store: check migrations: %w", err)
	}
	return !pending, nil
}

// tx runs fn in one write transaction with one clock reading, committing when
// fn returns nil. Nothing fn causes may be published before tx returns.
func (db *DB) tx(ctx context.Context, fn func(tx *txn) error) error {
	if db.writeConn != nil {
		return db.sqliteTx(ctx, fn)
	}
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	t := &txn{run: run{q: sqlTx, d: db.dialect, db: db}, now: db.Now().UTC().Truncate(time.Millisecond)}
	if err := fn(t); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	if err := t.flushEvents(ctx); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	if t.lastSeq > 0 && db.OnCommit != nil {
		db.OnCommit(t.lastSeq)
	}
	return nil
}

// sqliteTx is tx on SQLite: BEGIN IMMEDIATE on the kept write connection, so
// the writer lock is taken at once and statements stay prepared.
func (db *DB) sqliteTx(ctx context.Context, fn func(tx *txn) error) error {
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	conn := db.writeConn
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	t := &txn{run: run{q: conn, d: db.dialect, stmts: db.writeStmts, db: db}, now: db.Now().UTC().Truncate(time.Millisecond)}
	err := fn(t)
	if err == nil {
		err = t.flushEvents(ctx)
	}
	if err == nil {
		if _, cerr := conn.ExecContext(ctx, `COMMIT`); cerr != nil {
			err = fmt.Errorf("store: commit: %w", cerr)
		}
	}
	if err != nil {
		// A failed COMMIT leaves the transaction open; a cancelled request
		// must not leave it open either.
		_, _ = conn.ExecContext(context.Background(), `ROLLBACK`)
		return err
	}
	if t.lastSeq > 0 && db.OnCommit != nil {
		db.OnCommit(t.lastSeq)
	}
	return nil
}

// reader runs single queries on the read pool.
func (db *DB) reader() run { return run{q: db.read, d: db.dialect, stmts: db.readStmts, db: db} }

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// run executes queries written with ? placeholders on either engine, through
// prepared statements where there is a cache.
type run struct {
	q     querier
	d     dialect
	stmts *stmtCache
	// db gives the SLA policies that requests read through this run are bound to.
	db *DB
}

func (r run) prepared(ctx context.Context, query string) *sql.Stmt {
	if r.stmts == nil {
		return nil
	}
	return r.stmts.get(ctx, query)
}

func (r run) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	query = r.d.rebind(query)
	if st := r.prepared(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return r.q.ExecContext(ctx, query, args...)
}

func (r run) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	query = r.d.rebind(query)
	if st := r.prepared(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return r.q.QueryContext(ctx, query, args...)
}

func (r run) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	query = r.d.rebind(query)
	if st := r.prepared(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return r.q.QueryRowContext(ctx, query, args...)
}

// execOne runs a statement that must change a row: none changed means the
// row does not exist, reported as not found (what names it).
func (r run) execOne(ctx context.Context, what, query string, args ...any) error {
	res, err := r.exec(ctx, query, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.NotFound(what)
	}
	return nil
}

// txn is a write transaction with its single clock reading.
type txn struct {
	run
	now     time.Time
	pending []conversation.Event
	lastSeq int64
}

// millis is how times are stored: unix milliseconds on both engines.
func millis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
