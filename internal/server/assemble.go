package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/scimbridge/scimbridge/csvbridge"
	"github.com/scimbridge/scimbridge/csvbridge/csvhttp"
	"github.com/scimbridge/scimbridge/csvbridge/csvweb"
	"github.com/scimbridge/scimbridge/internal/auditapi"
	"github.com/scimbridge/scimbridge/internal/auth"
	"github.com/scimbridge/scimbridge/internal/authn"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/mailer"
	"github.com/scimbridge/scimbridge/internal/ratelimit"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/settingsapi"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/storemetrics"
	"github.com/scimbridge/scimbridge/internal/websession"
	"github.com/scimbridge/scimbridge/scim"
)

// Deps is what Assemble builds the server from.
type Deps struct {
	// Store is the opened, migrated store. Assemble wraps it with metrics;
	// the caller still owns it and closes it.
	Store store.Store
	// OIDC verifies the tokens of people and scripts; nil accepts
	// provisioning secrets only. Its discovery starts in the background.
	OIDC *auth.OIDCVerifier
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Registry receives the HTTP and store metrics and is served at
	// /metrics; nil makes a new one.
	Registry *prometheus.Registry
	// SCIM holds the SCIM handler's limits; Service and Logger are set by
	// Assemble.
	SCIM scim.Config
	// CSV configures the CSV bridge's import jobs (limits, chunk size,
	// lease, retention); the logger is set by Assemble.
	CSV []csvbridge.JobsOption
	// NoCSVWorker leaves import jobs queued: no worker runs in this
	// process (tests drive one themselves; a replica may serve only HTTP).
	NoCSVWorker bool
	// UI configures the web console under /ui.
	UI UIConfig
	// Mail configures the outbox's SMTP sender (mailer.Config; its Logger
	// defaults to Logger). With an empty URL no sender runs: messages stay
	// in the outbox, listed by GET /settings/outbox.
	Mail mailer.Config
	// RateLimit is the per-credential rate limit applied by the
	// authentication middleware. The zero value limits nobody (tests);
	// `scimbridge serve` starts from ratelimit.DefaultConfig.
	RateLimit ratelimit.Config
}

// UIConfig configures the web console (/ui).
type UIConfig struct {
	// OIDC is the console's client at the identity provider (sign-in with
	// authorization code + PKCE); nil offers no such sign-in. Its Verifier
	// is set to Deps.OIDC by Assemble.
	OIDC *websession.OIDC
	// SecretSignIn allows sign-in with an admin secret even when OIDC is
	// configured; without OIDC it is always allowed.
	SecretSignIn bool
	// SessionTTL is a session's lifetime (default websession.DefaultTTL).
	SessionTTL time.Duration
	// Now is the sessions' clock (tests); default time.Now.
	Now func() time.Time
}

// Server is an assembled server.
type Server struct {
	// Handler serves every endpoint.
	Handler http.Handler
	// Service is the directory service the front ends share.
	Service *directory.Service
	// Store is Deps.Store wrapped with metrics (closing it closes Deps.Store).
	Store store.Store
	// Registry is the metrics registry served at /metrics.
	Registry *prometheus.Registry
	// Jobs is the CSV bridge's import job service.
	Jobs *csvbridge.Jobs
	// worker is closed when the CSV import worker has stopped (at once
	// without one).
	worker chan struct{}
	// mail is closed when the outbox sender has stopped (at once without
	// one).
	mail chan struct{}
}

// Wait blocks until the background work that writes to the store (the CSV
// import worker) has stopped, which it does once Assemble's ctx ends. Call
// it before closing the store: a worker stopped mid-chunk then still
// releases its job's lease, so another replica takes the job over at once
// instead of after the lease.
func (s *Server) Wait() { <-s.worker; <-s.mail }

