package csvbridge

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/scimbridge/scimbridge/internal/schema"
)

// Mapping is a profile bound to one file's header: for each cell index,
// the rules and target paths of its column. Build it with Bind; Map turns
// raw rows into Rows. A Mapping is read-only after Bind and safe for
// concurrent use.
type Mapping struct {
	Profile *Profile
	rt      *schema.ResourceType
	header  []string
	cols    []boundColumn // one per header cell
	action  int           // index of the row-action column, or -1
	// createMissing are columns required on create that the file lacks.
	createMissing []string
	fields        int // targets of all bound columns: a row's most fields
	// env is the tenant and upload the rows belong to (SetEnv).
	env     Env
	options []boundOption
}

// boundOption is a profile option with its resolved target.
type boundOption struct {
	opt    Option
	target Target
}

// SetEnv sets the tenant, settings and options the rows are checked
// against; call it before mapping rows.
func (m *Mapping) SetEnv(e Env) { m.env = e }

// boundColumn is one header cell with its compiled rules.
type boundColumn struct {
	index   int
	header  string // as written
	rule    *Column
	targets []Target
	match   []MatchKey
	ignore  bool
	re      *regexp.Regexp
	digits  int // fixed digit count the pattern expects, 0 if none
	lookup  map[string]any
	enum    map[string]bool
}

// Bind maps a file's header (as the Reader returns it) to the profile. It
// returns a *FileError listing every header problem: missing or duplicate
// headers, unknown columns (per the profile), the wrong order where the
// profile requires one, and no column to match users by.
func Bind(p *Profile, reg *schema.Registry, header []string) (*Mapping, error) {
	if err := p.Validate(); err != nil {
		return nil, fileError(CodeInvalidProfile, err.Error(), "")
	}
	rt, ok := reg.ByEndpoint(p.ResourceType + "s")
	if !ok {
		return nil, fileError(CodeInvalidProfile, fmt.Sprintf("profile %s: unknown resource type %q", p.Name, p.ResourceType), "")
	}
	b := binder{m: &Mapping{Profile: p, rt: rt, header: header, action: -1}, seen: map[string]int{}}
	for i, cell := range header {
		b.bindCell(i, cell)
	}
	b.checkRequired()
	b.bindOptions()
	b.checkOrder()
	b.checkMatchColumn()
	for _, bc := range b.m.cols {
		b.m.fields += len(bc.targets)
	}
	if len(b.issues) > 0 {
		return nil, &FileError{Issues: b.issues}
	}
	return b.m, nil
}

type binder struct {
	m      *Mapping
	seen   map[string]int // folded key -> first cell index
	issues []Issue
}

func (b *binder) issue(code string, col int, msg, hint string) {
	is := Issue{Code: code, Severity: SeverityError, Message: msg, Hint: hint}
	if col >= 0 {
		is.Column = strings.TrimSpace(b.m.header[col])
	}
	b.issues = append(b.issues, is)
}

func (b *binder) bindCell(i int, cell string) {
	key, _ := HeaderKey(cell)
	folded := FoldHeader(key)
	bc := boundColumn{index: i, header: strings.TrimSpace(cell)}
	switch {
	case folded == "":
		bc.ignore = true
		if !b.isBlankTail(i) {
			b.issue(CodeMissingHeader, i, fmt.Sprintf("Column %s has no header.", ColumnLetter(i)), "Give every column a header, or delete the empty column.")
		}
	case slices.Contains(ReportColumns, folded):
		bc.ignore = true
	case b.m.Profile.Action != nil && folded == FoldHeader(b.m.Profile.Action.Header):
		b.m.action = i
		if b.m.Profile.column(folded) != nil {
			// The action column also writes an attribute (seed 004's
			// Profile Status: DELETED deletes, ACTIVE sets active).
			b.bindData(&bc, key, folded)
			break
		}
		bc.ignore = true
		b.dedupe(i, folded)
	default:
		b.bindData(&bc, key, folded)
	}
	b.m.cols = append(b.m.cols, bc)
}

// isBlankTail reports whether cell i and every cell after it are blank
// (spreadsheets often save trailing empty columns).
func (b *binder) isBlankTail(i int) bool {
	for _, c := range b.m.header[i:] {
		if FoldHeader(c) != "" {
			return false
		}
	}
	return true
}

