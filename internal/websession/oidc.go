package websession

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/internal/auth"
	"golang.org/x/oauth2"
)

// OIDC is the console's client at the identity provider: authorization
// code with PKCE. Its ClientID must be an audience the API's verifier
// trusts for people (the ID token is verified as a bearer token would be).
type OIDC struct {
	Issuer       string
	ClientID     string
	ClientSecret string // empty for a public client (PKCE only)
	// RedirectURL is the registered callback, e.g.
	// https://scim.example.com/ui/callback; empty: derived from each
	// request's host.
	RedirectURL string
	Scopes      []string
	// Verifier verifies the ID token and maps its claims to a principal.
	Verifier *auth.OIDCVerifier
	// HTTPClient talks to the provider (discovery, token endpoint).
	HTTPClient *http.Client

	mu       sync.Mutex
	endpoint *oauth2.Endpoint
}

// oidcCookie holds a sign-in in flight: state, PKCE verifier, nonce, next.
const oidcCookie = "scimbridge_oidc"

type flight struct {
	State    string `json:"s"`
	Verifier string `json:"v"`
	Nonce    string `json:"n"`
	Next     string `json:"x"`
}

func (o *OIDC) ctx(ctx context.Context) context.Context {
	c := o.HTTPClient
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	return oidc.ClientContext(context.WithValue(ctx, oauth2.HTTPClient, c), c)
}

// discover finds the provider's endpoints once.
func (o *OIDC) discover(ctx context.Context) (oauth2.Endpoint, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.endpoint != nil {
		return *o.endpoint, nil
	}
	p, err := oidc.NewProvider(o.ctx(ctx), o.Issuer)
	if err != nil {
		return oauth2.Endpoint{}, fmt.Errorf("discover %s: %w", o.Issuer, err)
	}
	ep := p.Endpoint()
	o.endpoint = &ep
	return ep, nil
}

func (o *OIDC) config(ep oauth2.Endpoint, r *http.Request, base string) *oauth2.Config {
	redirect := o.RedirectURL
	if redirect == "" {
		scheme := "http"
		if secure(r) {
			scheme = "https"
		}
		redirect = scheme + "://" + r.Host + base + "/callback"
	}
	scopes := o.Scopes
	if len(scopes) == 0 {
		scopes = []string{oidc.ScopeOpenID, "profile", "email"}
	}
	return &oauth2.Config{ClientID: o.ClientID, ClientSecret: o.ClientSecret, Endpoint: ep, RedirectURL: redirect, Scopes: scopes}
}

// BeginOIDC sends the browser to the identity provider; next is where to
// go after signing in.
func (m *Manager) BeginOIDC(w http.ResponseWriter, r *http.Request, next string) error {
	o := m.cfg.OIDC
	if o == nil {
		return &SignInError{"Sign-in with an identity provider is not configured on this server."}
	}
	ep, err := o.discover(r.Context())
	if err != nil {
		return err
	}
	f := flight{State: randomToken(), Verifier: oauth2.GenerateVerifier(), Nonce: randomToken(), Next: m.SafeNext(next)}
	b, _ := json.Marshal(f)
	m.setCookie(w, r, oidcCookie, base64.RawURLEncoding.EncodeToString(b), 600)
	url := o.config(ep, r, m.cfg.Base).AuthCodeURL(f.State, oauth2.S256ChallengeOption(f.Verifier), oidc.Nonce(f.Nonce))
	http.Redirect(w, r, url, http.StatusFound)
	return nil
}

// FinishOIDC completes a sign-in at the callback: it checks the state,
// redeems the code with the PKCE verifier, verifies the ID token (issuer,
// audience, signature, expiry, nonce) and maps its claims to a principal
// exactly as the API does, binds it (a deactivated person is refused) and
// opens a session. It returns where to go next.
func (m *Manager) FinishOIDC(w http.ResponseWriter, r *http.Request) (string, error) {
	o := m.cfg.OIDC
	if o == nil {
		return "", &SignInError{"Sign-in with an identity provider is not configured on this server."}
	}
	f, err := readFlight(r)
	m.setCookie(w, r, oidcCookie, "", -1)
	if err != nil {
		return "", err
	}
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		return "", &SignInError{fmt.Sprintf("The identity provider refused the sign-in: %s %s", e, q.Get("error_description"))}
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.State)) != 1 {
		return "", &SignInError{"The sign-in answer does not belong to this browser's sign-in; please start again."}
	}
	ep, err := o.discover(r.Context())
	if err != nil {
		return "", err
	}
	tok, err := o.config(ep, r, m.cfg.Base).Exchange(o.ctx(r.Context()), q.Get("code"), oauth2.VerifierOption(f.Verifier))
	if err != nil {
		m.cfg.Logger.WarnContext(r.Context(), "OIDC code exchange failed", "err", err)
		return "", &SignInError{"The identity provider did not accept the sign-in code; please start again."}
	}
	return f.Next, m.openOIDC(w, r, tok, f.Nonce)
}

func (m *Manager) openOIDC(w http.ResponseWriter, r *http.Request, tok *oauth2.Token, nonce string) error {
	idToken, _ := tok.Extra("id_token").(string)
	if idToken == "" {
		return &SignInError{"The identity provider sent no ID token."}
	}
	p, err := m.cfg.OIDC.Verifier.Authenticate(r.Context(), "Bearer "+idToken)
	var ae *auth.Error
	if errors.As(err, &ae) {
		return &SignInError{"Your sign-in was refused: " + ae.Reason + "."}
	}
	if err != nil {
		return fmt.Errorf("verify ID token: %w", err)
	}
	if claimNonce(idToken) != nonce {
		return &SignInError{"The ID token does not answer this sign-in (nonce mismatch); please start again."}
	}
	_, err = m.cfg.Bind.Bind(r.Context(), p)
	var se scimerrors.ScimError
	if errors.As(err, &se) && se.Status == http.StatusForbidden {
		return &SignInError{"Your user is deactivated in this directory, so you cannot sign in."}
	}
	if err != nil {
		return fmt.Errorf("bind the signed-in person: %w", err)
	}
	return m.open(w, r, p, "")
}

func readFlight(r *http.Request) (flight, error) {
	var f flight
	c, err := r.Cookie(oidcCookie)
	if err != nil {
		return f, &SignInError{"This browser has no sign-in in progress (cookies off, or it took over 10 minutes); please start again."}
	}
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || json.Unmarshal(b, &f) != nil || f.State == "" {
		return f, &SignInError{"The sign-in cookie was damaged; please start again."}
	}
	return f, nil
}

// claimNonce reads the nonce of a JWT whose signature was verified.
func claimNonce(jwt string) string {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Nonce string `json:"nonce"`
	}
	_ = json.Unmarshal(b, &c)
	return c.Nonce
}
