package csvhttp

import (
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/scimbridge/scimbridge/csvbridge"
	"github.com/scimbridge/scimbridge/internal/apiwire"
)

// photoRoutes adds POST /photos (a ZIP of profile pictures) and GET
// /photos/{id} (one picture, as the users' photos values point at it).
func (h *Handler) photoRoutes(r chi.Router) {
	r.Post("/photos", h.uploadPhotos)
	r.Get("/photos/{id}", h.photo)
}

// uploadPhotos is POST /photos?match=ATTR with the ZIP as the body
// (application/zip) or the multipart field "file"; it answers 200 with
// the per-file report once every file is settled.
func (h *Handler) uploadPhotos(w http.ResponseWriter, r *http.Request) {
	p, ok := h.principal(w, r)
	if !ok {
		return
	}
	file, _, err := spool(w, r, h.jobs.PhotoLimits().MaxZipBytes)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer discard(file)
	info, err := file.Stat()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rep, err := h.jobs.ImportPhotos(r.Context(), p, r.URL.Query().Get("match"), file, info.Size(), csvbridge.PhotoURLs(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	apiwire.WriteJSON(w, http.StatusOK, rep)
}

// photo serves one picture of the caller's tenant.
func (h *Handler) photo(w http.ResponseWriter, r *http.Request) {
	p, ok := h.principal(w, r)
	if !ok {
		return
	}
	ph, err := h.jobs.Photo(r.Context(), p, chi.URLParam(r, "id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	etag := `"` + ph.SHA256 + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "private, max-age=3600")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", ph.ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(ph.Body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(ph.Body)
}
