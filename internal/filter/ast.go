// Package filter parses SCIM filters and attribute paths (RFC 7644 §3.4.2.2)
// with github.com/scim2/filter-parser/v2 and resolves them against the schema
// registry into a small typed AST that store backends translate to SQL and
// that Eval evaluates in memory (the oracle of the differential tests).
//
// Semantics, shared by every evaluator of the AST:
//   - An attribute without a value (absent, null, "" or an empty array) makes
//     every comparison false, except ne, which is true.
//   - ne is exactly "not eq": on a multi-valued attribute it matches when no
//     element equals the value.
//   - Other comparisons on a multi-valued attribute match when any element
//     matches. A value path attr[f] matches when one element satisfies all of
//     f; attr[f].sub op v is read as attr[f and sub op v] (Entra sends it).
//   - Strings compare by the attribute's caseExact (case-insensitive ones
//     through schema.Fold, Unicode simple case folding), ordering
//     comparisons by bytes.
//   - dateTimes compare as instants at microsecond precision (the stores'
//     precision); a filter value with finer digits is truncated.
//   - pr is true when the attribute has a value. "eq null" is "not pr" and
//     "ne null" is "pr".
//   - A comparison on a multi-valued complex attribute without a
//     sub-attribute applies to its "value" sub-attribute.
package filter

import (
	"time"
)

// Op is a comparison operator.
type Op string

// The comparison operators.
const (
	Eq Op = "eq"
	Ne Op = "ne"
	Co Op = "co"
	Sw Op = "sw"
	Ew Op = "ew"
	Gt Op = "gt"
	Ge Op = "ge"
	Lt Op = "lt"
	Le Op = "le"
	Pr Op = "pr"
)

// Expr is a resolved filter expression: *And, *Or, *Not, *Compare,
// *ValuePath or *Const.
type Expr interface{ isExpr() }

// And is true when both sides are.
type And struct{ Left, Right Expr }

// Or is true when either side is.
type Or struct{ Left, Right Expr }

// Not negates X.
type Not struct{ X Expr }

// Compare compares an attribute with a value (Op Pr has no value).
type Compare struct {
	Attr  Attr
	Op    Op
	Value Value
}

// ValuePath is attr[Filter]: some element of the multi-valued complex
// attribute Attr satisfies Filter, whose comparisons name sub-attributes of
// Attr (their Attr.Sub is set and Attr.Name equals this Attr's).
type ValuePath struct {
	Attr   Attr
	Filter Expr
}

// Const is a constant truth value. ParseLenient produces it for
// comparisons on attributes the resource type does not have (they behave
// as absent attributes: false, except ne, which is true).
type Const struct{ Value bool }

func (*Const) isExpr()     {}
func (*And) isExpr()       {}
func (*Or) isExpr()        {}
func (*Not) isExpr()       {}
func (*Compare) isExpr()   {}
func (*ValuePath) isExpr() {}

// Kind is the data type of a compared value.
type Kind int

// Value kinds.
const (
	KindString Kind = iota
	KindBool
	KindTime
	// KindNumber compares integer and decimal attributes: Num is the value
	// and Str its decimal text (for exact comparison in SQL).
	KindNumber
)

// Value is a typed comparison value.
type Value struct {
	Kind Kind
	Str  string
	Bool bool
	Time time.Time
	Num  float64
}

// Attr is a resolved attribute path.
type Attr struct {
	// URN is the schema of the attribute: the core schema, an extension, or
	// "" for the common attributes id, externalId and meta.
	URN string
	// Name and Sub are the canonical attribute and sub-attribute names.
	Name string
	Sub  string
	// Type is the SCIM data type of the addressed (sub-)attribute.
	Type string
	// CaseExact applies to string comparisons.
	CaseExact bool
	// MultiValued is true when Name is multi-valued.
	MultiValued bool
	// Extension is true when URN names an extension schema, whose
	// attributes live under the URN key of the resource.
	Extension bool
	// Mutability of the addressed (sub-)attribute: readWrite, readOnly,
	// immutable or writeOnly.
	Mutability string
}

// String renders the path as a client would write it.
func (a Attr) String() string {
	s := a.Name
	if a.Extension {
		s = a.URN + ":" + s
	}
	if a.Sub != "" {
		s += "." + a.Sub
	}
	return s
}

// Key returns the path with the sub-attribute, lower-cased, for lookups.
func (a Attr) Key() string {
	return lower(a.String())
}
