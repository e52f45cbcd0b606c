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
	// Mode is upsert (the default: a row matching a user updates it) or
	// insert-only (a row matching a user is a duplicate and writes
	// nothing, seed 002).
	Mode Mode `json:"mode,omitempty"`
	// OrgFields appends the tenant's custom organisation fields to the
	// columns (after the profile's own, in the settings' order), each
	// writing its attribute of the organisation extension (seed 004).
	OrgFields bool `json:"orgFields,omitempty"`
	// Options are asked once per upload (POST /csv/imports?NAME=VALUE)
	// and apply to every row (seed 004's role for the whole file).
	Options []Option `json:"options,omitempty"`
	// NotifyAtCommit lets the admin choose at commit, per row or for all,
	// which new users get the "you have an account" message (seed 004).
	NotifyAtCommit bool `json:"notifyAtCommit,omitempty"`
	// Messages are the profile's own report sentences.
	Messages *Messages `json:"messages,omitempty"`
}

// Mode says whether rows may update existing users.
type Mode string

// Modes.
const (
	ModeUpsert     Mode = ""
	ModeInsertOnly Mode = "insert-only"
)

// Messages are sentences with {count} placeholders: {total}, {create},
// {update}, {unchanged}, {deactivate}, {delete}, {skip}, {duplicate},
// {error}, {excluded}, {rolesAdded}.
type Messages struct {
	// Preview is the sentence of a validated file, Invalid of a file that
	// cannot be committed as it is (besides its first file-level error),
	// Done of a finished commit.
	Preview string `json:"preview,omitempty"`
	Invalid string `json:"invalid,omitempty"`
	Done    string `json:"done,omitempty"`
}

