package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/coreos/go-oidc/v3/oidc/oidctest"
	"github.com/scimbridge/scimbridge/internal/policy"
)

const testAudience = "scimbridge-api"

var (
	keyOnce             sync.Once
	rsaKey, rsaKey2     *rsa.PrivateKey
	rsaOther            *rsa.PrivateKey
	ecKey               *ecdsa.PrivateKey
	testKeysInitialised bool
)

func testKeys(t *testing.T) {
	t.Helper()
	keyOnce.Do(func() {
		var err error
		for _, k := range []**rsa.PrivateKey{&rsaKey, &rsaKey2, &rsaOther} {
			if *k, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
				panic(err)
			}
		}
		if ecKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		testKeysInitialised = true
	})
	if !testKeysInitialised {
		t.Fatal("test keys")
	}
}

// clock is a settable clock shared by the verifier and the token factory.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testIdP is go-oidc's test issuer behind a counting, switchable handler.
type testIdP struct {
	t         *testing.T
	oidc      *oidctest.Server
	srv       *httptest.Server
	jwksHits  atomic.Int64
	discHits  atomic.Int64
	down      atomic.Bool
	mu        sync.Mutex
	published []oidctest.PublicKey
}

func newTestIdP(t *testing.T) *testIdP {
	testKeys(t)
	idp := &testIdP{t: t}
	idp.published = []oidctest.PublicKey{
		{PublicKey: rsaKey.Public(), KeyID: "rsa1", Algorithm: oidc.RS256},
		{PublicKey: rsaKey.Public(), KeyID: "ps1", Algorithm: oidc.PS256},
		{PublicKey: ecKey.Public(), KeyID: "ec1", Algorithm: oidc.ES256},
	}
	idp.oidc = &oidctest.Server{PublicKeys: idp.published}
	idp.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if idp.down.Load() {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		switch r.URL.Path {
		case "/keys":
			idp.jwksHits.Add(1)
		case "/.well-known/openid-configuration":
			idp.discHits.Add(1)
		}
		idp.mu.Lock()
		idp.oidc.PublicKeys = idp.published
		idp.mu.Unlock()
		idp.oidc.ServeHTTP(w, r)
	}))
	t.Cleanup(idp.srv.Close)
	idp.oidc.SetIssuer(idp.srv.URL)
	return idp
}

func (idp *testIdP) publish(k oidctest.PublicKey) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	idp.published = append(append([]oidctest.PublicKey(nil), idp.published...), k)
}

func (idp *testIdP) issuer(tenant, claim string) OIDCIssuer {
	return OIDCIssuer{Issuer: idp.srv.URL, Audience: testAudience, TierClaim: claim, Tenant: tenant, Leeway: time.Minute}
}

// claims returns a valid claim set for idp at time now.
func (idp *testIdP) claims(now time.Time) map[string]any {
	return map[string]any{
		"iss":                idp.srv.URL,
		"aud":                testAudience,
		"sub":                "u-123",
		"iat":                now.Unix(),
		"exp":                now.Add(10 * time.Minute).Unix(),
		"roles":              []string{"reader", "support-tier-1-operations"},
		"preferred_username": "ada@example.com",
	}
}

func sign(t *testing.T, key crypto.PrivateKey, kid, alg string, claims map[string]any) string {
	t.Helper()
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return oidctest.SignIDToken(key, kid, alg, string(b))
}

