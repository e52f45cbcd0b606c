package csvbridge

import (
	"strings"
	"testing"

	"pgregory.net/rapid"
)

func TestEscapeUnescape(t *testing.T) {
	for _, c := range []struct{ in, escaped string }{
		{"=SUM(A1)", "'=SUM(A1)"},
		{"+1", "'+1"},
		{"-5", "'-5"},
		{"@cmd", "'@cmd"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"plain", "plain"},
		{"", ""},
		{"'hello", "'hello"},
		{"'=x", "''=x"},
		{"a=b", "a=b"},
	} {
		if got := Escape(c.in); got != c.escaped {
			t.Errorf("Escape(%q) = %q, want %q", c.in, got, c.escaped)
		}
		if got := Unescape(c.escaped); got != c.in {
			t.Errorf("Unescape(%q) = %q, want %q", c.escaped, got, c.in)
		}
	}
}

// TestEscapeProperties: Unescape inverts Escape, and an escaped cell never
// starts a formula.
func TestEscapeProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.StringOf(rapid.SampledFrom([]rune("'=+-@\t\rab1 "))).Draw(t, "s")
		e := Escape(s)
		if Unescape(e) != s {
			t.Fatalf("Unescape(Escape(%q)) = %q", s, Unescape(e))
		}
		if e != "" && strings.ContainsRune(formulaStarts, rune(e[0])) {
			t.Fatalf("Escape(%q) = %q starts a formula", s, e)
		}
	})
}

// TestImportUndoesEscape: a cell our export escaped comes back as written.
func TestImportUndoesEscape(t *testing.T) {
	in := "userName,name.givenName,title\n" + Escape("=bob") + "," + Escape("+Bob") + "," + Escape("-lead-") + "\n"
	rows := mustImport(t, SCIMProfile(), in)
	for path, want := range map[string]string{"userName": "=bob", "name.givenName": "+Bob", "title": "-lead-"} {
		if got := field(t, rows[0], path).Value; got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	if rows[0].Cells[0] != "'=bob" {
		t.Errorf("cells keep the text as written for the report, got %q", rows[0].Cells[0])
	}
}
