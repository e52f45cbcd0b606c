package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestConnectionLost: the errors of a connection that failed or was
// terminated are told from the statement's own errors and the caller's
// deadline, whatever wraps them.
func TestConnectionLost(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("update user: %w", err) }
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&pgconn.PgError{Code: "57P01"}, true}, // admin_shutdown (pg_terminate_backend)
		{&pgconn.PgError{Code: "57P02"}, true}, // crash_shutdown
		{&pgconn.PgError{Code: "57P03"}, true}, // cannot_connect_now
		{&pgconn.PgError{Code: "08006"}, true}, // connection_failure
		{wrap(io.ErrUnexpectedEOF), true},      // cut mid-answer
		{wrap(syscall.ECONNRESET), true},       // reset
		{wrap(&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}), true},
		{errors.New("conn closed"), true},       // pgx's closed connection
		{&pgconn.PgError{Code: "23505"}, false}, // unique violation
		{&pgconn.PgError{Code: "57014"}, false}, // query_canceled (a statement timeout)
		{wrap(context.DeadlineExceeded), false}, // the caller's deadline
		{wrap(context.Canceled), false},         // the caller went away
		{errors.New("json: cannot unmarshal"), false},
	} {
		if got := connectionLost(c.err); got != c.want {
			t.Errorf("connectionLost(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// TestCommitOutcomeKeepsOtherErrors: only a lost connection with a known
// transaction id is looked up; any other error is returned as it is.
func TestCommitOutcomeKeepsOtherErrors(t *testing.T) {
	s := &Store{} // no pool: a lookup would panic
	xid := int64(42)
	unique := &pgconn.PgError{Code: "23505"}
	if err := s.commitOutcome(&xid, unique); !errors.Is(err, unique) {
		t.Fatalf("a statement error became %v", err)
	}
	lost := &pgconn.PgError{Code: "57P01"}
	if err := s.commitOutcome(nil, lost); !errors.Is(err, lost) {
		t.Fatalf("a lost connection without a transaction id became %v", err)
	}
	if err := s.commitOutcome(&xid, nil); err != nil {
		t.Fatalf("success became %v", err)
	}
}
