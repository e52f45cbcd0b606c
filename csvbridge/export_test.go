package csvbridge_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/scimbridge/scimbridge/csvbridge"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/server/servertest"
	"github.com/scimbridge/scimbridge/internal/store"
	"pgregory.net/rapid"
)

var engineer = policy.Principal{Tenant: store.DefaultTenant, Subject: "engineer", Kind: policy.KindProvisioner, Tier: policy.Tier3Engineering}

// export runs an export as p and returns the file.
func (e *jobEnv) export(t testing.TB, p policy.Principal, req csvbridge.ExportRequest) (string, int) {
	t.Helper()
	x, err := e.jobs.Exporter().Prepare(context.Background(), p, req)
	if err != nil {
		t.Fatalf("prepare export: %v", err)
	}
	var buf bytes.Buffer
	n, err := x.Write(t.Context(), &buf, nil)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	return buf.String(), n
}

// tricky is text a spreadsheet or a CSV parser can get wrong: Unicode,
// delimiters, quotes, newlines inside, the multi-value separator and its
// escape, leading formula characters and apostrophes. It never starts or
// ends with white space (the import trims cells).
func tricky() *rapid.Generator[string] {
	runes := []rune("aZ09 ,;\"'=-+@|\\\n\u00e9\u4e2d\U0001F600\u00fc#")
	return rapid.Custom(func(t *rapid.T) string {
		s := rapid.StringOfN(rapid.RuneFrom(runes), 1, 24, -1).Draw(t, "text")
		s = strings.TrimSpace(s)
		if s == "" || strings.EqualFold(s, "#clear") {
			s = "x" + s
		}
		return s
	})
}

// scimUser is a random user whose every attribute the scim profile's
// default columns carry.
func scimUser(t *rapid.T, prefix string, i int) map[string]any {
	u := map[string]any{
		"schemas":  []any{schema.UserURN, schema.EnterpriseURN, schema.SupportURN},
		"userName": fmt.Sprintf("%s-%d-%s", prefix, i, tricky().Draw(t, "userName")),
		"active":   rapid.Bool().Draw(t, "active"),
		"name":     map[string]any{"givenName": tricky().Draw(t, "given"), "familyName": tricky().Draw(t, "family")},
	}
	if rapid.Bool().Draw(t, "hasTitle") {
		u["title"] = tricky().Draw(t, "title")
	}
	if rapid.Bool().Draw(t, "hasExternalId") {
		u["externalId"] = fmt.Sprintf("%s-%d-%s", prefix, i, tricky().Draw(t, "externalId"))
	}
	u["emails"] = []any{map[string]any{"type": "work", "value": fmt.Sprintf("u%d@%s.example.com", i, prefix)}}
	roles := rapid.SliceOfNDistinct(tricky(), 0, 3, strings.ToLower).Draw(t, "roles")
	if len(roles) > 0 {
		list := make([]any, len(roles))
		for k, r := range roles {
			list[k] = map[string]any{"value": r}
		}
		u["roles"] = list
	}
	u[schema.EnterpriseURN] = map[string]any{"department": tricky().Draw(t, "department")}
	u[schema.SupportURN] = map[string]any{"tier": rapid.SampledFrom(policy.TierNames()).Draw(t, "tier")}
	return u
}

// tiersUser is a random user of the support-tiers profile's shape.
func tiersUser(t *rapid.T, prefix string, i int) map[string]any {
	email := fmt.Sprintf("u%d.%s@example.com", i, prefix)
	return map[string]any{
		"schemas":         []any{schema.UserURN, schema.SupportURN},
		"userName":        email,
		"name":            map[string]any{"givenName": tricky().Draw(t, "given"), "familyName": tricky().Draw(t, "family")},
		"emails":          []any{map[string]any{"type": "work", "primary": true, "value": email}},
		schema.SupportURN: map[string]any{"tier": rapid.SampledFrom(policy.TierNames()).Draw(t, "tier")},
	}
}

