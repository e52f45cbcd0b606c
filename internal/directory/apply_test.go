package directory_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

// stream yields n user creations u0..u(n-1), then a group whose members
// refer to the first and last by bulkId, then a patch of u0 by reference.
func stream(s *directory.Service, n int) func(func(directory.Operation) bool) {
	reg := s.Registry()
	return func(yield func(directory.Operation) bool) {
		for i := range n {
			op := directory.Operation{Kind: directory.OpCreate, Type: reg.User, BulkID: fmt.Sprint("u", i),
				Data: map[string]any{"userName": fmt.Sprint("stream-", i)}}
			if !yield(op) {
				return
			}
		}
		members := []any{map[string]any{"value": "bulkId:u0"}, map[string]any{"value": fmt.Sprint("bulkId:u", n-1)}}
		if !yield(directory.Operation{Kind: directory.OpCreate, Type: reg.Group, BulkID: "g", Data: map[string]any{"displayName": "G", "members": members}}) {
			return
		}
		yield(directory.Operation{Kind: directory.OpPatch, Type: reg.User, Ref: "u0", Version: `W/"1"`,
			Data: map[string]any{"Operations": []any{map[string]any{"op": "replace", "path": "title", "value": "Lead"}}}})
	}
}

// TestApplyStreamsInWindows: results come out per operation in stream
// order with stream indexes, references cross windows, and every change
// is audited under the caller's source.
func TestApplyStreamsInWindows(t *testing.T) {
	forEachStore(t, nil, func(t *testing.T, s *directory.Service, _ store.Store) {
		const n = 250
		var got []directory.BulkResult
		opts := directory.ApplyOptions{Source: directory.SourceCSV, Operation: policy.CSVImport, Window: 100}
		err := s.Apply(context.Background(), admin, opts, stream(s, n), func(r directory.BulkResult) bool {
			got = append(got, r)
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != n+2 {
			t.Fatalf("%d results, want %d", len(got), n+2)
		}
		for i, r := range got {
			want := http.StatusCreated
			if i == n+1 {
				want = http.StatusOK
			}
			if r.Index != i || r.Status != want {
				t.Fatalf("result %d: index %d status %d (%v), want %d", i, r.Index, r.Status, r.Err, want)
			}
		}
		g, err := s.GetGroup(context.Background(), admin, got[n].ID, true)
		if err != nil {
			t.Fatal(err)
		}
		if members, _ := g.Doc["members"].([]any); len(members) != 2 {
			t.Fatalf("group members %v", g.Doc["members"])
		}
		events, err := s.AuditEvents(context.Background(), admin, store.AuditQuery{ResourceID: got[0].ID})
		if err != nil || len(events) != 2 || events[0].Source != directory.SourceCSV || events[1].Source != directory.SourceCSV {
			t.Fatalf("audit of u0: %+v, %v", events, err)
		}
	})
}

// TestApplyPolicyAndStop: the caller's rule is checked for the whole run,
// and emit returning false stops it.
func TestApplyPolicyAndStop(t *testing.T) {
	forEachStore(t, nil, func(t *testing.T, s *directory.Service, _ store.Store) {
		helpDesk := admin
		helpDesk.Tier = policy.Tier0HelpDesk
		opts := directory.ApplyOptions{Source: directory.SourceCSV, Operation: policy.CSVImport, Window: 10}
		err := s.Apply(context.Background(), helpDesk, opts, stream(s, 5), func(directory.BulkResult) bool { return true })
		var se scimerrors.ScimError
		if !errors.As(err, &se) || se.Status != http.StatusForbidden {
			t.Fatalf("tier 0 csv.import: %v, want 403", err)
		}
		if err := s.Apply(context.Background(), admin, directory.ApplyOptions{}, stream(s, 5), nil); err == nil {
			t.Fatal("Apply without a source and rule ran")
		}
		seen := 0
		err = s.Apply(context.Background(), admin, opts, stream(s, 50), func(directory.BulkResult) bool { seen++; return seen < 15 })
		if err != nil || seen != 15 {
			t.Fatalf("stopped after %d results, %v", seen, err)
		}
		list, err := s.ListUsers(context.Background(), admin, directory.ListQuery{})
		if err != nil || list.Total != 20 {
			t.Fatalf("stored %v users, %v; want the 2 windows run (20)", list.Total, err)
		}
	})
}

// TestApplyPrebuilt: creations prebuilt (Prebuild) and then applied give
// exactly what applying them unprepared gives (statuses, errors, stored
// users), and a creation prebuilt for another principal is judged again
// for the principal that applies it: a tier-3 caller's prebuilt tier-3
// user is refused when a tier-2 caller applies it.
func TestApplyPrebuilt(t *testing.T) {
	forEachStore(t, nil, func(t *testing.T, s *directory.Service, _ store.Store) {
		ctx := context.Background()
		reg := s.Registry()
		bodies := func(prefix string) []map[string]any {
			out := make([]map[string]any, 150)
			for k := range out {
				out[k] = map[string]any{"userName": fmt.Sprintf("%s%d", prefix, k), "name": map[string]any{"givenName": "G"}}
				switch k % 10 {
				case 3:
					out[k]["active"] = "perhaps" // invalid
				case 7:
					out[k][schema.SupportURN] = map[string]any{"tier": "support-tier-3-engineering"}
				}
			}
			return out
		}
		run := func(p policy.Principal, prefix string, pre []*directory.Prebuilt) []string {
			var ops []directory.Operation
			for k, b := range bodies(prefix) {
				op := directory.Operation{Kind: directory.OpCreate, Type: reg.User, BulkID: fmt.Sprint(k), Data: b}
				if pre != nil {
					op.Prebuilt = pre[k]
				}
				ops = append(ops, op)
			}
			var got []string
			opts := directory.ApplyOptions{Source: directory.SourceCSV, Operation: policy.CSVImport, Window: len(ops)}
			if err := s.Apply(ctx, p, opts, slices.Values(ops), func(r directory.BulkResult) bool {
				got = append(got, fmt.Sprint(r.Status, " ", r.Err))
				return true
			}); err != nil {
				t.Fatal(err)
			}
			return got
		}
		pre, err := s.Prebuild(ctx, admin, bodies("b"))
		if err != nil {
			t.Fatal(err)
		}
		plain, prebuilt := run(admin, "a", nil), run(admin, "b", pre)
		if fmt.Sprint(plain) != fmt.Sprint(prebuilt) || !strings.HasPrefix(plain[3], "400") {
			t.Fatalf("prebuilt run differs:\nplain    %v\nprebuilt %v", plain, prebuilt)
		}
		for _, prefix := range []string{"a", "b"} {
			list, err := s.ListUsers(ctx, admin, directory.ListQuery{Filter: fmt.Sprintf(`userName sw %q`, prefix)})
			if err != nil || list.Total != 135 {
				t.Fatalf("users %s*: %d, %v; want 135", prefix, list.Total, err)
			}
		}
		tier2 := admin
		tier2.Tier = policy.Tier2SoftwarePartner
		pre, err = s.Prebuild(ctx, admin, bodies("c"))
		if err != nil {
			t.Fatal(err)
		}
		if got := run(tier2, "c", pre); !strings.HasPrefix(got[7], "403") || !strings.HasPrefix(got[0], "201") {
			t.Fatalf("tier-2 caller with tier-3 prebuilt creations: %v", got[:8])
		}
	})
}
