package csvbridge

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/scimbridge/scimbridge/internal/jsondoc"
)

// A job keeps every planned row as JSON (store.JobRow.Data): written once
// at validation, read back at commit, for the rows API and the report.
// encoding/json's reflection was a sixth of the Go work of a 100,000-row
// import, so the two directions are written out here: appendJSON writes
// exactly what json.Marshal of a Planned writes (same members, order and
// escaping) and decodePlanned reads it as a json.Decoder with UseNumber
// would (numbers inside Create, Patch and Diff stay json.Number, which
// keeps large integers exact). FuzzPlannedCodec holds both to
// encoding/json.

// appendJSON appends r as json.Marshal encodes it.
func (r *Planned) appendJSON(dst []byte) ([]byte, error) {
	var err error
	dst = append(dst, `{"row":`...)
	dst = strconv.AppendInt(dst, int64(r.Number), 10)
	dst = append(dst, `,"cells":`...)
	dst = appendStrings(dst, r.Cells)
	dst = appendMember(dst, "action", string(r.Action))
	dst = appendOmitEmpty(dst, "id", r.ResourceID)
	dst = appendOmitEmpty(dst, "version", r.Version)
	dst = appendOmitEmpty(dst, "userName", r.UserName)
	if len(r.Diff) > 0 {
		if dst, err = appendChanges(append(dst, `,"diff":`...), r.Diff); err != nil {
			return nil, err
		}
	}
	if len(r.Create) > 0 {
		if dst, err = jsondoc.AppendValue(append(dst, `,"create":`...), r.Create); err != nil {
			return nil, err
		}
	}
	if len(r.Patch) > 0 {
		if dst, err = appendPatch(append(dst, `,"patch":`...), r.Patch); err != nil {
			return nil, err
		}
	}
	dst = appendOmitEmpty(dst, "group", r.Group)
	if len(r.Links) > 0 {
		dst = appendLinks(append(dst, `,"links":`...), r.Links)
	}
	if r.Notify {
		dst = append(dst, `,"notify":true`...)
	}
	if len(r.Issues) > 0 {
		dst = appendIssues(append(dst, `,"issues":`...), r.Issues)
	}
	return append(dst, '}'), nil
}

// appendMember appends ,"name":"value".
func appendMember(dst []byte, name, value string) []byte {
	dst = append(append(append(dst, ',', '"'), name...), '"', ':')
	return jsondoc.AppendString(dst, value)
}

// appendOmitEmpty is appendMember for a member tagged omitempty.
func appendOmitEmpty(dst []byte, name, value string) []byte {
	if value == "" {
		return dst
	}
	return appendMember(dst, name, value)
}

// appendIntOmitEmpty appends ,"name":n unless n is 0.
func appendIntOmitEmpty(dst []byte, name string, n int) []byte {
	if n == 0 {
		return dst
	}
	dst = append(append(append(dst, ',', '"'), name...), '"', ':')
	return strconv.AppendInt(dst, int64(n), 10)
}

func appendStrings(dst []byte, ss []string) []byte {
	if ss == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsondoc.AppendString(dst, s)
	}
	return append(dst, ']')
}

func appendChanges(dst []byte, cs []Change) ([]byte, error) {
	dst = append(dst, '[')
	for i, c := range cs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsondoc.AppendString(append(dst, `{"path":`...), c.Path)
		var err error
		if c.Old != nil {
			if dst, err = jsondoc.AppendValue(append(dst, `,"old":`...), c.Old); err != nil {
				return nil, err
			}
		}
		if c.New != nil {
			if dst, err = jsondoc.AppendValue(append(dst, `,"new":`...), c.New); err != nil {
				return nil, err
			}
		}
		dst = append(dst, '}')
	}
	return append(dst, ']'), nil
}

func appendPatch(dst []byte, ops []map[string]any) ([]byte, error) {
	dst = append(dst, '[')
	for i, op := range ops {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = jsondoc.AppendValue(dst, op); err != nil {
			return nil, err
		}
	}
	return append(dst, ']'), nil
}

func appendLinks(dst []byte, ls []Link) []byte {
	dst = append(dst, '[')
	for i, l := range ls {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsondoc.AppendString(append(dst, `{"column":`...), l.Column)
		dst = appendMember(dst, "path", l.Path)
		dst = appendMember(dst, "key", string(l.Key))
		dst = appendMember(dst, "value", l.Value)
		dst = append(appendOmitEmpty(dst, "group", l.Group), '}')
	}
	return append(dst, ']')
}

