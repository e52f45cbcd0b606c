package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/sqlite"
	"pgregory.net/rapid"
)

type fakeAuth struct {
	name  string
	calls int
}

func (f *fakeAuth) Authenticate(_ context.Context, header string) (policy.Principal, error) {
	f.calls++
	return policy.Principal{Subject: f.name}, nil
}

func TestLooksLikeJWT(t *testing.T) {
	yes := []string{"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", "a.b.", "a-_.b_-.c-_"}
	no := []string{"", "scimb_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "a.b", "a.b.c.d", ".b.c", "a..c",
		"a.b.c=", "a b.c.d", "a.b.c/", "a+b.c.d", "légacy.b.c"}
	for _, s := range yes {
		if !LooksLikeJWT(s) {
			t.Errorf("LooksLikeJWT(%q) = false", s)
		}
	}
	for _, s := range no {
		if LooksLikeJWT(s) {
			t.Errorf("LooksLikeJWT(%q) = true", s)
		}
	}
	secret, err := NewSecret()
	if err != nil || LooksLikeJWT(secret) {
		t.Fatalf("a provisioning secret looks like a JWT: %q %v", secret, err)
	}
}

func TestChainRouting(t *testing.T) {
	o, s := &fakeAuth{name: "oidc"}, &fakeAuth{name: "secret"}
	c := &Chain{OIDC: o, Secrets: s}
	cases := map[string]string{
		"Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln": "oidc",
		"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln":        "oidc",
		"Bearer scimb_abc": "secret",
		"scimb_abc":        "secret",
		"Bearer a.b":       "secret",
	}
	for h, want := range cases {
		p, err := c.Authenticate(context.Background(), h)
		if err != nil || p.Subject != want {
			t.Errorf("%q went to %q (%v), want %q", h, p.Subject, err, want)
		}
	}
	for _, h := range []string{"", "Basic abc", "Bearer "} {
		if _, err := c.Authenticate(context.Background(), h); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("%q: %v", h, err)
		}
	}
	if o.calls+s.calls != len(cases) {
		t.Errorf("malformed headers reached an authenticator")
	}
	none := NewChain(nil, nil)
	_, err := none.Authenticate(context.Background(), "Bearer a.b.c")
	refused(t, "no OIDC", err, "OIDC sign-in is not configured")
	_, err = none.Authenticate(context.Background(), "Bearer scimb_x")
	refused(t, "no secrets", err, "not accepted")
}

// TestChainEndToEnd combines a real OIDC verifier and a real secret store.
func TestChainEndToEnd(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	secret, err := CreateSecret(ctx, st, store.DefaultTenant, "okta", policy.Tier1Operations)
	if err != nil {
		t.Fatal(err)
	}
	idp := newTestIdP(t)
	clk := &clock{t: time.Now()}
	c := NewChain(newVerifier(t, clk, idp.issuer("acme", TierClaimRoles)), NewAuthenticator(st))
	p := mustPrincipal(t, c, "Bearer "+secret)
	if p.Kind != policy.KindProvisioner || p.Tier != policy.Tier1Operations {
		t.Fatalf("secret principal %+v", p)
	}
	p = mustPrincipal(t, c, "Bearer "+sign(t, rsaKey, "rsa1", oidc.RS256, idp.claims(clk.Now())))
	if p.Kind != policy.KindPerson || p.Tenant != "acme" {
		t.Fatalf("OIDC principal %+v", p)
	}
	_, err = c.Authenticate(ctx, "Bearer "+sign(t, rsaOther, "zzz", oidc.RS256, idp.claims(clk.Now())))
	refused(t, "bad JWT through the chain", err, "does not publish")
}

// TestOIDCNoPanics throws random headers at the verifier (and the chain):
// every answer is a refusal wrapping ErrUnauthenticated, never a panic.
func TestOIDCNoPanics(t *testing.T) {
	idp := newTestIdP(t)
	clk := &clock{t: time.Now()}
	v := newVerifier(t, clk, idp.issuer("acme", TierClaimRoles))
	c := &Chain{OIDC: v, Secrets: &fakeAuth{name: "secret"}}
	valid := sign(t, rsaKey, "rsa1", oidc.RS256, idp.claims(clk.Now()))
	segs := []string{"", "e30", "eyJhbGciOiJub25lIn0", "eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYTEifQ", "bnVsbA", "W10", "Ig", "%%", "AAAA"}
	rapid.Check(t, func(rt *rapid.T) {
		var tok string
		if rapid.Bool().Draw(rt, "mutate") {
			b := []byte(valid)
			for range rapid.IntRange(1, 5).Draw(rt, "flips") {
				i := rapid.IntRange(0, len(b)-1).Draw(rt, "pos")
				b[i] = byte(rapid.IntRange(0x21, 0x7e).Draw(rt, "char"))
			}
			tok = string(b)
		} else {
			n := rapid.IntRange(1, 4).Draw(rt, "parts")
			for i := range n {
				if i > 0 {
					tok += "."
				}
				tok += rapid.OneOf(rapid.SampledFrom(segs), rapid.StringMatching(`[A-Za-z0-9_-]{0,40}`)).Draw(rt, "seg")
			}
		}
		p, err := v.Authenticate(context.Background(), "Bearer "+tok)
		if err == nil && !sameDecoded(tok, valid) {
			rt.Fatalf("accepted %q as %+v", tok, p)
		}
		if err == nil {
			return // only unused trailing base64 bits changed: the same token
		}
		if !errors.Is(err, ErrUnauthenticated) {
			rt.Fatalf("%q: %v does not wrap ErrUnauthenticated", tok, err)
		}
		if _, err := c.Authenticate(context.Background(), "Bearer "+tok); LooksLikeJWT(tok) && err == nil {
			rt.Fatalf("chain accepted %q", tok)
		}
	})
}

// sameDecoded reports whether two compact JWTs decode to the same bytes
// (base64 leaves a few trailing bits unused, so some edits change nothing).
func sameDecoded(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	if len(pa) != len(pb) {
		return false
	}
	for i := range pa {
		da, errA := base64.RawURLEncoding.DecodeString(pa[i])
		db, errB := base64.RawURLEncoding.DecodeString(pb[i])
		if errA != nil || errB != nil || !bytes.Equal(da, db) {
			return false
		}
	}
	return true
}
