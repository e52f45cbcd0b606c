package directory

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

// SettingsRefresh is how long a service trusts the schema view it built
// from a tenant's settings before it reads the settings' version again.
// Changes made through this service take effect at once; changes made by
// another replica on the same database within this delay.
const SettingsRefresh = 2 * time.Second

// tenantSchemas caches each tenant's schema view: the base registry plus,
// when the tenant has organisation fields, the organisation extension
// with them (schema.Registry.WithOrgFields). Entries are keyed by tenant,
// remember the settings version they were built from and are rebuilt
// when a read of the settings (at most every SettingsRefresh) shows a new
// version. Tenants without fields share the base registry, so the common
// path costs a map lookup.
type tenantSchemas struct {
	mu      sync.RWMutex
	entries map[string]schemaEntry
}

type schemaEntry struct {
	reg     *schema.Registry
	version int64
	checked time.Time
}

func (c *tenantSchemas) get(tenant string, now time.Time) (*schema.Registry, bool) {
	c.mu.RLock()
	e, ok := c.entries[tenant]
	c.mu.RUnlock()
	if !ok || now.Sub(e.checked) > SettingsRefresh || now.Before(e.checked) {
		return nil, false
	}
	return e.reg, true
}

func (c *tenantSchemas) put(tenant string, e schemaEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]schemaEntry{}
	}
	if old, ok := c.entries[tenant]; ok && old.version == e.version {
		e.reg = old.reg // same settings: keep the view (no rebuild, same pointers)
	}
	c.entries[tenant] = e
}

// forget drops a tenant's view, after this service changed its settings.
func (c *tenantSchemas) forget(tenant string) {
	c.mu.Lock()
	delete(c.entries, tenant)
	c.mu.Unlock()
}

// TenantRegistry returns the schema registry of the caller's tenant: the
// base registry with the tenant's organisation extension when it has
// organisation fields (what its /Schemas shows and its users are
// validated against).
func (s *Service) TenantRegistry(ctx context.Context, p policy.Principal) (*schema.Registry, error) {
	return s.registryFor(ctx, p.Tenant)
}

// registryFor returns tenant's schema view from the cache, building it
// from the tenant's settings when missing or stale. A tenant unknown to
// the store gets the base registry (its requests fail on their own).
func (s *Service) registryFor(ctx context.Context, tenant string) (*schema.Registry, error) {
	now := time.Now()
	if reg, ok := s.tenants.get(tenant, now); ok {
		return reg, nil
	}
	st, err := s.store.GetSettings(ctx, tenant)
	if err != nil {
		if isNotFound(err) {
			return s.reg, nil
		}
		return nil, s.settingsError(ctx, tenant, err)
	}
	if e, ok := s.tenants.peek(tenant); ok && e.version == st.Version {
		s.tenants.put(tenant, schemaEntry{reg: e.reg, version: e.version, checked: now})
		return e.reg, nil
	}
	ts, err := decodeSettings(st)
	if err != nil {
		return nil, s.settingsError(ctx, tenant, err)
	}
	reg, err := s.reg.WithOrgFields(ts.OrgSchemaFields())
	if err != nil {
		return nil, s.settingsError(ctx, tenant, err)
	}
	s.tenants.put(tenant, schemaEntry{reg: reg, version: st.Version, checked: now})
	return reg, nil
}

// peek returns a tenant's entry, however old.
func (c *tenantSchemas) peek(tenant string) (schemaEntry, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.entries[tenant]
	return e, ok
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
