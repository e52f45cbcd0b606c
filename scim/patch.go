package scim

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/scimbridge/scimbridge/internal/directory"
)

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
		pops, err := directory.ParsePatchBody(body)
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
	if !ops.patchBody && proj.Wants("members") {
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
