package server_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/scimbridge/scimbridge/internal/auditapi"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/server"
	"github.com/scimbridge/scimbridge/internal/server/servertest"
	"github.com/scimbridge/scimbridge/internal/settingsapi"
	"github.com/scimbridge/scimbridge/scim"
)

// TestEveryFrontEndIsInTheAuthenticationTable: each front end Assemble
// mounts is called by TestHardening_DeactivatedPersonRefusedEverywhere, so
// a new front end cannot be added without proving it refuses alike.
func TestEveryFrontEndIsInTheAuthenticationTable(t *testing.T) {
	srv, err := server.Assemble(t.Context(), server.Deps{Store: servertest.Backends()["sqlite"](t),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	routes, ok := srv.Handler.(chi.Routes)
	if !ok {
		t.Fatalf("the assembled handler is a %T, not a chi router", srv.Handler)
	}
	mounts := map[string]bool{}
	err = chi.Walk(routes, func(_, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if prefix, ok := strings.CutSuffix(route, "/*"); ok {
			mounts[prefix] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !mounts[scim.BasePath] || !mounts["/audit"] {
		t.Fatalf("front ends mounted: %v", mounts)
	}
	for prefix := range mounts {
		if _, ok := sessionFrontEnds[prefix]; ok {
			continue
		}
		covered := false
		for _, c := range frontEndCalls {
			covered = covered || strings.HasPrefix(c.path, prefix+"/")
		}
		if !covered {
			t.Errorf("front end %s is not in frontEndCalls", prefix)
		}
	}
}

// sessionFrontEnds authenticate with the web console's session cookie,
// not the Authorization header, and name the test proving that they sign
// out a deactivated person and refuse requests without a session.
var sessionFrontEnds = map[string]string{"/ui": "TestConsole_DeactivatedPersonIsSignedOut"}

// TestAssembleServesOperationalEndpoints: /healthz, /readyz and /metrics
// answer without credentials.
func TestAssembleServesOperationalEndpoints(t *testing.T) {
	srv, err := server.Assemble(t.Context(), server.Deps{Store: servertest.Backends()["sqlite"](t),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		rec := httptest.NewRecorder()
		srv.Handler.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != http.StatusOK {
			t.Errorf("%s: status %d", path, rec.Code)
		}
	}
}

// TestFrontEndsFailClosedWithoutTheMiddleware: a front end mounted without
// the authentication middleware answers 401, never the resource.
func TestFrontEndsFailClosedWithoutTheMiddleware(t *testing.T) {
	svc := directory.New(servertest.Backends()["sqlite"](t), schema.New())
	for path, h := range map[string]http.Handler{
		"/ServiceProviderConfig": scim.New(scim.Config{Service: svc, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}),
		"/events":                auditapi.New(svc),
		"/":                      settingsapi.New(svc, slog.New(slog.NewTextHandler(io.Discard, nil))),
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("%T %s without authentication: status %d", h, path, rec.Code)
		}
	}
}
