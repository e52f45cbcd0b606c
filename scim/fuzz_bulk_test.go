package scim_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/auth"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/server"
	"github.com/scimbridge/scimbridge/internal/server/servertest"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/scim"
)

// FuzzBulk: any body POSTed to /Bulk of a real server over SQLite is
// answered with a SCIM body and a status below 500, and so is every
// operation inside a BulkResponse; the server never panics.
func FuzzBulk(f *testing.F) {
	st := servertest.Stores()["sqlite"](f)
	srv, err := server.Assemble(f.Context(), server.Deps{Store: st, NoCSVWorker: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), SCIM: scim.Config{BulkMaxOperations: 50, BulkMaxPayload: 1 << 16}})
	if err != nil {
		f.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler)
	f.Cleanup(hs.Close)
	token, err := auth.CreateSecret(context.Background(), st, store.DefaultTenant, "fuzz", policy.Tier3Engineering)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[{"method":"POST","path":"/Users","bulkId":"a","data":{"userName":"bulkfuzz"}}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := http.NewRequest("POST", hs.URL+scim.BasePath+"/Bulk", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", scim.MediaType)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		checkBulkAnswer(t, resp.StatusCode, b)
	})
}

func checkBulkAnswer(t *testing.T, status int, body []byte) {
	t.Helper()
	var m struct {
		Schemas    []string
		Operations []struct{ Status string }
	}
	if err := json.Unmarshal(body, &m); err != nil || len(m.Schemas) != 1 {
		t.Fatalf("status %d, not a SCIM body (%v): %.300s", status, err, body)
	}
	if status >= 500 {
		t.Fatalf("status %d: %.500s", status, body)
	}
	for i, op := range m.Operations {
		if op.Status == "" || op.Status[0] == '5' {
			t.Fatalf("operation %d: status %q: %.500s", i, op.Status, body)
		}
	}
}
