package csvbridge_test

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"unicode"

	"github.com/scimbridge/scimbridge/csvbridge"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
	"pgregory.net/rapid"
)

// noSpace is tricky text without white space (role names).
func noSpace() *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		s := strings.Map(func(r rune) rune {
			if unicode.IsSpace(r) {
				return '_'
			}
			return r
		}, tricky().Draw(t, "text"))
		return s
	})
}

// seedRound is one round of the seed profiles' round-trip property: the
// users it created (in order) and what the export is filtered on.
type seedRound struct {
	e      *jobEnv
	prefix string
	ids    []string
}

// peopleUser is a random user of people-directory's shape: the primary
// email as userName, a display name, a status, a primary role, source
// usernames of enabled sources (text with the separators in it) and,
// after creation, memberships of groups whose names hold commas.
func (r *seedRound) peopleUser(t *rapid.T, i int) map[string]any {
	email := fmt.Sprintf("p%d.%s@example.com", i, r.prefix)
	u := map[string]any{
		"schemas": []any{schema.UserURN}, "userName": email, "active": rapid.Bool().Draw(t, "active"),
		"displayName": tricky().Draw(t, "display"),
		"emails":      []any{map[string]any{"type": "work", "primary": true, "value": email}},
		"roles":       []any{map[string]any{"value": rapid.SampledFrom([]string{"User", "Admin", "Supervisor"}).Draw(t, "role"), "primary": true}},
	}
	var ims []any
	for k := range rapid.IntRange(0, 2).Draw(t, "ims") {
		ims = append(ims, map[string]any{"type": []string{"slack", "teams"}[k], "value": tricky().Draw(t, "im")})
	}
	if ims != nil {
		u["ims"] = ims
	}
	return u
}

// tenantUser is a random user of tenant-users' shape: any userId, an
// email, a state, roles of the catalogue (with | in them), the
// taskNotification entitlement and a manager among the round's earlier
// users.
func (r *seedRound) tenantUser(t *rapid.T, i int) map[string]any {
	u := map[string]any{
		"schemas":  []any{schema.UserURN, schema.EnterpriseURN},
		"userName": fmt.Sprintf("%s-%d-%s", r.prefix, i, tricky().Draw(t, "userId")),
		"active":   rapid.Bool().Draw(t, "enabled"),
		"name":     map[string]any{"givenName": tricky().Draw(t, "first"), "familyName": tricky().Draw(t, "last")},
		"emails":   []any{map[string]any{"type": "work", "primary": true, "value": fmt.Sprintf("t%d.%s@example.com", i, r.prefix)}},
		"entitlements": []any{map[string]any{"type": "taskNotification",
			"value": rapid.SampledFrom([]string{"OFF", "Email"}).Draw(t, "task")}},
	}
	roles := rapid.SliceOfNDistinct(noSpace(), 0, 3, strings.ToLower).Draw(t, "roles")
	if len(roles) > 0 {
		list := make([]any, len(roles))
		for k, role := range roles {
			list[k] = map[string]any{"value": role}
		}
		u["roles"] = list
		if _, err := r.e.dir.EnsureRoles(t.Context(), root, roles); err != nil {
			t.Fatalf("roles %q: %v", roles, err)
		}
	}
	if len(r.ids) > 0 && rapid.Bool().Draw(t, "hasManager") {
		u[schema.EnterpriseURN] = map[string]any{"manager": map[string]any{"value": rapid.SampledFrom(r.ids).Draw(t, "manager")}}
	}
	return u
}

// TestExportImportRoundTripSeeds is TestExportImportRoundTrip for the
// seed profiles that export and update: people-directory (groups with
// commas in their names, typed source usernames) and tenant-users
// (managers by userId, roles joined with |). The re-import of the export
// plans every row unchanged and adds no role to the catalogue.
func TestExportImportRoundTripSeeds(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newJobEnv(t, open(t), csvbridge.WithChunk(50))
		e.admin = partner
		e.settings(t, func(ts *directory.TenantSettings) { ts.Sources = []string{"slack", "teams"} })
		var round atomic.Int64
		for _, profile := range []string{csvbridge.ProfilePeopleDirectory, csvbridge.ProfileTenantUsers} {
			t.Run(profile, func(t *testing.T) {
				rapid.Check(t, func(rt *rapid.T) {
					r := &seedRound{e: e, prefix: fmt.Sprintf("s%d", round.Add(1))}
					n := rapid.IntRange(1, 5).Draw(rt, "users")
					for i := range n {
						gen := r.peopleUser
						if profile == csvbridge.ProfileTenantUsers {
							gen = r.tenantUser
						}
						u, err := e.dir.CreateUser(t.Context(), root, gen(rt, i))
						if err != nil {
							rt.Fatalf("create: %v", err)
						}
						r.ids = append(r.ids, u.ID)
					}
					if profile == csvbridge.ProfilePeopleDirectory {
						for k := range rapid.IntRange(0, 2).Draw(rt, "groups") {
							members := rapid.SliceOfNDistinct(rapid.SampledFrom(r.ids), 1, n, func(s string) string { return s }).Draw(rt, "members")
							e.group(t, fmt.Sprintf("%s g%d %s", r.prefix, k, tricky().Draw(rt, "group")), members...)
						}
					}
					filter := fmt.Sprintf("emails.value ew %q", "."+r.prefix+"@example.com")
					file, rows := e.export(t, partner, csvbridge.ExportRequest{Profile: profile, Filter: filter})
					if rows != n {
						rt.Fatalf("exported %d rows, want %d:\n%s", rows, n, file)
					}
					v := e.submit(t, profile, file)
					changed := v.Counts["create"] + v.Counts["update"] + v.Counts["deactivate"] + v.Counts["delete"] + v.Counts["error"] + v.Counts["rolesAdded"]
					if v.State != store.JobValidated || v.Counts["unchanged"] != n || changed != 0 {
						rows, _, _ := e.jobs.Rows(t.Context(), e.admin, v.ID, csvbridge.RowQuery{Limit: 10})
						rt.Fatalf("re-import of the export: %s %v %v\nrows: %+v\nfile:\n%s", v.State, v.Counts, v.File, rows, file)
					}
				})
			})
		}
	})
}

