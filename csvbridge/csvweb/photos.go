package csvweb

import (
	"net/http"

	"github.com/scimbridge/scimbridge/csvbridge"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
)

// photoMatch is one choice of "user attribute to match pictures".
type photoMatch struct {
	Value, Label string
}

// photoMatches are the attributes a picture's file name is matched on;
// seed 002 names its files after the agent id (employeeNumber).
var photoMatches = []photoMatch{
	{schema.EnterpriseURN + ":employeeNumber", "Agent id (employee number)"},
	{"userName", "User name (lan id)"},
	{"email", "Email address"},
	{"externalId", "External id"},
	{"id", "scimbridge id"},
}

// photosView is the profile-pictures page: the form, and the report of
// the upload just made.
type photosView struct {
	Matches []photoMatch
	Match   string
	MaxMiB  int64
	Report  *csvbridge.PhotoReport
}

func (h *Handler) photosPage(w http.ResponseWriter, r *http.Request) {
	h.renderPhotos(w, r, http.StatusOK, photoMatches[0].Value, nil, "")
}

func (h *Handler) renderPhotos(w http.ResponseWriter, r *http.Request, status int, match string, rep *csvbridge.PhotoReport, errMsg string) {
	if principal(r).Tier < policy.Required(policy.PhotoImport) {
		h.forbidden(w, r, policy.PhotoImport)
		return
	}
	v := photosView{Matches: photoMatches, Match: match, MaxMiB: h.cfg.Jobs.PhotoLimits().MaxZipBytes >> 20, Report: rep}
	h.render(w, r, status, "photos", view{Title: "Import profile pictures", Nav: "photos", Error: errMsg, Field: "file", Data: v})
}

// uploadPhotos imports the form's ZIP (parsed, spilling to disk, by the
// session middleware) and shows the report: inserted and invalid files,
// each with its user or its reason.
func (h *Handler) uploadPhotos(w http.ResponseWriter, r *http.Request) {
	match := r.PostFormValue("match")
	if r.MultipartForm != nil {
		defer r.MultipartForm.RemoveAll()
	}
	f, fh, ok := h.openUpload(w, r, func() {
		h.renderPhotos(w, r, http.StatusBadRequest, match, nil, "Choose a ZIP file of pictures to upload.")
	})
	if !ok {
		return
	}
	defer f.Close()
	rep, err := h.cfg.Jobs.ImportPhotos(r.Context(), principal(r), match, f, fh.Size, csvbridge.PhotoURLs(r))
	if err != nil {
		h.refused(w, r, err, func(status int, msg string) { h.renderPhotos(w, r, status, match, nil, msg) })
		return
	}
	h.renderPhotos(w, r, http.StatusOK, match, rep, "")
}
