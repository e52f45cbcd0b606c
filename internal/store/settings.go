package store

import (
	"context"
	"time"
)

// Settings is one tenant's settings document. The store keeps Doc as given
// (JSON whose meaning belongs to the directory) and counts its versions.
type Settings struct {
	TenantID string
	// Doc is the settings document; nil while the tenant has never stored
	// settings.
	Doc []byte
	// Version is 0 before the first write and grows by one with every
	// write.
	Version int64
	// Updated is when the settings were last written (zero before).
	Updated time.Time
}

// SettingsStore keeps tenant settings.
type SettingsStore interface {
	// GetSettings returns the tenant's settings: Version 0 and a nil Doc
	// when it never stored any. ErrNotFound if the tenant does not exist.
	GetSettings(ctx context.Context, tenant string) (Settings, error)
	// UpdateSettings reads the tenant's settings (as GetSettings) and locks
	// them, calls fn with them inside one transaction and, if fn returns
	// nil, writes Doc and Updated as fn left them with Version+1 and
	// returns the result. If fn returns ErrUnchanged nothing is written and
	// the settings are returned as read (nil error); any other error of fn
	// is returned unchanged and nothing is written. A write under
	// WithAudit records its event in the same transaction (resource type
	// "Settings", resource id the tenant). Concurrent updates of
	// one tenant are serialized: each fn sees the previous one's result.
	// ErrNotFound if the tenant does not exist.
	UpdateSettings(ctx context.Context, tenant string, fn func(*Settings) error) (Settings, error)
}
