package csvbridge

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/schema"
)

// Env is what an import knows besides its file: the caller's tenant, the
// tenant's settings (the lists columns are checked against) and the
// upload's options. The zero Env checks no lists and no tenant.
type Env struct {
	Tenant   string
	Settings *directory.TenantSettings
	Options  map[string]string
}

// Row-level codes of tenant lists, tenants and groups.
const (
	CodeUnknownSource = "unknown_source"
	CodeUnknownRole   = "unknown_role"
	CodeUnknownOffice = "unknown_office"
	CodeWrongTenant   = "wrong_tenant"
	CodeUnknownGroup  = "unknown_group"
	CodeNotLeafGroup  = "not_a_team"
	// CodeDuplicate marks an insert-only row whose user exists.
	CodeDuplicate = "duplicate"
)

// inList reports whether v is in the tenant list and returns the list's
// spelling: sources and roles compare without case, offices exactly.
func (e *Env) inList(list, v string) (string, bool) {
	ts := e.Settings
	switch list {
	case ListSources:
		return ts.HasSource(v)
	case ListRoles:
		return ts.Role(v)
	case ListOffices:
		return v, ts.HasOffice(v)
	}
	return v, true
}

// listIssue is the error of a value missing from a tenant list.
func (e *Env) listIssue(list, v string) *Issue {
	ts := e.Settings
	switch list {
	case ListSources:
		return &Issue{Code: CodeUnknownSource, Rule: "list sources", Message: fmt.Sprintf("Unknown source %s: it is not enabled for this tenant.", quoteValue(v)),
			Hint: listHint("Enabled sources", ts.Sources)}
	case ListRoles:
		return &Issue{Code: CodeUnknownRole, Rule: "list roles", Message: fmt.Sprintf("Role %s does not exist; roles must be defined before the import.", quoteValue(v)),
			Hint: listHint("Roles", ts.Roles)}
	}
	return &Issue{Code: CodeUnknownOffice, Rule: "list offices", Message: fmt.Sprintf("Office %s is not one of this tenant's offices (the name must match exactly).", quoteValue(v)),
		Hint: listHint("Offices", ts.Offices)}
}

func listHint(what string, list []string) string {
	if len(list) == 0 {
		return what + ": none are set up yet; a tier 3 admin adds them in the tenant settings."
	}
	shown := list[:min(len(list), 20)]
	s := what + ": " + strings.Join(shown, ", ")
	if len(list) > len(shown) {
		s += fmt.Sprintf(" and %d more", len(list)-len(shown))
	}
	return s + "."
}

// ForTenant returns the profile as the tenant's files use it: with
// OrgFields, a copy with one column per organisation field of the
// settings appended (its attribute in the organisation extension, its
// type, optional, a blank cell keeping the stored value).
func (p *Profile) ForTenant(ts *directory.TenantSettings) *Profile {
	if !p.OrgFields || ts == nil || len(ts.OrgFields) == 0 {
		return p
	}
	out := p.Clone()
	for _, f := range ts.OrgFields {
		c := Column{Header: f.Name, Paths: []string{schema.OrgURN + ":" + f.Name}, Description: f.Description}
		switch f.Type {
		case "date":
			c.Type, c.Example = TypeDate, "2024-01-31"
		case "decimal":
			c.Type, c.Example = TypeDecimal, "12.5"
		case "integer":
			c.Type, c.Example = TypeInteger, "42"
		case "boolean":
			c.Type, c.Example = TypeBoolean, "true"
		}
		if c.Description == "" {
			c.Description = "Custom organisation field " + f.Name + " (" + f.Type + ")."
		}
		out.Columns = append(out.Columns, c)
	}
	return out
}

// CheckOptions checks an upload's options against the profile: every
// option given is declared, required ones are there, listed ones are in
// the tenant's list. The error is a SCIM 400.
func (p *Profile) CheckOptions(opts map[string]string, ts *directory.TenantSettings) error {
	for name := range opts {
		if !slices.ContainsFunc(p.Options, func(o Option) bool { return o.Name == name }) {
			return errorf(http.StatusBadRequest, "invalidValue", "Profile %s has no option %q.%s", p.Name, name, optionList(p))
		}
	}
	for _, o := range p.Options {
		v := strings.TrimSpace(opts[o.Name])
		switch {
		case v == "" && o.Required:
			return errorf(http.StatusBadRequest, "invalidValue", "Profile %s needs the option %s (%s): add ?%s=VALUE to the upload.", p.Name, o.Name, o.Title, o.Name)
		case v != "" && o.List != "" && ts != nil:
			e := Env{Settings: ts}
			if _, ok := e.inList(o.List, v); !ok {
				is := e.listIssue(o.List, v)
				return errorf(http.StatusBadRequest, "invalidValue", "Option %s: %s %s", o.Name, is.Message, is.Hint)
			}
		}
	}
	return nil
}

func optionList(p *Profile) string {
	if len(p.Options) == 0 {
		return " It takes no options."
	}
	names := make([]string, len(p.Options))
	for i, o := range p.Options {
		names[i] = o.Name
	}
	return " Its options are: " + strings.Join(names, ", ") + "."
}
