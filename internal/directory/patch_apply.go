package directory

import (
	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/internal/filter"
	"github.com/scimbridge/scimbridge/internal/schema"
)

// normalize canonicalises an operation's value for attribute a (with a.Sub
// for a sub-attribute; inElement when the sub-attribute belongs to one
// element of a multi-valued attribute) through the schema, so names match
// in any case and booleans may be "True". It returns nil for null.
func (p *patcher) normalize(a filter.Attr, v any, inElement bool) (any, error) {
	if v == nil {
		return nil, nil
	}
	if a.Type == "complex" && a.Sub == "" && !a.MultiValued {
		if s, ok := v.(string); ok {
			v = map[string]any{"value": s} // Entra sends manager as a plain string
		}
	}
	var frag any = v
	switch {
	case a.Sub != "" && (a.MultiValued || inElement):
		frag = []any{map[string]any{a.Sub: v}}
	case a.Sub != "":
		frag = map[string]any{a.Sub: v}
	}
	body := map[string]any{a.Name: frag}
	if a.Extension {
		body = map[string]any{a.URN: body}
	}
	doc, err := p.rt.NormalizePartial(body)
	if err != nil {
		return nil, err
	}
	c := doc
	if a.Extension {
		c, _ = doc[a.URN].(map[string]any)
	}
	return extract(c[a.Name], a.Sub), nil
}

// extract digs the sub-attribute value out of a normalised fragment.
func extract(v any, sub string) any {
	if sub == "" {
		return v
	}
	if list, ok := v.([]any); ok && len(list) == 1 {
		v = list[0]
	}
	m, _ := v.(map[string]any)
	return m[sub]
}

// set performs add and replace.
func (p *patcher) set(kind string, t target, value any) error {
	if t.filter != nil {
		return p.setFiltered(kind, t, value)
	}
	a := t.attr
	v, err := p.normalize(a, value, false)
	if err != nil {
		return err
	}
	if v == nil {
		if kind == "replace" {
			return p.remove(t, nil)
		}
		return patchError(scimerrors.ScimTypeInvalidValue, "add %s needs a value.", t.path)
	}
	c := p.container(a, true)
	switch {
	case a.Sub != "" && a.MultiValued:
		setOnAll(c, a, v)
	case a.Sub != "":
		obj, _ := c[a.Name].(map[string]any)
		if obj == nil {
			obj = map[string]any{}
		}
		obj[a.Sub] = v
		c[a.Name] = obj
	case a.MultiValued && kind == "add":
		c[a.Name] = appendNew(asList(c[a.Name]), asList(v))
	case a.Type == "complex" && !a.MultiValued:
		c[a.Name] = merge(c[a.Name], v)
	default:
		c[a.Name] = v
	}
	return nil
}

// setOnAll sets a sub-attribute on every element (creating one if none).
func setOnAll(c map[string]any, a filter.Attr, v any) {
	list := asList(c[a.Name])
	if len(list) == 0 {
		list = []any{map[string]any{}}
	}
	for _, el := range list {
		if m, ok := el.(map[string]any); ok {
			m[a.Sub] = v
		}
	}
	c[a.Name] = list
}

// setFiltered writes to the elements a value filter selects; when none
// matches, it creates the element the filter describes (Entra relies on
// replace emails[type eq "work"].value creating the work email).
func (p *patcher) setFiltered(kind string, t target, value any) error {
	c := p.container(t.attr, true)
	list := asList(c[t.attr.Name])
	matched := matching(list, t.filter)
	v, err := p.filteredValue(t, value)
	if err != nil {
		return err
	}
	if len(matched) == 0 {
		el, ok := filter.EqualityTemplate(t.filter)
		if !ok {
			return patchError(scimerrors.ScimTypeNoTarget, "%s matches no element, and its filter does not describe one to create (use eq comparisons joined by and).", t.path)
		}
		list = append(list, el)
		matched = []int{len(list) - 1}
	}
	for _, i := range matched {
		el := list[i].(map[string]any)
		if t.sub.Name != "" {
			el[t.sub.Sub] = v
		} else {
			list[i] = merge(el, v)
		}
	}
	c[t.attr.Name] = list
	return nil
}

