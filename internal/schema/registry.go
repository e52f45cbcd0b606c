// Package schema is the attribute registry of scimbridge: the SCIM core User
// and Group schemas, the Enterprise User extension (all from
// github.com/elimity-com/scim/schema) and our own support extension, with
// lookups by name in any case and the normalisation of request bodies into
// canonical documents.
//
// Normalisation is ours rather than elimity's Schema.Validate because clients
// need errors that name the attribute, because Okta and Entra send booleans
// as "True"/"False", and because extension attributes travel under their
// schema URN.
package schema

import (
	"strings"

	"github.com/elimity-com/scim/optional"
	elschema "github.com/elimity-com/scim/schema"
)

// Schema URNs served by scimbridge.
const (
	UserURN       = "urn:ietf:params:scim:schemas:core:2.0:User"
	GroupURN      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	EnterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	SupportURN    = "urn:scimbridge:params:scim:schemas:extension:support:2.0:User"
)

// LastLoginAt is the support extension's read-only attribute holding when
// a person last signed in.
const LastLoginAt = "lastLoginAt"

// Tiers are the four support tier strings, lowest first; the support
// extension's tier attribute accepts exactly these.
var Tiers = []string{
	"support-tier-0-help-desk",
	"support-tier-1-operations",
	"support-tier-2-software-partner",
	"support-tier-3-engineering",
}

// Attribute is an attribute definition with its characteristics.
type Attribute = elschema.CoreAttribute

// Extension is a schema extension of a resource type.
type Extension struct {
	Schema   elschema.Schema
	Required bool
}

// ResourceType describes one kind of resource: its endpoint, core schema
// and extensions.
type ResourceType struct {
	Name        string
	Endpoint    string
	Description string
	Schema      elschema.Schema
	Extensions  []Extension
	// strict lists attribute paths ("urn:attr", spelled as in the schema:
	// the normaliser builds paths from the schema's names) whose canonical
	// values are the only values accepted.
	strict map[string]bool
	// formats gives attribute paths ("urn:attr", spelled as in the
	// schema) a value
	// format beyond their SCIM type: "date" (a string YYYY-MM-DD) or
	// "decimal" (a number that may also come as a string such as "12.50").
	formats map[string]string
}

// Registry holds the resource types and schemas the server serves.
type Registry struct {
	User  *ResourceType
	Group *ResourceType
}

// New builds the registry.
func New() *Registry {
	return &Registry{
		User: &ResourceType{
			Name: "User", Endpoint: "/Users", Description: "User Account",
			Schema: withExternalID(elschema.CoreUserSchema()),
			Extensions: []Extension{
				{Schema: elschema.ExtensionEnterpriseUser()},
				{Schema: SupportExtension()},
			},
			strict: map[string]bool{SupportURN + ":tier": true},
		},
		Group: &ResourceType{
			Name: "Group", Endpoint: "/Groups", Description: "Group",
			Schema: withExternalID(elschema.CoreGroupSchema()),
		},
	}
}

// withExternalID adds the common externalId attribute to a core schema, so
// that normalisation treats it like any other writable attribute. Schemas
// served on /Schemas come from Schemas, which leaves it out as RFC 7643 does.
func withExternalID(s elschema.Schema) elschema.Schema {
	for _, a := range elschema.CommonAttributes() {
		if a.Name() == "externalId" {
			s.Attributes = append(append(elschema.Attributes{}, s.Attributes...), a)
		}
	}
	return s
}

// SupportExtension is scimbridge's own User extension: the support tier
// and the user's identifiers on other platforms (the seeds' "Source
// Username(s)").
func SupportExtension() elschema.Schema {
	return elschema.Schema{
		ID:          SupportURN,
		Name:        optional.NewString("SupportUser"),
		Description: optional.NewString("Support tier and source identifiers of a support user"),
		Attributes: elschema.Attributes{
			elschema.SimpleCoreAttribute(elschema.SimpleStringParams(elschema.StringParams{
				Name: "tier", CaseExact: true, CanonicalValues: Tiers,
				Description: optional.NewString("The user's support tier; exactly one of the canonical values."),
			})),
			elschema.SimpleCoreAttribute(elschema.SimpleDateTimeParams(elschema.DateTimeParams{
				Name: "lastLoginAt", Mutability: elschema.AttributeMutabilityReadOnly(),
				Description: optional.NewString("When the person last signed in through OIDC (to within five minutes); set by the server."),
			})),
			elschema.ComplexCoreAttribute(elschema.ComplexParams{
				Name: "sourceUserNames", MultiValued: true,
				Description: optional.NewString("The user's unique identifiers on other platforms (sources)."),
				SubAttributes: []elschema.SimpleParams{
					elschema.SimpleStringParams(elschema.StringParams{Name: "source", Description: optional.NewString("The platform, e.g. slack.")}),
					elschema.SimpleStringParams(elschema.StringParams{Name: "value", CaseExact: true, Description: optional.NewString("The identifier on that platform.")}),
				},
			}),
		},
	}
}

// Schemas returns every schema served on /Schemas, core schemas first.
func (r *Registry) Schemas() []elschema.Schema {
	out := []elschema.Schema{elschema.CoreUserSchema(), elschema.CoreGroupSchema()}
	for _, e := range r.User.Extensions {
		out = append(out, e.Schema)
	}
	return out
}

// ResourceTypes returns the resource types in a stable order.
func (r *Registry) ResourceTypes() []*ResourceType { return []*ResourceType{r.User, r.Group} }

// ByEndpoint finds a resource type by its endpoint name ("Users"), in any case.
func (r *Registry) ByEndpoint(name string) (*ResourceType, bool) {
	for _, rt := range r.ResourceTypes() {
		if strings.EqualFold(strings.TrimPrefix(rt.Endpoint, "/"), name) {
			return rt, true
		}
	}
	return nil, false
}

// URNs returns the core schema URN followed by the extension URNs.
func (rt *ResourceType) URNs() []string {
	out := []string{rt.Schema.ID}
	for _, e := range rt.Extensions {
		out = append(out, e.Schema.ID)
	}
	return out
}

// Extension finds an extension by URN, in any case.
func (rt *ResourceType) Extension(urn string) (*Extension, bool) {
	for i := range rt.Extensions {
		if strings.EqualFold(rt.Extensions[i].Schema.ID, urn) {
			return &rt.Extensions[i], true
		}
	}
	return nil, false
}

// Attribute finds a core attribute by name, in any case.
func (rt *ResourceType) Attribute(name string) (Attribute, bool) {
	return rt.Schema.Attributes.ContainsAttribute(name)
}

// NeverReturned names the core attributes whose returned characteristic
// is "never" (a User's password): no response or export shows them.
func (rt *ResourceType) NeverReturned() []string {
	var out []string
	for _, a := range rt.Schema.Attributes {
		if a.Returned() == "never" {
			out = append(out, a.Name())
		}
	}
	return out
}
