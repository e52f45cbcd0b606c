package scim

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/jsondoc"
	"github.com/scimbridge/scimbridge/internal/store"
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
	directory.StripNever(res.Type, out)
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

// appendResource appends the JSON of a resource as shown under proj to
// buf: copied from the stored document where it can be (appendRaw), else
// rendered and projected.
func (h *Handler) appendResource(buf []byte, r *http.Request, res *directory.Resource, proj directory.Projection) ([]byte, error) {
	if out, ok := appendRaw(buf, h.baseURL(r), res, proj); ok {
		return out, nil
	}
	body, err := h.render(r, res)
	if err != nil {
		return buf, err
	}
	enc, err := json.Marshal(proj.Apply(res.Type, body))
	return append(buf, enc...), err
}

// bodyBuffers recycles response bodies: most are a few KB, written once.
var bodyBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// maxPooledBody is the largest buffer kept for reuse (a large list page
// is not worth holding on to).
const maxPooledBody = 256 << 10

func getBody() *[]byte { return bodyBuffers.Get().(*[]byte) }

func putBody(b *[]byte) {
	if cap(*b) <= maxPooledBody {
		*b = (*b)[:0]
		bodyBuffers.Put(b)
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

func (h *Handler) writeResource(w http.ResponseWriter, r *http.Request, status int, res *directory.Resource, proj directory.Projection) {
	bp := getBody()
	defer putBody(bp)
	body, err := h.appendResource(*bp, r, res, proj)
	*bp = body
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

// listPage says where a list page sits: its query, cursor binding and
// offset, and whether its next cursor may continue after its last row
// (single-type lists in the default order).
type listPage struct {
	params  listParams
	binding string
	offset  int
	keyset  bool
	more    bool // keyset pages: another page follows
}

// writeList renders a list response: startIndex in index paging, and
// nextCursor (while more results remain) in cursor paging. projOf gives
// each resource's projection.
func (h *Handler) writeList(w http.ResponseWriter, r *http.Request, page listPage, list *directory.List,
	projOf func(*directory.Resource) directory.Projection) {
	params, offset := page.params, page.offset
	bp := getBody()
	defer putBody(bp)
	n := len(list.Resources)
	buf := append(*bp, `{"schemas":[`...)
	buf = jsondoc.AppendString(buf, ListResponseURN)
	buf = append(buf, `],"totalResults":`...)
	buf = strconv.AppendInt(buf, int64(list.Total), 10)
	buf = append(buf, `,"itemsPerPage":`...)
	buf = strconv.AppendInt(buf, int64(n), 10)
	if params.cursor == nil {
		buf = append(buf, `,"startIndex":`...)
		buf = strconv.AppendInt(buf, int64(offset+1), 10)
	} else if next := offset + n; n > 0 && (page.more || (!page.keyset && next < list.Total)) {
		buf = append(buf, `,"nextCursor":`...)
		var after *store.Key
		if page.keyset {
			last := list.Resources[n-1]
			after = &store.Key{Created: last.Created, ID: last.ID}
		}
		buf = jsondoc.AppendString(buf, h.cursors.encode(page.binding, next, after))
	}
	buf = append(buf, `,"Resources":[`...)
	for i, res := range list.Resources {
		if i > 0 {
			buf = append(buf, ',')
		}
		var err error
		if buf, err = h.appendResource(buf, r, res, projOf(res)); err != nil {
			*bp = buf
			h.writeError(w, r, err)
			return
		}
	}
	*bp = append(buf, "]}"...)
	writeRawJSON(w, http.StatusOK, *bp)
}
