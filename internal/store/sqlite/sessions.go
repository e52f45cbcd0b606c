package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/scimbridge/scimbridge/internal/store"
)

// CreateSession stores a web console session.
func (s *Store) CreateSession(ctx context.Context, ses store.Session) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO web_sessions (id_hash, tenant_id, subject, kind, tier, user_name,
		credential_hash, csrf, created, expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ses.IDHash, ses.TenantID, ses.Subject, ses.Kind, string(ses.Tier), ses.UserName, ses.CredentialHash, ses.CSRF,
		micros(ses.Created), micros(ses.Expires))
	if err != nil {
		return fmt.Errorf("create session: %w", translate(err))
	}
	return nil
}

// SessionByHash returns an unexpired session.
func (s *Store) SessionByHash(ctx context.Context, hash string, now time.Time) (store.Session, error) {
	ses := store.Session{IDHash: hash}
	var tier string
	var created, expires int64
	err := s.r.QueryRowContext(ctx, `SELECT tenant_id, subject, kind, tier, user_name, credential_hash, csrf, created, expires
		FROM web_sessions WHERE id_hash = ? AND expires > ?`, hash, micros(now)).
		Scan(&ses.TenantID, &ses.Subject, &ses.Kind, &tier, &ses.UserName, &ses.CredentialHash, &ses.CSRF, &created, &expires)
	if err != nil {
		return store.Session{}, fmt.Errorf("session by hash: %w", translate(err))
	}
	ses.Tier, ses.Created, ses.Expires = store.Tier(tier), fromMicros(created), fromMicros(expires)
	return ses, nil
}

// DeleteSession removes a session.
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM web_sessions WHERE id_hash = ?`, hash); err != nil {
		return fmt.Errorf("delete session: %w", translate(err))
	}
	return nil
}

// DeleteExpiredSessions removes the sessions expired at now.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM web_sessions WHERE expires <= ?`, micros(now))
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", translate(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return int(n), nil
}
