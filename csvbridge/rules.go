package csvbridge

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
)

// schemaRule derives a column's rules from the attribute its header names
// (the scim profile): type, email format, canonical tier values, userName
// required on create, multi-valued cells, id-like columns.
func schemaRule(rt *schema.ResourceType, t *Target, header string) *Column {
	c := &Column{Header: header, Paths: []string{t.Path}}
	switch t.Attr.Type {
	case "boolean":
		c.Type = TypeBoolean
	case "integer":
		c.Type = TypeInteger
	case "decimal":
		c.Type = TypeDecimal
	case "dateTime":
		c.Type = TypeDateTime
	}
	a := t.Attr
	switch {
	case a.Name == "emails" && a.Sub == "value" && !a.Extension:
		c.Format = "email"
	case a.URN == schema.SupportURN && a.Name == "tier":
		c.Enum = slices.Clone(policy.TierNames())
	case a.Name == "userName" && !a.Extension:
		c.Required = RequiredOnCreate
	}
	if a.Name == "externalId" || a.Name == "id" || a.Name == "employeeNumber" || a.Name == "phoneNumbers" {
		c.IDLike = true
	}
	if t.Many {
		c.Multi = &MultiValue{Separator: "|", Merge: MergeAdd}
	}
	return c
}

// Map turns a raw row into a Row: cells unescaped, trimmed, mapped to
// their target paths and checked against the column rules. Checks that
// need other rows (duplicates in the file) are the Validator's.
func (m *Mapping) Map(raw RawRow) Row {
	row := Row{Number: raw.Number, Line: raw.Line, Cells: raw.Cells}
	row.Record.Fields = make([]Field, 0, m.fields)
	m.checkWidth(&row)
	row.Record.Action = m.rowAction(&row)
	for i := range m.cols {
		if bc := &m.cols[i]; !bc.ignore {
			m.mapCell(&row, bc, cellAt(raw.Cells, i))
		}
	}
	for _, h := range m.createMissing {
		row.Record.CreateIssues = append(row.Record.CreateIssues, Issue{Code: CodeRequired, Severity: SeverityError, Row: row.Number, Column: h,
			Rule: "required on create", Message: fmt.Sprintf("A new user needs %s, and the file has no %s column.", h, h), Hint: "Add the column, or match an existing user."})
	}
	m.conditions(&row)
	m.matchValues(&row)
	return row
}

func cellAt(cells []string, i int) string {
	if i < len(cells) {
		return cells[i]
	}
	return ""
}

// checkWidth reports rows with fewer cells than the header, or with
// non-blank cells beyond it.
func (m *Mapping) checkWidth(row *Row) {
	n, w := len(row.Cells), len(m.header)
	if n == w || (n > w && blank(row.Cells[w:])) {
		return
	}
	row.Issues = append(row.Issues, Issue{Code: CodeRaggedRow, Severity: SeverityError, Row: row.Number, Rule: "columns",
		Message: fmt.Sprintf("The row has %d cells but the header has %d columns.", n, w),
		Hint:    "A delimiter is missing or extra in this row; a value containing the delimiter must be enclosed in double quotes."})
}

// rowAction reads the row-action column.
func (m *Mapping) rowAction(row *Row) RowAction {
	if m.action < 0 {
		return ActionUpsert
	}
	text := FoldHeader(Unescape(cellAt(row.Cells, m.action)))
	if text == "" {
		return ActionUpsert
	}
	for k, a := range m.Profile.Action.Values {
		if FoldHeader(k) == text {
			return a
		}
	}
	keys := make([]string, 0, len(m.Profile.Action.Values))
	for k := range m.Profile.Action.Values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	row.Issues = append(row.Issues, Issue{Code: CodeInvalidAction, Severity: SeverityError, Row: row.Number, Column: strings.TrimSpace(m.header[m.action]),
		Rule: "enum", Message: fmt.Sprintf("%s is not an action.", quoteValue(text)), Hint: "Leave it blank to add or update the user, or use one of: " + strings.Join(keys, ", ") + "."})
	return ActionUpsert
}