// Option is a value given once for the whole upload.
type Option struct {
	// Name is the query parameter; Title and Description are shown.
	Name        string `json:"name"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	Required    bool   `json:"required,omitempty"`
	// List, when set, requires the value to be in that tenant list
	// (roles, offices, sources).
	List string `json:"list,omitempty"`
	// Path is the attribute every row writes the value to.
	Path string `json:"path"`
}

// Kind says what a column does besides writing attributes.
type Kind string

// Column kinds. A groups column names groups (by display name, which must
// exist) the user is added to, never removed from; a tenant column must
// name the caller's tenant (or be blank); a notify column (boolean) asks
// for the "you have an account" message when the row creates a user.
// Only attribute columns have Paths.
const (
	KindAttribute Kind = ""
	KindGroups    Kind = "groups"
	KindTenant    Kind = "tenant"
	KindNotify    Kind = "notify"
	// KindActionColumn places the profile's action column (Profile.Action) among
	// the others; its cells are read as actions only.
	KindActionColumn Kind = "action"
)

// Tenant lists a column or an option may be checked against.
const (
	ListRoles   = "roles"
	ListOffices = "offices"
	ListSources = "sources"
)

// Condition holds when another column's cell (trimmed, compared without
// case) is one of Values.
type Condition struct {
	Column string   `json:"column"`
	Values []string `json:"values"`
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
	// UniqueInTenant also refuses a value another user of the tenant
	// already holds (code taken); one attribute path.
	UniqueInTenant bool `json:"uniqueInTenant,omitempty"`
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
	// RefEarlier restricts a reference to users that exist or that an
	// earlier row of the file creates (seed 002's supervisor).
	RefEarlier bool `json:"refEarlier,omitempty"`
	// Kind is what the column does (an attribute by default).
	Kind Kind `json:"kind,omitempty"`
	// List requires each value (a typed multi-value's type) to be in that
	// tenant list: roles, offices or sources ("Unknown source").
	List string `json:"list,omitempty"`
	// AddToList adds the values missing from the roles list to the
	// tenant's catalogue at commit instead of failing the row (seed 003).
	AddToList bool `json:"addToList,omitempty"`
	// CreateDefault is the cell text a blank cell means when the row
	// creates a user (seed 004: new users are INACTIVE); updates keep the
	// stored value.
	CreateDefault string `json:"createDefault,omitempty"`
	// RequiredIf makes the column required on create when the condition
	// holds (seed 004: Last Name when Profile Type ID is 1).
	RequiredIf *Condition `json:"requiredIf,omitempty"`
	// LeafWhen (groups columns) requires each group to contain no other
	// group when the condition holds (seed 002: an agent's org unit is a
	// team, the lowest level).
	LeafWhen *Condition `json:"leafWhen,omitempty"`
	// Description and Example are shown in the field guide (and Example
	// in the template's example row).
	Description string `json:"description,omitempty"`
	Example     string `json:"example,omitempty"`
}

// MultiValue makes a cell hold several values.
type MultiValue struct {
	Separator string `json:"separator"`
	Merge     Merge  `json:"merge"`
	// None is a token (compared without case) meaning "no values"; it
	// changes nothing under merge add (seed 001's Groups "none").
	None string `json:"none,omitempty"`
	// TypeSeparator makes each value "type<sep>value", written as an
	// element {type, value} (seed 001's "slack:jdoe" source usernames).
	TypeSeparator string `json:"typeSeparator,omitempty"`
}

// ActionColumn is a column whose cell says what to do with the row.
type ActionColumn struct {
	Header string `json:"header"`
	// Values maps cell text (matched after trimming and case-folding) to
	// an action; a blank cell upserts.
	Values map[string]RowAction `json:"values"`
}

// ProfileError lists what is wrong with a profile definition, each
// problem naming the offending field as a JSON path
// ("columns[2].pattern").
type ProfileError struct {
	Profile  string
	Problems []FieldProblem
}

// FieldProblem is one problem of a profile definition.
type FieldProblem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e *ProfileError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Field + ": " + p.Message
	}
	return fmt.Sprintf("profile %s: %s", e.Profile, strings.Join(parts, "; "))
}

// problems collects FieldProblems.
type problems []FieldProblem

func (ps *problems) add(field, format string, args ...any) {
	*ps = append(*ps, FieldProblem{Field: field, Message: fmt.Sprintf(format, args...)})
}

var profileName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// Validate checks a profile definition; the error is a *ProfileError.
func (p *Profile) Validate() error {
	var ps problems
	if !profileName.MatchString(p.Name) {
		ps.add("name", "%q must be 1-63 lower-case letters, digits and '-', starting with a letter or digit", p.Name)
	}
	if p.Version < 1 {
		ps.add("version", "must be at least 1")
	}
	if p.ResourceType != "User" {
		ps.add("resourceType", "%q is not supported; use User", p.ResourceType)
	}
	if !slices.Contains([]CommitPolicy{CommitApplyValid, CommitAllOrNothing, CommitAllowExclusions}, p.Commit) {
		ps.add("commit", "%q is not one of apply-valid, all-or-nothing, allow-exclusions", p.Commit)
	}
	if p.UnknownColumns != UnknownError && p.UnknownColumns != UnknownIgnore {
		ps.add("unknownColumns", "%q is not error or ignore", p.UnknownColumns)
	}
	if p.Mode != ModeUpsert && p.Mode != ModeInsertOnly {
		ps.add("mode", "%q is not empty (upsert) or insert-only", p.Mode)
	}
	if p.MaxRows < 0 {
		ps.add("maxRows", "cannot be negative")
	}
	if len(p.MatchKeys) == 0 {
		ps.add("matchKeys", "a profile needs at least one match key")
	}
	for i, k := range p.MatchKeys {
		if !slices.Contains([]MatchKey{MatchID, MatchUserName, MatchEmail, MatchExternalID}, k) {
			ps.add(fmt.Sprintf("matchKeys[%d]", i), "%q is not one of id, userName, email, externalId", k)
		}
	}
	if !p.HeadersArePaths && len(p.Columns) == 0 {
		ps.add("columns", "a profile needs columns (or headersArePaths)")
	}
	seen := map[string]string{}
	for i := range p.Columns {
		field := fmt.Sprintf("columns[%d]", i)
		p.Columns[i].validate(field, &ps)
		for _, h := range append([]string{p.Columns[i].Header}, p.Columns[i].Aliases...) {
			if prev, dup := seen[FoldHeader(h)]; dup && h != "" && prev != field {
				ps.add(field+".header", "%q is also the header or an alias of %s", h, prev)
			}
			seen[FoldHeader(h)] = field
		}
	}
	for i, c := range p.Columns {
		for _, cond := range []*Condition{c.RequiredIf, c.LeafWhen} {
			if cond != nil && p.column(FoldHeader(cond.Column)) == nil {
				ps.add(fmt.Sprintf("columns[%d]", i), "the condition names column %q, which the profile does not have", cond.Column)
			}
		}
	}
	for i, o := range p.Options {
		field := fmt.Sprintf("options[%d]", i)
		if !optionName.MatchString(o.Name) || o.Name == "profile" || o.Name == "filename" {
			ps.add(field+".name", "%q must be a letter followed by letters, digits or '-' (and not profile or filename)", o.Name)
		}
		if o.Path == "" {
			ps.add(field+".path", "an option needs the attribute path it writes")
		}
		checkList(&ps, field+".list", o.List)
	}
	if p.Action != nil {
		for k, a := range p.Action.Values {
			if !slices.Contains([]RowAction{ActionUpsert, ActionDeactivate, ActionDelete}, a) {
				ps.add("action.values."+k, "%q is not upsert, deactivate or delete", a)
			}
		}
		if p.Action.Header == "" {
			ps.add("action.header", "the action column needs a header")
		}
	}
	if len(ps) > 0 {
		return &ProfileError{Profile: p.Name, Problems: ps}
	}
	return nil
}

var optionName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,62}$`)

