package filter

import (
	"errors"
	"testing"
)

func TestSplitValuePath(t *testing.T) {
	for _, c := range []struct{ in, attr, filt, sub, problem string }{
		{in: "title", attr: "title"},
		{in: `emails[type eq "work"].value`, attr: "emails", filt: `type eq "work"`, sub: "value"},
		{in: `members[value eq "a]b"]`, attr: "members", filt: `value eq "a]b"`},
		{in: `x[value eq "a\"]"]`, attr: "x", filt: `value eq "a\"]"`},
		{in: `emails[type eq "work"`, problem: `"emails[type eq \"work\"" has an unclosed '['`},
		{in: `emails[type eq "work"]value`, problem: `"emails[type eq \"work\"]value" has text after ']' that is not .subAttribute`},
		{in: `emails[type eq "work"].`, problem: `"emails[type eq \"work\"]." has text after ']' that is not .subAttribute`},
	} {
		attr, filt, sub, err := SplitValuePath(c.in)
		var vpe *ValuePathError
		switch {
		case c.problem != "":
			if !errors.As(err, &vpe) || vpe.Problem != c.problem {
				t.Errorf("%s: error %v, want problem %s", c.in, err, c.problem)
			}
		case err != nil || attr != c.attr || filt != c.filt || sub != c.sub:
			t.Errorf("%s: %q %q %q %v", c.in, attr, filt, sub, err)
		}
	}
}
