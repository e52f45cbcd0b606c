package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/csvbridge/csvclient"
	"github.com/scimbridge/scimbridge/internal/store/postgres/pgtest"
)

// roundRobin is the load balancer of the scale-out test: each request
// goes to the next replica in turn.
func roundRobin(t *testing.T, replicas []*child) string {
	t.Helper()
	proxies := make([]*httputil.ReverseProxy, len(replicas))
	for i, r := range replicas {
		u, err := url.Parse(r.base)
		if err != nil {
			t.Fatal(err)
		}
		proxies[i] = httputil.NewSingleHostReverseProxy(u)
	}
	var next atomic.Uint64
	lb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxies[(next.Add(1)-1)%uint64(len(proxies))].ServeHTTP(w, r)
	}))
	t.Cleanup(lb.Close)
	return lb.URL
}

// TestScaleOut: three `scimbridge serve` processes on one PostgreSQL
// schema, each with its own import worker and the same cursor key, behind
// a round-robin balancer. Every replica serves SCIM writes; a cursor
// issued by one replica pages on at the others; an import committed
// through the balancer runs exactly once (exact counts, each user once).
// Then a replica committing an import is killed (SIGKILL) and another one
// takes the job over when its lease expires and finishes it exactly.
func TestScaleOut(t *testing.T) {
	bin := buildScimbridge(t)
	dsn := pgtest.DSN(t)
	t.Setenv("SCIMBRIDGE_CURSOR_KEY", "scale-out-shared-cursor-key")
	token := createToken(t, bin, dsn)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	replicas := []*child{startServer(t, bin, dsn, "r1"), startServer(t, bin, dsn, "r2"), startServer(t, bin, dsn, "r3")}
	lb := roundRobin(t, replicas)

	const users = 30
	for i := range users {
		scimDo(t, lb, token, "POST", "/scim/v2/Users", fmt.Sprintf(`{"userName":"lb%02d"}`, i), http.StatusCreated)
	}
	for _, r := range replicas {
		if n := createdCount(t, r.base); n != users/len(replicas) {
			t.Errorf("replica %s served %d creates, want %d", r.base, n, users/len(replicas))
		}
	}
	if got := pageAll(t, lb, token, 4); got != users {
		t.Fatalf("paging with cursors across replicas saw %d users, want %d", got, users)
	}

	client := csvclient.New(lb, token)
	const rows = 2000
	importOnce(ctx, t, client, rows, "once")
	if n := scimTotal(ctx, t, lb, token, `userName sw "once."`); n != rows {
		t.Fatalf("%d users after the shared import, want %d", n, rows)
	}

	takenOver(ctx, t, bin, dsn, token, replicas)
}

// importOnce uploads and commits a file through c and checks it ended
// completed with one create per row.
func importOnce(ctx context.Context, t *testing.T, c *csvclient.Client, rows int, prefix string) csvclient.Job {
	t.Helper()
	job := uploadValidated(ctx, t, c, rows, prefix)
	if _, err := c.Commit(ctx, job.ID, nil); err != nil {
		t.Fatal(err)
	}
	job, err := c.Wait(ctx, job.ID, 20*time.Millisecond, "committing")
	if err != nil || job.State != "completed" || job.Counts["create"] != rows || job.Counts["error"] != 0 {
		t.Fatalf("import: %v, state %s, counts %v", err, job.State, job.Counts)
	}
	return job
}

func uploadValidated(ctx context.Context, t *testing.T, c *csvclient.Client, rows int, prefix string) csvclient.Job {
	t.Helper()
	var b strings.Builder
	b.WriteString("userName\n")
	for i := range rows {
		fmt.Fprintf(&b, "%s.%06d\n", prefix, i)
	}
	job, err := c.Upload(ctx, "scim", prefix+".csv", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	job, err = c.Wait(ctx, job.ID, 20*time.Millisecond, "validating")
	if err != nil || job.State != "validated" {
		t.Fatalf("validation: %v, %s", err, job.State)
	}
	return job
}

// takenOver stops two replicas, commits a large import on the third (the
// only worker left, so it is the one that claims the job), starts two
// fresh replicas, SIGKILLs the committing one mid-commit and
// waits for a fresh one to take the job over (after the 2 s lease) and
// finish it exactly.
func takenOver(ctx context.Context, t *testing.T, bin, dsn, token string, replicas []*child) {
	t.Helper()
	replicas[1].stop(t)
	replicas[2].stop(t)
	owner := replicas[0]
	c := csvclient.New(owner.base, token)
	const rows = 60000
	job := uploadValidated(ctx, t, c, rows, "takeover")
	if _, err := c.Commit(ctx, job.ID, nil); err != nil {
		t.Fatal(err)
	}
	for { // claimed by the only replica with a worker
		if j, err := c.Get(ctx, job.ID); err != nil || j.Progress.Done > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	others := []*child{startServer(t, bin, dsn, "r4"), startServer(t, bin, dsn, "r5")}
	for {
		j, err := c.Get(ctx, job.ID)
		if err != nil || j.State != "committing" {
			t.Fatalf("the commit ended (%v, %s) before the replica could be killed; make the file larger", err, j.State)
		}
		if j.Progress.Done >= 1000 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	owner.kill(t)
	c = csvclient.New(roundRobin(t, others), token)
	job, err := c.Wait(ctx, job.ID, 50*time.Millisecond, "committing")
	if err != nil || job.State != "completed" || job.Counts["create"] != rows {
		t.Fatalf("after the takeover: %v, state %s, counts %v", err, job.State, job.Counts)
	}
	if n := scimTotal(ctx, t, others[0].base, token, `userName sw "takeover."`); n != rows {
		t.Fatalf("%d users after the takeover, want %d", n, rows)
	}
	st := openTestStore(ctx, t, dsn)
	defer st.Close()
	if got := rowsByStatus(ctx, t, st, job.ID); got["succeeded"] != rows {
		t.Fatalf("row outcomes %v, want %d succeeded", got, rows)
	}
}

func scimDo(t *testing.T, base, token, method, path, body string, want int) []byte {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	return b
}

var createdMetric = regexp.MustCompile(`scimbridge_http_requests_total\{method="POST",route="/scim/v2/users",status="201"\} (\d+)`)

// createdCount is how many user creates a replica answered 201, from its
// own /metrics.
func createdCount(t *testing.T, base string) int {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := createdMetric.FindSubmatch(b)
	if m == nil {
		return 0
	}
	var n int
	fmt.Sscan(string(m[1]), &n)
	return n
}

// pageAll walks /Users with cursors (RFC 9865) through the balancer, each
// page answered by another replica, and returns the distinct users seen.
func pageAll(t *testing.T, lb, token string, count int) int {
	t.Helper()
	seen := map[string]bool{}
	cursor := ""
	for range 100 {
		body := scimDo(t, lb, token, "GET", fmt.Sprintf("/scim/v2/Users?count=%d&cursor=%s", count, url.QueryEscape(cursor)), "", http.StatusOK)
		var page struct {
			Resources  []struct{ ID string }
			NextCursor string
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Resources {
			if seen[r.ID] {
				t.Fatalf("user %s on two pages", r.ID)
			}
			seen[r.ID] = true
		}
		if page.NextCursor == "" {
			return len(seen)
		}
		cursor = page.NextCursor
	}
	t.Fatal("cursor paging did not end")
	return 0
}
