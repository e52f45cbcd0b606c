package storetest

import (
	"fmt"
	"math/rand"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scimbridge/scimbridge/internal/filter"
	"github.com/scimbridge/scimbridge/internal/schema"
)

// A random grammar of SCIM filters over the attributes present in the
// generated data, with values drawn from that data.

// diffAttr is a filterable attribute path and the kind of its values:
// 's' string, 'b' boolean, 't' dateTime, 'm' multi-valued complex,
// 'c' singular complex (only pr applies).
type diffAttr struct {
	path   string
	kind   byte
	weight int
}

var diffUserAttrs = []diffAttr{
	{"userName", 's', 10}, {"displayName", 's', 6}, {"externalId", 's', 5}, {"id", 's', 3}, {"active", 'b', 4},
	{"title", 's', 4}, {"nickName", 's', 3}, {"name", 'c', 1}, {"name.givenName", 's', 4}, {"name.familyName", 's', 4},
	{"name.formatted", 's', 1},
	{"emails", 'm', 4}, {"emails.value", 's', 8}, {"emails.type", 's', 5}, {"emails.primary", 'b', 3}, {"emails.display", 's', 1},
	{"phoneNumbers", 'm', 1}, {"phoneNumbers.value", 's', 3}, {"phoneNumbers.type", 's', 2}, {"phoneNumbers.primary", 'b', 1},
	{"meta.created", 't', 4}, {"meta.lastModified", 't', 4},
	{schema.EnterpriseURN + ":employeeNumber", 's', 3}, {schema.EnterpriseURN + ":department", 's', 4},
	{schema.EnterpriseURN + ":manager", 'c', 1}, {schema.EnterpriseURN + ":manager.value", 's', 3},
	{schema.EnterpriseURN + ":manager.displayName", 's', 1},
	{schema.SupportURN + ":tier", 's', 4}, {schema.SupportURN + ":sourceUserNames", 'm', 1},
	{schema.SupportURN + ":sourceUserNames.value", 's', 2}, {schema.SupportURN + ":sourceUserNames.source", 's', 1},
	{"groups", 'm', 2}, {"groups.value", 's', 4}, {"groups.display", 's', 4}, {"groups.type", 's', 1},
	{"userType", 's', 2}, {"profileUrl", 's', 2},
	// Never present in the data: every comparison is false but ne.
	{"locale", 's', 1}, {"addresses.locality", 's', 1}, {"ims.value", 's', 1}, {"photos.value", 's', 1},
	{"x509Certificates.value", 's', 1}, {"roles", 'm', 1}, {"addresses.primary", 'b', 1},
	{schema.EnterpriseURN + ":costCenter", 's', 1},
}

var diffGroupAttrs = []diffAttr{
	{"displayName", 's', 8}, {"externalId", 's', 4}, {"id", 's', 3},
	{"members", 'm', 4}, {"members.value", 's', 5}, {"members.display", 's', 5}, {"members.type", 's', 4},
	{"meta.created", 't', 3}, {"meta.lastModified", 't', 3},
}

// diffSubs are the sub-attributes a value path attr[...] may test.
var diffSubs = map[string][]diffAttr{
	"emails":                               {{"value", 's', 4}, {"type", 's', 4}, {"primary", 'b', 2}, {"display", 's', 1}},
	"phoneNumbers":                         {{"value", 's', 3}, {"type", 's', 3}, {"primary", 'b', 1}},
	"groups":                               {{"value", 's', 3}, {"display", 's', 3}, {"type", 's', 1}},
	schema.SupportURN + ":sourceUserNames": {{"source", 's', 2}, {"value", 's', 2}},
	"members":                              {{"value", 's', 3}, {"display", 's', 3}, {"type", 's', 3}},
	"roles":                                {{"value", 's', 1}, {"primary", 'b', 1}},
}

