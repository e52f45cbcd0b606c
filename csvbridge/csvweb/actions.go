package csvweb

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/scimbridge/scimbridge/csvbridge"
	"github.com/scimbridge/scimbridge/internal/policy"
)

// actionView is the form of an action on a filtered set of users (seed
// 002's "assign role"): which users, which operation, its value.
type actionView struct {
	Tiers      []string
	Roles      []string
	Operations []string
	// Form is what was posted, shown again after a refusal.
	Form url.Values
}

func (h *Handler) actionPage(w http.ResponseWriter, r *http.Request) {
	h.renderAction(w, r, http.StatusOK, url.Values{"preset": {"all"}, "operation": {csvbridge.ActAddRole}}, "")
}

func (h *Handler) renderAction(w http.ResponseWriter, r *http.Request, status int, form url.Values, errMsg string) {
	p := principal(r)
	if p.Tier < policy.Required(policy.CSVAction) {
		h.forbidden(w, r, policy.CSVAction)
		return
	}
	ts, err := h.cfg.Directory.Settings(r.Context(), p)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := actionView{Tiers: policy.TierNames(), Roles: ts.Roles, Operations: csvbridge.ActOperations, Form: form}
	h.render(w, r, status, "action", view{Title: "Act on a set of users", Nav: "actions", Error: errMsg, Field: "value", Data: v})
}

// submitAction starts the action's job and shows its preview (the import
// page shows every kind of CSV job); a refused request comes back with
// the form as posted and the reason.
func (h *Handler) submitAction(w http.ResponseWriter, r *http.Request) {
	preset := exportPreset(r.PostForm)
	if preset == "" && r.PostFormValue("preset") == "all" {
		preset = "all"
	}
	req := csvbridge.ActionRequest{Preset: preset, Filter: strings.TrimSpace(r.PostFormValue("filter")),
		Operation: r.PostFormValue("operation"), Value: strings.TrimSpace(r.PostFormValue("value"))}
	job, err := h.cfg.Jobs.SubmitAction(r.Context(), principal(r), req)
	if err != nil {
		h.refused(w, r, err, func(status int, msg string) { h.renderAction(w, r, status, r.PostForm, msg) })
		return
	}
	http.Redirect(w, r, Base+"/imports/"+job.ID, http.StatusSeeOther)
}
