package csvweb

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/go-chi/chi/v5"
	"github.com/scimbridge/scimbridge/csvbridge"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/websession"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Base is the path the console is mounted at.
const Base = "/ui"

// Config is what the console is built from; every field is required.
type Config struct {
	Sessions  *websession.Manager
	Directory *directory.Service
	Jobs      *csvbridge.Jobs
	// CSV is the CSV API handler (csvhttp); its GET endpoints are served
	// under /ui/csv for the signed-in session.
	CSV http.Handler
	// Audit is the audit API handler (auditapi), served at /ui/audit.csv.
	Audit  http.Handler
	Logger *slog.Logger
}

// Handler serves the console below Base (the prefix stripped).
type Handler struct {
	cfg   Config
	pages map[string]*template.Template
	r     chi.Router
}

// New returns the console handler.
func New(cfg Config) (*Handler, error) {
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg, pages: pages, r: chi.NewRouter()}
	h.routes()
	return h, nil
}

// ServeHTTP serves a console request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.r.ServeHTTP(w, r) }

func (h *Handler) routes() {
	r := h.r
	r.Use(securityHeaders)
	static, _ := fs.Sub(staticFS, "static")
	r.Handle("/static/*", http.StripPrefix("/static/", http.FileServer(http.FS(static))))
	r.Get("/signin", h.signinPage)
	r.Post("/signin", h.signinSecret)
	r.Get("/signin/oidc", h.signinOIDC)
	r.Get("/callback", h.callback)
	r.Group(func(r chi.Router) {
		r.Use(h.cfg.Sessions.Require)
		r.Get("/", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, Base+"/users", http.StatusSeeOther) })
		r.Post("/signout", h.signout)
		r.Get("/users", h.users)
		r.Get("/users/{id}", h.user)
		r.Get("/groups", h.groups)
		r.Get("/groups/{id}", h.group)
		r.Get("/imports", h.history)
		r.Get("/imports/new", h.newImport)
		r.Post("/imports", h.upload)
		r.Get("/imports/{id}", h.importPage)
		r.Post("/imports/{id}/commit", h.commit)
		r.Post("/imports/{id}/cancel", h.cancel)
		r.Get("/profiles/{name}", h.fieldGuide)
		r.Get("/photos", h.photosPage)
		r.Post("/photos", h.uploadPhotos)
		r.Get("/actions/new", h.actionPage)
		r.Post("/actions", h.submitAction)
		r.Get("/export", h.exportPage)
		r.Get("/export/users.csv", h.exportDownload)
		r.Get("/audit", h.audit)
		r.Get("/audit.csv", h.auditCSV)
		r.Get("/settings", h.settings)
		r.Post("/settings", h.saveSettings)
		r.Get("/csv/*", h.csvAPI)
	})
	r.NotFound(h.notFound)
}

// csvAPI serves the CSV API's GET endpoints (downloads, a job's JSON) for
// the session: /ui/csv/X is the API's /csv/X.
func (h *Handler) csvAPI(w http.ResponseWriter, r *http.Request) {
	h.cfg.CSV.ServeHTTP(w, detach(r, "/"+chi.URLParam(r, "*"), r.URL.RawQuery))
}

// detach returns r for another handler at path and query, without this
// router's routing state (a chi router inside would route by it).
func detach(r *http.Request, path, rawQuery string) *http.Request {
	r2 := r.WithContext(context.WithValue(r.Context(), chi.RouteCtxKey, nil))
	r2.URL = &url.URL{Path: path, RawQuery: rawQuery}
	return r2
}

// securityHeaders keeps pages out of frames and other origins' scripts.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// view is what every page template gets.
type view struct {
	Title   string
	Nav     string
	Base    string
	Session websession.Info
	// Can says what the signed-in tier may do: "import", "audit",
	// "export", "action", "photos", "settings".
	Can   map[string]bool
	Error string
	// Field names the form field Error belongs to: the page shows the
	// error next to that field instead of above the page.
	Field   string
	Notice  string
	Refresh bool
	Data    any
}

func can(p policy.Principal) map[string]bool {
	ok := func(op policy.Operation) bool { return p.Tier >= policy.Required(op) }
	return map[string]bool{"import": ok(policy.CSVImport), "audit": ok(policy.AuditRead), "export": ok(policy.CSVExport),
		"action": ok(policy.CSVAction), "photos": ok(policy.PhotoImport), "settings": ok(policy.TenantManage)}
}

// render writes page name with status.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	v.Base = Base
	if info, ok := websession.FromContext(r.Context()); ok {
		v.Session, v.Can = info, can(info.Principal)
	}
	t, ok := h.pages[name]
	if !ok {
		panic("csvweb: no page " + name)
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", v); err != nil {
		h.cfg.Logger.ErrorContext(r.Context(), "render page", "page", name, "err", err)
		http.Error(w, "The page could not be rendered; it has been logged.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// fail renders an error page for err: a service refusal with its status
// and words; anything else logged and shown as 500 without its text.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := h.explain(r, err)
	h.render(w, r, status, "error", view{Title: http.StatusText(status), Error: msg})
}

// refused shows a refused form: show renders the form again with the
// reason; a refusal by tier or a server failure gets its own page.
func (h *Handler) refused(w http.ResponseWriter, r *http.Request, err error, show func(status int, msg string)) {
	status, msg := h.explain(r, err)
	if status == http.StatusForbidden || status >= 500 {
		h.fail(w, r, err)
		return
	}
	show(status, msg)
}

// explain turns an error into a status and a message safe to show.
func (h *Handler) explain(r *http.Request, err error) (int, string) {
	var se scimerrors.ScimError
	if errors.As(err, &se) {
		return se.Status, se.Detail
	}
	h.cfg.Logger.ErrorContext(r.Context(), "console request failed", "path", r.URL.Path, "err", err)
	return http.StatusInternalServerError, "An internal error occurred; it has been logged. Please retry later."
}

func (h *Handler) forbidden(w http.ResponseWriter, r *http.Request, op policy.Operation) {
	h.render(w, r, http.StatusForbidden, "error", view{Title: "Forbidden",
		Error: fmt.Sprintf("Forbidden: this needs %s or higher.", policy.Required(op))})
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusNotFound, "error", view{Title: "Not found", Error: "There is no such page in the console."})
}

func principal(r *http.Request) policy.Principal {
	info, _ := websession.FromContext(r.Context())
	return info.Principal
}
