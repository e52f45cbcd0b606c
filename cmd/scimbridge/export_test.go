package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/server/servertest"
	"github.com/scimbridge/scimbridge/scim"
)

// TestExportCommand drives `scimbridge export` against a running server:
// a preset to a file with the progress line on stderr, a filter and a
// profile to stdout for scripts, and refusals.
func TestExportCommand(t *testing.T) {
	e := servertest.New(t, servertest.Backends()["sqlite"](t), scim.Config{})
	for _, u := range []string{`"ann@example.com","active":true`, `"bob@example.com","active":false`} {
		e.Do(t, "POST", "Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":`+u+`,"name":{"givenName":"=cmd|' /C calc'!A0","familyName":"Lee"}}`)
	}
	base := []string{"export", "--server", e.URL, "--token", e.Token}
	file := filepath.Join(t.TempDir(), "active.csv")
	var out, errOut bytes.Buffer
	if err := run(t.Context(), append(base, "--preset", "active", "-o", file), &out, &errOut); err != nil {
		t.Fatalf("export: %v\n%s", err, errOut.String())
	}
	body, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	text := string(body)
	if !strings.HasPrefix(text, "\ufeffid,userName,") || !strings.Contains(text, "ann@example.com") || strings.Contains(text, "bob@example.com") ||
		!strings.Contains(text, `,'=cmd|' /C calc'!A0,`) || out.Len() != 0 {
		t.Fatalf("file:\n%s\nstdout %q", text, out.String())
	}
	if !strings.Contains(errOut.String(), "Exported 1 rows") || !strings.Contains(errOut.String(), file) {
		t.Fatalf("progress line: %q", errOut.String())
	}

	out.Reset()
	errOut.Reset()
	args := append(base, "--profile", "support-tiers", "--filter", `userName eq "bob@example.com"`, "--plain", "--delimiter", ";", "--attributes", "email,first_name")
	if err := run(t.Context(), args, &out, &errOut); err != nil {
		t.Fatalf("export to stdout: %v\n%s", err, errOut.String())
	}
	if out.String() != "first_name;email\n'=cmd|' /C calc'!A0;bob@example.com\n" {
		t.Fatalf("stdout %q", out.String())
	}

	out.Reset()
	users := e.Do(t, "GET", "Users?filter=userName+eq+%22ann@example.com%22", "").JSON(t)
	annID := users["Resources"].([]any)[0].(map[string]any)["id"].(string)
	e.Do(t, "POST", "Groups", `{"displayName":"Desk","members":[{"value":"`+annID+`"}]}`)
	if err := run(t.Context(), append(base, "--groups", "--member-rows", "--plain"), &out, &errOut); err != nil ||
		!strings.HasPrefix(out.String(), "id,displayName,externalId,members.value,members.display\n") || !strings.Contains(out.String(), ",Desk,,"+annID+",") {
		t.Fatalf("membership rows: %v\n%s", err, out.String())
	}

	if err := run(t.Context(), append(base, "--preset", "tier=9"), &out, &errOut); err == nil || !strings.Contains(err.Error(), "not a tier") {
		t.Fatalf("bad preset: %v", err)
	}
	missing := filepath.Join(t.TempDir(), "none.csv")
	if err := run(t.Context(), append(base, "--filter", "userName eq", "-o", missing), &out, &errOut); err == nil {
		t.Fatal("a bad filter exported")
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Fatalf("a failed export left a file: %v", err)
	}
	if err := run(t.Context(), []string{"export", "--server", e.URL}, &out, &errOut); err == nil {
		t.Fatal("export without a token ran")
	}
}
