package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// allowedAlgs is the signature algorithm allowlist for OIDC tokens: never
// "none", never HS* (a symmetric algorithm would let anyone holding the
// public key forge tokens).
var allowedAlgs = []string{"RS256", "ES256", "PS256"}

var allowedJOSEAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.PS256}

const maxJWKSBytes = 1 << 20

// keySet is the JWKS of one issuer, an oidc.KeySet. Unlike go-oidc's
// RemoteKeySet, which refetches the JWKS for every token whose kid it does
// not know (it only merges concurrent fetches, so a stream of tokens with
// made-up kids becomes a stream of requests to the IdP), it refetches at
// most once per minRefresh, whatever the tokens say. Keys older than maxAge
// are refreshed on the next use (so keys the IdP withdrew stop working),
// and if that refresh fails the old keys stay in use.
type keySet struct {
	url        string
	client     *http.Client
	now        func() time.Time
	minRefresh time.Duration
	maxAge     time.Duration
	onError    func(error)

	mu        sync.Mutex
	keys      []jose.JSONWebKey
	fetchedAt time.Time // last successful fetch
	triedAt   time.Time // last fetch attempt
	lastErr   error     // result of the last attempt
	inflight  chan struct{}
	fetches   int // attempts, for tests and metrics
}

// keyError is a verification failure whose text is safe to show.
type keyError struct{ reason string }

func (e *keyError) Error() string { return e.reason }

// verifyNote carries the keySet's typed error out through go-oidc, which
// flattens errors from KeySet.VerifySignature into strings.
type verifyNote struct{ err error }

type verifyNoteKey struct{}

func noteError(ctx context.Context, err error) error {
	if n, ok := ctx.Value(verifyNoteKey{}).(*verifyNote); ok {
		n.err = err
	}
	return err
}

// VerifySignature implements oidc.KeySet.
func (k *keySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	jws, err := jose.ParseSignedCompact(raw, allowedJOSEAlgs)
	if err != nil {
		return nil, noteError(ctx, &keyError{"the token is not a signed JWT with an allowed algorithm"})
	}
	if len(jws.Signatures) != 1 {
		return nil, noteError(ctx, &keyError{"the token must carry exactly one signature"})
	}
	hdr := jws.Signatures[0].Header
	kid, alg := hdr.KeyID, hdr.Algorithm

	keys, fresh := k.snapshot()
	var fetchErr error
	if !fresh {
		keys, fetchErr = k.refresh(ctx)
	}
	cands := candidates(keys, kid, alg)
	if len(cands) == 0 {
		// A kid we have not seen (or no keys yet): the IdP may have rotated.
		keys, fetchErr = k.refresh(ctx)
		cands = candidates(keys, kid, alg)
	}
	if payload, ok := verifyWith(jws, cands); ok {
		return payload, nil
	}
	if kid == "" && len(cands) > 0 {
		// Without a kid, a failure may also mean rotation.
		keys, fetchErr = k.refresh(ctx)
		if payload, ok := verifyWith(jws, candidates(keys, kid, alg)); ok {
			return payload, nil
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	switch {
	case len(cands) > 0:
		return nil, noteError(ctx, &keyError{"the token's signature is not valid"})
	case len(keys) == 0 && fetchErr != nil:
		return nil, noteError(ctx, &keyError{"the identity provider's signing keys cannot be fetched; try again later"})
	}
	return nil, noteError(ctx, &keyError{"the token is signed with a key the identity provider does not publish"})
}

func candidates(keys []jose.JSONWebKey, kid string, alg string) []jose.JSONWebKey {
	var out []jose.JSONWebKey
	for _, key := range keys {
		if kid != "" && key.KeyID != kid {
			continue
		}
		if key.Algorithm != "" && key.Algorithm != alg {
			continue
		}
		out = append(out, key)
	}
	return out
}

func verifyWith(jws *jose.JSONWebSignature, keys []jose.JSONWebKey) ([]byte, bool) {
	for i := range keys {
		if payload, err := jws.Verify(&keys[i]); err == nil {
			return payload, true
		}
	}
	return nil, false
}

// snapshot returns the cached keys and whether they are fresh enough to use
// without a refresh.
func (k *keySet) snapshot() ([]jose.JSONWebKey, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	fresh := !k.fetchedAt.IsZero() && k.now().Sub(k.fetchedAt) < k.maxAge
	return k.keys, fresh
}

// refresh fetches the JWKS unless a fetch was tried less than minRefresh
// ago, and returns the keys in use afterwards and the last fetch's error.
// Concurrent callers share one fetch.
func (k *keySet) refresh(ctx context.Context) ([]jose.JSONWebKey, error) {
	k.mu.Lock()
	ch := k.inflight
	if ch == nil {
		if !k.triedAt.IsZero() && k.now().Sub(k.triedAt) < k.minRefresh {
			keys, err := k.keys, k.lastErr
			k.mu.Unlock()
			return keys, err
		}
		ch = make(chan struct{})
		k.inflight, k.triedAt = ch, k.now()
		k.fetches++
		go k.fetchInto(ch)
	}
	k.mu.Unlock()
	select {
	case <-ch:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.keys, k.lastErr
}

func (k *keySet) fetchInto(done chan struct{}) {
	// Not the request's context: other requests may be waiting on this
	// fetch. The client's timeouts bound it.
	keys, err := k.fetch(context.Background())
	if err != nil && k.onError != nil {
		k.onError(err)
	}
	k.mu.Lock()
	if err == nil {
		k.keys, k.fetchedAt = keys, k.now()
	}
	k.lastErr, k.inflight = err, nil
	k.mu.Unlock()
	close(done)
}

func (k *keySet) fetch(ctx context.Context) ([]jose.JSONWebKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, fmt.Errorf("jwks %s: %w", k.url, err)
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("jwks %s: %w", k.url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("jwks %s: read: %w", k.url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jwks %s: status %s", k.url, resp.Status)
	}
	if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("jwks %s: larger than %d bytes", k.url, maxJWKSBytes)
	}
	return parseJWKS(body)
}

// parseJWKS keeps the usable public signing keys and skips the rest (keys
// of unknown types or curves, symmetric keys, encryption keys, keys for
// algorithms outside the allowlist), as RFC 7517 §5 asks.
func parseJWKS(body []byte) ([]jose.JSONWebKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	var keys []jose.JSONWebKey
	for _, raw := range set.Keys {
		var key jose.JSONWebKey
		if err := json.Unmarshal(raw, &key); err != nil {
			continue
		}
		if !key.Valid() || !key.IsPublic() || (key.Use != "" && key.Use != "sig") {
			continue
		}
		if key.Algorithm != "" && !slices.Contains(allowedAlgs, key.Algorithm) {
			continue
		}
		switch key.Key.(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey:
			keys = append(keys, key)
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("jwks: no usable signing keys")
	}
	return keys, nil
}
