package csvbridge

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Required says when a column must have a value.
type Required string

// Required values. RequiredOnCreate columns may be blank (or absent) on
// rows that update an existing user; the planner decides which rows create.
const (
	RequiredNever    Required = ""
	RequiredAlways   Required = "always"
	RequiredOnCreate Required = "create"
)

// ValueType is the type a cell's text is converted to.
type ValueType string

// Value types; the zero value is string.
const (
	TypeString   ValueType = ""
	TypeBoolean  ValueType = "boolean"
	TypeInteger  ValueType = "integer"
	TypeDecimal  ValueType = "decimal"
	TypeDate     ValueType = "date"
	TypeDateTime ValueType = "dateTime"
)

// Merge says how a multi-valued cell combines with the existing values.
type Merge string

// Merges.
const (
	MergeAdd     Merge = "add"
	MergeReplace Merge = "replace"
)

// MatchKey names how a row finds its existing user.
type MatchKey string

// Match keys. MatchEmail matches any of a user's email addresses.
const (
	MatchID         MatchKey = "id"
	MatchUserName   MatchKey = "userName"
	MatchEmail      MatchKey = "email"
	MatchExternalID MatchKey = "externalId"
)

// RowAction is what a row asks for.
type RowAction string

// Row actions; a row without an action column upserts.
const (
	ActionUpsert     RowAction = "upsert"
	ActionDeactivate RowAction = "deactivate"
	ActionDelete     RowAction = "delete"
)

// CommitPolicy says what a commit does with rows that failed validation.
type CommitPolicy string

// Commit policies (seeds 000, 003 and 004).
const (
	CommitApplyValid      CommitPolicy = "apply-valid"
	CommitAllOrNothing    CommitPolicy = "all-or-nothing"
	CommitAllowExclusions CommitPolicy = "allow-exclusions"
)

// UnknownColumns says what a file's columns that the profile does not know
// cause.
type UnknownColumns string

// Unknown-column policies.
const (
	UnknownError  UnknownColumns = "error"
	UnknownIgnore UnknownColumns = "ignore"
)

