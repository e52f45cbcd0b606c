package filter

import (
	"encoding/json"
	"strings"
)

// token is a piece of a filter: a quoted string, a bracket or parenthesis,
// or a word (attribute path, operator or bare value). sp records whether
// whitespace preceded it.
type token struct {
	text string
	sp   bool
}

var compareOps = map[string]bool{"eq": true, "ne": true, "co": true, "sw": true, "ew": true, "gt": true, "ge": true, "lt": true, "le": true}

// lex splits a filter into tokens; ok is false for an unterminated string.
func lex(s string) ([]token, bool) {
	var out []token
	sp := false
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			sp = true
			i++
			continue
		case c == '"':
			j := endOfString(s, i)
			if j < 0 {
				return nil, false
			}
			out = append(out, token{s[i:j], sp})
			i = j
		case strings.IndexByte("()[]", c) >= 0:
			out = append(out, token{s[i : i+1], sp})
			i++
		default:
			j := i
			for j < len(s) && strings.IndexByte(" \t\n\r()[]\"", s[j]) < 0 {
				j++
			}
			out = append(out, token{s[i:j], sp})
			i = j
		}
		sp = false
	}
	return out, true
}

// endOfString returns the index just past the closing quote of the string
// starting at s[i], or -1.
func endOfString(s string, i int) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// rewrite applies the two compatibility rewrites before parsing:
// attr[f].sub op v becomes attr[f and sub op v], and a bare word after a
// comparison operator that is not true, false, null or a number is quoted
// (Microsoft's reference client sends userName sw O). Then the \u escapes
// of quoted strings get the upper-case hex digits the parser requires.
func rewrite(toks []token) []token {
	toks = foldValuePathSub(toks)
	for i := 1; i+1 < len(toks); i++ {
		if !compareOps[strings.ToLower(toks[i].text)] || !isWord(toks[i-1]) || !toks[i+1].sp {
			continue
		}
		toks[i+1].text = quoteBare(toks[i+1].text)
	}
	for i := range toks {
		if strings.HasPrefix(toks[i].text, `"`) {
			toks[i].text = upperHexEscapes(toks[i].text)
		}
	}
	return toks
}

// upperHexEscapes upper-cases the hex digits of \u escapes in a quoted
// string: JSON allows either case, the filter grammar only upper case.
func upperHexEscapes(s string) string {
	if !strings.Contains(s, `\u`) {
		return s
	}
	b := []byte(s)
	for i := 0; i+1 < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		if b[i+1] == 'u' {
			for j := i + 2; j < i+6 && j < len(b); j++ {
				if b[j] >= 'a' && b[j] <= 'f' {
					b[j] -= 'a' - 'A'
				}
			}
		}
		i++ // the escaped character
	}
	return string(b)
}

func isWord(t token) bool {
	return t.text != "" && strings.IndexByte("()[]\"", t.text[0]) < 0
}

func quoteBare(v string) string {
	switch strings.ToLower(v) {
	case "true", "false", "null":
		return strings.ToLower(v)
	}
	if v == "" || strings.IndexByte("()[]\"", v[0]) >= 0 || isNumber(v) {
		return v
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func isNumber(v string) bool {
	var n json.Number
	return json.Unmarshal([]byte(v), &n) == nil
}

// foldValuePathSub turns "] .sub op value" (no space before the dot) into
// "and sub op value ]", and "] .sub pr" into "and sub pr ]".
func foldValuePathSub(toks []token) []token {
	var out []token
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.text != "]" || i+2 >= len(toks) || toks[i+1].sp || !strings.HasPrefix(toks[i+1].text, ".") || len(toks[i+1].text) < 2 {
			out = append(out, t)
			continue
		}
		sub := token{toks[i+1].text[1:], true}
		op := toks[i+2]
		if strings.EqualFold(op.text, "pr") {
			out = append(out, token{"and", true}, sub, op, token{"]", false})
			i += 2
			continue
		}
		if i+3 >= len(toks) || !compareOps[strings.ToLower(op.text)] {
			out = append(out, t)
			continue
		}
		out = append(out, token{"and", true}, sub, op, toks[i+3], token{"]", false})
		i += 3
	}
	return out
}

// join renders tokens back into a filter string.
func join(toks []token) string {
	var b strings.Builder
	for _, t := range toks {
		if t.sp && b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t.text)
	}
	return b.String()
}
