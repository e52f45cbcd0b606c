package schema

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	datetime "github.com/di-wu/xsd-datetime"
	scimerrors "github.com/elimity-com/scim/errors"
)

// Doc is a canonical resource document: attribute names spelled as in the
// schema, values typed (string, bool, json.Number, map, []any), extension
// attributes under their schema URN, readOnly attributes absent.
type Doc = map[string]any

// Normalize turns a client's resource body into a canonical Doc. Attribute
// names match in any case; unknown attributes and unknown extension URNs are
// ignored (clients such as Entra send extra schemas); readOnly attributes
// (id, meta, groups, ...) are dropped; null means absent; booleans accept
// "True"/"False" strings; a single value where an array is expected is
// wrapped. Errors are SCIM errors whose detail names the attribute.
func (rt *ResourceType) Normalize(body map[string]any) (Doc, error) {
	out, err := rt.NormalizePartial(body)
	if err != nil {
		return nil, err
	}
	return out, rt.checkRequired(out)
}

// NormalizePartial is Normalize without the check for required
// attributes: it canonicalises a fragment such as {"name": {...}}, as
// PATCH needs for an operation's value.
func (rt *ResourceType) NormalizePartial(body map[string]any) (Doc, error) {
	out, err := normalizeAttrs(rt, "", rt.Schema.Attributes, body)
	if err != nil {
		return nil, err
	}
	for _, ext := range rt.Extensions {
		val, key, err := pick(body, ext.Schema.ID)
		if err != nil || val == nil {
			if err != nil {
				return nil, err
			}
			continue
		}
		obj, ok := val.(map[string]any)
		if !ok {
			return nil, invalidValue(key, "must be an object of the extension's attributes")
		}
		sub, err := normalizeAttrs(rt, ext.Schema.ID+":", ext.Schema.Attributes, obj)
		if err != nil {
			return nil, err
		}
		if len(sub) > 0 {
			out[ext.Schema.ID] = sub
		}
	}
	return out, nil
}

func (rt *ResourceType) checkRequired(doc Doc) error {
	for _, a := range rt.Schema.Attributes {
		if !a.Required() || a.Mutability() == "readOnly" {
			continue
		}
		if v, ok := doc[a.Name()]; !ok || v == "" {
			return invalidValue(a.Name(), "is required")
		}
	}
	return nil
}

// pick finds name in obj in any case; two spellings of one name are an error.
func pick(obj map[string]any, name string) (any, string, error) {
	var val any
	var key string
	for k, v := range obj {
		if !strings.EqualFold(k, name) {
			continue
		}
		if key != "" {
			return nil, "", syntaxError(fmt.Sprintf("attribute %q appears twice (as %q and %q)", name, key, k))
		}
		val, key = v, k
	}
	return val, key, nil
}

func normalizeAttrs(rt *ResourceType, prefix string, attrs []Attribute, obj map[string]any) (Doc, error) {
	var buf [pickBuf]picked
	found := pickAll(obj, attrs, buf[:0])
	n := 0
	for i := range found {
		if found[i].val != nil {
			n++
		}
	}
	out := make(Doc, n) // sized once: a user has more members than a map's first group holds
	for i, a := range attrs {
		f := &found[i]
		if f.dup != "" {
			return nil, syntaxError(fmt.Sprintf("attribute %q appears twice (as %q and %q)", a.Name(), f.key, f.dup))
		}
		if f.val == nil || a.Mutability() == "readOnly" {
			continue
		}
		v, err := rt.normalizeValue(prefix+a.Name(), a, f.val)
		if err != nil {
			return nil, err
		}
		if v != nil {
			out[a.Name()] = v
		}
	}
	return out, nil
}

// picked is what pickAll found in an object for one attribute: its value,
// the key spelling it and, when another key spells it too, that key.
type picked struct {
	val      any
	key, dup string
}

// pickBuf is the number of attributes whose picks normalizeAttrs keeps
// on its stack (the core User schema has about 25).
const pickBuf = 32

// pickAll is pick for every attribute of attrs (found[i] for attrs[i]),
// in one pass over obj: a key is compared only with the attribute names
// that can equal it under case folding (an ASCII key only with names of
// its length). The picks are appended to found (given empty).
func pickAll(obj map[string]any, attrs []Attribute, found []picked) []picked {
	found = append(found, make([]picked, len(attrs))...)
	for k, v := range obj {
		ascii := isASCII(k)
		for i := range attrs {
			name := attrs[i].Name()
			if ascii && len(name) != len(k) && isASCII(name) {
				continue // two ASCII strings fold equal only at equal length
			}
			if !strings.EqualFold(k, name) {
				continue
			}
			f := &found[i]
			if f.key != "" {
				f.dup = k
				continue
			}
			f.val, f.key = v, k
		}
	}
	return found
}

