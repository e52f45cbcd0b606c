package store

import (
	"context"
	"time"
)

// Photo is a user's profile picture as scimbridge stores and serves it
// (the user's photos attribute points at it).
type Photo struct {
	TenantID string
	ID       string
	UserID   string
	// ContentType is the image's media type (image/jpeg or image/png), as
	// the caller found it from the content.
	ContentType string
	// SHA256 is the body's hash (hex), the served ETag.
	SHA256  string
	Body    []byte
	Created time.Time
}

// Photos stores profile pictures. Every method is confined to one tenant.
// A picture is deleted with its user.
type Photos interface {
	// PutPhoto stores a new picture; ErrNotFound when its user does not
	// exist in the tenant, ErrConflict when the id is taken.
	PutPhoto(ctx context.Context, p Photo) error
	// GetPhoto returns one picture or ErrNotFound.
	GetPhoto(ctx context.Context, tenant, id string) (Photo, error)
	// DeletePhoto deletes one picture (no error when it does not exist).
	DeletePhoto(ctx context.Context, tenant, id string) error
	// DeleteUserPhotos deletes the user's pictures other than keep (all of
	// them when keep is empty) and returns how many it deleted.
	DeleteUserPhotos(ctx context.Context, tenant, userID, keep string) (int, error)
}
