package csvbridge

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/filter"
	"github.com/scimbridge/scimbridge/internal/jsondoc"
	"github.com/scimbridge/scimbridge/internal/schema"
)

// scimExportColumns are the columns a scim-profile export writes by
// default: every attribute path a scim-profile import accepts that a
// directory user commonly has, id first (it matches the user on
// re-import).
var scimExportColumns = []string{
	"id", "userName", "externalId", "name.givenName", "name.familyName", "name.middleName",
	"name.honorificPrefix", "name.honorificSuffix", "name.formatted", "displayName", "nickName",
	"profileUrl", "title", "userType", "preferredLanguage", "locale", "timezone", "active",
	`emails[type eq "work"].value`, `emails[type eq "home"].value`,
	`phoneNumbers[type eq "work"].value`, `phoneNumbers[type eq "mobile"].value`,
	"roles.value", "entitlements.value",
	schema.EnterpriseURN + ":employeeNumber", schema.EnterpriseURN + ":costCenter",
	schema.EnterpriseURN + ":organization", schema.EnterpriseURN + ":division",
	schema.EnterpriseURN + ":department", schema.EnterpriseURN + ":manager.value",
	schema.SupportURN + ":tier",
}

// groupExportColumns are groups.csv's default columns; members holds the
// member ids joined with "|".
var groupExportColumns = []string{"id", "displayName", "externalId", "members.value"}

// exportColumn is one column of an export: where its value comes from
// and how it is written.
type exportColumn struct {
	header  string
	targets []Target
	// meta is "id", "created" or "lastModified" for those columns.
	meta string
	sep  string
	// reverse maps a value (valueKey) back to the cell text a profile's
	// value map reads as that value.
	reverse map[string]string
	// groups writes the user's direct groups' display names (a profile's
	// groups column); typeSep writes elements as type<sep>value (a typed
	// multi-value column).
	groups  bool
	typeSep string
	// ref is the key a reference column names another user by (Column.Ref):
	// the export writes that key where the directory stores an id.
	ref MatchKey
	// keys are, per target, its member names as keys for an indexed
	// document (prepare sets them).
	keys []targetKeys
}

// targetKeys are a target's extension, attribute and sub-attribute names
// as jsondoc keys.
type targetKeys struct {
	urn, name, sub jsondoc.Key
}

// prepare works out the column's keys (see keys).
func (c *exportColumn) prepare() {
	c.keys = make([]targetKeys, len(c.targets))
	for i := range c.targets {
		a := c.targets[i].Attr
		c.keys[i] = targetKeys{urn: jsondoc.NewKey(a.URN), name: jsondoc.NewKey(a.Name), sub: jsondoc.NewKey(a.Sub)}
	}
}

// key returns the keys of target i, worked out now if prepare was not run.
func (c *exportColumn) key(i int) targetKeys {
	if i < len(c.keys) {
		return c.keys[i]
	}
	a := c.targets[i].Attr
	return targetKeys{urn: jsondoc.NewKey(a.URN), name: jsondoc.NewKey(a.Name), sub: jsondoc.NewKey(a.Sub)}
}

// profileColumns are the columns of a profile with named columns
// (support-tiers), optionally only those named in attrs.
func profileColumns(p *Profile, rt *schema.ResourceType, attrs []string) ([]exportColumn, error) {
	var out []exportColumn
	for i := range p.Columns {
		c := &p.Columns[i]
		if len(attrs) > 0 && !slices.ContainsFunc(attrs, func(a string) bool { return FoldHeader(a) == FoldHeader(c.Header) }) {
			continue
		}
		col := exportColumn{header: c.Header, reverse: reverseMap(c.ValueMap)}
		for _, path := range c.Paths {
			t, err := ResolveTarget(rt, path)
			if err != nil {
				return nil, fmt.Errorf("profile %s, column %s: %w", p.Name, c.Header, err)
			}
			col.targets = append(col.targets, t)
		}
		if c.Multi != nil {
			col.sep, col.typeSep = c.Multi.Separator, c.Multi.TypeSeparator
		}
		col.groups, col.ref = c.Kind == KindGroups, c.Ref
		if col.groups && col.sep == "" {
			col.sep = ","
		}
		col.prepare()
		out = append(out, col)
	}
	if len(out) == 0 {
		return nil, errorf(http.StatusBadRequest, "invalidValue", "attributes names none of the %s profile's columns (%s).", p.Name, strings.Join(p.headers(), ", "))
	}
	return out, nil
}

// pathColumns are columns named by SCIM attribute paths (the scim
// profile, groups.csv): writable paths as a scim-profile import reads
// them, and also read-only ones (id, meta.created, meta.lastModified,
// groups.value, the support extension's lastLoginAt) for reporting.
func pathColumns(rt *schema.ResourceType, paths []string) ([]exportColumn, error) {
	out := make([]exportColumn, 0, len(paths))
	seen := map[string]bool{}
	for _, path := range paths {
		path = strings.TrimSpace(path)
		if path == "" || seen[strings.ToLower(path)] {
			continue
		}
		seen[strings.ToLower(path)] = true
		col, err := pathColumn(rt, path)
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "invalidValue", "Column %q: %s.", path, scimDetail(err))
		}
		col.prepare()
		out = append(out, col)
	}
	return out, nil
}

