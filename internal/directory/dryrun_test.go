package directory_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/store"
)

// TestApplyDryRun: a dry run judges validation, uniqueness (against the
// store and within the stream), preconditions and references as a real
// run does, each operation seeing what the earlier ones would have done,
// and writes nothing, not even audit events.
func TestApplyDryRun(t *testing.T) {
	forEachStore(t, nil, func(t *testing.T, s *directory.Service, _ store.Store) {
		ctx := context.Background()
		existing, err := s.CreateUser(ctx, admin, map[string]any{"userName": "existing"})
		if err != nil {
			t.Fatal(err)
		}
		reg := s.Registry()
		create := func(bulkID string, body map[string]any) directory.Operation {
			return directory.Operation{Kind: directory.OpCreate, Type: reg.User, BulkID: bulkID, Data: body}
		}
		rename := func(name string) map[string]any {
			return map[string]any{"Operations": []any{map[string]any{"op": "replace", "path": "userName", "value": name}}}
		}
		ops := []directory.Operation{
			create("n1", map[string]any{"userName": "new1"}),                                                      // 201
			create("n2", map[string]any{"userName": "EXISTING"}),                                                  // 409: in the store
			create("n3", map[string]any{"userName": "New1"}),                                                      // 409: earlier in the stream
			create("n4", map[string]any{"displayName": "no userName"}),                                            // 400
			{Kind: directory.OpPatch, Type: reg.User, ID: existing.ID, Version: `W/"2"`, Data: rename("x")},       // 412
			{Kind: directory.OpPatch, Type: reg.User, ID: existing.ID, Version: `W/"1"`, Data: rename("renamed")}, // 200
			create("n5", map[string]any{"userName": "existing"}),                                                  // 201: freed by the rename
			{Kind: directory.OpPatch, Type: reg.User, Ref: "n1", Data: rename("renamed")},                         // 409: taken in the stream
			{Kind: directory.OpDelete, Type: reg.User, Ref: "n1"},                                                 // 204
			{Kind: directory.OpDelete, Type: reg.User, Ref: "n1"},                                                 // 404: deleted in the stream
			{Kind: directory.OpCreate, Type: reg.Group, BulkID: "g", Data: map[string]any{"displayName": "G"}},    // 501
		}
		var got []int
		opts := directory.ApplyOptions{Source: directory.SourceCSV, Operation: policy.CSVImport, DryRun: true, Window: 4}
		err = s.Apply(ctx, admin, opts, slices.Values(ops), func(r directory.BulkResult) bool {
			got = append(got, r.Status)
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []int{201, 409, 409, 400, 412, 200, 201, 409, 204, 404, 501}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("statuses %v, want %v", got, want)
		}
		list, err := s.ListUsers(ctx, admin, directory.ListQuery{})
		if err != nil || list.Total != 1 {
			t.Fatalf("after a dry run: %d users, %v; want only the seeded one", list.Total, err)
		}
		u, err := s.GetUser(ctx, admin, existing.ID)
		if err != nil || u.Version != 1 {
			t.Fatalf("seeded user changed: version %d, %v", u.Version, err)
		}
		events, err := s.AuditEvents(ctx, admin, store.AuditQuery{})
		if err != nil || len(events) != 1 {
			t.Fatalf("audit events after a dry run: %d, %v; want 1 (the seed)", len(events), err)
		}
	})
}

// TestApplyDryRunFreeUserName: a dry run takes the caller's word for the
// userNames it vouches for (it does not ask the store about them again),
// and still asks about the others and judges names the stream itself
// takes.
func TestApplyDryRunFreeUserName(t *testing.T) {
	forEachStore(t, nil, func(t *testing.T, s *directory.Service, _ store.Store) {
		ctx := context.Background()
		for _, name := range []string{"held1", "held2"} {
			if _, err := s.CreateUser(ctx, admin, map[string]any{"userName": name}); err != nil {
				t.Fatal(err)
			}
		}
		reg := s.Registry()
		ops := make([]directory.Operation, 0, 200)
		for _, name := range []string{"HELD1", "held2", "free", "FREE"} {
			ops = append(ops, directory.Operation{Kind: directory.OpCreate, Type: reg.User, BulkID: name, Data: map[string]any{"userName": name}})
		}
		// a batch large enough for the set-based path as well
		for i := range 150 {
			name := fmt.Sprintf("user%d", i)
			if i == 149 {
				name = "held2"
			}
			ops = append(ops, directory.Operation{Kind: directory.OpCreate, Type: reg.User, BulkID: fmt.Sprint(i), Data: map[string]any{"userName": name}})
		}
		vouched := map[string]bool{"held1": true, "free": true} // held1 wrongly: the run must believe it
		for _, window := range []int{1, len(ops)} {
			var got []int
			opts := directory.ApplyOptions{Source: directory.SourceCSV, Operation: policy.CSVImport, DryRun: true, Window: window,
				FreeUserName: func(norm string) bool { return vouched[norm] }}
			err := s.Apply(ctx, admin, opts, slices.Values(ops), func(r directory.BulkResult) bool {
				got = append(got, r.Status)
				return true
			})
			if err != nil {
				t.Fatal(err)
			}
			// HELD1 vouched for: 201; held2 asked about: 409; free: 201;
			// FREE: taken earlier in the stream: 409; ... held2 again: 409
			if want := []int{201, 409, 201, 409}; fmt.Sprint(got[:4]) != fmt.Sprint(want) || got[len(got)-1] != 409 || got[4] != 201 {
				t.Fatalf("window %d: statuses %v..., last %d; want %v..., last 409", window, got[:5], got[len(got)-1], want)
			}
		}
	})
}
