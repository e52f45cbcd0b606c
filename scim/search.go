package scim

import (
	"net/http"

	"github.com/scimbridge/scimbridge/internal/directory"
)

// rootSearch is POST /.search: one filter over Users and Groups. Results
// list the matching users first, then the groups, each in the requested
// order. An attribute only one resource type has (userName) is absent on
// the other; a filter invalid for both types is an error.
func (h *Handler) rootSearch(w http.ResponseWriter, r *http.Request) {
	params, err := h.searchParams(w, r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	binding := cursorBinding(principal(r).Tenant, "root", params)
	offset, _, err := h.offset(binding, params) // mixed types: offset paging only
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	list, proj, err := h.searchBoth(r, params, offset)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.writeMixedList(w, r, params, binding, offset, list, proj)
}

type typedProjection map[string]directory.Projection

func (h *Handler) searchBoth(r *http.Request, params listParams, offset int) (*directory.List, typedProjection, error) {
	all := []resourceOps{userOps(h.svc), groupOps(h.svc)}
	if err := h.checkRootFilter(r, all, params.filter); err != nil {
		return nil, nil, err
	}
	out := &directory.List{Resources: []*directory.Resource{}}
	projs := typedProjection{}
	remaining, skip := params.count, offset
	for _, ops := range all {
		proj := directory.ParseProjection(ops.rt, params.attributes, params.excluded)
		projs[ops.rt.Name] = proj
		q := directory.ListQuery{Lenient: true, Filter: params.filter, SortBy: params.sortBy, Descending: params.descending}
		total, err := h.count(r, ops, q)
		if err != nil {
			return nil, nil, err
		}
		q.Offset, q.Count = skip, remaining
		if err := h.appendPage(r, ops, q, proj, out); err != nil {
			return nil, nil, err
		}
		out.Total += total
		remaining -= min(max(total-skip, 0), remaining)
		skip = max(skip-total, 0)
	}
	return out, projs, nil
}

// checkRootFilter fails when the filter is invalid for every resource type.
func (h *Handler) checkRootFilter(r *http.Request, all []resourceOps, f string) error {
	var first error
	for _, ops := range all {
		err := h.svc.CheckFilter(r.Context(), principal(r), ops.rt.Name, f)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}

func (h *Handler) count(r *http.Request, ops resourceOps, q directory.ListQuery) (int, error) {
	list, err := ops.list(r.Context(), principal(r), q, false)
	if err != nil {
		return 0, err
	}
	return list.Total, nil
}

func (h *Handler) appendPage(r *http.Request, ops resourceOps, q directory.ListQuery, proj directory.Projection, out *directory.List) error {
	if q.Count <= 0 {
		return nil
	}
	list, err := ops.list(r.Context(), principal(r), q, proj.Wants("members"))
	if err != nil {
		return err
	}
	out.Resources = append(out.Resources, list.Resources...)
	return nil
}

func (h *Handler) writeMixedList(w http.ResponseWriter, r *http.Request, params listParams, binding string, offset int, list *directory.List, projs typedProjection) {
	page := listPage{params: params, binding: binding, offset: offset}
	h.writeList(w, r, page, list, func(res *directory.Resource) directory.Projection { return projs[res.Type.Name] })
}
