package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/scimbridge/scimbridge/internal/auth"
	"github.com/scimbridge/scimbridge/internal/mailer"
	"github.com/scimbridge/scimbridge/internal/ratelimit"
	"github.com/scimbridge/scimbridge/internal/server"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/scim"
)

func cmdServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	addr := fs.String("addr", envOr("SCIMBRIDGE_ADDR", "127.0.0.1:8080"), "listen address (env SCIMBRIDGE_ADDR)")
	db := dbFlag(fs)
	baseURL := fs.String("base-url", envOr("SCIMBRIDGE_BASE_URL", ""), "public SCIM base URL for locations, e.g. https://scim.example.com/scim/v2 (env SCIMBRIDGE_BASE_URL; default: from the request)")
	logFormat := fs.String("log-format", envOr("SCIMBRIDGE_LOG_FORMAT", "json"), "log format: json or text (env SCIMBRIDGE_LOG_FORMAT)")
	maxBody := fs.Int64("max-body-bytes", 1<<20, "largest accepted SCIM request body")
	maxResults := fs.Int("max-results", 200, "largest list page")
	bulkOps := fs.Int("bulk-max-operations", 1000, "most operations in one /Bulk request (advertised as maxOperations)")
	bulkBytes := fs.Int64("bulk-max-payload-bytes", 1<<20, "largest /Bulk request body (advertised as maxPayloadSize)")
	oidcCfg := addOIDCFlags(fs)
	cursorKey := fs.String("cursor-key", envOr("SCIMBRIDGE_CURSOR_KEY", ""), "secret signing pagination cursors; the same on every replica (env SCIMBRIDGE_CURSOR_KEY; default: random per process)")
	csvF := addCSVFlags(fs)
	uiF := addUIFlags(fs)
	smtpURL := fs.String("smtp-url", envOr("SCIMBRIDGE_SMTP_URL", ""), "SMTP server delivering the outbox (account messages), e.g. smtp://mail.example.com:587 or smtps://user:password@host:465 (env SCIMBRIDGE_SMTP_URL; default: none, messages stay in the outbox)")
	smtpFrom := fs.String("smtp-from", envOr("SCIMBRIDGE_SMTP_FROM", ""), "sender address for tenants whose notification settings give none (env SCIMBRIDGE_SMTP_FROM; default scimbridge@localhost)")
	if err := csvFromEnv(fs); err != nil {
		return err
	}
	rate := addRateLimitFlags(fs)
	if err := rateFromEnv(fs); err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	csvCfg, err := csvF.config()
	if err != nil {
		return err
	}
	issuers, err := oidcCfg.issuers()
	if err != nil {
		return err
	}
	uiCfg, err := uiF.config(issuers)
	if err != nil {
		return err
	}
	logger := newLogger(*logFormat, stderr)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	return serve(ctx, ln, serveConfig{db: *db, baseURL: *baseURL, maxBody: *maxBody, maxResults: *maxResults, cursorKey: *cursorKey,
		bulkMaxOps: *bulkOps, bulkMaxBytes: *bulkBytes, issuers: issuers, csv: csvCfg, ui: uiCfg, rate: *rate,
		mail: mailer.Config{URL: *smtpURL, From: *smtpFrom}}, logger)
}

type serveConfig struct {
	db         string
	baseURL    string
	maxBody    int64
	maxResults int
	cursorKey  string
	// bulkMaxOps and bulkMaxBytes are the /Bulk limits.
	bulkMaxOps   int
	bulkMaxBytes int64
	// issuers are the trusted OIDC issuers (none: secrets only).
	issuers []auth.OIDCIssuer
	// csv configures the CSV bridge's import jobs and worker.
	csv csvConfig
	// ui configures the web console's sign-in.
	ui server.UIConfig
	// mail configures the outbox's SMTP sender (no URL: none).
	mail mailer.Config
	// rate is the per-credential rate limit (zero: none).
	rate ratelimit.Config
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, nil))
	}
	return slog.New(slog.NewJSONHandler(w, nil))
}

// serve runs the server on ln until ctx ends, then shuts down gracefully.
func serve(ctx context.Context, ln net.Listener, cfg serveConfig, logger *slog.Logger) error {
	handler, closeStore, err := buildHandler(ctx, cfg, logger)
	if err != nil {
		ln.Close()
		return err
	}
	defer closeStore()
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("scimbridge listening", "addr", ln.Addr().String(), "db", redact(cfg.db))
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// buildHandler opens the store and assembles the server on it. The
// returned function stops the server's background work (the CSV import
// worker, which also stops when ctx ends), waits for it, so that a job
// it was working on is released rather than left to its lease, and closes
// the store.
func buildHandler(ctx context.Context, cfg serveConfig, logger *slog.Logger) (http.Handler, func(), error) {
	st, err := openStore(ctx, cfg.db)
	if err != nil {
		return nil, nil, err
	}
	bgCtx, stop := context.WithCancel(ctx)
	srv, err := assemble(bgCtx, st, cfg, logger)
	if err != nil {
		stop()
		st.Close()
		return nil, nil, err
	}
	return srv.Handler, func() { stop(); srv.Wait(); st.Close() }, nil
}

// assemble builds the server on the opened store (server.Assemble).
func assemble(ctx context.Context, st store.Store, cfg serveConfig, logger *slog.Logger) (*server.Server, error) {
	oidcV, err := oidcVerifier(cfg.issuers, logger)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return server.Assemble(ctx, server.Deps{Store: st, OIDC: oidcV, Logger: logger, Registry: reg,
		SCIM: scim.Config{MaxBodyBytes: cfg.maxBody, MaxResults: cfg.maxResults, BaseURL: cfg.baseURL, CursorKey: []byte(cfg.cursorKey),
			BulkMaxOperations: cfg.bulkMaxOps, BulkMaxPayload: cfg.bulkMaxBytes},
		CSV: cfg.csv.jobsOptions(), NoCSVWorker: cfg.csv.noWorker, UI: cfg.ui, Mail: cfg.mail,
		RateLimit: cfg.rate})
}
