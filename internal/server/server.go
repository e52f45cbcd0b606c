// Package server assembles the HTTP surface of scimbridge: the SCIM handler
// under /scim/v2, the operational endpoints (/healthz, /readyz, /metrics)
// and the middleware every request passes through (request ids, structured
// logs, Prometheus metrics, panic recovery).
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
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/scim"
)

// Pinger reports readiness of the store.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Config wires the server.
type Config struct {
	SCIM *scim.Handler
	// Audit serves /audit (nil: not mounted).
	Audit    http.Handler
	Store    Pinger
	Logger   *slog.Logger
	Registry *prometheus.Registry
}

// New returns the root handler.
func New(cfg Config) http.Handler {
	m := newMetrics(cfg.Registry)
	r := chi.NewRouter()
	r.Use(requestID, logRequests(cfg.Logger, m), recoverPanics(cfg.Logger))
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { writeText(w, http.StatusOK, "ok\n") })
	r.Get("/readyz", readyz(cfg.Store))
	r.Handle("/metrics", promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{}))
	r.Mount(scim.BasePath, http.StripPrefix(scim.BasePath, cfg.SCIM))
	if cfg.Audit != nil {
		r.Mount("/audit", http.StripPrefix("/audit", cfg.Audit))
	}
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
			next.ServeHTTP(sw, r.WithContext(scim.WithPrincipalSlot(r.Context(), &p)))
			if sw.status == 0 {
				sw.status = http.StatusOK
			}
			elapsed := time.Since(start)
			route := routeLabel(r)
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
