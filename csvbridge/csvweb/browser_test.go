package csvweb_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/server"
	"github.com/scimbridge/scimbridge/internal/server/servertest"
	"github.com/scimbridge/scimbridge/scim"
)

// browserDir holds the Node project (package.json, package-lock.json) that
// pins playwright-core; `npm ci` there installs it (.ci/run does).
const browserDir = "testdata/browser"

// chromium is Debian's Chromium (package chromium), or SCIMBRIDGE_CHROMIUM.
func chromium() string {
	if p := os.Getenv("SCIMBRIDGE_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// needBrowser fails under CI, and skips elsewhere, when Chromium, Node or
// playwright-core is missing.
func needBrowser(t *testing.T) string {
	t.Helper()
	var missing []string
	if _, err := os.Stat(chromium()); err != nil {
		missing = append(missing, chromium()+" (apt-get install chromium)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing = append(missing, "node")
	}
	if _, err := os.Stat(filepath.Join(browserDir, "node_modules", "playwright-core", "package.json")); err != nil {
		missing = append(missing, "playwright-core (npm ci in csvbridge/csvweb/testdata/browser)")
	}
	if len(missing) == 0 {
		return node
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("browser test cannot run under CI: missing %s", strings.Join(missing, ", "))
	}
	t.Skipf("browser test skipped: missing %s", strings.Join(missing, ", "))
	return ""
}

// TestBrowser_ConsoleImportFlow drives the console in headless Chromium
// (testdata/browser/console.mjs): sign in through the real OIDC flow
// (authorization code + PKCE against the test issuer), upload seed 000's
// support-tiers example with one bad row, read the preview counts, the
// error and the diff, exclude a row, commit, read the summary, open the
// failed rows, download the report and the failed rows, export the active
// users, refuse a CSRF-less post, then as tier 0 see no import button and
// get 403 on the form and on a direct post; a tier-3 person saves the
// tenant settings. Screenshots of each page land
// in testdata/browser/artifacts (git-ignored). Afterwards the directory
// must hold exactly what the summary says.
func TestBrowser_ConsoleImportFlow(t *testing.T) {
	node := needBrowser(t)
	e := servertest.NewConsole(t, server.Deps{Store: servertest.Backends()["sqlite"](t), SCIM: scim.Config{}}, false)
	e.IdP.AddPerson("alice@example.com", policy.Tier2SoftwarePartner)
	e.IdP.AddPerson("hank@example.com", policy.Tier0HelpDesk)
	e.IdP.AddPerson("carol@example.com", policy.Tier3Engineering)
	e.Do(t, "POST", "Users", `{"userName":"jdoe@talonhealthtech.com","name":{"givenName":"Jon","familyName":"Doe"},
		"emails":[{"value":"jdoe@talonhealthtech.com","type":"work","primary":true}],
		"urn:scimbridge:params:scim:schemas:extension:support:2.0:User":{"tier":"support-tier-1-operations"}}`).Must(t, http.StatusCreated)
	e.Do(t, "POST", "Users", `{"userName":"gone@talonhealthtech.com","active":false}`).Must(t, http.StatusCreated)

	artifacts, err := filepath.Abs(filepath.Join(browserDir, "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	fixture, _ := filepath.Abs("testdata/support-tiers-example.csv")
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "console.mjs")
	cmd.Dir = browserDir
	cmd.Env = append(os.Environ(), "BASE_URL="+e.URL, "ARTIFACTS="+artifacts, "FIXTURE="+fixture, "CHROMIUM="+chromium())
	out, err := cmd.CombinedOutput()
	t.Logf("browser run (screenshots in %s):\n%s", artifacts, out)
	if err != nil {
		t.Fatalf("browser run failed: %v", err)
	}
	checkDirectory(t, e)
}

// checkDirectory checks the directory after the browser's import: John
// renamed from Jon, the three new users, the bad and the excluded row
// absent, and no import from the refused posts.
func checkDirectory(t *testing.T, e *servertest.Env) {
	t.Helper()
	list := e.Do(t, "GET", "Users?sortBy=userName&count=50&filter="+url.QueryEscape(`userName ew "@talonhealthtech.com"`), "").Must(t, http.StatusOK).JSON(t)
	var names []string
	for _, r := range list["Resources"].([]any) {
		u := r.(map[string]any)
		names = append(names, u["userName"].(string))
		if u["userName"] == "jdoe@talonhealthtech.com" {
			if given := u["name"].(map[string]any)["givenName"]; given != "John" {
				t.Errorf("jdoe's givenName is %v after the import, want John", given)
			}
		}
	}
	want := "gone@talonhealthtech.com jdoe@talonhealthtech.com mgarcia@talonhealthtech.com ppatel@talonhealthtech.com wchen@talonhealthtech.com"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("users after the import:\n got %s\nwant %s", got, want)
	}
	imports := e.Do(t, "GET", "/csv/imports", "").Must(t, http.StatusOK).JSON(t)["imports"].([]any)
	if len(imports) != 1 {
		t.Errorf("%d imports exist, want only the browser's one (the refused posts made none)", len(imports))
	}
}
