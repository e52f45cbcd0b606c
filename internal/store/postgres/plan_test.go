package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/scimbridge/scimbridge/internal/filter"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/postgres/pgtest"
	"github.com/scimbridge/scimbridge/internal/store/sqlq"
)

// TestIndexedLookupsUseIndexes checks the plans of the lookups IdPs and
// the CSV bridge make: over 5,000 analysed users and groups, each must use
// its index and none may scan the users or groups table.
func TestIndexedLookupsUseIndexes(t *testing.T) {
	dsn := pgtest.DSN(t)
	_, conn := storeAndConn(t, dsn) // the store migrates the schema
	seedForPlans(t, conn)
	reg := schema.New()
	lastMod := &filter.Attr{Name: "meta", Sub: "lastModified", Type: "dateTime"}
	cases := []struct {
		res    sqlq.Resource
		filter string
		sortBy *filter.Attr
		index  string
	}{
		{sqlq.Users, `userName eq "User1@Example.com"`, nil, "users_user_name_norm"},
		{sqlq.Users, `externalId eq "ext-1"`, nil, "users_external_id"},
		{sqlq.Users, `emails.value eq "user1@example.com"`, nil, "user_emails_value_norm"},
		{sqlq.Users, `emails[type eq "work"].value eq "user1@example.com"`, nil, "user_emails_value_norm"},
		{sqlq.Users, `id eq "` + uuid.NewString() + `"`, nil, "users_pkey"},
		{sqlq.Users, `meta.lastModified gt "2099-01-01T00:00:00Z"`, nil, "users_last_modified_id"},
		{sqlq.Users, ``, lastMod, "users_last_modified_id"},
		{sqlq.Groups, `displayName eq "Group 1"`, nil, "groups_display_name_norm"},
		{sqlq.Groups, `externalId eq "g-1"`, nil, "groups_external_id"},
	}
	q, _ := filter.Parse(reg.User, `title eq "x"`)
	unindexed, _ := sqlq.List(sqlq.Postgres, sqlq.Users, "r.id", store.DefaultTenant, store.Query{Filter: q, Limit: 10})
	if strings.Contains(explain(t, conn, unindexed.Page, unindexed.PageArgs), "users_user_name_norm") {
		t.Fatalf("an unindexed filter does not scan: the check below cannot fail:\n%s", explain(t, conn, unindexed.Page, unindexed.PageArgs))
	}
	keyset, err := sqlq.List(sqlq.Postgres, sqlq.Users, "r.id", store.DefaultTenant,
		store.Query{Limit: 100, After: &store.Key{Created: time.Now().Add(-24 * time.Hour), ID: uuid.NewString()}})
	if err != nil {
		t.Fatal(err)
	}
	if plan := explain(t, conn, keyset.Page, keyset.PageArgs); strings.Contains(plan, "Seq Scan") || !strings.Contains(plan, "users_created") {
		t.Errorf("a keyset page does not start from the users_created index:\n%s\n%s", keyset.Page, plan)
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
		checks := [][]any{{stmts.Page, stmts.PageArgs}, {stmts.IDs, stmts.PageArgs}}
		if c.filter != "" {
			checks = append(checks, []any{stmts.Count, stmts.CountArgs})
		}
		if want := strings.Contains(c.filter, " eq "); stmts.Generic != want {
			t.Errorf("%s sort=%v: Generic = %v, want %v", c.filter, c.sortBy, stmts.Generic, want)
		}
		// A statement the store runs on a reused generic plan must use the
		// index on that plan too, not only on a plan made for the values.
		for _, generic := range []bool{false, true} {
			if generic && !stmts.Generic {
				continue
			}
			for _, s := range checks {
				plan := explainPlan(t, conn, s[0].(string), s[1].([]any), generic)
				if strings.Contains(plan, "Seq Scan on users") || strings.Contains(plan, "Seq Scan on groups") || !strings.Contains(plan, c.index) {
					t.Errorf("%s sort=%v (generic plan: %v) does not use %s:\n%s\n%s", c.filter, c.sortBy, generic, c.index, s[0], plan)
				}
			}
		}
	}
}

