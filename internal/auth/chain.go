package auth

import (
	"context"

	"github.com/scimbridge/scimbridge/internal/policy"
)

// HeaderAuthenticator turns an Authorization header into a principal.
// Authenticator, OIDCVerifier and Chain implement it.
type HeaderAuthenticator interface {
	Authenticate(ctx context.Context, authorization string) (policy.Principal, error)
}

// Chain routes each credential to the authenticator that understands it:
// bearer tokens shaped like JWTs (LooksLikeJWT) go to OIDC, everything else
// (provisioning secrets) to Secrets. A token is never tried against both,
// so an OIDC failure cannot fall through to another check, and each
// failure keeps its own reason. A nil field refuses its kind of token.
type Chain struct {
	OIDC    HeaderAuthenticator
	Secrets HeaderAuthenticator
}

// NewChain combines an OIDC verifier and a secret authenticator; either may
// be nil (not configured).
func NewChain(oidc *OIDCVerifier, secrets *Authenticator) *Chain {
	c := &Chain{}
	if oidc != nil {
		c.OIDC = oidc
	}
	if secrets != nil {
		c.Secrets = secrets
	}
	return c
}

// Authenticate implements HeaderAuthenticator with the same error contract
// as Authenticator.Authenticate: refusals are *Error.
func (c *Chain) Authenticate(ctx context.Context, header string) (policy.Principal, error) {
	token, err := secretFromHeader(header)
	if err != nil {
		return policy.Principal{}, err
	}
	if LooksLikeJWT(token) {
		if c.OIDC == nil {
			return policy.Principal{}, unauthenticated("OIDC sign-in is not configured, so JWTs are not accepted")
		}
		return c.OIDC.Authenticate(ctx, header)
	}
	if c.Secrets == nil {
		return policy.Principal{}, unauthenticated("provisioning secrets are not accepted here")
	}
	return c.Secrets.Authenticate(ctx, header)
}
