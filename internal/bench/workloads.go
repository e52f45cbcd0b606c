package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

// env is what workloads act on: the running server and the store behind it.
type env struct {
	client *http.Client
	base   string // SCIM base URL, http://127.0.0.1:PORT/scim/v2
	auth   string // Authorization header value
	st     store.Store
	pop    *population
	kind   string // store kind for results
	log    io.Writer
}

// op is one operation of one worker; rng is that worker's own. A non-nil
// error counts the operation as failed.
type op func(ctx context.Context, rng *rand.Rand) error

// workload is one row of the workloads table. newOp makes one worker's op;
// it is called once per worker, so an op may keep per-worker buffers.
type workload struct {
	name    string
	newOp   func(e *env) op
	ceiling *ceiling // the raw store operation bounding it, or nil
	// weight is how many operations one call performs (a Bulk request of
	// 1,000 creates counts 1,000); 0 means 1.
	weight int
}

// ceiling is a raw store operation, measured like a workload at the same
// concurrency, that bounds what a workload can reach.
type ceiling struct {
	name   string
	newOp  func(e *env) op
	weight int
}

// pointLookup is an indexed point lookup straight through the store.
var pointLookup = &ceiling{name: "store.GetUser", newOp: func(e *env) op {
	return func(ctx context.Context, rng *rand.Rand) error {
		_, err := e.st.GetUser(ctx, store.DefaultTenant, e.pop.ids[e.pop.randomIndex(rng)], store.UserLoad{})
		return err
	}
}}

// singleInsert is one user inserted straight through the store: a
// single-row commit, with a prebuilt record so that only the store works.
var singleInsert = &ceiling{name: "store.CreateUser", newOp: func(e *env) op {
	tmpl, err := userRecord(schema.New(), 0, time.Now())
	return func(ctx context.Context, _ *rand.Rand) error {
		if err != nil {
			return err
		}
		u, i := tmpl, e.pop.newUserIndex()
		u.ID, u.UserName, u.ExternalID = uuid.NewString(), userName(i), externalID(i)
		u.Emails = []store.Email{{Value: workEmail(i), Type: "work", Primary: true}, {Value: homeEmail(i), Type: "home"}}
		u.Created = time.Now().UTC().Truncate(time.Microsecond)
		u.LastModified = u.Created
		_, err := e.st.CreateUser(ctx, u)
		return err
	}
}}

// workloads is the table of workloads, in the order they run. Names are
// part of the JSON output that scripts read: never rename one.
var workloads = []workload{
	{name: "create-user", newOp: createUser, ceiling: singleInsert},
	{name: "get-user", newOp: getUser, ceiling: pointLookup},
	{name: "filter-username", newOp: filterOne(func(i int) string { return `userName eq "` + userName(i) + `"` }), ceiling: pointLookup},
	{name: "filter-externalid", newOp: filterOne(func(i int) string { return `externalId eq "` + externalID(i) + `"` })},
	{name: "filter-email", newOp: filterOne(func(i int) string { return `emails[type eq "work"].value eq "` + workEmail(i) + `"` })},
	{name: "list-sorted", newOp: listSorted},
	{name: "patch-user", newOp: patchUser},
	{name: "group-add-member", newOp: groupAddMember},
	{name: "bulk-create", newOp: bulkCreate, ceiling: batchedInsert, weight: bulkSize},
}

// WorkloadNames lists every workload, in the order they run.
func WorkloadNames() []string {
	names := make([]string, len(workloads))
	for i, w := range workloads {
		names[i] = w.name
	}
	return names
}

// selectWorkloads returns the named workloads in table order (all when
// names is empty).
func selectWorkloads(names []string) ([]workload, error) {
	if len(names) == 0 {
		return workloads, nil
	}
	for _, n := range names {
		if !slices.Contains(WorkloadNames(), n) {
			return nil, fmt.Errorf("unknown workload %q (known: %s)", n, strings.Join(WorkloadNames(), ", "))
		}
	}
	var out []workload
	for _, w := range workloads {
		if slices.Contains(names, w.name) {
			out = append(out, w)
		}
	}
	return out, nil
}

