package csvbridge

import "strings"

// JoinMulti joins the values of a multi-valued cell with the separator,
// escaping a separator or a backslash inside a value with a backslash, so
// that the import (splitMulti) reads the same values back. Without a
// separator a cell holds one value (a profile column such as
// contact-center-agents' role): the first.
func JoinMulti(values []string, sep string) string {
	if sep == "" {
		if len(values) == 0 {
			return ""
		}
		return values[0]
	}
	var b strings.Builder
	for i, v := range values {
		if i > 0 {
			b.WriteString(sep)
		}
		for len(v) > 0 {
			switch {
			case strings.HasPrefix(v, sep):
				b.WriteByte('\\')
				b.WriteString(sep)
				v = v[len(sep):]
			case v[0] == '\\':
				b.WriteString(`\\`)
				v = v[1:]
			default:
				b.WriteByte(v[0])
				v = v[1:]
			}
		}
	}
	return b.String()
}

// splitEscaped splits text at each separator that no backslash escapes,
// turning \<sep> and \\ into <sep> and \.
func splitEscaped(text, sep string) []string {
	if !strings.Contains(text, `\`) {
		return strings.Split(text, sep)
	}
	var out []string
	var cur strings.Builder
	for len(text) > 0 {
		switch {
		case strings.HasPrefix(text, `\`+sep):
			cur.WriteString(sep)
			text = text[1+len(sep):]
		case strings.HasPrefix(text, `\\`):
			cur.WriteByte('\\')
			text = text[2:]
		case strings.HasPrefix(text, sep):
			out = append(out, cur.String())
			cur.Reset()
			text = text[len(sep):]
		default:
			cur.WriteByte(text[0])
			text = text[1:]
		}
	}
	return append(out, cur.String())
}
