package store

import (
	"context"
	"time"
)

// CSVProfile is one version of a tenant's own CSV import profile. The
// store keeps Doc as given (JSON whose meaning belongs to csvbridge).
type CSVProfile struct {
	TenantID string
	Name     string
	// Version is 1 for a profile's first version and grows by one.
	Version   int
	Doc       []byte
	Created   time.Time
	CreatedBy string
}

// CSVProfiles keeps tenants' own CSV import profiles, every version of
// them (an import records the version it ran with).
type CSVProfiles interface {
	// PutCSVProfile stores a new version of a tenant's profile. p.Version
	// must be the latest stored version of the name plus one (1 for a new
	// name); otherwise nothing is written and ErrConflict is returned (a
	// concurrent put won). ErrNotFound if the tenant does not exist.
	PutCSVProfile(ctx context.Context, p CSVProfile) error
	// GetCSVProfile returns a version of the tenant's profile (version 0:
	// the latest). ErrNotFound if there is none.
	GetCSVProfile(ctx context.Context, tenant, name string, version int) (CSVProfile, error)
	// ListCSVProfiles returns the latest version of each of the tenant's
	// profiles, ordered by name.
	ListCSVProfiles(ctx context.Context, tenant string) ([]CSVProfile, error)
}
