package csvweb

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
)

// settingsView is the tenant settings form: the lists one entry a line,
// organisation fields as "name type description".
type settingsView struct {
	Sources, Roles, Offices, OrgFields string
	SignInURL, From, Subject           string
	Version                            int64
	Saved                              bool
}

func viewOfSettings(s directory.TenantSettings) settingsView {
	v := settingsView{Sources: strings.Join(s.Sources, "\n"), Roles: strings.Join(s.Roles, "\n"),
		Offices: strings.Join(s.Offices, "\n"), SignInURL: s.Notifications.SignInURL, From: s.Notifications.From,
		Subject: s.Notifications.Subject, Version: s.Version}
	lines := make([]string, len(s.OrgFields))
	for i, f := range s.OrgFields {
		lines[i] = strings.TrimSpace(f.Name + " " + f.Type + " " + f.Description)
	}
	v.OrgFields = strings.Join(lines, "\n")
	return v
}

func (h *Handler) settings(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	if p.Tier < policy.Required(policy.TenantManage) {
		h.forbidden(w, r, policy.TenantManage)
		return
	}
	s, err := h.cfg.Directory.Settings(r.Context(), p)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := viewOfSettings(s)
	v.Saved = r.URL.Query().Get("saved") == "1"
	h.render(w, r, http.StatusOK, "settings", view{Title: "Tenant settings", Nav: "settings", Data: v})
}

// saveSettings writes the form over the settings it was made from: if
// they changed meanwhile (another version) nothing is written and the
// form says so; a refused value is shown with the form as posted.
func (h *Handler) saveSettings(w http.ResponseWriter, r *http.Request) {
	posted := settingsView{Sources: r.PostFormValue("sources"), Roles: r.PostFormValue("roles"), Offices: r.PostFormValue("offices"),
		OrgFields: r.PostFormValue("orgFields"), SignInURL: r.PostFormValue("signInUrl"), From: r.PostFormValue("from"),
		Subject: r.PostFormValue("subject")}
	posted.Version, _ = strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	fields, err := parseOrgFields(posted.OrgFields)
	if err == nil {
		_, err = h.cfg.Directory.UpdateSettings(r.Context(), principal(r), func(s *directory.TenantSettings) error {
			if s.Version != posted.Version {
				return scimerrors.ScimError{Status: http.StatusPreconditionFailed,
					Detail: fmt.Sprintf("The settings changed since this page was opened (version %d, now %d): reload it and apply your change again.", posted.Version, s.Version)}
			}
			s.Sources, s.Roles, s.Offices, s.OrgFields = lines(posted.Sources), lines(posted.Roles), lines(posted.Offices), fields
			s.Notifications.SignInURL, s.Notifications.From, s.Notifications.Subject = strings.TrimSpace(posted.SignInURL), strings.TrimSpace(posted.From), strings.TrimSpace(posted.Subject)
			return nil
		})
	}
	if err != nil {
		h.refused(w, r, err, func(status int, msg string) {
			h.render(w, r, status, "settings", view{Title: "Tenant settings", Nav: "settings", Error: msg, Data: posted})
		})
		return
	}
	http.Redirect(w, r, Base+"/settings?saved=1", http.StatusSeeOther)
}

// lines splits a textarea into its non-blank, trimmed lines.
func lines(s string) []string {
	out := []string{}
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// parseOrgFields reads "name type description" lines.
func parseOrgFields(s string) ([]directory.OrgField, error) {
	out := []directory.OrgField{}
	for i, l := range lines(s) {
		parts := strings.Fields(l)
		if len(parts) < 2 {
			return nil, scimerrors.ScimError{Status: http.StatusBadRequest, ScimType: scimerrors.ScimTypeInvalidValue,
				Detail: fmt.Sprintf("Organisation field line %d (%q) needs a name and a type (string, date, decimal, integer or boolean).", i+1, l)}
		}
		out = append(out, directory.OrgField{Name: parts[0], Type: parts[1], Description: strings.Join(parts[2:], " ")})
	}
	return out, nil
}
