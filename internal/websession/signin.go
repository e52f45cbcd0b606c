package websession

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"

	"github.com/scimbridge/scimbridge/internal/auth"
)

// signinCookie holds the double-submit token of the sign-in form.
const signinCookie = "scimbridge_signin"

// SignInToken returns the anti-forgery token for a sign-in form and sets
// its cookie (a sign-in form posted from another site carries no match).
func (m *Manager) SignInToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(signinCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	tok := randomToken()
	m.setCookie(w, r, signinCookie, tok, 3600)
	return tok
}

// SignInError is a refused sign-in; its message is safe to show.
type SignInError struct{ Message string }

func (e *SignInError) Error() string { return e.Message }

// SignInSecret signs in with an admin secret posted in the form field
// "secret" (with the sign-in form's "csrf" field) and opens a session
// whose principal is the secret's.
func (m *Manager) SignInSecret(w http.ResponseWriter, r *http.Request) error {
	if m.cfg.Secrets == nil {
		return &SignInError{"Sign-in with an admin secret is turned off on this server; sign in with your identity provider."}
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	c, err := r.Cookie(signinCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		return &SignInError{"The sign-in form was stale or came from another site; please try again."}
	}
	secret := r.PostFormValue("secret")
	if secret == "" {
		return &SignInError{"Enter an admin secret (scimbridge token create prints one)."}
	}
	p, err := m.cfg.Secrets.Authenticate(r.Context(), secret)
	var ae *auth.Error
	if errors.As(err, &ae) {
		return &SignInError{"That secret is not valid or has been revoked."}
	}
	if err != nil {
		return fmt.Errorf("sign in with a secret: %w", err)
	}
	return m.open(w, r, p, auth.HashSecret(secret))
}
