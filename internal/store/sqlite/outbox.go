package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/internal/store"
)

const outboxColumns = `tenant_id, id, kind, user_id, recipient, sender, subject, body, created, state,
	attempts, next_attempt, last_error, sent_at, lease_owner, lease_until`

// insertOutbox writes the outbox messages of users inside tx.
func insertOutbox(ctx context.Context, tx *sql.Tx, users ...store.User) error {
	for _, m := range store.OutboxRows(users...) {
		_, err := tx.ExecContext(ctx, `INSERT INTO outbox (tenant_id, id, kind, user_id, recipient, sender, subject, body,
			created, state, next_attempt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			m.TenantID, m.ID, m.Kind, m.UserID, m.To, m.From, m.Subject, m.Body, micros(m.Created), m.State, micros(m.NextAttempt))
		if err != nil {
			return fmt.Errorf("insert outbox message: %w", translate(err))
		}
	}
	return nil
}

func scanOutbox(row rowScanner) (store.OutboxMessage, error) {
	var m store.OutboxMessage
	var created, next int64
	var sent, until sql.NullInt64
	err := row.Scan(&m.TenantID, &m.ID, &m.Kind, &m.UserID, &m.To, &m.From, &m.Subject, &m.Body, &created, &m.State,
		&m.Attempts, &next, &m.LastError, &sent, &m.LeaseOwner, &until)
	if err != nil {
		return m, translate(err)
	}
	m.Created, m.NextAttempt = fromMicros(created), fromMicros(next)
	if sent.Valid {
		t := fromMicros(sent.Int64)
		m.SentAt = &t
	}
	if until.Valid {
		m.LeaseUntil = fromMicros(until.Int64)
	}
	return m, nil
}

func scanOutboxRows(rows *sql.Rows) ([]store.OutboxMessage, error) {
	defer rows.Close()
	out := []store.OutboxMessage{}
	for rows.Next() {
		m, err := scanOutbox(rows)
		if err != nil {
			return nil, fmt.Errorf("scan outbox message: %w", err)
		}
		out = append(out, m)
	}
	return out, translate(rows.Err())
}

// ClaimOutbox leases due pending messages under the single writer.
func (s *Store) ClaimOutbox(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]store.OutboxMessage, error) {
	var out []store.OutboxMessage
	err := s.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE outbox SET lease_owner = ?1, lease_until = ?2
			WHERE (tenant_id, id) IN (SELECT tenant_id, id FROM outbox WHERE state = 'pending' AND next_attempt <= ?3
				AND (lease_until IS NULL OR lease_until <= ?3) ORDER BY next_attempt, created LIMIT ?4)
			RETURNING `+outboxColumns, owner, micros(now.Add(lease)), micros(now), limit)
		if err != nil {
			return fmt.Errorf("claim outbox: %w", translate(err))
		}
		out, err = scanOutboxRows(rows)
		return err
	})
	return out, err
}

// FinishOutbox records a delivery result if owner still holds the lease.
func (s *Store) FinishOutbox(ctx context.Context, tenant, id, owner string, res store.OutboxResult) error {
	state, sent := outboxOutcome(res)
	var sentAt sql.NullInt64
	if sent {
		sentAt = sql.NullInt64{Int64: micros(res.At), Valid: true}
	}
	r, err := s.w.ExecContext(ctx, `UPDATE outbox SET state = ?4, sent_at = ?5, attempts = attempts + ?6, last_error = ?7,
			next_attempt = ?8, lease_owner = '', lease_until = NULL
		WHERE tenant_id = ?1 AND id = ?2 AND state = 'pending' AND lease_owner = ?3 AND lease_until > ?9`,
		tenant, id, owner, state, sentAt, boolInt(!sent), res.Error, micros(res.RetryAt), micros(res.At))
	if err != nil {
		return fmt.Errorf("finish outbox message %s: %w", id, translate(err))
	}
	if n, _ := r.RowsAffected(); n == 1 {
		return nil
	}
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE tenant_id = ? AND id = ?`, tenant, id).Scan(&n); err != nil {
		return fmt.Errorf("finish outbox message %s: %w", id, translate(err))
	}
	if n == 0 {
		return fmt.Errorf("finish outbox message %s: %w", id, store.ErrNotFound)
	}
	return fmt.Errorf("finish outbox message %s: %w", id, store.ErrLeaseLost)
}

// outboxOutcome is the state a result leaves a message in.
func outboxOutcome(res store.OutboxResult) (string, bool) {
	switch {
	case res.Sent:
		return store.OutboxSent, true
	case res.GiveUp:
		return store.OutboxFailed, false
	}
	return store.OutboxPending, false
}

// ListOutbox returns a page of the tenant's messages, newest first.
func (s *Store) ListOutbox(ctx context.Context, tenant string, q store.OutboxQuery) ([]store.OutboxMessage, error) {
	where, args := []string{"tenant_id = ?"}, []any{tenant}
	if q.State != "" {
		where, args = append(where, "state = ?"), append(args, q.State)
	}
	if q.Before != "" {
		where = append(where, "(created, id) < (SELECT created, id FROM outbox WHERE tenant_id = ? AND id = ?)")
		args = append(args, tenant, q.Before)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+outboxColumns+` FROM outbox WHERE `+strings.Join(where, " AND ")+
		` ORDER BY created DESC, id DESC LIMIT ?`, append(args, q.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("list outbox: %w", translate(err))
	}
	return scanOutboxRows(rows)
}
