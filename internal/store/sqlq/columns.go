package sqlq

import (
	"fmt"
	"strings"

	"github.com/scimbridge/scimbridge/internal/filter"
)

// column maps a singular attribute path to a column of the main table.
type column struct {
	sql   string
	kind  string
	lower bool // the column holds the case-folded value (schema.Fold)
}

var userColumns = map[string]column{
	"id":                {"r.id", "text", false},
	"externalid":        {"r.external_id", "text", false},
	"username":          {"r.user_name_norm", "text", true},
	"displayname":       {"r.display_name", "text", false},
	"active":            {"r.active", "bool", false},
	"meta.created":      {"r.created", "time", false},
	"meta.lastmodified": {"r.last_modified", "time", false},
}

var groupColumns = map[string]column{
	"id":                {"r.id", "text", false},
	"externalid":        {"r.external_id", "text", false},
	"displayname":       {"r.display_name_norm", "text", true},
	"meta.created":      {"r.created", "time", false},
	"meta.lastmodified": {"r.last_modified", "time", false},
}

// childColumns maps sub-attributes of multi-valued attributes kept in rows
// to the columns of those rows ("%s" is the row alias).
var childColumns = map[Resource]map[string]map[string]column{
	Users: {
		"emails": {"value": {"%s.value_norm", "text", true}, "type": {"%s.type", "text", false}},
		"groups": {"value": {"%s.group_id", "text", true}, "display": {"%sg.display_name", "text", false}, "type": {"'direct'", "text", true}},
	},
	Groups: {
		"members": {"value": {"%s.member_id", "text", true}, "type": {"%s.member_type", "text", false}, "display": {"%s.display", "text", false}},
	},
}

// tableFor reports whether every attribute in attrs (sub-attributes of a)
// lives in a's child rows, so the comparison can use them.
func tableFor(res Resource, a filter.Attr, attrs []filter.Attr) bool {
	cols, ok := childColumns[res][a.Name]
	if !ok || a.Extension {
		return false
	}
	for _, x := range attrs {
		if _, ok := cols[x.Sub]; !ok {
			return false
		}
	}
	return true
}

// childTable returns the FROM clause and correlation of a's child rows.
func childTable(res Resource, name, alias string) (string, string) {
	switch {
	case res == Users && name == "emails":
		return "user_emails " + alias, fmt.Sprintf("%[1]s.tenant_id = r.tenant_id AND %[1]s.user_id = r.id", alias)
	case res == Users && name == "groups":
		return fmt.Sprintf("group_members %[1]s JOIN groups %[1]sg ON %[1]sg.tenant_id = %[1]s.tenant_id AND %[1]sg.id = %[1]s.group_id", alias),
			fmt.Sprintf("%[1]s.tenant_id = r.tenant_id AND %[1]s.member_id = r.id", alias)
	}
	return "group_members " + alias, fmt.Sprintf("%[1]s.tenant_id = r.tenant_id AND %[1]s.group_id = r.id", alias)
}

// childKey is the column of a's child rows that names the main row.
func childKey(res Resource, name, alias string) string {
	switch {
	case res == Users && name == "emails":
		return alias + ".user_id"
	case res == Users && name == "groups":
		return alias + ".member_id"
	}
	return alias + ".group_id"
}

func (b *Builder) columns() map[string]column {
	if b.res == Groups {
		return groupColumns
	}
	return userColumns
}

// singular returns the operand of an attribute outside any value path.
func (b *Builder) singular(a filter.Attr) operand {
	if c, ok := b.columns()[a.Key()]; ok && !a.Extension {
		return operand{sql: c.sql, kind: c.kind, lower: c.lower, ok: true}
	}
	keys := []string{a.Name}
	if a.Extension {
		keys = []string{a.URN, a.Name}
	}
	if a.Sub != "" {
		keys = append(keys, a.Sub)
	}
	return b.jsonOperand("r.doc", keys, a.Type)
}

// scoped returns the operand of a sub-attribute inside a child row or a
// JSON element.
func (b *Builder) scoped(a filter.Attr, sc *scope) operand {
	if sc.table {
		c, ok := childColumns[b.res][a.Name][a.Sub]
		return operand{sql: strings.ReplaceAll(c.sql, "%s", sc.alias), kind: c.kind, lower: c.lower, ok: ok, child: true}
	}
	if a.Sub == "" {
		return b.elementSelf(sc.alias, a.Type)
	}
	return b.jsonOperand(b.elementDoc(sc.alias), []string{a.Sub}, a.Type)
}