// isASCII reports whether s has only ASCII bytes.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func (rt *ResourceType) normalizeValue(path string, a Attribute, val any) (any, error) {
	if !a.MultiValued() {
		return rt.normalizeSingle(path, a, val)
	}
	arr, ok := val.([]any)
	if !ok {
		arr = []any{val}
	}
	out := make([]any, 0, len(arr))
	for i, el := range arr {
		if el == nil {
			continue
		}
		v, err := rt.normalizeSingle(path+"["+strconv.Itoa(i)+"]", a, el)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func (rt *ResourceType) normalizeSingle(path string, a Attribute, val any) (any, error) {
	switch a.AttributeType() {
	case "complex":
		return rt.normalizeComplex(path, a, val)
	case "boolean":
		return normalizeBool(path, val)
	case "integer", "decimal":
		if str, ok := val.(string); ok && rt.formats[path] == "decimal" {
			return decimalString(path, str)
		}
		return normalizeNumber(path, a.AttributeType(), val)
	case "dateTime":
		return normalizeDateTime(path, val)
	case "binary":
		return normalizeBinary(path, val)
	default:
		return rt.normalizeString(path, a, val)
	}
}

func (rt *ResourceType) normalizeComplex(path string, a Attribute, val any) (any, error) {
	obj, ok := val.(map[string]any)
	if !ok {
		return nil, invalidValue(path, "must be an object")
	}
	sub, err := normalizeAttrs(rt, path+".", a.SubAttributes(), obj)
	if err != nil || len(sub) == 0 {
		return nil, err
	}
	return sub, nil
}

func normalizeBool(path string, val any) (any, error) {
	switch v := val.(type) {
	case bool:
		return v, nil
	case string:
		switch strings.ToLower(v) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return nil, invalidValue(path, fmt.Sprintf("must be a boolean, got %s", describe(val)))
}

func normalizeNumber(path, typ string, val any) (any, error) {
	n, ok := val.(json.Number)
	if !ok {
		if f, isFloat := val.(float64); isFloat {
			n, ok = json.Number(fmt.Sprint(f)), true
		}
	}
	if !ok {
		return nil, invalidValue(path, fmt.Sprintf("must be a number, got %s", describe(val)))
	}
	if typ == "integer" {
		if _, err := n.Int64(); err != nil {
			return nil, invalidValue(path, "must be an integer")
		}
	}
	return n, nil
}

func normalizeDateTime(path string, val any) (any, error) {
	s, ok := val.(string)
	if !ok {
		return nil, invalidValue(path, fmt.Sprintf("must be a dateTime string, got %s", describe(val)))
	}
	if _, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return s, nil
	}
	if _, err := datetime.Parse(s); err != nil {
		return nil, invalidValue(path, fmt.Sprintf("%q is not an xsd:dateTime such as 2008-01-23T04:56:22Z", s))
	}
	return s, nil
}

func normalizeBinary(path string, val any) (any, error) {
	s, ok := val.(string)
	if !ok {
		return nil, invalidValue(path, "must be a base64 string")
	}
	if _, err := base64.StdEncoding.DecodeString(s); err != nil {
		return nil, invalidValue(path, "is not valid base64")
	}
	return s, nil
}

func (rt *ResourceType) normalizeString(path string, a Attribute, val any) (any, error) {
	s, ok := val.(string)
	if !ok {
		return nil, invalidValue(path, fmt.Sprintf("must be a string, got %s", describe(val)))
	}
	if strings.ContainsRune(s, 0) {
		return nil, invalidValue(path, "must not contain NUL characters")
	}
	if rt.formats[path] == "date" && !isDate(s) {
		return nil, invalidValue(path, fmt.Sprintf("%q is not a date written YYYY-MM-DD", truncate(s, 40)))
	}
	if rt.strict[path] && !slices.Contains(a.CanonicalValues(), s) {
		return nil, invalidValue(path, fmt.Sprintf("%q is not one of %s", s, strings.Join(a.CanonicalValues(), ", ")))
	}
	return s, nil
}

func describe(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func invalidValue(path, msg string) error {
	return scimerrors.ScimError{ScimType: scimerrors.ScimTypeInvalidValue, Status: 400,
		Detail: fmt.Sprintf("Attribute '%s' %s.", path, msg)}
}

func syntaxError(msg string) error {
	return scimerrors.ScimError{ScimType: scimerrors.ScimTypeInvalidSyntax, Status: 400, Detail: msg + "."}
}

var decimalPattern = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// decimalString accepts a decimal written as a string with a period as
// the separator ("12.50"), as spreadsheets and some clients send it.
func decimalString(path, s string) (any, error) {
	t := strings.TrimSpace(s)
	if !decimalPattern.MatchString(t) || len(t) > 40 {
		return nil, invalidValue(path, fmt.Sprintf("%q is not a decimal number with a period as the decimal separator, such as 1234.50", truncate(s, 40)))
	}
	return json.Number(t), nil
}

// isDate reports whether s is a calendar date written YYYY-MM-DD.
func isDate(s string) bool {
	_, err := time.Parse("2006-01-02", s)
	return err == nil && len(s) == 10
}
