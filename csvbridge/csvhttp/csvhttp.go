// Package csvhttp serves the CSV bridge over HTTP under /csv: profiles and
// their templates, imports (upload, preview, rows, commit, cancel,
// report), actions on a filtered set of users (/csv/actions), exports
// (users.csv, groups.csv, and export jobs) and profile pictures
// (/csv/photos). It sits behind the one authentication middleware
// (internal/authn) and reads its principal; every decision is the
// csvbridge job service's and the policy's. Errors are SCIM error bodies.
package csvhttp

import (
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/scimbridge/scimbridge/csvbridge"
	"github.com/scimbridge/scimbridge/internal/apiwire"
	"github.com/scimbridge/scimbridge/internal/policy"
)

// Handler serves /csv.
type Handler struct {
	jobs   *csvbridge.Jobs
	log    *slog.Logger
	router chi.Router
}

// New returns the handler over the job service; mount it at /csv behind
// the authentication middleware.
func New(jobs *csvbridge.Jobs, log *slog.Logger) *Handler {
	h := &Handler{jobs: jobs, log: log, router: chi.NewRouter()}
	r := h.router
	r.Get("/profiles", h.profiles)
	r.Get("/profiles/{name}", h.profile)
	r.Put("/profiles/{name}", h.putProfile)
	r.Get("/profiles/{name}/template.csv", h.template)
	r.Get("/profiles/{name}/guide", h.guide)
	r.Post("/imports", h.upload)
	r.Get("/imports", h.list)
	r.Get("/imports/{id}", h.get)
	r.Get("/imports/{id}/rows", h.rows)
	r.Post("/imports/{id}/commit", h.commit)
	r.Post("/imports/{id}/cancel", h.cancel)
	r.Get("/imports/{id}/report.csv", h.report)
	h.exportRoutes(r)
	h.actionRoutes(r)
	h.photoRoutes(r)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, apiwire.Problem(http.StatusNotFound, "", "There is no CSV endpoint %s; see GET /csv/profiles and /csv/imports.", r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, apiwire.Problem(http.StatusMethodNotAllowed, "", "%s is not supported on /csv%s.", r.Method, r.URL.Path))
	})
	return h
}

// ServeHTTP serves a request below /csv (the prefix stripped).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.router.ServeHTTP(w, r) }

func (h *Handler) profiles(w http.ResponseWriter, r *http.Request) {
	p, ok := h.principal(w, r)
	if !ok {
		return
	}
	list, err := h.jobs.Profiles(r.Context(), p)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	apiwire.WriteJSON(w, http.StatusOK, map[string]any{"profiles": list})
}

