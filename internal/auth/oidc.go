// This file verifies OIDC JWTs (ID tokens or JWT access tokens) from
// configured issuers and turns them into principals.

package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/scimbridge/scimbridge/internal/policy"
)

// Tier claims an issuer may use.
const (
	TierClaimRoles  = "roles"
	TierClaimGroups = "groups"
	TierClaimTier   = "tier"
)

// Defaults and bounds for OIDC verification.
const (
	// DefaultLeeway is the clock skew allowed on exp and nbf when an issuer
	// sets none.
	DefaultLeeway = 60 * time.Second
	// MaxLeeway is the most clock skew an issuer may configure. (go-oidc
	// allows nbf up to 5 minutes ahead of the clock it is given, which we
	// set back by the leeway; capping the leeway at 2 minutes keeps its nbf
	// check looser than ours, so ours decides.)
	MaxLeeway = 2 * time.Minute
	// DefaultJWKSMinRefresh is the least time between two JWKS fetches of
	// one issuer, however many tokens with unknown kids arrive.
	DefaultJWKSMinRefresh = 15 * time.Second
	// DefaultJWKSMaxAge is how long fetched keys are used before a refresh.
	DefaultJWKSMaxAge = time.Hour
	// DefaultDiscoveryRetry is the least time between two discovery attempts
	// of an issuer that could not be discovered.
	DefaultDiscoveryRetry = 10 * time.Second
	// maxTokenBytes bounds the tokens we parse at all.
	maxTokenBytes = 32 << 10
	// maxMetadataBytes bounds discovery and JWKS responses.
	maxMetadataBytes = 1 << 20
)

// OIDCIssuer configures one trusted OpenID Connect issuer.
type OIDCIssuer struct {
	// Issuer is the issuer URL, exactly as in the tokens' iss claim and the
	// discovery document. https, or http on a loopback address (tests).
	Issuer string `json:"issuer"`
	// Audience is this API's audience (the client ID at the IdP): a token
	// whose aud does not contain it is refused, so ID tokens minted for
	// other clients of the same IdP do not work here.
	Audience string `json:"audience"`
	// TierClaim names the claim holding the tier: "roles", "groups" or
	// "tier". Its value is a string or an array of strings; the four tier
	// strings match exactly, the highest wins, and a token with none of
	// them is refused.
	TierClaim string `json:"tier_claim"`
	// Tenant is the tenant every principal from this issuer acts in.
	Tenant string `json:"tenant"`
	// Leeway is the clock skew allowed on exp and nbf; zero means
	// DefaultLeeway, and at most MaxLeeway. In the config file a Go
	// duration string ("30s").
	Leeway time.Duration `json:"-"`
	// Kind is the principals' kind: person (default) or script.
	Kind policy.Kind `json:"kind"`
	// UserNameClaim, if set, names the claim that holds the person's
	// directory userName (Principal.UserName). If empty, preferred_username
	// is used, else email unless email_verified is false.
	UserNameClaim string `json:"username_claim,omitempty"`
}

// normalized returns c with defaults applied, or why it is unusable.
func (c OIDCIssuer) normalized() (OIDCIssuer, error) {
	u, err := url.Parse(c.Issuer)
	switch {
	case c.Issuer == "":
		return c, errors.New("an OIDC issuer needs its URL (--oidc-issuer)")
	case err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "":
		return c, fmt.Errorf("OIDC issuer %q is not a URL like https://idp.example.com", c.Issuer)
	case u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())):
		return c, fmt.Errorf("OIDC issuer %q must use https", c.Issuer)
	case strings.TrimSpace(c.Audience) == "":
		return c, fmt.Errorf("OIDC issuer %q needs this API's audience (--oidc-audience)", c.Issuer)
	case strings.TrimSpace(c.Tenant) == "":
		return c, fmt.Errorf("OIDC issuer %q needs a tenant (--oidc-tenant)", c.Issuer)
	}
	switch c.TierClaim {
	case TierClaimRoles, TierClaimGroups, TierClaimTier:
	default:
		return c, fmt.Errorf("OIDC issuer %q: the tier claim (--oidc-tier-claim) must be roles, groups or tier, not %q", c.Issuer, c.TierClaim)
	}
	switch {
	case c.Leeway == 0:
		c.Leeway = DefaultLeeway
	case c.Leeway < 0 || c.Leeway > MaxLeeway:
		return c, fmt.Errorf("OIDC issuer %q: leeway %v is outside 0..%v", c.Issuer, c.Leeway, MaxLeeway)
	}
	switch c.Kind {
	case "":
		c.Kind = policy.KindPerson
	case policy.KindPerson, policy.KindScript:
	default:
		return c, fmt.Errorf("OIDC issuer %q: kind must be person or script, not %q", c.Issuer, c.Kind)
	}
	return c, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ParseOIDCConfig reads the issuers of a JSON config file:
