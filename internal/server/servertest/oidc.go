package servertest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/coreos/go-oidc/v3/oidc/oidctest"
	"github.com/scimbridge/scimbridge/internal/auth"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/store"
)

// Audience is the API audience the test issuer's tokens are for.
const Audience = "scimbridge-api"

// IdP is go-oidc's test issuer, trusted by an Env made with WithOIDC.
type IdP struct {
	URL  string
	key  *rsa.PrivateKey
	flow *flow
}

// newIdP starts a test issuer.
func newIdP(t *testing.T) *IdP {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s := &oidctest.Server{PublicKeys: []oidctest.PublicKey{{PublicKey: key.Public(), KeyID: "k1", Algorithm: oidc.RS256}}}
	idp := &IdP{key: key, flow: &flow{people: map[string]policy.Tier{}, codes: map[string]grant{}}}
	mux := http.NewServeMux()
	mux.HandleFunc("/auth", idp.serveAuth)
	mux.HandleFunc("POST /token", idp.serveToken(t))
	mux.Handle("/", s)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s.SetIssuer(srv.URL)
	idp.URL = srv.URL
	return idp
}

// verifier trusts the issuer for two kinds: person tokens have aud
// Audience, script tokens aud Audience+"-scripts".
func (idp *IdP) verifier(t *testing.T) *auth.OIDCVerifier {
	issuers := []auth.OIDCIssuer{
		{Issuer: idp.URL, Audience: Audience, TierClaim: auth.TierClaimRoles, Tenant: store.DefaultTenant, Kind: policy.KindPerson},
		{Issuer: idp.URL, Audience: Audience + "-scripts", TierClaim: auth.TierClaimRoles, Tenant: store.DefaultTenant, Kind: policy.KindScript},
	}
	v, err := auth.NewOIDCVerifier(issuers, auth.OIDCOptions{HTTPClient: &http.Client{Timeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Token signs a token for kind (person or script) with the given tier
// (TierNone: no tier claim) and preferred_username.
func (idp *IdP) Token(t *testing.T, kind policy.Kind, tier policy.Tier, userName string) string {
	aud := Audience
	if kind == policy.KindScript {
		aud += "-scripts"
	}
	claims := map[string]any{"iss": idp.URL, "aud": aud, "sub": "sub-" + userName, "iat": time.Now().Unix(),
		"exp": time.Now().Add(10 * time.Minute).Unix(), "preferred_username": userName}
	if tier != policy.TierNone {
		claims["roles"] = []string{tier.String()}
	}
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return oidctest.SignIDToken(idp.key, "k1", oidc.RS256, string(b))
}
