package csvbridge

import (
	"fmt"
	"slices"
	"strings"
)

// Guide is a profile's field guide: every column, what it accepts, an
// example, and whether it is required when a row creates or updates a
// user.
type Guide struct {
	Profile     string        `json:"profile"`
	Version     int           `json:"version"`
	Title       string        `json:"title"`
	Description string        `json:"description,omitempty"`
	Rules       []string      `json:"rules"`
	Options     []Option      `json:"options,omitempty"`
	Columns     []GuideColumn `json:"columns"`
}

// GuideColumn is one column of a field guide.
type GuideColumn struct {
	Column  string   `json:"column"`
	Aliases []string `json:"aliases,omitempty"`
	Accepts string   `json:"accepts"`
	Example string   `json:"example,omitempty"`
	// OnCreate and OnUpdate are "required", "optional" or a condition.
	OnCreate    string   `json:"onCreate"`
	OnUpdate    string   `json:"onUpdate"`
	Writes      []string `json:"writes,omitempty"`
	Description string   `json:"description,omitempty"`
}

// FieldGuide builds the field guide of a profile (as the tenant uses it:
// pass p.ForTenant for its organisation fields).
func FieldGuide(p *Profile) Guide {
	g := Guide{Profile: p.Name, Version: p.Version, Title: p.Title, Description: p.Description, Rules: profileRules(p), Options: p.Options}
	for i := range p.Columns {
		g.Columns = append(g.Columns, guideColumn(p, &p.Columns[i]))
	}
	if a := p.Action; a != nil && p.column(FoldHeader(a.Header)) == nil {
		g.Columns = append(g.Columns, GuideColumn{Column: a.Header, Accepts: actionAccepts(a),
			OnCreate: "optional", OnUpdate: "optional", Description: "What to do with the row."})
	}
	return g
}

func actionAccepts(a *ActionColumn) string {
	keys := make([]string, 0, len(a.Values))
	for k, v := range a.Values {
		keys = append(keys, fmt.Sprintf("%s (%s)", k, v))
	}
	slices.Sort(keys)
	return "blank (add or update the user) or " + strings.Join(keys, ", ")
}

func profileRules(p *Profile) []string {
	var out []string
	if p.MaxRows > 0 {
		out = append(out, fmt.Sprintf("At most %d rows.", p.MaxRows))
	}
	if p.StrictOrder {
		out = append(out, "The column names and their order are fixed: a renamed or missing column fails the file, naming it.")
	}
	keys := make([]string, len(p.MatchKeys))
	for i, k := range p.MatchKeys {
		keys[i] = string(k)
	}
	out = append(out, "Existing users are found by "+strings.Join(keys, ", then ")+".")
	if p.Mode == ModeInsertOnly {
		out = append(out, "Insert only: a row whose user exists is a duplicate and changes nothing.")
	} else {
		out = append(out, "A blank cell keeps the stored value; an update changes only what differs.")
	}
	switch p.Commit {
	case CommitAllOrNothing:
		out = append(out, "Validate, then load: nothing loads until every row is valid, and loading validates the file again.")
	case CommitAllowExclusions:
		out = append(out, "Rows with errors must be unticked (excluded) before the commit; any row may be unticked.")
	default:
		out = append(out, "Valid rows are applied; the report lists the rows that failed and why.")
	}
	if p.NotifyAtCommit {
		out = append(out, "At commit, choose per row (or for all) which new users get the account e-mail; by default nobody does.")
	}
	return out
}

