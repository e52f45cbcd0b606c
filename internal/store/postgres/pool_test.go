package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/postgres"
	"github.com/scimbridge/scimbridge/internal/store/postgres/pgtest"
)

// openOneConn opens a store on a one-connection pool with a 200ms acquire
// timeout.
func openOneConn(t *testing.T) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), pgtest.DSN(t)+"&pool_max_conns=1&pool_acquire_timeout=200ms")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestHardening_SaturatedPoolIsUnavailable (issue 11, defect 1): while
// the only pool connection is held, every kind of store call (a point
// read, a list, a one-statement write, a transaction, a pipelined update,
// a ping) fails with store.ErrUnavailable after the acquire timeout
// instead of waiting as long as its context allows; once the connection
// is free they work again. The context's minute only bounds how long the
// test hangs if a call is not bounded.
func TestHardening_SaturatedPoolIsUnavailable(t *testing.T) {
	s := openOneConn(t)
	release := pgtest.HoldConnection(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	now := time.Now().UTC().Truncate(time.Microsecond)
	g := store.Group{TenantID: store.DefaultTenant, ID: uuid.NewString(), DisplayName: "g", Created: now, LastModified: now,
		Version: 1, Doc: []byte(`{}`)}
	calls := map[string]func() error{
		"GetUser": func() error {
			_, err := s.GetUser(ctx, store.DefaultTenant, uuid.NewString(), store.UserLoad{})
			return err
		},
		"ListUsers": func() error {
			_, _, err := s.ListUsers(ctx, store.DefaultTenant, store.Query{Limit: 10}, store.UserLoad{})
			return err
		},
		"CreateGroup": func() error { _, err := s.CreateGroup(ctx, g); return err },
		"UpdateGroup": func() error {
			_, err := s.UpdateGroup(ctx, store.DefaultTenant, g.ID, func(*store.Group) error { return nil })
			return err
		},
		"UpdateUser": func() error {
			_, err := s.UpdateUser(ctx, store.DefaultTenant, uuid.NewString(), func(*store.User) error { return nil })
			return err
		},
		"Ping": func() error { return s.Ping(ctx) },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s while the pool is held: err = %v, want ErrUnavailable", name, err)
		}
	}
	release()
	if err := calls["CreateGroup"](); err != nil {
		t.Fatalf("CreateGroup after release: %v", err)
	}
	if err := calls["UpdateGroup"](); err != nil {
		t.Fatalf("UpdateGroup after release: %v", err)
	}
	if err := calls["GetUser"](); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetUser after release: err = %v, want ErrNotFound", err)
	}
}

// TestHardening_CancelledWaitIsNotUnavailable: a caller that gives up
// while waiting for a connection gets its own context error, not
// ErrUnavailable (nothing is wrong with the database).
func TestHardening_CancelledWaitIsNotUnavailable(t *testing.T) {
	s := openOneConn(t)
	pgtest.HoldConnection(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.GetUser(ctx, store.DefaultTenant, uuid.NewString(), store.UserLoad{})
	if !errors.Is(err, context.Canceled) || errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestParseConfigAcquireTimeout: pool_acquire_timeout is read from both
// DSN forms, never passed on to the server, and must be a positive
// duration.
func TestParseConfigAcquireTimeout(t *testing.T) {
	for dsn, want := range map[string]time.Duration{
		"postgres://u@h/db?pool_acquire_timeout=750ms&pool_max_conns=2": 750 * time.Millisecond,
		"host=h user=u pool_acquire_timeout=3s":                         3 * time.Second,
		"postgres://u@h/db":                                             postgres.DefaultAcquireTimeout,
	} {
		cfg, got, err := postgres.ParseConfig(dsn)
		if err != nil || got != want {
			t.Errorf("ParseConfig(%q) = %v, %v; want %v", dsn, got, err, want)
			continue
		}
		if _, sent := cfg.ConnConfig.RuntimeParams["pool_acquire_timeout"]; sent {
			t.Errorf("ParseConfig(%q) leaves pool_acquire_timeout among the runtime parameters", dsn)
		}
	}
	for _, bad := range []string{"0s", "-1s", "5", "soon"} {
		if _, _, err := postgres.ParseConfig("postgres://u@h/db?pool_acquire_timeout=" + bad); err == nil {
			t.Errorf("pool_acquire_timeout=%s accepted", bad)
		}
	}
}