func (b *binder) dedupe(i int, key string) bool {
	if first, dup := b.seen[key]; dup {
		b.issue(CodeDuplicateHeader, i, fmt.Sprintf("Columns %s and %s both have the header %q.", ColumnLetter(first), ColumnLetter(i), strings.TrimSpace(b.m.header[i])),
			"Keep one of the two columns.")
		return false
	}
	b.seen[key] = i
	return true
}

func (b *binder) bindData(bc *boundColumn, key, folded string) {
	p := b.m.Profile
	rule := p.column(folded)
	if p.HeadersArePaths && (rule == nil || rule.Ref == "") {
		b.bindPath(bc, key, rule)
		return
	}
	if rule == nil {
		bc.ignore = true
		b.unknown(bc.index, fmt.Sprintf("Column %s %q is not a column of the %s profile.", ColumnLetter(bc.index), bc.header, p.Name), "The columns are: "+strings.Join(p.headers(), ", ")+".")
		return
	}
	if !b.dedupe(bc.index, FoldHeader(rule.Header)) {
		bc.ignore = true
		return
	}
	b.compile(bc, rule, rule.Paths)
}

func (b *binder) unknown(i int, msg, hint string) {
	if b.m.Profile.UnknownColumns == UnknownIgnore {
		return
	}
	b.issue(CodeUnknownColumn, i, msg, hint)
}

// bindPath binds a header that is itself a SCIM attribute path.
func (b *binder) bindPath(bc *boundColumn, key string, rule *Column) {
	t, err := ResolveTarget(b.m.rt, key)
	if err != nil {
		bc.ignore = true
		b.unknown(bc.index, fmt.Sprintf("Column %s %q is not a SCIM attribute path of %s resources: %s.", ColumnLetter(bc.index), bc.header, b.m.rt.Name, scimDetail(err)),
			`Headers of the scim profile are attribute paths such as userName, name.givenName, emails[type eq "work"].value or urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department.`)
		return
	}
	if !b.dedupe(bc.index, strings.ToLower(t.Path)) {
		bc.ignore = true
		return
	}
	if rule == nil {
		rule = schemaRule(b.m.rt, &t, bc.header)
	}
	b.compile(bc, rule, []string{t.Path})
}

// bindOptions resolves the profile options' paths.
func (b *binder) bindOptions() {
	for i, o := range b.m.Profile.Options {
		t, err := ResolveTarget(b.m.rt, o.Path)
		if err != nil {
			b.issue(CodeInvalidProfile, -1, fmt.Sprintf("The profile's option %s writes %q: %s.", o.Name, o.Path, scimDetail(err)), "")
			continue
		}
		b.m.options = append(b.m.options, boundOption{opt: b.m.Profile.Options[i], target: t})
	}
}

// compile resolves a column's paths and prepares its rules.
func (b *binder) compile(bc *boundColumn, rule *Column, paths []string) {
	bc.rule = rule
	for _, path := range paths {
		t, err := ResolveTarget(b.m.rt, path)
		if err != nil {
			bc.ignore = true
			b.issue(CodeInvalidProfile, bc.index, fmt.Sprintf("The profile maps column %s to %q: %s.", bc.header, path, scimDetail(err)), "")
			return
		}
		bc.targets = append(bc.targets, t)
		if k, ok := t.matchKey(); ok && slices.Contains(b.m.Profile.MatchKeys, k) && !slices.Contains(bc.match, k) {
			bc.match = append(bc.match, k)
		}
	}
	if rule.Pattern != "" {
		bc.re = regexp.MustCompile(rule.Pattern) // Validate compiled it
		bc.digits = fixedDigits(rule.Pattern)
	}
	bc.lookup = foldMap(rule.ValueMap)
	if len(rule.Enum) > 0 {
		bc.enum = make(map[string]bool, len(rule.Enum))
		for _, e := range rule.Enum {
			bc.enum[e] = true
		}
	}
}

func foldMap(m map[string]any) map[string]any {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[FoldHeader(k)] = v
	}
	return out
}

