package jsondoc

import (
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Marshal encodes a document in the generic form (map[string]any, []any,
// string, bool, json.Number, nil) exactly as json.Marshal does, byte for
// byte: members sorted by name, HTML characters, U+2028 and U+2029
// escaped, invalid UTF-8 replaced. It writes the generic form directly
// instead of through reflection (json.Marshal of a user was a third of
// the Go work of validating one for a write); any other type inside the
// document is handed to json.Marshal. FuzzMarshal holds the two to the
// same output.
func Marshal(v any) ([]byte, error) {
	return AppendValue(make([]byte, 0, 512), v)
}

// AppendValue appends v encoded as Marshal encodes it, for a writer that
// puts a generic value inside JSON of its own.
func AppendValue(dst []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		return AppendString(dst, x), nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case map[string]any:
		return appendObject(dst, x)
	case []any:
		return appendArray(dst, x)
	case json.Number:
		if x != "" && isNumber(string(x)) {
			return append(dst, x...), nil
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(dst, b...), nil
}

func appendObject(dst []byte, m map[string]any) ([]byte, error) {
	if m == nil {
		return append(dst, "null"...), nil
	}
	var buf [32]string
	keys := buf[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(AppendString(dst, k), ':')
		var err error
		if dst, err = AppendValue(dst, m[k]); err != nil {
			return nil, err
		}
	}
	return append(dst, '}'), nil
}

func appendArray(dst []byte, a []any) ([]byte, error) {
	if a == nil {
		return append(dst, "null"...), nil
	}
	dst = append(dst, '[')
	for i, e := range a {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = AppendValue(dst, e); err != nil {
			return nil, err
		}
	}
	return append(dst, ']'), nil
}

// isNumber reports whether s (not empty) is a JSON number, json.Number's
// own check, which json.Marshal applies: the decoder's number grammar.
func isNumber(s string) bool {
	p := newParserText(s)
	_, err := p.number()
	return err == nil && p.pos == len(s)
}

const hexDigits = "0123456789abcdef"

// AppendString appends s quoted as json.Marshal does: quotes,
// backslashes and control characters escaped, <, > and & too, U+2028 and
// U+2029 as \u escapes, invalid UTF-8 as U+FFFD.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if writtenAsIs(b) {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// writtenAsIs reports whether the ASCII byte b is written as itself: not a
// control character, a quote, a backslash or one of the HTML characters
// json.Marshal escapes.
func writtenAsIs(b byte) bool {
	return b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&'
}
