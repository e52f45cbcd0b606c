package directory

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/internal/filter"
	"github.com/scimbridge/scimbridge/internal/schema"
)

// PatchOp is one operation of a PATCH request (RFC 7644 §3.5.2). Op is
// add, replace or remove in any case; Path may be empty for add and
// replace, whose Value is then an object of attributes.
type PatchOp struct {
	Op    string
	Path  string
	Value any
}

// patcher applies operations to a canonical document. It never touches the
// store: a failed operation leaves the caller's stored resource unchanged.
type patcher struct {
	rt  *schema.ResourceType
	doc schema.Doc
	id  string
}

func patchError(typ scimerrors.ScimType, format string, args ...any) error {
	return scimerrors.ScimError{Status: http.StatusBadRequest, ScimType: typ, Detail: fmt.Sprintf(format, args...)}
}

// apply runs one operation.
func (p *patcher) apply(op PatchOp) error {
	kind := strings.ToLower(op.Op)
	switch kind {
	case "add", "replace", "remove":
	default:
		return patchError(scimerrors.ScimTypeInvalidSyntax, "Operation %q is not one of add, replace, remove.", truncate(op.Op, 40))
	}
	if strings.TrimSpace(op.Path) != "" {
		return p.applyPath(kind, strings.TrimSpace(op.Path), op.Value)
	}
	if kind == "remove" {
		return patchError(scimerrors.ScimTypeNoTarget, "A remove operation needs a path.")
	}
	obj, ok := op.Value.(map[string]any)
	if !ok {
		return patchError(scimerrors.ScimTypeInvalidValue, "An %s operation without a path needs an object of attributes as its value.", kind)
	}
	return p.applyObject(kind, obj)
}

// applyObject applies a path-less value: each key is an attribute path
// (possibly dotted or URN-qualified) or an extension URN holding an object.
// A "schemas" member is ignored, as in a PUT body (clients serialise
// resources and extension objects with it). A key that names no attribute
// makes the value invalid (invalidValue): the operation's path, if any,
// was valid.
func (p *patcher) applyObject(kind string, obj map[string]any) error {
	for _, k := range sortedKeys(obj) {
		v := obj[k]
		if strings.EqualFold(k, "schemas") {
			continue
		}
		if ext, ok := p.rt.Extension(k); ok {
			sub, isObj := v.(map[string]any)
			if !isObj {
				return patchError(scimerrors.ScimTypeInvalidValue, "The value of %s must be an object of its attributes.", ext.Schema.ID)
			}
			if err := p.applyExtensionObject(kind, ext, sub); err != nil {
				return err
			}
			continue
		}
		if err := valueError(p.applyPath(kind, k, v)); err != nil {
			return err
		}
	}
	return nil
}

// applyExtensionObject applies the members of an extension's object.
func (p *patcher) applyExtensionObject(kind string, ext *schema.Extension, obj map[string]any) error {
	for _, k := range sortedKeys(obj) {
		if strings.EqualFold(k, "schemas") {
			continue
		}
		if err := valueError(p.applyPath(kind, ext.Schema.ID+":"+k, obj[k])); err != nil {
			return err
		}
	}
	return nil
}

