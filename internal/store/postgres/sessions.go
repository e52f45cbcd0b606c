package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/scimbridge/scimbridge/internal/store"
)

// CreateSession stores a web console session.
func (s *Store) CreateSession(ctx context.Context, ses store.Session) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO web_sessions (id_hash, tenant_id, subject, kind, tier, user_name,
		credential_hash, csrf, created, expires) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		ses.IDHash, ses.TenantID, ses.Subject, ses.Kind, string(ses.Tier), ses.UserName, ses.CredentialHash, ses.CSRF,
		ses.Created, ses.Expires)
	if err != nil {
		return fmt.Errorf("create session: %w", translate(err))
	}
	return nil
}

// SessionByHash returns an unexpired session.
func (s *Store) SessionByHash(ctx context.Context, hash string, now time.Time) (store.Session, error) {
	ses := store.Session{IDHash: hash}
	var tier string
	err := s.pool.QueryRow(ctx, `SELECT tenant_id, subject, kind, tier, user_name, credential_hash, csrf, created, expires
		FROM web_sessions WHERE id_hash = $1 AND expires > $2`, hash, now).
		Scan(&ses.TenantID, &ses.Subject, &ses.Kind, &tier, &ses.UserName, &ses.CredentialHash, &ses.CSRF, &ses.Created, &ses.Expires)
	if err != nil {
		return store.Session{}, fmt.Errorf("session by hash: %w", translate(err))
	}
	ses.Tier, ses.Created, ses.Expires = store.Tier(tier), ses.Created.UTC(), ses.Expires.UTC()
	return ses, nil
}

// DeleteSession removes a session.
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM web_sessions WHERE id_hash = $1`, hash); err != nil {
		return fmt.Errorf("delete session: %w", translate(err))
	}
	return nil
}

// DeleteExpiredSessions removes the sessions expired at now.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM web_sessions WHERE expires <= $1`, now)
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", translate(err))
	}
	return int(tag.RowsAffected()), nil
}