//
//	{"issuers": [{"issuer": "https://idp.example.com", "audience": "scimbridge",
//	  "tier_claim": "roles", "tenant": "acme", "leeway": "30s", "kind": "person",
//	  "username_claim": "email"}]}
//
// Unknown fields are errors (so typos do not silently weaken a check).
func ParseOIDCConfig(r io.Reader) ([]OIDCIssuer, error) {
	type fileIssuer struct {
		OIDCIssuer
		Leeway string `json:"leeway"`
	}
	var file struct {
		Issuers []fileIssuer `json:"issuers"`
	}
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&file); err != nil {
		return nil, fmt.Errorf("OIDC config: %w", err)
	}
	if len(file.Issuers) == 0 {
		return nil, errors.New(`OIDC config: no issuers (want {"issuers": [...]})`)
	}
	out := make([]OIDCIssuer, 0, len(file.Issuers))
	for _, fi := range file.Issuers {
		c := fi.OIDCIssuer
		if fi.Leeway != "" {
			d, err := time.ParseDuration(fi.Leeway)
			if err != nil {
				return nil, fmt.Errorf("OIDC config: issuer %q: leeway: %w", c.Issuer, err)
			}
			c.Leeway = d
		}
		if _, err := c.normalized(); err != nil {
			return nil, fmt.Errorf("OIDC config: %w", err)
		}
		out = append(out, c)
	}
	return out, nil
}

// OIDCOptions tunes an OIDCVerifier; the zero value is the production
// setting.
type OIDCOptions struct {
	// HTTPClient fetches discovery documents and JWKS. Default:
	// NewOIDCHTTPClient().
	HTTPClient *http.Client
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// JWKSMinRefresh, JWKSMaxAge, DiscoveryRetry: see the Default constants.
	JWKSMinRefresh time.Duration
	JWKSMaxAge     time.Duration
	DiscoveryRetry time.Duration
	// Logger receives discovery and JWKS failures (which a 401 does not
	// explain in detail). Default: discard.
	Logger *slog.Logger
}

// NewOIDCHTTPClient returns the client used for discovery and JWKS: short
// timeouts on every phase and responses capped at 1 MiB.
func NewOIDCHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = 5 * time.Second
	tr.ResponseHeaderTimeout = 5 * time.Second
	tr.MaxIdleConnsPerHost = 2
	return &http.Client{Timeout: 10 * time.Second, Transport: limitedTransport{tr}}
}

// limitedTransport caps response bodies (go-oidc reads discovery
// documents without a limit).
type limitedTransport struct{ base http.RoundTripper }

func (t limitedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err == nil {
		resp.Body = &limitedBody{ReadCloser: resp.Body, left: maxMetadataBytes}
	}
	return resp, err
}