// diffStringOps are the string operators with their weights; "null" stands
// for eq null / ne null.
var diffStringOps = []struct {
	op     string
	weight int
}{{"eq", 22}, {"ne", 10}, {"co", 14}, {"sw", 12}, {"ew", 10}, {"gt", 5}, {"ge", 5}, {"lt", 5}, {"le", 5}, {"pr", 8}, {"null", 4}}

// diffSpecials are values that exercise LIKE escaping and near misses.
var diffSpecials = []string{"%", "_", `\`, "'", `"`, "a%", "%_", "_a", `\%`, "zz-nope", "é", "É", "ö", "Ä", "@", ".", " ", "-"}

type filterGen struct {
	r     *rand.Rand
	urn   string // the core schema of the resource type
	attrs []diffAttr
	multi []string // attributes that take value paths
	pool  map[string][]string
	all   []string
	times []time.Time
}

func newFilterGen(r *rand.Rand, rt *schema.ResourceType, attrs []diffAttr, res map[string]filter.Resource, ids []string) *filterGen {
	g := &filterGen{r: r, urn: rt.Schema.ID, attrs: attrs, pool: map[string][]string{}}
	seen := map[string]bool{}
	for _, a := range attrs {
		if a.kind == 'm' {
			g.multi = append(g.multi, a.path)
		}
	}
	for _, id := range ids { // stable order, so a seed means one run
		for _, a := range attrs {
			if a.kind != 's' && a.kind != 't' {
				continue
			}
			for _, v := range pathValues(res[id], a.path) {
				switch v := v.(type) {
				case string:
					g.pool[a.path] = append(g.pool[a.path], v)
					if !seen[v] {
						seen[v] = true
						g.all = append(g.all, v)
					}
				case time.Time:
					g.times = append(g.times, v)
				}
			}
		}
	}
	return g
}

// pathValues returns the present values of a path such as "emails.type"
// or "urn:...:User:manager.value" in a resource.
func pathValues(res filter.Resource, path string) []any {
	obj := res
	rest := path
	if strings.HasPrefix(path, "urn:") {
		i := strings.LastIndex(path, ":")
		obj, _ = res[path[:i]].(map[string]any)
		rest = path[i+1:]
	}
	name, sub, _ := strings.Cut(rest, ".")
	var out []any
	add := func(x any) {
		if filter.Present(x) {
			out = append(out, x)
		}
	}
	switch v := obj[name].(type) {
	case []any:
		for _, el := range v {
			if sub == "" {
				add(el)
				continue
			}
			m, _ := el.(map[string]any)
			add(m[sub])
		}
	case map[string]any:
		add(v[sub])
	default:
		if sub == "" {
			add(v)
		}
	}
	return out
}

func (g *filterGen) pickAttr(list []diffAttr) diffAttr {
	total := 0
	for _, a := range list {
		total += a.weight
	}
	n := g.r.Intn(total)
	for _, a := range list {
		if n < a.weight {
			return a
		}
		n -= a.weight
	}
	return list[len(list)-1]
}

// filter returns a random filter of nesting depth at most 3.
func (g *filterGen) filter(depth int) string {
	if depth >= 3 || chance(g.r, 45) {
		return g.leaf()
	}
	switch n := g.r.Intn(10); {
	case n < 4:
		return g.filter(depth+1) + " " + g.keyword("and") + " " + g.filter(depth+1)
	case n < 8:
		return g.filter(depth+1) + " " + g.keyword("or") + " " + g.filter(depth+1)
	case n < 9:
		return g.keyword("not") + pick(g.r, []string{" ", ""}) + "(" + g.filter(depth+1) + ")"
	}
	return "(" + g.filter(depth+1) + ")"
}

// keyword spells an operator or logical keyword in a random case.
func (g *filterGen) keyword(k string) string {
	switch n := g.r.Intn(100); {
	case n < 10:
		return strings.ToUpper(k)
	case n < 15:
		return strings.ToUpper(k[:1]) + k[1:]
	}
	return k
}

// spell writes an attribute path as clients might: canonical, re-cased, or
// with the core schema URN.
func (g *filterGen) spell(path string) string {
	if !strings.HasPrefix(path, "urn:") && chance(g.r, 6) {
		path = g.urn + ":" + path
	}
	if chance(g.r, 15) {
		return recase(g.r, path)
	}
	return path
}

func (g *filterGen) leaf() string {
	if len(g.multi) > 0 && chance(g.r, 15) {
		return g.valuePath()
	}
	a := g.pickAttr(g.attrs)
	p := g.spell(a.path)
	switch a.kind {
	case 'b':
		return p + " " + g.boolTail()
	case 't':
		return p + " " + g.timeTail()
	case 'c': // only pr: comparing a singular complex attribute is an error
		return p + " " + g.keyword("pr")
	case 'm':
		switch g.r.Intn(5) {
		case 0:
			return p + " " + g.keyword("pr")
		case 1:
			return p + " " + g.keyword(pick(g.r, []string{"eq", "ne"})) + " null"
		}
		return p + " " + g.stringTail(a.path+".value")
	}
	return p + " " + g.stringTail(a.path)
}

// valuePath returns attr[f] or, Entra's form, attr[f].sub op value.
func (g *filterGen) valuePath() string {
	name := pick(g.r, g.multi)
	subs := diffSubs[name]
	p := g.spell(name)
	// The grammar inside [ ] allows one comparison, two joined by and/or,
	// or not ( ... ) of those.
	var inner string
	switch n := g.r.Intn(100); {
	case n < 50:
		inner = g.subLeaf(name, subs)
		if chance(g.r, 40) {
			s := g.pickAttr(subs)
			return p + "[" + inner + "]." + g.spellSub(s.path) + " " + g.subTail(name, s)
		}
	case n < 85:
		inner = g.subLeaf(name, subs) + " " + g.keyword(pick(g.r, []string{"and", "or"})) + " " + g.subLeaf(name, subs)
	case n < 93:
		inner = g.keyword("not") + " (" + g.subLeaf(name, subs) + ")"
	default:
		inner = g.keyword("not") + " (" + g.subLeaf(name, subs) + " " + g.keyword(pick(g.r, []string{"and", "or"})) + " " + g.subLeaf(name, subs) + ")"
	}
	return p + "[" + inner + "]"
}

func (g *filterGen) spellSub(s string) string {
	if chance(g.r, 15) {
		return recase(g.r, s)
	}
	return s
}

func (g *filterGen) subLeaf(name string, subs []diffAttr) string {
	s := g.pickAttr(subs)
	return g.spellSub(s.path) + " " + g.subTail(name, s)
}

func (g *filterGen) subTail(name string, s diffAttr) string {
	if s.kind == 'b' {
		return g.boolTail()
	}
	return g.stringTail(name + "." + s.path)
}

// stringTail returns "op value" for a string attribute whose pool is path.
func (g *filterGen) stringTail(path string) string {
	total := 0
	for _, o := range diffStringOps {
		total += o.weight
	}
	n := g.r.Intn(total)
	op := ""
	for _, o := range diffStringOps {
		if n < o.weight {
			op = o.op
			break
		}
		n -= o.weight
	}
	switch op {
	case "pr":
		return g.keyword("pr")
	case "null":
		return g.keyword(pick(g.r, []string{"eq", "ne"})) + " null"
	}
	return g.keyword(op) + " " + g.literal(g.stringValue(path))
}

func (g *filterGen) boolTail() string {
	switch n := g.r.Intn(100); {
	case n < 8:
		return g.keyword("pr")
	case n < 15:
		return g.keyword(pick(g.r, []string{"eq", "ne"})) + " null"
	}
	v := pick(g.r, []string{"true", "false"})
	switch g.r.Intn(6) {
	case 0:
		v = recase(g.r, v) // bare True/FALSE: Microsoft's clients
	case 1:
		v = `"` + v + `"`
	}
	return g.keyword(pick(g.r, []string{"eq", "eq", "ne"})) + " " + v
}

func (g *filterGen) timeTail() string {
	switch n := g.r.Intn(100); {
	case n < 5:
		return g.keyword("pr")
	case n < 9:
		return g.keyword(pick(g.r, []string{"eq", "ne"})) + " null"
	}
	op := pick(g.r, []string{"eq", "ne", "gt", "ge", "lt", "le", "gt", "lt"})
	return g.keyword(op) + " " + g.literal(g.timeValue())
}

// stringValue draws a comparison value for path: a value of the data as
// is, re-cased, cut, or a value that matches nothing or everything.
func (g *filterGen) stringValue(path string) string {
	vals := g.pool[path]
	if len(vals) == 0 || chance(g.r, 8) {
		vals = g.all
	}
	v := pick(g.r, vals)
	switch n := g.r.Intn(100); {
	case n < 35:
		return v
	case n < 50:
		return recase(g.r, v)
	case n < 72:
		s := substring(g.r, v)
		if chance(g.r, 40) {
			s = recase(g.r, s)
		}
		return s
	case n < 82:
		return pick(g.r, diffSpecials)
	case n < 86:
		return ""
	}
	return v + pick(g.r, []string{"x", "%", "_", " ", "0"})
}

func substring(r *rand.Rand, s string) string {
	runes := []rune(s)
	if len(runes) < 2 {
		return s
	}
	i, j := 0, len(runes)
	switch r.Intn(3) {
	case 0:
		j = 1 + r.Intn(len(runes)-1)
	case 1:
		i = 1 + r.Intn(len(runes)-1)
	default:
		i = r.Intn(len(runes) - 1)
		j = i + 1 + r.Intn(len(runes)-i-1)
	}
	return string(runes[i:j])
}

var (
	diffZones       = []*time.Location{time.UTC, time.FixedZone("", -7*3600), time.FixedZone("", 5*3600+1800)}
	diffTimeLayouts = []string{time.RFC3339Nano, time.RFC3339Nano, "2006-01-02T15:04:05.0000000Z07:00", time.RFC3339}
)

// timeValue draws a dateTime near the data's times, in various zones and
// precisions (finer than microseconds is truncated by the parser).
func (g *filterGen) timeValue() string {
	t := pick(g.r, g.times)
	switch g.r.Intn(8) {
	case 0:
		t = t.Add(time.Microsecond)
	case 1:
		t = t.Add(-time.Microsecond)
	case 2:
		t = t.Add(time.Duration(1 + g.r.Intn(999)))
	case 3:
		t = t.Add(time.Duration(g.r.Int63n(int64(30*24*time.Hour))) - 15*24*time.Hour)
	case 4:
		t = time.Date(2020+g.r.Intn(10), 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return t.In(pick(g.r, diffZones)).Format(pick(g.r, diffTimeLayouts))
}

var diffBare = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9.@-]*$`)

// literal writes a string value, quoted (with some characters as \u
// escapes), or now and then bare as Microsoft's clients send it.
func (g *filterGen) literal(s string) string {
	low := strings.ToLower(s)
	bareOK := diffBare.MatchString(s) && low != "true" && low != "false" && low != "null"
	if bareOK && chance(g.r, 10) {
		return s
	}
	if s != "" && strings.Trim(s, "0123456789") == "" && s[0] != '0' && chance(g.r, 30) {
		return s // a bare number compares as its text
	}
	return quoteFilterString(g.r, s)
}

// quoteFilterString quotes s as a JSON string with upper-case \u escapes,
// the only ones the filter grammar accepts.
func quoteFilterString(r *rand.Rand, s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range s {
		switch {
		case c == '"':
			b.WriteString(`\"`)
		case c == '\\':
			b.WriteString(`\\`)
		case c < 0x20:
			fmt.Fprintf(&b, `\u%04X`, c)
		case r != nil && c < 0x10000 && (c > utf8.RuneSelf || c == '%') && chance(r, 25):
			fmt.Fprintf(&b, `\u%04X`, c)
		default:
			b.WriteRune(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
