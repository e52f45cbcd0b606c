package csvbridge

import (
	"errors"
	"fmt"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"

	"github.com/scimbridge/scimbridge/internal/filter"
	"github.com/scimbridge/scimbridge/internal/schema"
)

// Target is a resolved SCIM attribute path that a cell writes to.
type Target struct {
	// Path is the canonical path, usable as a PATCH path:
	// "name.givenName", `emails[type eq "work"].value`, "urn:...:tier".
	Path string `json:"path"`
	// Attr is the written (sub-)attribute: Name and Sub as the schema
	// spells them, its type and URN.
	Attr filter.Attr `json:"-"`
	// Filter and Element are set for a value path (attr[filter].sub):
	// Filter selects existing elements (filter.MatchElement), Element is
	// the element it describes, created when none matches.
	Filter  filter.Expr    `json:"-"`
	Element map[string]any `json:"element,omitempty"`
	// Many is true when the cell holds several values: a multi-valued
	// attribute without a filter ("roles.value").
	Many bool `json:"many,omitempty"`
	// MatchOnly is true for "id": it finds the user and is never written.
	MatchOnly bool `json:"matchOnly,omitempty"`
}

// matchKey returns the match key a target supplies, if any.
func (t *Target) matchKey() (MatchKey, bool) {
	switch {
	case t.Attr.URN == "" && t.Attr.Name == "id":
		return MatchID, true
	case t.Attr.URN == "" && t.Attr.Name == "externalId":
		return MatchExternalID, true
	case t.Attr.Name == "userName" && !t.Attr.Extension:
		return MatchUserName, true
	case t.Attr.Name == "emails" && t.Attr.Sub == "value" && !t.Attr.Extension:
		return MatchEmail, true
	}
	return "", false
}

// errPath is an attribute path that cannot be a column.
var errPath = errors.New("not a writable attribute path")

func pathError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errPath}, args...)...)
}

// ResolveTarget resolves a column's SCIM attribute path against the
// resource type: a simple attribute, a sub-attribute, an extension
// attribute, or a value path attr[eq filter].sub whose filter describes
// one element.
func ResolveTarget(rt *schema.ResourceType, path string) (Target, error) {
	attrPart, filt, sub, err := splitValuePath(strings.TrimSpace(path))
	if err != nil {
		return Target{}, err
	}
	a, err := filter.ResolveTarget(rt, attrPart)
	if err != nil {
		return Target{}, pathError("%s", scimDetail(err))
	}
	if filt != "" {
		return valuePathTarget(rt, a, attrPart, filt, sub)
	}
	return simpleTarget(a)
}

func simpleTarget(a filter.Attr) (Target, error) {
	t := Target{Path: a.String(), Attr: a}
	switch {
	case a.URN == "" && a.Name == "id":
		t.MatchOnly = true
		return t, nil
	case a.Mutability == "readOnly":
		return t, pathError("%s is read-only", a)
	case a.Type == "complex":
		return t, pathError("%s is complex; name one of its sub-attributes, e.g. %s.value or %s[type eq \"work\"].value", a, a, a)
	case a.MultiValued && a.Sub != "" && a.Sub != "value":
		return t, pathError("%s is a sub-attribute of a multi-valued attribute; select one element, e.g. %s[type eq \"work\"].%s", a, a.Name, a.Sub)
	}
	t.Many = a.MultiValued
	return t, nil
}

func valuePathTarget(rt *schema.ResourceType, a filter.Attr, attrPart, filt, sub string) (Target, error) {
	if !a.MultiValued || a.Type != "complex" || a.Sub != "" {
		return Target{}, pathError("%s[...] needs a multi-valued complex attribute", attrPart)
	}
	if sub == "" {
		return Target{}, pathError("name the sub-attribute the cell holds, e.g. %s[%s].value", a, filt)
	}
	vp, err := filter.Parse(rt, attrPart+"["+filt+"]")
	if err != nil {
		return Target{}, pathError("%s", scimDetail(err))
	}
	f := vp.(*filter.ValuePath).Filter
	elem, ok := filter.EqualityTemplate(f)
	if !ok {
		return Target{}, pathError("the filter of %s must be eq comparisons joined by and, e.g. type eq \"work\"", attrPart)
	}
	sa, err := filter.ResolveTarget(rt, attrPart+"."+sub)
	if err != nil {
		return Target{}, pathError("%s", scimDetail(err))
	}
	if sa.Mutability == "readOnly" {
		return Target{}, pathError("%s is read-only", sa)
	}
	prefix := a.Name
	if a.Extension {
		prefix = a.URN + ":" + a.Name
	}
	return Target{Path: prefix + "[" + filt + "]." + sa.Sub, Attr: sa, Filter: f, Element: elem}, nil
}

// scimDetail extracts a SCIM error's detail, without the filter
// package's "Invalid filter: " prefix and final period.
func scimDetail(err error) string {
	s := err.Error()
	var se scimerrors.ScimError
	if errors.As(err, &se) {
		s = se.Detail
	}
	s = strings.TrimPrefix(s, "Invalid filter: ")
	return strings.TrimSuffix(s, ".")
}

// splitValuePath cuts attr[filter].sub into its three parts.
func splitValuePath(path string) (attr, filt, sub string, err error) {
	attr, filt, sub, err = filter.SplitValuePath(path)
	var vpe *filter.ValuePathError
	if errors.As(err, &vpe) {
		return "", "", "", pathError("%s", vpe.Problem)
	}
	return attr, strings.TrimSpace(filt), sub, err
}
