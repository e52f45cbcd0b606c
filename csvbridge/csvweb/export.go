package csvweb

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/scimbridge/scimbridge/csvbridge"
	"github.com/scimbridge/scimbridge/internal/policy"
)

// exportView is the export form.
type exportView struct {
	Profiles []*csvbridge.Profile
	Tiers    []string
}

func (h *Handler) exportPage(w http.ResponseWriter, r *http.Request) {
	if principal(r).Tier < policy.Required(policy.CSVExport) {
		h.forbidden(w, r, policy.CSVExport)
		return
	}
	profiles, err := h.cfg.Jobs.Profiles(r.Context(), principal(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := exportView{Profiles: profiles, Tiers: policy.TierNames()}
	h.render(w, r, http.StatusOK, "export", view{Title: "Export users", Nav: "export", Data: v})
}

// exportDownload turns the export form into the CSV API's query (the
// preset with its argument, the filter, profile, columns, spreadsheet
// options) and streams the API's own export.
func (h *Handler) exportDownload(w http.ResponseWriter, r *http.Request) {
	in := r.URL.Query()
	out := url.Values{}
	if preset := exportPreset(in); preset != "" {
		out.Set("preset", preset)
	}
	for _, k := range []string{"filter", "profile", "attributes", "sortBy"} {
		if v := strings.TrimSpace(in.Get(k)); v != "" {
			out.Set(k, v)
		}
	}
	if in.Get("spreadsheet") != "on" {
		out.Set("bom", "false")
		out.Set("crlf", "false")
	}
	h.cfg.CSV.ServeHTTP(w, detach(r, "/exports/users.csv", out.Encode()))
}

// exportPreset assembles seed 000's preset from the form's choice and its
// date or tier field.
func exportPreset(in url.Values) string {
	switch p := in.Get("preset"); p {
	case "", "all":
		return ""
	case "tier":
		return "tier=" + in.Get("tier")
	case "created-since", "last-login-before", "last-login-after":
		return p + "=" + in.Get("date")
	case "created-between":
		return p + "=" + in.Get("date") + "," + in.Get("date2")
	default:
		return p
	}
}
