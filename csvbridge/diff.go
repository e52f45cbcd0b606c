package csvbridge

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/internal/filter"
	"github.com/scimbridge/scimbridge/internal/schema"
)

// diff compares a row's fields with a stored user document and returns
// the field-level changes and the PATCH operations that make them: one
// operation per changed field, so what the row leaves out (a blank cell,
// a missing column) stays as it is. Fields equal to the stored values
// produce nothing; a row whose fields all are produces nothing at all.
func diff(fields []Field, doc schema.Doc) ([]Change, []map[string]any) {
	var changes []Change
	var ops []map[string]any
	for i := range fields {
		f := &fields[i]
		if f.Target.MatchOnly || f.CreateOnly {
			continue
		}
		c, op, changed := diffField(f, doc)
		if changed {
			changes, ops = append(changes, c), append(ops, op)
		}
	}
	return changes, ops
}

func diffField(f *Field, doc schema.Doc) (Change, map[string]any, bool) {
	t := f.Target
	c := container(doc, t.Attr)
	switch {
	case t.Element != nil:
		return diffElement(f, c)
	case t.Many:
		return diffMany(f, c)
	}
	cur := current(c, t.Attr)
	switch {
	case f.Clear && cur == nil:
		return Change{}, nil, false
	case f.Clear:
		return Change{Path: t.Path, Old: cur}, patchOp("remove", t.Path, nil), true
	case sameValue(t.Attr.Type, cur, f.Value):
		return Change{}, nil, false
	}
	return Change{Path: t.Path, Old: cur, New: f.Value}, patchOp("replace", t.Path, f.Value), true
}

// container is the object holding a's top-level attribute: the document
// or its extension's object (nil when absent).
func container(doc schema.Doc, a filter.Attr) map[string]any {
	if !a.Extension {
		return doc
	}
	ext, _ := doc[a.URN].(map[string]any)
	return ext
}

// current reads a single-valued attribute or sub-attribute.
func current(c map[string]any, a filter.Attr) any {
	v := c[a.Name]
	if a.Sub == "" {
		return present(v)
	}
	obj, _ := v.(map[string]any)
	return present(obj[a.Sub])
}

// present returns v, or nil when it counts as absent ("" or null).
func present(v any) any {
	if !filter.Present(v) {
		return nil
	}
	return v
}

// diffElement handles a value path, attr[filter].sub: the elements the
// filter selects are compared; replace creates the element when none
// matches and sets the sub-attribute on the matching ones (never a second
// element). Clearing removes the selected elements when the cell held
// their "value", else the sub-attribute.
func diffElement(f *Field, c map[string]any) (Change, map[string]any, bool) {
	t := f.Target
	var cur any
	matched := false
	for _, el := range asList(c[t.Attr.Name]) {
		if m, ok := el.(map[string]any); ok && filter.MatchElement(t.Filter, m) {
			if !matched {
				cur = present(m[t.Attr.Sub])
			}
			matched = true
		}
	}
	switch {
	case f.Clear && !matched:
		return Change{}, nil, false
	case f.Clear:
		path := t.Path
		if t.Attr.Sub == "value" {
			path = path[:strings.LastIndex(path, "].")+1]
		}
		return Change{Path: t.Path, Old: cur}, patchOp("remove", path, nil), true
	case matched && sameValue(t.Attr.Type, cur, f.Value):
		return Change{}, nil, false
	}
	return Change{Path: t.Path, Old: cur, New: f.Value}, patchOp("replace", t.Path, f.Value), true
}

// diffMany handles a multi-valued cell ("roles.value"): with merge add the
// values not present yet are added; with merge replace the attribute
// becomes exactly the cell's values (elements already present are kept
// with their other sub-attributes). Order does not count as a change.
func diffMany(f *Field, c map[string]any) (Change, map[string]any, bool) {
	t := f.Target
	base := strings.TrimSuffix(t.Path, "."+t.Attr.Sub)
	elems := asList(c[t.Attr.Name])
	have := make([]any, 0, len(elems))
	for _, el := range elems {
		if v := elementValue(el, t.Attr.Sub); v != nil {
			have = append(have, v)
		}
	}
	switch {
	case f.Clear && len(elems) == 0:
		return Change{}, nil, false
	case f.Clear:
		return Change{Path: t.Path, Old: have}, patchOp("remove", base, nil), true
	}
	want := asList(f.Value)
	if len(want) > 0 {
		if _, typed := want[0].(map[string]any); typed {
			return diffTyped(t, base, elems, want)
		}
	}
	if f.Merge == MergeReplace {
		return replaceMany(t, base, elems, have, want)
	}
	var add []any
	for _, v := range want {
		if !containsValue(t.Attr.Type, have, v) && !containsValue(t.Attr.Type, add, v) {
			add = append(add, v)
		}
	}
	if len(add) == 0 {
		return Change{}, nil, false
	}
	next := append(append([]any{}, have...), add...)
	return Change{Path: t.Path, Old: nilIfEmpty(have), New: next}, patchOp("add", base, elementsOf(t.Attr.Sub, add)), true
}

