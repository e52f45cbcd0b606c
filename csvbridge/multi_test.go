package csvbridge

import (
	"slices"
	"testing"
)

func TestJoinMulti(t *testing.T) {
	for _, tc := range []struct {
		values []string
		sep    string
		want   string
	}{
		{[]string{"a", "b|c", `d\e`}, "|", `a|b\|c|d\\e`},
		{[]string{"x, y", "z"}, ", ", `x\, y, z`},
		{nil, "|", ""},
		// No separator: the column holds one value (it used to loop forever).
		{[]string{"Agent", "Supervisor"}, "", "Agent"},
		{nil, "", ""},
	} {
		got := JoinMulti(tc.values, tc.sep)
		if got != tc.want {
			t.Errorf("JoinMulti(%q, %q) = %q, want %q", tc.values, tc.sep, got, tc.want)
		}
		if tc.sep != "" && len(tc.values) > 0 {
			if back := splitEscaped(got, tc.sep); !slices.Equal(back, tc.values) {
				t.Errorf("splitEscaped(%q) = %q, want %q", got, back, tc.values)
			}
		}
	}
}
