package jsondoc

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"unsafe"
)

// Object is a JSON object read lazily: Index finds where each member's
// value lies, and nothing is decoded until a caller asks for one member. An export that writes a dozen cells of a
// stored user reads them this way without building the document's maps
// (building them was most of an export's CPU and garbage).
//
// The zero Object is empty. An Object keeps its text alive.
type Object struct {
	text    string
	members []member
}

// member is one member of an Object: its name and its value's text.
type member struct {
	key   string
	value Value
	// obj is the value indexed, when it is an object.
	obj *Object
}

// Value is the text of one JSON value inside an indexed document.
type Value struct {
	text string
}

// Index reads data as one JSON object and returns it indexed, or false
// when data is not one JSON object (then the caller decodes it with
// Decode, whose result and error are encoding/json's). It reads the
// object's structure, its member names, its scalars and every object
// that is a member; strings and arrays it only delimits, and a read of
// one (Value.String, Value.Decode, Value.Elements) checks it then and
// reports what is malformed. So every document Decode reads, Index
// reads, to the same values; a document whose only flaw lies in a
// member nobody reads is indexed. The text is copied once.
func Index(data []byte) (*Object, bool) {
	return indexText(newParser(data), 24)
}

// IndexFrozen is Index without the copy: the Object and every string it
// gives share data's memory, so data must never change afterwards (a
// document read from the store, which nothing writes to, qualifies).
func IndexFrozen(data []byte) (*Object, bool) {
	return indexText(newParserText(unsafe.String(unsafe.SliceData(data), len(data))), 24)
}

// indexText indexes the object p holds, its member list sized for size
// members.
func indexText(p *parser, size int) (*Object, bool) {
	p.space()
	if p.pos >= len(p.data) || p.data[p.pos] != '{' {
		return nil, false
	}
	o, err := p.index(size)
	if err != nil {
		return nil, false
	}
	p.space()
	if p.pos != len(p.data) {
		return nil, false
	}
	return o, true
}

// index reads an object at p.pos, validating every value it skips.
func (p *parser) index(size int) (*Object, error) {
	if p.depth++; p.depth > maxDepth {
		return nil, errFallback
	}
	defer func() { p.depth-- }()
	p.pos++ // {
	o := &Object{text: p.text, members: make([]member, 0, size)}
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return o, nil
	}
	for {
		key, err := p.memberName()
		if err != nil {
			return nil, err
		}
		p.space()
		from := p.pos
		var obj *Object
		if p.pos < len(p.data) && p.data[p.pos] == '{' {
			// objects that are members (name, the extensions, the
			// manager) are indexed now: read once, and Object has no
			// error to report later
			obj, err = p.index(8)
		} else {
			err = p.skip()
		}
		if err != nil {
			return nil, err
		}
		o.members = append(o.members, member{key: key, value: Value{text: p.text[from:p.pos]}, obj: obj})
		if done, err := p.next('}'); err != nil || done {
			return o, err
		}
	}
}

// skip finds the end of the value at p.pos. Scalars (numbers, true,
// false, null) are read exactly; strings, arrays and objects are only
// delimited (quotes and brackets matched), not checked: a member nobody
// asks for costs a scan for its closing byte, and the reads (String,
// Decode) check what they read.
func (p *parser) skip() error {
	p.space()
	if p.pos >= len(p.data) {
		return errFallback
	}
	switch c := p.data[p.pos]; {
	case c == '{' || c == '[':
		return p.skipComposite()
	case c == '"':
		end, ok := stringEnd(p.data, p.pos+1)
		if !ok {
			return errFallback
		}
		p.pos = end
		return nil
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		_, err := p.number()
		return err
	}
	return errFallback
}

// skipComposite delimits an array or object: to the bracket that closes
// the one at p.pos, strings skipped whole.
func (p *parser) skipComposite() error {
	data, depth := p.data, 0
	for i := p.pos; i < len(data); i++ {
		switch data[i] {
		case '"':
			end, ok := stringEnd(data, i+1)
			if !ok {
				return errFallback
			}
			i = end - 1
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				p.pos = i + 1
				return nil
			}
		}
	}
	return errFallback
}

// stringEnd is the index after the quote that closes a string whose
// text starts at from.
func stringEnd(data []byte, from int) (int, bool) {
	for {
		q := bytes.IndexByte(data[from:], '"')
		if q < 0 {
			return 0, false
		}
		q += from
		backslashes := 0
		for j := q - 1; j >= from && data[j] == '\\'; j-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return q + 1, true
		}
		from = q + 1
	}
}

// memberName reads `"name":` and returns the name (a slice of the text:
// no need to share names).
func (p *parser) memberName() (string, error) {
	p.space()
	if p.pos >= len(p.data) || p.data[p.pos] != '"' {
		return "", errFallback
	}
	key, err := p.string()
	if err != nil {
		return "", err
	}
	p.space()
	if p.pos >= len(p.data) || p.data[p.pos] != ':' {
		return "", errFallback
	}
	p.pos++
	return key, nil
}

