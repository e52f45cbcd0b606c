package directory_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

// admin is a tier-3 provisioner of the default tenant.
var admin = policy.Principal{Tenant: store.DefaultTenant, Subject: "test", Kind: policy.KindProvisioner, Tier: policy.Tier3Engineering}

func userBody(name string, extra ...any) map[string]any {
	b := map[string]any{"schemas": []any{schema.UserURN}, "userName": name}
	for i := 0; i+1 < len(extra); i += 2 {
		b[extra[i].(string)] = extra[i+1]
	}
	return b
}

func mustCreate(t *testing.T, svc *directory.Service, body map[string]any) *directory.Resource {
	t.Helper()
	r, err := svc.CreateUser(context.Background(), admin, body)
	if err != nil {
		t.Fatalf("create %v: %v", body["userName"], err)
	}
	return r
}

func wantSCIM(t *testing.T, err error, status int, typ scimerrors.ScimType) {
	t.Helper()
	var se scimerrors.ScimError
	if !errors.As(err, &se) || se.Status != status || se.ScimType != typ || se.Detail == "" {
		t.Fatalf("error %v (%T), want %d %q with a detail", err, err, status, typ)
	}
}

func doc(t *testing.T, r *directory.Resource) schema.Doc {
	t.Helper()
	d, err := r.Document()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestHardening_UnicodeCaseFoldingOneRule: userNames are unique, filtered
// and looked up under Unicode simple case folding (schema.Fold) on both
// stores. "ſam" is "sam", "ΣΟΦΟΣ" is "σοφος"; "İYİ" is not "iyi" (the
// dotted capital İ has no simple folding), so both may exist.
func TestHardening_UnicodeCaseFoldingOneRule(t *testing.T) {
	forEachStore(t, nil, func(t *testing.T, svc *directory.Service, _ store.Store) {
		ctx := context.Background()
		sam := mustCreate(t, svc, userBody("ſam"))
		for _, taken := range []string{"sam", "SAM", "Sam"} {
			_, err := svc.CreateUser(ctx, admin, userBody(taken))
			wantSCIM(t, err, 409, scimerrors.ScimTypeUniqueness)
		}
		mustCreate(t, svc, userBody("ΣΟΦΟΣ"))
		for _, taken := range []string{"σοφος", "σοφοσ", "Σοφος"} {
			_, err := svc.CreateUser(ctx, admin, userBody(taken))
			wantSCIM(t, err, 409, scimerrors.ScimTypeUniqueness)
		}
		mustCreate(t, svc, userBody("İYİ"))
		mustCreate(t, svc, userBody("iyi")) // distinct under simple folding
		_, err := svc.CreateUser(ctx, admin, userBody("İyİ"))
		wantSCIM(t, err, 409, scimerrors.ScimTypeUniqueness)

		for filter, want := range map[string]string{
			`userName eq "SAM"`: sam.ID, `userName sw "S"`: sam.ID, `userName co "AM"`: sam.ID, `userName eq "ſAM"`: sam.ID,
		} {
			list, err := svc.ListUsers(ctx, admin, directory.ListQuery{Filter: filter, Count: 10})
			if err != nil {
				t.Fatalf("%s: %v", filter, err)
			}
			if len(list.Resources) != 1 || list.Resources[0].ID != want {
				t.Errorf("%s: %d users, want only ſam", filter, len(list.Resources))
			}
		}
		for filter, n := range map[string]int{`userName eq "σοφοσ"`: 1, `userName eq "iyi"`: 1, `userName eq "İYİ"`: 1, `userName sw "i"`: 1} {
			list, err := svc.ListUsers(ctx, admin, directory.ListQuery{Filter: filter, Count: 10})
			if err != nil || len(list.Resources) != n {
				t.Errorf("%s: %v users (err %v), want %d", filter, list, err, n)
			}
		}
		// Sign-in lookup (/Me) uses the same rule.
		person, err := svc.Bind(ctx, policy.Principal{Tenant: store.DefaultTenant, Kind: policy.KindPerson, Tier: policy.Tier0HelpDesk, UserName: "SAM"})
		if err != nil {
			t.Fatalf("Bind as SAM: %v", err)
		}
		me, err := svc.Me(ctx, person)
		if err != nil || me.ID != sam.ID {
			t.Fatalf("Me as SAM: %v, %v", me, err)
		}
		// A rename onto a folded-equal name is a conflict too.
		other := mustCreate(t, svc, userBody("other"))
		_, err = svc.PatchUser(ctx, admin, other.ID, []directory.PatchOp{{Op: "replace", Path: "userName", Value: "SAM"}}, directory.Precondition{})
		wantSCIM(t, err, 409, scimerrors.ScimTypeUniqueness)
	})
}

// TestHardening_TwoPrimaryValues: POST and PUT keep one primary value per
// multi-valued attribute (the last one marked, as PATCH does) and store
// exact duplicates once.
func TestHardening_TwoPrimaryValues(t *testing.T) {
	forEachStore(t, nil, func(t *testing.T, svc *directory.Service, _ store.Store) {
		ctx := context.Background()
		emails := []any{
			map[string]any{"value": "a@example.com", "type": "work", "primary": true},
			map[string]any{"value": "b@example.com", "type": "home", "primary": true},
			map[string]any{"value": "b@example.com", "type": "home", "primary": true},
		}
		u := mustCreate(t, svc, userBody("prim", "emails", emails,
			schema.SupportURN, map[string]any{"sourceUserNames": []any{map[string]any{"source": "slack", "value": "U1"}, map[string]any{"source": "slack", "value": "U1"}}}))
		checkPrimary(t, doc(t, u), "b@example.com", 2)
		if src := doc(t, u)[schema.SupportURN].(map[string]any)["sourceUserNames"].([]any); len(src) != 1 {
			t.Errorf("sourceUserNames kept %d exact duplicates, want 1 value", len(src))
		}
		stored, err := svc.GetUser(ctx, admin, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkPrimary(t, doc(t, stored), "b@example.com", 2)

		put := userBody("prim", "emails", []any{
			map[string]any{"value": "c@example.com", "primary": true},
			map[string]any{"value": "d@example.com", "primary": "True"},
			map[string]any{"value": "c@example.com", "primary": true},
		})
		r, err := svc.ReplaceUser(ctx, admin, u.ID, put, directory.Precondition{})
		if err != nil {
			t.Fatal(err)
		}
		checkPrimary(t, doc(t, r), "d@example.com", 2)
		list, err := svc.ListUsers(ctx, admin, directory.ListQuery{Filter: `emails[primary eq true].value eq "c@example.com"`, Count: 5})
		if err != nil || len(list.Resources) != 0 {
			t.Errorf("c@example.com still primary in the store: %v %v", list, err)
		}
	})
}

func checkPrimary(t *testing.T, d schema.Doc, want string, n int) {
	t.Helper()
	list, _ := d["emails"].([]any)
	if len(list) != n {
		t.Fatalf("%d emails, want %d: %v", len(list), n, list)
	}
	var primaries []string
	for _, el := range list {
		if m := el.(map[string]any); m["primary"] == true {
			primaries = append(primaries, m["value"].(string))
		}
	}
	if len(primaries) != 1 || primaries[0] != want {
		t.Fatalf("primary emails %v, want only %s", primaries, want)
	}
}

// TestHardening_NoOpPatchKeepsVersion: a PATCH or PUT that changes
// nothing keeps version and lastModified and writes no audit event;
// removing "active" is refused with a clear error.
func TestHardening_NoOpPatchKeepsVersion(t *testing.T) {
	forEachStore(t, nil, func(t *testing.T, svc *directory.Service, st store.Store) {
		ctx := context.Background()
		u := mustCreate(t, svc, userBody("noop", "displayName", "No Op", "active", true,
			"emails", []any{map[string]any{"value": "n@example.com", "type": "work"}}))
		events := auditCount(t, st, u.ID)
		for i, ops := range [][]directory.PatchOp{
			{{Op: "replace", Path: "displayName", Value: "No Op"}},
			{{Op: "add", Path: "active", Value: "True"}},
			{{Op: "replace", Value: map[string]any{"displayName": "No Op", "userName": "noop"}}},
			{{Op: "add", Path: "emails", Value: []any{map[string]any{"value": "n@example.com", "type": "work"}}}},
			{{Op: "remove", Path: "title"}},
		} {
			r, err := svc.PatchUser(ctx, admin, u.ID, ops, directory.Precondition{})
			if err != nil {
				t.Fatalf("patch %d: %v", i, err)
			}
			if r.Version != u.Version || !r.LastModified.Equal(u.LastModified) {
				t.Fatalf("patch %d changed nothing but version %d -> %d, lastModified %v -> %v", i, u.Version, r.Version, u.LastModified, r.LastModified)
			}
		}
		r, err := svc.ReplaceUser(ctx, admin, u.ID, userBody("noop", "displayName", "No Op",
			"emails", []any{map[string]any{"value": "n@example.com", "type": "work"}}), directory.Precondition{})
		if err != nil || r.Version != u.Version {
			t.Fatalf("identical PUT: version %v (err %v), want %d", r, err, u.Version)
		}
		if n := auditCount(t, st, u.ID); n != events {
			t.Fatalf("no-op changes wrote %d audit events", n-events)
		}
		for _, op := range []directory.PatchOp{{Op: "remove", Path: "active"}, {Op: "replace", Path: "active"}, {Op: "replace", Value: map[string]any{"active": nil}}} {
			_, err = svc.PatchUser(ctx, admin, u.ID, []directory.PatchOp{op}, directory.Precondition{})
			wantSCIM(t, err, 400, scimerrors.ScimTypeInvalidValue)
		}
		r, err = svc.PatchUser(ctx, admin, u.ID, []directory.PatchOp{{Op: "replace", Path: "displayName", Value: "Changed"}}, directory.Precondition{})
		if err != nil || r.Version != u.Version+1 || auditCount(t, st, u.ID) != events+1 {
			t.Fatalf("a real change: version %v, err %v", r, err)
		}
	})
}

func auditCount(t *testing.T, st store.Store, id string) int {
	t.Helper()
	evs, err := st.AuditEvents(context.Background(), store.DefaultTenant, store.AuditQuery{ResourceID: id, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

// TestHardening_PatchExtensionPathWithSchemas: an extension URN path whose
// value carries "schemas" is applied (PUT ignores the member too); a
// valid path with a bad value is invalidValue.
func TestHardening_PatchExtensionPathWithSchemas(t *testing.T) {
	forEachStore(t, nil, func(t *testing.T, svc *directory.Service, _ store.Store) {
		ctx := context.Background()
		u := mustCreate(t, svc, userBody("ext"))
		patch := func(op, path string, value any) (*directory.Resource, error) {
			return svc.PatchUser(ctx, admin, u.ID, []directory.PatchOp{{Op: op, Path: path, Value: value}}, directory.Precondition{})
		}
		r, err := patch("add", schema.EnterpriseURN, map[string]any{"schemas": []any{schema.EnterpriseURN}, "employeeNumber": "42"})
		if err != nil {
			t.Fatalf("extension path with schemas: %v", err)
		}
		if got := doc(t, r)[schema.EnterpriseURN].(map[string]any)["employeeNumber"]; got != "42" {
			t.Fatalf("employeeNumber %v", got)
		}
		if _, err := patch("replace", "", map[string]any{"schemas": []any{schema.UserURN}, "displayName": "E",
			schema.EnterpriseURN: map[string]any{"schemas": []any{schema.EnterpriseURN}, "department": "R&D"}}); err != nil {
			t.Fatalf("path-less value with schemas: %v", err)
		}
		for i, c := range []struct {
			path  string
			value any
		}{
			{schema.EnterpriseURN, map[string]any{"bogus": "x"}},
			{schema.EnterpriseURN, map[string]any{"employeeNumber": 7}},
			{schema.EnterpriseURN, "not an object"},
			{"", map[string]any{"nosuchattribute": "x"}},
			{"active", "maybe"},
			{"emails", map[string]any{"value": true}},
		} {
			_, err := patch("add", c.path, c.value)
			t.Run(fmt.Sprint(i), func(t *testing.T) { wantSCIM(t, err, 400, scimerrors.ScimTypeInvalidValue) })
		}
		_, err = patch("add", "nosuchattribute", "x")
		wantSCIM(t, err, 400, scimerrors.ScimTypeInvalidPath)
	})
}
