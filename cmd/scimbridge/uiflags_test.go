package main

import (
	"io"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/auth"
	"github.com/scimbridge/scimbridge/internal/policy"
)

// TestUIFlags: the console signs in against the first person issuer with
// its audience as client ID; another client ID is refused; without OIDC
// there is no OIDC sign-in (the secret form is then always offered).
func TestUIFlags(t *testing.T) {
	issuers := []auth.OIDCIssuer{
		{Issuer: "https://scripts.example.com", Audience: "robots", Kind: policy.KindScript},
		{Issuer: "https://idp.example.com", Audience: "scimbridge", Kind: policy.KindPerson},
	}
	parse := func(args ...string) uiFlags {
		fs := newFlags("serve", io.Discard)
		f := addUIFlags(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return f
	}
	c, err := parse("--ui-secret-signin").config(issuers)
	if err != nil || c.OIDC == nil || c.OIDC.Issuer != "https://idp.example.com" || c.OIDC.ClientID != "scimbridge" || !c.SecretSignIn {
		t.Fatalf("config = %+v, %v", c, err)
	}
	if _, err := parse("--ui-oidc-client-id", "other").config(issuers); err == nil || !strings.Contains(err.Error(), "audience") {
		t.Fatalf("a client ID other than the audience: %v", err)
	}
	if c, err := parse().config(nil); err != nil || c.OIDC != nil {
		t.Fatalf("without issuers: %+v, %v", c, err)
	}
}
