package directory_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/store"
)

func tierPrincipal(t policy.Tier) policy.Principal {
	return policy.Principal{Tenant: store.DefaultTenant, Subject: "test-" + t.String(), Kind: policy.KindProvisioner, Tier: t}
}

func wantSettingsErr(t *testing.T, err error, status int, detail string) {
	t.Helper()
	var se scimerrors.ScimError
	if !errors.As(err, &se) || se.Status != status || !strings.Contains(se.Detail, detail) {
		t.Fatalf("err = %v, want %d with %q in the detail", err, status, detail)
	}
}

var sampleSettings = directory.TenantSettings{
	Sources: []string{"slack", "github"},
	Roles:   []string{"Admin", "User"},
	Offices: []string{"Paris", "New York"},
	OrgFields: []directory.OrgField{{Name: "costCenter", Type: "string"}, {Name: "hireDate", Type: "date", Description: "First day"},
		{Name: "fte", Type: "decimal"}},
	Notifications: directory.Notifications{SignInURL: "https://login.example.com/start", From: "it@example.com", Subject: "Your account"},
}

func TestSettingsReadAndUpdate(t *testing.T) {
	forEachStore(t, nil, func(t *testing.T, s *directory.Service, _ store.Store) {
		ctx := context.Background()
		got, err := s.Settings(ctx, tierPrincipal(policy.Tier0HelpDesk))
		if err != nil || got.Version != 0 || got.Roles == nil || len(got.Roles) != 0 || got.OrgFields == nil {
			t.Fatalf("fresh settings = %+v, %v", got, err)
		}
		_, err = s.UpdateSettings(ctx, tierPrincipal(policy.Tier2SoftwarePartner), func(ts *directory.TenantSettings) error {
			t.Fatal("fn called for tier 2")
			return nil
		})
		wantSettingsErr(t, err, http.StatusForbidden, "support-tier-3-engineering")
		up, err := s.UpdateSettings(ctx, admin, func(ts *directory.TenantSettings) error {
			v := ts.Version
			*ts = sampleSettings
			ts.Version = v
			return nil
		})
		if err != nil || up.Version != 1 || !slices.Equal(up.Offices, sampleSettings.Offices) {
			t.Fatalf("update = %+v, %v", up, err)
		}
		read, err := s.Settings(ctx, tierPrincipal(policy.Tier0HelpDesk))
		if err != nil || read.Version != 1 || !slices.Equal(read.OrgFields, sampleSettings.OrgFields) ||
			read.Notifications != sampleSettings.Notifications || !slices.Equal(read.Sources, sampleSettings.Sources) {
			t.Fatalf("read back = %+v, %v", read, err)
		}
		same, err := s.UpdateSettings(ctx, admin, func(ts *directory.TenantSettings) error { return nil })
		if err != nil || same.Version != 1 {
			t.Fatalf("no-op update = %+v, %v; want version 1 kept", same, err)
		}
		evs, err := s.AuditEvents(ctx, admin, store.AuditQuery{ResourceID: store.DefaultTenant})
		if err != nil || len(evs) != 1 || evs[0].ResourceType != "Settings" || evs[0].Action != "replace" ||
			!slices.Equal(evs[0].Attributes, []string{"sources", "roles", "offices", "orgFields", "notifications"}) {
			t.Fatalf("audit events = %+v, %v", evs, err)
		}
		if _, err := s.Settings(ctx, policy.Principal{Tenant: store.DefaultTenant, Kind: policy.KindProvisioner}); err == nil {
			t.Fatal("a principal without a tier read the settings")
		}
		refuse := scimerrors.ScimError{Status: http.StatusPreconditionFailed, Detail: "changed"}
		if _, err := s.UpdateSettings(ctx, admin, func(ts *directory.TenantSettings) error {
			ts.Offices = nil
			return refuse
		}); !errors.Is(err, refuse) && !strings.Contains(err.Error(), "changed") {
			t.Fatalf("fn's own error: %v", err)
		}
		if read, _ := s.Settings(ctx, admin); len(read.Offices) != 2 {
			t.Fatalf("a refused update was written: %+v", read)
		}
		other := policy.Principal{Tenant: "nope", Subject: "x", Kind: policy.KindProvisioner, Tier: policy.Tier3Engineering}
		_, err = s.Settings(ctx, other)
		wantSettingsErr(t, err, http.StatusNotFound, "nope")
	})
}