// onProfile answers a request about one profile, as the caller's tenant
// uses it.
func (h *Handler) onProfile(w http.ResponseWriter, r *http.Request, fn func(p *csvbridge.Profile)) {
	pr, ok := h.principal(w, r)
	if !ok {
		return
	}
	p, err := h.jobs.ProfileFor(r.Context(), pr, chi.URLParam(r, "name"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	fn(p)
}

func (h *Handler) profile(w http.ResponseWriter, r *http.Request) {
	h.onProfile(w, r, func(p *csvbridge.Profile) { apiwire.WriteJSON(w, http.StatusOK, p) })
}

// putProfile is PUT /profiles/{name}: the tenant's own profile, as JSON.
func (h *Handler) putProfile(w http.ResponseWriter, r *http.Request) {
	pr, ok := h.principal(w, r)
	if !ok {
		return
	}
	p, err := h.jobs.PutProfile(r.Context(), pr, chi.URLParam(r, "name"), r.Body)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	status := http.StatusOK
	if p.Version == 1 {
		status = http.StatusCreated
	}
	w.Header().Set("Location", "/csv/profiles/"+p.Name)
	apiwire.WriteJSON(w, status, p)
}

// guide is GET /profiles/{name}/guide: the profile's field guide.
func (h *Handler) guide(w http.ResponseWriter, r *http.Request) {
	h.onProfile(w, r, func(p *csvbridge.Profile) { apiwire.WriteJSON(w, http.StatusOK, csvbridge.FieldGuide(p)) })
}

// template is GET /profiles/{name}/template.csv; ?example=true adds a
// row of example values.
func (h *Handler) template(w http.ResponseWriter, r *http.Request) {
	h.onProfile(w, r, func(p *csvbridge.Profile) {
		write := csvbridge.WriteTemplate
		if ex, _ := strconv.ParseBool(r.URL.Query().Get("example")); ex {
			write = csvbridge.WriteTemplateExample
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": p.Name + "-template.csv"}))
		if err := write(w, p); err != nil {
			h.log.WarnContext(r.Context(), "write template", "err", err)
		}
	})
}

// upload is POST /imports?profile=NAME with the file as the body
// (text/csv) or as the multipart field "file".
func (h *Handler) upload(w http.ResponseWriter, r *http.Request) {
	p, ok := h.principal(w, r)
	if !ok {
		return
	}
	profile := r.URL.Query().Get("profile")
	if profile == "" {
		h.fail(w, r, apiwire.Problem(http.StatusBadRequest, "invalidValue", "Name the profile: POST /csv/imports?profile=NAME (GET /csv/profiles lists them)."))
		return
	}
	file, name, err := spool(w, r, h.jobs.Limits().MaxBytes)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer discard(file)
	job, err := h.jobs.SubmitUpload(r.Context(), p, csvbridge.Upload{Profile: profile, FileName: name, Options: uploadOptions(r), File: file})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/csv/imports/"+job.ID)
	apiwire.WriteJSON(w, http.StatusAccepted, map[string]any{"id": job.ID, "state": job.State})
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	p, ok := h.principal(w, r)
	if !ok {
		return
	}
	limit, err := intParam(r, "limit", 50)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	views, err := h.jobs.List(r.Context(), p, limit, r.URL.Query().Get("before"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := map[string]any{"imports": views}
	if len(views) == limit && limit > 0 {
		out["next"] = views[len(views)-1].ID
	}
	apiwire.WriteJSON(w, http.StatusOK, out)
}

// onImport answers a request about one import: fn's view with status, or
// its error.
func (h *Handler) onImport(w http.ResponseWriter, r *http.Request, status int, fn func(p policy.Principal, id string) (csvbridge.View, error)) {
	p, ok := h.principal(w, r)
	if !ok {
		return
	}
	v, err := fn(p, chi.URLParam(r, "id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	apiwire.WriteJSON(w, status, v)
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	h.onImport(w, r, http.StatusOK, func(p policy.Principal, id string) (csvbridge.View, error) {
		return h.jobs.Get(r.Context(), p, id)
	})
}

func (h *Handler) rows(w http.ResponseWriter, r *http.Request) {
	p, ok := h.principal(w, r)
	if !ok {
		return
	}
	q := csvbridge.RowQuery{Action: r.URL.Query().Get("action"), Status: r.URL.Query().Get("status")}
	var err error
	if q.Limit, err = intParam(r, "limit", 100); err == nil {
		q.From, err = intParam(r, "from", 0)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rows, next, err := h.jobs.Rows(r.Context(), p, chi.URLParam(r, "id"), q)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := map[string]any{"rows": rows}
	if next >= 0 {
		out["next"] = next
	}
	apiwire.WriteJSON(w, http.StatusOK, out)
}

// uploadOptions are the profile options of an upload: its query
// parameters besides profile and filename.
func uploadOptions(r *http.Request) map[string]string {
	var out map[string]string
	for k, v := range r.URL.Query() {
		if k != "profile" && k != "filename" && len(v) > 0 {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v[0]
		}
	}
	return out
}

// commitBody is the optional body of POST /imports/{id}/commit: rows to
// leave out and, for profiles that ask at commit, which new users get the
// account message.
type commitBody struct {
	Exclude []int                   `json:"exclude"`
	Notify  *csvbridge.NotifyChoice `json:"notify"`
}

func (h *Handler) commit(w http.ResponseWriter, r *http.Request) {
	h.onImport(w, r, http.StatusAccepted, func(p policy.Principal, id string) (csvbridge.View, error) {
		var body commitBody
		if err := decodeOptional(r, &body); err != nil {
			return csvbridge.View{}, err
		}
		return h.jobs.CommitWith(r.Context(), p, id, csvbridge.CommitOptions{Exclude: body.Exclude, Notify: body.Notify})
	})
}

func (h *Handler) cancel(w http.ResponseWriter, r *http.Request) {
	h.onImport(w, r, http.StatusOK, func(p policy.Principal, id string) (csvbridge.View, error) {
		return h.jobs.Cancel(r.Context(), p, id)
	})
}

func (h *Handler) report(w http.ResponseWriter, r *http.Request) {
	p, ok := h.principal(w, r)
	if !ok {
		return
	}
	id := chi.URLParam(r, "id")
	prefix := "import-"
	if strings.HasPrefix(r.URL.Path, "/actions/") {
		prefix = "action-"
	}
	only := r.URL.Query().Get("only")
	if only != "" && only != "failed" {
		h.fail(w, r, apiwire.Problem(http.StatusBadRequest, "invalidValue", "only may be \"failed\"."))
		return
	}
	if _, _, err := h.jobs.Rows(r.Context(), p, id, csvbridge.RowQuery{Limit: 1}); err != nil {
		h.fail(w, r, err)
		return
	}
	name := prefix + id + "-report.csv"
	if only == "failed" {
		name = prefix + id + "-failed.csv"
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	if err := h.jobs.Report(r.Context(), p, id, only == "failed", w); err != nil {
		h.log.WarnContext(r.Context(), "write report", "job", id, "err", err)
	}
}

func intParam(r *http.Request, name string, def int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, apiwire.Problem(http.StatusBadRequest, "invalidValue", "%s must be a non-negative integer.", name)
	}
	return n, nil
}

// decodeOptional decodes a JSON body when there is one.
func decodeOptional(r *http.Request, v any) error {
	data, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 1<<20))
	if err != nil {
		return apiwire.Problem(http.StatusRequestEntityTooLarge, "tooLarge", "The request body is larger than 1 MiB.")
	}
	if len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return apiwire.Problem(http.StatusBadRequest, "invalidSyntax", "The body is not valid JSON: %v.", err)
	}
	return nil
}

// principal is the request's caller; the middleware always sets one.
func (h *Handler) principal(w http.ResponseWriter, r *http.Request) (policy.Principal, bool) {
	return apiwire.Principal(w, r, h.log, "csv")
}

// fail writes err as a SCIM error body (apiwire.Fail).
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	apiwire.Fail(w, r, h.log, "csv", err)
}
