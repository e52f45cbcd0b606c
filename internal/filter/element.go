package filter

// MatchElement reports whether one element of a multi-valued complex
// attribute satisfies the filter of a value path (vp.Filter), e.g. the
// "type eq \"work\"" of emails[type eq "work"]. PATCH uses it to find the
// elements a path addresses.
func MatchElement(f Expr, elem map[string]any) bool {
	return eval(f, nil, elem)
}

// EqualityTemplate returns the element a value-path filter describes when
// it is only eq comparisons joined by and (type eq "work" and primary eq
// true gives {"type": "work", "primary": true}); ok is false otherwise.
// PATCH creates this element when a filtered add or replace matches none.
func EqualityTemplate(f Expr) (map[string]any, bool) {
	out := map[string]any{}
	return out, collectEq(f, out)
}

func collectEq(f Expr, out map[string]any) bool {
	switch f := f.(type) {
	case *And:
		return collectEq(f.Left, out) && collectEq(f.Right, out)
	case *Compare:
		if f.Op != Eq || f.Attr.Sub == "" {
			return false
		}
		switch f.Value.Kind {
		case KindString:
			out[f.Attr.Sub] = f.Value.Str
		case KindBool:
			out[f.Attr.Sub] = f.Value.Bool
		default:
			return false
		}
		return true
	}
	return false
}
