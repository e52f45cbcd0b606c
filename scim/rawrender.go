package scim

import (
	"bytes"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/jsondoc"
)

// appendRaw is the fast path of rendering: a resource read from the store
// (Raw set, Doc nil) and shown without projection is written by copying its
// stored document and adding schemas, id, groups and meta around it, with
// no decode or re-encode. It reports false when the fast path does not
// apply (the caller then renders through the decoded map); the output is
// the same JSON object either way, only its key order differs.
func appendRaw(buf []byte, base string, res *directory.Resource, proj directory.Projection) ([]byte, bool) {
	if res.Doc != nil || res.Raw == nil || !proj.Identity() {
		return buf, false
	}
	raw := bytes.TrimSpace(res.Raw)
	if len(raw) < 2 || raw[0] != '{' || raw[len(raw)-1] != '}' {
		return buf, false
	}
	present, ok := rawKeys(res, raw)
	if !ok {
		return buf, false
	}
	buf = append(buf, `{"schemas":[`...)
	buf = jsondoc.AppendString(buf, res.Type.Schema.ID)
	for i, ext := range res.Type.Extensions {
		if present[i] {
			buf = append(buf, ',')
			buf = jsondoc.AppendString(buf, ext.Schema.ID)
		}
	}
	buf = append(buf, `],"id":`...)
	buf = jsondoc.AppendString(buf, res.ID)
	if inner := bytes.TrimSpace(raw[1 : len(raw)-1]); len(inner) > 0 {
		buf = append(buf, ',')
		buf = append(buf, inner...)
	}
	if len(res.Groups) > 0 {
		buf = append(buf, `,"groups":[`...)
		for i, g := range res.Groups {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, `{"$ref":`...)
			buf = jsondoc.AppendString(buf, base+"/Groups/"+g.ID)
			buf = append(buf, `,"display":`...)
			buf = jsondoc.AppendString(buf, g.DisplayName)
			buf = append(buf, `,"type":"direct","value":`...)
			buf = jsondoc.AppendString(buf, g.ID)
			buf = append(buf, '}')
		}
		buf = append(buf, ']')
	}
	buf = append(buf, `,"meta":{"created":`...)
	buf = jsondoc.AppendString(buf, res.Created.Format(time.RFC3339Nano))
	buf = append(buf, `,"lastModified":`...)
	buf = jsondoc.AppendString(buf, res.LastModified.Format(time.RFC3339Nano))
	buf = append(buf, `,"location":`...)
	buf = jsondoc.AppendString(buf, base+res.Type.Endpoint+"/"+res.ID)
	buf = append(buf, `,"resourceType":`...)
	buf = jsondoc.AppendString(buf, res.Type.Name)
	buf = append(buf, `,"version":`...)
	buf = jsondoc.AppendString(buf, res.ETag())
	return append(buf, "}}"...), true
}

// rawKeys reads the top-level keys of a stored document and reports which
// of the type's extensions it holds. It refuses (false) a document with a
// key the renderer adds itself or must not return, or a key it cannot read
// plainly; the caller then takes the decoding path, which handles all.
func rawKeys(res *directory.Resource, raw []byte) ([]bool, bool) {
	present := make([]bool, len(res.Type.Extensions))
	var never []string
	for _, a := range res.Type.Schema.Attributes {
		if a.Returned() == "never" {
			never = append(never, a.Name())
		}
	}
	ok := topLevelKeys(raw, func(key string) bool {
		switch key {
		case "schemas", "id", "meta", "groups", "members":
			return false
		}
		for _, name := range never {
			if strings.EqualFold(name, key) {
				return false
			}
		}
		for i, ext := range res.Type.Extensions {
			if key == ext.Schema.ID {
				present[i] = true
			}
		}
		return true
	})
	return present, ok
}

// topLevelKeys calls visit with each key of the JSON object raw (which must
// be valid JSON, as stored documents are) and stops with false when visit
// does, or when a key holds an escape.
func topLevelKeys(raw []byte, visit func(string) bool) bool {
	depth, expectKey := 0, false
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '{':
			depth++
			expectKey = depth == 1
		case '[':
			depth++
		case '}', ']':
			depth--
		case ',':
			expectKey = depth == 1
		case '"':
			end, escaped := stringEnd(raw, i+1)
			if end < 0 {
				return false
			}
			if expectKey {
				if escaped || !visit(string(raw[i+1:end])) {
					return false
				}
				expectKey = false
			}
			i = end
		}
	}
	return depth == 0
}

// stringEnd returns the index of the quote closing the JSON string whose
// contents start at from (-1 if none), and whether it holds an escape.
func stringEnd(raw []byte, from int) (int, bool) {
	escaped := false
	for j := from; j < len(raw); j++ {
		switch raw[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j, escaped
		}
	}
	return -1, escaped
}
