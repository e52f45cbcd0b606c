package server_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/server"
	"github.com/scimbridge/scimbridge/internal/server/servertest"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/scim"
)

// browser is a cookie-keeping client of the console that does not follow
// redirects, so each step's answer can be checked.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status   int
	location string
	body     string
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(body)}
}

func (b *browser) get(path string) page {
	b.t.Helper()
	req, err := http.NewRequest("GET", b.abs(path), nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	req, err := http.NewRequest("POST", b.abs(path), strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// upload posts a file as the upload form does, with more form fields
// given as name, value pairs.
func (b *browser) upload(csrf, profile, name, content string, fields ...string) page {
	b.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("csrf", csrf)
	_ = mw.WriteField("profile", profile)
	for i := 0; i+1 < len(fields); i += 2 {
		_ = mw.WriteField(fields[i], fields[i+1])
	}
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write([]byte(content))
	_ = mw.Close()
	req, err := http.NewRequest("POST", b.abs("/ui/imports"), &buf)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

func (b *browser) abs(path string) string {
	if strings.HasPrefix(path, "http") {
		return path
	}
	return b.base + path
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the anti-forgery token of the page at path.
func (b *browser) csrf(path string) string {
	b.t.Helper()
	p := b.get(path)
	m := csrfField.FindStringSubmatch(p.body)
	if m == nil {
		b.t.Fatalf("GET %s (%d): no csrf field", path, p.status)
	}
	return m[1]
}

// signInSecret signs in with a provisioning secret through the form.
func (b *browser) signInSecret(secret string) page {
	b.t.Helper()
	return b.post("/ui/signin", url.Values{"csrf": {b.csrf("/ui/signin")}, "secret": {secret}, "next": {"/ui/users"}})
}

func mustStatus(t *testing.T, p page, status int, what string) {
	t.Helper()
	if p.status != status {
		t.Fatalf("%s: status %d, want %d (Location %q)\n%s", what, p.status, status, p.location, p.body)
	}
}

func mustSignInRedirect(t *testing.T, p page, reason, what string) {
	t.Helper()
	mustStatus(t, p, http.StatusSeeOther, what)
	if !strings.HasPrefix(p.location, "/ui/signin") || !strings.Contains(p.location, reason) {
		t.Fatalf("%s: redirected to %q, want the sign-in page saying %q", what, p.location, reason)
	}
}

// TestConsole_SecretSignInAndSignOut: without OIDC the console offers the
// admin-secret form; a secret opens a session in an HttpOnly SameSite
// cookie whose pages show what its tier may do; signing out ends the
// session on the server, so the old cookie no longer works.
func TestConsole_SecretSignInAndSignOut(t *testing.T) {
	servertest.ForEachBackend(t, func(t *testing.T, e *servertest.Env) {
		b := newBrowser(t, e.URL)
		mustSignInRedirect(t, b.get("/ui/users"), "next=", "users before signing in")
		signin := b.get("/ui/signin")
		if !strings.Contains(signin.body, `name="secret"`) || strings.Contains(signin.body, "signin-oidc") {
			t.Fatalf("sign-in page without OIDC should offer only the secret form:\n%s", signin.body)
		}
		bad := b.post("/ui/signin", url.Values{"csrf": {b.csrf("/ui/signin")}, "secret": {"scimb_wrong"}})
		mustStatus(t, bad, http.StatusUnauthorized, "a wrong secret")
		p := b.signInSecret(e.Token)
		mustStatus(t, p, http.StatusSeeOther, "sign in")
		cookie := sessionCookie(t, b, e.URL)
		users := b.get("/ui/users")
		mustStatus(t, users, http.StatusOK, "users page")
		for _, want := range []string{`id="import-users"`, `href="/ui/audit"`, "credential:test-admin"} {
			if !strings.Contains(users.body, want) {
				t.Errorf("tier-3 users page lacks %s", want)
			}
		}
		mustStatus(t, b.post("/ui/signout", url.Values{"csrf": {b.csrf("/ui/users")}}), http.StatusSeeOther, "sign out")
		mustSignInRedirect(t, b.get("/ui/users"), "next=", "users after signing out")
		replay := newBrowser(t, e.URL)
		u, _ := url.Parse(e.URL + "/ui/")
		replay.c.Jar.SetCookies(u, []*http.Cookie{cookie})
		mustSignInRedirect(t, replay.get("/ui/users"), "expired", "the old cookie after signing out")
	})
}

// sessionCookie returns the session cookie set by the server, checking its
// attributes as the browser received them.
func sessionCookie(t *testing.T, b *browser, base string) *http.Cookie {
	t.Helper()
	u, _ := url.Parse(base + "/ui/")
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "scimbridge_session" {
			return c
		}
	}
	t.Fatal("no session cookie")
	return nil
}

// TestConsole_CookieAttributes: the session cookie is HttpOnly, SameSite
// and scoped to /ui; behind TLS (a proxy saying https) it is Secure with
// the __Host- prefix.
func TestConsole_CookieAttributes(t *testing.T) {
	e := servertest.New(t, servertest.Backends()["sqlite"](t), scim.Config{})
	b := newBrowser(t, e.URL)
	form := url.Values{"csrf": {b.csrf("/ui/signin")}, "secret": {e.Token}}
	for _, tls := range []bool{false, true} {
		req, _ := http.NewRequest("POST", e.URL+"/ui/signin", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if tls {
			req.Header.Set("X-Forwarded-Proto", "https")
		}
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		set := strings.Join(resp.Header.Values("Set-Cookie"), "\n")
		for _, want := range []string{"HttpOnly", "SameSite=Lax"} {
			if !strings.Contains(set, want) {
				t.Errorf("tls=%v: Set-Cookie %q lacks %s", tls, set, want)
			}
		}
		if tls != strings.Contains(set, "__Host-scimbridge_session=") || tls != strings.Contains(set, "Secure") {
			t.Errorf("tls=%v: Set-Cookie %q", tls, set)
		}
		if !tls && !strings.Contains(set, "Path=/ui") {
			t.Errorf("Set-Cookie %q is not scoped to /ui", set)
		}
	}
}

// TestConsole_CSRF: a signed-in session's state-changing requests without
// the session's token, or with another token, are refused 403 and change
// nothing; a sign-in form posted without its cookie is refused too.
func TestConsole_CSRF(t *testing.T) {
	e := servertest.New(t, servertest.Backends()["sqlite"](t), scim.Config{})
	b := newBrowser(t, e.URL)
	mustStatus(t, b.post("/ui/signin", url.Values{"secret": {e.Token}}), http.StatusUnauthorized, "sign-in without the form's token")
	mustStatus(t, b.signInSecret(e.Token), http.StatusSeeOther, "sign in")
	for _, token := range []string{"", "forged-token"} {
		mustStatus(t, b.post("/ui/signout", url.Values{"csrf": {token}}), http.StatusForbidden, "sign out with csrf "+token)
		up := b.upload(token, "support-tiers", "u.csv", "first_name,last_name,email,tier\nA,B,a@example.com,support-tier-0-help-desk\n")
		mustStatus(t, up, http.StatusForbidden, "upload with csrf "+token)
	}
	if n := len(e.Do(t, "GET", "/csv/imports", "").Must(t, http.StatusOK).JSON(t)["imports"].([]any)); n != 0 {
		t.Fatalf("%d imports exist after refused uploads", n)
	}
	mustStatus(t, b.get("/ui/users"), http.StatusOK, "still signed in")
	up := b.upload(b.csrf("/ui/imports/new"), "support-tiers", "u.csv", "first_name,last_name,email,tier\nA,B,a@example.com,support-tier-0-help-desk\n")
	mustStatus(t, up, http.StatusSeeOther, "upload with the token")
}

// TestConsole_TierRefusals: a tier-0 session sees no import button, no
// audit link, and is refused (403) the import form, a direct upload post
// with a valid token, and the audit page; tier 2 reads the audit log.
func TestConsole_TierRefusals(t *testing.T) {
	e := servertest.New(t, servertest.Backends()["sqlite"](t), scim.Config{})
	b := newBrowser(t, e.URL)
	mustStatus(t, b.signInSecret(e.NewToken(t, store.DefaultTenant, "helpdesk", policy.Tier0HelpDesk)), http.StatusSeeOther, "sign in")
	users := b.get("/ui/users")
	mustStatus(t, users, http.StatusOK, "users")
	if strings.Contains(users.body, "import-users") || strings.Contains(users.body, `href="/ui/imports"`) || strings.Contains(users.body, `href="/ui/audit"`) {
		t.Fatal("tier 0 is offered imports or the audit log")
	}
	mustStatus(t, b.get("/ui/imports"), http.StatusForbidden, "import history at tier 0")
	mustStatus(t, b.get("/ui/imports/new"), http.StatusForbidden, "import form at tier 0")
	csrf := b.csrf("/ui/users")
	up := b.upload(csrf, "support-tiers", "u.csv", "first_name,last_name,email,tier\nA,B,a@example.com,support-tier-0-help-desk\n")
	mustStatus(t, up, http.StatusForbidden, "upload posted directly at tier 0")
	if !strings.Contains(up.body, "support-tier-1-operations") {
		t.Fatalf("403 does not say which tier is needed:\n%s", up.body)
	}
	mustStatus(t, b.get("/ui/audit"), http.StatusForbidden, "audit at tier 0")
	mustStatus(t, b.get("/ui/export"), http.StatusOK, "export at tier 0")
	b2 := newBrowser(t, e.URL)
	mustStatus(t, b2.signInSecret(e.NewToken(t, store.DefaultTenant, "partner", policy.Tier2SoftwarePartner)), http.StatusSeeOther, "sign in")
	mustStatus(t, b2.get("/ui/audit"), http.StatusOK, "audit at tier 2")
}

// TestConsole_SessionExpiry: a session ends at its expiry whatever
// happens meanwhile; the next request goes to the sign-in page saying so.
func TestConsole_SessionExpiry(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	e := servertest.NewWith(t, server.Deps{Store: servertest.Backends()["sqlite"](t), SCIM: scim.Config{},
		UI: server.UIConfig{SessionTTL: time.Hour, Now: clock.Now}})
	b := newBrowser(t, e.URL)
	mustStatus(t, b.signInSecret(e.Token), http.StatusSeeOther, "sign in")
	clock.Add(59 * time.Minute)
	mustStatus(t, b.get("/ui/users"), http.StatusOK, "users before expiry")
	clock.Add(time.Minute)
	mustSignInRedirect(t, b.get("/ui/users"), "reason=expired", "users at expiry")
}

// TestConsole_RevokedSecretSignsOut: a session opened with a secret ends
// when the secret is revoked.
func TestConsole_RevokedSecretSignsOut(t *testing.T) {
	e := servertest.New(t, servertest.Backends()["sqlite"](t), scim.Config{})
	tok := e.NewToken(t, store.DefaultTenant, "ops", policy.Tier1Operations)
	b := newBrowser(t, e.URL)
	mustStatus(t, b.signInSecret(tok), http.StatusSeeOther, "sign in")
	creds, err := e.Store.ListCredentials(t.Context(), store.DefaultTenant)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range creds {
		if c.Name == "ops" {
			if err := e.Store.RevokeCredential(t.Context(), store.DefaultTenant, c.ID, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	mustSignInRedirect(t, b.get("/ui/users"), "reason=revoked", "after revoking")
}

// TestConsole_OIDCSignIn: with OIDC configured the sign-in page offers the
// identity provider and not the secret form (posting it is refused); the
// authorization code + PKCE flow opens a session with the tier of the ID
// token's claim; a callback with another state is refused.
func TestConsole_OIDCSignIn(t *testing.T) {
	e := servertest.NewConsole(t, server.Deps{Store: servertest.Backends()["sqlite"](t), SCIM: scim.Config{}}, false)
	e.IdP.AddPerson("alice@example.com", policy.Tier1Operations)
	b := newBrowser(t, e.URL)
	signin := b.get("/ui/signin")
	if !strings.Contains(signin.body, "signin-oidc") || strings.Contains(signin.body, `name="secret"`) {
		t.Fatalf("with OIDC the page should offer only the identity provider:\n%s", signin.body)
	}
	mustStatus(t, b.post("/ui/signin", url.Values{"secret": {e.Token}}), http.StatusUnauthorized, "secret sign-in with OIDC on")
	oidcSignIn(t, b, "alice@example.com", "/ui/users")
	users := b.get("/ui/users")
	mustStatus(t, users, http.StatusOK, "users after OIDC sign-in")
	if !strings.Contains(users.body, "alice@example.com") || !strings.Contains(users.body, "support-tier-1-operations") || !strings.Contains(users.body, "import-users") {
		t.Fatalf("users page does not show alice at tier 1:\n%s", users.body)
	}
	b2 := newBrowser(t, e.URL)
	start := b2.get("/ui/signin/oidc")
	mustStatus(t, start, http.StatusFound, "start")
	cb := b2.get("/ui/callback?state=forged&code=x")
	mustStatus(t, cb, http.StatusUnauthorized, "callback with a forged state")
}

// oidcSignIn runs the whole flow: the console's redirect to the issuer
// (with a PKCE S256 challenge), the issuer's sign-in, the callback.
func oidcSignIn(t *testing.T, b *browser, userName, next string) page {
	t.Helper()
	start := b.get("/ui/signin/oidc?next=" + url.QueryEscape(next))
	mustStatus(t, start, http.StatusFound, "start OIDC")
	authURL, err := url.Parse(start.location)
	if err != nil {
		t.Fatal(err)
	}
	q := authURL.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" || q.Get("state") == "" {
		t.Fatalf("authorization request lacks PKCE, nonce or state: %s", start.location)
	}
	q.Set("login_hint", userName)
	authURL.RawQuery = q.Encode()
	idp := b.get(authURL.String())
	mustStatus(t, idp, http.StatusFound, "issuer")
	cb := b.get(idp.location)
	mustStatus(t, cb, http.StatusSeeOther, "callback")
	if cb.location != next {
		t.Fatalf("after sign-in went to %q, want %q", cb.location, next)
	}
	return cb
}

// TestConsole_DeactivatedPersonIsSignedOut: a person deactivated in the
// directory is signed out at their next request, and cannot sign in again.
func TestConsole_DeactivatedPersonIsSignedOut(t *testing.T) {
	e := servertest.NewConsole(t, server.Deps{Store: servertest.Backends()["sqlite"](t), SCIM: scim.Config{}}, false)
	e.IdP.AddPerson("bob@example.com", policy.Tier1Operations)
	id := e.Do(t, "POST", "Users", `{"userName":"bob@example.com"}`).Must(t, http.StatusCreated).JSON(t)["id"].(string)
	b := newBrowser(t, e.URL)
	oidcSignIn(t, b, "bob@example.com", "/ui/users")
	mustStatus(t, b.get("/ui/users/"+id), http.StatusOK, "own user page")
	e.Do(t, "PATCH", "Users/"+id, patchOne("active", "false")).Must(t, http.StatusOK)
	mustSignInRedirect(t, b.get("/ui/users"), "reason=deactivated", "after deactivation")
	mustSignInRedirect(t, b.get("/ui/users"), "next=", "the session is gone")
	start := b.get("/ui/signin/oidc")
	u, _ := url.Parse(start.location)
	q := u.Query()
	q.Set("login_hint", "bob@example.com")
	u.RawQuery = q.Encode()
	cb := b.get(b.get(u.String()).location)
	mustStatus(t, cb, http.StatusUnauthorized, "signing in again while deactivated")
	if !strings.Contains(cb.body, "deactivated") {
		t.Fatalf("refusal does not say why:\n%s", cb.body)
	}
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// TestConsole_FailedUploadKeepsHistory: a file that cannot be imported is
// answered on the upload form with the reason next to the file input; the
// earlier import stays in the history, and a fixed file uploads.
func TestConsole_FailedUploadKeepsHistory(t *testing.T) {
	e := servertest.New(t, servertest.Backends()["sqlite"](t), scim.Config{})
	b := newBrowser(t, e.URL)
	mustStatus(t, b.signInSecret(e.Token), http.StatusSeeOther, "sign in")
	good := "first_name,last_name,email,tier\nA,B,ab@example.com,support-tier-0-help-desk\n"
	mustStatus(t, b.upload(b.csrf("/ui/imports/new"), "support-tiers", "one.csv", good), http.StatusSeeOther, "first upload")
	empty := b.upload(b.csrf("/ui/imports/new"), "support-tiers", "empty.csv", "")
	if empty.status < 400 || empty.status >= 500 || !strings.Contains(empty.body, `aria-invalid="true"`) || !strings.Contains(empty.body, "empty") {
		t.Fatalf("an empty file: status %d, want a 4xx form saying the file is empty:\n%s", empty.status, empty.body)
	}
	unknown := b.upload(b.csrf("/ui/imports/new"), "no-such-profile", "one.csv", good)
	if unknown.status != http.StatusNotFound && unknown.status != http.StatusBadRequest {
		t.Fatalf("an unknown profile: status %d\n%s", unknown.status, unknown.body)
	}
	history := b.get("/ui/imports")
	mustStatus(t, history, http.StatusOK, "history")
	if !strings.Contains(history.body, "one.csv") {
		t.Fatalf("the earlier import is not in the history:\n%s", history.body)
	}
	mustStatus(t, b.upload(b.csrf("/ui/imports/new"), "support-tiers", "fixed.csv", good), http.StatusSeeOther, "a fixed file")
}

// TestConsole_PagesRender: every page answers 200 for a tier-3 session,
// with a bad SCIM filter shown next to the search box as a 400.
func TestConsole_PagesRender(t *testing.T) {
	e := servertest.New(t, servertest.Backends()["sqlite"](t), scim.Config{})
	uid := e.Do(t, "POST", "Users", `{"userName":"pat@example.com"}`).Must(t, http.StatusCreated).JSON(t)["id"].(string)
	gid := e.Do(t, "POST", "Groups", `{"displayName":"Support","members":[{"value":"`+uid+`"}]}`).Must(t, http.StatusCreated).JSON(t)["id"].(string)
	b := newBrowser(t, e.URL)
	mustStatus(t, b.signInSecret(e.Token), http.StatusSeeOther, "sign in")
	for _, path := range []string{"/ui/users", "/ui/users?q=pat&sort=userName&order=desc", "/ui/users?q=" + url.QueryEscape(`userName sw "p"`),
		"/ui/users/" + uid, "/ui/groups", "/ui/groups?q=supp", "/ui/groups/" + gid, "/ui/imports", "/ui/imports/new",
		"/ui/profiles/support-tiers", "/ui/profiles/scim", "/ui/export", "/ui/actions/new", "/ui/photos", "/ui/audit", "/ui/audit?actor=credential:test-admin&since=2020-01-01"} {
		p := b.get(path)
		mustStatus(t, p, http.StatusOK, path)
		if strings.Contains(path, "/groups/") && !strings.Contains(p.body, "pat@example.com") {
			t.Errorf("group page does not list its member")
		}
	}
	bad := b.get("/ui/users?q=" + url.QueryEscape(`userName eq`))
	mustStatus(t, bad, http.StatusBadRequest, "a broken filter")
	if !strings.Contains(bad.body, `role="alert"`) || !strings.Contains(bad.body, `aria-invalid="true"`) {
		t.Fatalf("the filter error is not shown by the box:\n%s", bad.body)
	}
	mustStatus(t, b.get("/ui/audit?since=yesterday"), http.StatusBadRequest, "a bad date")
	mustStatus(t, b.get("/ui/users/"+strings.Repeat("0", 8)), http.StatusNotFound, "unknown user")
	csvResp := b.get("/ui/export/users.csv?preset=active&profile=scim")
	mustStatus(t, csvResp, http.StatusOK, "export download")
	if !strings.Contains(csvResp.body, "pat@example.com") {
		t.Fatalf("export lacks the user:\n%s", csvResp.body)
	}
	mustStatus(t, b.get("/ui/audit.csv"), http.StatusOK, "audit CSV")
}

// TestConsole_Settings: tier 3 edits the tenant settings through the form;
// a stale form (the settings changed meanwhile) is 412 and writes nothing;
// a refused value comes back with the form as posted; tier 2 has no
// settings link and is refused the page and a direct post.
func TestConsole_Settings(t *testing.T) {
	e := servertest.New(t, servertest.Backends()["sqlite"](t), scim.Config{})
	b := newBrowser(t, e.URL)
	mustStatus(t, b.signInSecret(e.Token), http.StatusSeeOther, "sign in")
	page := b.get("/ui/settings")
	mustStatus(t, page, http.StatusOK, "settings page")
	form := url.Values{"csrf": {b.csrf("/ui/settings")}, "version": {"0"}, "roles": {"admin\nagent\n"}, "offices": {"Berlin"},
		"orgFields": {"costCenter string Finance cost centre"}, "signInUrl": {"https://login.example.com"}, "from": {"it@example.com"}}
	mustStatus(t, b.post("/ui/settings", form), http.StatusSeeOther, "save")
	saved := b.get("/ui/settings?saved=1")
	for _, want := range []string{"agent", "Berlin", "costCenter string Finance cost centre", "version 1"} {
		if !strings.Contains(saved.body, want) {
			t.Errorf("saved settings page lacks %q", want)
		}
	}
	form.Set("roles", "only")
	stale := b.post("/ui/settings", form)
	mustStatus(t, stale, http.StatusPreconditionFailed, "a stale form")
	if !strings.Contains(b.get("/ui/settings").body, "agent") {
		t.Fatal("a stale form changed the settings")
	}
	form.Set("version", "1")
	form.Set("roles", "bad role")
	bad := b.post("/ui/settings", form)
	mustStatus(t, bad, http.StatusBadRequest, "a role with a space")
	if !strings.Contains(bad.body, "bad role") || !strings.Contains(bad.body, `role="alert"`) {
		t.Fatalf("the refused form is not shown back with its error:\n%s", bad.body)
	}
	b2 := newBrowser(t, e.URL)
	mustStatus(t, b2.signInSecret(e.NewToken(t, store.DefaultTenant, "partner", policy.Tier2SoftwarePartner)), http.StatusSeeOther, "sign in tier 2")
	if strings.Contains(b2.get("/ui/users").body, `href="/ui/settings"`) {
		t.Fatal("tier 2 is offered the settings page")
	}
	mustStatus(t, b2.get("/ui/settings"), http.StatusForbidden, "settings page at tier 2")
	form.Set("csrf", b2.csrf("/ui/users"))
	form.Set("roles", "x")
	mustStatus(t, b2.post("/ui/settings", form), http.StatusForbidden, "settings posted at tier 2")
}

// TestConsole_CustomProfiles: a tenant's own CSV profile (stored through
// the API) is offered by the import and export pages and has a field
// guide, like a built-in.
func TestConsole_CustomProfiles(t *testing.T) {
	e := servertest.New(t, servertest.Backends()["sqlite"](t), scim.Config{})
	const prof = `{"title": "Partner logins", "matchKeys": ["userName"], "commit": "apply-valid",
		"columns": [{"header": "login", "paths": ["userName"], "required": "always", "example": "ann"}]}`
	e.Do(t, "PUT", "/csv/profiles/partner-logins", prof).Must(t, http.StatusCreated)
	b := newBrowser(t, e.URL)
	mustStatus(t, b.signInSecret(e.Token), http.StatusSeeOther, "sign in")
	for _, path := range []string{"/ui/imports/new", "/ui/export"} {
		p := b.get(path)
		mustStatus(t, p, http.StatusOK, path)
		if !strings.Contains(p.body, "partner-logins") {
			t.Errorf("%s does not offer the tenant's own profile", path)
		}
	}
	guide := b.get("/ui/profiles/partner-logins")
	mustStatus(t, guide, http.StatusOK, "custom profile's field guide")
	if !strings.Contains(guide.body, "login") {
		t.Errorf("the field guide lacks the profile's column:\n%s", guide.body)
	}
	mustStatus(t, b.get("/ui/profiles/no-such-profile"), http.StatusNotFound, "unknown profile")
}

// awaitState reloads an import's console page until its state is one of
// states (the worker runs in the background).
func (b *browser) awaitState(path string, states ...string) page {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		p := b.get(path)
		for _, st := range states {
			if strings.Contains(p.body, `data-state="`+st+`"`) {
				return p
			}
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s never reached %v:\n%s", path, states, p.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestConsole_ProfessionalUsersUpload: seed 004 through the console. The
// upload form offers the profile's role option as a list of the tenant's
// roles (and refuses a file without it, keeping the form); the preview
// pre-ticks the rows with errors for exclusion (the profile needs them
// left out) and offers "send email" per new user; the commit applies what
// was chosen.
func TestConsole_ProfessionalUsersUpload(t *testing.T) {
	e := servertest.New(t, servertest.Backends()["sqlite"](t), scim.Config{})
	e.Do(t, "PUT", "/settings", `{"roles": ["Nurse", "Doctor"], "offices": ["Main Street Clinic"],
		"notifications": {"signInUrl": "https://login.example.com", "from": "it@example.com"}}`).Must(t, http.StatusOK)
	b := newBrowser(t, e.URL)
	mustStatus(t, b.signInSecret(e.Token), http.StatusSeeOther, "sign in")
	form := b.get("/ui/imports/new")
	if !strings.Contains(form.body, `<select id="option.professional-users.role" name="option.professional-users.role">`) || !strings.Contains(form.body, `<option value="Doctor"`) {
		t.Fatalf("the upload form does not offer the role option:\n%s", form.body)
	}
	file := "Internal ID,Profile Type ID,Email Address,First Name,Last Name,Office,Profile Status,Mobile Phone,Mobile Phone Country\n" +
		",1,ivy@example.com,Ivy,Ind,Main Street Clinic,ACTIVE,,\n" +
		",1,bad@example.com,Bad,Office,Nowhere,,,\n" +
		",1,kim@example.com,Kim,Ode,Main Street Clinic,,,\n"
	noRole := b.upload(b.csrf("/ui/imports/new"), "professional-users", "batch.csv", file)
	if noRole.status != http.StatusBadRequest || !strings.Contains(noRole.body, "role") || !strings.Contains(noRole.body, `role="alert"`) {
		t.Fatalf("an upload without the role: %d\n%s", noRole.status, noRole.body)
	}
	up := b.upload(b.csrf("/ui/imports/new"), "professional-users", "batch.csv", file, "option.professional-users.role", "Doctor")
	mustStatus(t, up, http.StatusSeeOther, "upload with the role")
	preview := b.awaitState(up.location, "validated")
	for _, want := range []string{`id="exclude-3" aria-label="Exclude row 3 (it has errors)" checked`, `id="notify-2"`, `id="notify-4"`, `id="notify-all"`} {
		if !strings.Contains(preview.body, want) {
			t.Fatalf("the preview lacks %s:\n%s", want, preview.body)
		}
	}
	csrf := csrfField.FindStringSubmatch(preview.body)[1]
	commit := b.post(up.location+"/commit", url.Values{"csrf": {csrf}, "exclude": {"3"}, "notify": {"2"}})
	mustStatus(t, commit, http.StatusSeeOther, "commit")
	b.awaitState(up.location, "completed", "completed_with_errors")
	users := e.Do(t, "GET", scim.BasePath+"/Users?filter="+url.QueryEscape(`roles.value eq "Doctor"`), "").Must(t, http.StatusOK).JSON(t)
	if users["totalResults"] != json.Number("2") && users["totalResults"] != float64(2) {
		t.Errorf("users with the upload's role: %v", users["totalResults"])
	}
	outbox := string(e.Do(t, "GET", "/settings/outbox", "").Must(t, http.StatusOK).Body)
	if !strings.Contains(outbox, "ivy@example.com") || strings.Contains(outbox, "kim@example.com") {
		t.Errorf("the account email went to the wrong users: %s", outbox)
	}
}

// TestConsole_Actions: seed 002's "assign role" from the console: the
// form offers the catalogue's roles, a role outside it comes back with
// the reason, a good one opens the preview, and applying it gives every
// selected user the role. Tier 0 has no Actions link and is refused.
func TestConsole_Actions(t *testing.T) {
	e := servertest.New(t, servertest.Backends()["sqlite"](t), scim.Config{})
	e.Do(t, "PUT", "/settings", `{"roles": ["Agent", "Supervisor"]}`).Must(t, http.StatusOK)
	for _, name := range []string{"ann", "bob"} {
		e.Do(t, "POST", scim.BasePath+"/Users", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "`+name+`", "userType": "agent"}`).Must(t, http.StatusCreated)
	}
	b := newBrowser(t, e.URL)
	mustStatus(t, b.signInSecret(e.Token), http.StatusSeeOther, "sign in")
	form := b.get("/ui/actions/new")
	mustStatus(t, form, http.StatusOK, "action form")
	if !strings.Contains(form.body, `<option value="Supervisor">`) || !strings.Contains(form.body, `href="/ui/actions/new"`) {
		t.Fatalf("the action form does not offer the catalogue's roles:\n%s", form.body)
	}
	csrf := b.csrf("/ui/actions/new")
	bad := b.post("/ui/actions", url.Values{"csrf": {csrf}, "preset": {"all"}, "filter": {`userType eq "agent"`}, "operation": {"add-role"}, "value": {"Manager"}})
	if bad.status != http.StatusBadRequest || !strings.Contains(bad.body, "Manager") || !strings.Contains(bad.body, `role="alert"`) || !strings.Contains(bad.body, "userType eq &#34;agent&#34;") {
		t.Fatalf("a role outside the catalogue: %d\n%s", bad.status, bad.body)
	}
	ok := b.post("/ui/actions", url.Values{"csrf": {csrf}, "preset": {"all"}, "filter": {`userType eq "agent"`}, "operation": {"add-role"}, "value": {"agent"}})
	mustStatus(t, ok, http.StatusSeeOther, "start the action")
	preview := b.awaitState(ok.location, "validated")
	if !strings.Contains(preview.body, `data-count="update"><strong>2</strong>`) || !strings.Contains(preview.body, "<title>Action ") || !strings.Contains(preview.body, "Apply the action") {
		t.Fatalf("the preview does not show 2 users to update:\n%s", preview.body)
	}
	mustStatus(t, b.post(ok.location+"/commit", url.Values{"csrf": {csrfField.FindStringSubmatch(preview.body)[1]}}), http.StatusSeeOther, "apply")
	b.awaitState(ok.location, "completed")
	users := e.Do(t, "GET", scim.BasePath+"/Users?filter="+url.QueryEscape(`roles.value eq "Agent"`), "").Must(t, http.StatusOK).JSON(t)
	if fmt.Sprint(users["totalResults"]) != "2" {
		t.Errorf("users with the role: %v", users["totalResults"])
	}
	desk := newBrowser(t, e.URL)
	mustStatus(t, desk.signInSecret(e.NewToken(t, store.DefaultTenant, "desk", policy.Tier0HelpDesk)), http.StatusSeeOther, "sign in tier 0")
	if strings.Contains(desk.get("/ui/users").body, `href="/ui/actions/new"`) {
		t.Error("tier 0 is offered the Actions page")
	}
	mustStatus(t, desk.get("/ui/actions/new"), http.StatusForbidden, "action form at tier 0")
}

// TestConsole_Photos: seed 002's picture import from the console: a ZIP
// named by agent id, matched on the chosen attribute, answered with the
// inserted and invalid records; the user gets the picture.
func TestConsole_Photos(t *testing.T) {
	e := servertest.New(t, servertest.Backends()["sqlite"](t), scim.Config{})
	e.Do(t, "POST", scim.BasePath+"/Users", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "john",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "johndoe22"}}`).Must(t, http.StatusCreated)
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	for name, body := range map[string][]byte{"johndoe22.png": pngBytes(t), "notes.txt": []byte("not a picture")} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, e.URL)
	mustStatus(t, b.signInSecret(e.Token), http.StatusSeeOther, "sign in")
	page := b.get("/ui/photos")
	mustStatus(t, page, http.StatusOK, "pictures page")
	if !strings.Contains(page.body, "User attribute to match pictures") {
		t.Fatalf("no match choice:\n%s", page.body)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("csrf", b.csrf("/ui/photos"))
	_ = mw.WriteField("match", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber")
	fw, _ := mw.CreateFormFile("file", "pictures.zip")
	_, _ = fw.Write(zbuf.Bytes())
	_ = mw.Close()
	req, err := http.NewRequest("POST", b.abs("/ui/photos"), &buf)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	rep := b.do(req)
	mustStatus(t, rep, http.StatusOK, "upload")
	for _, want := range []string{`<strong id="count-inserted">1</strong>`, `<strong id="count-invalid">1</strong>`, "johndoe22.png", ">john</a>", "not_image"} {
		if !strings.Contains(rep.body, want) {
			t.Fatalf("the report lacks %s:\n%s", want, rep.body)
		}
	}
	users := e.Do(t, "GET", scim.BasePath+"/Users?filter="+url.QueryEscape(`userName eq "john"`), "").Must(t, http.StatusOK)
	if !strings.Contains(string(users.Body), "/csv/photos/") {
		t.Errorf("john has no picture: %s", users.Body)
	}
}

// pngBytes is a 2x2 PNG.
func pngBytes(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 2, 2))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
