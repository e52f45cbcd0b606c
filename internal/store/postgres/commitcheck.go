package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// xidSQL returns the transaction's id if it has written anything (NULL
// for a transaction that wrote nothing: its outcome does not matter). It
// runs just before COMMIT so that a COMMIT whose connection is lost can
// be checked (commitOutcome).
const xidSQL = `SELECT txid_current_if_assigned()`

// commitOutcome settles a COMMIT whose connection was lost (err): the
// server may have committed before the connection died. It asks, on
// another connection, for the transaction's status (txid_status, made for
// this) and returns nil when it committed, so the caller reports what
// really happened; otherwise, and when the status cannot be learnt (the
// server itself is down), it returns err unchanged.
func (s *Store) commitOutcome(xid *int64, err error) error {
	if err == nil || xid == nil || !connectionLost(err) {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for attempt := 0; ; attempt++ {
		var status *string
		qerr := s.pool.QueryRow(ctx, `SELECT txid_status($1)`, *xid).Scan(&status)
		switch {
		case qerr != nil && connectionLost(qerr) && attempt < 5:
			continue // an idle connection of the pool that died with the other
		case qerr != nil || status == nil:
			return err
		case *status == "committed":
			return nil
		case *status == "aborted":
			return err
		}
		// "in progress": the terminated backend has not finished yet.
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// onlyExecs reports whether none of b's statements reads a result (no
// callback): when such a batch's COMMIT is found to have committed after
// its connection was lost, nothing the caller expects is missing.
func onlyExecs(b *pgx.Batch) bool {
	for _, q := range b.QueuedQueries {
		if q.Fn != nil {
			return false
		}
	}
	return true
}
