package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/server/servertest"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/postgres"
	"github.com/scimbridge/scimbridge/internal/store/postgres/pgtest"
	"github.com/scimbridge/scimbridge/scim"
)

// TestHardening_GroupWritesDoNotFreezePool: on PostgreSQL with a
// one-connection pool, parallel group PUTs (distinct groups) and parallel
// member PATCHes with a filter (one group) all complete, and reads keep
// being answered. Before the fix a group change read member tiers through
// the pool while its transaction held the only connection: every request
// hung.
func TestHardening_GroupWritesDoNotFreezePool(t *testing.T) {
	ctx := context.Background()
	st, err := postgres.Open(ctx, pgtest.DSN(t)+"&pool_max_conns=1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := servertest.New(t, st, scim.Config{})
	users := make([]string, 8)
	for i := range users {
		r := e.Do(t, "POST", "Users", fmt.Sprintf(`{"userName":"pool%d"}`, i)).Must(t, http.StatusCreated)
		users[i], _ = r.JSON(t)["id"].(string)
	}
	groups := make([]string, 6)
	for i := range groups {
		r := e.Do(t, "POST", "Groups", fmt.Sprintf(`{"displayName":"g%d"}`, i)).Must(t, http.StatusCreated)
		groups[i], _ = r.JSON(t)["id"].(string)
	}
	client := &http.Client{Timeout: 20 * time.Second}
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	send := func(method, path, body string, want int) {
		defer wg.Done()
		req, _ := http.NewRequest(method, e.URL+scim.BasePath+"/"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.Token)
		req.Header.Set("Content-Type", scim.MediaType)
		resp, err := client.Do(req)
		if err != nil {
			errs <- fmt.Errorf("%s %s: %w", method, path, err)
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != want {
			b, _ := io.ReadAll(resp.Body)
			errs <- fmt.Errorf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, b)
		}
	}
	for i, g := range groups {
		wg.Add(1)
		go send("PUT", "Groups/"+g, fmt.Sprintf(`{"displayName":"g%d","members":[{"value":%q}]}`, i, users[i]), http.StatusOK)
	}
	for _, u := range users {
		wg.Add(1)
		go send("PATCH", "Groups/"+groups[0], fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations":[{"op":"add","path":"members[value eq \"%s\"]","value":[{"value":%q}]}]}`, u, u), http.StatusNoContent)
	}
	for range 4 {
		wg.Add(2)
		go send("GET", "Users", "", http.StatusOK)
		go func() {
			defer wg.Done()
			resp, err := client.Get(e.URL + "/readyz")
			if err != nil || resp.StatusCode != http.StatusOK {
				errs <- fmt.Errorf("/readyz: %v %v", resp, err)
				return
			}
			resp.Body.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestHardening_SaturatedPoolAnswers503: on PostgreSQL with a
// one-connection pool whose only connection is held, requests answer 503
// with Retry-After and a SCIM error body after the acquire timeout (200ms)
// instead of hanging: a read with a cached credential, a credential not
// yet cached (authentication itself needs the store) and the audit log.
// Once the connection is free the same requests answer 200.
func TestHardening_SaturatedPoolAnswers503(t *testing.T) {
	st, err := postgres.Open(context.Background(), pgtest.DSN(t)+"&pool_max_conns=1&pool_acquire_timeout=200ms")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := servertest.New(t, st, scim.Config{})
	e.Do(t, "GET", "Users", "").Must(t, http.StatusOK) // caches e.Token's principal
	fresh := e.NewToken(t, store.DefaultTenant, "fresh", policy.Tier3Engineering)
	release := pgtest.HoldConnection(t, st)
	requests := []struct {
		name, path string
		headers    []string
	}{
		{"GET Users", "Users", nil},
		{"GET Users, credential not cached", "Users", []string{"Authorization", "Bearer " + fresh}},
		{"GET audit events", "/audit/events", nil},
	}
	for _, rq := range requests {
		r := e.Do(t, "GET", rq.path, "", rq.headers...)
		if got := r.Header.Get("Retry-After"); got != strconv.Itoa(directory.RetryAfterSeconds) {
			t.Errorf("%s: Retry-After %q, want %d (status %d)", rq.name, got, directory.RetryAfterSeconds, r.Status)
		}
		if rq.path == "/audit/events" {
			r.Must(t, http.StatusServiceUnavailable)
			continue
		}
		m := r.MustError(t, http.StatusServiceUnavailable, "")
		if d, _ := m["detail"].(string); !strings.Contains(d, "busy") {
			t.Errorf("%s: detail %q does not say the database is busy", rq.name, d)
		}
	}
	release()
	for _, rq := range requests {
		e.Do(t, "GET", rq.path, "", rq.headers...).Must(t, http.StatusOK)
	}
}
