package main

import (
	"io"
	"testing"

	"github.com/scimbridge/scimbridge/internal/ratelimit"
)

func parseRateFlags(t *testing.T, args ...string) (ratelimit.Config, error) {
	t.Helper()
	fs := newFlags("serve", io.Discard)
	c := addRateLimitFlags(fs)
	if err := rateFromEnv(fs); err != nil {
		return ratelimit.Config{}, err
	}
	err := fs.Parse(args)
	return *c, err
}

func TestRateLimitFlags(t *testing.T) {
	for _, e := range rateEnv {
		t.Setenv(e.env, "")
	}
	got, err := parseRateFlags(t)
	want := ratelimit.Config{OIDC: ratelimit.Rule{Rate: 20, Burst: 40}, Secrets: ratelimit.Rule{Burst: 100}}
	if err != nil || got != want || got.Secrets.Enabled() {
		t.Fatalf("defaults %+v %v, want %+v (secrets off)", got, err, want)
	}
	t.Setenv("SCIMBRIDGE_RATE_LIMIT_SECRETS", "50")
	t.Setenv("SCIMBRIDGE_RATE_LIMIT_OIDC", "5")
	got, err = parseRateFlags(t, "--rate-limit-oidc=0", "--rate-limit-secrets-burst=7")
	want = ratelimit.Config{OIDC: ratelimit.Rule{Rate: 0, Burst: 40}, Secrets: ratelimit.Rule{Rate: 50, Burst: 7}}
	if err != nil || got != want {
		t.Fatalf("env + flags %+v %v, want %+v", got, err, want)
	}
	t.Setenv("SCIMBRIDGE_RATE_LIMIT_OIDC", "fast")
	if _, err := parseRateFlags(t); err == nil {
		t.Fatal("a bad SCIMBRIDGE_RATE_LIMIT_OIDC was accepted")
	}
}
