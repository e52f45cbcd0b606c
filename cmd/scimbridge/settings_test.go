package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/server/servertest"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/scim"
)

// TestSettingsCommand drives `scimbridge settings` against a running
// server: set from a file, a merge, get, the outbox, and refusals.
func TestSettingsCommand(t *testing.T) {
	e := servertest.New(t, servertest.Backends()["sqlite"](t), scim.Config{})
	base := []string{"--server", e.URL, "--token", e.Token}
	file := filepath.Join(t.TempDir(), "settings.json")
	if err := os.WriteFile(file, []byte(`{"roles":["Admin"],"offices":["Paris"],"orgFields":[{"name":"costCenter","type":"string"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := run(t.Context(), append([]string{"settings", "set", "--file", file}, base...), &out, &errOut); err != nil {
		t.Fatalf("set: %v %s", err, errOut.String())
	}
	patch := filepath.Join(t.TempDir(), "patch.json")
	if err := os.WriteFile(patch, []byte(`{"sources":["slack"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(t.Context(), append([]string{"settings", "set", "--merge", "--if-match", "1", "--file", patch}, base...), &out, &errOut); err != nil {
		t.Fatalf("merge: %v", err)
	}
	out.Reset()
	if err := run(t.Context(), append([]string{"settings", "get"}, base...), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	var ts directory.TenantSettings
	if err := json.Unmarshal(out.Bytes(), &ts); err != nil {
		t.Fatalf("get printed %q: %v", out.String(), err)
	}
	if ts.Version != 2 || ts.Roles[0] != "Admin" || ts.Sources[0] != "slack" || ts.OrgFields[0].Name != "costCenter" {
		t.Fatalf("settings = %+v", ts)
	}
	err := run(t.Context(), append([]string{"settings", "set", "--if-match", "1", "--file", patch}, base...), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "412") {
		t.Fatalf("stale If-Match: %v", err)
	}
	ops := e.NewToken(t, store.DefaultTenant, "ops", policy.Tier1Operations)
	err = run(t.Context(), []string{"settings", "set", "--server", e.URL, "--token", ops, "--file", patch}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "403") || !strings.Contains(err.Error(), "support-tier-3-engineering") {
		t.Fatalf("tier 1 set: %v", err)
	}
	out.Reset()
	if err := run(t.Context(), append([]string{"settings", "outbox"}, base...), &out, &errOut); err != nil || !strings.HasPrefix(out.String(), "CREATED") {
		t.Fatalf("outbox: %v %q", err, out.String())
	}
	for _, args := range [][]string{{"settings"}, {"settings", "frob", "--token", "x"}, {"settings", "get"}} {
		if err := run(t.Context(), args, &out, &errOut); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
