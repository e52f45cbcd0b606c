// Package sqlq translates resolved SCIM filters and sort orders into SQL for
// the store backends, in the PostgreSQL or SQLite dialect. Values always
// travel as parameters; identifiers in the SQL come only from the schema
// registry. Attributes kept in columns (userName, externalId, displayName,
// active, id, meta.*) and the emails and membership rows are compared
// through their indexes; every other attribute through the JSON document.
// Comparisons stay sargable and NULL-safe negation makes "not" and "ne"
// follow the semantics of package filter exactly (its Eval is the oracle
// in the differential tests).
package sqlq

import (
	"fmt"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/internal/filter"
	"github.com/scimbridge/scimbridge/internal/schema"
)

// Dialect selects the SQL flavour.
type Dialect int

// The dialects.
const (
	Postgres Dialect = iota
	SQLite
)

// Resource selects the table a query runs on.
type Resource int

// The resources.
const (
	Users Resource = iota
	Groups
)

// Builder accumulates SQL parameters. The main table is aliased "r".
type Builder struct {
	d    Dialect
	res  Resource
	args []any
	n    int // counter for subquery aliases
}

// New starts a builder whose first parameters are args (e.g. the tenant).
func New(d Dialect, res Resource, args ...any) *Builder {
	return &Builder{d: d, res: res, args: args}
}

// Args returns every parameter added so far.
func (b *Builder) Args() []any { return b.args }

// Arg adds a parameter and returns its placeholder.
func (b *Builder) Arg(v any) string {
	b.args = append(b.args, v)
	if b.d == Postgres {
		return fmt.Sprintf("$%d", len(b.args))
	}
	return "?"
}

// Where translates e into a boolean SQL expression ("TRUE" for nil).
func (b *Builder) Where(e filter.Expr) (string, error) {
	if e == nil {
		return "TRUE", nil
	}
	return b.expr(e, nil)
}

// scope is where a comparison inside a value path reads its
// sub-attributes: one row of a child table or one JSON array element.
type scope struct {
	attr  string // the multi-valued attribute's name
	alias string
	table bool // child table rather than JSON element
}

func (b *Builder) expr(e filter.Expr, sc *scope) (string, error) {
	switch e := e.(type) {
	case *filter.And:
		return b.pair(e.Left, e.Right, "AND", sc)
	case *filter.Or:
		if in, ok := b.inList(e, sc); ok {
			return in, nil
		}
		return b.pair(e.Left, e.Right, "OR", sc)
	case *filter.Not:
		x, err := b.expr(e.X, sc)
		return negate(x), err
	case *filter.ValuePath:
		return b.valuePath(e)
	case *filter.Const:
		if e.Value {
			return "TRUE", nil
		}
		return "FALSE", nil
	case *filter.Compare:
		return b.compare(e, sc)
	}
	return "", fmt.Errorf("sqlq: unknown expression %T", e)
}

func (b *Builder) pair(l, r filter.Expr, op string, sc *scope) (string, error) {
	ls, err := b.expr(l, sc)
	if err != nil {
		return "", err
	}
	rs, err := b.expr(r, sc)
	return "(" + ls + " " + op + " " + rs + ")", err
}

func (b *Builder) alias() string {
	b.n++
	return fmt.Sprintf("x%d", b.n)
}

// compare translates one comparison. Outside a value path, a comparison on
// a multi-valued attribute becomes EXISTS over its rows or elements.
func (b *Builder) compare(c *filter.Compare, sc *scope) (string, error) {
	if sc != nil {
		return b.leaf(c, b.scoped(c.Attr, sc))
	}
	if !c.Attr.MultiValued {
		return b.leaf(c, b.singular(c.Attr))
	}
	if c.Op == filter.Pr && c.Attr.Sub == "" && rowsOnly(b.res, c.Attr) {
		return b.exists(c.Attr, true, func(*scope) (string, error) { return "TRUE", nil })
	}
	if c.Op == filter.Ne {
		eq := *c
		eq.Op = filter.Eq
		inner, err := b.compare(&eq, nil)
		return negate(inner), err
	}
	return b.exists(c.Attr, tableFor(b.res, c.Attr, []filter.Attr{c.Attr}), func(s *scope) (string, error) {
		return b.leaf(c, b.scoped(c.Attr, s))
	})
}

// rowsOnly reports whether a's elements exist only as rows, not in the
// JSON document: a user's groups and a group's members.
func rowsOnly(res Resource, a filter.Attr) bool {
	return !a.Extension && (res == Users && a.Name == "groups" || res == Groups && a.Name == "members")
}

func (b *Builder) valuePath(v *filter.ValuePath) (string, error) {
	useTable := tableFor(b.res, v.Attr, attrsOf(v.Filter))
	return b.exists(v.Attr, useTable, func(s *scope) (string, error) { return b.expr(v.Filter, s) })
}

