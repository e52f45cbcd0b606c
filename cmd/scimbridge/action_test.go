package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/server/servertest"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/scim"
)

// TestActionCommand drives `scimbridge action` against a running server:
// the preview, the confirmation, the commit with its summary, exit 1 when
// a user above the caller's tier fails, and bad flags.
func TestActionCommand(t *testing.T) {
	e := servertest.New(t, servertest.Backends()["sqlite"](t), scim.Config{})
	for i, tier := range []string{"support-tier-1-operations", "support-tier-1-operations", "support-tier-3-engineering"} {
		body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"agent%d",
			"urn:scimbridge:params:scim:schemas:extension:support:2.0:User":{"tier":%q}}`, i, tier)
		e.Do(t, "POST", "Users", body).Must(t, http.StatusCreated)
	}
	ops := e.NewToken(t, store.DefaultTenant, "ops", policy.Tier1Operations)
	base := []string{"action", "--server", e.URL, "--token", ops, "--poll", "20ms", "--filter", `userName sw "agent"`}

	stdin = strings.NewReader("n\n")
	t.Cleanup(func() { stdin = os.Stdin })
	var out, errOut bytes.Buffer
	if err := run(t.Context(), append(base, "--add-role", "Coordinator"), &out, &errOut); err != nil || !strings.Contains(out.String(), "Not committed") {
		t.Fatalf("declined: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	for _, want := range []string{"Preview: 3 users selected: 2 to update, 0 to deactivate, 0 unchanged, 1 with errors.", "row 3: tier: Forbidden"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("preview output lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(errOut.String(), "selecting the users") {
		t.Errorf("no progress on stderr: %s", errOut.String())
	}
	out.Reset()
	err := run(t.Context(), append(base, "--add-role", "Coordinator", "--yes"), &out, &errOut)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(out.String(), "Action applied: 2 updated, 1 failed.") {
		t.Fatalf("commit: %v\n%s", err, out.String())
	}
	users := e.Do(t, "GET", "Users?filter=roles.value+eq+%22Coordinator%22&count=0", "").Must(t, http.StatusOK).JSON(t)
	if users["totalResults"].(interface{ String() string }).String() != "2" {
		t.Fatalf("users with the role: %v", users)
	}
	out.Reset()
	if err := run(t.Context(), []string{"action", "--server", e.URL, "--token", ops, "--poll", "20ms", "--filter", `userName eq "agent0"`, "--deactivate", "--yes"}, &out, &errOut); err != nil ||
		!strings.Contains(out.String(), "Action applied: 0 updated, 0 failed. 1 deactivated.") {
		t.Fatalf("deactivate: %v\n%s", err, out.String())
	}
	for _, bad := range [][]string{
		{"action", "--server", e.URL, "--token", ops, "--preset", "all"},
		{"action", "--server", e.URL, "--token", ops, "--preset", "all", "--deactivate", "--reactivate"},
		{"action", "--server", e.URL, "--preset", "all", "--deactivate"},
	} {
		if err := run(t.Context(), bad, &out, &errOut); err == nil || errors.As(err, &ee) {
			t.Errorf("%v: want a usage error, got %v", bad, err)
		}
	}
	if err := run(t.Context(), append(base, "--filter", "bogus eq 1", "--deactivate"), &out, &errOut); err == nil || !strings.Contains(err.Error(), "400") {
		t.Errorf("bad filter: %v", err)
	}
}
