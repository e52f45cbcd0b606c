package csvbridge

import "strings"

// formulaStarts are the characters that make a spreadsheet read a cell as a
// formula (OWASP's CSV injection list).
const formulaStarts = "=+-@\t\r"

// Escape prepares a cell for a CSV file that people open in a spreadsheet:
// a value that would start a formula gets a leading apostrophe, which
// spreadsheets display as text. A value whose leading apostrophes hide such
// a character gets one more, so that Unescape(Escape(s)) == s for every s.
// Exports and the audit CSV write every cell through it.
func Escape(s string) string {
	if needsQuote(s) {
		return "'" + s
	}
	return s
}

// Unescape undoes Escape: one leading apostrophe is removed when what
// follows it would be escaped again. Any other apostrophe is the user's text
// and is kept ("'hello" stays "'hello").
func Unescape(s string) string {
	if len(s) > 1 && s[0] == '\'' && needsQuote(s[1:]) {
		return s[1:]
	}
	return s
}

// needsQuote reports whether s, after its leading apostrophes, starts with
// a formula character.
func needsQuote(s string) bool {
	t := strings.TrimLeft(s, "'")
	return t != "" && strings.IndexByte(formulaStarts, t[0]) >= 0
}
