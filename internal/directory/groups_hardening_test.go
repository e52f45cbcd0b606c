package directory_test

import (
	"context"
	"fmt"
	"testing"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

// tierUser creates a user of the given tier.
func tierUser(t *testing.T, svc *directory.Service, name string, tier policy.Tier) *directory.Resource {
	t.Helper()
	return mustCreate(t, svc, userBody(name, schema.SupportURN, map[string]any{"tier": tier.String()}))
}

func groupBody(name string, memberIDs ...string) map[string]any {
	members := make([]any, len(memberIDs))
	for i, id := range memberIDs {
		members[i] = map[string]any{"value": id}
	}
	return map[string]any{"schemas": []any{schema.GroupURN}, "displayName": name, "members": members}
}

func mustCreateGroup(t *testing.T, svc *directory.Service, body map[string]any) *directory.Resource {
	t.Helper()
	g, err := svc.CreateGroup(context.Background(), admin, body)
	if err != nil {
		t.Fatalf("create group %v: %v", body["displayName"], err)
	}
	return g
}

var tier2 = policy.Principal{Tenant: store.DefaultTenant, Subject: "partner", Kind: policy.KindProvisioner, Tier: policy.Tier2SoftwarePartner}

// TestHardening_NestedGroupMembershipJudgedTransitively: a tier-2 caller
// may not add a group holding a tier-3 user (at any depth) to another
// group, remove it, or delete a group that reaches such a user.
func TestHardening_NestedGroupMembershipJudgedTransitively(t *testing.T) {
	forEachStore(t, nil, func(t *testing.T, svc *directory.Service, _ store.Store) {
		ctx := context.Background()
		eng := tierUser(t, svc, "eng", policy.Tier3Engineering)
		low := tierUser(t, svc, "low", policy.Tier0HelpDesk)
		g3 := mustCreateGroup(t, svc, groupBody("G3", eng.ID))
		g2 := mustCreateGroup(t, svc, groupBody("G2", g3.ID)) // eng two levels down
		g1 := mustCreateGroup(t, svc, groupBody("G1", low.ID))

		add := []directory.PatchOp{{Op: "add", Path: "members", Value: []any{map[string]any{"value": g2.ID}}}}
		_, err := svc.PatchGroup(ctx, tier2, g1.ID, add, directory.Precondition{})
		wantSCIM(t, err, 403, "")
		_, err = svc.ReplaceGroup(ctx, tier2, g1.ID, groupBody("G1", low.ID, g2.ID), directory.Precondition{})
		wantSCIM(t, err, 403, "")

		// An admin nests it; tier 2 may then neither take it out nor delete G1.
		if _, err := svc.PatchGroup(ctx, admin, g1.ID, add, directory.Precondition{}); err != nil {
			t.Fatal(err)
		}
		remove := []directory.PatchOp{{Op: "remove", Path: fmt.Sprintf(`members[value eq "%s"]`, g2.ID)}}
		_, err = svc.PatchGroup(ctx, tier2, g1.ID, remove, directory.Precondition{})
		wantSCIM(t, err, 403, "")
		_, err = svc.ReplaceGroup(ctx, tier2, g1.ID, groupBody("G1", low.ID), directory.Precondition{})
		wantSCIM(t, err, 403, "")
		wantSCIM(t, svc.DeleteGroup(ctx, tier2, g1.ID, directory.Precondition{}), 403, "")
		if _, err := svc.GetGroup(ctx, admin, g1.ID, true); err != nil {
			t.Fatalf("G1 gone after refused delete: %v", err)
		}

		// Groups that reach nobody above tier 2 stay the partner's to change.
		plain := mustCreateGroup(t, svc, groupBody("plain", low.ID))
		if _, err := svc.PatchGroup(ctx, tier2, plain.ID, []directory.PatchOp{{Op: "add", Path: "members", Value: []any{map[string]any{"value": g1.ID}}}}, directory.Precondition{}); err == nil {
			t.Fatal("adding G1 (which now reaches eng) was allowed")
		}
		if err := svc.DeleteGroup(ctx, tier2, plain.ID, directory.Precondition{}); err != nil {
			t.Fatalf("delete of a group reaching only tier 0: %v", err)
		}
	})
}

// TestHardening_GroupPutCannotRewriteProtectedDisplay: PUT with a new
// display for a tier-3 member is a change to that member, as by PATCH.
func TestHardening_GroupPutCannotRewriteProtectedDisplay(t *testing.T) {
	forEachStore(t, nil, func(t *testing.T, svc *directory.Service, _ store.Store) {
		ctx := context.Background()
		eng := tierUser(t, svc, "eng", policy.Tier3Engineering)
		g := mustCreateGroup(t, svc, groupBody("G", eng.ID))
		body := groupBody("G")
		body["members"] = []any{map[string]any{"value": eng.ID, "display": "Mallory"}}
		_, err := svc.ReplaceGroup(ctx, tier2, g.ID, body, directory.Precondition{})
		wantSCIM(t, err, 403, "")
		got, err := svc.GetGroup(ctx, admin, g.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := got.Document()
		if fmt.Sprint(doc["members"]) == "" || fmt.Sprint(doc["members"]) == fmt.Sprint(body["members"]) {
			t.Fatalf("display rewritten: %v", doc["members"])
		}
	})
}

// TestHardening_UnknownMemberOpsRefused: an op other than add, replace or
// remove on members is 400 invalidSyntax and adds nobody.
func TestHardening_UnknownMemberOpsRefused(t *testing.T) {
	forEachStore(t, nil, func(t *testing.T, svc *directory.Service, _ store.Store) {
		ctx := context.Background()
		u := tierUser(t, svc, "u", policy.Tier0HelpDesk)
		g := mustCreateGroup(t, svc, groupBody("G"))
		for _, op := range []string{"bogus", "delete", "Add "} {
			ops := []directory.PatchOp{{Op: op, Path: "members", Value: []any{map[string]any{"value": u.ID}}}}
			_, err := svc.PatchGroup(ctx, admin, g.ID, ops, directory.Precondition{})
			wantSCIM(t, err, 400, scimerrors.ScimTypeInvalidSyntax)
		}
		got, err := svc.GetGroup(ctx, admin, g.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		if doc, _ := got.Document(); doc["members"] != nil {
			t.Fatalf("members after refused ops: %v", doc["members"])
		}
	})
}

// countingStore counts the tier reads a change makes.
type countingStore struct {
	store.Store
	tierReads int
}

func (c *countingStore) UserTiers(ctx context.Context, tenant string, ids []string) (map[string]store.Tier, error) {
	c.tierReads++
	return c.Store.UserTiers(ctx, tenant, ids)
}

// TestHardening_MemberPatchCheapCheckFirst: a tier-0 caller's huge member
// PATCH is refused before any member is read or resolved.
func TestHardening_MemberPatchCheapCheckFirst(t *testing.T) {
	wrap := func(st store.Store) store.Store { return &countingStore{Store: st} }
	forEachStore(t, wrap, func(t *testing.T, svc *directory.Service, st store.Store) {
		counter := st.(*countingStore)
		g := mustCreateGroup(t, svc, groupBody("G"))
		tier0 := policy.Principal{Tenant: store.DefaultTenant, Subject: "desk", Kind: policy.KindProvisioner, Tier: policy.Tier0HelpDesk}
		members := make([]any, 12000)
		for i := range members {
			members[i] = map[string]any{"value": fmt.Sprintf("00000000-0000-4000-8000-%012d", i)}
		}
		before := counter.tierReads
		_, err := svc.PatchGroup(context.Background(), tier0, g.ID, []directory.PatchOp{{Op: "add", Path: "members", Value: members}}, directory.Precondition{})
		wantSCIM(t, err, 403, "")
		if counter.tierReads != before {
			t.Fatalf("%d tier reads before refusing a tier-0 caller", counter.tierReads-before)
		}
	})
}

// TestHardening_NoOpGroupChangeKeepsVersion (issue 11, defect 12, for
// groups): a PATCH or PUT that changes nothing (the same displayName, an
// add of present members, a remove of absent ones, a replace by the same
// member set, a filter that matches no member, an identical body) keeps
// version and lastModified and writes no audit event, as on users; a
// real change still bumps them.
func TestHardening_NoOpGroupChangeKeepsVersion(t *testing.T) {
	forEachStore(t, nil, func(t *testing.T, svc *directory.Service, st store.Store) {
		ctx := context.Background()
		a, b := mustCreate(t, svc, userBody("nop-a")), mustCreate(t, svc, userBody("nop-b"))
		absent := mustCreate(t, svc, userBody("nop-c"))
		body := groupBody("NoOps", a.ID, b.ID)
		body["externalId"] = "ext-noops"
		g := mustCreateGroup(t, svc, body)
		events := auditCount(t, st, g.ID)
		member := func(id string) []any { return []any{map[string]any{"value": id}} }
		for i, ops := range [][]directory.PatchOp{
			{{Op: "replace", Path: "displayName", Value: "NoOps"}},
			{{Op: "replace", Value: map[string]any{"displayName": "NoOps", "externalId": "ext-noops"}}},
			{{Op: "add", Path: "members", Value: member(a.ID)}},
			{{Op: "add", Path: "members", Value: append(member(a.ID), member(b.ID)...)}},
			{{Op: "remove", Path: fmt.Sprintf(`members[value eq "%s"]`, absent.ID)}},
			{{Op: "remove", Path: "members", Value: member(absent.ID)}},
			{{Op: "replace", Path: "members", Value: append(member(b.ID), member(a.ID)...)}},
			{{Op: "replace", Path: "displayName", Value: "NoOps"}, {Op: "add", Path: "members", Value: member(b.ID)}},
			// The general path (a filtered member), replaced by itself.
			{{Op: "replace", Path: fmt.Sprintf(`members[value eq "%s"]`, a.ID), Value: map[string]any{"value": a.ID}}},
		} {
			r, err := svc.PatchGroup(ctx, admin, g.ID, ops, directory.Precondition{})
			if err != nil {
				t.Fatalf("patch %d: %v", i, err)
			}
			if r.Version != g.Version || !r.LastModified.Equal(g.LastModified) {
				t.Fatalf("patch %d changed nothing but version %d -> %d, lastModified %v -> %v", i, g.Version, r.Version, g.LastModified, r.LastModified)
			}
		}
		r, err := svc.ReplaceGroup(ctx, admin, g.ID, body, directory.Precondition{})
		if err != nil || r.Version != g.Version || !r.LastModified.Equal(g.LastModified) {
			t.Fatalf("identical PUT: %+v (err %v), want version %d", r, err, g.Version)
		}
		read, err := svc.GetGroup(ctx, admin, g.ID, true)
		if err != nil || read.Version != g.Version || !read.LastModified.Equal(g.LastModified) {
			t.Fatalf("stored group after no-op changes: %+v (err %v)", read, err)
		}
		if n := auditCount(t, st, g.ID); n != events {
			t.Fatalf("no-op changes wrote %d audit events", n-events)
		}
		// A real change is still a change.
		r, err = svc.PatchGroup(ctx, admin, g.ID, []directory.PatchOp{{Op: "add", Path: "members", Value: member(absent.ID)}}, directory.Precondition{})
		if err != nil || r.Version != g.Version+1 || auditCount(t, st, g.ID) != events+1 {
			t.Fatalf("adding a new member: version %v (err %v), want %d and one audit event", r, err, g.Version+1)
		}
	})
}
