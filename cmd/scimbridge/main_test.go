package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/internal/store/postgres/pgtest"
)

// newcomer walks the README's path: create a token, serve, call the API,
// stop gracefully.
func newcomer(t *testing.T, dsn string) {
	ctx := context.Background()
	var out, errb bytes.Buffer
	if err := run(ctx, []string{"token", "create", "--db", dsn, "--name", "okta", "--tier", "support-tier-1-operations"}, &out, &errb); err != nil {
		t.Fatalf("token create: %v (%s)", err, errb.String())
	}
	token := strings.TrimSpace(out.String())
	if !strings.HasPrefix(token, "scimb_") || !strings.Contains(errb.String(), "shown once") {
		t.Fatalf("token output %q / %q", out.String(), errb.String())
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srvCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- serve(srvCtx, ln, serveConfig{db: dsn, maxBody: 1 << 20, maxResults: 200}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	base := "http://" + ln.Addr().String()
	waitReady(t, base)
	req, _ := http.NewRequest("POST", base+"/scim/v2/Users", strings.NewReader(`{"userName":"newcomer"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create user: %d", resp.StatusCode)
	}
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("graceful shutdown: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("server did not stop")
	}
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	for i := 0; i < 100; i++ {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("server never became ready")
}

func TestNewcomerPathSQLite(t *testing.T) {
	newcomer(t, "sqlite:"+filepath.Join(t.TempDir(), "scimbridge.db"))
}

func TestNewcomerPathPostgres(t *testing.T) {
	newcomer(t, pgtest.DSN(t))
}

func TestDefaultDBIsSQLiteInWorkingDir(t *testing.T) {
	t.Chdir(t.TempDir())
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"migrate"}, &out, &errb); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	m, _ := filepath.Glob("scimbridge.db")
	if len(m) != 1 {
		t.Fatal("migrate without --db did not create ./scimbridge.db")
	}
}

func TestCLIErrors(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "x.db")
	cases := []struct {
		args []string
		want string
	}{
		{nil, "subcommand is required"},
		{[]string{"frobnicate"}, "unknown subcommand"},
		{[]string{"token", "create", "--db", dsn, "--name", "n", "--tier", "admin"}, "unknown tier"},
		{[]string{"token", "create", "--db", dsn, "--tier", "support-tier-0-help-desk"}, "needs a name"},
		{[]string{"token", "create", "--db", dsn, "--name", "n", "--tenant", "nope", "--tier", "support-tier-0-help-desk"}, `tenant "nope" does not exist`},
		{[]string{"tenant", "create", "--db", dsn, "bad name!"}, "1-63 letters"},
		{[]string{"migrate", "--db", "mysql://x"}, "use sqlite:PATH or postgres://"},
		{[]string{"serve", "--db", dsn, "--csv-max-bytes", "0"}, "--csv-max-bytes must be a positive number of bytes, got 0"},
		{[]string{"serve", "--db", dsn, "--csv-max-rows", "-5"}, "--csv-max-rows must be a positive number of rows, got -5"},
		{[]string{"serve", "--db", dsn, "--csv-lease", "0s"}, "--csv-lease must be a positive duration"},
		{[]string{"serve", "--db", dsn, "--csv-retention", "-1h"}, "--csv-retention must be a positive duration (e.g. 720h), got -1h0m0s"},
		{[]string{"serve", "--db", dsn, "--csv-lease", "soon"}, `invalid value "soon" for flag -csv-lease`},
	}
	for _, c := range cases {
		err := run(context.Background(), c.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("run(%v) = %v, want error containing %q", c.args, err, c.want)
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"tenant", "create", "--db", dsn, "acme"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"tenant", "create", "--db", dsn, "acme"}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("duplicate tenant: %v", err)
	}
	if err := run(context.Background(), []string{"token", "create", "--db", dsn, "--tenant", "acme", "--name", "n", "--tier", "support-tier-2-software-partner"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"token", "create", "--db", dsn, "--tenant", "acme", "--name", "n", "--tier", "support-tier-2-software-partner"}, io.Discard, io.Discard); err != nil {
		t.Fatalf("second secret for rotation: %v", err)
	}
	if err := run(context.Background(), []string{"token", "create", "--db", dsn, "--tenant", "acme", "--name", "n", "--tier", "support-tier-2-software-partner"}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "already has 2 active credentials") {
		t.Fatalf("third credential of one name: %v", err)
	}
	var list bytes.Buffer
	if err := run(context.Background(), []string{"token", "list", "--db", dsn, "--tenant", "acme"}, &list, io.Discard); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(list.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], "support-tier-2-software-partner") {
		t.Fatalf("token list:\n%s", list.String())
	}
	id := strings.Fields(lines[1])[0]
	if err := run(context.Background(), []string{"token", "revoke", "--db", dsn, "--tenant", "acme", id}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"token", "revoke", "--db", dsn, "--tenant", "acme", id}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "no active credential") {
		t.Fatalf("revoking twice: %v", err)
	}
}

func TestRedact(t *testing.T) {
	if got := redact("postgres://u:secret@h/db"); got != "postgres://u:***@h/db" {
		t.Fatal(got)
	}
	if got := redact("sqlite:x.db"); got != "sqlite:x.db" {
		t.Fatal(got)
	}
}

func TestOIDCFlags(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "oidc.json")
	if err := os.WriteFile(cfg, []byte(`{"issuers":[{"issuer":"https://idp.example.com","audience":"api","tier_claim":"groups","tenant":"acme","kind":"script"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	fs := newFlags("t", io.Discard)
	f := addOIDCFlags(fs)
	if err := fs.Parse([]string{"--oidc-issuer", "https://login.example.com", "--oidc-audience", "scim", "--oidc-config", cfg}); err != nil {
		t.Fatal(err)
	}
	iss, err := f.issuers()
	if err != nil || len(iss) != 2 || iss[0].Audience != "scim" || iss[0].TierClaim != "roles" || iss[1].Tenant != "acme" || iss[1].TierClaim != "groups" {
		t.Fatalf("issuers %+v, %v", iss, err)
	}
	fs = newFlags("t", io.Discard)
	f = addOIDCFlags(fs)
	_ = fs.Parse([]string{"--oidc-issuer", "https://login.example.com"})
	if _, err := f.issuers(); err == nil || !strings.Contains(err.Error(), "--oidc-audience") {
		t.Fatalf("issuer without audience: %v", err)
	}
	fs = newFlags("t", io.Discard)
	f = addOIDCFlags(fs)
	_ = fs.Parse([]string{"--oidc-config", filepath.Join(dir, "missing.json")})
	if _, err := f.issuers(); err == nil {
		t.Fatal("missing config file accepted")
	}
}
