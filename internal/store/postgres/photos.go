package postgres

import (
	"context"
	"fmt"

	"github.com/scimbridge/scimbridge/internal/store"
)

// PutPhoto stores a new picture.
func (s *Store) PutPhoto(ctx context.Context, p store.Photo) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO user_photos (tenant_id, id, user_id, content_type, sha256, size, body, created)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, p.TenantID, p.ID, p.UserID, p.ContentType, p.SHA256, len(p.Body), bytesOrEmpty(p.Body), p.Created)
	if err != nil {
		return fmt.Errorf("put photo %s: %w", p.ID, translate(err))
	}
	return nil
}

// GetPhoto returns one picture.
func (s *Store) GetPhoto(ctx context.Context, tenant, id string) (store.Photo, error) {
	p := store.Photo{TenantID: tenant, ID: id}
	err := s.pool.QueryRow(ctx, `SELECT user_id, content_type, sha256, body, created FROM user_photos WHERE tenant_id = $1 AND id = $2`,
		tenant, id).Scan(&p.UserID, &p.ContentType, &p.SHA256, &p.Body, &p.Created)
	if err != nil {
		return store.Photo{}, fmt.Errorf("get photo %s: %w", id, translate(err))
	}
	p.Created = p.Created.UTC()
	return p, nil
}

// DeletePhoto deletes one picture.
func (s *Store) DeletePhoto(ctx context.Context, tenant, id string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM user_photos WHERE tenant_id = $1 AND id = $2`, tenant, id); err != nil {
		return fmt.Errorf("delete photo %s: %w", id, translate(err))
	}
	return nil
}

// DeleteUserPhotos deletes the user's pictures other than keep.
func (s *Store) DeleteUserPhotos(ctx context.Context, tenant, userID, keep string) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM user_photos WHERE tenant_id = $1 AND user_id = $2 AND id <> $3`, tenant, userID, keep)
	if err != nil {
		return 0, fmt.Errorf("delete photos of user %s: %w", userID, translate(err))
	}
	return int(tag.RowsAffected()), nil
}