func guideColumn(p *Profile, c *Column) GuideColumn {
	g := GuideColumn{Column: c.Header, Aliases: c.Aliases, Accepts: accepts(c), Example: c.Example, Writes: c.Paths, Description: c.Description,
		OnCreate: "optional", OnUpdate: "optional"}
	switch {
	case c.Required == RequiredAlways:
		g.OnCreate, g.OnUpdate = "required", "required"
	case c.Required == RequiredOnCreate:
		g.OnCreate = "required"
	case c.RequiredIf != nil:
		g.OnCreate = fmt.Sprintf("required when %s is %s", c.RequiredIf.Column, strings.Join(c.RequiredIf.Values, " or "))
	}
	if slices.ContainsFunc(c.Paths, func(path string) bool { return isMatchPath(path, p.MatchKeys) }) && g.OnUpdate == "optional" {
		g.OnUpdate = "finds the user (give this or another match key)"
	}
	if c.Kind == KindActionColumn && p.Action != nil {
		g.Accepts = actionAccepts(p.Action)
	}
	if c.CreateDefault != "" {
		g.OnCreate += fmt.Sprintf(" (blank means %s)", c.CreateDefault)
	}
	return g
}

// isMatchPath reports whether a column path supplies one of the keys.
func isMatchPath(path string, keys []MatchKey) bool {
	k := map[string]MatchKey{"id": MatchID, "userName": MatchUserName, "externalId": MatchExternalID}[path]
	if strings.HasPrefix(path, "emails") && strings.HasSuffix(path, ".value") {
		k = MatchEmail
	}
	return k != "" && slices.Contains(keys, k)
}

// accepts describes what a column's cells may hold.
func accepts(c *Column) string {
	var parts []string
	switch c.Kind {
	case KindGroups:
		parts = append(parts, "names of existing groups (exact)")
	case KindTenant:
		parts = append(parts, "blank or the current tenant's identifier")
	case KindNotify:
		parts = append(parts, "true or false")
	}
	if c.Multi != nil {
		s := fmt.Sprintf("several values separated by %q", c.Multi.Separator)
		if c.Multi.TypeSeparator != "" {
			s = fmt.Sprintf("type%svalue pairs separated by %q", c.Multi.TypeSeparator, c.Multi.Separator)
		}
		if c.Multi.None != "" {
			s += fmt.Sprintf("; %s for none", c.Multi.None)
		}
		parts = append(parts, s)
	}
	parts = append(parts, valueRules(c)...)
	switch c.List {
	case ListSources:
		parts = append(parts, "sources enabled for the tenant")
	case ListOffices:
		parts = append(parts, "one of the tenant's offices, exactly")
	case ListRoles:
		if c.AddToList {
			parts = append(parts, "role names (missing ones are added to the catalogue)")
		} else {
			parts = append(parts, "roles of the tenant's catalogue")
		}
	}
	if len(parts) == 0 {
		return "text"
	}
	return strings.Join(parts, "; ")
}

func valueRules(c *Column) []string {
	var parts []string
	switch {
	case len(c.Enum) > 0:
		parts = append(parts, "one of: "+strings.Join(c.Enum, ", "))
	case len(c.ValueMap) > 0:
		keys := make([]string, 0, len(c.ValueMap))
		for k := range c.ValueMap {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts = append(parts, "one of: "+strings.Join(keys, ", "))
	case c.Type == TypeDate:
		parts = append(parts, "a date YYYY-MM-DD")
	case c.Type == TypeDecimal:
		parts = append(parts, "a number, decimals after a period")
	case c.Type == TypeInteger:
		parts = append(parts, "a whole number")
	case c.Type == TypeBoolean:
		parts = append(parts, "true or false")
	case c.Type == TypeDateTime:
		parts = append(parts, "a date or an RFC 3339 time")
	}
	if c.Format == "email" {
		parts = append(parts, "an email address")
	}
	if c.Pattern != "" && len(c.ValueMap) == 0 {
		parts = append(parts, "matching "+c.Pattern)
	}
	if c.MaxLength > 0 {
		parts = append(parts, fmt.Sprintf("at most %d characters", c.MaxLength))
	}
	switch {
	case c.UniqueInTenant:
		parts = append(parts, "unique: no two rows and no two users share a value")
	case c.Unique:
		parts = append(parts, "unique in the file")
	}
	if c.Ref != "" {
		parts = append(parts, fmt.Sprintf("the %s of another user", c.Ref))
	}
	return parts
}
