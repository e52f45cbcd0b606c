package csvbridge_test

import (
	"context"
	"encoding/csv"
	"slices"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/csvbridge"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

// TestExportOrganisationFields: the scim profile's default columns end
// with the tenant's organisation fields, which can also be named and
// filtered on, on both stores.
func TestExportOrganisationFields(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newJobEnv(t, open(t))
		ctx := context.Background()
		if _, err := e.dir.UpdateSettings(ctx, engineer, func(ts *directory.TenantSettings) error {
			ts.OrgFields = []directory.OrgField{{Name: "costCenter", Type: "string"}, {Name: "fte", Type: "decimal"}}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for name, org := range map[string]map[string]any{"ann": {"costCenter": "CC-1", "fte": "0.5"}, "bob": {"costCenter": "CC-2"}} {
			if _, err := e.dir.CreateUser(ctx, engineer, map[string]any{"userName": name, schema.OrgURN: org}); err != nil {
				t.Fatal(err)
			}
		}
		file, n := e.export(t, engineer, csvbridge.ExportRequest{Filter: schema.OrgURN + `:fte gt 0.25`, NoBOM: true})
		rows, err := csv.NewReader(strings.NewReader(file)).ReadAll()
		if err != nil || n != 1 || len(rows) != 2 {
			t.Fatalf("export (%d rows, %v):\n%s", n, err, file)
		}
		header := rows[0]
		cc, fte := slices.Index(header, schema.OrgURN+":costCenter"), slices.Index(header, schema.OrgURN+":fte")
		if cc < 0 || fte != len(header)-1 || rows[1][cc] != "CC-1" || rows[1][fte] != "0.5" {
			t.Fatalf("header %v, row %v", header, rows[1])
		}
		file, _ = e.export(t, engineer, csvbridge.ExportRequest{Attributes: []string{"userName", schema.OrgURN + ":costCenter"}, SortBy: "userName", NoBOM: true, LF: true})
		if !strings.HasSuffix(file, "ann,CC-1\nbob,CC-2\n") {
			t.Fatalf("named columns:\n%s", file)
		}
	})
}

// TestImportOrganisationFields: a scim-profile file with an organisation
// field column imports it (validated by type) for a tenant that has the
// field.
func TestImportOrganisationFields(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newJobEnv(t, open(t))
		if _, err := e.dir.UpdateSettings(context.Background(), engineer, func(ts *directory.TenantSettings) error {
			ts.OrgFields = []directory.OrgField{{Name: "hireDate", Type: "date"}}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		col := schema.OrgURN + ":hireDate"
		v := e.commit(t, e.submit(t, csvbridge.ProfileSCIM, "userName,"+col+"\nann,2024-01-31\nbob,31/01/2024\n").ID)
		wantCounts(t, v, map[string]int{"total": 2, "create": 1, "error": 1})
		l, err := e.dir.ListUsers(context.Background(), engineer, directory.ListQuery{Filter: col + ` eq "2024-01-31"`, Count: 5})
		if err != nil || l.Total != 1 {
			t.Fatalf("imported organisation field: %+v, %v", l, err)
		}
	})
}
