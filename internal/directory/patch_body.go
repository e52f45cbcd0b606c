package directory

import (
	"net/http"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"
)

// PatchOpURN is the schema of PATCH request bodies.
const PatchOpURN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

// ParsePatchBody reads a PatchOp message: "Operations" (any case) with
// "op", "path" and "value" each. /Bulk and PATCH share it.
func ParsePatchBody(body map[string]any) ([]PatchOp, error) {
	raw, ok := lookupFold(body, "Operations")
	list, isList := raw.([]any)
	if !ok || !isList || len(list) == 0 {
		return nil, patchErrorStatus(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax,
			"A PATCH body needs \"Operations\": a non-empty list of {\"op\", \"path\", \"value\"} (schema "+PatchOpURN+").")
	}
	out := make([]PatchOp, 0, len(list))
	for i, el := range list {
		m, ok := el.(map[string]any)
		if !ok {
			return nil, patchError(scimerrors.ScimTypeInvalidSyntax, "Operations[%d] must be an object.", i)
		}
		op, _ := lookupFold(m, "op")
		path, _ := lookupFold(m, "path")
		value, _ := lookupFold(m, "value")
		opStr, ok1 := op.(string)
		pathStr, ok2 := path.(string)
		if !ok1 || (path != nil && !ok2) {
			return nil, patchError(scimerrors.ScimTypeInvalidSyntax, "Operations[%d] needs \"op\" as a string and \"path\", if any, as a string.", i)
		}
		out = append(out, PatchOp{Op: opStr, Path: pathStr, Value: value})
	}
	return out, nil
}

func patchErrorStatus(status int, typ scimerrors.ScimType, detail string) error {
	return scimerrors.ScimError{Status: status, ScimType: typ, Detail: detail}
}

func lookupFold(m map[string]any, key string) (any, bool) {
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}
