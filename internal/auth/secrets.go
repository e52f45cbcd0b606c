// Package auth turns request credentials into policy.Principals. This file
// handles provisioning secrets: random tokens handed to identity providers,
// stored only as SHA-256 hashes (the secrets carry 256 bits of entropy, so
// a fast hash is the right tool; there is nothing to brute-force).
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/store"
)

// SecretPrefix starts every provisioning secret, so leaked secrets are easy
// to recognise in logs and by secret scanners.
const SecretPrefix = "scimb_"

// HashSecret is the stored form of a secret.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// NewSecret returns a fresh random secret.
func NewSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random: %w", err)
	}
	return SecretPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// CreateSecret makes a secret for tenant with the given name and tier,
// stores its hash and returns the secret, which is never stored.
func CreateSecret(ctx context.Context, st store.Credentials, tenant, name string, tier policy.Tier) (string, error) {
	if strings.TrimSpace(name) == "" {
		return "", errors.New("a credential needs a name (--name), e.g. okta-prod")
	}
	if tier == policy.TierNone {
		return "", fmt.Errorf("a credential needs a tier, one of %s", strings.Join(policy.TierNames(), ", "))
	}
	secret, err := NewSecret()
	if err != nil {
		return "", err
	}
	c := store.Credential{ID: uuid.NewString(), TenantID: tenant, Name: name, SecretHash: HashSecret(secret),
		Tier: store.Tier(tier.String()), Created: time.Now().UTC().Truncate(time.Microsecond)}
	if err := st.CreateCredential(ctx, c); err != nil {
		return "", describeCreateError(tenant, name, err)
	}
	return secret, nil
}

func describeCreateError(tenant, name string, err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("tenant %q does not exist", tenant)
	case errors.Is(err, store.ErrConflict):
		return fmt.Errorf("tenant %q already has %d active credentials named %q; revoke one first (scimbridge token list, token revoke)", tenant, store.MaxActiveCredentials, name)
	}
	return fmt.Errorf("store credential: %w", err)
}

// Authenticator checks Authorization headers against stored secrets. It
// remembers a valid secret's principal for CacheTTL, so a busy IdP costs
// one credential lookup per TTL instead of one per request; a revoked
// secret therefore stops working within CacheTTL.
type Authenticator struct {
	creds store.Credentials
	cache *principalCache
}

// CacheTTL is how long a verified secret is trusted without a lookup.
const CacheTTL = 30 * time.Second

// NewAuthenticator returns an Authenticator over a credential store.
func NewAuthenticator(creds store.Credentials) *Authenticator {
	return &Authenticator{creds: creds, cache: newPrincipalCache(CacheTTL, 10000, time.Now)}
}

// Authenticate accepts "Bearer <secret>" and the bare secret (Okta's header
// mode). Refusals are *Error (matching ErrUnauthenticated) with a reason safe to show.
func (a *Authenticator) Authenticate(ctx context.Context, header string) (policy.Principal, error) {
	secret, err := secretFromHeader(header)
	if err != nil {
		return policy.Principal{}, err
	}
	hash := HashSecret(secret)
	if p, ok := a.cache.get(hash); ok {
		return p, nil
	}
	p, id, err := a.lookup(ctx, hash)
	if err == nil {
		a.cache.put(hash, p)
		// last_used_at is best effort and at most once per CacheTTL.
		_ = a.creds.TouchCredential(ctx, id, time.Now().UTC().Truncate(time.Microsecond))
	}
	return p, err
}

// AuthenticateHash is Authenticate for a secret known only by its hash
// (HashSecret): a web console session opened with a provisioning secret
// keeps the hash, so that each request sees the secret's current state
// and tier. It reads the store every time (no cache): console clicks are
// few, and a revoked secret then ends its sessions at once.
func (a *Authenticator) AuthenticateHash(ctx context.Context, hash string) (policy.Principal, error) {
	p, _, err := a.lookup(ctx, hash)
	return p, err
}

func (a *Authenticator) lookup(ctx context.Context, hash string) (policy.Principal, string, error) {
	c, err := a.creds.CredentialByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return policy.Principal{}, "", unauthenticated("the token is not valid or has been revoked")
	}
	if err != nil {
		return policy.Principal{}, "", fmt.Errorf("look up credential: %w", err)
	}
	tier, err := policy.ParseTier(string(c.Tier))
	if err != nil {
		return policy.Principal{}, "", unauthenticated("the credential has no valid tier")
	}
	return policy.Principal{Tenant: c.TenantID, Subject: "credential:" + c.Name, Kind: policy.KindProvisioner, Tier: tier}, c.ID, nil
}

func secretFromHeader(header string) (string, error) {
	header = strings.TrimSpace(header)
	if header == "" {
		return "", unauthenticated("an Authorization header with a bearer token is required")
	}
	scheme, rest, found := strings.Cut(header, " ")
	switch {
	case !found && !strings.EqualFold(header, "Bearer"):
		return header, nil
	case strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(rest) != "":
		return strings.TrimSpace(rest), nil
	}
	return "", unauthenticated(`the Authorization header must be "Bearer <token>" or the token itself`)
}
