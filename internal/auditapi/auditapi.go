// Package auditapi serves the audit log over HTTP: GET /audit/events, as
// JSON or as CSV, filtered by time window, actor and resource. Reading it
// needs the audit.read tier (2 and up); events are those of the caller's
// tenant.
package auditapi

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/csvbridge"
	"github.com/scimbridge/scimbridge/internal/authn"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/store"
)

// Handler serves the audit log.
type Handler struct {
	svc *directory.Service
}

// New returns the handler; mount it at /audit behind the authentication
// middleware (internal/authn), whose principal it reads.
func New(svc *directory.Service) *Handler { return &Handler{svc: svc} }

// ServeHTTP answers GET /audit/events?since=&until=&actor=&resource=&limit=&offset=&format=csv.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || strings.TrimSuffix(r.URL.Path, "/") != "/events" {
		writeError(w, http.StatusNotFound, "Use GET /audit/events.")
		return
	}
	p, ok := authn.Principal(r.Context())
	if !ok {
		writeError(w, http.StatusUnauthorized, "Authentication failed: the request was not authenticated.")
		return
	}
	q, err := parseQuery(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	evs, err := h.svc.AuditEvents(r.Context(), p, q)
	var se scimerrors.ScimError
	switch {
	case errors.As(err, &se):
		writeError(w, se.Status, se.Detail)
	case err != nil:
		writeError(w, http.StatusInternalServerError, "An internal error occurred; it has been logged.")
	case r.URL.Query().Get("format") == "csv" || strings.Contains(r.Header.Get("Accept"), "text/csv"):
		writeCSV(w, evs)
	default:
		writeJSON(w, http.StatusOK, map[string]any{"events": toJSON(evs)})
	}
}

func parseQuery(r *http.Request) (store.AuditQuery, error) {
	v := r.URL.Query()
	q := store.AuditQuery{Actor: v.Get("actor"), ResourceID: v.Get("resource")}
	var err error
	if q.Since, err = timeParam(v.Get("since"), "since"); err != nil {
		return q, err
	}
	if q.Until, err = timeParam(v.Get("until"), "until"); err != nil {
		return q, err
	}
	if q.Limit, err = intParam(v.Get("limit"), "limit"); err != nil {
		return q, err
	}
	q.Offset, err = intParam(v.Get("offset"), "offset")
	return q, err
}

func timeParam(s, name string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return t, fmt.Errorf("%s must be an RFC 3339 time such as 2026-01-31T00:00:00Z", name)
	}
	return t.UTC(), nil
}

func intParam(s, name string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s must be a non-negative integer", name)
	}
	return n, nil
}

var columns = []string{"id", "at", "actor", "actor_kind", "actor_tier", "action", "resource_type", "resource_id", "request_id", "source", "attributes"}

func row(e store.AuditEvent) []string {
	return []string{e.ID, e.At.Format(time.RFC3339Nano), e.Actor, e.ActorKind, e.ActorTier, e.Action, e.ResourceType,
		e.ResourceID, e.RequestID, e.Source, strings.Join(e.Attributes, " ")}
}

func toJSON(evs []store.AuditEvent) []map[string]any {
	out := make([]map[string]any, len(evs))
	for i, e := range evs {
		m := map[string]any{}
		for j, c := range columns {
			m[c] = row(e)[j]
		}
		m["attributes"] = e.Attributes
		out[i] = m
	}
	return out
}

// writeCSV writes events as CSV; cells that a spreadsheet would run as a
// formula are escaped by csvbridge.Escape, the one escaping function the
// CSV exports share.
func writeCSV(w http.ResponseWriter, evs []store.AuditEvent) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="audit.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write(columns)
	for _, e := range evs {
		r := row(e)
		for i, c := range r {
			r[i] = csvbridge.Escape(c)
		}
		_ = cw.Write(r)
	}
	cw.Flush()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError writes an error body; a 503 (the store is busy) carries
// Retry-After, as the SCIM front end's do.
func writeError(w http.ResponseWriter, status int, detail string) {
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", strconv.Itoa(directory.RetryAfterSeconds))
	}
	writeJSON(w, status, map[string]any{"status": strconv.Itoa(status), "detail": detail})
}