// TestExportImportRoundTrip: random users exported with a profile and
// imported again with it through the job service change nothing, on both
// stores, for the scim profile and support-tiers.
func TestExportImportRoundTrip(t *testing.T) {
	profiles := map[string]func(*rapid.T, string, int) map[string]any{
		csvbridge.ProfileSCIM: scimUser, csvbridge.ProfileSupportTiers: tiersUser,
	}
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newJobEnv(t, open(t), csvbridge.WithChunk(50))
		e.admin = engineer
		var round atomic.Int64
		for profile, gen := range profiles {
			t.Run(profile, func(t *testing.T) {
				rapid.Check(t, func(rt *rapid.T) {
					prefix := fmt.Sprintf("r%d", round.Add(1))
					n := rapid.IntRange(1, 6).Draw(rt, "users")
					for i := range n {
						if _, err := e.dir.CreateUser(t.Context(), engineer, gen(rt, prefix, i)); err != nil {
							rt.Fatalf("create: %v", err)
						}
					}
					filter := fmt.Sprintf("userName sw %q", prefix+"-")
					if profile == csvbridge.ProfileSupportTiers {
						filter = fmt.Sprintf("userName ew %q", "."+prefix+"@example.com")
					}
					file, rows := e.export(t, engineer, csvbridge.ExportRequest{Profile: profile, Filter: filter})
					if rows != n {
						rt.Fatalf("exported %d rows, want %d:\n%s", rows, n, file)
					}
					v := e.submit(t, profile, file)
					changed := v.Counts["create"] + v.Counts["update"] + v.Counts["deactivate"] + v.Counts["delete"] + v.Counts["error"] + v.Counts["warning"]
					if v.State != store.JobValidated || v.Counts["unchanged"] != n || v.Counts["total"] != n || changed != 0 {
						rows, _, _ := e.jobs.Rows(t.Context(), e.admin, v.ID, csvbridge.RowQuery{Limit: 10})
						rt.Fatalf("re-import of the export: %s %v\nrows: %+v\nfile:\n%s", v.State, v.Counts, rows, file)
					}
				})
			})
		}
	})
}

