package apiwire_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/apiwire"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/store"
)

// TestFail: a SCIM error keeps its status and words; a busy store and a
// cancelled request are 503 with Retry-After; anything else is 500 without
// its text. Every body is a SCIM error as application/scim+json.
func TestFail(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name   string
		ctx    context.Context
		err    error
		status int
		detail string
	}{
		{"scim error", context.Background(), apiwire.Problem(http.StatusBadRequest, "invalidValue", "Bad %s.", "cell"), 400, "Bad cell."},
		{"busy store", context.Background(), fmt.Errorf("list: %w", store.ErrUnavailable), 503, "The database is unavailable"},
		{"cancelled", cancelled, errors.New("context canceled"), 503, "cancelled or timed out"},
		{"unexpected", context.Background(), errors.New("pq: secret table exploded"), 500, "An internal error occurred"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			r := httptest.NewRequestWithContext(c.ctx, "GET", "/csv/x", nil)
			apiwire.Fail(w, r, slog.New(slog.NewTextHandler(io.Discard, nil)), "test", c.err)
			if w.Code != c.status || w.Header().Get("Content-Type") != apiwire.ErrorMediaType {
				t.Fatalf("status %d, type %q", w.Code, w.Header().Get("Content-Type"))
			}
			var body map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if d, _ := body["detail"].(string); !strings.Contains(d, c.detail) || strings.Contains(d, "secret table") {
				t.Errorf("detail %q, want it to contain %q and no internal text", d, c.detail)
			}
			wantRetry := ""
			if c.status == 503 {
				wantRetry = strconv.Itoa(directory.RetryAfterSeconds)
			}
			if got := w.Header().Get("Retry-After"); got != wantRetry {
				t.Errorf("Retry-After %q, want %q", got, wantRetry)
			}
		})
	}
}
