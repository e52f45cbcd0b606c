package scim

import (
	"context"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
)

// resourceOps adapts one resource type's service methods to the generic
// handlers below.
type resourceOps struct {
	create  func(context.Context, policy.Principal, map[string]any) (*directory.Resource, error)
	get     func(context.Context, policy.Principal, string) (*directory.Resource, error)
	replace func(context.Context, policy.Principal, string, map[string]any) (*directory.Resource, error)
	remove  func(context.Context, policy.Principal, string) error
	list    func(context.Context, policy.Principal, directory.Page) (*directory.List, error)
}

func userOps(s *directory.Service) resourceOps {
	return resourceOps{create: s.CreateUser, get: s.GetUser, replace: s.ReplaceUser, remove: s.DeleteUser, list: s.ListUsers}
}

func groupOps(s *directory.Service) resourceOps {
	return resourceOps{
		create: s.CreateGroup,
		get: func(ctx context.Context, p policy.Principal, id string) (*directory.Resource, error) {
			return s.GetGroup(ctx, p, id, true)
		},
		replace: s.ReplaceGroup,
		remove:  s.DeleteGroup,
		list: func(ctx context.Context, p policy.Principal, pg directory.Page) (*directory.List, error) {
			return s.ListGroups(ctx, p, pg, true)
		},
	}
}

func (h *Handler) resourceRoutes(r chi.Router, prefix string, ops resourceOps) {
	r.Route(prefix, func(r chi.Router) {
		r.Get("/", h.list(ops))
		r.Post("/", h.create(ops))
		r.Get("/{id}", h.get(ops))
		r.Put("/{id}", h.replace(ops))
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
		h.writeResource(w, r, http.StatusCreated, res)
	}
}

func (h *Handler) get(ops resourceOps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		res, err := ops.get(r.Context(), principal(r), chi.URLParam(r, "id"))
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		h.writeResource(w, r, http.StatusOK, res)
	}
}

func (h *Handler) replace(ops resourceOps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := h.decodeBody(w, r)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		res, err := ops.replace(r.Context(), principal(r), chi.URLParam(r, "id"), body)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		h.writeResource(w, r, http.StatusOK, res)
	}
}

func (h *Handler) remove(ops resourceOps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := ops.remove(r.Context(), principal(r), chi.URLParam(r, "id")); err != nil {
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
		list, err := ops.list(r.Context(), principal(r), directory.Page{Offset: params.startIndex - 1, Count: params.count})
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		h.writeList(w, r, params.startIndex, list)
	}
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
