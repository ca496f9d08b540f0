package store

import (
	"errors"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"
	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect is the engine behind a DB: the only place the two engines differ.
type dialect int

const (
	sqlite dialect = iota
	postgres
)

func (d dialect) name() string {
	if d == postgres {
		return "postgres"
	}
	return "sqlite"
}

// forUpdate locks the selected request rows until commit on PostgreSQL; SQLite
// has one writer at a time and needs no row locks.
// lockRow locks the rows a single-table SELECT reads (PostgreSQL; SQLite's
// one writer needs none).
func (d dialect) lockRow() string {
	if d == postgres {
		return ` FOR UPDATE`
	}
	return ""
}

// skipLocked locks the rows read and passes over rows other transactions
// hold, so concurrent workers take different jobs.
func (d dialect) skipLocked() string {
	if d == postgres {
		return ` FOR UPDATE SKIP LOCKED`
	}
	return ""
}

// joinInts is an aggregate joining an integer column's values with commas:
// many values cross to Go as one string, far cheaper than a row each.
func (d dialect) joinInts(expr string) string {
	if d == postgres {
		return `COALESCE(string_agg(CAST(` + expr + ` AS TEXT), ','), '')`
	}
	return `COALESCE(group_concat(` + expr + `), '')`
}

func (d dialect) forUpdate() string {
	if d == postgres {
		return ` FOR UPDATE OF c`
	}
	return ""
}

// rebound caches queries rewritten for PostgreSQL: the same few hundred query
// strings are rebound on every call otherwise.
var rebound sync.Map

// rebind turns ? placeholders into PostgreSQL's $1, $2… outside quoted text.
func (d dialect) rebind(query string) string {
	if d != postgres {
		return query
	}
	if q, ok := rebound.Load(query); ok {
		return q.(string)
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	var quote byte
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	rebound.Store(query, b.String())
	return b.String()
}

// isUniqueViolation reports whether err is a unique or primary key violation.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var sqliteErr *sqlitedrv.Error
	if errors.As(err, &sqliteErr) {
		code := sqliteErr.Code()
		return code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// isForeignKeyViolation reports whether err is a reference to a missing row.
func isForeignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23503"
	}
	var sqliteErr *sqlitedrv.Error
	if errors.As(err, &sqliteErr) {
		return sqliteErr.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}

// isTransient reports whether err is a deadlock or serialization failure that
// PostgreSQL resolved by aborting this transaction: retrying it is safe.
func isTransient(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001")
}
