package store

import "context"

// MigrateTo applies the migrations up to version, for tests of a migration
// on data written by the schema before it.
func (db *DB) MigrateTo(ctx context.Context, version int64) error {
	p, err := db.migrator()
	if err == nil {
		_, err = p.UpTo(ctx, version)
	}
	return err
}

// Exec runs a statement written with ? placeholders, for such tests.
func (db *DB) Exec(ctx context.Context, query string, args ...any) error {
	_, err := db.write.ExecContext(ctx, db.dialect.rebind(query), args...)
	return err
}