func (p *patcher) filteredValue(t target, value any) (any, error) {
	if t.sub.Name != "" {
		return p.normalize(t.sub, value, true)
	}
	v, err := p.normalize(t.attr, value, false)
	if list, ok := v.([]any); ok && len(list) == 1 {
		v = list[0]
	}
	return v, err
}

// remove deletes an attribute, a sub-attribute or the selected elements.
// A user's active flag cannot be removed (see removable).
func (p *patcher) remove(t target, value any) error {
	if err := p.removable(t.attr); err != nil {
		return err
	}
	c := p.container(t.attr, false)
	if c == nil {
		return nil
	}
	a := t.attr
	switch {
	case t.filter != nil:
		return p.removeFiltered(c, t)
	case a.Sub != "":
		removeSub(c, a)
	case a.MultiValued && value != nil:
		return p.removeValues(c, a, value)
	default:
		delete(c, a.Name)
	}
	return nil
}

// removable refuses to unassign a user's "active" (remove, or replace
// with null): scimbridge keeps every user either active or inactive, and
// PUT without "active" keeps the current value, so an unassigned active
// would mean nothing. The client is told to say true or false.
func (p *patcher) removable(a filter.Attr) error {
	if a.Extension || a.Sub != "" || a.Name != "active" || p.rt.Schema.ID != schema.UserURN {
		return nil
	}
	return patchError(scimerrors.ScimTypeInvalidValue,
		"Attribute 'active' cannot be removed: every user is either active or inactive. Use replace with true or false.")
}

func removeSub(c map[string]any, a filter.Attr) {
	switch v := c[a.Name].(type) {
	case map[string]any:
		delete(v, a.Sub)
	case []any:
		for _, el := range v {
			if m, ok := el.(map[string]any); ok {
				delete(m, a.Sub)
			}
		}
	}
}

// removeValues removes the elements equal to the given ones (for complex
// elements, those with the same "value"), as Entra sends member removal.
func (p *patcher) removeValues(c map[string]any, a filter.Attr, value any) error {
	v, err := p.normalize(a, value, false)
	if err != nil {
		return err
	}
	gone := asList(v)
	var keep []any
	for _, el := range asList(c[a.Name]) {
		if !containsElement(gone, el) {
			keep = append(keep, el)
		}
	}
	c[a.Name] = keep
	return nil
}

func containsElement(list []any, el any) bool {
	for _, x := range list {
		xm, ok1 := x.(map[string]any)
		em, ok2 := el.(map[string]any)
		if ok1 && ok2 && xm["value"] != nil && xm["value"] == em["value"] || deepEqual(x, el) {
			return true
		}
	}
	return false
}

func (p *patcher) removeFiltered(c map[string]any, t target) error {
	list := asList(c[t.attr.Name])
	matched := matching(list, t.filter)
	if len(matched) == 0 {
		return patchError(scimerrors.ScimTypeNoTarget, "%s matches no element to remove.", t.path)
	}
	hit := map[int]bool{}
	for _, i := range matched {
		hit[i] = true
	}
	var keep []any
	for i, el := range list {
		switch {
		case !hit[i]:
			keep = append(keep, el)
		case t.sub.Name != "":
			delete(el.(map[string]any), t.sub.Sub)
			keep = append(keep, el)
		}
	}
	c[t.attr.Name] = keep
	return nil
}

func matching(list []any, f filter.Expr) []int {
	var out []int
	for i, el := range list {
		if m, ok := el.(map[string]any); ok && filter.MatchElement(f, m) {
			out = append(out, i)
		}
	}
	return out
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

// appendNew appends the elements of add that list does not hold yet.
func appendNew(list, add []any) []any {
	for _, el := range add {
		dup := false
		for _, x := range list {
			if deepEqual(x, el) {
				dup = true
				break
			}
		}
		if !dup {
			list = append(list, el)
		}
	}
	return list
}

// merge copies the keys of v (an object) over old (an object or nil).
func merge(old, v any) any {
	nv, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := map[string]any{}
	if om, ok := old.(map[string]any); ok {
		for k, x := range om {
			out[k] = x
		}
	}
	for k, x := range nv {
		out[k] = x
	}
	return out
}
