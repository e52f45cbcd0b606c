package csvbridge_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/csvbridge"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/server/servertest"
	"github.com/scimbridge/scimbridge/internal/store"
)

// admin imports with the highest tier.
var admin = policy.Principal{Tenant: store.DefaultTenant, Subject: "importer", Kind: policy.KindPerson, Tier: policy.Tier3Engineering}

const enterpriseURN = schema.EnterpriseURN + ":"

// forEachStore runs fn per store backend (a real SQLite file, a fresh
// PostgreSQL schema) with a directory service over it.
func forEachStore(t *testing.T, fn func(t *testing.T, dir *directory.Service)) {
	for name, open := range servertest.Backends() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, directory.New(open(t), schema.New()))
		})
	}
}

// readFile reads, maps and validates a whole file.
func readFile(t testing.TB, dir *directory.Service, p *csvbridge.Profile, file string) ([]csvbridge.Row, *csvbridge.Mapping) {
	t.Helper()
	im, err := csvbridge.Open(strings.NewReader(file), p, dir.Registry(), csvbridge.Limits{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	var rows []csvbridge.Row
	for {
		r, err := im.Next()
		if errors.Is(err, io.EOF) {
			return rows, im.Mapping()
		}
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		rows = append(rows, r)
	}
}

// planFile plans a whole file in one batch.
func planFile(t *testing.T, dir *directory.Service, p policy.Principal, prof *csvbridge.Profile, file string) []csvbridge.Planned {
	t.Helper()
	rows, m := readFile(t, dir, prof, file)
	out, err := csvbridge.NewPlanner(dir, p, m).Plan(context.Background(), rows)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	return out
}

// commit commits a plan and returns every row's outcome.
func commit(t *testing.T, dir *directory.Service, p policy.Principal, rows []csvbridge.Planned) []csvbridge.Outcome {
	t.Helper()
	out := make([]csvbridge.Outcome, len(rows))
	seen := make([]bool, len(rows))
	last := -1
	err := csvbridge.Commit(context.Background(), dir, p, dir.Registry().User, rows, func(i int, o csvbridge.Outcome) {
		if i <= last || seen[i] {
			t.Errorf("outcome of row index %d after %d", i, last)
		}
		out[i], seen[i], last = o, true, i
	})
	if err != nil {
		t.Fatalf("commit: %v", err)
	}
	for i, s := range seen {
		if !s {
			t.Errorf("no outcome for row index %d", i)
		}
	}
	return out
}

// actions lists the planned actions.
func actions(rows []csvbridge.Planned) string {
	parts := make([]string, len(rows))
	for i, r := range rows {
		parts[i] = string(r.Action)
	}
	return strings.Join(parts, " ")
}

func wantActions(t *testing.T, rows []csvbridge.Planned, want string) {
	t.Helper()
	if got := actions(rows); got != want {
		for _, r := range rows {
			t.Logf("row %d %s %+v diff %+v", r.Number, r.Action, r.Issues, r.Diff)
		}
		t.Fatalf("actions\n got %s\nwant %s", got, want)
	}
}

// hasIssue reports the row's issue with the code, failing when absent.
func hasIssue(t *testing.T, r csvbridge.Planned, code string, sev csvbridge.Severity) csvbridge.Issue {
	t.Helper()
	for _, is := range r.Issues {
		if is.Code == code && is.Severity == sev {
			if is.Row != r.Number || is.Message == "" {
				t.Errorf("row %d: issue %+v lacks its row or message", r.Number, is)
			}
			return is
		}
	}
	t.Fatalf("row %d: want %s issue %s, got %+v", r.Number, sev, code, r.Issues)
	return csvbridge.Issue{}
}

func mustCreate(t testing.TB, dir *directory.Service, body map[string]any) *directory.Resource {
	t.Helper()
	r, err := dir.CreateUser(context.Background(), admin, body)
	if err != nil {
		t.Fatalf("create %v: %v", body["userName"], err)
	}
	return r
}

func userDoc(t *testing.T, dir *directory.Service, id string) schema.Doc {
	t.Helper()
	r, err := dir.GetUser(context.Background(), admin, id)
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	d, err := r.Document()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// snapshot counts the users and audit events, to show a dry run wrote
// nothing.
func snapshot(t *testing.T, dir *directory.Service) string {
	t.Helper()
	list, err := dir.ListUsers(context.Background(), admin, directory.ListQuery{Count: 1000})
	if err != nil {
		t.Fatal(err)
	}
	events, err := dir.AuditEvents(context.Background(), admin, store.AuditQuery{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d users, %d events:", list.Total, len(events))
	for _, r := range list.Resources {
		fmt.Fprintf(&b, " %s@%d", r.ID, r.Version)
	}
	return b.String()
}

func patchOps(r csvbridge.Planned) string {
	parts := make([]string, len(r.Patch))
	for i, op := range r.Patch {
		parts[i] = fmt.Sprintf("%v %v %v", op["op"], op["path"], op["value"])
	}
	return strings.Join(parts, "; ")
}