// TestExportService: the walk pages by keyset in creation order (pages
// smaller than the result), follows sortBy, applies presets, never shows
// a password, refuses raw output below tier 3 and audits each export.
func TestExportService(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newJobEnv(t, open(t))
		var names []string
		for i := range 7 {
			name := fmt.Sprintf("user%d@example.com", i)
			names = append(names, name)
			body := map[string]any{"schemas": []any{schema.UserURN}, "userName": name, "active": i%2 == 0, "password": "Pass-word-123"}
			if _, err := e.dir.CreateUser(t.Context(), engineer, body); err != nil {
				t.Fatal(err)
			}
		}
		var seen []string
		n, err := e.dir.ExportUsers(t.Context(), engineer, directory.ExportQuery{PageSize: 2, Columns: []string{"userName"}}, func(r *directory.Resource) error {
			doc, _ := r.Document()
			if _, ok := doc["password"]; ok {
				t.Errorf("password exported")
			}
			seen = append(seen, doc["userName"].(string))
			return nil
		})
		if err != nil || n != 7 || !slices.Equal(seen, names) {
			t.Fatalf("keyset walk in creation order: %d %v %v", n, err, seen)
		}
		seen = nil
		_, err = e.dir.ExportUsers(t.Context(), engineer, directory.ExportQuery{PageSize: 3, SortBy: "userName", Descending: true}, func(r *directory.Resource) error {
			doc, _ := r.Document()
			seen = append(seen, doc["userName"].(string))
			return nil
		})
		desc := slices.Clone(names)
		slices.Reverse(desc)
		if err != nil || !slices.Equal(seen, desc) {
			t.Fatalf("sorted walk: %v %v", err, seen)
		}
		file, rows := e.export(t, engineer, csvbridge.ExportRequest{Preset: "active", Attributes: []string{"userName"}, NoBOM: true, LF: true})
		if rows != 4 || file != "userName\nuser0@example.com\nuser2@example.com\nuser4@example.com\nuser6@example.com\n" {
			t.Fatalf("active preset: %d %q", rows, file)
		}
		helpDesk := policy.Principal{Tenant: store.DefaultTenant, Subject: "desk", Kind: policy.KindProvisioner, Tier: policy.Tier0HelpDesk}
		if _, err := e.jobs.Exporter().Prepare(context.Background(), helpDesk, csvbridge.ExportRequest{Raw: true}); err == nil {
			t.Fatal("raw export below tier 3 was allowed")
		}
		e.export(t, helpDesk, csvbridge.ExportRequest{Profile: csvbridge.ProfileSupportTiers})
		evs, err := e.st.AuditEvents(t.Context(), store.DefaultTenant, store.AuditQuery{Actor: "desk"})
		if err != nil || len(evs) != 1 || evs[0].Action != directory.ExportAuditAction || evs[0].Source != directory.SourceCSV ||
			!slices.Equal(evs[0].Attributes, []string{"first_name", "last_name", "email", "tier", "rows=7", "filter="}) {
			t.Fatalf("audit: %v %+v", err, evs)
		}
		// A client that goes away stops the walk; the rows it took are audited.
		ctx, cancel := context.WithCancel(t.Context())
		got, err := e.dir.ExportUsers(ctx, helpDesk, directory.ExportQuery{PageSize: 2}, func(*directory.Resource) error {
			cancel()
			return ctx.Err()
		})
		if err == nil || got != 0 {
			t.Fatalf("cancelled export: %d %v", got, err)
		}
	})
}

// TestExportPresets: each preset is a filter the service accepts, and bad
// ones are 400 invalidFilter.
func TestExportPresets(t *testing.T) {
	e := newJobEnv(t, servertest.Stores()["sqlite"](t))
	for _, p := range []string{"all", "active", "tier=1", "tier=support-tier-3-engineering", "created-since=2024-01-01",
		"created-between=2024-01-01,2024-06-30", "last-login-before=2025-01-01T00:00:00Z", "last-login-after=2025-01-01"} {
		if _, err := e.jobs.Exporter().Prepare(context.Background(), engineer, csvbridge.ExportRequest{Preset: p}); err != nil {
			t.Errorf("preset %s: %v", p, err)
		}
	}
	for _, p := range []string{"tier=7", "created-since=yesterday", "created-between=2024-01-01", "sometimes"} {
		_, err := e.jobs.Exporter().Prepare(context.Background(), engineer, csvbridge.ExportRequest{Preset: p})
		wantStatus(t, err, http.StatusBadRequest)
	}
	if f, _ := csvbridge.PresetFilter("created-between=2024-01-01,2024-06-30"); f != `meta.created ge "2024-01-01T00:00:00Z" and meta.created lt "2024-07-01T00:00:00Z"` {
		t.Errorf("created-between: %s", f)
	}
}