// mapCell checks one cell and adds its fields to the row.
func (m *Mapping) mapCell(row *Row, bc *boundColumn, cell string) {
	text := strings.TrimSpace(Unescape(cell))
	rule := bc.rule
	switch {
	case rule.Kind != KindAttribute && text == "":
		m.blankCell(row, bc)
		return
	case rule.Kind != KindAttribute:
		m.specialCell(row, bc, text)
		return
	case text == "":
		m.blankCell(row, bc)
		return
	case m.Profile.ClearToken != "" && strings.EqualFold(text, m.Profile.ClearToken):
		m.clearCell(row, bc)
		return
	case rule.Multi != nil && rule.Multi.None != "" && strings.EqualFold(text, rule.Multi.None):
		if rule.Multi.Merge == MergeReplace {
			m.clearCell(row, bc)
		}
		return
	}
	m.excelWarnings(row, bc, text)
	values, ok := m.cellValues(row, bc, text)
	if !ok || len(values) == 0 {
		return
	}
	var value any = values[0]
	if rule.Multi != nil {
		value = values
	}
	m.addFields(row, bc, value, false)
}

// cellValues converts a cell's values (one, or each of a multi-valued
// cell's), dropping those a value map maps to null; false after an issue.
func (m *Mapping) cellValues(row *Row, bc *boundColumn, text string) ([]any, bool) {
	parts := []string{text}
	if bc.rule.Multi != nil {
		parts = splitMulti(text, bc.rule.Multi.Separator)
	}
	values := make([]any, 0, len(parts))
	for _, part := range parts {
		v, is := m.value(bc, part)
		if is != nil {
			row.Issues = append(row.Issues, m.cellIssue(row, bc, *is))
			return nil, false
		}
		if v != nil {
			values = append(values, v)
		}
	}
	return values, true
}

// value converts one value: a typed pair or a plain value, checked
// against the column's tenant list.
func (m *Mapping) value(bc *boundColumn, part string) (any, *Issue) {
	rule := bc.rule
	if rule.Multi != nil && rule.Multi.TypeSeparator != "" {
		typ, v, ok := strings.Cut(part, rule.Multi.TypeSeparator)
		typ, v = strings.TrimSpace(typ), strings.TrimSpace(v)
		if !ok || typ == "" || v == "" {
			return nil, &Issue{Code: CodePattern, Rule: "type" + rule.Multi.TypeSeparator + "value",
				Message: fmt.Sprintf("%s is not written type%svalue.", quoteValue(part), rule.Multi.TypeSeparator)}
		}
		typ, is := m.listed(bc, typ)
		if is != nil {
			return nil, is
		}
		val, is := m.convert(bc, v)
		if is != nil || val == nil {
			return nil, is
		}
		return map[string]any{"type": typ, "value": val}, nil
	}
	v, is := m.convert(bc, part)
	if is != nil || v == nil {
		return nil, is
	}
	if s, ok := v.(string); ok {
		return m.listed(bc, s)
	}
	return v, nil
}

// listed checks a value against the column's tenant list and returns the
// list's spelling; values missing from a list the column adds to pass.
func (m *Mapping) listed(bc *boundColumn, v string) (string, *Issue) {
	if bc.rule.List == "" || m.env.Settings == nil {
		return v, nil
	}
	if spelled, ok := m.env.inList(bc.rule.List, v); ok {
		return spelled, nil
	}
	if bc.rule.AddToList {
		return v, nil
	}
	return "", m.env.listIssue(bc.rule.List, v)
}

// addFields adds the value to the row, one field per target.
func (m *Mapping) addFields(row *Row, bc *boundColumn, value any, createOnly bool) {
	for i := range bc.targets {
		f := Field{Column: bc.index, Header: bc.header, Target: &bc.targets[i], Value: value, CreateOnly: createOnly}
		if bc.rule.Multi != nil {
			f.Merge = bc.rule.Multi.Merge
		}
		row.Record.Fields = append(row.Record.Fields, f)
	}
}

