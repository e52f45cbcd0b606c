package csvweb

import (
	"errors"
	"net/http"

	"github.com/scimbridge/scimbridge/internal/websession"
)

// signinView is the sign-in page's data.
type signinView struct {
	OIDC, Secret bool
	CSRF, Next   string
}

var reasons = map[string]string{
	"expired":     "Your session has ended; please sign in again.",
	"deactivated": "You were signed out: your user is deactivated in this directory.",
	"revoked":     "You were signed out: the secret you signed in with has been revoked.",
	"signedout":   "You have signed out.",
	"secret-off":  "You were signed out: sign-in with secrets is turned off.",
	"no-tier":     "You were signed out: your session has no tier.",
}

func (h *Handler) signinPage(w http.ResponseWriter, r *http.Request) {
	h.renderSignin(w, r, http.StatusOK, "", reasons[r.URL.Query().Get("reason")])
}

func (h *Handler) renderSignin(w http.ResponseWriter, r *http.Request, status int, errMsg, notice string) {
	m := h.cfg.Sessions
	next := r.URL.Query().Get("next")
	if next == "" {
		next = r.PostFormValue("next")
	}
	d := signinView{OIDC: m.OIDCEnabled(), Secret: m.SecretEnabled(), Next: m.SafeNext(next)}
	if d.Secret {
		d.CSRF = m.SignInToken(w, r)
	}
	h.render(w, r, status, "signin", view{Title: "Sign in", Error: errMsg, Notice: notice, Data: d})
}

func (h *Handler) signinSecret(w http.ResponseWriter, r *http.Request) {
	if err := h.cfg.Sessions.SignInSecret(w, r); err != nil {
		h.signinFailed(w, r, err)
		return
	}
	http.Redirect(w, r, h.cfg.Sessions.SafeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (h *Handler) signinOIDC(w http.ResponseWriter, r *http.Request) {
	if err := h.cfg.Sessions.BeginOIDC(w, r, r.URL.Query().Get("next")); err != nil {
		h.signinFailed(w, r, err)
	}
}

func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	next, err := h.cfg.Sessions.FinishOIDC(w, r)
	if err != nil {
		h.signinFailed(w, r, err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// signinFailed shows the sign-in page with the refusal; other failures
// are logged and shown without their text.
func (h *Handler) signinFailed(w http.ResponseWriter, r *http.Request, err error) {
	var se *websession.SignInError
	if errors.As(err, &se) {
		h.renderSignin(w, r, http.StatusUnauthorized, se.Message, "")
		return
	}
	h.cfg.Logger.ErrorContext(r.Context(), "sign-in failed", "err", err)
	h.renderSignin(w, r, http.StatusBadGateway, "Sign-in failed: the identity provider or the database could not be reached. Please retry.", "")
}

func (h *Handler) signout(w http.ResponseWriter, r *http.Request) {
	h.cfg.Sessions.SignOut(w, r)
	http.Redirect(w, r, Base+"/signin?reason=signedout", http.StatusSeeOther)
}
