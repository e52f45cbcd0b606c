package sqlq

import (
	"fmt"

	"github.com/scimbridge/scimbridge/internal/filter"
)

// OrderBy returns the ORDER BY list for sortBy (nil: creation order):
// missing values last in either direction, ties broken by id ascending.
func (b *Builder) OrderBy(sortBy *filter.Attr, descending bool) (string, error) {
	if sortBy == nil {
		return "r.created, r.id", nil
	}
	key, err := b.sortKey(*sortBy)
	if err != nil {
		return "", err
	}
	dir := "ASC"
	if descending {
		dir = "DESC"
	}
	return fmt.Sprintf("%s %s NULLS LAST, r.id", key, dir), nil
}

// sortKey is the SQL value a resource sorts by: a text key is case-folded
// for case-insensitive attributes and empty means missing.
func (b *Builder) sortKey(a filter.Attr) (string, error) {
	if a.MultiValued {
		return b.primaryKey(a)
	}
	o := b.singular(a)
	if !o.ok || o.kind == "json" {
		return "", fmt.Errorf("sqlq: cannot sort by %s", a)
	}
	return b.keyExpr(a, o), nil
}

func (b *Builder) keyExpr(a filter.Attr, o operand) string {
	if o.kind != "text" {
		return o.sql
	}
	x := o.sql
	if !a.CaseExact && !o.lower {
		x = b.lower(x)
	}
	return b.collate("NULLIF(" + x + ", '')")
}

// primaryKey sorts by the sub-attribute of the primary element (else the
// first) of a multi-valued attribute.
func (b *Builder) primaryKey(a filter.Attr) (string, error) {
	if a.Sub == "" || a.Name == "groups" || a.Name == "members" {
		return "", fmt.Errorf("sqlq: cannot sort by %s", a)
	}
	alias := b.alias()
	if b.res == Users && a.Name == "emails" && !a.Extension && (a.Sub == "value" || a.Sub == "type") {
		from, corr := childTable(b.res, a.Name, alias)
		o := b.scoped(a, &scope{attr: a.Name, alias: alias, table: true})
		return fmt.Sprintf("(SELECT %s FROM %s WHERE %s ORDER BY %s.is_primary DESC, %s.ord LIMIT 1)",
			b.keyExpr(a, o), from, corr, alias, alias), nil
	}
	from, corr := b.jsonElements(a, alias)
	o := b.scoped(a, &scope{attr: a.Name, alias: alias})
	if !o.ok || o.kind == "json" {
		return "", fmt.Errorf("sqlq: cannot sort by %s", a)
	}
	primary := b.jsonOperand(b.elementDoc(alias), []string{"primary"}, "boolean").sql
	return fmt.Sprintf("(SELECT %s FROM %s WHERE %s ORDER BY COALESCE(%s = %s, FALSE) DESC, %s LIMIT 1)",
		b.keyExpr(a, o), from, corr, primary, b.trueLiteral(), b.ordinal(alias)), nil
}

func (b *Builder) trueLiteral() string {
	if b.d == SQLite {
		return "1"
	}
	return "'true'"
}

func (b *Builder) ordinal(alias string) string {
	if b.d == SQLite {
		return alias + ".key"
	}
	return alias + ".i"
}

// keyed reports whether e selects rows through the index of a key column
// (id, userName, externalId or emails.value of users; id, displayName or
// externalId of groups): an eq on one, an or of such, or an and with one
// on either side.
func keyed(res Resource, e filter.Expr) bool {
	switch x := e.(type) {
	case *filter.Compare:
		if x.Op != filter.Eq || x.Attr.Extension {
			return false
		}
		if x.Attr.Sub != "" { // user_emails_value_norm, then the primary key
			return res == Users && x.Attr.Name == "emails" && x.Attr.Sub == "value"
		}
		return keyName(res, x.Attr.Name)
	case *filter.Or:
		return keyed(res, x.Left) && keyed(res, x.Right)
	case *filter.And:
		return keyed(res, x.Left) || keyed(res, x.Right)
	}
	return false
}

// keyName reports whether attribute name of res has an index of its own.
func keyName(res Resource, name string) bool {
	switch name {
	case "id", "externalId":
		return true
	case "userName":
		return res == Users
	case "displayName":
		return res == Groups
	}
	return false
}
