package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// connectionLost reports whether err means the connection to PostgreSQL
// failed or was closed under the statement: the server terminated the
// session (an administrator's pg_terminate_backend, a restart, a
// failover: SQLSTATE class 08 and 57P01-57P03), the network dropped it,
// or a new connection could not be made. The statement's transaction is
// then rolled back by the server, so the store answers
// store.ErrUnavailable (503, retry) rather than an internal error, and
// the pool replaces the connection on its next use.
//
// One case stays ambiguous, as with any client-server database: a
// connection lost after the server committed but before the client read
// the answer. The operation is then stored though reported unavailable;
// a retry finds it (a create then conflicts on its unique userName).
func connectionLost(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false // the caller's own deadline or cancellation, reported as such
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne), pgconn.SafeToRetry(err):
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	return strings.Contains(err.Error(), "conn closed")
}
