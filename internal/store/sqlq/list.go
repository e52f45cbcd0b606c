package sqlq

import (
	"fmt"
	"strconv"

	"github.com/scimbridge/scimbridge/internal/filter"
	"github.com/scimbridge/scimbridge/internal/store"
)

// Statements are the queries behind one list request: the count, and the
// page either in one statement (Page) or as its ids only (IDs, same
// arguments), for a backend that then fetches those rows by primary key —
// a deferred join, so that deep offsets skip index entries rather than
// whole documents.
type Statements struct {
	// Generic is true when the statements' best plan cannot depend on the
	// argument values (the filter is equality comparisons joined by and,
	// which indexes serve whatever the values): a backend may then reuse
	// one plan for all values.
	Generic   bool
	Count     string
	CountArgs []any
	Page      string
	IDs       string
	PageArgs  []any
}

// List builds the count and page statements of q over the resource's table
// (aliased r), selecting columns for the page.
func List(d Dialect, res Resource, columns, tenant string, q store.Query) (Statements, error) {
	table := "users"
	if res == Groups {
		table = "groups"
	}
	b := New(d, res, tenant)
	where, err := b.Where(q.Filter)
	if err != nil {
		return Statements{}, err
	}
	order, err := b.OrderBy(q.SortBy, q.Descending)
	if err != nil {
		return Statements{}, err
	}
	if d == SQLite && q.SortBy == nil && q.After == nil && keyed(res, q.Filter) {
		// A filter on key columns selects its few rows through their
		// indexes, sorted afterwards. SQLite, which has no statistics
		// here (the store never runs ANALYZE), would rather walk the
		// (tenant_id, created, id) index in order and test every row of
		// the tenant (an externalId eq, or a look-up of 1,000 userNames,
		// read all 100,000 users each); "+" keeps that index out of the
		// ORDER BY, the order stays the same.
		order = "+r.created, r.id"
	}
	from := fmt.Sprintf("FROM %s r WHERE r.tenant_id = %s AND ", table, placeholder(d, 1))
	st := Statements{Count: "SELECT count(*) " + from + where, CountArgs: append([]any(nil), b.Args()...)}
	if q.After != nil {
		// Keyset paging: the count above is of the whole filter; the page
		// starts after the key, through the (tenant_id, created, id) index.
		if q.SortBy != nil {
			return Statements{}, fmt.Errorf("sqlq: keyset paging (After) needs the default order")
		}
		where = fmt.Sprintf("(%s) AND (r.created, r.id) > (%s, %s)", where, b.Arg(b.timeArg(q.After.Created)), b.Arg(q.After.ID))
		q.Offset = 0
	}
	base := from + where
	st.Generic = q.Filter != nil && equalityOnly(q.Filter)
	var limit, offset string
	if st.Generic || q.After != nil {
		// Literal bounds: with parameters a generic plan must guess the
		// page size, and PostgreSQL would keep planning afresh. A keyset
		// page (an export's walk) needs them too: a generic plan that
		// guesses a large page sorts every row after the key, each page.
		limit, offset = strconv.Itoa(max(q.Limit, 0)), strconv.Itoa(max(q.Offset, 0))
	} else {
		limit, offset = b.Arg(q.Limit), b.Arg(max(q.Offset, 0))
	}
	st.Page = fmt.Sprintf("SELECT %s %s ORDER BY %s LIMIT %s OFFSET %s", columns, base, order, limit, offset)
	st.IDs = fmt.Sprintf("SELECT r.id %s ORDER BY %s LIMIT %s OFFSET %s", base, order, limit, offset)
	st.PageArgs = b.Args()
	return st, nil
}

// equalityOnly reports whether e is made of eq comparisons and and.
func equalityOnly(e filter.Expr) bool {
	switch x := e.(type) {
	case *filter.Compare:
		return x.Op == filter.Eq
	case *filter.ValuePath:
		return equalityOnly(x.Filter)
	case *filter.And:
		return equalityOnly(x.Left) && equalityOnly(x.Right)
	case *filter.Const:
		return true
	}
	return false
}

func placeholder(d Dialect, n int) string {
	if d == Postgres {
		return fmt.Sprintf("$%d", n)
	}
	return "?"
}
