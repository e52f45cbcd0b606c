// Package sqlite is the embedded default store backend, on modernc.org/sqlite
// (pure Go, no cgo). The database runs in WAL mode: one pooled connection
// writes (so transactions never fight over the write lock) while several
// read concurrently. Times are stored as integer microseconds (UTC).
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/migrations"
	sqlite3 "modernc.org/sqlite"
	sqlite3lib "modernc.org/sqlite/lib"
)

// Store is a store.Store on an SQLite file.
type Store struct {
	w            *sql.DB // the single writer connection
	r            *sql.DB // readers
	queryTimeout time.Duration
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database file at path and applies
// pending migrations.
func Open(ctx context.Context, path string) (*Store, error) {
	w, err := openDB(path, 1)
	if err != nil {
		return nil, err
	}
	r, err := openDB(path, 4)
	if err != nil {
		w.Close()
		return nil, err
	}
	s := &Store{w: w, r: r, queryTimeout: 5 * time.Second}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	s.optimize(ctx)
	return s, nil
}

// optimize lets SQLite refresh its planner statistics where tables changed
// a lot (PRAGMA optimize, as SQLite recommends on open and close). It is
// advisory: a failure only costs plan quality, so it is not an error.
func (s *Store) optimize(ctx context.Context) {
	_, _ = s.w.ExecContext(ctx, `PRAGMA optimize=0x10002`)
}

func openDB(path string, conns int) (*sql.DB, error) {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "busy_timeout(10000)", "foreign_keys(1)", "synchronous(NORMAL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxIdleTime(0)
	return db, nil
}

// Migrate applies pending migrations, each in its own transaction.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := migrations.For("sqlite")
	if err != nil {
		return err
	}
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for _, m := range ms {
		if err := s.apply(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) apply(ctx context.Context, m migrations.Migration) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE name = ?`, m.Name).Scan(&n); err != nil {
			return fmt.Errorf("check migration %s: %w", m.Name, err)
		}
		if n > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("apply migration %s: %w", m.Name, err)
		}
		if m.Name == store.RefoldMigration {
			if err := refold(ctx, tx); err != nil {
				return fmt.Errorf("apply migration %s: %w", m.Name, err)
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied) VALUES (?, ?)`, m.Name, micros(time.Now()))
		return err
	})
}

// Ping checks that the database answers and is migrated.
func (s *Store) Ping(ctx context.Context) error {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		return fmt.Errorf("ping sqlite: %w", err)
	}
	if n == 0 {
		return errors.New("sqlite: no migrations applied")
	}
	return nil
}

// Close refreshes planner statistics and closes both pools.
func (s *Store) Close() error {
	s.optimize(context.Background())
	return errors.Join(s.r.Close(), s.w.Close())
}

// tx runs fn in a write transaction, committing when fn returns nil.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", translate(err))
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", translate(err))
	}
	return nil
}

// translate maps driver errors to store sentinels.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	var se *sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3lib.SQLITE_CONSTRAINT_UNIQUE, sqlite3lib.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %s", store.ErrConflict, constraintName(se.Error()))
		case sqlite3lib.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%w: referenced row does not exist", store.ErrNotFound)
		}
		if cannotWrite(se.Code()) {
			return fmt.Errorf("%w: the database file cannot be written (read-only, full or failing disk): %s", store.ErrUnavailable, se.Error())
		}
	}
	return err
}

// cannotWrite reports the result codes of a file that refuses writes: a
// read-only file or directory, a full disk, an I/O error. SQLite rolls
// the transaction back, so nothing was changed; the store answers
// store.ErrUnavailable (503, retry) and says why in the error it logs.
func cannotWrite(code int) bool {
	switch code & 0xff { // the primary result code of an extended one
	case sqlite3lib.SQLITE_READONLY, sqlite3lib.SQLITE_IOERR, sqlite3lib.SQLITE_FULL, sqlite3lib.SQLITE_CANTOPEN:
		return true
	}
	return false
}

func constraintName(msg string) string {
	if i := strings.Index(msg, "UNIQUE constraint failed: "); i >= 0 {
		return strings.TrimSuffix(msg[i+len("UNIQUE constraint failed: "):], ")")
	}
	return "unique constraint"
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func anySlice(ids []string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}
