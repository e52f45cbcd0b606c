package scim

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/schema"
)

// ListResponseURN is the schema of list responses.
const ListResponseURN = "urn:ietf:params:scim:api:messages:2.0:ListResponse"

// BasePath is where the SCIM handler is mounted.
const BasePath = "/scim/v2"

// render builds the wire form of a resource: schemas, id, the document,
// computed $ref values and meta. It never mutates res's document.
func (h *Handler) render(r *http.Request, res *directory.Resource) (map[string]any, error) {
	doc, err := res.Document()
	if err != nil {
		return nil, err
	}
	base := h.baseURL(r)
	out := make(map[string]any, len(doc)+3)
	for k, v := range doc {
		out[k] = v
	}
	urns := []string{res.Type.Schema.ID}
	for _, ext := range res.Type.Extensions {
		if _, ok := doc[ext.Schema.ID]; ok {
			urns = append(urns, ext.Schema.ID)
		}
	}
	stripNever(res.Type, out)
	out["schemas"] = urns
	out["id"] = res.ID
	addRefs(base, out)
	out["meta"] = map[string]any{
		"resourceType": res.Type.Name,
		"created":      res.Created.Format(time.RFC3339Nano),
		"lastModified": res.LastModified.Format(time.RFC3339Nano),
		"location":     location(base, res),
		"version":      res.ETag(),
	}
	return out, nil
}

// location is the resource's URL.
func location(base string, res *directory.Resource) string {
	return base + res.Type.Endpoint + "/" + res.ID
}

// encodeResource is the JSON of a resource as shown under proj: copied
// from the stored document where it can be (appendRaw), else rendered and
// projected.
func (h *Handler) encodeResource(r *http.Request, res *directory.Resource, proj projection) ([]byte, error) {
	if out, ok := appendRaw(make([]byte, 0, len(res.Raw)+512), h.baseURL(r), res, proj); ok {
		return out, nil
	}
	body, err := h.render(r, res)
	if err != nil {
		return nil, err
	}
	return json.Marshal(proj.apply(res.Type, body))
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
	body, err := h.encodeResource(r, res, proj)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", res.ETag())
	if status == http.StatusCreated {
		w.Header().Set("Location", location(h.baseURL(r), res))
	}
	writeRawJSON(w, status, body)
}

// writeList renders a list response: startIndex in index paging, and
// nextCursor (while more results remain) in cursor paging.
func (h *Handler) writeList(w http.ResponseWriter, r *http.Request, params listParams, binding string, offset int, list *directory.List, proj projection) {
	resources, err := h.encodeResources(r, list, func(*directory.Resource) projection { return proj })
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.writeListBody(w, params, binding, offset, list.Total, resources)
}

// encodeResources encodes each resource of a list under the projection
// projOf gives for it.
func (h *Handler) encodeResources(r *http.Request, list *directory.List, projOf func(*directory.Resource) projection) ([][]byte, error) {
	resources := make([][]byte, len(list.Resources))
	for i, res := range list.Resources {
		body, err := h.encodeResource(r, res, projOf(res))
		if err != nil {
			return nil, err
		}
		resources[i] = body
	}
	return resources, nil
}

func (h *Handler) writeListBody(w http.ResponseWriter, params listParams, binding string, offset, total int, resources [][]byte) {
	size := 128
	for _, r := range resources {
		size += len(r) + 1
	}
	buf := make([]byte, 0, size)
	buf = append(buf, `{"schemas":[`...)
	buf = appendString(buf, ListResponseURN)
	buf = append(buf, `],"totalResults":`...)
	buf = strconv.AppendInt(buf, int64(total), 10)
	buf = append(buf, `,"itemsPerPage":`...)
	buf = strconv.AppendInt(buf, int64(len(resources)), 10)
	if params.cursor == nil {
		buf = append(buf, `,"startIndex":`...)
		buf = strconv.AppendInt(buf, int64(offset+1), 10)
	} else if next := offset + len(resources); next < total && len(resources) > 0 {
		buf = append(buf, `,"nextCursor":`...)
		buf = appendString(buf, h.cursors.encode(binding, next))
	}
	buf = append(buf, `,"Resources":[`...)
	for i, r := range resources {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, r...)
	}
	writeRawJSON(w, http.StatusOK, append(buf, "]}"...))
}