// createUser POSTs a user no one has created yet.
func createUser(e *env) op {
	var buf bytes.Buffer
	return func(ctx context.Context, _ *rand.Rand) error {
		body, err := json.Marshal(userBody(e.pop.newUserIndex()))
		if err != nil {
			return err
		}
		return e.do(ctx, http.MethodPost, "/Users", body, http.StatusCreated, &buf)
	}
}

// getUser GETs a random existing user by id.
func getUser(e *env) op {
	var buf bytes.Buffer
	return func(ctx context.Context, rng *rand.Rand) error {
		id := e.pop.ids[e.pop.randomIndex(rng)]
		if err := e.do(ctx, http.MethodGet, "/Users/"+id, nil, http.StatusOK, &buf); err != nil {
			return err
		}
		return expectContains(buf.Bytes(), id)
	}
}

// filterOne lists users with the filter that filter(i) gives for a random
// existing user i, and expects exactly that user.
func filterOne(filter func(i int) string) func(e *env) op {
	return func(e *env) op {
		var buf bytes.Buffer
		return func(ctx context.Context, rng *rand.Rand) error {
			i := e.pop.randomIndex(rng)
			if err := e.do(ctx, http.MethodGet, "/Users?filter="+url.QueryEscape(filter(i)), nil, http.StatusOK, &buf); err != nil {
				return err
			}
			if n, ok := totalResults(buf.Bytes()); !ok || n != 1 {
				return fmt.Errorf("wrong result: totalResults %d (found: %v), want 1", n, ok)
			}
			return expectContains(buf.Bytes(), e.pop.ids[i])
		}
	}
}

// listSorted GETs a random page of 100 users sorted by lastModified.
func listSorted(e *env) op {
	var buf bytes.Buffer
	pages := (e.pop.n + 99) / 100
	return func(ctx context.Context, rng *rand.Rand) error {
		path := "/Users?sortBy=meta.lastModified&count=100&startIndex=" + strconv.Itoa(rng.IntN(pages)*100+1)
		if err := e.do(ctx, http.MethodGet, path, nil, http.StatusOK, &buf); err != nil {
			return err
		}
		if n, ok := totalResults(buf.Bytes()); !ok || n < e.pop.n {
			return fmt.Errorf("wrong result: totalResults %d (found: %v), want at least %d", n, ok, e.pop.n)
		}
		return nil
	}
}

// do sends one request and reads the whole response into buf (so the
// connection is reused). A status other than want is an error.
func (e *env) do(ctx context.Context, method, path string, body []byte, want int, buf *bytes.Buffer) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", e.auth)
	req.Header.Set("Accept", "application/scim+json")
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	buf.Reset()
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("HTTP %d, want %d: %s", resp.StatusCode, want, preview(buf.Bytes()))
	}
	return nil
}

func expectContains(body []byte, s string) error {
	if !bytes.Contains(body, []byte(s)) {
		return fmt.Errorf("wrong result: the response does not mention %s: %s", s, preview(body))
	}
	return nil
}

// totalResults reads a list response's totalResults without decoding the
// whole body (the client shares the machine with the server).
func totalResults(body []byte) (int, bool) {
	const key = `"totalResults":`
	i := bytes.Index(body, []byte(key))
	if i < 0 {
		return 0, false
	}
	rest := bytes.TrimLeft(body[i+len(key):], " ")
	n, digits := 0, 0
	for _, c := range rest {
		if c < '0' || c > '9' {
			break
		}
		n, digits = n*10+int(c-'0'), digits+1
	}
	return n, digits > 0
}

func preview(body []byte) string {
	s := strings.TrimSpace(string(body))
	if len(s) > maxBodyPreviewLength {
		return s[:maxBodyPreviewLength] + "..."
	}
	return s
}
