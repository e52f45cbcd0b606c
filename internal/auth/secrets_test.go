package auth

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/sqlite"
)

func TestSecretFromHeader(t *testing.T) {
	ok := map[string]string{"Bearer abc": "abc", "bearer  abc ": "abc", "abc": "abc", " abc ": "abc"}
	for h, want := range ok {
		got, err := secretFromHeader(h)
		if err != nil || got != want {
			t.Errorf("secretFromHeader(%q) = %q, %v", h, got, err)
		}
	}
	for _, h := range []string{"", "Bearer", "Bearer   ", "Basic abc", "Token abc"} {
		if _, err := secretFromHeader(h); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("secretFromHeader(%q) accepted", h)
		}
	}
}

func TestCreateAndAuthenticate(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	secret, err := CreateSecret(ctx, st, store.DefaultTenant, "okta", policy.Tier2SoftwarePartner)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, SecretPrefix) || len(secret) < 40 {
		t.Fatalf("weak secret %q", secret)
	}
	if _, err := st.CredentialByHash(ctx, secret); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("the secret itself was stored")
	}
	a := NewAuthenticator(st)
	p, err := a.Authenticate(ctx, "Bearer "+secret)
	if err != nil {
		t.Fatal(err)
	}
	want := policy.Principal{Tenant: store.DefaultTenant, Subject: "credential:okta", Kind: policy.KindProvisioner, Tier: policy.Tier2SoftwarePartner}
	if p != want {
		t.Fatalf("principal %+v", p)
	}
	if _, err := a.Authenticate(ctx, "Bearer "+secret[:len(secret)-1]); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("truncated secret: %v", err)
	}
	if _, err := CreateSecret(ctx, st, store.DefaultTenant, " ", policy.Tier0HelpDesk); err == nil {
		t.Fatal("blank name accepted")
	}
	if _, err := CreateSecret(ctx, st, store.DefaultTenant, "x", policy.TierNone); err == nil {
		t.Fatal("no tier accepted")
	}
}