func appendIssues(dst []byte, is []Issue) []byte {
	dst = append(dst, '[')
	for i, x := range is {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsondoc.AppendString(append(dst, `{"code":`...), x.Code)
		dst = appendMember(dst, "severity", string(x.Severity))
		dst = appendIntOmitEmpty(dst, "row", x.Row)
		dst = appendIntOmitEmpty(dst, "line", x.Line)
		dst = appendIntOmitEmpty(dst, "col", x.Col)
		dst = appendOmitEmpty(dst, "column", x.Column)
		dst = appendOmitEmpty(dst, "rule", x.Rule)
		dst = appendMember(dst, "message", x.Message)
		dst = append(appendOmitEmpty(dst, "hint", x.Hint), '}')
	}
	return append(dst, ']')
}

// decodePlanned reads a row appendJSON (or json.Marshal) wrote.
func decodePlanned(data []byte) (Planned, error) {
	doc, err := jsondoc.Decode(data)
	if err != nil {
		return Planned{}, err
	}
	var d docReader
	r := Planned{
		Number: d.int(doc, "row"), Cells: d.strings(doc, "cells"), Action: Action(d.str(doc, "action")),
		ResourceID: d.str(doc, "id"), Version: d.str(doc, "version"), UserName: d.str(doc, "userName"),
		Create: d.object(doc, "create"), Group: d.str(doc, "group"), Notify: d.bool(doc, "notify"),
	}
	for _, el := range array(&d, doc, "diff", &r.Diff) {
		r.Diff = append(r.Diff, Change{Path: d.str(el, "path"), Old: el["old"], New: el["new"]})
	}
	patch := array(&d, doc, "patch", &r.Patch)
	r.Patch = append(r.Patch, patch...)
	for _, el := range array(&d, doc, "links", &r.Links) {
		r.Links = append(r.Links, Link{Column: d.str(el, "column"), Path: d.str(el, "path"), Key: MatchKey(d.str(el, "key")),
			Value: d.str(el, "value"), Group: d.str(el, "group")})
	}
	for _, el := range array(&d, doc, "issues", &r.Issues) {
		r.Issues = append(r.Issues, Issue{Code: d.str(el, "code"), Severity: Severity(d.str(el, "severity")),
			Row: d.int(el, "row"), Line: d.int(el, "line"), Col: d.int(el, "col"), Column: d.str(el, "column"),
			Rule: d.str(el, "rule"), Message: d.str(el, "message"), Hint: d.str(el, "hint")})
	}
	if d.err != nil {
		return Planned{}, d.err
	}
	return r, nil
}

// docReader reads typed members out of a decoded object, keeping the
// first mismatch as its error. An absent or null member reads as the zero
// value, as encoding/json leaves it.
type docReader struct{ err error }

func (d *docReader) fail(name, want string, v any) {
	if d.err == nil {
		d.err = fmt.Errorf("member %q: want %s, have %T", name, want, v)
	}
}

func (d *docReader) str(m map[string]any, name string) string {
	return member[string](d, m, name, "a string")
}

func (d *docReader) bool(m map[string]any, name string) bool {
	return member[bool](d, m, name, "a boolean")
}

func (d *docReader) object(m map[string]any, name string) map[string]any {
	return member[map[string]any](d, m, name, "an object")
}

func (d *docReader) int(m map[string]any, name string) int {
	switch v := m[name].(type) {
	case nil:
		return 0
	case json.Number:
		n, err := strconv.Atoi(string(v))
		if err != nil {
			d.fail(name, "an integer", v)
		}
		return n
	default:
		d.fail(name, "an integer", v)
		return 0
	}
}

func (d *docReader) strings(m map[string]any, name string) []string {
	out, _ := elements[string](d, m, name, "strings")
	return out
}

// member reads member name as a T; absent or null is T's zero value.
func member[T any](d *docReader, m map[string]any, name, want string) T {
	var zero T
	switch v := m[name].(type) {
	case nil:
		return zero
	case T:
		return v
	default:
		d.fail(name, want, v)
		return zero
	}
}

// elements reads the array member name as Es (a null element as E's zero
// value); ok is false when there is no array.
func elements[E any](d *docReader, m map[string]any, name, want string) (out []E, ok bool) {
	arr := member[[]any](d, m, name, "an array")
	if arr == nil {
		return nil, false
	}
	out = make([]E, len(arr))
	for i, el := range arr {
		if e, isE := el.(E); isE {
			out[i] = e
		} else if el != nil {
			d.fail(name, want, el)
		}
	}
	return out, true
}

// array returns the objects of the array member name (nil elements for
// nulls). It sets *dst to an empty, non-nil slice for an empty array, as
// encoding/json does.
func array[T any](d *docReader, m map[string]any, name string, dst *[]T) []map[string]any {
	objs, ok := elements[map[string]any](d, m, name, "objects")
	if ok {
		*dst = make([]T, 0, len(objs))
	}
	return objs
}