func replaceMany(t *Target, base string, elems, have, want []any) (Change, map[string]any, bool) {
	if sameSet(t.Attr.Type, have, want) {
		return Change{}, nil, false
	}
	var next []any
	var kept []any
	for _, el := range elems {
		if v := elementValue(el, t.Attr.Sub); v != nil && containsValue(t.Attr.Type, want, v) && !containsValue(t.Attr.Type, kept, v) {
			next, kept = append(next, el), append(kept, v)
		}
	}
	for _, v := range want {
		if !containsValue(t.Attr.Type, kept, v) {
			next, kept = append(next, elementsOf(t.Attr.Sub, []any{v})...), append(kept, v)
		}
	}
	return Change{Path: t.Path, Old: nilIfEmpty(have), New: want}, patchOp("replace", base, next), true
}

func elementValue(el any, sub string) any {
	if sub == "" {
		return present(el)
	}
	m, _ := el.(map[string]any)
	return present(m[sub])
}

func elementsOf(sub string, values []any) []any {
	if sub == "" {
		return values
	}
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = map[string]any{sub: v}
	}
	return out
}

func nilIfEmpty(list []any) any {
	if len(list) == 0 {
		return nil
	}
	return list
}

func asList(v any) []any {
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		return v
	}
	return []any{v}
}

func patchOp(op, path string, value any) map[string]any {
	m := map[string]any{"op": op, "path": path}
	if value != nil {
		m["value"] = value
	}
	return m
}

func containsValue(typ string, list []any, v any) bool {
	for _, x := range list {
		if sameValue(typ, x, v) {
			return true
		}
	}
	return false
}

func sameSet(typ string, a, b []any) bool {
	for _, x := range a {
		if !containsValue(typ, b, x) {
			return false
		}
	}
	for _, x := range b {
		if !containsValue(typ, a, x) {
			return false
		}
	}
	return true
}

// sameValue compares a stored value with a cell's: strings exactly (a
// change of case is a change the admin asked for), numbers by value,
// dateTimes as instants.
func sameValue(typ string, stored, cell any) bool {
	switch c := cell.(type) {
	case json.Number:
		return sameNumber(stored, c)
	case string:
		s, ok := stored.(string)
		if ok && typ == "dateTime" && s != c {
			return sameInstant(s, c)
		}
		return ok && s == c
	}
	return reflect.DeepEqual(stored, cell)
}

func sameNumber(stored any, c json.Number) bool {
	var s string
	switch v := stored.(type) {
	case json.Number:
		s = string(v)
	case float64:
		s = strconv.FormatFloat(v, 'g', -1, 64)
	default:
		return false
	}
	if s == string(c) {
		return true
	}
	a, err1 := strconv.ParseFloat(s, 64)
	b, err2 := strconv.ParseFloat(string(c), 64)
	return err1 == nil && err2 == nil && a == b
}

func sameInstant(a, b string) bool {
	ta, err1 := time.Parse(time.RFC3339Nano, a)
	tb, err2 := time.Parse(time.RFC3339Nano, b)
	return err1 == nil && err2 == nil && ta.Equal(tb)
}

// diffTyped adds the {type, value} elements of a typed multi-valued cell
// (seed 001's "slack:jdoe") that the user does not hold yet, types
// compared without case and values exactly; nothing is removed.
func diffTyped(t *Target, base string, elems, want []any) (Change, map[string]any, bool) {
	key := func(el any) string {
		m, _ := el.(map[string]any)
		typ, _ := m["type"].(string)
		v, _ := m["value"].(string)
		return strings.ToLower(typ) + "\x00" + v
	}
	have := map[string]bool{}
	var old []any
	for _, el := range elems {
		have[key(el)] = true
		old = append(old, pairText(el))
	}
	var add, next []any
	next = append(next, old...)
	for _, el := range want {
		if k := key(el); !have[k] {
			have[k] = true
			add, next = append(add, el), append(next, pairText(el))
		}
	}
	if len(add) == 0 {
		return Change{}, nil, false
	}
	return Change{Path: t.Path, Old: nilIfEmpty(old), New: next}, patchOp("add", base, add), true
}

// pairText shows a {type, value} element as type:value.
func pairText(el any) any {
	m, _ := el.(map[string]any)
	return fmt.Sprintf("%v:%v", m["type"], m["value"])
}
