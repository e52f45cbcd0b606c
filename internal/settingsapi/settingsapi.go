// Package settingsapi serves a tenant's settings over HTTP under
// /settings, behind the one authentication middleware (internal/authn):
//
//	GET   /settings          the caller's tenant's settings (any tier); ETag W/"<version>"
//	PUT   /settings          replace them (tier 3); If-Match: W/"<version>" optional
//	PATCH /settings          replace only the top-level fields the body names (tier 3)
//	POST  /settings/roles    {"roles": [...]}: add missing roles to the catalogue (tier 1)
//	GET   /settings/outbox   outgoing e-mail, newest first (tier 2); ?state=&before=&limit=
//
// Bodies are JSON (directory.TenantSettings); unknown fields are refused,
// so a misspelt field never silently does nothing. Errors are SCIM error
// bodies (application/scim+json), as on /scim/v2 and /csv. Client is the
// matching Go client (the CLI's `scimbridge settings`).
package settingsapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/go-chi/chi/v5"
	"github.com/scimbridge/scimbridge/internal/apiwire"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
)

// MaxBody is the largest accepted request body.
const MaxBody = 1 << 20

// Handler serves /settings.
type Handler struct {
	svc    *directory.Service
	log    *slog.Logger
	router chi.Router
}

// New returns the handler; mount it at /settings behind the
// authentication middleware.
func New(svc *directory.Service, log *slog.Logger) *Handler {
	h := &Handler{svc: svc, log: log, router: chi.NewRouter()}
	r := h.router
	r.Get("/", h.get)
	r.Put("/", h.put)
	r.Patch("/", h.patch)
	r.Post("/roles", h.roles)
	r.Get("/outbox", h.outbox)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, apiwire.Problem(http.StatusNotFound, "", "There is no settings endpoint %s; use /settings, /settings/roles or /settings/outbox.", r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, apiwire.Problem(http.StatusMethodNotAllowed, "", "%s is not supported on /settings%s.", r.Method, r.URL.Path))
	})
	return h
}

// ServeHTTP serves a request below /settings (the prefix stripped).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "" {
		r.URL.Path = "/"
	}
	h.router.ServeHTTP(w, r)
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	p, ok := h.principal(w, r)
	if !ok {
		return
	}
	ts, err := h.svc.Settings(r.Context(), p)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeSettings(w, ts)
}

func (h *Handler) put(w http.ResponseWriter, r *http.Request) {
	var next directory.TenantSettings
	h.update(w, r, func(body []byte, ts *directory.TenantSettings) error {
		if err := decodeStrict(body, &next); err != nil {
			return err
		}
		v := ts.Version
		*ts = next
		ts.Version = v
		return nil
	})
}

func (h *Handler) patch(w http.ResponseWriter, r *http.Request) {
	h.update(w, r, func(body []byte, ts *directory.TenantSettings) error {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(body, &fields); err != nil {
			return badJSON(err)
		}
		for name, raw := range fields {
			if err := setField(ts, name, raw); err != nil {
				return err
			}
		}
		return nil
	})
}

// setField decodes raw into the top-level field name of ts.
func setField(ts *directory.TenantSettings, name string, raw json.RawMessage) error {
	targets := map[string]any{"sources": &ts.Sources, "roles": &ts.Roles, "offices": &ts.Offices,
		"orgFields": &ts.OrgFields, "notifications": &ts.Notifications}
	dst, ok := targets[name]
	if !ok {
		return apiwire.Problem(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax,
			"Unknown settings field %q; the fields are sources, roles, offices, orgFields and notifications.", truncate(name, 60))
	}
	if err := decodeStrict(raw, dst); err != nil {
		return apiwire.Problem(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, "Field %q: %s", name, detailOf(err))
	}
	return nil
}

// update reads the body and If-Match, then changes the settings with
// apply inside the service's transaction.
func (h *Handler) update(w http.ResponseWriter, r *http.Request, apply func(body []byte, ts *directory.TenantSettings) error) {
	p, ok := h.principal(w, r)
	if !ok {
		return
	}
	want, err := ifMatch(r.Header.Get("If-Match"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ts, err := h.svc.UpdateSettings(r.Context(), p, func(ts *directory.TenantSettings) error {
		if want >= 0 && ts.Version != want {
			return apiwire.Problem(http.StatusPreconditionFailed, "", "The settings changed since version %d (they are at version %d); read them again and retry.", want, ts.Version)
		}
		return apply(body, ts)
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeSettings(w, ts)
}

func (h *Handler) roles(w http.ResponseWriter, r *http.Request) {
	p, ok := h.principal(w, r)
	if !ok {
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var in struct {
		Roles []string `json:"roles"`
	}
	if err := decodeStrict(body, &in); err != nil {
		h.fail(w, r, err)
		return
	}
	added, err := h.svc.EnsureRoles(r.Context(), p, in.Roles)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	apiwire.WriteJSON(w, http.StatusOK, map[string]any{"added": added})
}

func (h *Handler) outbox(w http.ResponseWriter, r *http.Request) {
	p, ok := h.principal(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	oq := directory.OutboxQuery{State: q.Get("state"), Before: q.Get("before")}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			h.fail(w, r, apiwire.Problem(http.StatusBadRequest, scimerrors.ScimTypeInvalidValue, "limit must be a positive integer (at most %d).", directory.MaxOutboxPage))
			return
		}
		oq.Limit = n
	}
	msgs, err := h.svc.Outbox(r.Context(), p, oq)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	apiwire.WriteJSON(w, http.StatusOK, map[string]any{"messages": msgs})
}

// ifMatch parses If-Match: -1 when absent or "*", else the version of a
// W/"n" (or "n") entity tag.
func ifMatch(h string) (int64, error) {
	h = strings.TrimSpace(h)
	if h == "" || h == "*" {
		return -1, nil
	}
	v, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(h, "W/"), `"`), 10, 64)
	if err != nil || v < 0 {
		return 0, apiwire.Problem(http.StatusBadRequest, scimerrors.ScimTypeInvalidValue, `If-Match must be the ETag of the settings, e.g. W/"3".`)
	}
	return v, nil
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, apiwire.Problem(http.StatusRequestEntityTooLarge, scimerrors.ScimTypeTooMany, "The body is larger than %d bytes.", MaxBody)
	case err != nil:
		return nil, apiwire.Problem(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, "The body could not be read.")
	}
	return b, nil
}

// decodeStrict decodes one JSON value, refusing unknown fields.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badJSON(err)
	}
	if dec.More() {
		return apiwire.Problem(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, "The body holds more than one JSON value.")
	}
	return nil
}

func badJSON(err error) error {
	return apiwire.Problem(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, "The body is not valid settings JSON: %s.", detailOf(err))
}

// detailOf is an error's text for a client: a JSON decoding error says
// what was wrong where.
func detailOf(err error) string {
	var se scimerrors.ScimError
	if errors.As(err, &se) {
		return se.Detail
	}
	return truncate(strings.TrimPrefix(err.Error(), "json: "), 200)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func writeSettings(w http.ResponseWriter, ts directory.TenantSettings) {
	w.Header().Set("ETag", fmt.Sprintf(`W/"%d"`, ts.Version))
	apiwire.WriteJSON(w, http.StatusOK, ts)
}

// principal is the request's caller; the middleware always sets one.
func (h *Handler) principal(w http.ResponseWriter, r *http.Request) (policy.Principal, bool) {
	return apiwire.Principal(w, r, h.log, "settings")
}

// fail writes err as a SCIM error body (apiwire.Fail).
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	apiwire.Fail(w, r, h.log, "settings", err)
}
