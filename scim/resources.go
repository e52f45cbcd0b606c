package scim

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

// resourceOps adapts one resource type's service methods to the generic
// handlers below. withMembers is false when the response will not show
// group members, so they are never read.
type resourceOps struct {
	rt      *schema.ResourceType
	create  func(context.Context, policy.Principal, map[string]any) (*directory.Resource, error)
	get     func(ctx context.Context, p policy.Principal, id string, withMembers bool) (*directory.Resource, error)
	replace func(context.Context, policy.Principal, string, map[string]any, directory.Precondition) (*directory.Resource, error)
	patch   func(context.Context, policy.Principal, string, []directory.PatchOp, directory.Precondition) (*directory.Resource, error)
	remove  func(context.Context, policy.Principal, string, directory.Precondition) error
	// patchBody says whether a PATCH answers 200 with the resource by
	// default (users) or 204 (groups, whose member lists can be huge).
	patchBody bool
	list      func(ctx context.Context, p policy.Principal, q directory.ListQuery, withMembers bool) (*directory.List, error)
}

func userOps(s *directory.Service) resourceOps {
	return resourceOps{
		rt:     s.Registry().User,
		create: s.CreateUser,
		get: func(ctx context.Context, p policy.Principal, id string, _ bool) (*directory.Resource, error) {
			return s.GetUser(ctx, p, id)
		},
		replace:   s.ReplaceUser,
		patch:     s.PatchUser,
		remove:    s.DeleteUser,
		patchBody: true,
		list: func(ctx context.Context, p policy.Principal, q directory.ListQuery, _ bool) (*directory.List, error) {
			return s.ListUsers(ctx, p, q)
		},
	}
}

func groupOps(s *directory.Service) resourceOps {
	return resourceOps{rt: s.Registry().Group, create: s.CreateGroup, get: s.GetGroup,
		replace: s.ReplaceGroup, patch: s.PatchGroup, remove: s.DeleteGroup, list: s.ListGroups}
}

func (h *Handler) resourceRoutes(r chi.Router, prefix string, ops resourceOps) {
	r.Route(prefix, func(r chi.Router) {
		r.Get("/", h.list(ops))
		r.Post("/", h.create(ops))
		r.Post("/.search", h.search(ops))
		r.Get("/{id}", h.get(ops))
		r.Put("/{id}", h.replace(ops))
		r.Patch("/{id}", h.patch(ops))
		r.Delete("/{id}", h.remove(ops))
	})
}

func (h *Handler) create(ops resourceOps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := h.decodeBody(w, r)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		res, err := ops.create(r.Context(), principal(r), body)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		h.writeResource(w, r, http.StatusCreated, res, queryProjection(ops.rt, r))
	}
}

func (h *Handler) get(ops resourceOps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		proj := queryProjection(ops.rt, r)
		res, err := ops.get(r.Context(), principal(r), chi.URLParam(r, "id"), proj.Wants("members"))
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		if notModified(r, res) {
			w.Header().Set("ETag", res.ETag())
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.writeResource(w, r, http.StatusOK, res, proj)
	}
}

func (h *Handler) replace(ops resourceOps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := h.decodeBody(w, r)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		res, err := ops.replace(r.Context(), principal(r), chi.URLParam(r, "id"), body, precondition(r))
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		h.writeResource(w, r, http.StatusOK, res, queryProjection(ops.rt, r))
	}
}

func (h *Handler) remove(ops resourceOps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := ops.remove(r.Context(), principal(r), chi.URLParam(r, "id"), precondition(r)); err != nil {
			h.writeError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

func (h *Handler) list(ops resourceOps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		params, err := parseListParams(r.URL.Query(), h.cfg.MaxResults)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		h.runList(w, r, ops, params)
	}
}

func (h *Handler) search(ops resourceOps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		params, err := h.searchParams(w, r)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		h.runList(w, r, ops, params)
	}
}

// searchParams reads the SearchRequest body of a .search POST.
func (h *Handler) searchParams(w http.ResponseWriter, r *http.Request) (listParams, error) {
	body, err := h.decodeBody(w, r)
	if err != nil {
		return listParams{}, err
	}
	return parseSearch(body, h.cfg.MaxResults)
}

// runList answers a list or search on one resource type.
func (h *Handler) runList(w http.ResponseWriter, r *http.Request, ops resourceOps, params listParams) {
	binding := cursorBinding(principal(r).Tenant, ops.rt.Name, params)
	offset, after, err := h.offset(binding, params)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	proj := directory.ParseProjection(ops.rt, params.attributes, params.excluded)
	q := directory.ListQuery{Filter: params.filter, SortBy: params.sortBy, Descending: params.descending, Offset: offset,
		Count: params.count, After: after}
	page := listPage{params: params, binding: binding, offset: offset, keyset: params.cursor != nil && params.sortBy == ""}
	if page.keyset && q.Count > 0 {
		q.Count++ // one row more tells whether another page follows
	}
	list, err := ops.list(r.Context(), principal(r), q, proj.Wants("members"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if page.keyset && len(list.Resources) > params.count {
		list.Resources, page.more = list.Resources[:params.count], true
	}
	h.writeList(w, r, page, list, func(*directory.Resource) directory.Projection { return proj })
}

// offset is where the page starts: startIndex-1, or the cursor's offset
// and the row it continues after.
func (h *Handler) offset(binding string, params listParams) (int, *store.Key, error) {
	if params.cursor == nil {
		return params.startIndex - 1, nil, nil
	}
	return h.cursors.decode(binding, *params.cursor)
}

// cursorBinding ties a cursor to the tenant and the query it pages.
func cursorBinding(tenant, resource string, p listParams) string {
	return strings.Join([]string{tenant, resource, p.filter, strings.ToLower(p.sortBy), fmt.Sprint(p.descending)}, "\x00")
}

// queryProjection reads attributes/excludedAttributes from the URL.
func queryProjection(rt *schema.ResourceType, r *http.Request) directory.Projection {
	q := r.URL.Query()
	return directory.ParseProjection(rt, q["attributes"], q["excludedAttributes"])
}

// baseURL is the public URL of the SCIM base for locations and $ref.
func (h *Handler) baseURL(r *http.Request) string {
	if h.cfg.BaseURL != "" {
		return strings.TrimRight(h.cfg.BaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
		scheme = p
	}
	return scheme + "://" + r.Host + "/scim/v2"
}
