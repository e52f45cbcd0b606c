package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/scimbridge/scimbridge/internal/filter"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/postgres"
	"github.com/scimbridge/scimbridge/internal/store/postgres/pgtest"
	"github.com/scimbridge/scimbridge/internal/store/sqlq"
)

// TestIndexedLookupsUseIndexes checks the plans of the lookups IdPs and
// the CSV bridge make: none may scan the users or groups table. Sequential
// scans are disabled for the session, so a plan that still has one has no
// usable index.
func TestIndexedLookupsUseIndexes(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	seedForPlans(t, st)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	if _, err := conn.Exec(ctx, "SET enable_seqscan = off"); err != nil {
		t.Fatal(err)
	}
	reg := schema.New()
	lastMod := &filter.Attr{Name: "meta", Sub: "lastModified", Type: "dateTime"}
	cases := []struct {
		res    sqlq.Resource
		filter string
		sortBy *filter.Attr
	}{
		{sqlq.Users, `userName eq "User1@Example.com"`, nil},
		{sqlq.Users, `externalId eq "ext-1"`, nil},
		{sqlq.Users, `emails.value eq "user1@example.com"`, nil},
		{sqlq.Users, `emails[type eq "work"].value eq "user1@example.com"`, nil},
		{sqlq.Users, `id eq "` + uuid.NewString() + `"`, nil},
		{sqlq.Users, `meta.lastModified gt "2026-01-01T00:00:00Z"`, nil},
		{sqlq.Users, ``, lastMod},
		{sqlq.Groups, `displayName eq "Group 1"`, nil},
		{sqlq.Groups, `externalId eq "g-1"`, nil},
	}
	for _, c := range cases {
		rt := reg.User
		if c.res == sqlq.Groups {
			rt = reg.Group
		}
		q := store.Query{SortBy: c.sortBy, Limit: 100}
		if c.filter != "" {
			if q.Filter, err = filter.Parse(rt, c.filter); err != nil {
				t.Fatal(err)
			}
		}
		stmts, err := sqlq.List(sqlq.Postgres, c.res, "r.id", store.DefaultTenant, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []struct {
			sql  string
			args []any
		}{{stmts.Page, stmts.PageArgs}, {stmts.Count, stmts.CountArgs}} {
			plan := explain(t, conn, s.sql, s.args)
			if strings.Contains(plan, "Seq Scan on users") || strings.Contains(plan, "Seq Scan on groups") {
				t.Errorf("%s sort=%v scans a table:\n%s\n%s", c.filter, c.sortBy, s.sql, plan)
			}
		}
	}
}

func explain(t *testing.T, conn *pgx.Conn, sql string, args []any) string {
	rows, err := conn.Query(context.Background(), "EXPLAIN "+sql, args...)
	if err != nil {
		t.Fatalf("explain %s: %v", sql, err)
	}
	var lines []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n")
}

func seedForPlans(t *testing.T, st store.Store) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	for i := 0; i < 50; i++ {
		u := store.User{TenantID: store.DefaultTenant, ID: uuid.NewString(), UserName: fmt.Sprintf("User%d@Example.com", i),
			ExternalID: fmt.Sprintf("ext-%d", i), Active: true, Doc: []byte(`{}`), Created: now, LastModified: now, Version: 1,
			Emails: []store.Email{{Value: fmt.Sprintf("user%d@example.com", i), Type: "work"}}}
		if _, err := st.CreateUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
		g := store.Group{TenantID: store.DefaultTenant, ID: uuid.NewString(), DisplayName: fmt.Sprintf("Group %d", i),
			ExternalID: fmt.Sprintf("g-%d", i), Doc: []byte(`{}`), Created: now, LastModified: now, Version: 1}
		if _, err := st.CreateGroup(context.Background(), g); err != nil {
			t.Fatal(err)
		}
	}
}