// fixedDigitsRE recognises patterns of exactly n digits: ^\d{5}$, ^[0-9]{10}$.
var fixedDigitsRE = regexp.MustCompile(`^\^?(?:\\d|\[0-9\])\{(\d+)\}\$?$`)

func fixedDigits(pattern string) int {
	m := fixedDigitsRE.FindStringSubmatch(pattern)
	if m == nil {
		return 0
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n > 64 {
		return 0
	}
	return n
}

// column finds the profile column with the folded header or alias.
func (p *Profile) column(folded string) *Column {
	for i := range p.Columns {
		c := &p.Columns[i]
		if FoldHeader(c.Header) == folded {
			return c
		}
		for _, a := range c.Aliases {
			if FoldHeader(a) == folded {
				return c
			}
		}
	}
	return nil
}

// headers lists the profile's column headers.
func (p *Profile) headers() []string {
	out := make([]string, len(p.Columns))
	for i, c := range p.Columns {
		out[i] = c.Header
	}
	return out
}

// checkRequired reports missing columns required always and remembers
// those required on create.
func (b *binder) checkRequired() {
	for _, c := range b.m.Profile.Columns {
		if b.m.has(&c) {
			continue
		}
		switch {
		case b.m.Profile.StrictOrder:
			b.issue(CodeMissingHeader, -1, fmt.Sprintf("The file has no %q column. The columns of the %s profile are fixed: %s.", c.Header, b.m.Profile.Name, strings.Join(b.m.Profile.headers(), ", ")),
				"Do not rename or delete columns; download the current template.")
		case c.Required == RequiredAlways:
			b.issue(CodeMissingHeader, -1, fmt.Sprintf("The file has no %q column, which the %s profile requires.", c.Header, b.m.Profile.Name), b.m.Profile.Description)
		case c.Required == RequiredOnCreate:
			b.m.createMissing = append(b.m.createMissing, c.Header)
		}
	}
	if b.m.Profile.HeadersArePaths && !b.hasTarget("userName") {
		b.m.createMissing = append(b.m.createMissing, "userName")
	}
}

func (m *Mapping) has(c *Column) bool {
	for _, bc := range m.cols {
		if bc.rule != nil && FoldHeader(bc.rule.Header) == FoldHeader(c.Header) {
			return true
		}
	}
	return false
}

func (b *binder) hasTarget(path string) bool {
	for _, bc := range b.m.cols {
		for _, t := range bc.targets {
			if strings.EqualFold(t.Path, path) {
				return true
			}
		}
	}
	return false
}

// checkOrder enforces StrictOrder once the set of columns is right.
func (b *binder) checkOrder() {
	p := b.m.Profile
	if !p.StrictOrder || len(b.issues) > 0 {
		return
	}
	var got []string
	for _, bc := range b.m.cols {
		if bc.rule != nil {
			got = append(got, FoldHeader(bc.rule.Header))
		}
	}
	want := make([]string, len(p.Columns))
	for i, c := range p.Columns {
		want[i] = FoldHeader(c.Header)
	}
	if !slices.Equal(got, want) {
		b.issue(CodeHeaderOrder, -1, fmt.Sprintf("The columns must be, in this order: %s.", strings.Join(p.headers(), ", ")),
			"Move the columns into this order (or download the template).")
	}
}

// checkMatchColumn requires a column that supplies a match key.
func (b *binder) checkMatchColumn() {
	if len(b.issues) > 0 {
		return
	}
	for _, bc := range b.m.cols {
		if len(bc.match) > 0 {
			return
		}
	}
	keys := make([]string, len(b.m.Profile.MatchKeys))
	for i, k := range b.m.Profile.MatchKeys {
		keys[i] = string(k)
	}
	b.issue(CodeMissingHeader, -1, "The file has no column to find users by: it needs one of "+strings.Join(keys, ", ")+".",
		`Add a userName column (or id, externalId, or emails[type eq "work"].value).`)
}

// readsGroups reports whether the file has a groups column: only then
// does matching need the stored users' groups.
func (m *Mapping) readsGroups() bool {
	for _, bc := range m.cols {
		if !bc.ignore && bc.rule != nil && bc.rule.Kind == KindGroups {
			return true
		}
	}
	return false
}
