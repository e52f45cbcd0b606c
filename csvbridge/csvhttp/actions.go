package csvhttp

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/scimbridge/scimbridge/csvbridge"
	"github.com/scimbridge/scimbridge/internal/apiwire"
)

// actionRoutes adds /actions: POST /actions starts an action job; the
// job is then read, previewed, committed, cancelled and reported through
// /actions/{id}... exactly as an import through /imports/{id}... (the
// same handlers; an id of another kind of job is 404 here).
func (h *Handler) actionRoutes(r chi.Router) {
	r.Post("/actions", h.startAction)
	r.Route("/actions/{id}", func(r chi.Router) {
		r.Use(h.onlyKind(csvbridge.KindAction))
		r.Get("/", h.get)
		r.Get("/rows", h.rows)
		r.Post("/commit", h.commit)
		r.Post("/cancel", h.cancel)
		r.Get("/report.csv", h.report)
	})
}

// onlyKind answers 404 for a job that is not of kind.
func (h *Handler) onlyKind(kind string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := h.principal(w, r)
			if !ok {
				return
			}
			id := chi.URLParam(r, "id")
			v, err := h.jobs.Get(r.Context(), p, id)
			if err == nil && v.Kind != kind {
				err = apiwire.Problem(http.StatusNotFound, "", "There is no %s %s.", kind, id)
			}
			if err != nil {
				h.fail(w, r, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// startAction is POST /actions with a JSON body: {"filter", "preset",
// "operation", "value"} (csvbridge.ActionRequest).
func (h *Handler) startAction(w http.ResponseWriter, r *http.Request) {
	p, ok := h.principal(w, r)
	if !ok {
		return
	}
	var req csvbridge.ActionRequest
	if err := decodeOptional(r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	if req.Operation == "" {
		h.fail(w, r, apiwire.Problem(http.StatusBadRequest, "invalidValue", "The body needs an operation (one of %v) and a filter or preset.", csvbridge.ActOperations))
		return
	}
	job, err := h.jobs.SubmitAction(r.Context(), p, req)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/csv/actions/"+job.ID)
	apiwire.WriteJSON(w, http.StatusAccepted, map[string]any{"id": job.ID, "state": job.State})
}
