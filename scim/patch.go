package scim

import (
	"net/http"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/go-chi/chi/v5"
	"github.com/scimbridge/scimbridge/internal/directory"
)

// PatchOpURN is the schema of PATCH request bodies.
const PatchOpURN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

// patch answers PATCH: 200 with the resource (honouring attributes) for
// users, 204 for groups; "Prefer: return=minimal" asks for 204 and
// "Prefer: return=representation" or an attributes parameter for 200.
func (h *Handler) patch(ops resourceOps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := h.decodeBody(w, r)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		pops, err := parsePatch(body)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		res, err := ops.patch(r.Context(), principal(r), chi.URLParam(r, "id"), pops, precondition(r))
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		if !wantsBody(r, ops.patchBody) {
			w.Header().Set("ETag", res.ETag())
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.writeFresh(w, r, ops, res)
	}
}

// writeFresh renders a patched resource; groups are re-read with members
// when the response is to show them.
func (h *Handler) writeFresh(w http.ResponseWriter, r *http.Request, ops resourceOps, res *directory.Resource) {
	proj := queryProjection(ops.rt, r)
	if !ops.patchBody && proj.wants("members") {
		fresh, err := ops.get(r.Context(), principal(r), res.ID, true)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		res = fresh
	}
	h.writeResource(w, r, http.StatusOK, res, proj)
}

func wantsBody(r *http.Request, byDefault bool) bool {
	prefer := strings.ToLower(strings.Join(r.Header.Values("Prefer"), ","))
	q := r.URL.Query()
	switch {
	case strings.Contains(prefer, "return=minimal"):
		return false
	case strings.Contains(prefer, "return=representation"), q.Has("attributes"), q.Has("excludedAttributes"):
		return true
	}
	return byDefault
}

// parsePatch reads a PatchOp body: "Operations" (any case) with op, path
// and value each.
func parsePatch(body map[string]any) ([]directory.PatchOp, error) {
	raw, ok := lookupFold(body, "Operations")
	list, isList := raw.([]any)
	if !ok || !isList || len(list) == 0 {
		return nil, scimError(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax,
			"A PATCH body needs \"Operations\": a non-empty list of {\"op\", \"path\", \"value\"} (schema %s).", PatchOpURN)
	}
	out := make([]directory.PatchOp, 0, len(list))
	for i, el := range list {
		m, ok := el.(map[string]any)
		if !ok {
			return nil, scimError(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, "Operations[%d] must be an object.", i)
		}
		op, _ := lookupFold(m, "op")
		path, _ := lookupFold(m, "path")
		value, _ := lookupFold(m, "value")
		opStr, ok1 := op.(string)
		pathStr, ok2 := path.(string)
		if !ok1 || (path != nil && !ok2) {
			return nil, scimError(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, "Operations[%d] needs \"op\" as a string and \"path\", if any, as a string.", i)
		}
		out = append(out, directory.PatchOp{Op: opStr, Path: pathStr, Value: value})
	}
	return out, nil
}

func lookupFold(m map[string]any, key string) (any, bool) {
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// precondition reads If-Match.
func precondition(r *http.Request) directory.Precondition {
	return directory.Precondition{IfMatch: strings.Join(r.Header.Values("If-Match"), ",")}
}

// notModified reports whether If-None-Match names the resource's version.
func notModified(r *http.Request, res *directory.Resource) bool {
	h := strings.TrimSpace(strings.Join(r.Header.Values("If-None-Match"), ","))
	if h == "" {
		return false
	}
	if h == "*" {
		return true
	}
	for _, tag := range strings.Split(h, ",") {
		if v, ok := directory.ParseETag(tag); ok && v == res.Version {
			return true
		}
	}
	return false
}