func checkList(ps *problems, field, list string) {
	if list != "" && !slices.Contains([]string{ListRoles, ListOffices, ListSources}, list) {
		ps.add(field, "%q is not one of roles, offices, sources", list)
	}
}

func (c *Column) validate(field string, ps *problems) {
	if strings.TrimSpace(c.Header) == "" {
		ps.add(field+".header", "a column needs a header")
	}
	switch c.Kind {
	case KindAttribute:
		if len(c.Paths) == 0 {
			ps.add(field+".paths", "an attribute column needs at least one path")
		}
	case KindGroups, KindTenant, KindNotify, KindActionColumn:
		if len(c.Paths) > 0 {
			ps.add(field+".paths", "a %s column writes no attribute paths", c.Kind)
		}
	default:
		ps.add(field+".kind", "%q is not empty (an attribute), groups, tenant, notify or action", c.Kind)
	}
	if c.Pattern != "" {
		if _, err := regexp.Compile(c.Pattern); err != nil {
			ps.add(field+".pattern", "%v", err)
		}
	}
	if c.Multi != nil && (c.Multi.Separator == "" || (c.Multi.Merge != MergeAdd && c.Multi.Merge != MergeReplace)) {
		ps.add(field+".multi", "a multi-value column needs a separator and a merge of add or replace")
	}
	if c.UniqueInTenant && (len(c.Paths) != 1 || c.Multi != nil || c.Ref != "") {
		ps.add(field+".uniqueInTenant", "a column unique in the tenant writes one single value at one path")
	}
	if c.Ref != "" && (len(c.Paths) != 1 || !slices.Contains([]MatchKey{MatchUserName, MatchEmail, MatchExternalID}, c.Ref)) {
		ps.add(field+".ref", "a reference names users by userName, email or externalId and writes one path")
	}
	if c.Required != RequiredNever && c.Required != RequiredAlways && c.Required != RequiredOnCreate {
		ps.add(field+".required", "%q is not always or create", c.Required)
	}
	if !slices.Contains([]ValueType{TypeString, TypeBoolean, TypeInteger, TypeDecimal, TypeDate, TypeDateTime}, c.Type) {
		ps.add(field+".type", "%q is not one of boolean, integer, decimal, date, dateTime (or empty for text)", c.Type)
	}
	if c.Format != "" && c.Format != "email" {
		ps.add(field+".format", "%q is not a known format (email)", c.Format)
	}
	checkList(ps, field+".list", c.List)
	if c.AddToList && c.List != ListRoles {
		ps.add(field+".addToList", "only the roles list can be added to")
	}
	if c.MinLength < 0 || c.MaxLength < 0 || (c.MaxLength > 0 && c.MinLength > c.MaxLength) {
		ps.add(field+".maxLength", "lengths must be non-negative and minLength at most maxLength")
	}
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
