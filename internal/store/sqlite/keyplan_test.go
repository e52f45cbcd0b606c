package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/filter"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/sqlq"
)

// TestKeyFiltersSearchTheirIndex checks the plans of list pages filtered
// on key columns, on an unanalysed database (the store never runs
// ANALYZE, and a plan without statistics is the same empty or full): each must
// search the key's index and sort what it finds, never walk the
// (tenant_id, created, id) index through the whole tenant (what SQLite
// chose for the default order, making every look-up of a CSV import's
// chunk, and every `externalId eq` of an identity provider, read every
// user). A filter on no key keeps the ordered walk.
func TestKeyFiltersSearchTheirIndex(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	reg := schema.New()
	many := make([]string, 150)
	for i := range many {
		many[i] = fmt.Sprintf(`userName eq "u%d"`, i)
	}
	cases := []struct {
		res    sqlq.Resource
		rt     *schema.ResourceType
		filter string
		want   string
	}{
		{sqlq.Users, reg.User, `externalId eq "x1"`, "USING INDEX users_external_id"},
		{sqlq.Users, reg.User, `userName eq "a" or userName eq "b"`, "USING INDEX users_user_name_norm"},
		{sqlq.Users, reg.User, strings.Join(many, " or "), "USING INDEX users_user_name_norm"},
		{sqlq.Users, reg.User, `id eq "a" or id eq "b"`, "USING INDEX sqlite_autoindex_users_1"},
		{sqlq.Users, reg.User, `externalId eq "x" and active eq true`, "USING INDEX users_external_id"},
		{sqlq.Users, reg.User, `emails.value eq "a@example.com" or emails.value eq "B@example.com"`, "USING INDEX sqlite_autoindex_users_1"},
		{sqlq.Users, reg.User, `emails.value eq "a@example.com"`, "USING INDEX sqlite_autoindex_users_1"},
		{sqlq.Groups, reg.Group, `displayName eq "Admins"`, "USING INDEX groups_display_name_norm"},
		{sqlq.Users, reg.User, `active eq true`, "USING INDEX users_created"},
	}
	for _, c := range cases {
		f, err := filter.Parse(c.rt, c.filter)
		if err != nil {
			t.Fatal(err)
		}
		st, err := sqlq.List(sqlq.SQLite, c.res, "r.id, r.doc", store.DefaultTenant, store.Query{Filter: f, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		plan := queryPlan(t, s, st.Page, st.PageArgs)
		if !strings.Contains(plan, c.want) {
			t.Errorf("%.60s: plan\n%s\nwant %s", c.filter, plan, c.want)
		}
	}
}

func queryPlan(t *testing.T, s *Store, query string, args []any) string {
	t.Helper()
	rows, err := s.r.Query(`EXPLAIN QUERY PLAN `+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "\n")
}
