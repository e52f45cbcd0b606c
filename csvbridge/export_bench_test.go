package csvbridge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/scimbridge/scimbridge/csvbridge"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/server/servertest"
	"github.com/scimbridge/scimbridge/internal/store"
)

// loadUsers creates n users straight through the store, 1,000 per call.
func loadUsers(tb testing.TB, st store.Store, n int) {
	tb.Helper()
	reg := schema.New()
	now := time.Now().UTC().Truncate(time.Microsecond)
	for lo := 0; lo < n; lo += 1000 {
		batch := make([]store.User, 0, 1000)
		for i := lo; i < min(n, lo+1000); i++ {
			doc, err := reg.User.Normalize(map[string]any{
				"schemas": []any{schema.UserURN}, "userName": fmt.Sprintf("user%07d@example.com", i),
				"externalId": fmt.Sprintf("ext-%07d", i), "displayName": fmt.Sprintf("User %d", i), "title": "Engineer", "active": true,
				"name":               map[string]any{"givenName": fmt.Sprintf("Given%d", i), "familyName": "Family"},
				"emails":             []any{map[string]any{"type": "work", "value": fmt.Sprintf("user%07d@example.com", i), "primary": true}},
				"roles":              []any{map[string]any{"value": "reader"}, map[string]any{"value": "writer"}},
				schema.EnterpriseURN: map[string]any{"department": fmt.Sprintf("Dept %d", i%50)},
			})
			if err != nil {
				tb.Fatal(err)
			}
			u, err := directory.UserRecord(doc)
			if err != nil {
				tb.Fatal(err)
			}
			if u.Doc, err = json.Marshal(doc); err != nil {
				tb.Fatal(err)
			}
			u.TenantID, u.ID, u.Created, u.LastModified, u.Version = store.DefaultTenant, uuid.NewString(), now, now, 1
			batch = append(batch, u)
		}
		if _, err := st.CreateUsers(tb.Context(), batch); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkExport exports SCIMBRIDGE_BENCH_ROWS users (default 100,000)
// with the scim profile into io.Discard, at the Go level (no HTTP): the
// exporter's share of `scimbridge bench csv-export`. Run with
// -benchtime=1x and -cpuprofile to see where an export spends its time.
func BenchmarkExport(b *testing.B) {
	n := benchRows(b)
	for _, backend := range []string{"postgres", "sqlite"} {
		b.Run(backend, func(b *testing.B) {
			st := servertest.Stores()[backend](b)
			loadUsers(b, st, n)
			dir := directory.New(st, schema.New(), directory.WithLogger(quiet))
			p := policy.Principal{Tenant: store.DefaultTenant, Subject: "bench", Kind: policy.KindProvisioner, Tier: policy.Tier0HelpDesk}
			b.ResetTimer()
			for b.Loop() {
				x, err := csvbridge.NewExporter(dir, nil).Prepare(context.Background(), p, csvbridge.ExportRequest{})
				if err != nil {
					b.Fatal(err)
				}
				rows, err := x.Write(b.Context(), io.Discard, nil)
				if err != nil || rows != n {
					b.Fatalf("export: %d rows, %v", rows, err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
