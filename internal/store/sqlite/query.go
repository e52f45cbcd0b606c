package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/sqlq"
	sqlite3 "modernc.org/sqlite"
)

// The SQL functions sqlq uses on SQLite, implemented with Go's string
// functions so that case folding (schema.Fold, under the historical name
// scim_lower) and substring tests match the filter package's evaluator
// exactly (SQLite's lower() and LIKE fold ASCII only).
func init() {
	must(sqlite3.RegisterDeterministicScalarFunction("scim_lower", 1, func(_ *sqlite3.FunctionContext, a []driver.Value) (driver.Value, error) {
		s, ok := text(a[0])
		if !ok {
			return nil, nil
		}
		return schema.Fold(s), nil
	}))
	registerMatch("scim_co", strings.Contains)
	registerMatch("scim_sw", strings.HasPrefix)
	registerMatch("scim_ew", strings.HasSuffix)
}

func registerMatch(name string, fn func(s, sub string) bool) {
	must(sqlite3.RegisterDeterministicScalarFunction(name, 2, func(_ *sqlite3.FunctionContext, a []driver.Value) (driver.Value, error) {
		s, ok1 := text(a[0])
		sub, ok2 := text(a[1])
		if !ok1 || !ok2 {
			return nil, nil
		}
		return fn(s, sub), nil
	}))
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func text(v driver.Value) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case []byte:
		return string(v), true
	}
	return "", false
}

func (s *Store) count(ctx context.Context, st sqlq.Statements) (int, error) {
	var total int
	if err := s.r.QueryRowContext(ctx, st.Count, st.CountArgs...).Scan(&total); err != nil {
		return 0, fmt.Errorf("count: %w", s.translateQuery(ctx, err))
	}
	return total, nil
}

// translateQuery reports a query stopped by the store's own timeout as
// store.ErrTimeout.
func (s *Store) translateQuery(ctx context.Context, err error) error {
	if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w (limit %s)", store.ErrTimeout, s.queryTimeout)
	}
	return translate(err)
}

// SetQueryTimeout bounds each list query (default 5s).
func (s *Store) SetQueryTimeout(d time.Duration) { s.queryTimeout = d }
