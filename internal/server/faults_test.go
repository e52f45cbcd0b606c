package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/scimbridge/scimbridge/csvbridge"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/server"
	"github.com/scimbridge/scimbridge/internal/server/servertest"
	"github.com/scimbridge/scimbridge/internal/store/postgres"
	"github.com/scimbridge/scimbridge/internal/store/postgres/pgtest"
)

// pgFault is a PostgreSQL store whose connections carry an application
// name of their own, so that a second connection can kill exactly them
// (pg_terminate_backend) without touching anyone else's sessions on a
// shared server.
type pgFault struct {
	dsn   string // the store's DSN (search_path and application_name set)
	admin *pgx.Conn
	app   string
}

func withQueryParam(dsn, key, value string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		panic(err)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

func newPGFault(t *testing.T) (*pgFault, *postgres.Store) {
	t.Helper()
	base := pgtest.DSN(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	f := &pgFault{app: "scimbridge-fault-" + hex.EncodeToString(b)}
	f.dsn = withQueryParam(base, "application_name", f.app)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := postgres.Open(ctx, f.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if f.admin, err = pgx.Connect(ctx, base); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.admin.Close(context.Background()) })
	return f, st
}

// kill terminates every backend of the store and returns how many.
func (f *pgFault) kill(t *testing.T) int {
	t.Helper()
	var n int
	err := f.admin.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1 AND pid <> pg_backend_pid()`, f.app).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// count runs a count query in the store's schema from the admin session.
func (f *pgFault) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := f.admin.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// userNames counts the stored users whose userName is LIKE pattern, by
// userName.
func (f *pgFault) userNames(t *testing.T, pattern string) map[string]int {
	t.Helper()
	rows, err := f.admin.Query(context.Background(), `SELECT user_name FROM users WHERE user_name LIKE $1`, pattern)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, n := range names {
		out[n]++
	}
	return out
}

// killWhile kills the store's backends each time cond turns true (at most
// times times) until stop is closed; it returns the number of kills.
func (f *pgFault) killWhile(t *testing.T, stop <-chan struct{}, times int, cond func(i int) bool) <-chan int {
	done := make(chan int, 1)
	go func() {
		kills := 0
		for kills < times {
			select {
			case <-stop:
				done <- kills
				return
			case <-time.After(5 * time.Millisecond):
			}
			if cond(kills) && f.kill(t) > 0 {
				kills++
			}
		}
		done <- kills
	}()
	return done
}

// TestFault_ConnectionKilledMidBulk: the store's connections are killed
// (pg_terminate_backend from a second session) three times during a
// /Bulk of interleaved creates and PATCHes. Every operation reported as
// succeeded is stored, every one reported failed left no trace, no
// failure is a 500, and the same server then serves requests again
// without a restart.
func TestFault_ConnectionKilledMidBulk(t *testing.T) {
	t.Parallel()
	f, st := newPGFault(t)
	e := servertest.NewWith(t, server.Deps{Store: st})
	const n = 300
	f.admin.Exec(context.Background(), "SET search_path TO "+searchPath(f.dsn))
	stop := make(chan struct{})
	kills := f.killWhile(t, stop, 3, func(i int) bool {
		return f.count(t, `SELECT count(*) FROM users WHERE user_name LIKE 'kb%'`) >= (i+1)*n/8
	})
	r := e.Do(t, "POST", "Bulk", interleavedBulk("kb", n))
	close(stop)
	t.Logf("connections killed %d times during the bulk", <-kills)
	r.Must(t, 200)
	var resp struct {
		Operations []struct{ Method, Status, Location string }
	}
	if err := json.Unmarshal(r.Body, &resp); err != nil {
		t.Fatal(err)
	}
	failed := checkBulkOutcomes(t, f, resp.Operations)
	t.Logf("%d of %d operations failed", failed, len(resp.Operations))
	e.Do(t, "POST", "Users", `{"userName":"after-the-kill"}`).Must(t, 201)
	e.Do(t, "GET", "/readyz", "").Must(t, 200)
}

func searchPath(dsn string) string {
	u, _ := url.Parse(dsn)
	return pgx.Identifier{u.Query().Get("search_path")}.Sanitize()
}

// interleavedBulk is n/2 creates of users prefix<i>, each followed by a
// PATCH of that user setting its title to "patched" (so the bulk engine
// cannot fold the creates into one batch).
func interleavedBulk(prefix string, n int) string {
	ops := make([]string, 0, n)
	for i := range n / 2 {
		ops = append(ops, fmt.Sprintf(`{"method":"POST","path":"/Users","bulkId":"b%d","data":{"userName":"%s%d"}}`, i, prefix, i),
			fmt.Sprintf(`{"method":"PATCH","path":"/Users/bulkId:b%d","data":{"Operations":[{"op":"replace","path":"title","value":"patched"}]}}`, i))
	}
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[` + strings.Join(ops, ",") + `]}`
}

// checkBulkOutcomes holds the stored rows against interleavedBulk's
// reported outcomes and returns how many operations failed.
func checkBulkOutcomes(t *testing.T, f *pgFault, ops []struct{ Method, Status, Location string }) int {
	t.Helper()
	failed := 0
	for i := 0; i+1 < len(ops); i += 2 {
		create, patch := ops[i], ops[i+1]
		name := fmt.Sprintf("kb%d", i/2)
		stored := f.count(t, `SELECT count(*) FROM users WHERE user_name = $1`, name)
		patched := f.count(t, `SELECT count(*) FROM users WHERE user_name = $1 AND doc->>'title' = 'patched'`, name)
		for _, op := range []struct{ Method, Status, Location string }{create, patch} {
			if strings.HasPrefix(op.Status, "5") && op.Status != "503" {
				t.Errorf("%s %s: status %s (a connection loss must be 503, never 500)", op.Method, name, op.Status)
			}
			if !strings.HasPrefix(op.Status, "2") {
				failed++
			}
		}
		switch {
		case create.Status == "201" && stored != 1:
			t.Errorf("%s reported created, %d stored", name, stored)
		case create.Status != "201" && stored != 0:
			t.Errorf("%s reported failed (%s), %d stored", name, create.Status, stored)
		case patch.Status == "200" && patched != 1:
			t.Errorf("%s reported patched, not stored", name)
		case patch.Status != "200" && patched != 0:
			t.Errorf("%s: patch reported failed (%s), but stored", name, patch.Status)
		}
	}
	return failed
}

// TestFault_DatabaseGoneAndBack: PostgreSQL becomes unreachable (every
// connection cut, new ones refused; a TCP proxy in front of the shared
// server stands in for a restart): /readyz answers 503, SCIM requests 503
// with Retry-After (never 500), /healthz stays 200; once the database is
// back the same server is ready and writes again, without a restart.
func TestFault_DatabaseGoneAndBack(t *testing.T) {
	t.Parallel()
	proxy, dsn := viaProxy(t, pgtest.DSN(t))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := postgres.Open(ctx, withQueryParam(dsn, "pool_acquire_timeout", "1s"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := servertest.NewWith(t, server.Deps{Store: st})
	e.Do(t, "POST", "Users", `{"userName":"before"}`).Must(t, 201)
	e.Do(t, "GET", "/readyz", "").Must(t, 200)
	fresh := e.NewToken(t, "default", "never-used", policy.Tier3Engineering) // not in the credential cache

	proxy.cut()
	waitStatus(t, e, "/readyz", 503)
	e.Do(t, "GET", "/healthz", "").Must(t, 200)
	for _, token := range []string{e.Token, fresh} {
		for _, req := range [][2]string{{"GET", "Users"}, {"POST", "Users"}, {"GET", "/csv/imports"}} {
			body := ""
			if req[0] == "POST" {
				body = `{"userName":"while-down"}`
			}
			r := e.Do(t, req[0], req[1], body, "Authorization", "Bearer "+token)
			r.MustError(t, 503, "")
			if r.Header.Get("Retry-After") == "" {
				t.Fatalf("%s %s: 503 without Retry-After", req[0], req[1])
			}
		}
	}

	proxy.restore(t)
	waitStatus(t, e, "/readyz", 200)
	e.Do(t, "POST", "Users", `{"userName":"after"}`).Must(t, 201)
	e.Do(t, "GET", "Users?filter=userName%20eq%20%22while-down%22", "").Must(t, 200)
}

// waitStatus polls path until it answers status (up to 20 s: the state
// change is what is tested, not how fast it is).
func waitStatus(t *testing.T, e *servertest.Env, path string, status int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := e.Do(t, "GET", path, "")
		if r.Status == status {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still answers %d, want %d: %s", path, r.Status, status, r.Body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestFault_ConnectionKilledMidCSVCommit: the store's connections are
// killed three times while a 2,000-row CSV import commits (the worker's
// claim, its chunk writes and its outcome records all lose their
// connection at some point). The job still ends completed; every row the
// report calls succeeded names a stored user with that userName, every
// failed row's user is absent, and the counts match the users stored
// exactly (no duplicates, nothing lost).
func TestFault_ConnectionKilledMidCSVCommit(t *testing.T) {
	t.Parallel()
	f, st := newPGFault(t)
	e := servertest.NewWith(t, server.Deps{Store: st, CSV: []csvbridge.JobsOption{csvbridge.WithLease(2 * time.Second)}})
	f.admin.Exec(context.Background(), "SET search_path TO "+searchPath(f.dsn))
	const n = 2000
	id := uploadCSV(t, e, csvOfRows("kc", n)).Must(t, 202).JSON(t)["id"].(string)
	waitImport(t, e, id, "validated")
	stop := make(chan struct{})
	kills := f.killWhile(t, stop, 3, func(i int) bool {
		return f.count(t, `SELECT count(*) FROM users WHERE user_name LIKE 'kc%'`) >= (i+1)*n/5
	})
	e.Do(t, "POST", "/csv/imports/"+id+"/commit", "").Must(t, 202)
	job := waitImport(t, e, id, "completed", "completed_with_errors")
	close(stop)
	killed := <-kills
	t.Logf("connections killed %d times during the commit; job %s", killed, job["summary"])
	report := e.Do(t, "GET", "/csv/imports/"+id+"/report.csv", "").Must(t, 200)
	rows, err := csv.NewReader(bytes.NewReader(report.Body)).ReadAll()
	if err != nil || len(rows) != n+1 {
		t.Fatalf("report: %d rows, %v", len(rows), err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	names := f.userNames(t, "kc%")
	succeeded := 0
	for _, r := range rows[1:] {
		name, status := r[col["userName"]], r[col["_status"]]
		stored := names[name]
		switch {
		case status == "succeeded" && stored == 1:
			succeeded++
		case status == "failed" && stored == 0:
		default:
			t.Errorf("%s: report says %s (%s), %d stored", name, status, r[col["_error"]], stored)
		}
	}
	if total := f.count(t, `SELECT count(*) FROM users WHERE user_name LIKE 'kc%'`); total != succeeded || len(names) != total {
		t.Fatalf("%d users stored, %d rows succeeded", total, succeeded)
	}
	if got := fmt.Sprint(job["counts"].(map[string]any)["create"]); got != fmt.Sprint(n) {
		t.Logf("counts %v", job["counts"])
	}
	e.Do(t, "POST", "Users", `{"userName":"after-the-csv-kill"}`).Must(t, 201)
}

// waitImport polls an import until it reaches one of the states (up to
// 60 s), failing on any other settled state.
func waitImport(t *testing.T, e *servertest.Env, id string, states ...string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		r := e.Do(t, "GET", "/csv/imports/"+id, "")
		if r.Status == 503 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond) // a connection killed under this read: retry, as a client does
			continue
		}
		m := r.Must(t, 200).JSON(t)
		s, _ := m["state"].(string)
		if slices.Contains(states, s) {
			return m
		}
		if (s != "validating" && s != "committing" && s != "queued" && s != "validated") || time.Now().After(deadline) {
			t.Fatalf("import %s: state %s, want %v: %v", id, s, states, m)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
