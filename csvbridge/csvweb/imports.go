package csvweb

import (
	"fmt"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/scimbridge/scimbridge/csvbridge"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/store"
)

// historyView is the import history.
type historyView struct {
	Jobs []csvbridge.View
	Next string
}

func (h *Handler) history(w http.ResponseWriter, r *http.Request) {
	jobs, err := h.cfg.Jobs.List(r.Context(), principal(r), 50, r.URL.Query().Get("before"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := historyView{Jobs: jobs}
	if len(jobs) == 50 {
		v.Next = jobs[len(jobs)-1].ID
	}
	h.render(w, r, http.StatusOK, "history", view{Title: "Import history", Nav: "imports", Data: v})
}

// newImportView is the upload form.
type newImportView struct {
	Profiles []*csvbridge.Profile
	Profile  string
	MaxMiB   int64
	// Lists are the tenant's lists an option picks from (roles, offices,
	// sources), by list name; Chosen are the option values sent back
	// after a refusal, by input name.
	Lists  map[string][]string
	Chosen map[string]string
}

func (h *Handler) newImport(w http.ResponseWriter, r *http.Request) {
	h.renderUpload(w, r, http.StatusOK, r.URL.Query().Get("profile"), "")
}

func (h *Handler) renderUpload(w http.ResponseWriter, r *http.Request, status int, profile, errMsg string) {
	if principal(r).Tier < policy.Required(policy.CSVImport) {
		h.forbidden(w, r, policy.CSVImport)
		return
	}
	if profile == "" {
		profile = "support-tiers"
	}
	profiles, err := h.cfg.Jobs.Profiles(r.Context(), principal(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ts, err := h.cfg.Directory.Settings(r.Context(), principal(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := newImportView{Profiles: profiles, Profile: profile, MaxMiB: h.cfg.Jobs.Limits().MaxBytes >> 20,
		Lists:  map[string][]string{csvbridge.ListRoles: ts.Roles, csvbridge.ListOffices: ts.Offices, csvbridge.ListSources: ts.Sources},
		Chosen: map[string]string{}}
	if r.MultipartForm != nil {
		for k, vs := range r.MultipartForm.Value {
			if strings.HasPrefix(k, optionPrefix) && len(vs) > 0 {
				v.Chosen[k] = vs[0]
			}
		}
	}
	h.render(w, r, status, "upload", view{Title: "Import users", Nav: "imports", Error: errMsg, Field: "file", Data: v})
}

// optionPrefix starts the form name of a profile's upload option:
// option.<profile>.<option>, so each profile's choices stay apart.
const optionPrefix = "option."

// uploadOptions are the chosen profile's options from the form (blank
// ones left out, so a required one is reported missing by the service).
func uploadOptions(r *http.Request, profile string) map[string]string {
	out := map[string]string{}
	if r.MultipartForm == nil {
		return out
	}
	prefix := optionPrefix + profile + "."
	for k, vs := range r.MultipartForm.Value {
		if name, ok := strings.CutPrefix(k, prefix); ok && len(vs) > 0 && strings.TrimSpace(vs[0]) != "" {
			out[name] = strings.TrimSpace(vs[0])
		}
	}
	return out
}

// upload takes the form's file (parsed, spilling to disk, by the session
// middleware's CSRF check) and starts a job. A refused upload shows the
// form again with the reason next to it; nothing else changes.
func (h *Handler) upload(w http.ResponseWriter, r *http.Request) {
	profile := r.PostFormValue("profile")
	if r.MultipartForm != nil {
		defer r.MultipartForm.RemoveAll()
		if vs := r.MultipartForm.Value["profile"]; len(vs) > 0 {
			profile = vs[0]
		}
	}
	f, fh, ok := h.openUpload(w, r, func() {
		h.renderUpload(w, r, http.StatusBadRequest, profile, "Choose a CSV file to upload.")
	})
	if !ok {
		return
	}
	defer f.Close()
	job, err := h.cfg.Jobs.SubmitUpload(r.Context(), principal(r), csvbridge.Upload{Profile: profile, FileName: fh.Filename,
		Options: uploadOptions(r, profile), File: f})
	if err != nil {
		status, msg := h.explain(r, err)
		if status == http.StatusForbidden {
			h.fail(w, r, err)
			return
		}
		h.renderUpload(w, r, status, profile, msg)
		return
	}
	http.Redirect(w, r, Base+"/imports/"+job.ID, http.StatusSeeOther)
}

// openUpload opens the form's file; when there is none it calls none,
// when it cannot be opened it answers the failure, and ok is false.
func (h *Handler) openUpload(w http.ResponseWriter, r *http.Request, none func()) (multipart.File, *multipart.FileHeader, bool) {
	fh := formFile(r)
	if fh == nil {
		none()
		return nil, nil, false
	}
	f, err := fh.Open()
	if err != nil {
		h.fail(w, r, fmt.Errorf("open upload: %w", err))
		return nil, nil, false
	}
	return f, fh, true
}

func formFile(r *http.Request) *multipart.FileHeader {
	if r.MultipartForm == nil || len(r.MultipartForm.File["file"]) == 0 {
		return nil
	}
	return r.MultipartForm.File["file"][0]
}

// importView is one import: preview, progress or result.
type importView struct {
	Job     csvbridge.View
	Rows    []csvbridge.RowView
	Next    int
	Action  string
	Status  string
	Counts  []countLink
	Running bool
	// Commit is true when the admin may commit now.
	Commit bool
	Ended  bool
	// Policy is the profile's commit policy; Notify is set when the admin
	// chooses at commit who gets the account email (NotifyAtCommit).
	Policy csvbridge.CommitPolicy
	Notify bool
}

// countLink is one count of the preview or result; it opens those rows.
type countLink struct {
	Name  string
	N     int
	Query string
}

func (h *Handler) importPage(w http.ResponseWriter, r *http.Request) {
	h.renderImport(w, r, http.StatusOK, "")
}

func (h *Handler) renderImport(w http.ResponseWriter, r *http.Request, status int, errMsg string) {
	p, id := principal(r), chi.URLParam(r, "id")
	job, err := h.cfg.Jobs.Get(r.Context(), p, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := importView{Job: job, Action: r.URL.Query().Get("action"), Status: r.URL.Query().Get("status")}
	from, _ := strconv.Atoi(r.URL.Query().Get("from"))
	v.Rows, v.Next, err = h.cfg.Jobs.Rows(r.Context(), p, id, csvbridge.RowQuery{Action: v.Action, Status: v.Status, From: from, Limit: 100})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.describe(&v, p)
	if prof, err := h.cfg.Jobs.ProfileFor(r.Context(), p, job.Profile); err == nil && job.Kind == csvbridge.KindImport {
		v.Policy, v.Notify = prof.Commit, prof.NotifyAtCommit
	}
	title, nav := "Import "+job.FileName, "imports"
	if job.Kind == csvbridge.KindAction {
		title, nav = "Action "+job.ID, "actions"
	}
	h.render(w, r, status, "import", view{Title: title, Nav: nav, Error: errMsg, Refresh: v.Running, Data: v})
}

// describe fills what the page shows beside the job itself.
func (h *Handler) describe(v *importView, p policy.Principal) {
	st := v.Job.State
	v.Running = st == store.JobValidating || st == store.JobCommitting
	v.Commit = st == store.JobValidated && p.Tier >= policy.Required(policy.CSVImport)
	v.Ended = st == store.JobCompleted || st == store.JobCompletedWithErrors || st == store.JobFailed || st == store.JobCancelled
	for _, name := range csvbridge.CountNames {
		n := v.Job.Counts[name]
		if name == "total" || (n == 0 && name != "create" && name != "update" && name != "error") {
			continue
		}
		q := queryString("action", name)
		switch name {
		case "warning":
			q = ""
		case "excluded":
			q = queryString("status", "excluded")
		case "error":
			q = queryString("status", "failed")
		}
		v.Counts = append(v.Counts, countLink{Name: name, N: n, Query: q})
	}
}

func (h *Handler) commit(w http.ResponseWriter, r *http.Request) {
	exclude, err := rowNumbers(r.PostForm["exclude"])
	if err != nil {
		h.renderImport(w, r, http.StatusBadRequest, err.Error()+".")
		return
	}
	o := csvbridge.CommitOptions{Exclude: exclude}
	if r.PostFormValue("notify-all") != "" {
		o.Notify = &csvbridge.NotifyChoice{All: true}
	} else if len(r.PostForm["notify"]) > 0 {
		rows, err := rowNumbers(r.PostForm["notify"])
		if err != nil {
			h.renderImport(w, r, http.StatusBadRequest, err.Error()+".")
			return
		}
		o.Notify = &csvbridge.NotifyChoice{Rows: rows}
	}
	id := chi.URLParam(r, "id")
	if _, err := h.cfg.Jobs.CommitWith(r.Context(), principal(r), id, o); err != nil {
		h.importFailed(w, r, err)
		return
	}
	http.Redirect(w, r, Base+"/imports/"+id, http.StatusSeeOther)
}

// rowNumbers reads the row numbers a commit form ticked.
func rowNumbers(values []string) ([]int, error) {
	var out []int
	for _, s := range values {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a row number", s)
		}
		out = append(out, n)
	}
	return out, nil
}

func (h *Handler) cancel(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if _, err := h.cfg.Jobs.Cancel(r.Context(), principal(r), id); err != nil {
		h.importFailed(w, r, err)
		return
	}
	http.Redirect(w, r, Base+"/imports/"+id, http.StatusSeeOther)
}

// importFailed shows a refused commit or cancel on the import's page (a
// refusal by tier as its own 403 page).
func (h *Handler) importFailed(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := h.explain(r, err)
	if status == http.StatusForbidden || status == http.StatusNotFound || status >= 500 {
		h.fail(w, r, err)
		return
	}
	h.renderImport(w, r, status, msg)
}

// guideView is a profile's field guide.
type guideView struct {
	Profile *csvbridge.Profile
	Header  []string
}

func (h *Handler) fieldGuide(w http.ResponseWriter, r *http.Request) {
	prof, err := h.cfg.Jobs.ProfileFor(r.Context(), principal(r), chi.URLParam(r, "name"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "guide", view{Title: prof.Title, Nav: "imports", Data: guideView{Profile: prof, Header: csvbridge.TemplateHeader(prof)}})
}
