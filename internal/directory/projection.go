package directory

import (
	"strings"

	"github.com/scimbridge/scimbridge/internal/schema"
)

// Projection is the attributes / excludedAttributes selection of a request
// (RFC 7644 §3.4.2.5), shared by the front ends that show resources (the
// SCIM endpoints, the CSV export). Paths are canonical and lower-cased: "name",
// "name.givenname", "meta.lastmodified", "<extension urn>" for a whole
// extension and "<extension urn>:manager" for one of its attributes.
// id and schemas (returned "always") are never removed.
type Projection struct {
	include map[string]bool
	exclude map[string]bool
}

// ParseProjection reads the two comma-separated lists; attributes wins
// when both are given. Unknown names select nothing.
func ParseProjection(rt *schema.ResourceType, attributes, excluded []string) Projection {
	p := Projection{}
	if len(attributes) > 0 {
		p.include = pathSet(rt, attributes)
	} else if len(excluded) > 0 {
		p.exclude = pathSet(rt, excluded)
	}
	return p
}

func pathSet(rt *schema.ResourceType, list []string) map[string]bool {
	set := map[string]bool{}
	for _, item := range list {
		for _, path := range strings.Split(item, ",") {
			if path = strings.TrimSpace(path); path != "" {
				set[canonicalProjectionPath(rt, path)] = true
			}
		}
	}
	return set
}

// canonicalProjectionPath strips the core schema URN and any value filter
// (Microsoft's client sends attributes=emails[type eq "work"], meaning the
// emails attribute) and lower-cases.
func canonicalProjectionPath(rt *schema.ResourceType, path string) string {
	if open := strings.IndexByte(path, '['); open >= 0 {
		if end := strings.LastIndexByte(path, ']'); end > open {
			path = path[:open] + path[end+1:]
		}
	}
	l := strings.ToLower(path)
	core := strings.ToLower(rt.Schema.ID) + ":"
	return strings.TrimPrefix(l, core)
}

// Identity reports whether the projection keeps every attribute.
func (p Projection) Identity() bool { return p.include == nil && p.exclude == nil }

// Wants reports whether the top-level attribute name (lower case) may
// appear in the response; used to skip loading group members.
func (p Projection) Wants(name string) bool {
	switch {
	case p.include != nil:
		for k := range p.include {
			if k == name || strings.HasPrefix(k, name+".") {
				return true
			}
		}
		return false
	case p.exclude != nil:
		return !p.exclude[name]
	}
	return true
}

// Apply filters a rendered resource in place and returns it.
func (p Projection) Apply(rt *schema.ResourceType, out map[string]any) map[string]any {
	if p.include == nil && p.exclude == nil {
		return out
	}
	for key, v := range out {
		if key == "id" || key == "schemas" {
			continue
		}
		if _, isExt := rt.Extension(key); isExt {
			p.applyExtension(out, key, v)
			continue
		}
		if kept, ok := p.filterAttr(strings.ToLower(key), v); ok {
			out[key] = kept
		} else {
			delete(out, key)
		}
	}
	return out
}

func (p Projection) applyExtension(out map[string]any, key string, v any) {
	urn := strings.ToLower(key)
	switch {
	case p.include != nil && p.include[urn]:
		return // the whole extension
	case p.exclude != nil && p.exclude[urn]:
		delete(out, key)
		return
	case p.exclude != nil && !hasPrefixKey(p.exclude, urn+":"):
		return // nothing inside it excluded
	}
	obj, _ := v.(map[string]any)
	kept := map[string]any{}
	for name, val := range obj {
		if x, ok := p.filterAttr(urn+":"+strings.ToLower(name), val); ok {
			kept[name] = x
		}
	}
	if len(kept) == 0 {
		delete(out, key)
		return
	}
	out[key] = kept
}

// filterAttr decides about one attribute (path is its lower-cased full
// name) and trims its sub-attributes when only some are selected.
func (p Projection) filterAttr(path string, v any) (any, bool) {
	if p.include != nil {
		if p.include[path] {
			return v, true
		}
		if !hasPrefixKey(p.include, path+".") {
			return nil, false
		}
		return trimSubs(v, func(sub string) bool { return p.include[path+"."+sub] })
	}
	if p.exclude[path] {
		return nil, false
	}
	if !hasPrefixKey(p.exclude, path+".") {
		return v, true
	}
	return trimSubs(v, func(sub string) bool { return !p.exclude[path+"."+sub] })
}

func hasPrefixKey(set map[string]bool, prefix string) bool {
	for k := range set {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// trimSubs keeps the sub-attributes keep accepts, in an object or in each
// object of an array.
func trimSubs(v any, keep func(sub string) bool) (any, bool) {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			if keep(strings.ToLower(k)) {
				out[k] = x
			}
		}
		return out, len(out) > 0
	case []any:
		var out []any
		for _, el := range v {
			if m, ok := trimSubs(el, keep); ok {
				out = append(out, m)
			}
		}
		return out, len(out) > 0
	}
	return v, true
}

// StripNever removes the attributes whose returned characteristic is
// "never" (a User's password) from a rendered document.
func StripNever(rt *schema.ResourceType, out map[string]any) {
	for _, name := range rt.NeverReturned() {
		delete(out, name)
	}
}
