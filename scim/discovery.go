package scim

import (
	"net/http"
	"strings"

	elschema "github.com/elimity-com/scim/schema"
	"github.com/go-chi/chi/v5"
	"github.com/scimbridge/scimbridge/internal/schema"
)

// Discovery schema URNs (RFC 7643 §5-7).
const (
	spcURN          = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	resourceTypeURN = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
)

// serviceProviderConfig describes exactly what this server supports; each
// feature flips to true in the change that implements it.
func (h *Handler) serviceProviderConfig(w http.ResponseWriter, r *http.Request) {
	base := h.baseURL(r)
	writeJSON(w, http.StatusOK, map[string]any{
		"schemas":          []string{spcURN},
		"documentationUri": "https://github.com/scimbridge/scimbridge#readme",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": true, "maxOperations": h.cfg.BulkMaxOperations, "maxPayloadSize": h.cfg.BulkMaxPayload},
		"filter":           map[string]any{"supported": true, "maxResults": h.cfg.MaxResults},
		"changePassword":   map[string]any{"supported": false},
		"sort":             map[string]any{"supported": true},
		"pagination": map[string]any{
			"cursor": true, "index": true, "defaultPaginationMethod": "index",
			"defaultPageSize": h.cfg.MaxResults, "maxPageSize": h.cfg.MaxResults,
			"cursorTimeout": int(h.cfg.CursorTTL.Seconds()),
		},
		"etag": map[string]any{"supported": true},
		"authenticationSchemes": []any{map[string]any{
			"type": "oauthbearertoken", "name": "Bearer token", "primary": true,
			"description": "A provisioning secret (from `scimbridge token create`) sent as 'Authorization: Bearer <secret>' or as the bare header value, or an OIDC access token from a trusted issuer as 'Authorization: Bearer <jwt>'.",
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": base + "/ServiceProviderConfig"},
	})
}

func (h *Handler) schemaBody(r *http.Request, s elschema.Schema) map[string]any {
	m := s.ToMap()
	m["meta"] = map[string]any{"resourceType": "Schema", "location": h.baseURL(r) + "/Schemas/" + s.ID}
	return m
}

// discoveryItem is one schema or resource type as served on discovery.
type discoveryItem struct {
	id   string
	body func(r *http.Request) map[string]any
}

// itemsFunc lists the discovery items a request sees: its tenant's
// schemas and resource types (the organisation extension appears only for
// tenants with organisation fields).
type itemsFunc func(r *http.Request) ([]discoveryItem, error)

func (h *Handler) schemaItems(r *http.Request) ([]discoveryItem, error) {
	reg, err := h.svc.TenantRegistry(r.Context(), principal(r))
	if err != nil {
		return nil, err
	}
	var out []discoveryItem
	for _, s := range reg.Schemas() {
		out = append(out, discoveryItem{s.ID, func(r *http.Request) map[string]any { return h.schemaBody(r, s) }})
	}
	return out, nil
}

func (h *Handler) resourceTypeItems(r *http.Request) ([]discoveryItem, error) {
	reg, err := h.svc.TenantRegistry(r.Context(), principal(r))
	if err != nil {
		return nil, err
	}
	var out []discoveryItem
	for _, rt := range reg.ResourceTypes() {
		out = append(out, discoveryItem{rt.Name, func(r *http.Request) map[string]any { return h.resourceTypeBody(r, rt) }})
	}
	return out, nil
}

// discoveryList answers the list of items.
func (h *Handler) discoveryList(items itemsFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		list, err := items(r)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		var out []any
		for _, it := range list {
			out = append(out, it.body(r))
		}
		writeStaticList(w, out)
	}
}

// discoveryOne answers the item named by {id}, in any case, or 404.
func (h *Handler) discoveryOne(what string, items itemsFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := chi.URLParam(r, "id")
		list, err := items(r)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		for _, it := range list {
			if strings.EqualFold(it.id, id) {
				writeJSON(w, http.StatusOK, it.body(r))
				return
			}
		}
		h.writeError(w, r, scimError(http.StatusNotFound, "", "%s %q is not served here.", what, truncate(id, 120)))
	}
}

func (h *Handler) resourceTypeBody(r *http.Request, rt *schema.ResourceType) map[string]any {
	exts := []any{}
	for _, e := range rt.Extensions {
		exts = append(exts, map[string]any{"schema": e.Schema.ID, "required": e.Required})
	}
	return map[string]any{
		"schemas": []string{resourceTypeURN}, "id": rt.Name, "name": rt.Name,
		"endpoint": rt.Endpoint, "description": rt.Description, "schema": rt.Schema.ID,
		"schemaExtensions": exts,
		"meta":             map[string]any{"resourceType": "ResourceType", "location": h.baseURL(r) + "/ResourceTypes/" + rt.Name},
	}
}

func writeStaticList(w http.ResponseWriter, items []any) {
	writeJSON(w, http.StatusOK, map[string]any{
		"schemas": []string{ListResponseURN}, "totalResults": len(items), "startIndex": 1,
		"itemsPerPage": len(items), "Resources": items,
	})
}
