// Package server assembles the HTTP surface of scimbridge (Assemble, used
// by the serve command, the test server and the benchmark alike): the
// front ends (SCIM under /scim/v2, the audit log under /audit, the CSV
// bridge under /csv, tenant settings under /settings) behind one
// authentication middleware (internal/authn), the operational endpoints
// (/healthz, /readyz, /metrics) and the middleware every request passes
// through (request ids, structured logs, Prometheus metrics, panic
// recovery).
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/scimbridge/scimbridge/internal/authn"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/scim"
)

// Pinger reports readiness of the store.
type Pinger interface {
	Ping(ctx context.Context) error
}

// frontEnd is a handler mounted at a path prefix behind the
// authentication middleware.
type frontEnd struct {
	prefix  string
	handler http.Handler
}

// config is what the router is built from.
type config struct {
	frontEnds  []frontEnd
	authn      func(http.Handler) http.Handler
	scimRoutes []string
	store      Pinger
	logger     *slog.Logger
	registry   *prometheus.Registry
}

// newRouter returns the root handler: operational endpoints open to all,
// every front end behind the one authentication middleware.
func newRouter(cfg config) http.Handler {
	m := newMetrics(cfg.registry, cfg.scimRoutes)
	r := chi.NewRouter()
	r.Use(requestID, logRequests(cfg.logger, m), recoverPanics(cfg.logger))
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { writeText(w, http.StatusOK, "ok\n") })
	r.Get("/readyz", readyz(cfg.store))
	r.Handle("/metrics", promhttp.HandlerFor(cfg.registry, promhttp.HandlerOpts{}))
	r.Group(func(r chi.Router) {
		r.Use(cfg.authn)
		for _, fe := range cfg.frontEnds {
			r.Mount(fe.prefix, http.StripPrefix(fe.prefix, fe.handler))
		}
	})
	return r
}

func readyz(p Pinger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := p.Ping(ctx); err != nil {
			writeText(w, http.StatusServiceUnavailable, "store not ready\n")
			return
		}
		writeText(w, http.StatusOK, "ready\n")
	}
}

func writeText(w http.ResponseWriter, status int, s string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(s))
}

type requestIDKey struct{}

// RequestID returns the id of the request being served.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// requestID takes X-Request-Id from the client when it looks sane, or makes
// one, and echoes it in the response.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if len(id) == 0 || len(id) > 128 {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-Id", id)
		ctx := directory.WithRequest(context.WithValue(r.Context(), requestIDKey{}, id), directory.SourceSCIM, id)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func logRequests(logger *slog.Logger, m *metrics) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			var p policy.Principal
			sw := &statusWriter{ResponseWriter: w}
			next.ServeHTTP(sw, r.WithContext(authn.WithRecorder(r.Context(), &p)))
			if sw.status == 0 {
				sw.status = http.StatusOK
			}
			elapsed := time.Since(start)
			route := m.routeLabel(r, scim.BasePath)
			m.observe(route, r.Method, sw.status, elapsed)
			logger.LogAttrs(r.Context(), levelFor(sw.status), "request",
				slog.String("request_id", RequestID(r.Context())), slog.String("method", r.Method),
				slog.String("path", r.URL.Path), slog.String("route", route), slog.Int("status", sw.status),
				slog.Int("bytes", sw.bytes), slog.Duration("duration", elapsed),
				slog.String("tenant", p.Tenant), slog.String("subject", p.Subject))
		})
	}
}

func levelFor(status int) slog.Level {
	if status >= 500 {
		return slog.LevelError
	}
	return slog.LevelInfo
}

func recoverPanics(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					logger.ErrorContext(r.Context(), "panic", "request_id", RequestID(r.Context()), "panic", fmt.Sprint(v))
					w.Header().Set("Content-Type", scim.MediaType)
					w.WriteHeader(http.StatusInternalServerError)
					_, _ = w.Write([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"500","detail":"An internal error occurred; it has been logged."}`))
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}