func pathColumn(rt *schema.ResourceType, path string) (exportColumn, error) {
	col := exportColumn{header: path}
	switch strings.ToLower(path) {
	case "id":
		col.meta = "id"
		return col, nil
	case "meta.created":
		col.meta = "created"
		return col, nil
	case "meta.lastmodified":
		col.meta = "lastModified"
		return col, nil
	}
	t, err := ResolveTarget(rt, path)
	if err != nil {
		a, rerr := filter.ResolvePath(rt, path)
		if rerr != nil || a.Mutability != "readOnly" || (a.Type == "complex" && a.Sub == "") {
			return col, err
		}
		t = Target{Path: a.String(), Attr: a, Many: a.MultiValued}
	}
	col.targets = []Target{t}
	if t.Many {
		col.sep = "|"
	}
	return col, nil
}

func reverseMap(m map[string]any) map[string]string {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make(map[string]string, len(m))
	for _, k := range keys {
		vk := valueKey(m[k])
		if _, taken := out[vk]; !taken {
			out[vk] = k
		}
	}
	return out
}

// valueKey identifies a value for the reverse value map: its type and text.
func valueKey(v any) string {
	return fmt.Sprintf("%T:%s", v, valueText(v))
}

// cell is the column's text for a resource, a reference resolved to the
// referenced user's key through refs (nil: written as stored).
func (c *exportColumn) cell(r *directory.Resource, doc schema.Doc, refs *refResolver) string {
	s := c.rawCell(r, doc)
	if c.ref != "" && refs != nil && s != "" {
		return refs.cell(c, s)
	}
	return s
}

// rawCell is the column's text for a resource as the directory stores it.
func (c *exportColumn) rawCell(r *directory.Resource, doc schema.Doc) string {
	switch c.meta {
	case "id":
		return r.ID
	case "created":
		return r.Created.UTC().Format(time.RFC3339Nano)
	case "lastModified":
		return r.LastModified.UTC().Format(time.RFC3339Nano)
	}
	if c.groups {
		return c.groupNames(doc["groups"])
	}
	for i := range c.targets {
		if s, ok := c.targetCell(&c.targets[i], doc); ok {
			return s
		}
	}
	return ""
}

// groupNames is a groups column's cell: the display names of the
// User.groups elements in list.
func (c *exportColumn) groupNames(list any) string {
	var names []string
	for _, el := range asList(list) {
		names = appendGroupName(names, el)
	}
	return JoinMulti(names, c.sep)
}

// appendGroupName appends a User.groups element's display name, if any.
func appendGroupName(names []string, el any) []string {
	if m, ok := el.(map[string]any); ok {
		if s, ok := m["display"].(string); ok && s != "" {
			return append(names, s)
		}
	}
	return names
}

// targetCell reads one target the way the import's diff reads it: the
// first element a value path selects, every element's value for a
// multi-valued target, the attribute itself otherwise.
func (c *exportColumn) targetCell(t *Target, doc schema.Doc) (string, bool) {
	if t.MatchOnly {
		return "", false
	}
	cont := container(doc, t.Attr)
	switch {
	case t.Element != nil:
		return c.elementCell(t, asList(cont[t.Attr.Name]))
	case t.Many:
		return c.manyCell(t, asList(cont[t.Attr.Name]))
	}
	v := current(cont, t.Attr)
	return c.text(v), v != nil
}

// elementCell is a value path's cell (emails[type eq "work"].value): the
// sub-attribute of the first element the filter selects.
func (c *exportColumn) elementCell(t *Target, elements []any) (string, bool) {
	for _, el := range elements {
		if m, ok := el.(map[string]any); ok && filter.MatchElement(t.Filter, m) {
			v := present(m[t.Attr.Sub])
			return c.text(v), v != nil
		}
	}
	return "", false
}

// manyCell is a multi-valued target's cell: every element's value (its
// sub-attribute), joined with the column's separator.
func (c *exportColumn) manyCell(t *Target, elements []any) (string, bool) {
	var vals []string
	for _, el := range elements {
		v := elementValue(el, t.Attr.Sub)
		if v == nil {
			continue
		}
		if c.typeSep != "" {
			m, _ := el.(map[string]any)
			typ, _ := m["type"].(string)
			vals = append(vals, typ+c.typeSep+c.text(v))
		} else {
			vals = append(vals, c.text(v))
		}
	}
	return JoinMulti(vals, c.sep), len(vals) > 0
}

// text is a value as cell text, through the reverse value map.
func (c *exportColumn) text(v any) string {
	if v == nil {
		return ""
	}
	if c.reverse != nil {
		if s, ok := c.reverse[valueKey(v)]; ok {
			return s
		}
	}
	return valueText(v)
}

func valueText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case json.Number:
		return v.String()
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case nil:
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
