package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/scimbridge/scimbridge/internal/store"
)

func errorsAs(err error, target any) bool { return errors.As(err, target) }

func credentialCases() []testCase {
	return []testCase{
		{"CredentialRoundTrip", testCredentialRoundTrip},
		{"CredentialUnknownTenant", testCredentialUnknownTenant},
		{"CredentialNameUniquePerTenant", testCredentialNameUnique},
		{"TenantCreateAndGet", testTenants},
	}
}

func newCredential(tenant, name, hash string) store.Credential {
	return store.Credential{ID: uuid.NewString(), TenantID: tenant, Name: name, SecretHash: hash,
		Tier: "support-tier-1-operations", Created: now}
}

func testCredentialRoundTrip(t *testing.T, s store.Store) {
	c := newCredential(store.DefaultTenant, "okta", "hash-1")
	if err := s.CreateCredential(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	got, err := s.CredentialByHash(context.Background(), "hash-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != c.ID || got.TenantID != c.TenantID || got.Tier != c.Tier || got.Name != "okta" || !got.Created.Equal(now) {
		t.Fatalf("credential = %+v, want %+v", got, c)
	}
	_, err = s.CredentialByHash(context.Background(), "hash-2")
	wantErr(t, err, store.ErrNotFound)
}

func testCredentialUnknownTenant(t *testing.T, s store.Store) {
	err := s.CreateCredential(context.Background(), newCredential("nope", "x", "h"))
	wantErr(t, err, store.ErrNotFound)
}

func testCredentialNameUnique(t *testing.T, s store.Store) {
	mustCreateTenant(t, s, "acme")
	if err := s.CreateCredential(context.Background(), newCredential(store.DefaultTenant, "okta", "h1")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateCredential(context.Background(), newCredential("acme", "okta", "h2")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateCredential(context.Background(), newCredential(store.DefaultTenant, "okta", "h3")); err != nil {
		t.Fatalf("second active secret for rotation: %v", err)
	}
	err := s.CreateCredential(context.Background(), newCredential(store.DefaultTenant, "okta", "h4"))
	wantErr(t, err, store.ErrConflict)
	list, err := s.ListCredentials(context.Background(), store.DefaultTenant)
	if err != nil || len(list) != 2 {
		t.Fatalf("list %v %v", list, err)
	}
	wantErr(t, s.RevokeCredential(context.Background(), "acme", list[0].ID, now), store.ErrNotFound)
	if err := s.RevokeCredential(context.Background(), store.DefaultTenant, list[0].ID, now); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.RevokeCredential(context.Background(), store.DefaultTenant, list[0].ID, now), store.ErrNotFound)
	found := 0
	for _, h := range []string{"h1", "h3"} {
		if _, err := s.CredentialByHash(context.Background(), h); err == nil {
			found++
		}
	}
	if found != 1 {
		t.Fatalf("%d of the two secrets still authenticate after revoking one", found)
	}
	if err := s.CreateCredential(context.Background(), newCredential(store.DefaultTenant, "okta", "h5")); err != nil {
		t.Fatalf("create after revoking one: %v", err)
	}
	revoked, touched := list[0].ID, list[1].ID
	if err := s.TouchCredential(context.Background(), touched, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	list, _ = s.ListCredentials(context.Background(), store.DefaultTenant)
	byID := map[string]store.Credential{}
	for _, c := range list {
		byID[c.ID] = c
	}
	r, u := byID[revoked], byID[touched]
	if len(list) != 3 || r.RevokedAt == nil || !r.RevokedAt.Equal(now) || u.LastUsedAt == nil || !u.LastUsedAt.Equal(now.Add(time.Minute)) || u.RevokedAt != nil {
		t.Fatalf("list after revoke/touch: %+v", list)
	}
}

func testTenants(t *testing.T, s store.Store) {
	if _, err := s.GetTenant(context.Background(), store.DefaultTenant); err != nil {
		t.Fatalf("default tenant missing: %v", err)
	}
	mustCreateTenant(t, s, "acme")
	wantErr(t, s.CreateTenant(context.Background(), "acme", now), store.ErrConflict)
	_, err := s.GetTenant(context.Background(), "other")
	wantErr(t, err, store.ErrNotFound)
}
