// Package servertest runs a complete scimbridge HTTP server on an httptest
// listener for tests, over either store backend, with a real provisioning
// secret, and offers small helpers to call it.
package servertest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/auth"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/server"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/scim"
)

// Env is a running server.
type Env struct {
	URL   string // server root, e.g. http://127.0.0.1:PORT
	Token string // a tier-3 provisioning secret of the default tenant
	Store store.Store
	// IdP issues OIDC tokens the server trusts (persons and scripts of the
	// default tenant).
	IdP *IdP
}

// Backends returns an opener per store backend, keyed by name (Stores,
// for tests).
func Backends() map[string]func(t *testing.T) store.Store {
	out := map[string]func(t *testing.T) store.Store{}
	for name, open := range Stores() {
		out[name] = func(t *testing.T) store.Store { return open(t) }
	}
	return out
}

// ForEachBackend runs fn as a subtest per backend, each with its own server.
func ForEachBackend(t *testing.T, fn func(t *testing.T, e *Env)) {
	for name, open := range Backends() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, New(t, open(t), scim.Config{}))
		})
	}
}

// New starts a server over st, assembled as `scimbridge serve` assembles
// it (server.Assemble), with cfg's limits and an OIDC test issuer.
func New(t *testing.T, st store.Store, cfg scim.Config) *Env {
	t.Helper()
	return NewWith(t, server.Deps{Store: st, SCIM: cfg})
}

// NewWith is New with more of the server's dependencies set (CSV job
// options, ...); OIDC is set here, and Logger unless d sets one (logs are
// discarded by default).
func NewWith(t *testing.T, d server.Deps) *Env {
	t.Helper()
	return newWith(t, d, newIdP(t))
}

// NewConsole is NewWith with the web console's OIDC sign-in (authorization
// code + PKCE) pointed at the test issuer; secretSignIn also keeps the
// admin-secret form.
func NewConsole(t *testing.T, d server.Deps, secretSignIn bool) *Env {
	t.Helper()
	idp := newIdP(t)
	d.UI.OIDC, d.UI.SecretSignIn = idp.ConsoleClient(), secretSignIn
	return newWith(t, d, idp)
}

func newWith(t *testing.T, d server.Deps, idp *IdP) *Env {
	t.Helper()
	d.OIDC = idp.verifier(t)
	if d.Logger == nil {
		d.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv, err := server.Assemble(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler)
	t.Cleanup(hs.Close)
	st := d.Store
	e := &Env{URL: hs.URL, Store: st, IdP: idp}
	e.Token = e.NewToken(t, store.DefaultTenant, "test-admin", policy.Tier3Engineering)
	return e
}

// NewToken creates a provisioning secret.
func (e *Env) NewToken(t *testing.T, tenant, name string, tier policy.Tier) string {
	t.Helper()
	secret, err := auth.CreateSecret(context.Background(), e.Store, tenant, name, tier)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// Response is a finished response with its body read.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a generic map (numbers as json.Number).
func (r *Response) JSON(t *testing.T) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("response is not a JSON object (%v): %s", err, r.Body)
	}
	return m
}

// Do sends a request with the default token, path relative to the SCIM
// base unless it starts with "/". Extra headers come in name, value pairs;
// an "Authorization" pair replaces the default token ("" sends none).
func (e *Env) Do(t *testing.T, method, path, body string, headers ...string) *Response {
	t.Helper()
	url := e.URL + scim.BasePath + "/" + path
	if strings.HasPrefix(path, "/") {
		url = e.URL + path
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.Token)
	if body != "" {
		req.Header.Set("Content-Type", scim.MediaType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
		if headers[i] == "Authorization" && headers[i+1] == "" {
			req.Header.Del("Authorization")
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Must fails the test unless the response has the wanted status.
func (r *Response) Must(t *testing.T, status int) *Response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body: %s", r.Status, status, r.Body)
	}
	return r
}

// MustError checks an RFC 7644 error body: status as a string, the given
// scimType (may be ""), and a non-empty detail.
func (r *Response) MustError(t *testing.T, status int, scimType string) map[string]any {
	t.Helper()
	r.Must(t, status)
	m := r.JSON(t)
	if m["status"] != strconv.Itoa(status) {
		t.Fatalf("error status field %v (%T), want the string %q", m["status"], m["status"], strconv.Itoa(status))
	}
	if got, _ := m["scimType"].(string); got != scimType {
		t.Fatalf("scimType %q, want %q; body %s", got, scimType, r.Body)
	}
	if d, _ := m["detail"].(string); d == "" {
		t.Fatalf("error without detail: %s", r.Body)
	}
	if s, _ := m["schemas"].([]any); len(s) != 1 || s[0] != "urn:ietf:params:scim:api:messages:2.0:Error" {
		t.Fatalf("error schemas: %s", r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != scim.MediaType {
		t.Fatalf("error Content-Type %q", ct)
	}
	return m
}
