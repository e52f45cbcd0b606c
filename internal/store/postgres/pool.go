package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/scimbridge/scimbridge/internal/store"
)

// DefaultAcquireTimeout is how long a statement waits for a free pool
// connection unless the DSN sets pool_acquire_timeout.
const DefaultAcquireTimeout = 5 * time.Second

// acquireTimeoutParam is the DSN parameter that sets the acquire timeout
// (a Go duration such as 500ms or 5s). It is the store's, not PostgreSQL's:
// Open removes it before connecting.
const acquireTimeoutParam = "pool_acquire_timeout"

// pool is a pgxpool.Pool whose every acquisition waits at most timeout for
// a free connection (and no longer than the caller's context): a saturated
// pool then answers store.ErrUnavailable instead of making requests wait
// as long as their contexts allow. Its methods keep pgx's signatures; each
// acquires a connection, runs on it with the caller's context and returns
// it to the pool when done (rows closed, row scanned, transaction
// committed or rolled back, batch closed).
type pool struct {
	p       *pgxpool.Pool
	timeout time.Duration
}

// Acquire returns a connection of the pool, waiting at most the acquire
// timeout for one. The caller releases it.
func (p *pool) Acquire(ctx context.Context) (*pgxpool.Conn, error) {
	actx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	c, err := p.p.Acquire(actx)
	if err == nil {
		return c, nil
	}
	// A wait cut short by a deadline (the acquire timeout's, or an
	// earlier one of the caller's such as a list's query timeout) means
	// the pool stayed busy; a cancelled caller is reported as such.
	if !errors.Is(ctx.Err(), context.Canceled) && errors.Is(actx.Err(), context.DeadlineExceeded) {
		return nil, fmt.Errorf("%w: no database connection became free within %s (pool saturated or database unreachable)",
			store.ErrUnavailable, p.timeout)
	}
	if connectionLost(err) {
		return nil, fmt.Errorf("%w: cannot connect to the database (%v)", store.ErrUnavailable, err)
	}
	return nil, err
}

// Exec runs sql on a connection of the pool.
func (p *pool) Exec(ctx context.Context, sql string, arguments ...any) (pgconn.CommandTag, error) {
	c, err := p.Acquire(ctx)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	defer c.Release()
	return c.Exec(ctx, sql, arguments...)
}

// Query runs sql on a connection of the pool, which returns to the pool
// when the rows are closed (or read to the end, or fail).
func (p *pool) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	c, err := p.Acquire(ctx)
	if err != nil {
		return errRows{err: err}, err
	}
	rows, err := c.Query(ctx, sql, args...)
	if err != nil {
		c.Release()
		return errRows{err: err}, err
	}
	return &poolRows{Rows: rows, c: c}, nil
}

// QueryRow runs sql on a connection of the pool, which returns to the
// pool when the row is scanned. Errors are deferred to Scan, as pgx does.
func (p *pool) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	c, err := p.Acquire(ctx)
	if err != nil {
		return errRow{err: err}
	}
	return &poolRow{r: c.QueryRow(ctx, sql, args...), c: c}
}

// Begin starts a transaction on a connection of the pool, which returns
// to the pool when the transaction is committed or rolled back.
func (p *pool) Begin(ctx context.Context) (pgx.Tx, error) {
	return p.BeginTx(ctx, pgx.TxOptions{})
}

// BeginTx is Begin with transaction options.
func (p *pool) BeginTx(ctx context.Context, txOptions pgx.TxOptions) (pgx.Tx, error) {
	c, err := p.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	t, err := c.BeginTx(ctx, txOptions)
	if err != nil {
		c.Release()
		return nil, err
	}
	return &poolTx{Tx: t, c: c}, nil
}

// SendBatch sends b on a connection of the pool, which returns to the
// pool when the results are closed, or, when b begins a transaction
// (pgx.Batch.BeginTx), when that transaction ends.
func (p *pool) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	c, err := p.Acquire(ctx)
	if err != nil {
		return pgx.FailedBatchResults(b, err)
	}
	br := c.SendBatch(ctx, b)
	if tx := br.Tx(); tx != nil {
		return &poolBatchResults{BatchResults: br, tx: &poolTx{Tx: tx, c: c}}
	}
	return &poolBatchResults{BatchResults: br, c: c}
}

// CopyFrom copies rows into a table on a connection of the pool.
func (p *pool) CopyFrom(ctx context.Context, tableName pgx.Identifier, columnNames []string, rowSrc pgx.CopyFromSource) (int64, error) {
	c, err := p.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer c.Release()
	return c.Conn().CopyFrom(ctx, tableName, columnNames, rowSrc)
}

// Close closes every connection of the pool.
func (p *pool) Close() { p.p.Close() }

// errRows are the rows of a query that could not start.
type errRows struct{ err error }

func (errRows) Close()                                       {}
func (e errRows) Err() error                                 { return e.err }
func (errRows) CommandTag() pgconn.CommandTag                { return pgconn.CommandTag{} }
func (errRows) FieldDescriptions() []pgconn.FieldDescription { return nil }
func (errRows) Next() bool                                   { return false }
func (e errRows) Scan(...any) error                          { return e.err }
func (e errRows) Values() ([]any, error)                     { return nil, e.err }
func (errRows) RawValues() [][]byte                          { return nil }
func (errRows) Conn() *pgx.Conn                              { return nil }
func (errRows) TypeMap() *pgtype.Map                         { return nil }

// errRow is the row of a query that could not start.
type errRow struct{ err error }

func (e errRow) Scan(...any) error { return e.err }

// poolRows release their connection when closed, read to the end or
// failed, as pgxpool's rows do.
type poolRows struct {
	pgx.Rows
	c *pgxpool.Conn
}

func (r *poolRows) Close() {
	r.Rows.Close()
	if r.c != nil {
		r.c.Release()
		r.c = nil
	}
}

func (r *poolRows) Next() bool {
	n := r.Rows.Next()
	if !n {
		r.Close()
	}
	return n
}

func (r *poolRows) Scan(dest ...any) error {
	err := r.Rows.Scan(dest...)
	if err != nil {
		r.Close()
	}
	return err
}

func (r *poolRows) Values() ([]any, error) {
	v, err := r.Rows.Values()
	if err != nil {
		r.Close()
	}
	return v, err
}

// poolRow releases its connection once scanned.
type poolRow struct {
	r pgx.Row
	c *pgxpool.Conn
}

func (r *poolRow) Scan(dest ...any) error {
	defer r.c.Release()
	return r.r.Scan(dest...)
}

// poolTx releases its connection when committed or rolled back (a
// connection left inside a transaction is closed by Release, never
// reused).
type poolTx struct {
	pgx.Tx
	c *pgxpool.Conn
}

func (t *poolTx) Commit(ctx context.Context) error {
	err := t.Tx.Commit(ctx)
	t.release()
	return err
}

func (t *poolTx) Rollback(ctx context.Context) error {
	err := t.Tx.Rollback(ctx)
	t.release()
	return err
}

func (t *poolTx) release() {
	if t.c != nil {
		t.c.Release()
		t.c = nil
	}
}

// poolBatchResults release their connection when closed, unless the batch
// began a transaction: then the transaction owns the connection.
type poolBatchResults struct {
	pgx.BatchResults
	c  *pgxpool.Conn
	tx *poolTx
}

func (b *poolBatchResults) Close() error {
	err := b.BatchResults.Close()
	if b.c != nil {
		b.c.Release()
		b.c = nil
	}
	return err
}

func (b *poolBatchResults) Tx() pgx.Tx {
	if b.tx == nil {
		return nil
	}
	return b.tx
}
