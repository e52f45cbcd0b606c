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
