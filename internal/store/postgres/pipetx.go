package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// execQuerier is what the helpers that run single statements inside a
// transaction need: a pgx.Tx or a pipeTx.
type execQuerier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// pipeTx is a transaction whose statements travel as pipelined batches on
// one connection: BEGIN goes out with the first batch and COMMIT with the
// last. A read-modify-write (read and lock the row, decide, write) then
// costs two round trips instead of four or more, and a row lock taken by
// the first batch is held for about one round trip, which is what bounds
// concurrent changes to one hot row (a large group).
type pipeTx struct {
	s         *Store
	xid       *int64
	conn      *pgxpool.Conn
	released  bool // conn went back to the pool after it was lost
	begun     bool
	committed bool
}

var _ execQuerier = (*pipeTx)(nil)

// pipeline runs fn in a pipelined transaction and commits it if fn did not
// (fn commits by sending its last batch with commit set). If fn or the
// commit fails, the transaction is rolled back and fn's error returned.
func (s *Store) pipeline(ctx context.Context, fn func(*pipeTx) error) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", translate(err))
	}
	defer conn.Release() // a connection left inside a transaction is closed, never reused
	p := &pipeTx{s: s, conn: conn}
	err = fn(p)
	if err == nil && !p.committed {
		err = p.send(ctx, &pgx.Batch{}, true)
	}
	if err != nil {
		p.rollback()
	}
	return err
}

// send sends b's statements in one round trip, after BEGIN if the
// transaction has not begun and followed by COMMIT when commit is set. It
// returns the first statement's error; a failed statement skips the rest,
// the COMMIT included.
func (p *pipeTx) send(ctx context.Context, b *pgx.Batch, commit bool) error {
	full := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(b.QueuedQueries)+2)}
	if !p.begun {
		full.Queue("BEGIN")
	}
	full.QueuedQueries = append(full.QueuedQueries, b.QueuedQueries...)
	// Every batch learns the transaction's id once it has one (a row lock
	// or a write assigns it), so that a COMMIT whose connection is lost,
	// answers included, can still be settled (commitOutcome).
	full.Queue(xidSQL).QueryRow(func(row pgx.Row) error {
		var xid *int64
		err := row.Scan(&xid)
		if xid != nil {
			p.xid = xid
		}
		return err
	})
	if commit {
		full.Queue("COMMIT")
	}
	p.begun = true
	if err := p.conn.SendBatch(ctx, full).Close(); err != nil {
		if !commit || !onlyExecs(b) || p.xid == nil || !connectionLost(err) {
			return err
		}
		// The connection is dead: give it back (the pool discards it)
		// before asking another one how the COMMIT ended.
		p.conn.Release()
		p.released = true
		if p.s.commitOutcome(p.xid, err) != nil {
			return err
		}
	}
	p.committed = commit
	return nil
}

// rollback ends a transaction left open or failed. It runs on its own
// short context: the caller's may be what failed.
func (p *pipeTx) rollback() {
	if p.released {
		return // a lost connection, already discarded: the server rolled back
	}
	switch p.conn.Conn().PgConn().TxStatus() {
	case 'T', 'E':
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = p.conn.Exec(ctx, "ROLLBACK")
	}
}

// begin sends BEGIN on its own when a statement is about to run outside a
// batch before any batch was sent.
func (p *pipeTx) begin(ctx context.Context) error {
	if p.begun {
		return nil
	}
	return p.send(ctx, &pgx.Batch{}, false)
}

// Exec runs one statement inside the transaction.
func (p *pipeTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if err := p.begin(ctx); err != nil {
		return pgconn.CommandTag{}, err
	}
	return p.conn.Exec(ctx, sql, args...)
}

// Query runs one query inside the transaction.
func (p *pipeTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := p.begin(ctx); err != nil {
		return nil, err
	}
	return p.conn.Query(ctx, sql, args...)
}
