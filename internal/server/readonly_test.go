package server_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/scimbridge/scimbridge/internal/server"
	"github.com/scimbridge/scimbridge/internal/server/servertest"
	"github.com/scimbridge/scimbridge/internal/store/sqlite"
)

// immutable sets or clears the immutable attribute of the files (chattr),
// which stops writes even by root; false when the machine does not allow
// it (no chattr, no CAP_LINUX_IMMUTABLE, a file system without it).
func immutable(t *testing.T, on bool, paths ...string) bool {
	t.Helper()
	flag := "-i"
	if on {
		flag = "+i"
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		if out, err := exec.Command("chattr", flag, p).CombinedOutput(); err != nil {
			t.Logf("chattr %s %s: %v %s", flag, p, err, out)
			return false
		}
	}
	return true
}

// TestFault_SQLiteReadOnly: the SQLite file (and its WAL) stop accepting
// writes while the server runs (chattr +i, which binds root too). Writes
// are refused with 503, Retry-After and a SCIM error saying nothing was
// changed (the log names the read-only file), never a 500 or database
// text; reads answer or are 503 likewise; nothing is half-written: once the files are writable again the
// same server writes, and PRAGMA integrity_check is "ok".
func TestFault_SQLiteReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ro.db")
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := servertest.NewWith(t, server.Deps{Store: st})
	e.Do(t, "POST", "Users", `{"userName":"before"}`).Must(t, http.StatusCreated)
	// Not the -shm file: SQLite maps it into memory, and a mapped page of
	// a file made immutable faults (SIGBUS) instead of returning an error.
	files := []string{path, path + "-wal"}
	if !immutable(t, true, files...) {
		t.Skip("this machine cannot make a file immutable (chattr +i); the read-only case is not exercised")
	}
	t.Cleanup(func() { immutable(t, false, files...) })
	for i := range 3 {
		r := e.Do(t, "POST", "Users", fmt.Sprintf(`{"userName":"while-ro-%d"}`, i))
		r.MustError(t, http.StatusServiceUnavailable, "")
		if r.Header.Get("Retry-After") == "" || sqlLeaks.Match(r.Body) {
			t.Fatalf("write to a read-only file: %v %s", r.Header, r.Body)
		}
	}
	// A read may need the WAL index (-shm) too: it answers or is 503.
	if r := e.Do(t, "GET", "Users?filter=userName%20eq%20%22before%22", ""); r.Status != http.StatusOK {
		r.MustError(t, http.StatusServiceUnavailable, "")
	}
	immutable(t, false, files...)
	e.Do(t, "POST", "Users", `{"userName":"after"}`).Must(t, http.StatusCreated)
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ok string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check: %q %v", ok, err)
	}
}
