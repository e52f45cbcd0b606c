package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/scimbridge/scimbridge/internal/auth"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/store"
)

// oidcFlags configures trusted OIDC issuers: one from flags (or their
// environment variables) and any number from a JSON config file.
type oidcFlags struct {
	issuer, audience, tierClaim, tenant, kind, config *string
	leeway                                            *time.Duration
}

func addOIDCFlags(fs *flag.FlagSet) oidcFlags {
	return oidcFlags{
		issuer:    fs.String("oidc-issuer", envOr("SCIMBRIDGE_OIDC_ISSUER", ""), "trusted OIDC issuer URL (env SCIMBRIDGE_OIDC_ISSUER)"),
		audience:  fs.String("oidc-audience", envOr("SCIMBRIDGE_OIDC_AUDIENCE", ""), "audience tokens must be issued for: this API (env SCIMBRIDGE_OIDC_AUDIENCE)"),
		tierClaim: fs.String("oidc-tier-claim", envOr("SCIMBRIDGE_OIDC_TIER_CLAIM", auth.TierClaimRoles), "claim holding the tier: roles, groups or tier (env SCIMBRIDGE_OIDC_TIER_CLAIM)"),
		tenant:    fs.String("oidc-tenant", envOr("SCIMBRIDGE_OIDC_TENANT", store.DefaultTenant), "tenant of the issuer's principals (env SCIMBRIDGE_OIDC_TENANT)"),
		kind:      fs.String("oidc-kind", envOr("SCIMBRIDGE_OIDC_KIND", string(policy.KindPerson)), "principal kind of its tokens: person or script (env SCIMBRIDGE_OIDC_KIND)"),
		config:    fs.String("oidc-config", envOr("SCIMBRIDGE_OIDC_CONFIG", ""), "JSON file of several issuers, see README (env SCIMBRIDGE_OIDC_CONFIG)"),
		leeway:    fs.Duration("oidc-leeway", auth.DefaultLeeway, "clock skew allowed on exp and nbf (at most 2m)"),
	}
}

// issuers collects the configured issuers.
func (f oidcFlags) issuers() ([]auth.OIDCIssuer, error) {
	var out []auth.OIDCIssuer
	if *f.issuer != "" {
		if *f.audience == "" {
			return nil, fmt.Errorf("--oidc-issuer needs --oidc-audience (the audience this API's tokens carry)")
		}
		out = append(out, auth.OIDCIssuer{Issuer: *f.issuer, Audience: *f.audience, TierClaim: *f.tierClaim,
			Tenant: *f.tenant, Leeway: *f.leeway, Kind: policy.Kind(*f.kind)})
	}
	if *f.config != "" {
		file, err := os.Open(*f.config)
		if err != nil {
			return nil, fmt.Errorf("--oidc-config: %w", err)
		}
		defer file.Close()
		more, err := auth.ParseOIDCConfig(file)
		if err != nil {
			return nil, fmt.Errorf("--oidc-config %s: %w", *f.config, err)
		}
		out = append(out, more...)
	}
	return out, nil
}

// oidcVerifier builds the verifier of the configured issuers; nil when
// there are none (provisioning secrets only). server.Assemble starts its
// discovery in the background.
func oidcVerifier(issuers []auth.OIDCIssuer, logger *slog.Logger) (*auth.OIDCVerifier, error) {
	if len(issuers) == 0 {
		return nil, nil
	}
	v, err := auth.NewOIDCVerifier(issuers, auth.OIDCOptions{Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("oidc: %w", err)
	}
	return v, nil
}