// professionalUser is a random user of professional-users' shape: an
// individual or a facility, an office of the tenant, a state, a mobile
// phone and country, organisation fields, and the role the upload gives
// every row (Nurse).
func (r *seedRound) professionalUser(t *rapid.T, i int) map[string]any {
	email := fmt.Sprintf("w%d.%s@example.com", i, r.prefix)
	name := map[string]any{"givenName": tricky().Draw(t, "first")}
	typ := rapid.SampledFrom([]string{"Individual", "Facility"}).Draw(t, "type")
	if typ == "Individual" {
		name["familyName"] = tricky().Draw(t, "last")
	}
	addr := map[string]any{"type": "work", "formatted": rapid.SampledFrom([]string{"Main Street Clinic", "Harbor Office"}).Draw(t, "office")}
	u := map[string]any{
		"schemas":  []any{schema.UserURN, schema.OrgURN},
		"userName": email, "userType": typ, "name": name, "active": rapid.Bool().Draw(t, "active"),
		"emails": []any{map[string]any{"type": "work", "primary": true, "value": email}},
		"roles":  []any{map[string]any{"value": "Nurse"}},
	}
	if rapid.Bool().Draw(t, "hasPhone") {
		u["phoneNumbers"] = []any{map[string]any{"type": "mobile", "value": rapid.StringMatching(`[0-9]{10}`).Draw(t, "phone")}}
		addr["country"] = rapid.StringMatching(`[A-Z]{3}`).Draw(t, "country")
	}
	u["addresses"] = []any{addr}
	org := map[string]any{}
	if rapid.Bool().Draw(t, "hasStart") {
		org["startDate"] = fmt.Sprintf("20%02d-%02d-%02d", rapid.IntRange(0, 30).Draw(t, "y"), rapid.IntRange(1, 12).Draw(t, "m"), rapid.IntRange(1, 28).Draw(t, "d"))
	}
	if rapid.Bool().Draw(t, "hasRate") {
		org["rate"] = rapid.SampledFrom([]any{12.5, 0.0, 100.0, 7.25, 1e6}).Draw(t, "rate")
	}
	if len(org) > 0 {
		u[schema.OrgURN] = org
	}
	return u
}

// TestExportImportRoundTripProfessional: professional-users' export (its
// fixed columns, then the tenant's organisation fields) loads again with
// the same role as all unchanged.
func TestExportImportRoundTripProfessional(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newJobEnv(t, open(t), csvbridge.WithChunk(50))
		e.admin = partner
		e.settings(t, professionalSettings)
		var round atomic.Int64
		rapid.Check(t, func(rt *rapid.T) {
			r := &seedRound{e: e, prefix: fmt.Sprintf("w%d", round.Add(1))}
			n := rapid.IntRange(1, 5).Draw(rt, "users")
			for i := range n {
				if _, err := e.dir.CreateUser(t.Context(), root, r.professionalUser(rt, i)); err != nil {
					rt.Fatalf("create: %v", err)
				}
			}
			filter := fmt.Sprintf("emails.value ew %q", "."+r.prefix+"@example.com")
			file, rows := e.export(t, partner, csvbridge.ExportRequest{Profile: csvbridge.ProfileProfessionalUsers, Filter: filter})
			if rows != n {
				rt.Fatalf("exported %d rows, want %d:\n%s", rows, n, file)
			}
			job, err := e.jobs.SubmitUpload(t.Context(), e.admin, csvbridge.Upload{Profile: csvbridge.ProfileProfessionalUsers,
				Options: map[string]string{"role": "Nurse"}, File: strings.NewReader(file)})
			if err != nil {
				rt.Fatalf("upload: %v", err)
			}
			e.drain(t)
			v, err := e.jobs.Get(t.Context(), e.admin, job.ID)
			if err != nil {
				rt.Fatal(err)
			}
			changed := v.Counts["create"] + v.Counts["update"] + v.Counts["deactivate"] + v.Counts["delete"] + v.Counts["error"]
			if v.State != store.JobValidated || v.Counts["unchanged"] != n || changed != 0 {
				rows, _, _ := e.jobs.Rows(t.Context(), e.admin, v.ID, csvbridge.RowQuery{Limit: 10})
				rt.Fatalf("re-import of the export: %s %v %v\nrows: %+v\nfile:\n%s", v.State, v.Counts, v.File, rows, file)
			}
		})
	})
}

// TestGroupNamesWithQuotes: a group whose name holds a quote or a
// backslash is found by name (it used to be reported missing).
func TestGroupNamesWithQuotes(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newJobEnv(t, open(t))
		e.admin = partner
		e.group(t, `Team "A" \ North`)
		v := e.submit(t, csvbridge.ProfilePeopleDirectory, "Current Status,Display Name,Primary Email,Role,Groups\n"+
			`Active,Ann,ann@example.com,User,"Team ""A"" \\ North"`+"\n")
		wantCounts(t, v, map[string]int{"create": 1, "error": 0})
		e.commit(t, v.ID)
		if !memberOf(e.user(t, "ann@example.com"), `Team "A" \ North`) {
			t.Errorf("ann: %v", e.user(t, "ann@example.com"))
		}
	})
}
