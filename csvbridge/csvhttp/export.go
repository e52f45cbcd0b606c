package csvhttp

import (
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/scimbridge/scimbridge/csvbridge"
	"github.com/scimbridge/scimbridge/internal/apiwire"
)

// exportRoutes adds GET /exports/users.csv and /exports/groups.csv.
func (h *Handler) exportRoutes(r chi.Router) {
	ex := h.jobs.Exporter()
	r.Get("/exports/users.csv", h.export(ex, csvbridge.ExportUsers))
	r.Get("/exports/groups.csv", h.export(ex, csvbridge.ExportGroups))
	r.Post("/exports", h.startExport)
	r.Get("/exports/{id}", h.exportJob)
	r.Get("/exports/{id}/download", h.download)
}

// startExport is POST /exports: an export job with the parameters of GET
// /exports/users.csv (or groups.csv with resource=groups), answered 202
// with the job; GET /exports/{id} shows its progress and
// /exports/{id}/download serves the file once it is completed.
func (h *Handler) startExport(w http.ResponseWriter, r *http.Request) {
	p, ok := h.principal(w, r)
	if !ok {
		return
	}
	resource := csvbridge.ExportUsers
	switch strings.ToLower(r.URL.Query().Get("resource")) {
	case "", "users", "user":
	case "groups", "group":
		resource = csvbridge.ExportGroups
	default:
		h.fail(w, r, apiwire.Problem(http.StatusBadRequest, "invalidValue", "resource must be users or groups."))
		return
	}
	req, err := exportRequest(r, resource)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	job, err := h.jobs.SubmitExport(r.Context(), p, req)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/csv/exports/"+job.ID)
	apiwire.WriteJSON(w, http.StatusAccepted, map[string]any{"id": job.ID, "state": csvbridge.ExportRunning})
}

func (h *Handler) exportJob(w http.ResponseWriter, r *http.Request) {
	p, ok := h.principal(w, r)
	if !ok {
		return
	}
	v, err := h.jobs.GetExport(r.Context(), p, chi.URLParam(r, "id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	apiwire.WriteJSON(w, http.StatusOK, v)
}

// download serves a completed export job's file.
func (h *Handler) download(w http.ResponseWriter, r *http.Request) {
	p, ok := h.principal(w, r)
	if !ok {
		return
	}
	v, rc, err := h.jobs.Download(r.Context(), p, chi.URLParam(r, "id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": v.FileName}))
	w.Header().Set("Content-Length", strconv.FormatInt(v.FileSize, 10))
	w.Header().Set("Cache-Control", "no-store")
	if _, err := io.Copy(w, rc); err != nil && r.Context().Err() == nil {
		h.log.WarnContext(r.Context(), "export download stopped", "job", v.ID, "err", err)
	}
}

// export streams a CSV export. Query parameters: filter, preset, profile,
// attributes (comma-separated or repeated), sortBy, sortOrder,
// bom=false, crlf=false, delimiter (one character, URL-encoded: %3B for
// ";"; or "tab", "semicolon"), raw=true.
// A refusal before the first row is an error body; a failure after it
// aborts the response, so that a client never takes a cut file for a
// whole one.
func (h *Handler) export(ex *csvbridge.Exporter, resource string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := h.principal(w, r)
		if !ok {
			return
		}
		req, err := exportRequest(r, resource)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		x, err := ex.Prepare(r.Context(), p, req)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": x.FileName(time.Now())}))
		w.Header().Set("Cache-Control", "no-store")
		cw := &countingWriter{w: w}
		rc := http.NewResponseController(w)
		_ = rc.SetWriteDeadline(time.Now().Add(exportWriteWindow))
		rows, err := x.Write(r.Context(), cw, func() {
			_ = rc.SetWriteDeadline(time.Now().Add(exportWriteWindow))
			_ = rc.Flush()
		})
		if err == nil {
			return
		}
		if cw.n == 0 {
			w.Header().Del("Content-Disposition")
			w.Header().Del("Content-Type")
			h.fail(w, r, err)
			return
		}
		if r.Context().Err() == nil {
			h.log.WarnContext(r.Context(), "export stopped", "resource", resource, "rows", rows, "err", err)
		}
		panic(http.ErrAbortHandler)
	}
}

// exportWriteWindow is how long the client may take to accept each flushed
// part of an export: the server's write timeout is moved on at every
// flush, so it bounds a stalled client, not the length of an export.
const exportWriteWindow = 2 * time.Minute

// countingWriter counts the bytes that reached the response.
type countingWriter struct {
	w http.ResponseWriter
	n int64
}

// Write writes to the response.
func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func exportRequest(r *http.Request, resource string) (csvbridge.ExportRequest, error) {
	q := r.URL.Query()
	req := csvbridge.ExportRequest{Resource: resource, Profile: q.Get("profile"), Preset: q.Get("preset"),
		Filter: q.Get("filter"), SortBy: q.Get("sortBy")}
	for _, a := range q["attributes"] {
		req.Attributes = append(req.Attributes, strings.Split(a, ",")...)
	}
	switch strings.ToLower(q.Get("sortOrder")) {
	case "", "ascending":
	case "descending":
		req.Descending = true
	default:
		return req, apiwire.Problem(http.StatusBadRequest, "invalidValue", "sortOrder must be ascending or descending.")
	}
	var err error
	if req.NoBOM, err = offFlag(q.Get("bom"), "bom"); err != nil {
		return req, err
	}
	if req.LF, err = offFlag(q.Get("crlf"), "crlf"); err != nil {
		return req, err
	}
	switch raw := strings.ToLower(q.Get("raw")); raw {
	case "", "false":
	case "true":
		req.Raw = true
	default:
		return req, apiwire.Problem(http.StatusBadRequest, "invalidValue", "raw must be true or false.")
	}
	switch strings.ToLower(q.Get("members")) {
	case "", "column":
	case "rows":
		req.MemberRows = true
	default:
		return req, apiwire.Problem(http.StatusBadRequest, "invalidValue", "members must be column or rows.")
	}
	req.Delimiter, err = delimiter(q.Get("delimiter"))
	return req, err
}

// offFlag reads a flag that is on by default: "false" turns it off.
func offFlag(v, name string) (bool, error) {
	switch strings.ToLower(v) {
	case "", "true":
		return false, nil
	case "false":
		return true, nil
	}
	return false, apiwire.Problem(http.StatusBadRequest, "invalidValue", "%s must be true or false.", name)
}

func delimiter(v string) (rune, error) {
	switch strings.ToLower(v) {
	case "":
		return 0, nil
	case "tab", `\t`:
		return '\t', nil
	case "semicolon":
		return ';', nil
	}
	rs := []rune(v)
	if len(rs) != 1 {
		return 0, apiwire.Problem(http.StatusBadRequest, "invalidValue", "delimiter must be one character (or tab).")
	}
	return rs[0], nil
}