// exists builds EXISTS over the rows (child table) or JSON elements of a
// multi-valued attribute, with cond evaluated per row.
func (b *Builder) exists(a filter.Attr, useTable bool, cond func(*scope) (string, error)) (string, error) {
	s := &scope{attr: a.Name, alias: b.alias(), table: useTable}
	var from, corr string
	if useTable {
		from, corr = childTable(b.res, a.Name, s.alias)
	} else {
		from, corr = b.jsonElements(a, s.alias)
	}
	if useTable && b.d == SQLite && len(b.args) > 0 {
		// SQLite does not turn a correlated EXISTS into a lookup: it would
		// test every user. "id IN (rows matching)" lets it use the index
		// of the child rows first. (The tenant parameter precedes the
		// condition's: SQLite's are positional.)
		col := childKey(b.res, a.Name, s.alias)
		tenant := b.Arg(b.args[0])
		c, err := cond(s)
		return fmt.Sprintf("r.id IN (SELECT %s FROM %s WHERE %s.tenant_id = %s AND %s)", col, from, s.alias, tenant, c), err
	}
	c, err := cond(s)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("EXISTS (SELECT 1 FROM %s WHERE %s AND %s)", from, corr, c), nil
}

func attrsOf(e filter.Expr) []filter.Attr {
	switch e := e.(type) {
	case *filter.And:
		return append(attrsOf(e.Left), attrsOf(e.Right)...)
	case *filter.Or:
		return append(attrsOf(e.Left), attrsOf(e.Right)...)
	case *filter.Not:
		return attrsOf(e.X)
	case *filter.Compare:
		return []filter.Attr{e.Attr}
	}
	return nil
}

// operand is an SQL expression for an attribute value and how it is stored.
type operand struct {
	sql   string
	kind  string // "text", "bool", "time", "num"
	json  bool   // read from a JSON document (booleans are JSON, not columns)
	lower bool   // already case-folded (normalised column)
	ok    bool   // false: the attribute cannot be reached (e.g. JSON-only sub in table scope)
	child bool   // a column of a child table (emails, memberships)
}

// leaf translates a comparison on a resolved operand.
func (b *Builder) leaf(c *filter.Compare, o operand) (string, error) {
	if !o.ok {
		return "", fmt.Errorf("sqlq: %s cannot be addressed here", c.Attr)
	}
	if c.Op == filter.Pr {
		return b.present(o), nil
	}
	if c.Op == filter.Ne {
		eq := *c
		eq.Op = filter.Eq
		s, err := b.leaf(&eq, o)
		return negate(s), err
	}
	var s string
	switch c.Value.Kind {
	case filter.KindBool:
		s = o.sql + " = " + b.Arg(b.boolArg(c.Value.Bool, o.json))
	case filter.KindTime:
		s = o.sql + " " + sqlOp(c.Op) + " " + b.Arg(b.timeArg(c.Value.Time))
	case filter.KindNumber:
		s = o.sql + " " + sqlOp(c.Op) + " " + b.numberArg(c.Value)
	default:
		s = b.text(c, o)
	}
	return s, nil
}

// negate is NOT for SQL's three-valued logic. Comparisons are emitted bare
// (so indexes apply) and may be NULL when a value is missing; under AND and
// OR a NULL acts exactly like FALSE as far as a row being selected goes,
// so only a negation needs to turn NULL into FALSE first.
func negate(x string) string {
	return "(NOT COALESCE(" + x + ", FALSE))"
}

func (b *Builder) present(o operand) string {
	if o.kind == "text" {
		return "(" + o.sql + " <> '')"
	}
	return "(" + o.sql + " IS NOT NULL)"
}

// text compares strings by the attribute's case rule.
func (b *Builder) text(c *filter.Compare, o operand) string {
	x, v := o.sql, c.Value.Str
	if !c.Attr.CaseExact {
		v = schema.Fold(v)
		if !o.lower {
			x = b.lower(x)
		}
	}
	var s string
	switch c.Op {
	case filter.Co, filter.Sw, filter.Ew:
		s = b.like(x, c.Op, v)
	case filter.Eq:
		s = x + " = " + b.Arg(v)
	default:
		y := x
		if b.d == SQLite && o.child {
			// Unary + keeps SQLite from answering the correlated lookup
			// of a resource's rows with a range scan of the value index,
			// which visits every matching row of the tenant per resource.
			y = "+" + x
		}
		s = b.collate(y) + " " + sqlOp(c.Op) + " " + b.Arg(v)
	}
	// An empty string is no value (package filter), yet in SQL '' = '',
	// '' < 'b' and '' LIKE '%' hold: keep stored empty strings (JSON "",
	// an email row without a value) from matching. eq and gt with a
	// non-empty value cannot match one, so they stay bare for the indexes.
	if v == "" || c.Op == filter.Ge || c.Op == filter.Lt || c.Op == filter.Le {
		s = "(" + x + " <> '' AND " + s + ")"
	}
	return s
}

func sqlOp(op filter.Op) string {
	return map[filter.Op]string{filter.Eq: "=", filter.Gt: ">", filter.Ge: ">=", filter.Lt: "<", filter.Le: "<="}[op]
}

