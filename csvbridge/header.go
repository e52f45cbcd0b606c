package csvbridge

import (
	"strings"
	"unicode"
)

// HeaderKey returns the key a header cell names and whether it marks the
// column required. Microsoft Entra's bulk-create headers ("User name
// [userName] Required") name their key in brackets after a label; any other
// header is its own key. The key is trimmed, not folded.
func HeaderKey(cell string) (key string, required bool) {
	s := strings.TrimFunc(cell, isHeaderSpace)
	rest := s
	if t, ok := cutSuffixFold(rest, "required"); ok {
		if t = strings.TrimFunc(t, isHeaderSpace); strings.HasSuffix(t, "]") {
			rest, required = t, true
		}
	}
	if !strings.HasSuffix(rest, "]") {
		return s, false
	}
	open := strings.LastIndexByte(rest, '[')
	if open < 1 || !isHeaderSpace(rune(rest[open-1])) {
		return s, false // a SCIM value path such as emails[type eq "work"]
	}
	key = strings.TrimFunc(rest[open+1:len(rest)-1], isHeaderSpace)
	if key == "" || strings.ContainsAny(key, `[]"`) {
		return s, false
	}
	return key, required
}

// FoldHeader is how headers are compared: trimmed and case-folded.
func FoldHeader(s string) string {
	return strings.ToLower(strings.TrimFunc(s, isHeaderSpace))
}

func isHeaderSpace(r rune) bool { return unicode.IsSpace(r) || r == '\ufeff' || r == '\u200b' }

func cutSuffixFold(s, suffix string) (string, bool) {
	if len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix) {
		return s[:len(s)-len(suffix)], true
	}
	return s, false
}

// ColumnLetter is the spreadsheet letter of a 0-based column index (0 is
// A, 26 is AA).
func ColumnLetter(i int) string {
	var b []byte
	for i++; i > 0; i = (i - 1) / 26 {
		b = append([]byte{byte('A' + (i-1)%26)}, b...)
	}
	return string(b)
}
