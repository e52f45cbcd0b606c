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