// TestLastLoginAt: an OIDC person's request records lastLoginAt once per
// interval; PUT and PATCH keep it; the last-login presets select by it.
func TestLastLoginAt(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		st := open(t)
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		dir := directory.New(st, schema.New(), directory.WithLogger(quiet), directory.WithClock(func() time.Time { return now }))
		jobs := csvbridge.NewJobs(dir, st, csvbridge.WithJobLogger(quiet))
		for _, name := range []string{"ann@example.com", "bob@example.com"} {
			if _, err := dir.CreateUser(t.Context(), engineer, map[string]any{"schemas": []any{schema.UserURN}, "userName": name}); err != nil {
				t.Fatal(err)
			}
		}
		person := policy.Principal{Tenant: store.DefaultTenant, Subject: "oidc|ann", Kind: policy.KindPerson, Tier: policy.Tier1Operations, UserName: "ANN@example.com"}
		bound, err := dir.Bind(t.Context(), person)
		if err != nil {
			t.Fatal(err)
		}
		ann, err := dir.GetUser(t.Context(), engineer, bound.UserID)
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := ann.Document()
		if got := doc[schema.SupportURN].(map[string]any)[schema.LastLoginAt]; got != "2026-03-01T12:00:00Z" || ann.Version != 2 {
			t.Fatalf("lastLoginAt %v, version %d", got, ann.Version)
		}
		now = now.Add(time.Minute)
		if _, err := dir.Bind(t.Context(), person); err != nil {
			t.Fatal(err)
		}
		if again, _ := dir.GetUser(t.Context(), engineer, bound.UserID); again.Version != 2 {
			t.Fatalf("a second request within the interval wrote again: version %d", again.Version)
		}
		put := map[string]any{"schemas": []any{schema.UserURN}, "userName": "ann@example.com", "title": "Lead",
			schema.SupportURN: map[string]any{"lastLoginAt": "1999-01-01T00:00:00Z"}}
		replaced, err := dir.ReplaceUser(t.Context(), engineer, bound.UserID, put, directory.Precondition{})
		if err != nil {
			t.Fatal(err)
		}
		doc, _ = replaced.Document()
		if got := doc[schema.SupportURN].(map[string]any)[schema.LastLoginAt]; got != "2026-03-01T12:00:00Z" {
			t.Fatalf("PUT changed lastLoginAt to %v", got)
		}
		for preset, want := range map[string]string{"last-login-after=2026-03-01": "ann@example.com", "last-login-before=2026-03-01": "bob@example.com"} {
			x, err := jobs.Exporter().Prepare(context.Background(), engineer, csvbridge.ExportRequest{Preset: preset, Attributes: []string{"userName"}, NoBOM: true, LF: true})
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if _, err := x.Write(t.Context(), &buf, nil); err != nil || buf.String() != "userName\n"+want+"\n" {
				t.Fatalf("%s: %v %q", preset, err, buf.String())
			}
		}
	})
}

// TestExportReferenceFallback: a reference column names the user by key;
// one the export cannot turn into a key (its user is gone) is written as
// the stored id.
func TestExportReferenceFallback(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newJobEnv(t, open(t))
		e.admin = partner
		v := e.commit(t, e.submit(t, csvbridge.ProfileTenantUsers, "userId,firstName,lastName,email,reportsTo\n"+
			"boss,Bo,Ss,boss@example.com,\nann,An,N,ann@example.com,boss\nbob,Bo,B,bob@example.com,\n").ID)
		wantCounts(t, v, map[string]int{"create": 3})
		bossID := e.user(t, "boss")["id"].(string)
		file, _ := e.export(t, partner, csvbridge.ExportRequest{Profile: csvbridge.ProfileTenantUsers})
		if got := columnByKey(t, file, "userId", "reportsTo"); got["ann"] != "boss" || got["bob"] != "" {
			t.Errorf("reportsTo %v", got)
		}
		if err := e.dir.DeleteUser(t.Context(), root, bossID, directory.Precondition{}); err != nil {
			t.Fatal(err)
		}
		file, _ = e.export(t, partner, csvbridge.ExportRequest{Profile: csvbridge.ProfileTenantUsers})
		if got := columnByKey(t, file, "userId", "reportsTo"); got["ann"] != bossID {
			t.Errorf("a reference to a deleted user: reportsTo %v, want the stored id %s", got, bossID)
		}
	})
}

