package sqlite

import (
	"context"
	"fmt"

	"github.com/scimbridge/scimbridge/internal/store"
)

// PutPhoto stores a new picture.
func (s *Store) PutPhoto(ctx context.Context, p store.Photo) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO user_photos (tenant_id, id, user_id, content_type, sha256, size, body, created)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, p.TenantID, p.ID, p.UserID, p.ContentType, p.SHA256, len(p.Body), bytesOrEmpty(p.Body), micros(p.Created))
	if err != nil {
		return fmt.Errorf("put photo %s: %w", p.ID, translate(err))
	}
	return nil
}

// GetPhoto returns one picture.
func (s *Store) GetPhoto(ctx context.Context, tenant, id string) (store.Photo, error) {
	p := store.Photo{TenantID: tenant, ID: id}
	var created int64
	err := s.r.QueryRowContext(ctx, `SELECT user_id, content_type, sha256, body, created FROM user_photos WHERE tenant_id = ? AND id = ?`,
		tenant, id).Scan(&p.UserID, &p.ContentType, &p.SHA256, &p.Body, &created)
	if err != nil {
		return store.Photo{}, fmt.Errorf("get photo %s: %w", id, translate(err))
	}
	p.Created = fromMicros(created)
	return p, nil
}

// DeletePhoto deletes one picture.
func (s *Store) DeletePhoto(ctx context.Context, tenant, id string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM user_photos WHERE tenant_id = ? AND id = ?`, tenant, id); err != nil {
		return fmt.Errorf("delete photo %s: %w", id, translate(err))
	}
	return nil
}

// DeleteUserPhotos deletes the user's pictures other than keep.
func (s *Store) DeleteUserPhotos(ctx context.Context, tenant, userID, keep string) (int, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM user_photos WHERE tenant_id = ? AND user_id = ? AND id <> ?`, tenant, userID, keep)
	if err != nil {
		return 0, fmt.Errorf("delete photos of user %s: %w", userID, translate(err))
	}
	n, err := res.RowsAffected()
	return int(n), err
}
