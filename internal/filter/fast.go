package filter

import (
	"encoding/json"
	"regexp"
	"strings"

	fp "github.com/scim2/filter-parser/v2"
)

// simplePath matches an attribute path without brackets: an optional
// schema URN prefix, a name and an optional sub-attribute, with exactly the
// characters the general parser takes (FuzzFastPathAgrees holds it to it).
var simplePath = regexp.MustCompile(`^(?:((?i:urn)(?::[A-Za-z0-9.-]+)+):)?([A-Za-z][A-Za-z0-9_-]*)(?:\.(\$?[A-Za-z][A-Za-z0-9_-]*))?$`)

// fastAST parses the filter shapes identity providers send on nearly every
// request (userName eq "x", externalId eq "y", title pr) without the
// general parser, whose allocations cost more than the database lookup
// they lead to. Anything else returns ok false and takes the general path,
// so both paths must agree (the unit tests and the differential tests
// hold them to it).
func fastAST(toks []token) (fp.Expression, bool) {
	if vp, ok := fastValuePath(toks); ok {
		return vp, true
	}
	return fastCompare(toks)
}

// fastValuePath parses attr[comparison], the form PATCH paths name group
// members and emails by (members[value eq "id"]), as the general parser
// would: no space before or just inside the brackets.
func fastValuePath(toks []token) (fp.Expression, bool) {
	n := len(toks)
	if n < 5 || n > 10 || toks[1].text != "[" || toks[n-1].text != "]" || toks[1].sp || toks[2].sp || toks[n-1].sp {
		return nil, false
	}
	m := simplePath.FindStringSubmatch(toks[0].text)
	if m == nil || m[3] != "" {
		return nil, false
	}
	inner, ok := fastValueFilter(toks[2 : n-1])
	if !ok {
		return nil, false
	}
	path := fp.AttributePath{AttributeName: m[2]}
	if m[1] != "" {
		path.URIPrefix = &m[1]
	}
	return &fp.ValuePath{AttributePath: path, ValueFilter: inner}, true
}

// fastAttrPath parses an attribute path without brackets (userName,
// name.givenName, urn:...:User:department) as the general parser does.
func fastAttrPath(text string) (fp.AttributePath, bool) {
	m := simplePath.FindStringSubmatch(text)
	if m == nil {
		return fp.AttributePath{}, false
	}
	path := fp.AttributePath{AttributeName: m[2]}
	if m[1] != "" {
		path.URIPrefix = &m[1]
	}
	if m[3] != "" {
		path.SubAttribute = &m[3]
	}
	return path, true
}

// fastValueFilter parses the filter inside a value path: one comparison,
// or two joined by and (Entra's emails[type eq "work"].value eq "x" is
// rewritten to that).
func fastValueFilter(toks []token) (fp.Expression, bool) {
	for i := 2; i < len(toks)-1; i++ {
		if !strings.EqualFold(toks[i].text, "and") {
			continue
		}
		if !toks[i].sp || !toks[i+1].sp {
			return nil, false
		}
		left, ok := fastCompare(toks[:i])
		if !ok {
			return nil, false
		}
		right, ok := fastCompare(toks[i+1:])
		if !ok {
			return nil, false
		}
		return &fp.LogicalExpression{Left: left, Right: right, Operator: fp.AND}, true
	}
	return fastCompare(toks)
}

// fastCompare parses a single comparison: attr op value, or attr pr.
func fastCompare(toks []token) (fp.Expression, bool) {
	if len(toks) != 2 && len(toks) != 3 {
		return nil, false
	}
	// The grammar wants a space on either side of the operator.
	if !toks[1].sp || (len(toks) == 3 && !toks[2].sp) {
		return nil, false
	}
	path, ok := fastAttrPath(toks[0].text)
	if !ok {
		return nil, false
	}
	op := strings.ToLower(toks[1].text)
	if len(toks) == 2 {
		return &fp.AttributeExpression{AttributePath: path, Operator: fp.PR}, op == "pr"
	}
	value, ok := fastValue(toks[2].text)
	if !compareOps[op] || !ok {
		return nil, false
	}
	return &fp.AttributeExpression{AttributePath: path, Operator: fp.CompareOperator(op), CompareValue: value}, true
}

// fastValue reads a comparison value token the way the general parser
// does: a quoted string keeps its escapes (decoded later), numbers stay
// json.Number.
func fastValue(t string) (any, bool) {
	switch t {
	case "true":
		return true, true
	case "false":
		return false, true
	case "null":
		return nil, true
	}
	if len(t) >= 2 && t[0] == '"' && t[len(t)-1] == '"' {
		return t[1 : len(t)-1], json.Valid([]byte(t)) // bad escapes take the general path (and its error)
	}
	var n json.Number
	if json.Unmarshal([]byte(t), &n) == nil {
		return n, true
	}
	return nil, false
}
