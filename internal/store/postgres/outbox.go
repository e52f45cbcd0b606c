package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/scimbridge/scimbridge/internal/store"
)

const outboxColumns = `tenant_id, id, kind, user_id, recipient, sender, subject, body, created, state,
	attempts, next_attempt, last_error, sent_at, lease_owner, lease_until`

// outboxArrayTypes are the element types of outboxInsert's array
// parameters, in order: tenant, id, kind, user, recipient, sender,
// subject, body, created, next attempt.
var outboxArrayTypes = []string{"text", "text", "text", "text", "text", "text", "text", "text", "timestamptz", "timestamptz"}

// outboxInsert returns the statement inserting msgs from arrays, its
// parameters numbered from first, and the arguments.
func outboxInsert(msgs []store.OutboxMessage, first int) (string, []any) {
	n := len(msgs)
	cols := make([][]string, 8)
	for i := range cols {
		cols[i] = make([]string, n)
	}
	created, next := make([]time.Time, n), make([]time.Time, n)
	for i, m := range msgs {
		for c, v := range []string{m.TenantID, m.ID, m.Kind, m.UserID, m.To, m.From, m.Subject, m.Body} {
			cols[c][i] = v
		}
		created[i], next[i] = m.Created, m.NextAttempt
	}
	params := make([]string, len(outboxArrayTypes))
	for i, t := range outboxArrayTypes {
		params[i] = fmt.Sprintf("$%d::%s[]", first+i, t)
	}
	args := make([]any, 0, len(params))
	for _, c := range cols {
		args = append(args, c)
	}
	q := `INSERT INTO outbox (tenant_id, id, kind, user_id, recipient, sender, subject, body, created, state, next_attempt)
	SELECT m.tenant, m.id, m.kind, m.uid, m.rcpt, m.sender, m.subject, m.body, m.created, 'pending', m.next
	FROM unnest(` + strings.Join(params, ", ") + `) AS m(tenant, id, kind, uid, rcpt, sender, subject, body, created, next)`
	return q, append(args, created, next)
}

// insertOutbox writes the outbox messages of users inside tx.
func insertOutbox(ctx context.Context, tx pgx.Tx, users []store.User) error {
	msgs := store.OutboxRows(users...)
	if len(msgs) == 0 {
		return nil
	}
	q, args := outboxInsert(msgs, 1)
	if _, err := tx.Exec(ctx, q, args...); err != nil {
		return fmt.Errorf("insert outbox messages: %w", translate(err))
	}
	return nil
}

func scanOutbox(row pgx.Row) (store.OutboxMessage, error) {
	var m store.OutboxMessage
	var until *time.Time
	err := row.Scan(&m.TenantID, &m.ID, &m.Kind, &m.UserID, &m.To, &m.From, &m.Subject, &m.Body, &m.Created, &m.State,
		&m.Attempts, &m.NextAttempt, &m.LastError, &m.SentAt, &m.LeaseOwner, &until)
	if err != nil {
		return m, translate(err)
	}
	m.Created, m.NextAttempt = m.Created.UTC(), m.NextAttempt.UTC()
	if m.SentAt != nil {
		t := m.SentAt.UTC()
		m.SentAt = &t
	}
	if until != nil {
		m.LeaseUntil = until.UTC()
	}
	return m, nil
}

func scanOutboxRows(rows pgx.Rows) ([]store.OutboxMessage, error) {
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

// ClaimOutbox leases due pending messages; FOR UPDATE SKIP LOCKED keeps
// concurrent senders from waiting on, or taking, each other's rows.
func (s *Store) ClaimOutbox(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]store.OutboxMessage, error) {
	rows, err := s.pool.Query(ctx, `WITH due AS (SELECT tenant_id, id FROM outbox
			WHERE state = 'pending' AND next_attempt <= $3 AND (lease_until IS NULL OR lease_until <= $3)
			ORDER BY next_attempt, created LIMIT $4 FOR UPDATE SKIP LOCKED)
		UPDATE outbox o SET lease_owner = $1, lease_until = $2 FROM due
		WHERE o.tenant_id = due.tenant_id AND o.id = due.id RETURNING `+prefixed("o.", outboxColumns),
		owner, now.Add(lease), now, limit)
	if err != nil {
		return nil, fmt.Errorf("claim outbox: %w", translate(err))
	}
	out, err := scanOutboxRows(rows)
	if err != nil {
		return nil, fmt.Errorf("claim outbox: %w", err)
	}
	return out, nil
}

// prefixed qualifies each column of a comma-separated list.
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// FinishOutbox records a delivery result if owner still holds the lease.
func (s *Store) FinishOutbox(ctx context.Context, tenant, id, owner string, res store.OutboxResult) error {
	state, sent := outboxOutcome(res)
	var sentAt *time.Time
	if sent {
		sentAt = &res.At
	}
	attempts := 1
	if sent {
		attempts = 0
	}
	tag, err := s.pool.Exec(ctx, `UPDATE outbox SET state = $4, sent_at = $5, attempts = attempts + $6, last_error = $7,
			next_attempt = $8, lease_owner = '', lease_until = NULL
		WHERE tenant_id = $1 AND id = $2 AND state = 'pending' AND lease_owner = $3 AND lease_until > $9`,
		tenant, id, owner, state, sentAt, attempts, res.Error, res.RetryAt, res.At)
	if err != nil {
		return fmt.Errorf("finish outbox message %s: %w", id, translate(err))
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM outbox WHERE tenant_id = $1 AND id = $2)`, tenant, id).Scan(&exists); err != nil {
		return fmt.Errorf("finish outbox message %s: %w", id, translate(err))
	}
	if !exists {
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
	where, args := []string{"tenant_id = $1"}, []any{tenant}
	if q.State != "" {
		args = append(args, q.State)
		where = append(where, fmt.Sprintf("state = $%d", len(args)))
	}
	if q.Before != "" {
		args = append(args, q.Before)
		where = append(where, fmt.Sprintf("(created, id) < (SELECT created, id FROM outbox WHERE tenant_id = $1 AND id = $%d)", len(args)))
	}
	args = append(args, q.Limit)
	rows, err := s.pool.Query(ctx, `SELECT `+outboxColumns+` FROM outbox WHERE `+strings.Join(where, " AND ")+
		fmt.Sprintf(` ORDER BY created DESC, id DESC LIMIT $%d`, len(args)), custom(args...)...)
	if err != nil {
		return nil, fmt.Errorf("list outbox: %w", translate(err))
	}
	return scanOutboxRows(rows)
}
