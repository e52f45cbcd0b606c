package csvbridge

import (
	"fmt"

	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/filter"
	"github.com/scimbridge/scimbridge/internal/jsondoc"
	"github.com/scimbridge/scimbridge/internal/schema"
)

// source is one resource as an export's columns read it: its stored
// document indexed (the walk ran with ExportQuery.Indexed, and the
// columns read single members without building the document's maps), or
// decoded. Both give the same cells; TestExportViewMatchesDocument holds
// them to that.
type source struct {
	r    *directory.Resource
	view jsondoc.Object
	// indexed: view holds the document (else doc does).
	indexed bool
	doc     schema.Doc
	// lists are the multi-valued members decoded for this row; their
	// elements live in slab, element objects in maps[:used]. All three
	// are reused by the next row.
	lists []decodedList
	slab  []any
	maps  []map[string]any
	used  int
	// err is the first malformed value the row's cells read.
	err error
}

type decodedList struct {
	urn, name string
	elements  []any
}

// reset points s at r, keeping its buffers.
func (s *source) reset(r *directory.Resource) error {
	s.r, s.view, s.indexed, s.doc, s.err = r, jsondoc.Object{}, false, nil, nil
	s.lists, s.used = s.lists[:0], 0
	clear(s.slab)
	s.slab = s.slab[:0]
	if view, ok := r.View(); ok {
		s.view, s.indexed = view, true
		return nil
	}
	doc, err := r.Document()
	s.doc = doc
	return err
}

// read is the column's text for the source, a reference resolved to the
// referenced user's key through refs (nil: written as stored).
func (c *exportColumn) read(s *source, refs *refResolver) string {
	if !s.indexed {
		return c.cell(s.r, s.doc, refs)
	}
	v := c.viewCell(s)
	if c.ref != "" && refs != nil && v != "" {
		return refs.cell(c, v)
	}
	return v
}

// viewCell is rawCell for an indexed document.
func (c *exportColumn) viewCell(s *source) string {
	switch {
	case c.meta != "":
		return c.rawCell(s.r, nil)
	case c.groups:
		var names []string
		for _, el := range s.elements(s.view, filter.Attr{Name: "groups"}, groupsKey) {
			names = appendGroupName(names, el)
		}
		return JoinMulti(names, c.sep)
	}
	for i := range c.targets {
		if v, ok := c.viewTarget(&c.targets[i], c.key(i), s); ok {
			return v
		}
	}
	return ""
}

// groupsKey is User.groups's key.
var groupsKey = jsondoc.NewKey("groups")

// viewTarget is targetCell for an indexed document (k: its keys).
func (c *exportColumn) viewTarget(t *Target, k targetKeys, s *source) (string, bool) {
	if t.MatchOnly {
		return "", false
	}
	cont := s.view
	if t.Attr.Extension {
		ext, ok := s.view.GetObject(k.urn)
		if !ok {
			return "", false
		}
		cont = ext
	}
	switch {
	case t.Element != nil:
		return c.elementCell(t, s.elements(cont, t.Attr, k.name))
	case t.Many:
		return c.manyCell(t, s.elements(cont, t.Attr, k.name))
	case t.Attr.Sub != "":
		obj, ok := cont.GetObject(k.name)
		if !ok {
			return "", false
		}
		v, ok := obj.Get(k.sub)
		return c.leaf(s, v, ok)
	}
	v, ok := cont.Get(k.name)
	return c.leaf(s, v, ok)
}

// leaf is a single value's cell: a scalar straight from the text, as
// present and text read the decoded value ("" and null are absent).
func (c *exportColumn) leaf(s *source, v jsondoc.Value, ok bool) (string, bool) {
	if !ok {
		return "", false
	}
	if c.reverse == nil {
		switch v.Kind() {
		case jsondoc.KindString, jsondoc.KindBool, jsondoc.KindNumber:
			text, _, err := v.Text()
			s.fail(err)
			return text, text != ""
		case jsondoc.KindNull:
			return "", false
		}
	}
	x := present(s.decode(v))
	return c.text(x), x != nil
}

// elements are the elements of a multi-valued member of cont, as asList
// gives them from the decoded document, decoded once per row (the
// columns emails[type eq "work"] and emails[type eq "home"] share them).
// Element objects are decoded into maps the source reuses row after row,
// so a row's emails cost no maps of their own.
func (s *source) elements(cont jsondoc.Object, a filter.Attr, name jsondoc.Key) []any {
	for i := range s.lists {
		if l := &s.lists[i]; l.urn == a.URN && l.name == a.Name {
			return l.elements
		}
	}
	var list []any
	core := a.URN == "" || a.URN == s.r.Type.Schema.ID
	if v, ok := cont.Get(name); core && a.Name == "groups" && len(s.r.Groups) > 0 {
		list = directory.GroupValues(s.r.Groups)
	} else if ok && v.Kind() == jsondoc.KindArray {
		list = s.decodeElements(v)
	} else if ok {
		list = asList(s.decode(v))
	}
	s.lists = append(s.lists, decodedList{urn: a.URN, name: a.Name, elements: list})
	return list
}

// decodeElements decodes an array's elements, objects into the source's
// reused maps, into the source's reused slab.
func (s *source) decodeElements(v jsondoc.Value) []any {
	start := len(s.slab)
	for el, err := range v.Elements {
		if err != nil {
			s.fail(err)
			break
		}
		if el.Kind() != jsondoc.KindObject {
			s.slab = append(s.slab, s.decode(el))
			continue
		}
		if s.used == len(s.maps) {
			s.maps = append(s.maps, make(map[string]any, 4))
		}
		m := s.maps[s.used]
		s.used++
		if el.DecodeObjectInto(m) {
			s.slab = append(s.slab, m)
		} else {
			s.slab = append(s.slab, s.decode(el))
		}
	}
	return s.slab[start:len(s.slab):len(s.slab)]
}

// decode decodes a member of an indexed document; a malformed one is
// the row's error (the decoded document would have failed the same way)
// and reads as absent.
func (s *source) decode(v jsondoc.Value) any {
	x, err := v.Decode()
	s.fail(err)
	return x
}

// fail records the first error reading the row's document.
func (s *source) fail(err error) {
	if err != nil && s.err == nil {
		s.err = fmt.Errorf("decode stored %s %s: %w", s.r.Type.Name, s.r.ID, err)
	}
}

// check is the row's error, if reading its document failed.
func (s *source) check() error { return s.err }
