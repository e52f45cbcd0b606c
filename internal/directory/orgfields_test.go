package directory_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

var orgFields = []directory.OrgField{
	{Name: "costCenter", Type: "string"}, {Name: "hireDate", Type: "date"}, {Name: "fte", Type: "decimal"},
	{Name: "headcount", Type: "integer"}, {Name: "remote", Type: "boolean"},
}

func setOrgFields(t *testing.T, s *directory.Service, fields []directory.OrgField) {
	t.Helper()
	if _, err := s.UpdateSettings(context.Background(), admin, func(ts *directory.TenantSettings) error {
		ts.OrgFields = fields
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func orgUser(name string, org map[string]any) map[string]any {
	return map[string]any{"userName": name, schema.OrgURN: org}
}

func userNames(t *testing.T, l *directory.List) []string {
	t.Helper()
	var out []string
	for _, r := range l.Resources {
		doc, err := r.Document()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, doc["userName"].(string))
	}
	slices.Sort(out)
	return out
}

// TestOrgFieldsSchemaPerTenant: the organisation extension exists only in
// the views of tenants that have fields, tenants without share the base
// registry, and a settings change shows at once.
func TestOrgFieldsSchemaPerTenant(t *testing.T) {
	forEachStore(t, nil, func(t *testing.T, s *directory.Service, st store.Store) {
		ctx := context.Background()
		reg, err := s.TenantRegistry(ctx, admin)
		if err != nil || reg != s.Registry() {
			t.Fatalf("a tenant without fields: %p, %v; want the base registry %p", reg, err, s.Registry())
		}
		setOrgFields(t, s, orgFields)
		reg, err = s.TenantRegistry(ctx, admin)
		if err != nil {
			t.Fatal(err)
		}
		ext, ok := reg.User.Extension(schema.OrgURN)
		if !ok || len(ext.Schema.Attributes) != len(orgFields) {
			t.Fatalf("organisation extension = %+v, %v", ext, ok)
		}
		if _, ok := s.Registry().User.Extension(schema.OrgURN); ok {
			t.Fatal("the base registry gained the tenant's extension")
		}
		if again, _ := s.TenantRegistry(ctx, admin); again != reg {
			t.Fatal("the tenant's view is rebuilt on every call")
		}
		if err := st.CreateTenant(ctx, "acme", time.Now()); err != nil {
			t.Fatal(err)
		}
		acme := policy.Principal{Tenant: "acme", Subject: "a", Kind: policy.KindProvisioner, Tier: policy.Tier3Engineering}
		if other, _ := s.TenantRegistry(ctx, acme); other != s.Registry() {
			t.Fatal("another tenant sees the organisation fields")
		}
		setOrgFields(t, s, nil)
		if reg, _ := s.TenantRegistry(ctx, admin); reg != s.Registry() {
			t.Fatal("removing the fields did not take effect at once")
		}
	})
}

func TestOrgFieldsValidatedByType(t *testing.T) {
	forEachStore(t, nil, func(t *testing.T, s *directory.Service, _ store.Store) {
		ctx := context.Background()
		setOrgFields(t, s, orgFields)
		bad := map[string]map[string]any{
			"hireDate":  {"hireDate": "31/01/2024"},
			"hireDate2": {"hireDate": "2024-02-30"},
			"fte":       {"fte": "0,5"},
			"headcount": {"headcount": json.Number("1.5")},
			"remote":    {"remote": "maybe"},
			"cost":      {"costCenter": 12},
		}
		for name, org := range bad {
			_, err := s.CreateUser(ctx, admin, orgUser("bad-"+name, org))
			wantStatus(t, name, err, http.StatusBadRequest)
		}
		r, err := s.CreateUser(ctx, admin, orgUser("good", map[string]any{"costcenter": "CC-1", "hireDate": "2024-01-31",
			"fte": "0.50", "headcount": json.Number("3"), "remote": "True", "unknown": "dropped"}))
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.GetUser(ctx, admin, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := got.Document()
		org, _ := doc[schema.OrgURN].(map[string]any)
		want := map[string]any{"costCenter": "CC-1", "hireDate": "2024-01-31", "fte": json.Number("0.50"), "headcount": json.Number("3"), "remote": true}
		if len(org) != len(want) {
			t.Fatalf("stored organisation fields = %v, want %v", org, want)
		}
		for k, v := range want {
			if org[k] != v {
				t.Errorf("%s = %#v, want %#v", k, org[k], v)
			}
		}
		if _, ok := got.Type.Extension(schema.OrgURN); !ok {
			t.Error("the resource's type lacks the organisation extension (it would render without its schema URN)")
		}
		patched, err := s.PatchUser(ctx, admin, r.ID, []directory.PatchOp{{Op: "replace", Path: schema.OrgURN + ":hireDate", Value: "2025-06-01"}}, directory.Precondition{})
		if err != nil {
			t.Fatal(err)
		}
		if doc, _ := patched.Document(); doc[schema.OrgURN].(map[string]any)["hireDate"] != "2025-06-01" {
			t.Fatalf("patched = %v", doc)
		}
		_, err = s.PatchUser(ctx, admin, r.ID, []directory.PatchOp{{Op: "replace", Path: schema.OrgURN + ":hireDate", Value: "June 1st"}}, directory.Precondition{})
		wantStatus(t, "patch with a bad date", err, http.StatusBadRequest)
	})
}

func TestOrgFieldsFilter(t *testing.T) {
	forEachStore(t, nil, func(t *testing.T, s *directory.Service, _ store.Store) {
		ctx := context.Background()
		setOrgFields(t, s, orgFields)
		for name, org := range map[string]map[string]any{
			"ann": {"costCenter": "CC-1", "hireDate": "2023-05-01", "remote": true},
			"bob": {"costCenter": "cc-1", "hireDate": "2024-03-15", "remote": false},
			"cid": {"costCenter": "CC-2", "hireDate": "2025-01-10"},
			"dan": {},
		} {
			if _, err := s.CreateUser(ctx, admin, orgUser(name, org)); err != nil {
				t.Fatal(err)
			}
		}
		u := schema.OrgURN
		cases := map[string][]string{
			u + `:costCenter eq "CC-1"`:                                   {"ann", "bob"}, // strings compare case-insensitively
			u + `:hireDate gt "2024-01-01"`:                               {"bob", "cid"},
			u + `:hireDate le "2024-03-15" and ` + u + `:remote eq false`: {"bob"},
			u + `:remote eq true`:                                         {"ann"},
			u + `:costCenter pr`:                                          {"ann", "bob", "cid"},
			`not (` + u + `:costCenter pr)`:                               {"dan"},
			u + `:costCenter sw "CC-2"`:                                   {"cid"},
		}
		for f, want := range cases {
			l, err := s.ListUsers(ctx, admin, directory.ListQuery{Filter: f, Count: 50})
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if got := userNames(t, l); !slices.Equal(got, want) {
				t.Errorf("%s: %v, want %v", f, got, want)
			}
		}
		l, err := s.ListUsers(ctx, admin, directory.ListQuery{SortBy: u + ":hireDate", Count: 2})
		if err != nil || len(l.Resources) != 2 {
			t.Fatalf("sort by hireDate: %v", err)
		}
		_, err = s.ListUsers(ctx, admin, directory.ListQuery{Filter: u + `:nosuch eq "x"`})
		wantStatus(t, "unknown organisation field", err, http.StatusBadRequest)
		setOrgFields(t, s, nil)
		_, err = s.ListUsers(ctx, admin, directory.ListQuery{Filter: u + `:costCenter eq "CC-1"`})
		wantStatus(t, "filter on a removed field", err, http.StatusBadRequest)
	})
}

// TestOrgFieldsNumbers: integer and decimal fields compare as numbers
// (not as text: 10 > 9) and sort, on both stores.
func TestOrgFieldsNumbers(t *testing.T) {
	forEachStore(t, nil, func(t *testing.T, s *directory.Service, _ store.Store) {
		ctx := context.Background()
		setOrgFields(t, s, orgFields)
		for name, org := range map[string]map[string]any{
			"ann": {"fte": "0.5", "headcount": json.Number("9")},
			"bob": {"fte": json.Number("1.00"), "headcount": json.Number("10")},
			"cid": {"fte": "0.75"},
		} {
			if _, err := s.CreateUser(ctx, admin, orgUser(name, org)); err != nil {
				t.Fatal(err)
			}
		}
		u := schema.OrgURN
		cases := map[string][]string{
			u + `:headcount gt 9`:        {"bob"},
			u + `:headcount ge "9"`:      {"ann", "bob"},
			u + `:fte eq 1`:              {"bob"},
			u + `:fte lt 0.75`:           {"ann"},
			u + `:fte ne 0.5`:            {"bob", "cid"},
			u + `:headcount pr`:          {"ann", "bob"},
			`not (` + u + `:fte le 0.5)`: {"bob", "cid"},
		}
		for f, want := range cases {
			l, err := s.ListUsers(ctx, admin, directory.ListQuery{Filter: f, Count: 50})
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if got := userNames(t, l); !slices.Equal(got, want) {
				t.Errorf("%s: %v, want %v", f, got, want)
			}
		}
		l, err := s.ListUsers(ctx, admin, directory.ListQuery{SortBy: u + ":fte", Descending: true, Count: 3})
		if err != nil {
			t.Fatal(err)
		}
		var order []string
		for _, r := range l.Resources {
			doc, _ := r.Document()
			order = append(order, doc["userName"].(string))
		}
		if !slices.Equal(order, []string{"bob", "cid", "ann"}) {
			t.Fatalf("sorted by fte descending: %v", order)
		}
		for _, f := range []string{u + `:fte co "5"`, u + `:fte gt "half"`} {
			_, err := s.ListUsers(ctx, admin, directory.ListQuery{Filter: f})
			wantStatus(t, f, err, http.StatusBadRequest)
		}
	})
}
