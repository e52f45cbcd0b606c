package filter

import (
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/internal/schema"
)

// SortKey returns the value a resource sorts by under sortBy a: the value
// of a singular attribute, or for a multi-valued one the sub-attribute of
// its primary element (else its first). Strings of case-insensitive
// attributes are lower-cased. ok is false when there is no value.
func SortKey(res Resource, a Attr) (any, bool) {
	var v any
	if a.MultiValued {
		el := primaryElement(elements(res, a))
		if a.Sub == "" {
			v = el
		} else if m, ok := el.(map[string]any); ok {
			v = m[a.Sub]
		}
	} else {
		v = single(res, a)
	}
	if !Present(v) {
		return nil, false
	}
	if s, ok := v.(string); ok {
		if a.Type == "dateTime" {
			if t, ok := asTime(s); ok {
				return t, true
			}
		}
		if !a.CaseExact {
			return schema.Fold(s), true
		}
	}
	return v, true
}

func primaryElement(list []any) any {
	for _, el := range list {
		if m, ok := el.(map[string]any); ok && m["primary"] == true {
			return el
		}
	}
	if len(list) > 0 {
		return list[0]
	}
	return nil
}

// CompareKeys orders two sort keys of the same attribute: missing values
// last in either direction, then by value (bytes for strings, false before
// true). The caller breaks ties by id.
func CompareKeys(a any, aok bool, b any, bok bool, descending bool) int {
	switch {
	case !aok && !bok:
		return 0
	case !aok:
		return 1
	case !bok:
		return -1
	}
	c := compareValues(a, b)
	if descending {
		return -c
	}
	return c
}

func compareValues(a, b any) int {
	switch x := a.(type) {
	case string:
		y, _ := b.(string)
		return strings.Compare(x, y)
	case bool:
		y, _ := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case time.Time:
		y, _ := b.(time.Time)
		return x.Compare(y)
	}
	return 0
}