// specialCell reads a groups, tenant or notify cell.
func (m *Mapping) specialCell(row *Row, bc *boundColumn, text string) {
	switch bc.rule.Kind {
	case KindGroups:
		switch mv := bc.rule.Multi; {
		case text == "":
		case mv == nil:
			row.Record.Groups, row.Record.GroupsColumn = []string{text}, bc.header
		case mv.None != "" && strings.EqualFold(text, mv.None):
		default:
			row.Record.Groups, row.Record.GroupsColumn = splitMulti(text, mv.Separator), bc.header
		}
	case KindTenant:
		if text != "" && m.env.Tenant != "" && !strings.EqualFold(text, m.env.Tenant) {
			row.Issues = append(row.Issues, m.cellIssue(row, bc, Issue{Code: CodeWrongTenant, Rule: "tenant",
				Message: fmt.Sprintf("The row is for tenant %s; this upload is for tenant %s.", quoteValue(text), quoteValue(m.env.Tenant)),
				Hint:    "Leave the tenant blank or give the current tenant; upload another tenant's users while signed in to it."}))
		}
	case KindActionColumn:
		// read by rowAction
	case KindNotify:
		if text == "" {
			return
		}
		v, is := parseBool(bc, text)
		if is != nil {
			row.Issues = append(row.Issues, m.cellIssue(row, bc, *is))
			return
		}
		row.Record.Notify = v == true
	}
}

// conditions applies the columns' conditional rules once every cell is
// read: RequiredIf (required on create) and LeafWhen.
func (m *Mapping) conditions(row *Row) {
	for i := range m.cols {
		bc := &m.cols[i]
		if bc.ignore || bc.rule == nil {
			continue
		}
		blank := strings.TrimSpace(Unescape(cellAt(row.Cells, i))) == ""
		if c := bc.rule.RequiredIf; c != nil && blank && m.holds(row, c) {
			row.Record.CreateIssues = append(row.Record.CreateIssues, m.cellIssue(row, bc, Issue{Code: CodeRequired, Rule: "required if " + c.Column + " is " + strings.Join(c.Values, " or "),
				Message: fmt.Sprintf("A new user needs a value here when %s is %s.", c.Column, strings.Join(c.Values, " or ")), Hint: bc.rule.Hint}))
		}
		if c := bc.rule.LeafWhen; c != nil && bc.rule.Kind == KindGroups && m.holds(row, c) {
			row.Record.GroupsLeaf = true
		}
	}
}

// holds evaluates a condition on the row's cells.
func (m *Mapping) holds(row *Row, c *Condition) bool {
	want := FoldHeader(c.Column)
	for i := range m.cols {
		bc := &m.cols[i]
		if bc.rule == nil || FoldHeader(bc.rule.Header) != want {
			continue
		}
		text := strings.TrimSpace(Unescape(cellAt(row.Cells, i)))
		for _, v := range c.Values {
			if strings.EqualFold(text, v) {
				return true
			}
		}
	}
	return false
}

// splitMulti splits a multi-valued cell at the separator. A backslash
// before the separator or before another backslash makes that character
// part of the value (what JoinMulti writes for values that contain them);
// any other backslash is kept as written.
func splitMulti(text, sep string) []string {
	var out []string
	for _, p := range splitEscaped(text, sep) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		out = []string{""}
	}
	return out
}

func (m *Mapping) blankCell(row *Row, bc *boundColumn) {
	if d := bc.rule.CreateDefault; d != "" {
		if v, is := m.value(bc, d); is == nil && v != nil {
			m.addFields(row, bc, v, true)
		}
	}
	switch bc.rule.Required {
	case RequiredAlways:
		row.Issues = append(row.Issues, m.cellIssue(row, bc, Issue{Code: CodeRequired, Rule: "required",
			Message: "A value is required."}))
	case RequiredOnCreate:
		row.Record.CreateIssues = append(row.Record.CreateIssues, m.cellIssue(row, bc, Issue{Code: CodeRequired, Rule: "required on create",
			Message: "A new user needs a value here.", Hint: "Fill it in, or match an existing user."}))
	}
}

