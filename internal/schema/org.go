package schema

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/elimity-com/scim/optional"
	elschema "github.com/elimity-com/scim/schema"
)

// OrgURN is the User extension holding a tenant's custom organisation
// fields. The URN is the same for every tenant; its attributes are the
// tenant's (each tenant's /Schemas shows its own).
const OrgURN = "urn:scimbridge:params:scim:schemas:extension:organization:2.0:User"

// OrgFieldTypes are the types an organisation field may have. date is a
// string attribute whose values must be calendar dates written YYYY-MM-DD
// (so they compare in date order as strings); decimal and integer are JSON
// numbers (a decimal also accepts a string with a period as separator).
var OrgFieldTypes = []string{"string", "date", "decimal", "integer", "boolean"}

// OrgField is one custom organisation field of a tenant.
type OrgField struct {
	Name        string
	Type        string
	Description string
}

// MaxOrgFieldName is the longest organisation field name.
const MaxOrgFieldName = 64

var attrName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)

// CheckOrgField checks a field's name (RFC 7643 ATTRNAME, at most
// MaxOrgFieldName characters), type and description length.
func CheckOrgField(f OrgField) error {
	switch {
	case !attrName.MatchString(f.Name) || len(f.Name) > MaxOrgFieldName:
		return fmt.Errorf("name %q must start with a letter and hold only letters, digits, '-' and '_' (at most %d characters)", truncate(f.Name, 80), MaxOrgFieldName)
	case !slices.Contains(OrgFieldTypes, f.Type):
		return fmt.Errorf("type %q of %q is not one of %s", truncate(f.Type, 40), f.Name, strings.Join(OrgFieldTypes, ", "))
	case len(f.Description) > 1000:
		return fmt.Errorf("the description of %q is longer than 1000 characters", f.Name)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// OrgExtension is the organisation extension schema with fields.
func OrgExtension(fields []OrgField) elschema.Schema {
	attrs := make(elschema.Attributes, 0, len(fields))
	for _, f := range fields {
		attrs = append(attrs, orgAttribute(f))
	}
	return elschema.Schema{
		ID:          OrgURN,
		Name:        optional.NewString("Organization"),
		Description: optional.NewString("The tenant's custom organisation fields"),
		Attributes:  attrs,
	}
}

func orgAttribute(f OrgField) Attribute {
	desc := optional.NewString(f.Description)
	switch f.Type {
	case "decimal":
		return elschema.SimpleCoreAttribute(elschema.SimpleNumberParams(elschema.NumberParams{Name: f.Name, Type: elschema.AttributeTypeDecimal(), Description: desc}))
	case "integer":
		return elschema.SimpleCoreAttribute(elschema.SimpleNumberParams(elschema.NumberParams{Name: f.Name, Type: elschema.AttributeTypeInteger(), Description: desc}))
	case "boolean":
		return elschema.SimpleCoreAttribute(elschema.SimpleBooleanParams(elschema.BooleanParams{Name: f.Name, Description: desc}))
	case "date":
		if f.Description == "" {
			desc = optional.NewString("A date written YYYY-MM-DD.")
		}
		return elschema.SimpleCoreAttribute(elschema.SimpleStringParams(elschema.StringParams{Name: f.Name, CaseExact: true, Description: desc}))
	}
	return elschema.SimpleCoreAttribute(elschema.SimpleStringParams(elschema.StringParams{Name: f.Name, Description: desc}))
}

// WithOrgFields returns a registry like r whose User resource type also has
// the organisation extension with fields (checked with CheckOrgField). With
// no fields it returns r itself: tenants without organisation fields share
// the base registry.
func (r *Registry) WithOrgFields(fields []OrgField) (*Registry, error) {
	if len(fields) == 0 {
		return r, nil
	}
	for _, f := range fields {
		if err := CheckOrgField(f); err != nil {
			return nil, err
		}
	}
	user := *r.User
	user.Extensions = append(slices.Clone(r.User.Extensions), Extension{Schema: OrgExtension(fields)})
	user.formats = make(map[string]string, len(fields))
	for k, v := range r.User.formats {
		user.formats[k] = v
	}
	for _, f := range fields {
		if f.Type == "date" || f.Type == "decimal" {
			user.formats[OrgURN+":"+f.Name] = f.Type
		}
	}
	return &Registry{User: &user, Group: r.Group}, nil
}
