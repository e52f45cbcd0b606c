package websession

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/internal/auth"
	"github.com/scimbridge/scimbridge/internal/authn"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/store"
)

// DefaultTTL is how long a session lasts when Config.TTL is zero.
const DefaultTTL = 8 * time.Hour

// cookieName is the session cookie's name over plain HTTP; behind TLS it
// gets the __Host- prefix (Secure, Path=/, no Domain).
const cookieName = "scimbridge_session"

// Store is what sessions need from the store.
type Store interface {
	store.Sessions
}

// Config configures a Manager. Store, Bind and Base are required.
type Config struct {
	Store Store
	// Bind is the API's binder (directory.Service.Bind): it binds a person
	// to their directory user and refuses deactivated people.
	Bind authn.Binder
	// Secrets, when set, allows sign-in with a provisioning secret.
	Secrets *auth.Authenticator
	// OIDC, when set, offers sign-in with the identity provider.
	OIDC *OIDC
	// Base is the path the console is mounted at ("/ui").
	Base string
	// TTL is a session's lifetime (default DefaultTTL).
	TTL time.Duration
	// MaxForm bounds a form post, uploads included (default 64 MiB).
	MaxForm int64
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Manager signs people in and out and authenticates console requests.
type Manager struct {
	cfg Config
}

// New returns a Manager.
func New(cfg Config) (*Manager, error) {
	if cfg.Store == nil || cfg.Bind == nil || cfg.Base == "" {
		return nil, errors.New("websession: Store, Bind and Base are required")
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.MaxForm <= 0 {
		cfg.MaxForm = 64 << 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Manager{cfg: cfg}, nil
}

// OIDCEnabled reports whether sign-in with the identity provider is offered.
func (m *Manager) OIDCEnabled() bool { return m.cfg.OIDC != nil }

// SecretEnabled reports whether sign-in with an admin secret is offered.
func (m *Manager) SecretEnabled() bool { return m.cfg.Secrets != nil }

// Info is the signed-in session a page is rendered for.
type Info struct {
	Principal policy.Principal
	CSRF      string
	Expires   time.Time
}

type infoKey struct{}

// FromContext returns the session of a request that passed Require.
func FromContext(ctx context.Context) (Info, bool) {
	i, ok := ctx.Value(infoKey{}).(Info)
	return i, ok
}

func (m *Manager) now() time.Time { return m.cfg.Now().UTC().Truncate(time.Microsecond) }

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// secure reports whether the browser reached us over TLS (directly or
// through a proxy that says so).
func secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func sessionCookieName(r *http.Request) string {
	if secure(r) {
		return "__Host-" + cookieName
	}
	return cookieName
}

func (m *Manager) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	path := m.cfg.Base
	if secure(r) && strings.HasPrefix(name, "__Host-") {
		path = "/"
	}
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: path, MaxAge: maxAge, HttpOnly: true,
		Secure: secure(r), SameSite: http.SameSiteLaxMode})
}

// open stores a new session for p and sets its cookie.
func (m *Manager) open(w http.ResponseWriter, r *http.Request, p policy.Principal, credHash string) error {
	tok, now := randomToken(), m.now()
	tier := ""
	if p.Tier != policy.TierNone {
		tier = p.Tier.String()
	}
	s := store.Session{IDHash: hashToken(tok), TenantID: p.Tenant, Subject: p.Subject, Kind: string(p.Kind),
		Tier: store.Tier(tier), UserName: p.UserName, CredentialHash: credHash, CSRF: randomToken(),
		Created: now, Expires: now.Add(m.cfg.TTL)}
	if err := m.cfg.Store.CreateSession(r.Context(), s); err != nil {
		return fmt.Errorf("open session: %w", err)
	}
	if n, err := m.cfg.Store.DeleteExpiredSessions(r.Context(), now); err != nil {
		m.cfg.Logger.WarnContext(r.Context(), "sweep expired sessions", "err", err)
	} else if n > 0 {
		m.cfg.Logger.InfoContext(r.Context(), "expired sessions removed", "count", n)
	}
	m.setCookie(w, r, sessionCookieName(r), tok, int(m.cfg.TTL.Seconds()))
	return nil
}

// SignOut ends the request's session (if any) and clears its cookie.
func (m *Manager) SignOut(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookieName(r)); err == nil {
		if err := m.cfg.Store.DeleteSession(r.Context(), hashToken(c.Value)); err != nil {
			m.cfg.Logger.WarnContext(r.Context(), "sign out", "err", err)
		}
	}
	m.setCookie(w, r, sessionCookieName(r), "", -1)
}

// errSignedOut says the request has no usable session; reason is shown on
// the sign-in page ("" for none).
type errSignedOut struct{ reason string }

