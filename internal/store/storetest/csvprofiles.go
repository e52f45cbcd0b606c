package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/scimbridge/scimbridge/internal/store"
)

func csvProfileCases() []testCase {
	return []testCase{
		{"CSVProfileVersions", testCSVProfileVersions},
		{"CSVProfileUnknownTenantAndName", testCSVProfileUnknown},
	}
}

func testCSVProfileVersions(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustCreateTenant(t, s, "acme")
	put := func(name string, v int) error {
		return s.PutCSVProfile(ctx, store.CSVProfile{TenantID: "acme", Name: name, Version: v,
			Doc: []byte(fmt.Sprintf(`{"name":%q,"version":%d}`, name, v)), Created: now, CreatedBy: "admin"})
	}
	for v := 1; v <= 2; v++ {
		if err := put("agents", v); err != nil {
			t.Fatalf("put version %d: %v", v, err)
		}
	}
	wantErr(t, put("agents", 2), store.ErrConflict) // a concurrent put of version 2 lost
	wantErr(t, put("agents", 4), store.ErrConflict) // versions do not skip
	wantErr(t, put("other", 2), store.ErrConflict)  // a new name starts at 1
	if err := put("brokers", 1); err != nil {
		t.Fatal(err)
	}
	latest, err := s.GetCSVProfile(ctx, "acme", "agents", 0)
	if err != nil || latest.Version != 2 || latest.CreatedBy != "admin" || !latest.Created.Equal(now) || latest.Name != "agents" {
		t.Fatalf("latest = %+v, %v", latest, err)
	}
	first, err := s.GetCSVProfile(ctx, "acme", "agents", 1)
	if err != nil || first.Version != 1 || string(first.Doc) == string(latest.Doc) {
		t.Fatalf("version 1 = %+v, %v", first, err)
	}
	list, err := s.ListCSVProfiles(ctx, "acme")
	if err != nil || len(list) != 2 || list[0].Name != "agents" || list[0].Version != 2 || list[1].Name != "brokers" {
		t.Fatalf("list = %+v, %v", list, err)
	}
}

func testCSVProfileUnknown(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustCreateTenant(t, s, "acme")
	_, err := s.GetCSVProfile(ctx, "acme", "nope", 0)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.GetCSVProfile(ctx, "acme", "nope", 3)
	wantErr(t, err, store.ErrNotFound)
	err = s.PutCSVProfile(ctx, store.CSVProfile{TenantID: "no-such-tenant", Name: "x", Version: 1, Doc: []byte(`{}`), Created: now})
	wantErr(t, err, store.ErrNotFound)
	list, err := s.ListCSVProfiles(ctx, "acme")
	if err != nil || len(list) != 0 {
		t.Fatalf("list = %+v, %v", list, err)
	}
	// Another tenant's profiles are not visible.
	mustCreateTenant(t, s, "other")
	if err := s.PutCSVProfile(ctx, store.CSVProfile{TenantID: "other", Name: "x", Version: 1, Doc: []byte(`{}`), Created: now}); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetCSVProfile(ctx, "acme", "x", 0)
	wantErr(t, err, store.ErrNotFound)
}