func b64(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func newVerifier(t *testing.T, clk *clock, issuers ...OIDCIssuer) *OIDCVerifier {
	t.Helper()
	v, err := NewOIDCVerifier(issuers, OIDCOptions{Now: clk.Now, HTTPClient: &http.Client{Timeout: 2 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustPrincipal(t *testing.T, v HeaderAuthenticator, header string) policy.Principal {
	t.Helper()
	p, err := v.Authenticate(context.Background(), header)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	return p
}

// refused asserts err is a safe 401 whose text contains want.
func refused(t *testing.T, name string, err error, want string) {
	t.Helper()
	if !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("%s: err = %v, want ErrUnauthenticated", name, err)
		return
	}
	var ae *Error
	if !errors.As(err, &ae) || ae.Reason == "" || strings.HasSuffix(ae.Reason, ".") {
		t.Errorf("%s: %v is not an *Error with a reason without a final period", name, err)
		return
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, ErrUnauthenticated.Error()+": ") || strings.HasSuffix(msg, ".") {
		t.Errorf("%s: %q does not fit the scim detail contract (\"unauthenticated: reason\" without a final period)", name, msg)
	}
	if !strings.Contains(msg, want) {
		t.Errorf("%s: err = %q, want it to mention %q", name, msg, want)
	}
}

func TestOIDCValidToken(t *testing.T) {
	idp := newTestIdP(t)
	clk := &clock{t: time.Now()}
	v := newVerifier(t, clk, idp.issuer("acme", TierClaimRoles))
	tok := sign(t, rsaKey, "rsa1", oidc.RS256, idp.claims(clk.Now()))
	p := mustPrincipal(t, v, "Bearer "+tok)
	want := policy.Principal{Tenant: "acme", Subject: "oidc:" + idp.srv.URL + "#u-123", Kind: policy.KindPerson,
		Tier: policy.Tier1Operations, UserName: "ada@example.com"}
	if p != want {
		t.Fatalf("principal = %+v\nwant %+v", p, want)
	}
	// The bare token (Okta's header mode) works too, and ES256/PS256 are allowed.
	mustPrincipal(t, v, tok)
	mustPrincipal(t, v, "Bearer "+sign(t, ecKey, "ec1", oidc.ES256, idp.claims(clk.Now())))
	mustPrincipal(t, v, "Bearer "+sign(t, rsaKey, "ps1", oidc.PS256, idp.claims(clk.Now())))
	if n := idp.jwksHits.Load(); n != 1 {
		t.Errorf("JWKS fetched %d times for four tokens, want 1", n)
	}
}

func TestOIDCKindAndScript(t *testing.T) {
	idp := newTestIdP(t)
	clk := &clock{t: time.Now()}
	cfg := idp.issuer("acme", TierClaimTier)
	cfg.Kind = policy.KindScript
	v := newVerifier(t, clk, cfg)
	c := idp.claims(clk.Now())
	c["tier"] = "support-tier-3-engineering"
	p := mustPrincipal(t, v, "Bearer "+sign(t, rsaKey, "rsa1", oidc.RS256, c))
	if p.Kind != policy.KindScript || p.Tier != policy.Tier3Engineering {
		t.Fatalf("principal = %+v", p)
	}
}

func TestOIDCTierClaimShapes(t *testing.T) {
	idp := newTestIdP(t)
	clk := &clock{t: time.Now()}
	cases := []struct {
		claim string
		value any
		want  policy.Tier // TierNone: refused
	}{
		{TierClaimRoles, []string{"support-tier-2-software-partner"}, policy.Tier2SoftwarePartner},
		{TierClaimRoles, "support-tier-0-help-desk", policy.Tier0HelpDesk},
		{TierClaimRoles, []any{"x", 7, nil, "support-tier-3-engineering", "support-tier-1-operations"}, policy.Tier3Engineering},
		{TierClaimGroups, []string{"Everyone", "support-tier-1-operations", "support-tier-0-help-desk"}, policy.Tier1Operations},
		{TierClaimGroups, "support-tier-2-software-partner", policy.Tier2SoftwarePartner},
		{TierClaimTier, "support-tier-3-engineering", policy.Tier3Engineering},
		{TierClaimTier, []string{"support-tier-0-help-desk"}, policy.Tier0HelpDesk},
		// Not exact: refused, never tier 0.
		{TierClaimTier, "SUPPORT-TIER-3-ENGINEERING", policy.TierNone},
		{TierClaimTier, " support-tier-3-engineering", policy.TierNone},
		{TierClaimTier, "support-tier-4-god", policy.TierNone},
		{TierClaimRoles, []string{"admin", "tier3"}, policy.TierNone},
		{TierClaimRoles, []string{}, policy.TierNone},
		{TierClaimRoles, 3, policy.TierNone},
		{TierClaimRoles, map[string]any{"tier": "support-tier-3-engineering"}, policy.TierNone},
		{TierClaimRoles, nil, policy.TierNone},
		{TierClaimGroups, "", policy.TierNone},
	}
	verifiers := map[string]*OIDCVerifier{}
	for _, claim := range []string{TierClaimRoles, TierClaimGroups, TierClaimTier} {
		verifiers[claim] = newVerifier(t, clk, idp.issuer("acme", claim))
	}
	for _, c := range cases {
		cl := idp.claims(clk.Now())
		delete(cl, "roles")
		cl[c.claim] = c.value
		p, err := verifiers[c.claim].Authenticate(context.Background(), "Bearer "+sign(t, rsaKey, "rsa1", oidc.RS256, cl))
		if c.want == policy.TierNone {
			refused(t, c.claim, err, "names no support tier")
			continue
		}
		if err != nil || p.Tier != c.want {
			t.Errorf("%s=%v: tier %v, err %v; want %v", c.claim, c.value, p.Tier, err, c.want)
		}
	}
	// The claim is read from the configured name only.
	cl := idp.claims(clk.Now())
	cl["tier"] = "support-tier-3-engineering"
	delete(cl, "roles")
	_, err := verifiers[TierClaimGroups].Authenticate(context.Background(), "Bearer "+sign(t, rsaKey, "rsa1", oidc.RS256, cl))
	refused(t, "missing tier claim", err, `no "groups" claim`)
}

func TestOIDCUserName(t *testing.T) {
	idp := newTestIdP(t)
	clk := &clock{t: time.Now()}
	v := newVerifier(t, clk, idp.issuer("acme", TierClaimRoles))
	custom := idp.issuer("acme", TierClaimRoles)
	custom.UserNameClaim = "upn"
	custom.Audience = "other-api"
	vc := newVerifier(t, clk, custom)
	cases := []struct {
		set  map[string]any
		drop []string
		v    *OIDCVerifier
		want string
	}{
		{nil, nil, v, "ada@example.com"},
		{map[string]any{"email": "ada@corp.example"}, []string{"preferred_username"}, v, "ada@corp.example"},
		{map[string]any{"email": "ada@corp.example", "email_verified": true}, []string{"preferred_username"}, v, "ada@corp.example"},
		{map[string]any{"email": "ada@corp.example", "email_verified": false}, []string{"preferred_username"}, v, ""},
		{map[string]any{"email": "ada@corp.example", "email_verified": "false"}, []string{"preferred_username"}, v, ""},
		{nil, []string{"preferred_username"}, v, ""},
		{map[string]any{"upn": "ada@upn.example", "aud": "other-api"}, nil, vc, "ada@upn.example"},
		{map[string]any{"aud": "other-api"}, nil, vc, ""},
	}
	for i, c := range cases {
		cl := idp.claims(clk.Now())
		for k, val := range c.set {
			cl[k] = val
		}
		for _, k := range c.drop {
			delete(cl, k)
		}
		p := mustPrincipal(t, c.v, "Bearer "+sign(t, rsaKey, "rsa1", oidc.RS256, cl))
		if p.UserName != c.want {
			t.Errorf("case %d: UserName = %q, want %q", i, p.UserName, c.want)
		}
	}
}

// TestOIDCNegatives is the list of token negatives: every one is
// refused with ErrUnauthenticated (a 401), none succeeds, none panics.
func TestOIDCNegatives(t *testing.T) {
	idp := newTestIdP(t)
	other := newTestIdP(t) // a real IdP we do not trust
	clk := &clock{t: time.Now()}
	v := newVerifier(t, clk, idp.issuer("acme", TierClaimRoles))
	now := clk.Now()
	valid := sign(t, rsaKey, "rsa1", oidc.RS256, idp.claims(now))
	with := func(mod func(map[string]any)) map[string]any {
		c := idp.claims(now)
		mod(c)
		return c
	}
	parts := strings.Split(valid, ".")

	// HS256 with the issuer's public key as the HMAC secret (the classic
	// alg confusion attack), both PEM and DER forms.
	der, _ := x509.MarshalPKIXPublicKey(rsaKey.Public())
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	hs := func(secret []byte) string {
		signing := b64(map[string]any{"alg": "HS256", "kid": "rsa1", "typ": "JWT"}) + "." + parts[1]
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte(signing))
		return signing + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	}
	tampered := with(func(c map[string]any) { c["roles"] = "support-tier-3-engineering" })

	cases := []struct {
		name, token, want string
	}{
		{"wrong issuer (untrusted IdP)", sign(t, rsaOther, "rsa1", oidc.RS256, with(func(c map[string]any) { c["iss"] = other.srv.URL })), "issuer is not trusted"},
		{"wrong issuer (made up)", sign(t, rsaKey, "rsa1", oidc.RS256, with(func(c map[string]any) { c["iss"] = "https://evil.example.com" })), "issuer is not trusted"},
		{"no issuer", sign(t, rsaKey, "rsa1", oidc.RS256, with(func(c map[string]any) { delete(c, "iss") })), "issuer is not trusted"},
		{"our iss, signed by another IdP's key with our kid", sign(t, rsaOther, "rsa1", oidc.RS256, idp.claims(now)), "signature is not valid"},
		{"wrong audience", sign(t, rsaKey, "rsa1", oidc.RS256, with(func(c map[string]any) { c["aud"] = "some-other-api" })), "wrong audience"},
		{"ID token of another client", sign(t, rsaKey, "rsa1", oidc.RS256, with(func(c map[string]any) { c["aud"] = []string{"web-frontend"}; c["azp"] = "web-frontend" })), "wrong audience"},
		{"no audience", sign(t, rsaKey, "rsa1", oidc.RS256, with(func(c map[string]any) { delete(c, "aud") })), "wrong audience"},
		{"expired", sign(t, rsaKey, "rsa1", oidc.RS256, with(func(c map[string]any) { c["exp"] = now.Add(-2 * time.Minute).Unix() })), "expired"},
		{"no exp", sign(t, rsaKey, "rsa1", oidc.RS256, with(func(c map[string]any) { delete(c, "exp") })), "no expiry"},
		{"exp not a number", sign(t, rsaKey, "rsa1", oidc.RS256, with(func(c map[string]any) { c["exp"] = "tomorrow" })), "unauthenticated"},
		{"not yet valid beyond leeway", sign(t, rsaKey, "rsa1", oidc.RS256, with(func(c map[string]any) { c["nbf"] = now.Add(2 * time.Minute).Unix() })), "not valid yet"},
		{"not yet valid, far", sign(t, rsaKey, "rsa1", oidc.RS256, with(func(c map[string]any) { c["nbf"] = now.Add(time.Hour).Unix() })), "not valid yet"},
		{"alg none", b64(map[string]any{"alg": "none", "typ": "JWT"}) + "." + parts[1] + ".", "algorithm is not allowed"},
		{"alg none with signature", b64(map[string]any{"alg": "none"}) + "." + parts[1] + "." + parts[2], "algorithm is not allowed"},
		{"alg None", b64(map[string]any{"alg": "None"}) + "." + parts[1] + ".", "algorithm is not allowed"},
		{"HS256 forged with PEM public key", hs(pemKey), "algorithm is not allowed"},
		{"HS256 forged with DER public key", hs(der), "algorithm is not allowed"},
		{"RS384 (not in the allowlist)", sign(t, rsaKey, "rsa1", "RS384", idp.claims(now)), "algorithm is not allowed"},
		{"unknown kid", sign(t, rsaOther, "nobody-knows", oidc.RS256, idp.claims(now)), "does not publish"},
		{"known kid, wrong alg for the key", sign(t, rsaKey, "rsa1", oidc.PS256, idp.claims(now)), "does not publish"},
		{"tampered payload", parts[0] + "." + b64(tampered) + "." + parts[2], "signature is not valid"},
		{"tampered header", b64(map[string]any{"alg": "RS256", "kid": "rsa1", "x": 1}) + "." + parts[1] + "." + parts[2], "signature is not valid"},
		{"signature stripped", parts[0] + "." + parts[1] + ".", "signature is not valid"},
		{"missing tier claim", sign(t, rsaKey, "rsa1", oidc.RS256, with(func(c map[string]any) { delete(c, "roles") })), `no "roles" claim`},
		{"unrecognised tier value", sign(t, rsaKey, "rsa1", oidc.RS256, with(func(c map[string]any) { c["roles"] = []string{"support-tier-9-root"} })), "names no support tier"},
		{"no sub", sign(t, rsaKey, "rsa1", oidc.RS256, with(func(c map[string]any) { delete(c, "sub") })), "no subject"},
		{"payload not JSON", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte("hello")) + "." + parts[2], "not a well-formed JWT"},
		{"payload a JSON array", parts[0] + "." + b64([]int{1}) + "." + parts[2], "not a well-formed JWT"},
		{"bad base64", parts[0] + ".%%%." + parts[2], "not a well-formed JWT"},
		{"two parts", parts[0] + "." + parts[1], "not a well-formed JWT"},
		{"four parts", valid + ".x", "not a well-formed JWT"},
		{"JSON serialisation", `{"payload":"x","signatures":[]}`, "not a well-formed JWT"},
		{"huge", parts[0] + "." + strings.Repeat("A", maxTokenBytes) + "." + parts[2], "too large"},
		{"empty header", "", "Authorization header"},
		{"basic auth", "Basic " + base64.StdEncoding.EncodeToString([]byte("a:b")), "Authorization header"},
	}
	for _, c := range cases {
		header := c.token
		if c.name != "empty header" && c.name != "basic auth" {
			header = "Bearer " + c.token
		}
		p, err := v.Authenticate(context.Background(), header)
		if err == nil {
			t.Errorf("%s: accepted as %+v", c.name, p)
			continue
		}
		if p != (policy.Principal{}) {
			t.Errorf("%s: refused but returned principal %+v", c.name, p)
		}
		refused(t, c.name, err, c.want)
	}
	// And the untampered token still works: the refusals above did not
	// poison anything.
	mustPrincipal(t, v, "Bearer "+valid)
}

func TestOIDCLeeway(t *testing.T) {
	idp := newTestIdP(t)
	clk := &clock{t: time.Now()}
	cfg := idp.issuer("acme", TierClaimRoles)
	cfg.Leeway = 30 * time.Second
	v := newVerifier(t, clk, cfg)
	now := clk.Now()
	tok := func(mod func(map[string]any)) string {
		c := idp.claims(now)
		mod(c)
		return "Bearer " + sign(t, rsaKey, "rsa1", oidc.RS256, c)
	}
	// Within the leeway: accepted.
	mustPrincipal(t, v, tok(func(c map[string]any) { c["exp"] = now.Add(-20 * time.Second).Unix() }))
	mustPrincipal(t, v, tok(func(c map[string]any) { c["nbf"] = now.Add(20 * time.Second).Unix() }))
	mustPrincipal(t, v, tok(func(c map[string]any) { c["nbf"] = now.Add(-time.Hour).Unix() }))
	// Beyond it: refused (go-oidc alone would allow nbf up to 5 minutes ahead).
	_, err := v.Authenticate(context.Background(), tok(func(c map[string]any) { c["exp"] = now.Add(-40 * time.Second).Unix() }))
	refused(t, "exp beyond leeway", err, "expired")
	_, err = v.Authenticate(context.Background(), tok(func(c map[string]any) { c["nbf"] = now.Add(40 * time.Second).Unix() }))
	refused(t, "nbf beyond leeway", err, "not valid yet")
	_, err = v.Authenticate(context.Background(), tok(func(c map[string]any) { c["nbf"] = now.Add(4 * time.Minute).Unix() }))
	refused(t, "nbf within go-oidc's 5 minutes", err, "not valid yet")
	// At the largest leeway both bounds still behave.
	cfg.Leeway, cfg.Audience = MaxLeeway, "max-leeway"
	vm := newVerifier(t, clk, cfg)
	maxTok := func(mod func(map[string]any)) string {
		c := idp.claims(now)
		c["aud"] = "max-leeway"
		mod(c)
		return "Bearer " + sign(t, rsaKey, "rsa1", oidc.RS256, c)
	}
	mustPrincipal(t, vm, maxTok(func(c map[string]any) { c["nbf"] = now.Add(MaxLeeway - time.Second).Unix() }))
	mustPrincipal(t, vm, maxTok(func(c map[string]any) { c["exp"] = now.Add(-MaxLeeway + time.Second).Unix() }))
	_, err = vm.Authenticate(context.Background(), maxTok(func(c map[string]any) { c["nbf"] = now.Add(MaxLeeway + 2*time.Second).Unix() }))
	refused(t, "nbf beyond max leeway", err, "not valid yet")
	_, err = vm.Authenticate(context.Background(), maxTok(func(c map[string]any) { c["exp"] = now.Add(-MaxLeeway - 2*time.Second).Unix() }))
	refused(t, "exp beyond max leeway", err, "expired")

	// A token that is fine now expires as the clock moves.
	valid := tok(func(map[string]any) {})
	mustPrincipal(t, v, valid)
	clk.Advance(10*time.Minute + 31*time.Second)
	_, err = v.Authenticate(context.Background(), valid)
	refused(t, "expired later", err, "expired")
}

// TestOIDCJWKSBurst: 50 tokens with unknown kids, one after another and
// all at once, cost at most one extra JWKS fetch (go-oidc's RemoteKeySet
// would refetch for each sequential one).
func TestOIDCJWKSBurst(t *testing.T) {
	idp := newTestIdP(t)
	clk := &clock{t: time.Now()}
	v := newVerifier(t, clk, idp.issuer("acme", TierClaimRoles))
	mustPrincipal(t, v, "Bearer "+sign(t, rsaKey, "rsa1", oidc.RS256, idp.claims(clk.Now())))
	base := idp.jwksHits.Load()
	unknown := func(i int) string {
		return "Bearer " + sign(t, rsaOther, "kid-"+strings.Repeat("x", i%7)+string(rune('a'+i%26)), oidc.RS256, idp.claims(clk.Now()))
	}
	for i := range 50 {
		_, err := v.Authenticate(context.Background(), unknown(i))
		refused(t, "unknown kid", err, "does not publish")
	}
	if n := idp.jwksHits.Load() - base; n > 1 {
		t.Errorf("50 sequential unknown-kid tokens fetched the JWKS %d times, want at most 1", n)
	}
	// Concurrently, after the rate limit has expired: one shared fetch.
	clk.Advance(DefaultJWKSMinRefresh + time.Second)
	base = idp.jwksHits.Load()
	toks := make([]string, 50)
	for i := range toks {
		toks[i] = unknown(i)
	}
	var wg sync.WaitGroup
	for _, tok := range toks {
		wg.Go(func() {
			_, err := v.Authenticate(context.Background(), tok)
			if !errors.Is(err, ErrUnauthenticated) {
				t.Errorf("unknown kid accepted or errored oddly: %v", err)
			}
		})
	}
	wg.Wait()
	if n := idp.jwksHits.Load() - base; n > 1 {
		t.Errorf("50 concurrent unknown-kid tokens fetched the JWKS %d times, want at most 1", n)
	}
	// Good tokens keep working throughout.
	mustPrincipal(t, v, "Bearer "+sign(t, rsaKey, "rsa1", oidc.RS256, idp.claims(clk.Now())))
}

// TestOIDCKeyRotation: a new key is picked up once the refresh interval
// allows, and keys are refreshed after JWKSMaxAge.
func TestOIDCKeyRotation(t *testing.T) {
	idp := newTestIdP(t)
	clk := &clock{t: time.Now()}
	v := newVerifier(t, clk, idp.issuer("acme", TierClaimRoles))
	mustPrincipal(t, v, "Bearer "+sign(t, rsaKey, "rsa1", oidc.RS256, idp.claims(clk.Now())))
	idp.publish(oidctest.PublicKey{PublicKey: rsaKey2.Public(), KeyID: "rsa2", Algorithm: oidc.RS256})
	// Right after a fetch, the new kid is not fetched again yet...
	clk.Advance(time.Second)
	_, err := v.Authenticate(context.Background(), "Bearer "+sign(t, rsaKey2, "rsa2", oidc.RS256, idp.claims(clk.Now())))
	refused(t, "new kid within the refresh interval", err, "does not publish")
	// ...and is once the interval has passed.
	clk.Advance(DefaultJWKSMinRefresh)
	mustPrincipal(t, v, "Bearer "+sign(t, rsaKey2, "rsa2", oidc.RS256, idp.claims(clk.Now())))
	before := idp.jwksHits.Load()
	clk.Advance(DefaultJWKSMaxAge + time.Second)
	mustPrincipal(t, v, "Bearer "+sign(t, rsaKey, "rsa1", oidc.RS256, idp.claims(clk.Now())))
	if idp.jwksHits.Load() != before+1 {
		t.Errorf("keys older than JWKSMaxAge were not refreshed")
	}
	// If the IdP is down at refresh time, the keys we have keep working.
	idp.down.Store(true)
	clk.Advance(DefaultJWKSMaxAge + time.Second)
	mustPrincipal(t, v, "Bearer "+sign(t, rsaKey, "rsa1", oidc.RS256, idp.claims(clk.Now())))
}

// TestOIDCLazyDiscovery: the verifier is built while the IdP is down,
// refuses tokens with a clear reason, does not hammer discovery, and works
// once the IdP is back and the retry interval has passed.
func TestOIDCLazyDiscovery(t *testing.T) {
	idp := newTestIdP(t)
	idp.down.Store(true)
	clk := &clock{t: time.Now()}
	v := newVerifier(t, clk, idp.issuer("acme", TierClaimRoles))
	if err := v.Discover(context.Background()); err == nil {
		t.Fatal("Discover succeeded against a down IdP")
	}
	tok := func() string { return "Bearer " + sign(t, rsaKey, "rsa1", oidc.RS256, idp.claims(clk.Now())) }
	for range 20 {
		_, err := v.Authenticate(context.Background(), tok())
		refused(t, "IdP down", err, "cannot be reached yet")
	}
	idp.down.Store(false)
	_, err := v.Authenticate(context.Background(), tok())
	refused(t, "IdP back, within retry interval", err, "cannot be reached yet")
	if n := idp.discHits.Load(); n != 0 {
		t.Errorf("discovery hit %d times while down/within the retry interval (the handler counts only while up)", n)
	}
	clk.Advance(DefaultDiscoveryRetry + time.Second)
	p := mustPrincipal(t, v, tok())
	if p.Tenant != "acme" {
		t.Fatalf("principal %+v", p)
	}
	for range 5 {
		mustPrincipal(t, v, tok())
	}
	if n := idp.discHits.Load(); n != 1 {
		t.Errorf("discovery ran %d times after success, want 1", n)
	}
}

// TestOIDCHangingIdP: an IdP that never answers costs a request at most
// the HTTP client's timeout, and a request's own deadline is respected.
func TestOIDCHangingIdP(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	clk := &clock{t: time.Now()}
	v, err := NewOIDCVerifier([]OIDCIssuer{{Issuer: srv.URL, Audience: testAudience, TierClaim: "tier", Tenant: "acme"}},
		OIDCOptions{Now: clk.Now, HTTPClient: &http.Client{Timeout: 200 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	testKeys(t)
	tok := "Bearer " + sign(t, rsaKey, "rsa1", oidc.RS256, map[string]any{"iss": srv.URL, "aud": testAudience, "sub": "x",
		"exp": clk.Now().Add(time.Hour).Unix(), "tier": "support-tier-0-help-desk"})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = v.Authenticate(ctx, tok)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Fatalf("with a 50ms request deadline: %v after %v", err, time.Since(start))
	}
	start = time.Now()
	_, err = v.Authenticate(context.Background(), tok)
	refused(t, "hanging IdP", err, "cannot be reached yet")
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v despite a 200ms client timeout", d)
	}
	if c := NewOIDCHTTPClient(); c.Timeout <= 0 || c.Timeout > 30*time.Second {
		t.Fatalf("default client timeout %v", c.Timeout)
	}
}

func TestOIDCMultipleIssuers(t *testing.T) {
	a, b := newTestIdP(t), newTestIdP(t)
	clk := &clock{t: time.Now()}
	second := a.issuer("globex", TierClaimGroups)
	second.Audience = "scimbridge-globex"
	v := newVerifier(t, clk, a.issuer("acme", TierClaimRoles), b.issuer("initech", TierClaimRoles), second)
	pa := mustPrincipal(t, v, "Bearer "+sign(t, rsaKey, "rsa1", oidc.RS256, a.claims(clk.Now())))
	pb := mustPrincipal(t, v, "Bearer "+sign(t, rsaKey, "rsa1", oidc.RS256, b.claims(clk.Now())))
	c := a.claims(clk.Now())
	c["aud"], c["groups"] = "scimbridge-globex", "support-tier-2-software-partner"
	pc := mustPrincipal(t, v, "Bearer "+sign(t, rsaKey, "rsa1", oidc.RS256, c))
	if pa.Tenant != "acme" || pb.Tenant != "initech" || pc.Tenant != "globex" || pc.Tier != policy.Tier2SoftwarePartner {
		t.Fatalf("tenants: %+v %+v %+v", pa, pb, pc)
	}
	if pa.Subject == pb.Subject {
		t.Fatal("the same sub at two issuers must be two subjects")
	}
	// A token for both audiences goes to the first match, never both.
	c["aud"] = []string{testAudience, "scimbridge-globex"}
	if p := mustPrincipal(t, v, "Bearer "+sign(t, rsaKey, "rsa1", oidc.RS256, c)); p.Tenant != "acme" {
		t.Fatalf("multi-audience token: %+v", p)
	}
}

func TestOIDCConfig(t *testing.T) {
	good := OIDCIssuer{Issuer: "https://idp.example.com", Audience: "api", TierClaim: "roles", Tenant: "acme"}
	n, err := good.normalized()
	if err != nil || n.Leeway != DefaultLeeway || n.Kind != policy.KindPerson {
		t.Fatalf("defaults: %+v %v", n, err)
	}
	bad := map[string]func(*OIDCIssuer){
		"no issuer":       func(c *OIDCIssuer) { c.Issuer = "" },
		"http issuer":     func(c *OIDCIssuer) { c.Issuer = "http://idp.example.com" },
		"not a URL":       func(c *OIDCIssuer) { c.Issuer = "idp.example.com" },
		"no audience":     func(c *OIDCIssuer) { c.Audience = " " },
		"no tenant":       func(c *OIDCIssuer) { c.Tenant = "" },
		"tier claim":      func(c *OIDCIssuer) { c.TierClaim = "scope" },
		"no tier claim":   func(c *OIDCIssuer) { c.TierClaim = "" },
		"negative leeway": func(c *OIDCIssuer) { c.Leeway = -time.Second },
		"huge leeway":     func(c *OIDCIssuer) { c.Leeway = time.Hour },
		"provisioner":     func(c *OIDCIssuer) { c.Kind = policy.KindProvisioner },
	}
	for name, mod := range bad {
		c := good
		mod(&c)
		if _, err := NewOIDCVerifier([]OIDCIssuer{c}, OIDCOptions{}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := NewOIDCVerifier([]OIDCIssuer{good, good}, OIDCOptions{}); err == nil {
		t.Error("duplicate issuer+audience accepted")
	}
	if _, err := NewOIDCVerifier(nil, OIDCOptions{}); err == nil {
		t.Error("no issuers accepted")
	}
	loop := good
	loop.Issuer = "http://127.0.0.1:8080/realms/x"
	if _, err := NewOIDCVerifier([]OIDCIssuer{loop}, OIDCOptions{}); err != nil {
		t.Errorf("loopback http issuer refused: %v", err)
	}

	issuers, err := ParseOIDCConfig(strings.NewReader(`{"issuers": [
		{"issuer": "https://a.example.com", "audience": "api", "tier_claim": "groups", "tenant": "acme", "leeway": "30s"},
		{"issuer": "https://b.example.com", "audience": "api", "tier_claim": "tier", "tenant": "initech", "kind": "script", "username_claim": "upn"}]}`))
	if err != nil || len(issuers) != 2 || issuers[0].Leeway != 30*time.Second || issuers[1].Kind != policy.KindScript || issuers[1].UserNameClaim != "upn" {
		t.Fatalf("ParseOIDCConfig: %+v %v", issuers, err)
	}
	for _, bad := range []string{
		`{}`, `{"issuers": []}`, `not json`,
		`{"issuers": [{"issuer": "https://a.example.com", "audience": "api", "tier_claim": "groups", "tenant": "acme", "leeway": "soon"}]}`,
		`{"issuers": [{"issuer": "https://a.example.com", "audience": "api", "tier_claim": "groups", "tenant": "acme", "audiense": "x"}]}`,
		`{"issuers": [{"issuer": "https://a.example.com", "audience": "api", "tier_claim": "role", "tenant": "acme"}]}`,
	} {
		if _, err := ParseOIDCConfig(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseOIDCConfig(%s) accepted", bad)
		}
	}
}

func TestNilOIDCVerifier(t *testing.T) {
	var v *OIDCVerifier
	_, err := v.Authenticate(context.Background(), "Bearer a.b.c")
	refused(t, "nil verifier", err, "not configured")
	if v.Discover(context.Background()) != nil {
		t.Fatal("nil Discover")
	}
}
