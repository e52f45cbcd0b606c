package directory_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/store"
)

func setNotifications(t *testing.T, s *directory.Service) {
	t.Helper()
	if _, err := s.UpdateSettings(context.Background(), admin, func(ts *directory.TenantSettings) error {
		ts.Notifications = directory.Notifications{SignInURL: "https://login.example.com/setup", From: "it@example.com"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// applyCreates runs user creations through Apply and returns the results.
// failOnErrors > 0 turns off set-based creation (each runs on its own).
func applyCreates(t *testing.T, s *directory.Service, failOnErrors int, dry bool, ops ...directory.Operation) []directory.BulkResult {
	t.Helper()
	var out []directory.BulkResult
	opts := directory.ApplyOptions{Source: directory.SourceCSV, Operation: policy.CSVImport, FailOnErrors: failOnErrors, DryRun: dry}
	err := s.Apply(context.Background(), admin, opts, func(yield func(directory.Operation) bool) {
		for _, op := range ops {
			if !yield(op) {
				return
			}
		}
	}, func(r directory.BulkResult) bool { out = append(out, r); return true })
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func notifyCreate(s *directory.Service, bulkID, userName string, notify bool, emails ...string) directory.Operation {
	data := map[string]any{"userName": userName, "displayName": "Display " + userName}
	var list []any
	for _, e := range emails {
		list = append(list, map[string]any{"value": e, "type": "work"})
	}
	if list != nil {
		data["emails"] = list
	}
	return directory.Operation{Kind: directory.OpCreate, Type: s.Registry().User, BulkID: bulkID, Data: data, Notify: notify}
}

func outbox(t *testing.T, s *directory.Service) []directory.OutboxMessage {
	t.Helper()
	got, err := s.Outbox(context.Background(), tierPrincipal(policy.Tier2SoftwarePartner), directory.OutboxQuery{})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestNotifyWritesOneOutboxRowWithTheUser: on the set-based path and the
// one-by-one path, each creation asking for it gets exactly one message,
// others none, and a failed creation leaves no message behind.
func TestNotifyWritesOneOutboxRowWithTheUser(t *testing.T) {
	for _, mode := range []struct {
		name         string
		failOnErrors int
	}{{"set-based", 0}, {"one-by-one", 100}} {
		t.Run(mode.name, func(t *testing.T) {
			forEachStore(t, nil, func(t *testing.T, s *directory.Service, _ store.Store) {
				setNotifications(t, s)
				if _, err := s.CreateUser(context.Background(), admin, map[string]any{"userName": "taken"}); err != nil {
					t.Fatal(err)
				}
				res := applyCreates(t, s, mode.failOnErrors, false,
					notifyCreate(s, "a", "mary", true, "mary@example.com"),
					notifyCreate(s, "b", "joe", false, "joe@example.com"),
					notifyCreate(s, "c", "TAKEN", true, "taken@example.com"),
					notifyCreate(s, "d", "nomail", true),
				)
				want := []int{http.StatusCreated, http.StatusCreated, http.StatusConflict, http.StatusBadRequest}
				for i, r := range res {
					if r.Status != want[i] {
						t.Errorf("operation %d: status %d (%v), want %d", i, r.Status, r.Err, want[i])
					}
				}
				if !strings.Contains(res[3].Err.Error(), "no email") {
					t.Errorf("no-email refusal = %v", res[3].Err)
				}
				msgs := outbox(t, s)
				if len(msgs) != 1 {
					t.Fatalf("outbox = %+v, want exactly mary's message", msgs)
				}
				m := msgs[0]
				if m.To != "mary@example.com" || m.UserID != res[0].ID || m.State != store.OutboxPending || m.Kind != directory.OutboxAccountCreated ||
					m.From != "it@example.com" || m.Subject != directory.DefaultSubject || !strings.Contains(m.Body, "https://login.example.com/setup") ||
					!strings.Contains(m.Body, "mary") {
					t.Fatalf("message = %+v", m)
				}
				l, err := s.ListUsers(context.Background(), admin, directory.ListQuery{Filter: `userName eq "nomail"`})
				if err != nil || l.Total != 0 {
					t.Fatalf("the refused user exists: %v %v", l, err)
				}
			})
		})
	}
}

func TestNotifyNeedsSettingsAndSkipsDryRuns(t *testing.T) {
	forEachStore(t, nil, func(t *testing.T, s *directory.Service, _ store.Store) {
		res := applyCreates(t, s, 0, false, notifyCreate(s, "a", "early", true, "early@example.com"))
		if res[0].Status != http.StatusBadRequest || !strings.Contains(res[0].Err.Error(), "signInUrl") {
			t.Fatalf("notify without settings: %d %v", res[0].Status, res[0].Err)
		}
		setNotifications(t, s)
		res = applyCreates(t, s, 0, true, notifyCreate(s, "a", "dry", true, "dry@example.com"), notifyCreate(s, "b", "drynomail", true))
		if res[0].Status != http.StatusCreated || res[1].Status != http.StatusBadRequest {
			t.Fatalf("dry run: %+v", res)
		}
		if msgs := outbox(t, s); len(msgs) != 0 {
			t.Fatalf("a dry run wrote messages: %+v", msgs)
		}
		_, err := s.Outbox(context.Background(), tierPrincipal(policy.Tier1Operations), directory.OutboxQuery{})
		wantStatus(t, "tier 1 reads the outbox", err, http.StatusForbidden)
		_, err = s.Outbox(context.Background(), admin, directory.OutboxQuery{State: "lost"})
		wantStatus(t, "unknown state", err, http.StatusBadRequest)
	})
}
