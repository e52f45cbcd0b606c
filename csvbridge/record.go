package csvbridge

// Field is one value a row writes: a cell's value for one target path.
type Field struct {
	// Column is the 0-based index of the cell; Header its header as written.
	Column int    `json:"column"`
	Header string `json:"header"`
	// Target is shared by every row of a Mapping: read it, never change it.
	Target *Target `json:"target"`
	// Value is typed: string, bool, json.Number (integer, decimal), or
	// []any of those for a multi-valued cell. Nil when Clear is set.
	Value any `json:"value,omitempty"`
	// Clear is true when the cell held the profile's clear token: the
	// attribute is removed. A blank cell produces no Field at all (the
	// existing value is kept).
	Clear bool `json:"clear,omitempty"`
	// Merge is set for multi-valued cells.
	Merge Merge `json:"merge,omitempty"`
	// CreateOnly marks a column's CreateDefault: written when the row
	// creates a user, ignored by updates.
	CreateOnly bool `json:"createOnly,omitempty"`
}

// MatchValue is a match key with the value a row gives for it.
type MatchValue struct {
	Key   MatchKey `json:"key"`
	Value string   `json:"value"`
}

// Record is a row mapped to SCIM: what a planner turns into a create, a
// PATCH merge, a deactivation or a delete.
type Record struct {
	Action RowAction `json:"action"`
	Fields []Field   `json:"fields,omitempty"`
	// Match holds the row's match keys that have a value, in the
	// profile's order; the planner looks the user up by the first one it
	// can (and may check the others agree).
	Match []MatchValue `json:"match,omitempty"`
	// CreateIssues are errors that apply only if the planner decides the
	// row creates a user (a column required on create is blank or absent).
	CreateIssues []Issue `json:"createIssues,omitempty"`
	// Groups are the display names a groups column names (the user is
	// added to each); GroupsColumn is that column's header; GroupsLeaf
	// requires each to be a lowest-level group (Column.LeafWhen held).
	Groups       []string `json:"groups,omitempty"`
	GroupsColumn string   `json:"groupsColumn,omitempty"`
	GroupsLeaf   bool     `json:"groupsLeaf,omitempty"`
	// Notify is a notify column's value.
	Notify bool `json:"notify,omitempty"`
}

// Row is one data row: where it is, what it says, and what is wrong.
type Row struct {
	// Number is the row as the admin's spreadsheet shows it.
	Number int `json:"row"`
	// Line is the line of the file where the row starts.
	Line int `json:"line"`
	// Cells are the row's cells as written (escape prefixes kept), for
	// the report, which repeats the original columns.
	Cells  []string `json:"cells"`
	Record Record   `json:"record"`
	Issues []Issue  `json:"issues,omitempty"`
}

// OK reports whether the row has no errors (warnings allowed).
func (r *Row) OK() bool {
	for _, is := range r.Issues {
		if is.Severity == SeverityError {
			return false
		}
	}
	return true
}

// Errors returns the row's error issues.
func (r *Row) Errors() []Issue { return r.bySeverity(SeverityError) }

// Warnings returns the row's warning issues.
func (r *Row) Warnings() []Issue { return r.bySeverity(SeverityWarning) }

func (r *Row) bySeverity(s Severity) []Issue {
	var out []Issue
	for _, is := range r.Issues {
		if is.Severity == s {
			out = append(out, is)
		}
	}
	return out
}

// Document builds the resource a create would send: the row's fields
// nested as SCIM JSON (sub-attributes in their parent, value paths as an
// element of their array, extension attributes under their URN). Cleared
// and match-only fields are left out.
func (rec *Record) Document() map[string]any {
	doc := map[string]any{}
	for i := range rec.Fields {
		f := &rec.Fields[i]
		if f.Clear || f.Target.MatchOnly {
			continue
		}
		put(doc, f.Target, f.Value)
	}
	return doc
}

// put writes v at t inside doc.
func put(doc map[string]any, t *Target, v any) {
	parent := doc
	if t.Attr.Extension {
		parent = child(doc, t.Attr.URN)
	}
	a := t.Attr
	switch {
	case t.Element != nil:
		elem := element(parent, a.Name, t.Element)
		elem[a.Sub] = v
	case a.Sub != "" && a.MultiValued:
		parent[a.Name] = appendElements(parent[a.Name], a.Sub, v)
	case a.Sub != "":
		child(parent, a.Name)[a.Sub] = v
	default:
		parent[a.Name] = v
	}
}

func child(m map[string]any, key string) map[string]any {
	if c, ok := m[key].(map[string]any); ok {
		return c
	}
	c := map[string]any{}
	m[key] = c
	return c
}

// element finds the element of m[name] equal to template on the
// template's keys, or appends a copy of the template.
func element(m map[string]any, name string, template map[string]any) map[string]any {
	arr, _ := m[name].([]any)
	for _, e := range arr {
		if em, ok := e.(map[string]any); ok && matches(em, template) {
			return em
		}
	}
	em := make(map[string]any, len(template)+1)
	for k, v := range template {
		em[k] = v
	}
	m[name] = append(arr, em)
	return em
}

func matches(elem, template map[string]any) bool {
	for k, v := range template {
		if elem[k] != v {
			return false
		}
	}
	return true
}

// appendElements adds one element {sub: x} per value of v.
func appendElements(existing any, sub string, v any) []any {
	arr, _ := existing.([]any)
	values, ok := v.([]any)
	if !ok {
		values = []any{v}
	}
	for _, x := range values {
		if el, ok := x.(map[string]any); ok {
			arr = append(arr, el) // a typed value: a whole element
			continue
		}
		arr = append(arr, map[string]any{sub: x})
	}
	return arr
}