// jsonOperand reads keys from a JSON document expression.
func (b *Builder) jsonOperand(doc string, keys []string, typ string) operand {
	kind := "text"
	switch typ {
	case "boolean":
		kind = "bool"
	case "complex":
		kind = "json"
	case "dateTime":
		return b.jsonTime(doc, keys)
	case "integer", "decimal":
		return b.jsonNumber(doc, keys)
	}
	if b.d == SQLite {
		return operand{sql: fmt.Sprintf("json_extract(%s, '%s')", doc, sqlitePath(keys)), kind: kind, json: true, ok: true}
	}
	last := "->>"
	if kind == "json" {
		last = "->"
	}
	return operand{sql: doc + pgPath(keys[:len(keys)-1]) + last + quote(keys[len(keys)-1]), kind: kind, json: true, ok: true}
}

// jsonTime reads a dateTime from a JSON document as the dialect's time
// (what timeArg compares with): timestamptz on PostgreSQL, microseconds
// since the epoch (to the millisecond) on SQLite. The only dateTime kept
// in documents is written by the server (lastLoginAt), always valid.
func (b *Builder) jsonTime(doc string, keys []string) operand {
	if b.d == SQLite {
		x := fmt.Sprintf("json_extract(%s, '%s')", doc, sqlitePath(keys))
		return operand{sql: "CAST(round(unixepoch(" + x + ", 'subsec') * 1000000) AS INTEGER)", kind: "time", json: true, ok: true}
	}
	x := doc + pgPath(keys[:len(keys)-1]) + "->>" + quote(keys[len(keys)-1])
	return operand{sql: "(" + x + ")::timestamptz", kind: "time", json: true, ok: true}
}

// jsonNumber reads an integer or decimal from a JSON document as an SQL
// number (numeric on PostgreSQL, SQLite's integer or real), NULL when the
// stored value is not a JSON number (an attribute whose type a tenant
// changed keeps its old values until they are rewritten).
func (b *Builder) jsonNumber(doc string, keys []string) operand {
	if b.d == SQLite {
		p := sqlitePath(keys)
		return operand{sql: fmt.Sprintf("(CASE WHEN json_type(%[1]s, '%[2]s') IN ('integer', 'real') THEN json_extract(%[1]s, '%[2]s') END)", doc, p),
			kind: "num", json: true, ok: true}
	}
	x := doc + pgPath(keys)
	return operand{sql: fmt.Sprintf("(CASE WHEN json_typeof(%[1]s) = 'number' THEN (%[2]s)::numeric END)", x,
		doc+pgPath(keys[:len(keys)-1])+"->>"+quote(keys[len(keys)-1])), kind: "num", json: true, ok: true}
}

// elementSelf is the value of a JSON array element itself (simple
// multi-valued attributes, or presence of a complex element).
func (b *Builder) elementSelf(alias, typ string) operand {
	kind := "text"
	if typ == "complex" {
		kind = "json"
	}
	if b.d == SQLite {
		return operand{sql: alias + ".value", kind: kind, json: true, ok: true}
	}
	if kind == "json" {
		return operand{sql: alias + ".v", kind: kind, json: true, ok: true}
	}
	return operand{sql: alias + ".v #>> '{}'", kind: kind, json: true, ok: true}
}

func (b *Builder) elementDoc(alias string) string {
	if b.d == SQLite {
		return alias + ".value"
	}
	return alias + ".v"
}

// jsonElements returns FROM and correlation iterating a's JSON array.
func (b *Builder) jsonElements(a filter.Attr, alias string) (string, string) {
	keys := []string{a.Name}
	if a.Extension {
		keys = []string{a.URN, a.Name}
	}
	if b.d == SQLite {
		p := sqlitePath(keys)
		return fmt.Sprintf("json_each(r.doc, '%s') AS %s", p, alias), fmt.Sprintf("json_type(r.doc, '%s') = 'array'", p)
	}
	p := "r.doc" + pgPath(keys)
	return fmt.Sprintf("json_array_elements(CASE WHEN json_typeof(%[1]s) = 'array' THEN %[1]s END) WITH ORDINALITY AS %[2]s(v, i)", p, alias), "TRUE"
}

func pgPath(keys []string) string {
	var s strings.Builder
	for _, k := range keys {
		s.WriteString("->" + quote(k))
	}
	return s.String()
}

func sqlitePath(keys []string) string {
	var s strings.Builder
	s.WriteString("$")
	for _, k := range keys {
		s.WriteString(`."` + k + `"`)
	}
	return s.String()
}

// quote makes an SQL string literal of a schema-defined name.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
