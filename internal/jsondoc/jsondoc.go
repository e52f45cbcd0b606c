// Package jsondoc decodes the JSON documents the stores keep (users and
// groups as the directory wrote them) into the generic form the rest of
// the server works on: objects as map[string]any, arrays as []any,
// numbers as json.Number, strings, booleans and nil.
//
// It exists for speed: a stored document is decoded for every user an
// export writes, a list returns or an import compares, and
// encoding/json's reflection-driven decoding into interfaces was most of
// an export's CPU. Decode parses the common case directly from the bytes,
// several times faster and with 60% fewer allocations: common member
// names are shared, plain strings and numbers are slices of one copy of
// the text. Anything unusual (invalid UTF-8, a lone surrogate escape, a
// top level that is not an object, malformed JSON) goes to encoding/json,
// so the result and the error are always encoding/json's. A fuzz test
// holds the two to the same output.
//
// Index goes further for a reader that wants a few members of each
// document (an export's columns): it finds where the members lie and
// decodes nothing until asked, so no maps are built at all. FuzzIndex
// holds what it reads to Decode's result.
//
// Marshal is the way back: the generic form encoded byte for byte as
// json.Marshal would, without reflection (FuzzMarshal holds the two to
// the same bytes); every user or group the directory writes is encoded
// with it.
package jsondoc

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Decode decodes one JSON object, with numbers as json.Number, exactly as
// a json.Decoder with UseNumber decoding into a map[string]any would.
func Decode(data []byte) (map[string]any, error) {
	p := newParser(data)
	if doc, ok := p.document(); ok {
		return doc, nil
	}
	return slowDecode(data)
}

// slowDecode is encoding/json's reading of data.
func slowDecode(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	doc := map[string]any{}
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// errFallback is never returned; it marks input the fast parser leaves to
// encoding/json.
var errFallback = errors.New("jsondoc: fall back")

// parser is the fast path: a recursive-descent reader that gives up
// (ok false) on anything it does not handle exactly as encoding/json.
type parser struct {
	data []byte
	// text is data as one string: plain strings and numbers are slices
	// of it rather than an allocation each (they keep the document's
	// text alive, which a decoded document's users keep anyway).
	text string
	pos  int
	// depth guards against nesting deep enough to exhaust the stack;
	// encoding/json has its own limit and error for that.
	depth int
}

func newParser(data []byte) *parser { return &parser{data: data, text: string(data)} }

// maxDepth is the nesting the fast path accepts (stored documents nest
// three or four levels).
const maxDepth = 64

func (p *parser) document() (map[string]any, bool) {
	p.space()
	if p.pos >= len(p.data) || p.data[p.pos] != '{' {
		return nil, false
	}
	doc, err := p.object()
	if err != nil {
		return nil, false
	}
	p.space()
	if p.pos != len(p.data) {
		return nil, false
	}
	return doc, true
}

func (p *parser) space() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) value() (any, error) {
	p.space()
	if p.pos >= len(p.data) {
		return nil, errFallback
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		return p.string()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	return nil, errFallback
}

func (p *parser) literal(word string) error {
	if !bytes.HasPrefix(p.data[p.pos:], []byte(word)) {
		return errFallback
	}
	p.pos += len(word)
	return nil
}

func (p *parser) object() (map[string]any, error) {
	m := make(map[string]any, p.hint())
	return m, p.objectInto(m)
}

// objectInto reads the object at p.pos into m.
func (p *parser) objectInto(m map[string]any) error {
	if p.depth++; p.depth > maxDepth {
		return errFallback
	}
	defer func() { p.depth-- }()
	p.pos++ // {
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return nil
	}
	for {
		key, err := p.memberName(true)
		if err != nil {
			return err
		}
		v, err := p.value()
		if err != nil {
			return err
		}
		m[key] = v
		if done, err := p.next('}'); err != nil || done {
			return err
		}
	}
}

// memberName reads `"name":` and returns the name: shared when it is a
// common one and intern is set (Decode's maps), else a slice of the text.
func (p *parser) memberName(intern bool) (string, error) {
	p.space()
	if p.pos >= len(p.data) || p.data[p.pos] != '"' {
		return "", errFallback
	}
	read := p.string
	if intern {
		read = p.key
	}
	key, err := read()
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

func (p *parser) array() ([]any, error) {
	if p.depth++; p.depth > maxDepth {
		return nil, errFallback
	}
	defer func() { p.depth-- }()
	p.pos++ // [
	list := []any{}
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return list, nil
	}
	for {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		list = append(list, v)
		if done, err := p.next(']'); err != nil || done {
			return list, err
		}
	}
}

// next reads the comma between elements (false) or the closing byte
// (true).
func (p *parser) next(closing byte) (bool, error) {
	p.space()
	if p.pos >= len(p.data) {
		return false, errFallback
	}
	switch p.data[p.pos] {
	case ',':
		p.pos++
		return false, nil
	case closing:
		p.pos++
		return true, nil
	}
	return false, errFallback
}

