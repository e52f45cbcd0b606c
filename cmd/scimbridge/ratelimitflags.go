package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/scimbridge/scimbridge/internal/ratelimit"
)

// rateEnv maps each rate-limit flag to the environment variable that sets
// its default.
var rateEnv = []struct{ flag, env string }{
	{"rate-limit-oidc", "SCIMBRIDGE_RATE_LIMIT_OIDC"},
	{"rate-limit-oidc-burst", "SCIMBRIDGE_RATE_LIMIT_OIDC_BURST"},
	{"rate-limit-secrets", "SCIMBRIDGE_RATE_LIMIT_SECRETS"},
	{"rate-limit-secrets-burst", "SCIMBRIDGE_RATE_LIMIT_SECRETS_BURST"},
}

// addRateLimitFlags defines the per-credential rate limit's serve flags on
// fs, with ratelimit.DefaultConfig as their defaults. Call rateFromEnv
// before fs.Parse.
func addRateLimitFlags(fs *flag.FlagSet) *ratelimit.Config {
	c := ratelimit.DefaultConfig()
	fs.Float64Var(&c.OIDC.Rate, "rate-limit-oidc", c.OIDC.Rate, "requests per second each person or script (OIDC token) may make; 0 turns the limit off (env SCIMBRIDGE_RATE_LIMIT_OIDC)")
	fs.IntVar(&c.OIDC.Burst, "rate-limit-oidc-burst", c.OIDC.Burst, "burst of requests an OIDC caller may make above its rate (env SCIMBRIDGE_RATE_LIMIT_OIDC_BURST)")
	fs.Float64Var(&c.Secrets.Rate, "rate-limit-secrets", c.Secrets.Rate, "requests per second each provisioning secret may make; 0 (the default) turns the limit off (env SCIMBRIDGE_RATE_LIMIT_SECRETS)")
	fs.IntVar(&c.Secrets.Burst, "rate-limit-secrets-burst", 100, "burst of requests a provisioning secret may make above its rate (env SCIMBRIDGE_RATE_LIMIT_SECRETS_BURST)")
	return &c
}

// rateFromEnv sets the rate-limit flags from their environment variables,
// so that the command line still overrides them.
func rateFromEnv(fs *flag.FlagSet) error {
	for _, e := range rateEnv {
		if v, ok := os.LookupEnv(e.env); ok && v != "" {
			if err := fs.Set(e.flag, v); err != nil {
				return fmt.Errorf("%s=%q: %w", e.env, v, err)
			}
		}
	}
	return nil
}
