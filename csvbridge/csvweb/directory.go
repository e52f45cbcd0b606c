package csvweb

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

// pageSize is how many users, groups or events a list page shows.
const pageSize = 25

// listView is a searchable, sortable, paged list.
type listView struct {
	Q, Sort, Order string
	// Filter is the SCIM filter run (the box's text, or the filter made
	// from plain text).
	Filter     string
	Page, Last int
	Total      int
	Items      []*directory.Resource
	Sorts      []string
}

// searchFilter turns the box's text into a SCIM filter: a valid filter
// is used as written; other text is searched for in names and emails. An
// error comes back only when the text looked like a filter.
func (h *Handler) searchFilter(r *http.Request, resourceType, q string, fields []string) (string, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return "", nil
	}
	err := h.cfg.Directory.CheckFilter(r.Context(), principal(r), resourceType, q)
	if err == nil {
		return q, nil
	}
	if looksLikeFilter(q) {
		return "", err
	}
	lit := strings.ReplaceAll(strings.ReplaceAll(q, `\`, `\\`), `"`, `\"`)
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = f + ` co "` + lit + `"`
	}
	return strings.Join(parts, " or "), nil
}

// looksLikeFilter reports whether text uses a SCIM operator, so that a
// broken filter is reported rather than searched for as words.
func looksLikeFilter(q string) bool {
	l := " " + strings.ToLower(q) + " "
	for _, op := range []string{" eq ", " ne ", " co ", " sw ", " ew ", " gt ", " ge ", " lt ", " le ", " pr ", "[", " and ", " or "} {
		if strings.Contains(l, op) {
			return true
		}
	}
	return strings.HasSuffix(strings.TrimSpace(l), " pr")
}

func pageParam(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || n < 1 {
		return 1
	}
	return n
}

func (h *Handler) listQuery(r *http.Request, rt string, fields, sorts []string) (listView, directory.ListQuery, error) {
	v := listView{Q: r.URL.Query().Get("q"), Sort: r.URL.Query().Get("sort"), Order: r.URL.Query().Get("order"), Page: pageParam(r), Sorts: sorts}
	f, err := h.searchFilter(r, rt, v.Q, fields)
	v.Filter = f
	q := directory.ListQuery{Filter: f, SortBy: v.Sort, Descending: v.Order == "desc", Offset: (v.Page - 1) * pageSize, Count: pageSize}
	return v, q, err
}

func (v *listView) fill(l *directory.List) {
	v.Items, v.Total = l.Resources, l.Total
	v.Last = (l.Total + pageSize - 1) / pageSize
	if v.Last < 1 {
		v.Last = 1
	}
}

var userSorts = []string{"userName", "name.familyName", "emails.value", "meta.created", "meta.lastModified"}

func (h *Handler) users(w http.ResponseWriter, r *http.Request) {
	v, q, err := h.listQuery(r, "User", []string{"userName", "displayName", "name.formatted", "emails.value"}, userSorts)
	if err == nil {
		var l *directory.List
		if l, err = h.cfg.Directory.ListUsers(r.Context(), principal(r), q); err == nil {
			v.fill(l)
		}
	}
	h.renderList(w, r, "users", "Users", v, err)
}

func (h *Handler) groups(w http.ResponseWriter, r *http.Request) {
	v, q, err := h.listQuery(r, "Group", []string{"displayName"}, []string{"displayName", "meta.created"})
	if err == nil {
		var l *directory.List
		if l, err = h.cfg.Directory.ListGroups(r.Context(), principal(r), q, false); err == nil {
			v.fill(l)
		}
	}
	h.renderList(w, r, "groups", "Groups", v, err)
}

// renderList shows a list; a bad filter or sort is shown next to the
// search box, with the status the API would answer.
func (h *Handler) renderList(w http.ResponseWriter, r *http.Request, name, title string, v listView, err error) {
	status, msg := http.StatusOK, ""
	if err != nil {
		status, msg = h.explain(r, err)
		if status >= 500 || status == http.StatusForbidden {
			h.fail(w, r, err)
			return
		}
	}
	h.render(w, r, status, name, view{Title: title, Nav: name, Error: msg, Field: "q", Data: v})
}