// valueError turns an invalidPath error raised by a key inside an
// operation's value into invalidValue: the key is part of the value.
func valueError(err error) error {
	var se scimerrors.ScimError
	if errors.As(err, &se) && se.ScimType == scimerrors.ScimTypeInvalidPath {
		se.ScimType = scimerrors.ScimTypeInvalidValue
		se.Detail = "The operation's value is invalid: " + se.Detail
		return se
	}
	return err
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// target is a resolved PATCH path: attr (with Sub for name.givenName),
// optionally a value filter and a sub-attribute after it.
type target struct {
	attr   filter.Attr
	filter filter.Expr
	sub    filter.Attr // set when the path is attr[filter].sub
	path   string
}

func (p *patcher) applyPath(kind, path string, value any) error {
	if ext, ok := p.rt.Extension(path); ok {
		return p.applyExtension(kind, ext, value)
	}
	t, err := p.resolve(path)
	if err != nil {
		return err
	}
	if skip, err := p.checkMutability(kind, t, value); skip || err != nil {
		return err
	}
	if kind == "remove" {
		return p.remove(t, value)
	}
	return p.set(kind, t, value)
}

// applyExtension handles a path that is a whole extension URN.
func (p *patcher) applyExtension(kind string, ext *schema.Extension, value any) error {
	if kind == "remove" {
		delete(p.doc, ext.Schema.ID)
		return nil
	}
	obj, ok := value.(map[string]any)
	if !ok {
		return patchError(scimerrors.ScimTypeInvalidValue, "The value of %s must be an object of its attributes.", ext.Schema.ID)
	}
	if kind == "replace" {
		delete(p.doc, ext.Schema.ID)
	}
	return p.applyObject("add", map[string]any{ext.Schema.ID: obj})
}

// resolve parses and resolves a path; errors are invalidPath.
func (p *patcher) resolve(path string) (target, error) {
	attrPart, filterPart, subPart, err := splitPath(path)
	if err != nil {
		return target{}, err
	}
	t := target{path: path}
	if t.attr, err = filter.ResolveTarget(p.rt, attrPart); err != nil {
		return t, asInvalidPath(err)
	}
	if filterPart == "" {
		return t, nil
	}
	if !t.attr.MultiValued || t.attr.Type != "complex" || t.attr.Sub != "" {
		return t, patchError(scimerrors.ScimTypeInvalidPath, "%s[...] needs a multi-valued complex attribute.", attrPart)
	}
	vp, err := filter.Parse(p.rt, attrPart+"["+filterPart+"]")
	if err != nil {
		return t, asInvalidPath(err)
	}
	t.filter = vp.(*filter.ValuePath).Filter
	if subPart != "" {
		if t.sub, err = filter.ResolveTarget(p.rt, attrPart+"."+subPart); err != nil {
			return t, asInvalidPath(err)
		}
	}
	return t, nil
}

func asInvalidPath(err error) error {
	var se scimerrors.ScimError
	if errors.As(err, &se) {
		se.ScimType = scimerrors.ScimTypeInvalidPath
		se.Detail = strings.Replace(se.Detail, "Invalid filter: ", "Invalid path: ", 1)
		return se
	}
	return err
}

// splitPath cuts attr[filter].sub into its three parts.
func splitPath(path string) (attr, filt, sub string, err error) {
	attr, filt, sub, err = filter.SplitValuePath(path)
	var vpe *filter.ValuePathError
	if errors.As(err, &vpe) {
		return "", "", "", patchError(scimerrors.ScimTypeInvalidPath, "Path %s.", vpe.Problem)
	}
	return attr, filt, sub, err
}

// checkMutability rejects writes to readOnly attributes and changes to
// immutable ones. skip is true for Okta's harmless {"id": <same id>}.
func (p *patcher) checkMutability(kind string, t target, value any) (bool, error) {
	a := t.attr
	if t.filter != nil && t.sub.Name != "" {
		a = t.sub
	}
	switch a.Mutability {
	case "readOnly":
		if a.Name == "id" && a.Sub == "" && kind != "remove" && value == p.id {
			return true, nil
		}
		return false, patchError(scimerrors.ScimTypeMutability, "Attribute '%s' is read-only and cannot be changed by PATCH.", a)
	case "immutable":
		if kind != "add" || p.present(t.attr) {
			return false, patchError(scimerrors.ScimTypeMutability, "Attribute '%s' is immutable: it may be set once but not changed.", a)
		}
	}
	return false, nil
}

func (p *patcher) present(a filter.Attr) bool {
	c := p.container(a, false)
	return c != nil && filter.Present(c[a.Name])
}

// container is the map holding a's top-level attribute: the document or
// its extension object (created when create is true).
func (p *patcher) container(a filter.Attr, create bool) map[string]any {
	if !a.Extension {
		return p.doc
	}
	ext, ok := p.doc[a.URN].(map[string]any)
	if !ok && create {
		ext = map[string]any{}
		p.doc[a.URN] = ext
	}
	return ext
}

func deepEqual(a, b any) bool { return reflect.DeepEqual(a, b) }
