package schema

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Fold returns the case-folded form of s under which scimbridge compares
// every case-insensitive (caseExact=false) string: userName uniqueness,
// sign-in lookups, filters and sorting, on every store.
//
// The rule is Unicode simple case folding, the one strings.EqualFold
// implements: Fold(a) == Fold(b) exactly when strings.EqualFold(a, b). Each
// rune is replaced by one fixed member of its unicode.SimpleFold orbit
// (FoldRune), so "ſam", "SAM" and "sam" fold alike, as do "ΣΟΦΟΣ",
// "σοφος" and "σοφοσ", while the
// Turkish dotted capital "İ" (whose only folding is the full, two-rune
// "i̇") stays distinct from "i". Folding works rune by rune and keeps the
// number of runes, so a prefix or substring of a folded string is the
// folded prefix or substring, which keeps sw, co and ew exact.
//
// Simple rather than full folding (golang.org/x/text/cases.Fold, which
// makes "ß" equal "ss") because it agrees with strings.EqualFold, needs
// no locale or extra module, and never changes a string's length.
// Invalid UTF-8 bytes are kept as they are (request bodies with invalid
// UTF-8 are refused before they get here).
func Fold(s string) string {
	if isFoldedASCII(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteByte(s[i])
		} else {
			b.WriteRune(FoldRune(r))
		}
		i += n
	}
	return b.String()
}

// FoldRune is the folded form of one rune (see Fold): the lower case of
// its upper case when that is in the rune's case orbit (so folding agrees
// with lower-casing for nearly every character), else the rune itself
// (the dotted capital "İ", whose lower case "i" is not in its orbit).
func FoldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	c := unicode.ToLower(unicode.ToUpper(r))
	if c == r || inOrbit(r, c) {
		return c
	}
	return r
}

// inOrbit reports whether c is in r's unicode.SimpleFold orbit.
func inOrbit(r, c rune) bool {
	for x := unicode.SimpleFold(r); x != r; x = unicode.SimpleFold(x) {
		if x == c {
			return true
		}
	}
	return false
}

// FoldExceptions lists the runes whose folded form is not their lower
// case (unicode.ToLower), with their folded form: "ſ" folds to "s", "ς"
// to "σ", "İ" to itself. A backend that folds in SQL lower-cases and
// corrects these.
func FoldExceptions() map[rune]rune {
	out := map[rune]rune{}
	for r := rune(utf8.RuneSelf); r <= unicode.MaxRune; r++ {
		if f := FoldRune(r); f != unicode.ToLower(r) {
			out[r] = f
		}
	}
	return out
}

// isFoldedASCII reports whether s is ASCII without upper-case letters, so
// Fold(s) is s itself.
func isFoldedASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
			return false
		}
	}
	return true
}