// explainPlan is explain, or the plan PostgreSQL reuses for every value:
// the statement prepared, then EXPLAIN EXECUTE under force_generic_plan.
func explainPlan(t *testing.T, conn *pgx.Conn, sql string, args []any, generic bool) string {
	if !generic {
		return explain(t, conn, sql, args)
	}
	ctx := context.Background()
	for _, stmt := range []string{"SET plan_cache_mode = force_generic_plan", "PREPARE generic_plan AS " + sql} {
		if _, err := conn.Exec(ctx, stmt, pgx.QueryExecModeSimpleProtocol); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	defer conn.Exec(ctx, "DEALLOCATE generic_plan; RESET plan_cache_mode", pgx.QueryExecModeSimpleProtocol)
	params := make([]string, len(args))
	for i, a := range args {
		str, ok := a.(string)
		if !ok {
			t.Fatalf("argument %d is %T, not a string", i+1, a)
		}
		params[i] = "'" + strings.ReplaceAll(str, "'", "''") + "'"
	}
	plan := explain(t, conn, "EXECUTE generic_plan("+strings.Join(params, ", ")+")", nil)
	if !strings.Contains(plan, "$1") {
		t.Fatalf("not a generic plan (no parameters in it):\n%s", plan)
	}
	return plan
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
	if err := rows.Err(); err != nil {
		t.Fatalf("explain %s: %v", sql, err)
	}
	return strings.Join(lines, "\n")
}

func seedForPlans(t *testing.T, conn *pgx.Conn) {
	ctx := context.Background()
	for _, stmt := range []string{
		`INSERT INTO users (tenant_id, id, user_name, user_name_norm, external_id, active, created, last_modified, version, doc)
		 SELECT 'default', gen_random_uuid()::text, 'User' || i || '@Example.com', 'user' || i || '@example.com', 'ext-' || i,
		        true, now() - i * interval '1 minute', now() - i * interval '1 minute', 1, '{}'
		 FROM generate_series(1, 5000) i`,
		`INSERT INTO user_emails (tenant_id, user_id, ord, value, value_norm, type)
		 SELECT tenant_id, id, 0, user_name_norm, user_name_norm, 'work' FROM users`,
		`INSERT INTO groups (tenant_id, id, display_name, display_name_norm, external_id, created, last_modified, version, doc)
		 SELECT 'default', gen_random_uuid()::text, 'Group ' || i, 'group ' || i, 'g-' || i, now(), now(), 1, '{}'
		 FROM generate_series(1, 5000) i`,
		`ANALYZE`,
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
}

// TestNoRedundantIndexes: no plain index is a leading prefix of another
// index of its table (same columns in the same order, then more): the
// longer one serves every query the shorter could, and each costs a write
// per row inserted. Unique indexes, partial ones and expression indexes
// enforce or cover something else and are left out as the shorter one.
func TestNoRedundantIndexes(t *testing.T) {
	dsn := pgtest.DSN(t)
	_, conn := storeAndConn(t, dsn) // the store migrates the schema
	rows, err := conn.Query(context.Background(), `
		SELECT c.relname, i.relname, x.indisunique OR x.indpred IS NOT NULL OR x.indexprs IS NOT NULL, x.indkey::text
		FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
		WHERE c.relnamespace = current_schema()::regnamespace`)
	if err != nil {
		t.Fatal(err)
	}
	type index struct {
		table, name string
		special     bool
		cols        string
	}
	idx, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (index, error) {
		var x index
		return x, r.Scan(&x.table, &x.name, &x.special, &x.cols)
	})
	if err != nil || len(idx) < 10 {
		t.Fatalf("indexes: %v (%d)", err, len(idx))
	}
	for _, a := range idx {
		for _, b := range idx {
			if a.table == b.table && a.name != b.name && !a.special && strings.HasPrefix(b.cols, a.cols+" ") {
				t.Errorf("index %s (columns %s) is a prefix of %s (columns %s) on %s", a.name, a.cols, b.name, b.cols, a.table)
			}
		}
	}
}
