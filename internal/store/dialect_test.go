package store

import (
	"errors"
	"testing"
)

func TestRebind(t *testing.T) {
	tests := []struct {
		name     string
		query    string
		postgres string
	}{
		{"no placeholders", `SELECT 1`, `SELECT 1`},
		{"placeholders are numbered in order", `SELECT a FROM t WHERE b = ? AND c = ?`, `SELECT a FROM t WHERE b = $1 AND c = $2`},
		{"two-digit numbers", `VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, `VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`},
		{"adjacent placeholders", `?,?`, `$1,$2`},
		{"single-quoted text is untouched", `SELECT '?' || ? FROM t WHERE a = 'why?'`, `SELECT '?' || $1 FROM t WHERE a = 'why?'`},
		{"double-quoted names are untouched", `SELECT "odd?name" FROM t WHERE a = ?`, `SELECT "odd?name" FROM t WHERE a = $1`},
		{"a double quote inside single quotes", `SELECT 'say "hi?"', ? `, `SELECT 'say "hi?"', $1 `},
		{"a single quote inside double quotes", `SELECT "it's?" FROM t WHERE a = ?`, `SELECT "it's?" FROM t WHERE a = $1`},
		{"doubled quotes escape a quote", `SELECT 'it''s ?', ? FROM t`, `SELECT 'it''s ?', $1 FROM t`},
		{"placeholders after quoted text", `UPDATE agents SET presence = 'offline', presence_since = ? WHERE id = ? AND presence <> 'offline'`,
			`UPDATE agents SET presence = 'offline', presence_since = $1 WHERE id = $2 AND presence <> 'offline'`},
		{"multi-byte text", `SELECT 'héllo ?', ? -- ünïcode`, `SELECT 'héllo ?', $1 -- ünïcode`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Twice: the second answer comes from the cache and must not
			// leak into the other dialect.
			for range 2 {
				if got := postgres.rebind(tt.query); got != tt.postgres {
					t.Errorf("postgres: rebind(%q)\n got %q\nwant %q", tt.query, got, tt.postgres)
				}
				if got := sqlite.rebind(tt.query); got != tt.query {
					t.Errorf("sqlite: rebind(%q) = %q, want it unchanged", tt.query, got)
				}
			}
		})
	}
}

func TestDialectNames(t *testing.T) {
	if sqlite.name() != "sqlite" || postgres.name() != "postgres" {
		t.Errorf("names %q, %q", sqlite.name(), postgres.name())
	}
}

func TestConstraintErrorsAreRecognisedOnlyFromDrivers(t *testing.T) {
	for _, err := range []error{nil, errors.New("duplicate key value violates unique constraint")} {
		if isUniqueViolation(err) || isForeignKeyViolation(err) {
			t.Errorf("%v taken for a constraint violation", err)
		}
	}
}
