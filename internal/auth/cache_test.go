package auth

import (
	"context"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/store"
)

// countingCreds counts lookups of a single stored credential.
type countingCreds struct {
	store.Credentials
	hash    string
	lookups int
}

func (c *countingCreds) TouchCredential(context.Context, string, time.Time) error { return nil }

func (c *countingCreds) CredentialByHash(_ context.Context, hash string) (store.Credential, error) {
	c.lookups++
	if hash != c.hash {
		return store.Credential{}, store.ErrNotFound
	}
	return store.Credential{TenantID: "t", Name: "n", Tier: store.Tier(policy.Tier1Operations.String())}, nil
}

func TestAuthenticatorCachesValidSecretsForTTL(t *testing.T) {
	clock := time.Unix(1000, 0)
	creds := &countingCreds{hash: HashSecret("good")}
	a := &Authenticator{creds: creds, cache: newPrincipalCache(CacheTTL, 10, func() time.Time { return clock })}
	for i := 0; i < 5; i++ {
		if _, err := a.Authenticate(context.Background(), "Bearer good"); err != nil {
			t.Fatal(err)
		}
	}
	if creds.lookups != 1 {
		t.Fatalf("%d lookups for 5 requests within the TTL", creds.lookups)
	}
	clock = clock.Add(CacheTTL)
	if _, err := a.Authenticate(context.Background(), "Bearer good"); err != nil || creds.lookups != 2 {
		t.Fatalf("after the TTL: %v, %d lookups", err, creds.lookups)
	}
	for i := 0; i < 3; i++ {
		if _, err := a.Authenticate(context.Background(), "Bearer bad"); err == nil {
			t.Fatal("bad secret accepted")
		}
	}
	if creds.lookups != 5 {
		t.Fatalf("invalid secrets must not be cached: %d lookups", creds.lookups)
	}
}

func TestPrincipalCacheIsBounded(t *testing.T) {
	c := newPrincipalCache(time.Minute, 3, time.Now)
	for _, h := range []string{"a", "b", "c", "d", "e"} {
		c.put(h, policy.Principal{Tenant: h})
	}
	if len(c.entries) > 3 {
		t.Fatalf("%d entries in a cache of 3", len(c.entries))
	}
	if p, ok := c.get("e"); !ok || p.Tenant != "e" {
		t.Fatal("latest entry missing")
	}
}