// userView is a user's page.
type userView struct {
	User   *directory.Resource
	Doc    schema.Doc
	Events []store.AuditEvent
	// AuditOK is false when the tier may not read the audit log.
	AuditOK bool
}

func (h *Handler) user(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	u, err := h.cfg.Directory.GetUser(r.Context(), p, chi.URLParam(r, "id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	doc, err := u.Document()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := userView{User: u, Doc: doc, AuditOK: p.Tier >= policy.Required(policy.AuditRead)}
	if v.AuditOK {
		if v.Events, err = h.cfg.Directory.AuditEvents(r.Context(), p, store.AuditQuery{ResourceID: u.ID, Limit: 20}); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	h.render(w, r, http.StatusOK, "user", view{Title: docString(doc, "userName"), Nav: "users", Data: v})
}

// groupView is a group's page.
type groupView struct {
	Group *directory.Resource
	Doc   schema.Doc
}

func (h *Handler) group(w http.ResponseWriter, r *http.Request) {
	g, err := h.cfg.Directory.GetGroup(r.Context(), principal(r), chi.URLParam(r, "id"), true)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	doc, err := g.Document()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "group", view{Title: docString(doc, "displayName"), Nav: "groups", Data: groupView{Group: g, Doc: doc}})
}

// auditView is the audit log page.
type auditView struct {
	Actor, Resource, Since, Until string
	Page                          int
	More                          bool
	Events                        []store.AuditEvent
	CSV                           string
	// Newer and Older link the neighbouring pages ("" when none).
	Newer, Older string
}

func (h *Handler) audit(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	if p.Tier < policy.Required(policy.AuditRead) {
		h.forbidden(w, r, policy.AuditRead)
		return
	}
	qv := r.URL.Query()
	v := auditView{Actor: qv.Get("actor"), Resource: qv.Get("resource"), Since: qv.Get("since"), Until: qv.Get("until"), Page: pageParam(r)}
	q := store.AuditQuery{Actor: v.Actor, ResourceID: v.Resource, Limit: pageSize + 1, Offset: (v.Page - 1) * pageSize}
	var errMsg string
	q.Since, errMsg = dateParam(v.Since, false, errMsg)
	q.Until, errMsg = dateParam(v.Until, true, errMsg)
	if errMsg == "" {
		evs, err := h.cfg.Directory.AuditEvents(r.Context(), p, q)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		v.More = len(evs) > pageSize
		v.Events = evs[:min(len(evs), pageSize)]
	}
	page := func(n int) string {
		return queryString("actor", v.Actor, "resource", v.Resource, "since", v.Since, "until", v.Until, "page", strconv.Itoa(n))
	}
	if v.Page > 1 {
		v.Newer = page(v.Page - 1)
	}
	if v.More {
		v.Older = page(v.Page + 1)
	}
	v.CSV = Base + "/audit.csv" + queryString("actor", v.Actor, "resource", v.Resource, "since", formatParam(q.Since), "until", formatParam(q.Until))
	status := http.StatusOK
	if errMsg != "" {
		status = http.StatusBadRequest
	}
	h.render(w, r, status, "audit", view{Title: "Audit log", Nav: "audit", Error: errMsg, Data: v})
}

// dateParam reads a YYYY-MM-DD date (until: the end of that day).
func dateParam(s string, end bool, errMsg string) (time.Time, string) {
	if s == "" {
		return time.Time{}, errMsg
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return t, "Dates are written YYYY-MM-DD, such as 2026-01-31."
	}
	if end {
		t = t.Add(24*time.Hour - time.Microsecond)
	}
	return t, errMsg
}

func formatParam(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}

// auditCSV serves the audit API's CSV export for the session.
func (h *Handler) auditCSV(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	q.Set("format", "csv")
	w.Header().Set("Content-Disposition", `attachment; filename="audit.csv"`)
	h.cfg.Audit.ServeHTTP(w, detach(r, "/events", q.Encode()))
}