func (e errSignedOut) Error() string { return "signed out: " + e.reason }

// session finds the request's session and the principal it stands for,
// bound as the API binds (deactivated people refused).
func (m *Manager) session(r *http.Request) (Info, error) {
	c, err := r.Cookie(sessionCookieName(r))
	if err != nil || c.Value == "" {
		return Info{}, errSignedOut{}
	}
	s, err := m.cfg.Store.SessionByHash(r.Context(), hashToken(c.Value), m.now())
	if errors.Is(err, store.ErrNotFound) {
		return Info{}, errSignedOut{reason: "expired"}
	}
	if err != nil {
		return Info{}, fmt.Errorf("read session: %w", err)
	}
	p, err := m.principal(r.Context(), s)
	if err != nil {
		return Info{}, err
	}
	p, err = m.cfg.Bind.Bind(r.Context(), p)
	var se scimerrors.ScimError
	if errors.As(err, &se) && se.Status == http.StatusForbidden {
		return Info{}, errSignedOut{reason: "deactivated"}
	}
	if err != nil {
		return Info{}, fmt.Errorf("bind session: %w", err)
	}
	return Info{Principal: p, CSRF: s.CSRF, Expires: s.Expires}, nil
}

// principal is the session's principal; a secret's is read afresh.
func (m *Manager) principal(ctx context.Context, s store.Session) (policy.Principal, error) {
	if s.CredentialHash != "" {
		if m.cfg.Secrets == nil {
			return policy.Principal{}, errSignedOut{reason: "secret-off"}
		}
		p, err := m.cfg.Secrets.AuthenticateHash(ctx, s.CredentialHash)
		if errors.Is(err, auth.ErrUnauthenticated) {
			return p, errSignedOut{reason: "revoked"}
		}
		return p, err
	}
	tier, err := policy.ParseTier(string(s.Tier))
	if err != nil {
		return policy.Principal{}, errSignedOut{reason: "no-tier"}
	}
	return policy.Principal{Tenant: s.TenantID, Subject: s.Subject, Kind: policy.Kind(s.Kind), Tier: tier, UserName: s.UserName}, nil
}

// Require lets through requests with a live session, with the principal in
// their context (authn.Principal) and the session (FromContext), after
// checking the CSRF token of every state-changing request. Others are sent
// to the sign-in page (their session, if any, removed).
func (m *Manager) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info, err := m.session(r)
		var so errSignedOut
		if errors.As(err, &so) {
			if so.reason != "" {
				m.SignOut(w, r)
			}
			m.toSignIn(w, r, so.reason)
			return
		}
		if err != nil {
			m.cfg.Logger.ErrorContext(r.Context(), "console session", "err", err)
			http.Error(w, "The console cannot read your session right now; please retry.", http.StatusServiceUnavailable)
			return
		}
		if unsafeMethod(r.Method) {
			if status, refusal := m.checkCSRF(w, r, info.CSRF); refusal != "" {
				http.Error(w, refusal, status)
				return
			}
		}
		ctx := authn.Authenticated(r.Context(), info.Principal)
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, infoKey{}, info)))
	})
}

func (m *Manager) toSignIn(w http.ResponseWriter, r *http.Request, reason string) {
	q := url.Values{}
	if r.Method == http.MethodGet {
		q.Set("next", r.URL.RequestURI())
	}
	if reason != "" {
		q.Set("reason", reason)
	}
	http.Redirect(w, r, m.cfg.Base+"/signin?"+q.Encode(), http.StatusSeeOther)
}

func unsafeMethod(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// checkCSRF parses the form (uploads spill to disk) and compares its csrf
// field, or the X-CSRF-Token header, with want. It returns the status
// and why the request is refused, "" when it may go on.
func (m *Manager) checkCSRF(w http.ResponseWriter, r *http.Request, want string) (int, string) {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		r.Body = http.MaxBytesReader(w, r.Body, m.cfg.MaxForm)
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
			err := r.ParseMultipartForm(1 << 20)
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return http.StatusRequestEntityTooLarge, fmt.Sprintf("The file is larger than the limit of %d MiB; split it into smaller files.", m.cfg.MaxForm>>20)
			}
			if err != nil {
				return http.StatusBadRequest, fmt.Sprintf("The form could not be read: %v.", err)
			}
		}
		got = r.PostFormValue("csrf")
	}
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return http.StatusForbidden, "Forbidden: this form is missing its anti-forgery token or it is stale; reload the page and try again."
	}
	return 0, ""
}

// SafeNext returns next when it is a path inside the console, else the
// console's home: sign-in never redirects elsewhere.
func (m *Manager) SafeNext(next string) string {
	if strings.HasPrefix(next, m.cfg.Base+"/") && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") {
		return next
	}
	return m.cfg.Base + "/"
}