type limitedBody struct {
	io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, fmt.Errorf("response larger than %d bytes", maxMetadataBytes)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

// OIDCVerifier authenticates bearer JWTs from the configured issuers. It
// needs no network to be created: each issuer is discovered on first use
// (or by Discover), and while discovery fails its tokens are refused with
// a clear reason and discovery is retried at most every DiscoveryRetry.
// The zero value and a nil *OIDCVerifier refuse every token.
type OIDCVerifier struct {
	byIssuer map[string][]*oidcIssuer
	all      []*oidcIssuer
	opts     OIDCOptions
}

// oidcIssuer is one configured issuer and its lazily discovered verifier.
type oidcIssuer struct {
	cfg  OIDCIssuer
	opts *OIDCOptions

	mu       sync.Mutex
	verifier *oidc.IDTokenVerifier
	keys     *keySet
	lastErr  error
	triedAt  time.Time
	inflight chan struct{}
}

// NewOIDCVerifier checks the issuer configurations and returns a verifier.
// An issuer URL may appear more than once with different audiences (and so
// different tenants); a token then goes to the entry its aud names.
func NewOIDCVerifier(issuers []OIDCIssuer, opts OIDCOptions) (*OIDCVerifier, error) {
	if len(issuers) == 0 {
		return nil, errors.New("no OIDC issuers configured")
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = NewOIDCHTTPClient()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.JWKSMinRefresh <= 0 {
		opts.JWKSMinRefresh = DefaultJWKSMinRefresh
	}
	if opts.JWKSMaxAge <= 0 {
		opts.JWKSMaxAge = DefaultJWKSMaxAge
	}
	if opts.DiscoveryRetry <= 0 {
		opts.DiscoveryRetry = DefaultDiscoveryRetry
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	v := &OIDCVerifier{byIssuer: map[string][]*oidcIssuer{}, opts: opts}
	for _, c := range issuers {
		c, err := c.normalized()
		if err != nil {
			return nil, err
		}
		for _, other := range v.byIssuer[c.Issuer] {
			if other.cfg.Audience == c.Audience {
				return nil, fmt.Errorf("OIDC issuer %q with audience %q is configured twice", c.Issuer, c.Audience)
			}
		}
		is := &oidcIssuer{cfg: c, opts: &v.opts}
		v.byIssuer[c.Issuer] = append(v.byIssuer[c.Issuer], is)
		v.all = append(v.all, is)
	}
	return v, nil
}

// Discover tries discovery now for every issuer not yet discovered and
// reports the failures (for startup logs). The server need not wait for
// it: tokens trigger discovery themselves.
func (v *OIDCVerifier) Discover(ctx context.Context) error {
	if v == nil {
		return nil
	}
	var errs []error
	for _, is := range v.all {
		if _, err := is.ready(ctx, true); err != nil {
			errs = append(errs, fmt.Errorf("OIDC issuer %s: %w", is.cfg.Issuer, err))
		}
	}
	return errors.Join(errs...)
}

// ready returns the issuer's verifier, discovering it if needed. Unless
// force is set, a failed discovery is not retried within DiscoveryRetry.
func (is *oidcIssuer) ready(ctx context.Context, force bool) (*oidc.IDTokenVerifier, error) {
	is.mu.Lock()
	if is.verifier != nil {
		defer is.mu.Unlock()
		return is.verifier, nil
	}
	ch := is.inflight
	if ch == nil {
		if !force && !is.triedAt.IsZero() && is.opts.Now().Sub(is.triedAt) < is.opts.DiscoveryRetry {
			err := is.lastErr
			is.mu.Unlock()
			return nil, err
		}
		ch = make(chan struct{})
		is.inflight, is.triedAt = ch, is.opts.Now()
		go is.discoverInto(ch)
	}
	is.mu.Unlock()
	select {
	case <-ch:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	is.mu.Lock()
	defer is.mu.Unlock()
	return is.verifier, is.lastErr
}

func (is *oidcIssuer) discoverInto(done chan struct{}) {
	ver, keys, err := is.discover()
	if err != nil {
		is.opts.Logger.Warn("OIDC discovery failed; tokens from this issuer are refused until it succeeds",
			"issuer", is.cfg.Issuer, "retry_after", is.opts.DiscoveryRetry, "err", err)
	}
	is.mu.Lock()
	is.verifier, is.keys, is.lastErr, is.inflight = ver, keys, err, nil
	is.mu.Unlock()
	close(done)
}

func (is *oidcIssuer) discover() (*oidc.IDTokenVerifier, *keySet, error) {
	// Not a request's context: other requests may wait on this discovery.
	// The HTTP client's timeouts bound it; the extra deadline is a backstop.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, is.opts.HTTPClient), is.cfg.Issuer)
	if err != nil {
		return nil, nil, err
	}
	var meta struct {
		JWKSURL string `json:"jwks_uri"`
	}
	if err := p.Claims(&meta); err != nil {
		return nil, nil, err
	}
	if u, err := url.Parse(meta.JWKSURL); err != nil || u.Host == "" ||
		(u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
		return nil, nil, fmt.Errorf("discovery document has no usable https jwks_uri (%q)", meta.JWKSURL)
	}
	logger := is.opts.Logger
	keys := &keySet{
		url: meta.JWKSURL, client: is.opts.HTTPClient, now: is.opts.Now,
		minRefresh: is.opts.JWKSMinRefresh, maxAge: is.opts.JWKSMaxAge,
		onError: func(err error) {
			logger.Warn("OIDC JWKS fetch failed", "issuer", is.cfg.Issuer, "err", err)
		},
	}
	leeway, now := is.cfg.Leeway, is.opts.Now
	cfg := &oidc.Config{
		ClientID:             is.cfg.Audience,
		SupportedSigningAlgs: allowedAlgs,
		// go-oidc checks exp against this clock: shifting it back by the
		// leeway allows that much skew. nbf is checked again, with the
		// same leeway, in Authenticate (go-oidc allows a fixed 5 minutes).
		Now: func() time.Time { return now().Add(-leeway) },
	}
	return oidc.NewVerifier(is.cfg.Issuer, keys, cfg), keys, nil
}

// unverified is what we read from a token before verifying it: only to
// route it to an issuer and to explain a refusal, never to accept it.
type unverified struct {
	alg    string
	iss    string
	aud    []string
	hasExp bool
	nbf    *float64
}

// LooksLikeJWT reports whether token has the JWS compact shape: three
// dot-separated base64url parts (the third may be empty, as in alg none,
// so such tokens reach the OIDC verifier and are refused with a clear
// reason). Provisioning secrets never contain dots.
func LooksLikeJWT(token string) bool {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return false
	}
	for _, p := range parts {
		for i := 0; i < len(p); i++ {
			c := p[i]
			if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

func peek(token string) (unverified, bool) {
	var u unverified
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return u, false
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	var claims struct {
		Iss string          `json:"iss"`
		Aud json.RawMessage `json:"aud"`
		Exp json.RawMessage `json:"exp"`
		Nbf json.RawMessage `json:"nbf"`
	}
	if !decodeSegment(parts[0], &hdr) || !decodeSegment(parts[1], &claims) {
		return u, false
	}
	u.alg, u.iss = hdr.Alg, claims.Iss
	u.aud = stringOrStrings(claims.Aud)
	u.hasExp = numeric(claims.Exp) != nil
	u.nbf = numeric(claims.Nbf)
	return u, true
}

func decodeSegment(seg string, v any) bool {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return false
	}
	return json.Unmarshal(b, v) == nil
}

func numeric(raw json.RawMessage) *float64 {
	var f float64
	if len(raw) == 0 || json.Unmarshal(raw, &f) != nil {
		return nil
	}
	return &f
}

// stringOrStrings reads a claim that is a string or an array of strings;
// non-string array members are dropped.
func stringOrStrings(raw json.RawMessage) []string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []string{s}
	}
	var arr []any
	if json.Unmarshal(raw, &arr) != nil {
		return nil
	}
	out := make([]string, 0, len(arr))
	for _, a := range arr {
		if s, ok := a.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// Authenticate verifies "Bearer <jwt>" (or the bare JWT) and returns its
// principal: Tenant from the issuer's configuration, Subject
// "oidc:<iss>#<sub>", Kind from the configuration, Tier from the tier
// claim, UserName from the username claim. Refusals are *Error (matching
// ErrUnauthenticated) with a reason safe to show; a cancelled ctx returns
// ctx.Err().
func (v *OIDCVerifier) Authenticate(ctx context.Context, header string) (policy.Principal, error) {
	token, err := secretFromHeader(header)
	if err != nil {
		return policy.Principal{}, err
	}
	if v == nil || len(v.all) == 0 {
		return policy.Principal{}, unauthenticated("OIDC sign-in is not configured")
	}
	if len(token) > maxTokenBytes {
		return policy.Principal{}, unauthenticated("the token is too large")
	}
	u, ok := peek(token)
	if !ok || !LooksLikeJWT(token) {
		return policy.Principal{}, unauthenticated("the token is not a well-formed JWT")
	}
	is := v.pick(u)
	if is == nil {
		return policy.Principal{}, unauthenticated("the token's issuer is not trusted")
	}
	verifier, err := is.ready(ctx, false)
	if err != nil {
		if ctx.Err() != nil {
			return policy.Principal{}, ctx.Err()
		}
		return policy.Principal{}, unauthenticated("the token's identity provider cannot be reached yet; try again later")
	}
	note := &verifyNote{}
	idt, err := verifier.Verify(context.WithValue(ctx, verifyNoteKey{}, note), token)
	if err != nil {
		if ctx.Err() != nil {
			return policy.Principal{}, ctx.Err()
		}
		return policy.Principal{}, is.explain(u, note, err)
	}
	return is.principal(idt)
}

// pick chooses the issuer configuration for a token: by iss, then, when an
// issuer is configured with several audiences, by aud.
func (v *OIDCVerifier) pick(u unverified) *oidcIssuer {
	list := v.byIssuer[u.iss]
	if len(list) == 0 {
		return nil
	}
	for _, is := range list {
		if slices.Contains(u.aud, is.cfg.Audience) {
			return is
		}
	}
	return list[0] // verification will refuse the audience
}

// explain turns a verification failure into a safe reason. The token's
// unverified contents only choose the wording; the token is refused anyway.
func (is *oidcIssuer) explain(u unverified, note *verifyNote, err error) error {
	now := is.opts.Now()
	var expired *oidc.TokenExpiredError
	switch {
	case !slices.Contains(allowedAlgs, u.alg):
		return unauthenticated("the token's signing algorithm is not allowed (RS256, ES256 or PS256 only)")
	case note.err != nil:
		var ke *keyError
		if errors.As(note.err, &ke) {
			return unauthenticated(ke.reason)
		}
		return unauthenticated("the token's signature could not be verified")
	case !u.hasExp:
		return unauthenticated("the token has no expiry (exp)")
	case errors.As(err, &expired):
		return unauthenticated("the token has expired")
	case !slices.Contains(u.aud, is.cfg.Audience):
		return unauthenticated("the token is not meant for this API (wrong audience)")
	case u.nbf != nil && now.Add(is.cfg.Leeway).Before(unixTime(*u.nbf)):
		return unauthenticated("the token is not valid yet (nbf)")
	}
	return unauthenticated("the token could not be verified")
}

func unixTime(f float64) time.Time {
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9))
}

// principal checks the verified token's remaining claims and builds the
// principal.
func (is *oidcIssuer) principal(idt *oidc.IDToken) (policy.Principal, error) {
	var claims map[string]json.RawMessage
	if err := idt.Claims(&claims); err != nil {
		return policy.Principal{}, unauthenticated("the token's claims are not a JSON object")
	}
	if nbf := numeric(claims["nbf"]); nbf != nil && is.opts.Now().Add(is.cfg.Leeway).Before(unixTime(*nbf)) {
		return policy.Principal{}, unauthenticated("the token is not valid yet (nbf)")
	}
	if idt.Subject == "" {
		return policy.Principal{}, unauthenticated("the token has no subject (sub)")
	}
	raw, present := claims[is.cfg.TierClaim]
	if !present {
		return policy.Principal{}, unauthenticated(fmt.Sprintf("the token has no %q claim, which must name a support tier", is.cfg.TierClaim))
	}
	tier := highestTier(stringOrStrings(raw))
	if tier == policy.TierNone {
		return policy.Principal{}, unauthenticated(fmt.Sprintf("the token's %q claim names no support tier (one of %s)",
			is.cfg.TierClaim, strings.Join(policy.TierNames(), ", ")))
	}
	return policy.Principal{
		Tenant:   is.cfg.Tenant,
		Subject:  "oidc:" + idt.Issuer + "#" + idt.Subject,
		Kind:     is.cfg.Kind,
		Tier:     tier,
		UserName: is.userName(claims),
	}, nil
}

// highestTier matches values exactly against the tier strings; the highest
// wins; nothing recognised is TierNone.
func highestTier(values []string) policy.Tier {
	best := policy.TierNone
	for _, s := range values {
		if t, err := policy.ParseTier(s); err == nil && t > best {
			best = t
		}
	}
	return best
}

func (is *oidcIssuer) userName(claims map[string]json.RawMessage) string {
	str := func(name string) string {
		var s string
		if json.Unmarshal(claims[name], &s) != nil {
			return ""
		}
		return strings.TrimSpace(s)
	}
	if is.cfg.UserNameClaim != "" {
		return str(is.cfg.UserNameClaim)
	}
	if s := str("preferred_username"); s != "" {
		return s
	}
	if raw, ok := claims["email_verified"]; ok {
		var b bool
		var s string
		if json.Unmarshal(raw, &b) == nil && !b || json.Unmarshal(raw, &s) == nil && s != "true" {
			return ""
		}
	}
	return str("email")
}