// Member returns the value of the member named key (the last one, as
// encoding/json keeps the last of duplicate names); ok is false when the
// object has none.
func (o *Object) Member(key string) (Value, bool) {
	if i := o.find(key); i >= 0 {
		return o.members[i].value, true
	}
	return Value{}, false
}

func (o *Object) find(key string) int {
	if o == nil {
		return -1
	}
	for i := len(o.members) - 1; i >= 0; i-- {
		if o.members[i].key == key {
			return i
		}
	}
	return -1
}

// Object returns the member named key as an indexed object; ok is false
// when there is no such member or it is not an object.
func (o *Object) Object(key string) (*Object, bool) {
	i := o.find(key)
	if i < 0 || o.members[i].obj == nil {
		return nil, false
	}
	return o.members[i].obj, true
}

// Remove drops the members named key (as deleting it from the decoded
// map would).
func (o *Object) Remove(key string) {
	if o == nil {
		return
	}
	kept := o.members[:0]
	for _, m := range o.members {
		if m.key != key {
			kept = append(kept, m)
		}
	}
	clear(o.members[len(kept):])
	o.members = kept
}

// Keys are the object's member names in document order (duplicates
// included).
func (o *Object) Keys() []string {
	if o == nil {
		return nil
	}
	out := make([]string, len(o.members))
	for i, m := range o.members {
		out[i] = m.key
	}
	return out
}

// Kinds of JSON value.
const (
	KindNull   = 'n'
	KindBool   = 'b'
	KindNumber = '0'
	KindString = '"'
	KindArray  = '['
	KindObject = '{'
)

// Kind is the value's kind (KindNull, KindBool, ...).
func (v Value) Kind() byte {
	if v.text == "" {
		return KindNull
	}
	switch c := v.text[0]; c {
	case 't', 'f':
		return KindBool
	case 'n':
		return KindNull
	case '"', '[', '{':
		return c
	}
	return KindNumber
}

// String returns a string value's text, escapes read (invalid UTF-8
// becomes U+FFFD, as encoding/json reads it); an error for any other
// kind or a malformed string.
func (v Value) String() (string, error) {
	if v.Kind() != KindString {
		return "", errNotString
	}
	if s, err := newParserText(v.text).string(); err == nil {
		return s, nil
	}
	x, err := v.Decode()
	if err != nil {
		return "", err
	}
	return x.(string), nil
}

var errNotString = errors.New("jsondoc: not a string")

// Text is a scalar's text as an export writes it: a string's characters,
// "true" or "false", a number as written; ok is false for null, arrays
// and objects; err is a malformed string's.
func (v Value) Text() (s string, ok bool, err error) {
	switch v.Kind() {
	case KindString:
		s, err = v.String()
		return s, err == nil, err
	case KindBool, KindNumber:
		return v.text, true, nil
	}
	return "", false, nil
}

// Decode decodes the value as Decode does a document's values: objects
// as map[string]any, arrays as []any, numbers as json.Number; what the
// fast path does not take goes to encoding/json, whose error a malformed
// value gets.
func (v Value) Decode() (any, error) {
	if v.text == "" {
		return nil, nil
	}
	p := newParserText(v.text)
	if x, err := p.value(); err == nil && p.pos == len(p.data) {
		return x, nil
	}
	var out any
	dec := json.NewDecoder(strings.NewReader(v.text))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	return out, nil
}

// newParserText is a parser of text that does not copy it: the parser
// only reads its data.
func newParserText(text string) *parser {
	return &parser{data: unsafe.Slice(unsafe.StringData(text), len(text)), text: text}
}

// Elements yields the elements of an array value in order (nothing for
// any other kind), without decoding them; a malformed array ends with
// an error.
func (v Value) Elements(yield func(Value, error) bool) {
	if v.Kind() != KindArray {
		return
	}
	p := newParserText(v.text)
	p.pos++ // [
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		return
	}
	for {
		p.space()
		from := p.pos
		if err := p.skip(); err != nil {
			yield(Value{}, v.malformed())
			return
		}
		if !yield(Value{text: v.text[from:p.pos]}, nil) {
			return
		}
		done, err := p.next(']')
		if err != nil {
			yield(Value{}, v.malformed())
		}
		if err != nil || done {
			return
		}
	}
}

// malformed is encoding/json's error for a value the fast path refused.
func (v Value) malformed() error {
	if _, err := v.Decode(); err != nil {
		return err
	}
	return errors.New("jsondoc: malformed array")
}

// DecodeObjectInto decodes an object value into m, which it clears first
// (a caller reusing one map per element saves allocating one each); ok
// is false for any other kind.
func (v Value) DecodeObjectInto(m map[string]any) bool {
	if v.Kind() != KindObject {
		return false
	}
	p := newParserText(v.text)
	p.depth = 1 // the member values are nested, as in a document
	p.pos++     // {
	clear(m)
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		return true
	}
	for {
		key, err := p.memberName()
		if err != nil {
			return false
		}
		x, err := p.value()
		if err != nil {
			return false
		}
		m[key] = x
		if done, err := p.next('}'); err != nil || done {
			return err == nil
		}
	}
}