// TestExportEveryProfile exports a user who has everything a profile may
// read (several roles, emails and groups, a manager, extension values)
// with each built-in profile: every export ends with one row per user.
func TestExportEveryProfile(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newJobEnv(t, open(t))
		boss := e.createUser(t, "boss", "Bo")
		full := map[string]any{
			"schemas":  []any{"urn:ietf:params:scim:schemas:core:2.0:User", schema.EnterpriseURN},
			"userName": "full", "active": true, "userType": "agent",
			"name":               map[string]any{"givenName": "Fu", "familyName": "Ll"},
			"emails":             []any{map[string]any{"value": "full@example.com", "type": "work", "primary": true}, map[string]any{"value": "f@home.example", "type": "home"}},
			"roles":              []any{map[string]any{"value": "Agent", "primary": true}, map[string]any{"value": "Supervisor"}},
			"phoneNumbers":       []any{map[string]any{"value": "4021", "type": "pbx"}},
			schema.EnterpriseURN: map[string]any{"employeeNumber": "full1", "manager": map[string]any{"value": boss.ID}},
		}
		u, err := e.dir.CreateUser(t.Context(), engineer, full)
		if err != nil {
			t.Fatal(err)
		}
		e.group(t, "Team A", u.ID)
		e.group(t, "Team B", u.ID)
		for _, prof := range csvbridge.BuiltinProfiles() {
			file, rows := e.export(t, engineer, csvbridge.ExportRequest{Profile: prof.Name})
			if rows != 2 || strings.Count(file, "\r\n") != 3 {
				t.Errorf("%s: %d rows:\n%s", prof.Name, rows, file)
			}
		}
	})
}

// failingWriter fails every write after the first limit bytes.
type failingWriter struct{ left int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.left {
		return 0, errors.New("connection reset by peer")
	}
	w.left -= len(p)
	return len(p), nil
}

// TestExportStopsWhenWritingFails: rows are written on a goroutine of
// their own; when writing fails (the client is gone) the walk stops
// soon after, the error is the write's, and the export is still audited.
func TestExportStopsWhenWritingFails(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newJobEnv(t, open(t))
		const n = 5000
		users := make([]store.User, n)
		for i := range users {
			doc, err := schema.New().User.Normalize(map[string]any{"userName": fmt.Sprintf("bulk%05d@example.com", i)})
			if err != nil {
				t.Fatal(err)
			}
			u, err := directory.UserRecord(doc)
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC().Truncate(time.Microsecond)
			u.TenantID, u.ID, u.Created, u.LastModified, u.Version = store.DefaultTenant, uuid.NewString(), now, now, 1
			users[i] = u
		}
		if errs, err := e.st.CreateUsers(t.Context(), users); err != nil || slices.ContainsFunc(errs, func(e error) bool { return e != nil }) {
			t.Fatalf("create users: %v %v", err, errs)
		}
		x, err := e.jobs.Exporter().Prepare(t.Context(), engineer, csvbridge.ExportRequest{Attributes: []string{"userName"}, PageSize: 100})
		if err != nil {
			t.Fatal(err)
		}
		rows, err := x.Write(t.Context(), &failingWriter{left: 1000}, nil)
		if err == nil || !strings.Contains(err.Error(), "connection reset by peer") {
			t.Fatalf("export into a failing writer: %d rows, %v", rows, err)
		}
		if rows >= n {
			t.Fatalf("the walk went on to the end (%d rows) after writing failed", rows)
		}
		evs, err := e.st.AuditEvents(t.Context(), store.DefaultTenant, store.AuditQuery{Actor: engineer.Subject, Limit: 1})
		if err != nil || len(evs) != 1 || evs[0].Action != directory.ExportAuditAction || !slices.Contains(evs[0].Attributes, fmt.Sprintf("rows=%d", rows)) {
			t.Fatalf("audit of the broken export: %v %+v", err, evs)
		}
		var buf bytes.Buffer
		if rows, err := x.Write(t.Context(), &buf, nil); err != nil || rows != n || strings.Count(buf.String(), "\n") != n+1 {
			t.Fatalf("export: %d rows, %v, %d lines", rows, err, strings.Count(buf.String(), "\n"))
		}
	})
}