func (m *Mapping) clearCell(row *Row, bc *boundColumn) {
	if bc.rule.Required != RequiredNever || len(bc.match) > 0 {
		row.Issues = append(row.Issues, m.cellIssue(row, bc, Issue{Code: CodeCannotClear, Rule: "required",
			Message: fmt.Sprintf("%s cannot be cleared: the column is required or identifies the user.", bc.header),
			Hint:    "Leave the cell blank to keep the current value."}))
		return
	}
	for i := range bc.targets {
		if t := &bc.targets[i]; !t.MatchOnly {
			row.Record.Fields = append(row.Record.Fields, Field{Column: bc.index, Header: bc.header, Target: t, Clear: true})
		}
	}
}

// cellIssue completes an issue with the row, the column and the column's
// hint.
func (m *Mapping) cellIssue(row *Row, bc *boundColumn, is Issue) Issue {
	is.Row, is.Column = row.Number, bc.header
	if is.Severity == "" {
		is.Severity = SeverityError
	}
	if is.Hint == "" {
		is.Hint = bc.rule.Hint
	}
	return is
}

// convert applies the value map, then the type and the rules of the column
// to one value.
func (m *Mapping) convert(bc *boundColumn, v string) (any, *Issue) {
	if mv, ok := bc.mapped(v); ok {
		if mv == nil {
			return nil, nil // mapped to nothing: the cell writes no attribute
		}
		s, isString := mv.(string)
		if !isString {
			return mv, nil
		}
		v = s
	}
	if bc.enum != nil {
		return v, enumIssue(bc, v)
	}
	switch bc.rule.Type {
	case TypeBoolean:
		return parseBool(bc, v)
	case TypeInteger:
		return parseInteger(v)
	case TypeDecimal:
		return parseDecimal(v)
	case TypeDate, TypeDateTime:
		return parseDate(bc.rule.Type, v)
	}
	return v, checkString(bc, v)
}

// mapped is the column's value map applied to v (matched as headers are:
// trimmed, case-folded); a column without a map folds nothing.
func (bc *boundColumn) mapped(v string) (any, bool) {
	if len(bc.lookup) == 0 {
		return nil, false
	}
	mv, ok := bc.lookup[FoldHeader(v)]
	return mv, ok
}

func enumIssue(bc *boundColumn, v string) *Issue {
	if bc.enum[v] {
		return nil
	}
	hint := "Use one of: " + strings.Join(bc.rule.Enum, ", ") + "."
	for _, e := range bc.rule.Enum {
		if strings.EqualFold(strings.TrimSpace(e), v) {
			hint = fmt.Sprintf("Did you mean %q? Values must match exactly, including case.", e)
		}
	}
	return &Issue{Code: CodeEnum, Rule: "enum", Message: fmt.Sprintf("%s is not one of the allowed values.", quoteValue(v)), Hint: hint}
}

func parseBool(bc *boundColumn, v string) (any, *Issue) {
	switch strings.ToLower(v) {
	case "true", "yes", "1":
		return true, nil
	case "false", "no", "0":
		return false, nil
	}
	return nil, &Issue{Code: CodeInvalidBoolean, Rule: "type boolean", Message: fmt.Sprintf("%s is not true or false.", quoteValue(v)),
		Hint: "Use true or false (yes and no are accepted too)."}
}

func parseInteger(v string) (any, *Issue) {
	if _, err := strconv.ParseInt(v, 10, 64); err != nil {
		return nil, &Issue{Code: CodeInvalidInteger, Rule: "type integer", Message: fmt.Sprintf("%s is not a whole number.", quoteValue(v))}
	}
	return json.Number(v), nil
}

