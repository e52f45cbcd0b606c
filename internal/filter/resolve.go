package filter

import (
	"strings"

	elschema "github.com/elimity-com/scim/schema"
	fp "github.com/scim2/filter-parser/v2"
	"github.com/scimbridge/scimbridge/internal/schema"
)

// Filterable common attributes (RFC 7643 §3.1).
var commonAttrs = map[string]Attr{
	"id":                {Name: "id", Type: "string", CaseExact: true, Mutability: "readOnly"},
	"externalid":        {Name: "externalId", Type: "string", CaseExact: true, Mutability: "readWrite"},
	"meta.created":      {Name: "meta", Sub: "created", Type: "dateTime", Mutability: "readOnly"},
	"meta.lastmodified": {Name: "meta", Sub: "lastModified", Type: "dateTime", Mutability: "readOnly"},
}

// ResolvePath resolves an attribute path such as "name.givenName",
// "emails.value" or "urn:...:enterprise:2.0:User:manager.value" (used by
// sortBy and attribute projection).
func ResolvePath(rt *schema.ResourceType, path string) (Attr, error) {
	if len(path) > 512 {
		return Attr{}, invalid("the attribute path is too long")
	}
	ap, err := parseAttrPath(path)
	if err != nil {
		return Attr{}, invalid("%q is not an attribute path", truncate(path, 120))
	}
	return resolver{rt: rt}.path(ap, nil)
}

// ResolveTarget resolves the attribute part of a PATCH path. Unlike
// ResolvePath it accepts attributes that cannot be filtered (password,
// $ref): a PATCH may write them.
func ResolveTarget(rt *schema.ResourceType, path string) (Attr, error) {
	if len(path) > 512 {
		return Attr{}, invalid("the attribute path is too long")
	}
	ap, err := parseAttrPath(path)
	if err != nil {
		return Attr{}, invalid("%q is not an attribute path", truncate(path, 120))
	}
	return resolver{rt: rt, target: true}.path(ap, nil)
}

func parseAttrPath(path string) (ap fp.AttributePath, err error) {
	if ap, ok := fastAttrPath(path); ok {
		return ap, nil
	}
	defer func() {
		if v := recover(); v != nil {
			err = invalid("unparsable attribute path")
		}
	}()
	return fp.ParseAttrPath([]byte(path))
}

// path resolves an attribute path; inside a value path (parent != nil) it
// names a sub-attribute of parent.
func (r resolver) path(p fp.AttributePath, parent *Attr) (Attr, error) {
	if parent != nil {
		if p.URIPrefix != nil || p.SubAttribute != nil {
			return Attr{}, invalid("inside %s[...] name a sub-attribute of %s, not %s", parent.Name, parent.Name, p)
		}
		return r.sub(*parent, p.AttributeName)
	}
	if p.URIPrefix == nil || strings.EqualFold(*p.URIPrefix, r.rt.Schema.ID) {
		if a, ok, err := common(p); ok || err != nil {
			return a, err
		}
	}
	def, a, err := r.top(p)
	if err != nil {
		return Attr{}, err
	}
	if p.SubAttribute == nil {
		return a, r.checkReturned(&def, a)
	}
	if a.Type != "complex" {
		return Attr{}, invalid("%s has no sub-attributes", a)
	}
	return r.sub(a, *p.SubAttribute)
}

// common resolves the common attributes id, externalId and meta.*.
func common(p fp.AttributePath) (Attr, bool, error) {
	name := lower(p.AttributeName)
	if name == "meta" {
		if p.SubAttribute == nil {
			return Attr{}, true, invalid("name a sub-attribute of meta: meta.created or meta.lastModified")
		}
		c, ok := commonAttrs["meta."+lower(*p.SubAttribute)]
		if !ok {
			return Attr{}, true, invalid("meta.%s cannot be filtered; use meta.created or meta.lastModified", truncate(*p.SubAttribute, 60))
		}
		return c, true, nil
	}
	c, ok := commonAttrs[name]
	if ok && p.SubAttribute != nil {
		return Attr{}, true, invalid("%s has no sub-attributes", c.Name)
	}
	return c, ok, nil
}

// top finds the top-level attribute of p in the core schema or an extension.
func (r resolver) top(p fp.AttributePath) (elschema.CoreAttribute, Attr, error) {
	if p.URIPrefix == nil || strings.EqualFold(*p.URIPrefix, r.rt.Schema.ID) {
		return r.inSchema(r.rt.Schema, false, p.AttributeName)
	}
	ext, ok := r.rt.Extension(*p.URIPrefix)
	if !ok {
		return elschema.CoreAttribute{}, Attr{}, unknown("schema %q is not served for %s resources", truncate(*p.URIPrefix, 120), r.rt.Name)
	}
	return r.inSchema(ext.Schema, true, p.AttributeName)
}

func (r resolver) inSchema(s elschema.Schema, ext bool, name string) (elschema.CoreAttribute, Attr, error) {
	def, ok := s.Attributes.ContainsAttribute(name)
	if !ok {
		return def, Attr{}, unknown("%s resources have no attribute %q", r.rt.Name, truncate(name, 120))
	}
	a := Attr{URN: s.ID, Name: def.Name(), Type: def.AttributeType(), CaseExact: def.CaseExact(),
		MultiValued: def.MultiValued(), Extension: ext, Mutability: def.Mutability()}
	return def, a, nil
}

func (r resolver) sub(parent Attr, name string) (Attr, error) {
	def, ok := r.defOf(parent)
	if !ok {
		return Attr{}, invalid("%s has no sub-attributes", parent)
	}
	sd, ok := def.SubAttributes().ContainsAttribute(name)
	if !ok {
		return Attr{}, invalid("%s has no sub-attribute %q", parent.String(), truncate(name, 120))
	}
	a := parent
	a.Sub, a.Type, a.CaseExact = sd.Name(), sd.AttributeType(), sd.CaseExact()
	if parent.Mutability != "readOnly" {
		a.Mutability = sd.Mutability()
	}
	if sd.Name() == "value" && (parent.Name == "members" || parent.Name == "groups") {
		a.CaseExact = false
	}
	return a, r.checkReturned(&sd, a)
}

// defOf finds the definition of a top-level attribute again.
func (r resolver) defOf(a Attr) (elschema.CoreAttribute, bool) {
	s := r.rt.Schema
	if a.Extension {
		ext, ok := r.rt.Extension(a.URN)
		if !ok {
			return elschema.CoreAttribute{}, false
		}
		s = ext.Schema
	}
	return s.Attributes.ContainsAttribute(a.Name)
}

func (r resolver) checkReturned(def *elschema.CoreAttribute, a Attr) error {
	if r.target {
		return nil
	}
	if def != nil && def.Returned() == "never" {
		return invalid("%s is never returned and cannot be filtered", a)
	}
	if a.Sub == "$ref" {
		return invalid("%s is computed and cannot be filtered; filter on %s.value", a, a.Name)
	}
	return nil
}

// implicitValue makes a comparison on a multi-valued complex attribute
// without a sub-attribute apply to its "value" (emails co "@x" means
// emails.value co "@x"); other complex attributes cannot be compared.
func (r resolver) implicitValue(a Attr) (Attr, error) {
	if a.Type != "complex" || a.Sub != "" {
		return a, nil
	}
	if !a.MultiValued {
		return Attr{}, invalid("%s is complex; compare one of its sub-attributes, e.g. %s.%s", a, a, "<sub>")
	}
	return r.sub(a, "value")
}