// lower folds case (schema.Fold) in SQL: scim_fold on PostgreSQL (created
// by migration 0007 from Go's tables), scim_lower on SQLite (Go itself).
func (b *Builder) lower(x string) string {
	if b.d == Postgres {
		return "scim_fold(" + x + ")"
	}
	return "scim_lower(" + x + ")"
}

func (b *Builder) collate(x string) string {
	if b.d == Postgres {
		return x + ` COLLATE "C"`
	}
	return x
}

// like builds co/sw/ew: LIKE with escaped wildcards on PostgreSQL, and Go
// string functions registered by the SQLite backend (SQLite's LIKE ignores
// ASCII case).
func (b *Builder) like(x string, op filter.Op, v string) string {
	if b.d == SQLite {
		return fmt.Sprintf("scim_%s(%s, %s)", op, x, b.Arg(v))
	}
	p := EscapeLike(v)
	switch op {
	case filter.Co:
		p = "%" + p + "%"
	case filter.Sw:
		p += "%"
	case filter.Ew:
		p = "%" + p
	}
	return x + " LIKE " + b.Arg(p) + ` ESCAPE '\'`
}

// EscapeLike escapes LIKE wildcards and the escape character itself.
func EscapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func (b *Builder) boolArg(v bool, json bool) any {
	switch {
	case b.d == SQLite && v:
		return 1
	case b.d == SQLite:
		return 0
	case json && v:
		return "true"
	case json:
		return "false"
	}
	return v
}

// numberArg is a number parameter: exact numeric text on PostgreSQL, a
// float on SQLite (whose JSON numbers are integers or reals).
func (b *Builder) numberArg(v filter.Value) string {
	if b.d == SQLite {
		return b.Arg(v.Num)
	}
	return b.Arg(v.Str) + "::numeric"
}

func (b *Builder) timeArg(t time.Time) any {
	if b.d == SQLite {
		return t.UnixMicro()
	}
	return t
}

// inList translates an OR of eq comparisons of one column attribute
// with non-empty strings (`userName eq "a" or userName eq "b" ...`, as
// the directory's key lookups send) into "x IN (...)": the same rows, as
// one index condition. Spelled as an OR chain, PostgreSQL's generic plan
// for the prepared statement scans the whole table in creation order,
// testing every row against every key.
func (b *Builder) inList(e *filter.Or, sc *scope) (string, bool) {
	var leaves []*filter.Compare
	if sc != nil || !eqLeaves(e, &leaves) {
		return "", false
	}
	a := leaves[0].Attr
	if a.MultiValued {
		return b.emailInList(leaves)
	}
	col, ok := b.columns()[a.Key()]
	if !ok || a.Extension || a.MultiValued || col.kind != "text" {
		return "", false
	}
	for _, c := range leaves {
		if c.Attr != a || c.Value.Str == "" {
			return "", false
		}
	}
	x := col.sql
	if !a.CaseExact && !col.lower {
		x = b.lower(x)
	}
	params := make([]string, len(leaves))
	for i, c := range leaves {
		v := c.Value.Str
		if !a.CaseExact {
			v = schema.Fold(v)
		}
		params[i] = b.Arg(v)
	}
	return x + " IN (" + strings.Join(params, ", ") + ")", true
}

// emailInList is inList for `emails.value eq "a" or emails.value eq "b"
// ...` on SQLite: one "r.id IN (rows with any of the values)" through
// user_emails' value index, where an OR of one such subquery per value
// leaves SQLite walking every user of the tenant.
func (b *Builder) emailInList(leaves []*filter.Compare) (string, bool) {
	a := leaves[0].Attr
	if b.d != SQLite || b.res != Users || a.Extension || a.Name != "emails" || a.Sub != "value" || len(b.args) == 0 {
		return "", false
	}
	params := make([]string, 0, len(leaves))
	for _, c := range leaves {
		if c.Attr != a || c.Value.Str == "" {
			return "", false
		}
	}
	s := b.alias()
	tenant := b.Arg(b.args[0])
	for _, c := range leaves {
		params = append(params, b.Arg(schema.Fold(c.Value.Str)))
	}
	from, _ := childTable(b.res, a.Name, s)
	return fmt.Sprintf("r.id IN (SELECT %s FROM %s WHERE %s.tenant_id = %s AND %s.value_norm IN (%s))",
		childKey(b.res, a.Name, s), from, s, tenant, s, strings.Join(params, ", ")), true
}

// eqLeaves collects the string eq comparisons an OR tree consists of,
// reporting false when it holds anything else.
func eqLeaves(e filter.Expr, out *[]*filter.Compare) bool {
	switch e := e.(type) {
	case *filter.Or:
		return eqLeaves(e.Left, out) && eqLeaves(e.Right, out)
	case *filter.Compare:
		*out = append(*out, e)
		return e.Op == filter.Eq && e.Value.Kind == filter.KindString
	}
	return false
}
