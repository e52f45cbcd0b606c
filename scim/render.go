package scim

import (
	"net/http"
	"time"

	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/schema"
)

// ListResponseURN is the schema of list responses.
const ListResponseURN = "urn:ietf:params:scim:api:messages:2.0:ListResponse"

// BasePath is where the SCIM handler is mounted.
const BasePath = "/scim/v2"

// render builds the wire form of a resource: schemas, id, the document,
// computed $ref values and meta. It never mutates res.
func (h *Handler) render(r *http.Request, res *directory.Resource) map[string]any {
	base := h.baseURL(r)
	out := make(map[string]any, len(res.Doc)+3)
	for k, v := range res.Doc {
		out[k] = v
	}
	urns := []string{res.Type.Schema.ID}
	for _, ext := range res.Type.Extensions {
		if _, ok := res.Doc[ext.Schema.ID]; ok {
			urns = append(urns, ext.Schema.ID)
		}
	}
	stripNever(res.Type, out)
	out["schemas"] = urns
	out["id"] = res.ID
	addRefs(base, out)
	location := base + res.Type.Endpoint + "/" + res.ID
	out["meta"] = map[string]any{
		"resourceType": res.Type.Name,
		"created":      res.Created.Format(time.RFC3339Nano),
		"lastModified": res.LastModified.Format(time.RFC3339Nano),
		"location":     location,
		"version":      res.ETag(),
	}
	return out
}

// stripNever removes attributes whose returned characteristic is "never".
func stripNever(rt *schema.ResourceType, out map[string]any) {
	for _, a := range rt.Schema.Attributes {
		if a.Returned() == "never" {
			delete(out, a.Name())
		}
	}
}

// addRefs adds $ref to group members and user groups, copying the lists.
func addRefs(base string, out map[string]any) {
	for _, attr := range []string{"members", "groups"} {
		list, ok := out[attr].([]any)
		if !ok {
			continue
		}
		withRefs := make([]any, len(list))
		for i, el := range list {
			m, _ := el.(map[string]any)
			c := make(map[string]any, len(m)+1)
			for k, v := range m {
				c[k] = v
			}
			endpoint := "/Users/"
			if m["type"] == "Group" || attr == "groups" {
				endpoint = "/Groups/"
			}
			c["$ref"] = base + endpoint + m["value"].(string)
			withRefs[i] = c
		}
		out[attr] = withRefs
	}
}

func (h *Handler) writeResource(w http.ResponseWriter, r *http.Request, status int, res *directory.Resource, proj projection) {
	body := h.render(r, res)
	location := body["meta"].(map[string]any)["location"].(string)
	proj.apply(res.Type, body)
	w.Header().Set("ETag", res.ETag())
	if status == http.StatusCreated {
		w.Header().Set("Location", location)
	}
	writeJSON(w, status, body)
}

// writeList renders a list response: startIndex in index paging, and
// nextCursor (while more results remain) in cursor paging.
func (h *Handler) writeList(w http.ResponseWriter, r *http.Request, params listParams, binding string, offset int, list *directory.List, proj projection) {
	resources := make([]any, len(list.Resources))
	for i, res := range list.Resources {
		resources[i] = proj.apply(res.Type, h.render(r, res))
	}
	h.writeListBody(w, params, binding, offset, list.Total, resources)
}

func (h *Handler) writeListBody(w http.ResponseWriter, params listParams, binding string, offset, total int, resources []any) {
	body := map[string]any{
		"schemas":      []string{ListResponseURN},
		"totalResults": total,
		"itemsPerPage": len(resources),
		"Resources":    resources,
	}
	if params.cursor == nil {
		body["startIndex"] = offset + 1
	} else if next := offset + len(resources); next < total && len(resources) > 0 {
		body["nextCursor"] = h.cursors.encode(binding, next)
	}
	writeJSON(w, http.StatusOK, body)
}
