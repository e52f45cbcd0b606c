// Package pgtest gives tests a PostgreSQL store of their own: a fresh schema
// with a random name, selected through the connection's search_path and
// dropped when the test ends.
//
// The server comes from SCIMBRIDGE_TEST_DATABASE_URL (default DefaultURL).
// When it cannot be reached the test is skipped, unless the CI environment
// variable is set: then it fails, so CI never passes by skipping.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/postgres"
)

// EnvURL names the environment variable holding the test server's DSN.
const EnvURL = "SCIMBRIDGE_TEST_DATABASE_URL"

// DefaultURL is the DSN used when EnvURL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// EnvPoolMaxConns names the environment variable that, when set (e.g. to
// 1), caps every test store's pool at that many connections and bounds
// each acquisition by PoolAcquireTimeout. `make test` runs the
// PostgreSQL-backed packages a second time with 1: a change that reads
// through the pool while its own transaction holds the only connection
// then fails with store.ErrUnavailable after PoolAcquireTimeout (and the
// test with it), so the class of deadlock behind issue 11 defect 1 cannot
// come back unnoticed.
const EnvPoolMaxConns = "SCIMBRIDGE_TEST_PG_POOL_MAX_CONNS"

// PoolAcquireTimeout is the pool_acquire_timeout of test stores when
// EnvPoolMaxConns is set: long enough for a queue of honest waiters under
// -race, short enough that a nested acquisition fails fast.
const PoolAcquireTimeout = "10s"

// timeout bounds each setup and cleanup step.
const timeout = 30 * time.Second

// Open returns a migrated store on a fresh schema. The store is closed and
// the schema dropped when t ends.
func Open(t testing.TB) *postgres.Store {
	t.Helper()
	dsn := DSN(t)
	if n := os.Getenv(EnvPoolMaxConns); n != "" {
		dsn = withParam(withParam(dsn, "pool_max_conns", n), "pool_acquire_timeout", PoolAcquireTimeout)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	s, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("pgtest: open store: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// DSN creates an empty schema and returns a DSN whose search_path is that
// schema. The schema is dropped, with everything in it, when t ends; close
// whatever uses the DSN in a cleanup registered after calling DSN (cleanups
// run last-registered first).
func DSN(t testing.TB) string {
	t.Helper()
	base := baseURL()
	schema := "t_" + randomHex(8)
	exec(t, base, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize())
	t.Cleanup(func() { exec(t, base, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE") })
	return withSearchPath(base, schema)
}

func baseURL() string {
	if v := os.Getenv(EnvURL); v != "" {
		return v
	}
	return DefaultURL
}

// exec runs one statement on a short-lived connection to dsn.
func exec(t testing.TB, dsn, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		unreachable(t, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("pgtest: %s: %v", sql, err)
	}
}

// unreachable skips the test, or fails it when running in CI.
func unreachable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("pgtest: PostgreSQL unreachable (set %s): %v", EnvURL, err)
	}
	t.Skipf("pgtest: PostgreSQL unreachable, skipping (set %s): %v", EnvURL, err)
}

// withSearchPath sets the search_path runtime parameter in a URL or
// keyword/value DSN.
func withSearchPath(dsn, schema string) string { return withParam(dsn, "search_path", schema) }

// withParam sets one connection parameter in a URL or key=value DSN.
func withParam(dsn, key, value string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if u, err := url.Parse(dsn); err == nil {
			q := u.Query()
			q.Set(key, value)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return dsn + " " + key + "=" + value
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// HoldConnection makes s hold one pool connection through its own code
// path: it creates a user in the default tenant and starts an UpdateUser
// whose callback waits, inside the update's transaction, until release is
// called (the update then changes nothing). HoldConnection returns once
// the callback runs; release waits for the update to end and is also
// called when t ends. On a store opened with pool_max_conns=1 every other
// call then waits for the pool's acquire timeout.
func HoldConnection(t testing.TB, s *postgres.Store) (release func()) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	u := store.User{TenantID: store.DefaultTenant, ID: uuid.NewString(), UserName: "pgtest-hold-" + randomHex(4),
		Active: true, Created: now, LastModified: now, Version: 1, Doc: []byte(`{}`)}
	if _, err := s.CreateUser(ctx, u); err != nil {
		t.Fatalf("pgtest: create the holding user: %v", err)
	}
	held, done, stop := make(chan struct{}), make(chan error, 1), make(chan struct{})
	go func() {
		_, err := s.UpdateUser(ctx, u.TenantID, u.ID, func(*store.User) error {
			close(held)
			<-stop
			return store.ErrUnchanged
		})
		done <- err
	}()
	select {
	case <-held:
	case err := <-done:
		t.Fatalf("pgtest: the holding update ended before holding: %v", err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			close(stop)
			if err := <-done; err != nil {
				t.Errorf("pgtest: the holding update: %v", err)
			}
		})
	}
	t.Cleanup(release)
	return release
}
