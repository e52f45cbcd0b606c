package filter

import (
	"fmt"
	"strings"
)

// ValuePathError is the error SplitValuePath returns: Problem is a
// sentence fragment naming the path ("\"x[\" has an unclosed '['") for
// the caller to put in its own error.
type ValuePathError struct {
	Problem string
}

// Error implements error.
func (e *ValuePathError) Error() string { return "malformed value path: " + e.Problem }

// SplitValuePath cuts a PATCH or CSV path of the form attr[filter].sub into
// its three parts, without resolving or parsing them: "emails[type eq
// \"work\"].value" gives "emails", `type eq "work"` and "value"; a path
// without a bracket is returned whole as attr. Brackets inside quoted
// strings of the filter do not close it. Its errors are *ValuePathError.
func SplitValuePath(path string) (attr, valFilter, sub string, err error) {
	open := strings.IndexByte(path, '[')
	if open < 0 {
		return path, "", "", nil
	}
	end := closingBracket(path, open)
	if end < 0 {
		return "", "", "", &ValuePathError{fmt.Sprintf("%q has an unclosed '['", clip(path))}
	}
	rest := path[end+1:]
	if rest != "" && (!strings.HasPrefix(rest, ".") || len(rest) == 1) {
		return "", "", "", &ValuePathError{fmt.Sprintf("%q has text after ']' that is not .subAttribute", clip(path))}
	}
	return path[:open], path[open+1 : end], strings.TrimPrefix(rest, "."), nil
}

// closingBracket finds the ']' that closes the '[' at open, skipping
// quoted strings (with their backslash escapes).
func closingBracket(s string, open int) int {
	inString := false
	for i := open + 1; i < len(s); i++ {
		switch {
		case s[i] == '\\' && inString:
			i++
		case s[i] == '"':
			inString = !inString
		case s[i] == ']' && !inString:
			return i
		}
	}
	return -1
}

// clip shortens a path quoted in an error message.
func clip(s string) string {
	if len(s) <= 120 {
		return s
	}
	return s[:120] + "..."
}
