package csvbridge

import (
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"slices"
	"strings"

	"github.com/scimbridge/scimbridge/internal/schema"
)

// matchValues records the row's match keys, in profile order, and
// reports a row that gives none.
func (m *Mapping) matchValues(row *Row) {
	for _, k := range m.Profile.MatchKeys {
		if v, ok := m.matchValue(row, k); ok {
			row.Record.Match = append(row.Record.Match, MatchValue{Key: k, Value: v})
		}
	}
	if len(row.Record.Match) > 0 || m.matchColumnFailed(row) {
		return
	}
	keys := make([]string, len(m.Profile.MatchKeys))
	for i, k := range m.Profile.MatchKeys {
		keys[i] = string(k)
	}
	row.Issues = append(row.Issues, Issue{Code: CodeNoMatchKey, Severity: SeverityError, Row: row.Number, Rule: "match keys",
		Message: "The row has nothing to find or create the user by.", Hint: "Fill in one of: " + strings.Join(keys, ", ") + "."})
}

func (m *Mapping) matchValue(row *Row, k MatchKey) (string, bool) {
	for _, f := range row.Record.Fields {
		if f.Clear {
			continue
		}
		if f.Target == nil || f.Column < 0 {
			continue
		}
		if fk, ok := f.Target.matchKey(); ok && fk == k && slices.Contains(m.cols[f.Column].match, k) {
			if s, ok := f.Value.(string); ok {
				return s, true
			}
		}
	}
	return "", false
}

// matchColumnFailed reports whether a match-key column of the row already
// has an error (then "no match key" would only repeat it).
func (m *Mapping) matchColumnFailed(row *Row) bool {
	for _, is := range row.Issues {
		for _, bc := range m.cols {
			if is.Severity == SeverityError && len(bc.match) > 0 && is.Column == bc.header {
				return true
			}
		}
	}
	return false
}

// Validator checks what needs more than one row: duplicates within the
// file, by match key and by unique column. It remembers a 128-bit hash
// per distinct value, not the value (about 5 MB for 100,000 rows with three
// match keys); a false duplicate would need a 128-bit collision.
type Validator struct {
	m    *Mapping
	seed [2]maphash.Seed
	seen map[[2]uint64]int32 // 128-bit hash of kind + normalised value -> first row number
}

// NewValidator returns a Validator for rows of the mapping.
func NewValidator(m *Mapping) *Validator {
	return &Validator{m: m, seed: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, seen: map[[2]uint64]int32{}}
}

// Check adds duplicate_in_file errors to a row whose match keys or unique
// columns repeat an earlier row's.
func (v *Validator) Check(row *Row) {
	reported := map[int]bool{}
	for _, mv := range row.Record.Match {
		v.check(row, string(mv.Key), normalizeKey(mv.Key, mv.Value), string(mv.Key), reported)
	}
	for _, f := range row.Record.Fields {
		if f.Column < 0 {
			continue
		}
		bc := &v.m.cols[f.Column]
		if s, ok := f.Value.(string); ok && bc.rule.Unique && len(bc.match) == 0 {
			v.check(row, "col:"+bc.header, strings.ToLower(s), bc.header, reported)
		}
	}
}

func (v *Validator) check(row *Row, kind, value, what string, reported map[int]bool) {
	kv := kind + "\x00" + value
	key := [2]uint64{maphash.String(v.seed[0], kv), maphash.String(v.seed[1], kv)}
	first, dup := v.seen[key]
	if !dup {
		v.seen[key] = int32(row.Number)
		return
	}
	if reported[int(first)] {
		return
	}
	reported[int(first)] = true
	col := v.columnOf(what)
	row.Issues = append(row.Issues, Issue{Code: CodeDuplicateInFile, Severity: SeverityError, Row: row.Number, Column: col,
		Rule: "unique in file", Message: fmt.Sprintf("Row %d has the same %s (%s).", first, col, quoteValue(value)),
		Hint: "Each user may appear only once in a file; merge the two rows or delete one."})
}

// columnOf names the header that carries a match key, for the issue.
func (v *Validator) columnOf(what string) string {
	for _, bc := range v.m.cols {
		if bc.header == what || slices.Contains(bc.match, MatchKey(what)) {
			return bc.header
		}
	}
	return what
}

// normalizeKey folds the case of keys the directory compares without case.
func normalizeKey(k MatchKey, v string) string {
	if k == MatchUserName || k == MatchEmail {
		return strings.ToLower(v)
	}
	return v
}

// Import reads, maps and validates a file row by row. It is what a
// planner consumes: Open it, then call Next until io.EOF.
type Import struct {
	reader    *Reader
	mapping   *Mapping
	validator *Validator
}

// Open reads the file's preamble and header and binds them to the
// profile. Limits.MaxRows is lowered to the profile's row limit. Errors are
// *FileError values the admin can act on, except for I/O errors.
func Open(r io.Reader, p *Profile, reg *schema.Registry, limits Limits) (*Import, error) {
	return OpenEnv(r, p, reg, limits, Env{})
}

// OpenEnv is Open for rows checked against a tenant, its settings and the
// upload's options.
func OpenEnv(r io.Reader, p *Profile, reg *schema.Registry, limits Limits, env Env) (*Import, error) {
	if p.MaxRows > 0 && (limits.MaxRows <= 0 || p.MaxRows < limits.MaxRows) {
		limits.MaxRows = p.MaxRows
	}
	rd, err := NewReader(r, limits)
	if err != nil {
		return nil, err
	}
	m, err := Bind(p, reg, rd.Header())
	if err != nil {
		return nil, err
	}
	m.SetEnv(env)
	return &Import{reader: rd, mapping: m, validator: NewValidator(m)}, nil
}

// Format returns what the reader found about the file.
func (im *Import) Format() Format { return im.reader.Format() }

// Mapping returns the header mapping.
func (im *Import) Mapping() *Mapping { return im.mapping }

// Next returns the next row, mapped and validated, or io.EOF after the
// last one. A *FileError means the file must be rejected as a whole
// (invalid bytes further down, too many rows, a header but no rows).
func (im *Import) Next() (Row, error) {
	raw, err := im.reader.Next()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return Row{}, io.EOF
		}
		return Row{}, err
	}
	row := im.mapping.Map(raw)
	im.validator.Check(&row)
	return row, nil
}