// Profile is an import format as data: how a file's columns map to SCIM
// attribute paths and which rules their cells obey. Profiles are versioned;
// a job records the name and version it ran with. A Profile is JSON.
type Profile struct {
	Name        string `json:"name"`
	Version     int    `json:"version"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	// ResourceType is the SCIM resource type rows describe ("User").
	ResourceType string `json:"resourceType"`
	// HeadersArePaths makes every header a SCIM attribute path, resolved
	// against the schema registry; rules then come from the schema, plus
	// Columns whose Paths name the same attribute.
	HeadersArePaths bool     `json:"headersArePaths,omitempty"`
	Columns         []Column `json:"columns,omitempty"`
	// StrictOrder requires the header to be exactly Columns, in order.
	StrictOrder    bool           `json:"strictOrder,omitempty"`
	UnknownColumns UnknownColumns `json:"unknownColumns"`
	// MatchKeys are tried in order to find a row's existing user.
	MatchKeys []MatchKey `json:"matchKeys"`
	// ClearToken is the cell text that clears an attribute; a blank cell
	// keeps the existing value.
	ClearToken string `json:"clearToken,omitempty"`
	// Action is the optional row-action column.
	Action *ActionColumn `json:"action,omitempty"`
	// MaxRows lowers the reader's row limit when set.
	MaxRows int          `json:"maxRows,omitempty"`
	Commit  CommitPolicy `json:"commit"`
	// TemplateVersion, when set, makes the template Microsoft Entra's
	// style: a "version:<TemplateVersion>" first line and headers written
	// "Label [key]" (the column's first alias as the label, its header as
	// the key, "Required" after it when always required).
	TemplateVersion string `json:"templateVersion,omitempty"`
}

// Column is one column of a profile and the rules of its cells.
type Column struct {
	// Header is the column's name in the template; Aliases are other names
	// accepted. Both match after trimming and case-folding.
	Header  string   `json:"header"`
	Aliases []string `json:"aliases,omitempty"`
	// Paths are the SCIM attribute paths the cell's value is written to,
	// e.g. "userName", "name.givenName", `emails[type eq "work"].value`.
	Paths    []string  `json:"paths"`
	Required Required  `json:"required,omitempty"`
	Type     ValueType `json:"type,omitempty"`
	// Format is a named format: "email".
	Format    string   `json:"format,omitempty"`
	Pattern   string   `json:"pattern,omitempty"`
	Enum      []string `json:"enum,omitempty"`
	MinLength int      `json:"minLength,omitempty"`
	MaxLength int      `json:"maxLength,omitempty"`
	// ValueMap replaces a cell's text (matched after trimming and
	// case-folding) by a value, e.g. {"Active": true}.
	ValueMap map[string]any `json:"valueMap,omitempty"`
	Multi    *MultiValue    `json:"multi,omitempty"`
	// Unique requires distinct values within the file.
	Unique bool `json:"unique,omitempty"`
	// IDLike flags numbers a spreadsheet wrote in scientific notation.
	IDLike bool `json:"idLike,omitempty"`
	// Hint is added to this column's errors.
	Hint string `json:"hint,omitempty"`
	// Ref makes the cell name another user by this key (userName, email
	// or externalId) instead of giving the attribute's value: the
	// attribute (one path, such as the enterprise manager.value) gets
	// that user's id. The user may exist already or be created by any
	// row of the same file, further down included; such references are
	// set once every row of the file is written.
	Ref MatchKey `json:"ref,omitempty"`
}

// MultiValue makes a cell hold several values.
type MultiValue struct {
	Separator string `json:"separator"`
	Merge     Merge  `json:"merge"`
}

// ActionColumn is a column whose cell says what to do with the row.
type ActionColumn struct {
	Header string `json:"header"`
	// Values maps cell text (matched after trimming and case-folding) to
	// an action; a blank cell upserts.
	Values map[string]RowAction `json:"values"`
}

// Validate checks a profile definition.
func (p *Profile) Validate() error {
	var errs []string
	add := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if p.Name == "" || p.Version < 1 {
		add("a profile needs a name and a version of at least 1")
	}
	if !slices.Contains([]CommitPolicy{CommitApplyValid, CommitAllOrNothing, CommitAllowExclusions}, p.Commit) {
		add("commit policy %q is not one of apply-valid, all-or-nothing, allow-exclusions", p.Commit)
	}
	if p.UnknownColumns != UnknownError && p.UnknownColumns != UnknownIgnore {
		add("unknownColumns %q is not error or ignore", p.UnknownColumns)
	}
	if len(p.MatchKeys) == 0 {
		add("a profile needs at least one match key")
	}
	for _, k := range p.MatchKeys {
		if !slices.Contains([]MatchKey{MatchID, MatchUserName, MatchEmail, MatchExternalID}, k) {
			add("match key %q is not one of id, userName, email, externalId", k)
		}
	}
	for i := range p.Columns {
		errs = append(errs, p.Columns[i].validate()...)
	}
	if len(errs) > 0 {
		return fmt.Errorf("profile %s: %s", p.Name, strings.Join(errs, "; "))
	}
	return nil
}

func (c *Column) validate() []string {
	var errs []string
	if c.Header == "" || (len(c.Paths) == 0) {
		errs = append(errs, fmt.Sprintf("column %q needs a header and at least one path", c.Header))
	}
	if c.Pattern != "" {
		if _, err := regexp.Compile(c.Pattern); err != nil {
			errs = append(errs, fmt.Sprintf("column %s: pattern: %v", c.Header, err))
		}
	}
	if c.Multi != nil && (c.Multi.Separator == "" || (c.Multi.Merge != MergeAdd && c.Multi.Merge != MergeReplace)) {
		errs = append(errs, fmt.Sprintf("column %s: a multi-value column needs a separator and a merge of add or replace", c.Header))
	}
	if c.Ref != "" && (len(c.Paths) != 1 || !slices.Contains([]MatchKey{MatchUserName, MatchEmail, MatchExternalID}, c.Ref)) {
		errs = append(errs, fmt.Sprintf("column %s: a reference names users by userName, email or externalId and writes one path", c.Header))
	}
	if c.Required != RequiredNever && c.Required != RequiredAlways && c.Required != RequiredOnCreate {
		errs = append(errs, fmt.Sprintf("column %s: required %q is not always or create", c.Header, c.Required))
	}
	return errs
}

// Clone returns a deep copy, so that callers may change it.
func (p *Profile) Clone() *Profile {
	b, err := json.Marshal(p)
	if err != nil {
		panic(fmt.Sprintf("csvbridge: marshal profile: %v", err))
	}
	var out Profile
	if err := json.Unmarshal(b, &out); err != nil {
		panic(fmt.Sprintf("csvbridge: unmarshal profile: %v", err))
	}
	return &out
}
