package filter

import (
	"cmp"
	"encoding/json"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/internal/schema"
)

// Resource is a resource in its wire form: canonical attribute names,
// extension attributes under their URN, "id", and "meta" with "created"
// and "lastModified" as time.Time or RFC 3339 strings.
type Resource = map[string]any

// Eval reports whether res matches e, by the semantics in the package doc.
// It is the reference the SQL translations are tested against.
func Eval(e Expr, res Resource) bool {
	return eval(e, res, nil)
}

// eval evaluates e; elem is the element of a value path being tested.
func eval(e Expr, res Resource, elem map[string]any) bool {
	switch e := e.(type) {
	case *And:
		return eval(e.Left, res, elem) && eval(e.Right, res, elem)
	case *Or:
		return eval(e.Left, res, elem) || eval(e.Right, res, elem)
	case *Not:
		return !eval(e.X, res, elem)
	case *Const:
		return e.Value
	case *ValuePath:
		for _, el := range elements(res, e.Attr) {
			if m, ok := el.(map[string]any); ok && eval(e.Filter, res, m) {
				return true
			}
		}
		return false
	case *Compare:
		if elem != nil { // one element's sub-attribute: no list to build
			return evalOne(e, elem[e.Attr.Sub])
		}
		return evalCompare(e, candidates(res, e.Attr, elem))
	}
	return false
}

// evalOne is evalCompare of the candidates a single value gives: itself
// when present, none otherwise.
func evalOne(c *Compare, v any) bool {
	present := Present(v)
	switch c.Op {
	case Pr:
		return present
	case Ne:
		return !(present && match(c.Attr, Eq, c.Value, v))
	}
	return present && match(c.Attr, c.Op, c.Value, v)
}

func evalCompare(c *Compare, vals []any) bool {
	switch c.Op {
	case Pr:
		return len(vals) > 0
	case Ne:
		return !anyMatch(c.Attr, Eq, c.Value, vals)
	}
	return anyMatch(c.Attr, c.Op, c.Value, vals)
}

func anyMatch(a Attr, op Op, want Value, vals []any) bool {
	for _, v := range vals {
		if match(a, op, want, v) {
			return true
		}
	}
	return false
}

// candidates are the present values an attribute path yields.
func candidates(res Resource, a Attr, elem map[string]any) []any {
	var raw []any
	switch {
	case elem != nil:
		raw = []any{elem[a.Sub]}
	case a.MultiValued:
		for _, el := range elements(res, a) {
			if a.Sub == "" {
				raw = append(raw, el)
			} else if m, ok := el.(map[string]any); ok {
				raw = append(raw, m[a.Sub])
			}
		}
	default:
		raw = []any{single(res, a)}
	}
	out := raw[:0]
	for _, v := range raw {
		if Present(v) {
			out = append(out, v)
		}
	}
	return out
}

// top returns the top-level value of a's attribute.
func top(res Resource, a Attr) any {
	if a.Extension {
		ext, _ := res[a.URN].(map[string]any)
		return ext[a.Name]
	}
	return res[a.Name]
}

func elements(res Resource, a Attr) []any {
	list, _ := top(res, a).([]any)
	return list
}

func single(res Resource, a Attr) any {
	v := top(res, a)
	if a.Sub == "" {
		return v
	}
	m, _ := v.(map[string]any)
	return m[a.Sub]
}

// Present reports whether v counts as a value: not nil, "", [] or {}.
func Present(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case string:
		return v != ""
	case []any:
		return len(v) > 0
	case map[string]any:
		for _, x := range v {
			if Present(x) {
				return true
			}
		}
		return false
	}
	return true
}

func match(a Attr, op Op, want Value, v any) bool {
	switch want.Kind {
	case KindBool:
		b, ok := v.(bool)
		return ok && op == Eq && b == want.Bool
	case KindTime:
		t, ok := asTime(v)
		return ok && compareOrder(op, t.Compare(want.Time))
	case KindNumber:
		f, ok := asNumber(v)
		return ok && compareOrder(op, cmp.Compare(f, want.Num))
	}
	s, ok := v.(string)
	if !ok {
		return false
	}
	w := want.Str
	if !a.CaseExact {
		s, w = schema.Fold(s), schema.Fold(w)
	}
	switch op {
	case Co:
		return strings.Contains(s, w)
	case Sw:
		return strings.HasPrefix(s, w)
	case Ew:
		return strings.HasSuffix(s, w)
	}
	return compareOrder(op, strings.Compare(s, w))
}

// compareOrder applies eq/gt/ge/lt/le to a three-way comparison.
func compareOrder(op Op, c int) bool {
	switch op {
	case Eq:
		return c == 0
	case Gt:
		return c > 0
	case Ge:
		return c >= 0
	case Lt:
		return c < 0
	case Le:
		return c <= 0
	}
	return false
}

func asNumber(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}

func asTime(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, true
	case string:
		p, err := time.Parse(time.RFC3339Nano, t)
		return p, err == nil
	}
	return time.Time{}, false
}
