package main

import (
	"bytes"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/internal/server/servertest"
	"github.com/scimbridge/scimbridge/scim"
)

// TestImportCommand drives `scimbridge import` against a running server:
// preview counts and the first errors, the confirmation, the summary, the
// failed rows written next to the file, and exit status 1.
func TestImportCommand(t *testing.T) {
	e := servertest.New(t, servertest.Backends()["sqlite"](t), scim.Config{})
	dir := t.TempDir()
	file := filepath.Join(dir, "tiers.csv")
	body := "first_name,last_name,email,tier\n" +
		"Ann,Lee,ann@example.com,support-tier-1-operations\n" +
		"Bob,Kay,bob@example,support-tier-0-help-desk\n"
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"import", "--server", e.URL, "--token", e.Token, "--profile", "support-tiers", "--poll", "20ms"}

	// Dry run: the preview, nothing written, exit 1 because a row fails.
	var out, errOut bytes.Buffer
	err := run(t.Context(), append(base, "--dry-run", file), &out, &errOut)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("dry run: %v; stdout %s; stderr %s", err, out.String(), errOut.String())
	}
	for _, want := range []string{"Preview: 1 to add", "create: 1", "error: 1", "row 3:", "Dry run: nothing was written."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("dry-run output lacks %q:\n%s", want, out.String())
		}
	}

	// Declined at the prompt: nothing committed.
	stdin = strings.NewReader("n\n")
	t.Cleanup(func() { stdin = os.Stdin })
	out.Reset()
	if err := run(t.Context(), append(base, file), &out, &errOut); err != nil || !strings.Contains(out.String(), "Not committed") {
		t.Fatalf("declined: %v\n%s", err, out.String())
	}

	// --yes: committed, summary, failed rows next to the file, exit 1.
	out.Reset()
	start := time.Now()
	err = run(t.Context(), append(base, "--yes", file), &out, &errOut)
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("commit: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "Users loaded: 1 added, 0 updated, 0 deleted, 1 failed.") {
		t.Errorf("summary missing:\n%s", out.String())
	}
	failed, err := os.ReadFile(filepath.Join(dir, "tiers.failed.csv"))
	if err != nil {
		t.Fatalf("failed rows file (after %v): %v", time.Since(start), err)
	}
	recs, err := csv.NewReader(bytes.NewReader(failed)).ReadAll()
	if err != nil || len(recs) != 2 || recs[1][2] != "bob@example" {
		t.Fatalf("failed rows: %v %q", err, recs)
	}

	// The fixed file imports cleanly: exit 0.
	fixed := strings.Replace(string(failed), "bob@example,", "bob@example.com,", 1)
	if err := os.WriteFile(file, []byte(fixed), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(t.Context(), append(base, "--yes", file), &out, &errOut); err != nil {
		t.Fatalf("fixed file: %v\n%s", err, out.String())
	}

	if err := run(t.Context(), []string{"import", "--server", e.URL, file}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "--token") {
		t.Fatalf("missing token: %v", err)
	}
}

// TestImportCommandProfileOptions: the role for the whole file goes in
// --option, rows with errors are left out with --exclude-failed and new
// users get the account e-mail with --notify (professional-users).
func TestImportCommandProfileOptions(t *testing.T) {
	e := servertest.New(t, servertest.Backends()["sqlite"](t), scim.Config{})
	e.Do(t, "PUT", "/settings", `{"roles":["Nurse"],"offices":["Main Street Clinic"],"notifications":{"signInUrl":"https://login.example.com/"}}`,
		"Content-Type", "application/json").Must(t, 200)
	file := filepath.Join(t.TempDir(), "batch.csv")
	body := "Internal ID,Profile Type ID,Email Address,First Name,Last Name,Office,Profile Status,Mobile Phone,Mobile Phone Country\n" +
		",1,ivy@example.com,Ivy,Ind,Main Street Clinic,,,\n" +
		",1,max@example.com,Max,Mo,Nowhere,,,\n"
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	args := []string{"import", "--server", e.URL, "--token", e.Token, "--profile", "professional-users", "--poll", "20ms",
		"--option", "role=Nurse", "--exclude-failed", "--notify", "all", "--yes", file}
	if err := run(t.Context(), args, &out, &errOut); err != nil {
		t.Fatalf("import: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "Batch upload finished: 1 created, 0 updated, 0 deleted, 0 unchanged, 1 not selected, 0 failed.") {
		t.Errorf("summary missing:\n%s", out.String())
	}
	msgs := e.Do(t, "GET", "/settings/outbox", "").Must(t, 200).JSON(t)["messages"].([]any)
	if len(msgs) != 1 || msgs[0].(map[string]any)["to"] != "ivy@example.com" {
		t.Errorf("outbox %v", msgs)
	}
	if err := run(t.Context(), append(args[:len(args)-1], "--option", "nonsense", file), &out, &errOut); err == nil {
		t.Error("--option without = was accepted")
	}
}