// Assemble builds the whole server: the directory service over the store,
// the authentication chain (provisioning secrets, and OIDC when
// configured), the one authentication middleware, every front end mounted
// behind it, and the operational endpoints. A new front end is added here
// once and is then served by `scimbridge serve`, the test server and the
// benchmark alike. Background work (OIDC discovery, the CSV import worker)
// stops when ctx ends; Wait waits for the worker.
func Assemble(ctx context.Context, d Deps) (*Server, error) {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	st, err := storemetrics.Wrap(d.Store, d.Registry)
	if err != nil {
		return nil, fmt.Errorf("store metrics: %w", err)
	}
	svc := directory.New(st, schema.New(), directory.WithLogger(d.Logger))
	d.SCIM.Service, d.SCIM.Logger = svc, d.Logger
	scimH := scim.New(d.SCIM)
	chain := auth.NewChain(d.OIDC, auth.NewAuthenticator(st))
	if d.OIDC != nil {
		go discover(ctx, d.OIDC, d.Logger)
	}
	sender, err := newMailer(st, d)
	if err != nil {
		return nil, err
	}
	limiter := ratelimit.New(d.RateLimit)
	if err := limiter.Register(d.Registry); err != nil {
		return nil, fmt.Errorf("rate limit metrics: %w", err)
	}
	jobs := csvbridge.NewJobs(svc, st, append(d.CSV, csvbridge.WithJobLogger(d.Logger))...)
	worker := make(chan struct{})
	if d.NoCSVWorker {
		close(worker)
	} else {
		go func() { defer close(worker); _ = jobs.Run(ctx) }()
	}
	csvH, auditH := csvhttp.New(jobs, d.Logger), auditapi.New(svc)
	ui, err := console(d, st, svc, jobs, csvH, auditH)
	if err != nil {
		return nil, err
	}
	mail := startMailer(ctx, sender)
	h := newRouter(config{
		frontEnds: []frontEnd{
			{prefix: scim.BasePath, handler: scimH},
			{prefix: "/audit", handler: auditH},
			{prefix: "/csv", handler: csvH},
			{prefix: "/settings", handler: settingsapi.New(svc, d.Logger)},
		},
		open:       []frontEnd{{prefix: csvweb.Base, handler: ui}},
		authn:      authn.Middleware(authn.Config{Auth: chain, Bind: svc, Refuse: scimH.WriteAuthError, Limit: limiter}),
		scimRoutes: scimH.Routes(),
		store:      st, logger: d.Logger, registry: d.Registry,
	})
	return &Server{Handler: h, Service: svc, Store: st, Registry: d.Registry, Jobs: jobs, worker: worker, mail: mail}, nil
}

// newMailer builds the outbox's SMTP sender when d.Mail names a server
// (nil otherwise).
func newMailer(st store.Store, d Deps) (*mailer.Sender, error) {
	if d.Mail.URL == "" {
		return nil, nil
	}
	if d.Mail.Logger == nil {
		d.Mail.Logger = d.Logger
	}
	return mailer.New(st, d.Mail)
}

// startMailer runs sender (if any) until ctx ends; the channel is closed
// when it has stopped.
func startMailer(ctx context.Context, sender *mailer.Sender) chan struct{} {
	done := make(chan struct{})
	if sender == nil {
		close(done)
		return done
	}
	go func() { defer close(done); _ = sender.Run(ctx) }()
	return done
}

// console builds the web console: sessions over the store, sign-in with
// the identity provider and/or an admin secret, the pages.
func console(d Deps, st store.Store, svc *directory.Service, jobs *csvbridge.Jobs, csvH, auditH http.Handler) (http.Handler, error) {
	ses := websession.Config{Store: st, Bind: svc, Base: csvweb.Base, TTL: d.UI.SessionTTL, Now: d.UI.Now,
		MaxForm: jobs.Limits().MaxBytes + 1<<20, Logger: d.Logger}
	if d.UI.OIDC != nil {
		if d.OIDC == nil {
			return nil, fmt.Errorf("the console's OIDC sign-in needs a trusted OIDC issuer (--oidc-issuer)")
		}
		d.UI.OIDC.Verifier = d.OIDC
		ses.OIDC = d.UI.OIDC
	}
	if d.UI.OIDC == nil || d.UI.SecretSignIn {
		ses.Secrets = auth.NewAuthenticator(st)
	}
	m, err := websession.New(ses)
	if err != nil {
		return nil, fmt.Errorf("console sessions: %w", err)
	}
	ui, err := csvweb.New(csvweb.Config{Sessions: m, Directory: svc, Jobs: jobs, CSV: csvH, Audit: auditH, Logger: d.Logger})
	if err != nil {
		return nil, fmt.Errorf("console pages: %w", err)
	}
	return ui, nil
}

// discover fetches the OIDC issuers' metadata early, so the first token
// does not wait for it; until it succeeds tokens are refused.
func discover(ctx context.Context, v *auth.OIDCVerifier, logger *slog.Logger) {
	if err := v.Discover(ctx); err != nil {
		logger.Warn("OIDC discovery failed; tokens are refused until it succeeds", "err", err)
	}
}
