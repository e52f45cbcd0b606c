// Package scim serves SCIM 2.0 (RFC 7644) over HTTP: routes, wire JSON,
// list parameters, discovery endpoints and RFC 7644 error bodies. It is thin:
// every rule lives in internal/directory; this package decodes requests,
// calls the service and renders what it returns.
package scim

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/scimbridge/scimbridge/internal/auth"
	"github.com/scimbridge/scimbridge/internal/authn"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
)

// MediaType is the SCIM media type of every response body.
const MediaType = "application/scim+json"

// Config holds the limits and collaborators of the SCIM handler.
type Config struct {
	Service *directory.Service
	Logger  *slog.Logger
	// MaxBodyBytes caps request bodies (default 1 MiB).
	MaxBodyBytes int64
	// MaxResults caps list page sizes (default 200).
	MaxResults int
	// BulkMaxOperations and BulkMaxPayload are the /Bulk limits (defaults
	// 1000 operations and 1 MiB), advertised in ServiceProviderConfig.
	BulkMaxOperations int
	BulkMaxPayload    int64
	// CursorKey signs pagination cursors; replicas behind one load
	// balancer need the same key. Empty: a random key per process.
	CursorKey []byte
	// CursorTTL is how long a cursor stays valid (default 1h).
	CursorTTL time.Duration
	// BaseURL, when set, is the public URL of the SCIM base
	// (https://host/scim/v2) used in locations and $ref; otherwise it is
	// derived from the request.
	BaseURL string
}

// Handler is the SCIM HTTP handler, mounted at the SCIM base path behind
// the authentication middleware (internal/authn), whose principal it
// reads; it does not authenticate on its own.
type Handler struct {
	cfg     Config
	svc     *directory.Service
	cursors cursors
	router  chi.Router
}

// New builds the handler.
func New(cfg Config) *Handler {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.MaxResults <= 0 {
		cfg.MaxResults = 200
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.BulkMaxOperations <= 0 {
		cfg.BulkMaxOperations = 1000
	}
	if cfg.BulkMaxPayload <= 0 {
		cfg.BulkMaxPayload = 1 << 20
	}
	if cfg.CursorTTL <= 0 {
		cfg.CursorTTL = time.Hour
	}
	h := &Handler{cfg: cfg, svc: cfg.Service, cursors: newCursors(cfg.CursorKey, cfg.CursorTTL)}
	h.router = h.routes()
	return h
}

// ServeHTTP normalises the endpoint name and dispatches. Routing starts
// afresh from r.URL.Path (relative to the SCIM base), whatever router the
// handler is mounted in.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r = canonicalPath(r)
	ctx := context.WithValue(r.Context(), chi.RouteCtxKey, chi.NewRouteContext())
	h.router.ServeHTTP(w, r.WithContext(ctx))
}

func (h *Handler) routes() chi.Router {
	r := chi.NewRouter()
	r.Use(h.requirePrincipal)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		h.writeError(w, r, errNoEndpoint(r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		h.writeError(w, r, errMethod(r.Method, r.URL.Path))
	})
	r.Get("/ServiceProviderConfig", h.serviceProviderConfig)
	r.Get("/Schemas", h.discoveryList(h.schemaItems))
	r.Get("/Schemas/{id}", h.discoveryOne("Schema", h.schemaItems))
	r.Get("/ResourceTypes", h.discoveryList(h.resourceTypeItems))
	r.Get("/ResourceTypes/{id}", h.discoveryOne("Resource type", h.resourceTypeItems))
	h.resourceRoutes(r, "/Users", userOps(h.svc))
	h.resourceRoutes(r, "/Groups", groupOps(h.svc))
	r.Post("/.search", h.rootSearch)
	r.Post("/Bulk", h.bulk)
	r.Get("/Me", h.me)
	return r
}

func principal(r *http.Request) policy.Principal {
	p, _ := authn.Principal(r.Context())
	return p
}

// requirePrincipal fails closed: a request that did not pass through the
// authentication middleware (internal/authn) gets a 401, never an answer.
func (h *Handler) requirePrincipal(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := authn.Principal(r.Context()); !ok {
			h.WriteAuthError(w, r, &auth.Error{Reason: "the request was not authenticated"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// WriteAuthError answers a request the authentication middleware refused,
// as an RFC 7644 error: a refused credential (*auth.Error) is a 401 with
// WWW-Authenticate and the reason as detail; anything else (a deactivated
// person's 403, a store failure) is rendered as any other error. It is the
// authn.Refuser of every front end, so they all refuse alike.
func (h *Handler) WriteAuthError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *auth.Error
	if errors.As(err, &ae) {
		err = unauthorized(ae)
	}
	h.writeError(w, r, err)
}

func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// me is GET /Me: the authenticated person's own user (RFC 7644 §3.11).
// /Me is read-only here; changes go through /Users with the needed tier.
func (h *Handler) me(w http.ResponseWriter, r *http.Request) {
	res, err := h.svc.Me(r.Context(), principal(r))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.writeResource(w, r, http.StatusOK, res, queryProjection(res.Type, r))
}

// Routes lists every route as "METHOD /path" (for the authorisation
// matrix test, which must cover each one).
func (h *Handler) Routes() []string {
	var out []string
	_ = chi.Walk(h.router, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		out = append(out, method+" "+strings.TrimSuffix(route, "/"))
		return nil
	})
	return out
}
