// Package postgres is the PostgreSQL store backend, on pgx/v5 and pgxpool:
// the production and scale-out backend. It mirrors the sqlite backend's
// behaviour exactly; the store package's doc comments are the contract.
//
// Schema: migrations.For("postgres"), applied by Open (or Migrate) under a
// session advisory lock so that replicas starting together never migrate
// twice. Tables are unqualified, so the connection's search_path chooses the
// schema (tests use one fresh schema each).
//
// Concurrency: read-modify-write updates lock the row with SELECT ... FOR NO
// KEY UPDATE (it serializes updates of one resource but, unlike FOR UPDATE,
// does not block other transactions' FOR KEY SHARE). Member resolution reads
// the referenced users and groups FOR KEY SHARE, so a concurrent delete of a
// member either waits for the new membership row and then removes it, or
// commits first and the member is reported as an invalid reference: no
// membership row ever names a deleted resource. Adding a group to a group
// also takes a per-tenant transaction advisory lock before the cycle check
// (a recursive walk up the member rows), so two concurrent nestings cannot
// each pass the check and together close a cycle; adding users skips both.
// ModifyGroup locks only the group row and reads and touches only the
// member rows its patch names (a remove-all also counts the group's rows).
//
// Pool: every acquisition waits at most the acquire timeout
// (pool_acquire_timeout in the DSN, DefaultAcquireTimeout by default) and
// then fails with store.ErrUnavailable, so a saturated pool answers 503
// rather than holding requests as long as their contexts allow.
//
// Times are TIMESTAMPTZ, written as given and returned in UTC. Resource
// documents are stored as JSON (not JSONB) so they come back byte for byte.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/sqlq"
)

// Store is a store.Store on a PostgreSQL connection pool.
type Store struct {
	pool         *pool
	queryTimeout time.Duration
}

var _ store.Store = (*Store)(nil)

// querier is what both the pool and a transaction offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Open connects to the database named by dsn (a postgres:// URL or a
// keyword/value string, as pgxpool accepts, pool_max_conns and the other
// pool_ parameters included) and applies pending migrations. The DSN may
// also set pool_acquire_timeout (a Go duration, default
// DefaultAcquireTimeout): how long a statement waits for a free
// connection before failing with store.ErrUnavailable.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, timeout, err := ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	if _, set := cfg.ConnConfig.RuntimeParams["plan_cache_mode"]; !set {
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "auto"
	}
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open pool: %w", err)
	}
	s := &Store{pool: &pool{p: p, timeout: timeout}, queryTimeout: 5 * time.Second}
	if err := s.Migrate(ctx); err != nil {
		p.Close()
		return nil, err
	}
	return s, nil
}

// ParseConfig parses dsn as Open does: the pool configuration, and the
// acquire timeout taken out of it (pool_acquire_timeout is not sent to the
// server as a runtime parameter).
func ParseConfig(dsn string) (*pgxpool.Config, time.Duration, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: parse dsn: %w", err)
	}
	timeout := DefaultAcquireTimeout
	if v, set := cfg.ConnConfig.RuntimeParams[acquireTimeoutParam]; set {
		delete(cfg.ConnConfig.RuntimeParams, acquireTimeoutParam)
		timeout, err = time.ParseDuration(v)
		if err != nil || timeout <= 0 {
			return nil, 0, fmt.Errorf("postgres: parse dsn: %s=%q is not a positive duration such as 500ms or 5s", acquireTimeoutParam, v)
		}
	}
	return cfg, timeout, nil
}

// Plans. Statements are prepared and cached per connection, so a point
// lookup or a write is parsed and planned once per connection and then
// runs on PostgreSQL's generic plan (planning was more than half the cost
// of a GET by id). Statements whose best plan depends on the values, such
// as filters, sorted pages and "= ANY($n)" lookups (a generic plan for the
// old User.groups lookup took 7 ms against 0.6 ms), take their arguments
// through custom(): pgx then runs them as unnamed statements, which
// PostgreSQL plans afresh with the actual values every time.
func custom(args ...any) []any {
	return append([]any{pgx.QueryExecModeCacheDescribe}, args...)
}

// listArgs are a list statement's arguments, custom() unless the
// statement's plan cannot depend on them.
func listArgs(st sqlq.Statements, args []any) []any {
	if st.Generic {
		return args
	}
	return custom(args...)
}

// Ping checks that the database answers and that migrations were applied.
func (s *Store) Ping(ctx context.Context) error {
	var migrated bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations)`).Scan(&migrated)
	if err != nil {
		return fmt.Errorf("ping postgres: %w", err)
	}
	if !migrated {
		return errors.New("postgres: no migrations applied")
	}
	return nil
}

// Close closes every connection of the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// tx runs fn in a transaction, committing when fn returns nil. fn's error is
// returned unchanged.
func (s *Store) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", translate(err))
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback(ctx)
		return err
	}
	var xid *int64
	if err := tx.QueryRow(ctx, xidSQL).Scan(&xid); err != nil {
		_ = tx.Rollback(ctx)
		return fmt.Errorf("commit: %w", translate(err))
	}
	if err := s.commitOutcome(xid, tx.Commit(ctx)); err != nil {
		return fmt.Errorf("commit: %w", translate(err))
	}
	return nil
}

// SQLSTATE codes translated into store sentinels.
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
	// programLimitExceeded is translated only for an index row over its
	// size limit (a long indexed value); other limits are bugs, not input.
	programLimitExceeded      = "54000"
	stringDataRightTruncation = "22001"
)

// translate maps driver errors to store sentinels, naming the constraint
// rather than passing the server's message on.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	if connectionLost(err) {
		return fmt.Errorf("%w: the database connection was lost (%v)", store.ErrUnavailable, err)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case uniqueViolation:
			return fmt.Errorf("%w: %s", store.ErrConflict, pe.ConstraintName)
		case foreignKeyViolation:
			return fmt.Errorf("%w: %s", store.ErrNotFound, pe.ConstraintName)
		case stringDataRightTruncation:
			return fmt.Errorf("%w: %s", store.ErrValueTooLarge, pe.Message)
		case programLimitExceeded:
			if strings.HasPrefix(pe.Message, "index row") {
				return fmt.Errorf("%w: %s", store.ErrValueTooLarge, pe.Message)
			}
		}
	}
	return err
}

// nullIfEmpty turns "" into SQL NULL, as the sqlite backend does for optional
// text columns.
func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// SetQueryTimeout bounds each list query (default 5s); a query cancelled by
// it fails with store.ErrTimeout.
func (s *Store) SetQueryTimeout(d time.Duration) { s.queryTimeout = d }

func (s *Store) count(ctx context.Context, st sqlq.Statements) (int, error) {
	var total int
	if err := s.pool.QueryRow(ctx, st.Count, listArgs(st, st.CountArgs)...).Scan(&total); err != nil {
		return 0, fmt.Errorf("count: %w", s.translateQuery(ctx, err))
	}
	return total, nil
}

// translateQuery reports a query stopped by the store's own timeout as
// store.ErrTimeout (a wait for a pool connection stays ErrUnavailable).
func (s *Store) translateQuery(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) && !errors.Is(err, store.ErrUnavailable) {
		return fmt.Errorf("%w (limit %s)", store.ErrTimeout, s.queryTimeout)
	}
	return translate(err)
}
