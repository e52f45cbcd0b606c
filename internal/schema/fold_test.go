package schema

import (
	"math/rand"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestFoldExamples(t *testing.T) {
	for _, c := range []struct {
		a, b string
		same bool
	}{
		{"ſam", "sam", true}, {"SAM", "ſam", true}, {"ΣΟΦΟΣ", "σοφος", true}, {"σοφοσ", "σοφος", true},
		{"\u212Aelvin", "kelvin", true}, {"İYİ", "iyi", false}, {"ıyı", "iyi", false}, {"straße", "strasse", false},
		{"Ab_c", "ab_C", true}, {"ab", "abc", false},
	} {
		if got := Fold(c.a) == Fold(c.b); got != c.same {
			t.Errorf("Fold(%q)=%q, Fold(%q)=%q: same=%v, want %v", c.a, Fold(c.a), c.b, Fold(c.b), got, c.same)
		}
	}
	if Fold("ΣΟΦΟΣ") != "σοφοσ" || Fold("İYİ") != "İyİ" {
		t.Errorf("Fold(ΣΟΦΟΣ) = %q, Fold(İYİ) = %q", Fold("ΣΟΦΟΣ"), Fold("İYİ"))
	}
	if Fold("Sam.Lee_1") != "sam.lee_1" {
		t.Errorf("ASCII folds to lower case, got %q", Fold("Sam.Lee_1"))
	}
}

// TestFoldIsEqualFold checks the rule against strings.EqualFold on random
// strings built from runes whose case orbits are unusual.
func TestFoldIsEqualFold(t *testing.T) {
	alphabet := []rune("sSſkK\u212AiIİıσςΣµμΜßẞǅǄǆθϑΘ\u03F4aA1_")
	r := rand.New(rand.NewSource(1))
	word := func() string {
		var b strings.Builder
		for n := r.Intn(4); n >= 0; n-- {
			b.WriteRune(alphabet[r.Intn(len(alphabet))])
		}
		return b.String()
	}
	for range 20000 {
		a, b := word(), word()
		if (Fold(a) == Fold(b)) != strings.EqualFold(a, b) {
			t.Fatalf("Fold disagrees with EqualFold on %q and %q (%q, %q)", a, b, Fold(a), Fold(b))
		}
		if Fold(Fold(a)) != Fold(a) || utf8.RuneCountInString(Fold(a)) != utf8.RuneCountInString(a) {
			t.Fatalf("Fold(%q) = %q is not idempotent or changes the length", a, Fold(a))
		}
	}
	for c := rune(0); c <= unicode.MaxRune; c++ {
		f := FoldRune(c)
		if !strings.EqualFold(string(c), string(f)) || FoldRune(f) != f {
			t.Fatalf("FoldRune(%U) = %U is not in its orbit or not stable", c, f)
		}
		for x := unicode.SimpleFold(c); x != c; x = unicode.SimpleFold(x) {
			if FoldRune(x) != f {
				t.Fatalf("FoldRune(%U) = %U but FoldRune(%U) = %U: one orbit, two folds", c, f, x, FoldRune(x))
			}
		}
	}
}
