package directory_test

import (
	"context"
	"testing"

	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/server/servertest"
)

// BenchmarkTenantRegistry is the per-request cost of finding the caller's
// tenant's schema view once cached (a tenant without organisation fields,
// the common path, and one with them).
func BenchmarkTenantRegistry(b *testing.B) {
	s := directory.New(servertest.Stores()["sqlite"](b), schema.New())
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		fields []directory.OrgField
	}{{"no-fields", nil}, {"org-fields", orgFields}} {
		fields := c.fields
		b.Run(c.name, func(b *testing.B) {
			if _, err := s.UpdateSettings(ctx, admin, func(ts *directory.TenantSettings) error { ts.OrgFields = fields; return nil }); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.TenantRegistry(ctx, admin); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