func parseDecimal(v string) (any, *Issue) {
	if _, err := strconv.ParseFloat(v, 64); err != nil || strings.ContainsAny(v, "xXpP_") {
		hint := ""
		if strings.Contains(v, ",") {
			hint = "Separate decimals with a period, not a comma."
		}
		return nil, &Issue{Code: CodeInvalidDecimal, Rule: "type decimal", Message: fmt.Sprintf("%s is not a number.", quoteValue(v)), Hint: hint}
	}
	return json.Number(v), nil
}

func parseDate(t ValueType, v string) (any, *Issue) {
	if d, err := time.Parse(time.DateOnly, v); err == nil {
		if t == TypeDate {
			return v, nil
		}
		return d.Format(time.RFC3339), nil
	}
	if d, err := time.Parse(time.RFC3339Nano, v); err == nil && t == TypeDateTime {
		return d.Format(time.RFC3339Nano), nil
	}
	want := "YYYY-MM-DD"
	if t == TypeDateTime {
		want = "YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ"
	}
	return nil, &Issue{Code: CodeInvalidDate, Rule: "type " + string(t), Message: fmt.Sprintf("%s is not a date.", quoteValue(v)),
		Hint: "Write dates as " + want + "."}
}

// checkString applies length, format and pattern.
func checkString(bc *boundColumn, v string) *Issue {
	r := bc.rule
	n := utf8.RuneCountInString(v)
	switch {
	case r.MaxLength > 0 && n > r.MaxLength:
		return &Issue{Code: CodeTooLong, Rule: fmt.Sprintf("maxLength %d", r.MaxLength),
			Message: fmt.Sprintf("The value has %d characters; at most %d are allowed.", n, r.MaxLength)}
	case r.MinLength > 0 && n < r.MinLength:
		return &Issue{Code: CodeTooShort, Rule: fmt.Sprintf("minLength %d", r.MinLength),
			Message: fmt.Sprintf("The value has %d characters; at least %d are needed.", n, r.MinLength)}
	case r.Format == "email" && !ValidEmail(v):
		return &Issue{Code: CodeInvalidEmail, Rule: "format email", Message: fmt.Sprintf("%s is not a valid email address.", quoteValue(v)),
			Hint: "Write it as name@example.com, without spaces or a display name."}
	case bc.re != nil && !bc.re.MatchString(v):
		is := &Issue{Code: CodePattern, Rule: "pattern " + r.Pattern, Message: fmt.Sprintf("%s does not have the expected form.", sensitive(bc, v))}
		if bc.digits > 0 && allDigits(v) && len(v) < bc.digits {
			is.Hint = fmt.Sprintf("The column expects %d digits; a spreadsheet may have dropped leading zeros.", bc.digits)
		}
		return is
	}
	return nil
}

// sensitive quotes a value unless the column holds a password.
func sensitive(bc *boundColumn, v string) string {
	for _, t := range bc.targets {
		if t.Attr.Name == "password" {
			return "The value"
		}
	}
	return quoteValue(v)
}

func quoteValue(v string) string {
	if utf8.RuneCountInString(v) > 60 {
		r := []rune(v)
		v = string(r[:60]) + "..."
	}
	return strconv.Quote(v)
}

// ValidEmail reports whether s is a plain address local@domain.tld: one
// @, no spaces or display name, a domain of dot-separated labels with a
// top-level domain of at least two letters.
func ValidEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || len(local) > 64 || len(s) > 254 || strings.ContainsAny(local, " \t\"<>()[],;:\\@") {
		return false
	}
	if strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return false
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if !domainLabel.MatchString(l) {
			return false
		}
	}
	tld := labels[len(labels)-1]
	return len(tld) >= 2 && strings.IndexFunc(tld, func(r rune) bool { return r >= '0' && r <= '9' }) < 0
}

var domainLabel = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
