package jsondoc

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"unsafe"
)

// Object is a JSON object read lazily: Index finds where each member's
// value lies, and nothing is decoded until a caller asks for one member.
// An export that writes a dozen cells of a stored user reads them this
// way without building the document's maps (building them was most of
// an export's CPU and garbage). The index itself is three allocations
// per document, two of them free of pointers (the garbage collector
// never scans them).
//
// The zero Object is empty. An Object keeps its document's text alive.
type Object struct {
	ix *index
	at int32 // the object's number in ix.objects
}

// index is one document's index: every object's members in one slice,
// an object's members next to each other.
type index struct {
	text    string
	members []member
	objects []span
	// names are member names that hold escapes, decoded (member.name).
	names []string
}

// span is an object's members: members[first : first+n].
type span struct{ first, n int32 }

// member is one member: where its name and value lie in the text.
type member struct {
	keyStart, keyEnd     int32
	valueStart, valueEnd int32
	// obj is the value's number in objects when it is an object, else -1.
	obj int32
	// name is -1 when the name is its text as written, the decoded name's
	// number in names when it holds escapes, or removed.
	name int32
	// hash is the name's hash (keyHash): a look-up compares names only
	// where the hashes agree.
	hash uint32
}

// Key is a member name with its hash worked out once, for a reader that
// looks the same name up in document after document (Object.Get).
type Key struct {
	name string
	hash uint32
}

// NewKey returns the key of a member name.
func NewKey(name string) Key { return Key{name: name, hash: keyHash(name)} }

// keyHash is a cheap hash of a member name: its length and its first
// and last (up to) eight bytes, mixed. Names that agree on all three
// (rare: the URNs differ in length) only cost a string comparison.
func keyHash(s string) uint32 {
	var first, last uint64
	for i := 0; i < len(s) && i < 8; i++ {
		first = first<<8 | uint64(s[i])
		last = last<<8 | uint64(s[len(s)-1-i])
	}
	h := (first*0x9E3779B97F4A7C15 ^ last*0xC2B2AE3D27D4EB4F ^ uint64(len(s))) * 0x165667B19E3779F9
	return uint32(h >> 32)
}

// removed marks a member Remove dropped.
const removed = -2

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
func Index(data []byte) (Object, bool) {
	return indexText(newParser(data))
}

// IndexFrozen is Index without the copy: the Object and every string it
// gives share data's memory, so data must never change afterwards (a
// document read from the store, which nothing writes to, qualifies).
func IndexFrozen(data []byte) (Object, bool) {
	return indexText(newParserText(unsafe.String(unsafe.SliceData(data), len(data))))
}

// indexText indexes the object p holds.
func indexText(p *parser) (Object, bool) {
	if len(p.data) > math.MaxInt32 {
		return Object{}, false
	}
	p.space()
	if p.pos >= len(p.data) || p.data[p.pos] != '{' {
		return Object{}, false
	}
	ix := &index{text: p.text, members: make([]member, 0, 32), objects: make([]span, 0, 6)}
	at, err := ix.object(p)
	if err != nil {
		return Object{}, false
	}
	p.space()
	if p.pos != len(p.data) {
		return Object{}, false
	}
	return Object{ix: ix, at: at}, true
}

// object indexes the object at p.pos: first its members, then each
// member that is an object (so an object's members stay together).
func (ix *index) object(p *parser) (int32, error) {
	if p.depth++; p.depth > maxDepth {
		return 0, errFallback
	}
	defer func() { p.depth-- }()
	at := int32(len(ix.objects))
	first := int32(len(ix.members))
	ix.objects = append(ix.objects, span{first: first})
	if err := ix.members_(p); err != nil {
		return 0, err
	}
	end := p.pos
	n := int32(len(ix.members)) - first
	ix.objects[at].n = n
	for i := first; i < first+n; i++ {
		if ix.text[ix.members[i].valueStart] != '{' {
			continue
		}
		p.pos = int(ix.members[i].valueStart)
		obj, err := ix.object(p)
		if err != nil {
			return 0, err
		}
		ix.members[i].obj = obj
	}
	p.pos = end
	return at, nil
}

// members_ reads the members of the object at p.pos, up to its end.
func (ix *index) members_(p *parser) error {
	p.pos++ // {
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return nil
	}
	for {
		p.space()
		keyStart := p.pos + 1
		key, err := p.memberName(false)
		if err != nil {
			return err
		}
		m := member{keyStart: int32(keyStart), obj: -1, name: -1, hash: keyHash(key)}
		m.keyEnd = m.keyStart + int32(len(key))
		if int(m.keyEnd) > len(ix.text) || ix.text[keyStart:m.keyEnd] != key {
			m.name = int32(len(ix.names))
			ix.names = append(ix.names, key)
		}
		p.space()
		m.valueStart = int32(p.pos)
		if err := p.skip(); err != nil {
			return err
		}
		m.valueEnd = int32(p.pos)
		ix.members = append(ix.members, m)
		if done, err := p.next('}'); err != nil || done {
			return err
		}
	}
}

// key is member m's name.
func (ix *index) key(m *member) string {
	if m.name >= 0 {
		return ix.names[m.name]
	}
	return ix.text[m.keyStart:m.keyEnd]
}

// own is the object's members.
func (o Object) own() []member {
	if o.ix == nil {
		return nil
	}
	sp := o.ix.objects[o.at]
	return o.ix.members[sp.first : sp.first+sp.n]
}

// find is the position in own() of the last member named k, or -1.
func (o Object) find(k Key) int {
	ms := o.own()
	for i := len(ms) - 1; i >= 0; i-- {
		if m := &ms[i]; m.hash == k.hash && m.name != removed && o.ix.key(m) == k.name {
			return i
		}
	}
	return -1
}

// Member returns the value of the member named key (the last one, as
// encoding/json keeps the last of duplicate names); ok is false when the
// object has none.
func (o Object) Member(key string) (Value, bool) { return o.Get(NewKey(key)) }

// Get is Member with the name's key worked out beforehand.
func (o Object) Get(k Key) (Value, bool) {
	i := o.find(k)
	if i < 0 {
		return Value{}, false
	}
	m := &o.own()[i]
	return Value{text: o.ix.text[m.valueStart:m.valueEnd]}, true
}

// Object returns the member named key as an indexed object; ok is false
// when there is no such member or it is not an object.
func (o Object) Object(key string) (Object, bool) { return o.GetObject(NewKey(key)) }

// GetObject is Object with the name's key worked out beforehand.
func (o Object) GetObject(k Key) (Object, bool) {
	i := o.find(k)
	if i < 0 || o.own()[i].obj < 0 {
		return Object{}, false
	}
	return Object{ix: o.ix, at: o.own()[i].obj}, true
}

// Remove drops the members named key (as deleting it from the decoded
// map would).
func (o Object) Remove(key string) {
	k := NewKey(key)
	for i := o.find(k); i >= 0; i = o.find(k) {
		o.own()[i].name = removed
	}
}

// Keys are the object's member names in document order (duplicates
// included).
func (o Object) Keys() []string {
	var out []string
	for i := range o.own() {
		if m := &o.own()[i]; m.name != removed {
			out = append(out, o.ix.key(m))
		}
	}
	return out
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
	clear(m)
	return newParserText(v.text).objectInto(m) == nil
}