// commonKeys are member names of SCIM documents, shared by every decoded
// document instead of allocated for each.
var commonKeys = func() map[string]string {
	names := []string{"schemas", "id", "externalId", "userName", "name", "formatted", "familyName", "givenName",
		"middleName", "honorificPrefix", "honorificSuffix", "displayName", "nickName", "profileUrl", "title",
		"userType", "preferredLanguage", "locale", "timezone", "active", "emails", "phoneNumbers", "ims",
		"photos", "addresses", "streetAddress", "locality", "region", "postalCode", "country", "groups",
		"entitlements", "roles", "x509Certificates", "value", "display", "type", "primary", "$ref", "meta",
		"resourceType", "created", "lastModified", "location", "version", "members",
		"employeeNumber", "costCenter", "organization", "division", "department", "manager", "tier", "lastLoginAt",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}
	m := make(map[string]string, len(names))
	for _, n := range names {
		m[n] = n
	}
	return m
}()

// key reads a member name: a common one without allocating.
func (p *parser) key() (string, error) {
	start := p.pos + 1
	for i := start; i < len(p.data); i++ {
		if c := p.data[i]; c == '"' {
			if k, ok := commonKeys[string(p.data[start:i])]; ok {
				p.pos = i + 1
				return k, nil
			}
			break
		} else if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
	}
	return p.string()
}

// string reads a string; the plain case (no escape, valid UTF-8) is one
// copy of the bytes.
func (p *parser) string() (string, error) {
	data := p.data
	start := p.pos + 1
	ascii := true
	i := start
	for {
		for i < len(data) && plain[data[i]] {
			i++
		}
		if i >= len(data) {
			return "", errFallback
		}
		switch c := data[i]; {
		case c == '"':
			if !ascii && !utf8.Valid(data[start:i]) {
				return "", errFallback
			}
			p.pos = i + 1
			return p.text[start:i], nil
		case c == '\\':
			return p.escaped(start)
		case c < 0x20:
			return "", errFallback
		}
		ascii = false // c >= utf8.RuneSelf
		i++
	}
}

// plain marks the bytes a string holds as they are: not the closing
// quote, a backslash, a control character or part of a multi-byte
// character.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// escaped reads a string with escapes from start (after the quote).
func (p *parser) escaped(start int) (string, error) {
	buf := make([]byte, 0, 32)
	i := start
	for i < len(p.data) {
		c := p.data[i]
		switch {
		case c == '"':
			if !utf8.Valid(buf) {
				return "", errFallback
			}
			p.pos = i + 1
			return string(buf), nil
		case c < 0x20:
			return "", errFallback
		case c != '\\':
			buf = append(buf, c)
			i++
			continue
		}
		if i+1 >= len(p.data) {
			return "", errFallback
		}
		switch e := p.data[i+1]; e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, n := p.unicode(i)
			if n == 0 {
				return "", errFallback
			}
			buf = utf8.AppendRune(buf, r)
			i += n
			continue
		default:
			return "", errFallback
		}
		i += 2
	}
	return "", errFallback
}

// unicode reads a \uXXXX escape at i (and the low half of a surrogate
// pair after it): the rune and the bytes read, 0 for anything but a valid
// scalar value or pair.
func (p *parser) unicode(i int) (rune, int) {
	r, ok := hex4(p.data[i+2:])
	if !ok {
		return 0, 0
	}
	if !utf16.IsSurrogate(r) {
		return r, 6
	}
	if r >= 0xDC00 || i+12 > len(p.data) || p.data[i+6] != '\\' || p.data[i+7] != 'u' {
		return 0, 0
	}
	lo, ok := hex4(p.data[i+8:])
	if !ok {
		return 0, 0
	}
	pair := utf16.DecodeRune(r, lo)
	if pair == utf8.RuneError {
		return 0, 0
	}
	return pair, 12
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b[:4]), 16, 32)
	return rune(v), err == nil
}

// number reads a number as the JSON grammar has it, kept as its text.
func (p *parser) number() (json.Number, error) {
	start := p.pos
	i := start
	if p.data[i] == '-' {
		i++
	}
	switch {
	case i < len(p.data) && p.data[i] == '0':
		i++
	case i < len(p.data) && p.data[i] >= '1' && p.data[i] <= '9':
		i = digits(p.data, i)
	default:
		return "", errFallback
	}
	if i < len(p.data) && p.data[i] == '.' {
		j := digits(p.data, i+1)
		if j == i+1 {
			return "", errFallback
		}
		i = j
	}
	if i < len(p.data) && (p.data[i] == 'e' || p.data[i] == 'E') {
		i++
		if i < len(p.data) && (p.data[i] == '+' || p.data[i] == '-') {
			i++
		}
		j := digits(p.data, i)
		if j == i {
			return "", errFallback
		}
		i = j
	}
	p.pos = i
	return json.Number(p.text[start:i]), nil
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// hint is the size the map of the object about to be read starts with:
// a stored document's top level has a dozen or more members (growing a
// map rehashes it); nested objects are small.
func (p *parser) hint() int {
	if p.depth == 0 {
		return 16
	}
	return 0
}