func TestSettingsValidation(t *testing.T) {
	cases := []struct {
		name   string
		edit   func(*directory.TenantSettings)
		detail string
	}{
		{"role with a space", func(ts *directory.TenantSettings) { ts.Roles = []string{"Team Lead"} }, "cannot contain spaces"},
		{"long role", func(ts *directory.TenantSettings) { ts.Roles = []string{strings.Repeat("r", 101)} }, "longer than 100"},
		{"duplicate role", func(ts *directory.TenantSettings) { ts.Roles = []string{"Admin", "admin"} }, "twice"},
		{"empty source", func(ts *directory.TenantSettings) { ts.Sources = []string{""} }, "settings.sources"},
		{"duplicate source", func(ts *directory.TenantSettings) { ts.Sources = []string{"Slack", "slack"} }, "twice"},
		{"padded office", func(ts *directory.TenantSettings) { ts.Offices = []string{" Paris"} }, "settings.offices"},
		{"field name", func(ts *directory.TenantSettings) {
			ts.OrgFields = []directory.OrgField{{Name: "cost center", Type: "string"}}
		}, "orgFields[0]"},
		{"field type", func(ts *directory.TenantSettings) { ts.OrgFields = []directory.OrgField{{Name: "x", Type: "money"}} }, "not one of"},
		{"field twice", func(ts *directory.TenantSettings) {
			ts.OrgFields = []directory.OrgField{{Name: "x", Type: "string"}, {Name: "X", Type: "date"}}
		}, "used twice"},
		{"sign-in url", func(ts *directory.TenantSettings) { ts.Notifications.SignInURL = "javascript:alert(1)" }, "signInUrl"},
		{"from", func(ts *directory.TenantSettings) { ts.Notifications.From = "Admin <a@b.c>" }, "notifications.from"},
		{"subject", func(ts *directory.TenantSettings) { ts.Notifications.Subject = "Hi\r\nBcc: x@y.z" }, "subject"},
	}
	forEachStore(t, nil, func(t *testing.T, s *directory.Service, _ store.Store) {
		for _, c := range cases {
			_, err := s.UpdateSettings(context.Background(), admin, func(ts *directory.TenantSettings) error { c.edit(ts); return nil })
			var se scimerrors.ScimError
			if !errors.As(err, &se) || se.Status != http.StatusBadRequest || se.ScimType != scimerrors.ScimTypeInvalidValue || !strings.Contains(se.Detail, c.detail) {
				t.Errorf("%s: %v, want 400 invalidValue mentioning %q", c.name, err, c.detail)
			}
		}
		if got, _ := s.Settings(context.Background(), admin); got.Version != 0 {
			t.Fatalf("invalid settings were written: %+v", got)
		}
	})
}

func TestEnsureRoles(t *testing.T) {
	forEachStore(t, nil, func(t *testing.T, s *directory.Service, _ store.Store) {
		ctx := context.Background()
		ops := tierPrincipal(policy.Tier1Operations)
		_, err := s.EnsureRoles(ctx, tierPrincipal(policy.Tier0HelpDesk), []string{"Coordinator"})
		wantSettingsErr(t, err, http.StatusForbidden, "support-tier-1-operations")
		added, err := s.EnsureRoles(ctx, ops, []string{"Coordinator", "Agent", "coordinator"})
		if err != nil || !slices.Equal(added, []string{"Coordinator", "Agent"}) {
			t.Fatalf("added = %v, %v", added, err)
		}
		added, err = s.EnsureRoles(ctx, ops, []string{"AGENT", "Supervisor"})
		if err != nil || !slices.Equal(added, []string{"Supervisor"}) {
			t.Fatalf("second call added %v, %v", added, err)
		}
		added, err = s.EnsureRoles(ctx, ops, []string{"agent"})
		if err != nil || added == nil || len(added) != 0 {
			t.Fatalf("nothing new: %v, %v", added, err)
		}
		_, err = s.EnsureRoles(ctx, ops, []string{"Good", "Team Lead"})
		wantSettingsErr(t, err, http.StatusBadRequest, `"Team Lead"`)
		_, err = s.EnsureRoles(ctx, ops, []string{strings.Repeat("x", 101)})
		wantSettingsErr(t, err, http.StatusBadRequest, "longer than 100")
		got, err := s.Settings(ctx, ops)
		if err != nil || !slices.Equal(got.Roles, []string{"Coordinator", "Agent", "Supervisor"}) || got.Version != 2 {
			t.Fatalf("catalogue = %v (version %d), %v", got.Roles, got.Version, err)
		}
		unknown, err := s.UnknownRoles(ctx, tierPrincipal(policy.Tier0HelpDesk), []string{"supervisor", "Pilot"})
		if err != nil || !slices.Equal(unknown, []string{"Pilot"}) {
			t.Fatalf("UnknownRoles = %v, %v", unknown, err)
		}
	})
}

// TestRolesAttributeAndCatalogue: the core roles attribute is stored,
// filtered on both stores and checked against the catalogue with
// UnknownRoles.
func TestRolesAttributeAndCatalogue(t *testing.T) {
	forEachStore(t, nil, func(t *testing.T, s *directory.Service, _ store.Store) {
		ctx := context.Background()
		if _, err := s.EnsureRoles(ctx, admin, []string{"Coordinator"}); err != nil {
			t.Fatal(err)
		}
		roles := []any{map[string]any{"value": "Coordinator", "primary": true}, map[string]any{"value": "Pilot"}}
		r, err := s.CreateUser(ctx, admin, map[string]any{"userName": "mary", "roles": roles})
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := r.Document()
		var values []string
		for _, v := range doc["roles"].([]any) {
			values = append(values, v.(map[string]any)["value"].(string))
		}
		if !slices.Equal(values, []string{"Coordinator", "Pilot"}) {
			t.Fatalf("roles = %v", doc["roles"])
		}
		l, err := s.ListUsers(ctx, admin, directory.ListQuery{Filter: `roles.value eq "pilot" and roles[primary eq true]`, Count: 10})
		if err != nil || l.Total != 1 {
			t.Fatalf("filter on roles: %v %v", l, err)
		}
		unknown, err := s.UnknownRoles(ctx, admin, values)
		if err != nil || !slices.Equal(unknown, []string{"Pilot"}) {
			t.Fatalf("UnknownRoles = %v, %v", unknown, err)
		}
	})
}
