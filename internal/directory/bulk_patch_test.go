package directory_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/google/uuid"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

// updateUsersStore counts set-based update calls and, when broken, fails
// each of them as a whole (nothing written).
type updateUsersStore struct {
	store.Store
	broken bool
	calls  atomic.Int32
}

func (s *updateUsersStore) UpdateUsers(ctx context.Context, tenant string, ids []string, fn func(int, *store.User) (*store.AuditEvent, error)) ([]store.UserUpdate, error) {
	s.calls.Add(1)
	if s.broken {
		return nil, fmt.Errorf("update users: %w", errInjected)
	}
	return s.Store.UpdateUsers(ctx, tenant, ids, fn)
}

// patchOutcome is what a patch answered, comparable across tenants.
type patchOutcome struct {
	Status  int
	Detail  string
	Version string
}

// patchCase is one PATCH of the comparison: the user it targets (an index
// into the users, or -1 for target), its operations and its If-Match.
type patchCase struct {
	user    int
	target  string
	ifMatch string
	ops     []any
}

func replaceOp(path string, value any) map[string]any {
	return map[string]any{"op": "replace", "path": path, "value": value}
}

// batchCases covers success, a matching and a stale If-Match, a tier
// change above the caller's own, an invalid value, unknown and malformed
// ids, a patch that changes nothing, a second patch of a user (which
// splits the batch), a userName conflict and an email change.
func batchCases(unknown string) []patchCase {
	tierPath := schema.SupportURN + ":tier"
	return []patchCase{
		{user: 0, ops: []any{replaceOp("displayName", "Zero")}},
		{user: 1, ifMatch: `W/"1"`, ops: []any{replaceOp("title", "Lead")}},
		{user: 2, ifMatch: `W/"7"`, ops: []any{replaceOp("title", "Stale")}},
		{user: 3, ops: []any{replaceOp(tierPath, policy.Tier3Engineering.String())}},
		{user: 4, ops: []any{replaceOp("active", "maybe")}},
		{user: -1, target: unknown, ops: []any{replaceOp("title", "Nobody")}},
		{user: 5, ops: []any{replaceOp("displayName", "Same")}},
		{user: 0, ops: []any{replaceOp("displayName", "Zero again")}},
		{user: -1, target: "not-an-id", ops: []any{replaceOp("title", "Nobody")}},
		{user: 6, ops: []any{replaceOp("userName", "B0")}},
		{user: 1, ops: []any{replaceOp("emails", []any{map[string]any{"value": "one@new.test", "type": "work"}})}},
	}
}

// TestBatchedPatchesMatchSinglePatches runs the same user patches once as
// single PatchUser calls and once as a stream under the bulk rules
// (batched into UpdateUsers, or, with a broken UpdateUsers, patched one by
// one after the batch fails), in two tenants holding the same users, and
// compares every result, error, resulting document, version and audit
// event. A dry run of the stream, first, must answer the same and write
// nothing.
func TestBatchedPatchesMatchSinglePatches(t *testing.T) {
	for _, broken := range []bool{false, true} {
		t.Run(fmt.Sprintf("broken=%v", broken), func(t *testing.T) {
			wrap := func(st store.Store) store.Store { return &updateUsersStore{Store: st, broken: broken} }
			forEachStore(t, wrap, func(t *testing.T, svc *directory.Service, st store.Store) {
				ctx := directory.WithRequest(context.Background(), directory.SourceBulk, "req-1")
				if err := st.CreateTenant(ctx, "batched", time.Now()); err != nil {
					t.Fatal(err)
				}
				unknown := uuid.NewString()
				single, singleIDs := patchSingly(t, ctx, svc, store.DefaultTenant, batchCases(unknown))
				checkCovered(t, single)
				calls := st.(*updateUsersStore).calls.Load()
				batchedIDs := seedUsers(t, svc, "batched")
				dry := patchInBulk(t, ctx, svc, "batched", batchedIDs, batchCases(unknown), true)
				if !reflect.DeepEqual(dry, single) {
					t.Fatalf("dry-run outcomes differ:\n    dry %+v\n single %+v", dry, single)
				}
				batched := patchInBulk(t, ctx, svc, "batched", batchedIDs, batchCases(unknown), false)
				if st.(*updateUsersStore).calls.Load() == calls {
					t.Fatal("the patches did not go through UpdateUsers")
				}
				if !reflect.DeepEqual(batched, single) {
					t.Fatalf("outcomes differ:\nbatched %+v\n single %+v", batched, single)
				}
				compareUsers(t, ctx, svc, singleIDs, batchedIDs)
				singleEvents, batchedEvents := auditLines(t, ctx, svc, store.DefaultTenant, singleIDs), auditLines(t, ctx, svc, "batched", batchedIDs)
				if !reflect.DeepEqual(batchedEvents, singleEvents) {
					t.Fatalf("audit events differ:\nbatched %v\n single %v", batchedEvents, singleEvents)
				}
			})
		})
	}
}

// operator may update users but not grant a tier above its own.
func operator(tenant string) policy.Principal {
	return policy.Principal{Tenant: tenant, Subject: "ops", Kind: policy.KindProvisioner, Tier: policy.Tier1Operations}
}

// seedUsers creates the comparison's users in a tenant and returns their ids.
func seedUsers(t *testing.T, svc *directory.Service, tenant string) []string {
	t.Helper()
	p := admin
	p.Tenant = tenant
	var ids []string
	for i := range 7 {
		body := userBody(fmt.Sprintf("b%d", i), "displayName", "Same", "title", "Engineer",
			schema.SupportURN, map[string]any{"tier": policy.Tier0HelpDesk.String()})
		r, err := svc.CreateUser(context.Background(), p, body)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	return ids
}

func (c patchCase) path(ids []string) string {
	if c.user < 0 {
		return "/Users/" + c.target
	}
	return "/Users/" + ids[c.user]
}

func (c patchCase) body() map[string]any {
	return map[string]any{"schemas": []any{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": c.ops}
}

func patchSingly(t *testing.T, ctx context.Context, svc *directory.Service, tenant string, cases []patchCase) ([]patchOutcome, []string) {
	ids := seedUsers(t, svc, tenant)
	var out []patchOutcome
	for _, c := range cases {
		ops, err := directory.ParsePatchBody(c.body())
		if err != nil {
			t.Fatal(err)
		}
		res, err := svc.PatchUser(ctx, operator(tenant), strings.TrimPrefix(c.path(ids), "/Users/"), ops, directory.Precondition{IfMatch: c.ifMatch})
		if err != nil {
			out = append(out, errorOutcome(t, err))
			continue
		}
		out = append(out, patchOutcome{Status: http.StatusOK, Version: res.ETag()})
	}
	return out, ids
}

// patchInBulk runs the cases as one stream through Apply, with the rules
// of a bulk request, or as a dry run of it.
func patchInBulk(t *testing.T, ctx context.Context, svc *directory.Service, tenant string, ids []string, cases []patchCase, dry bool) []patchOutcome {
	var ops []directory.Operation
	for _, c := range cases {
		ops = append(ops, directory.Operation{Kind: directory.OpPatch, Type: svc.Registry().User,
			ID: strings.TrimPrefix(c.path(ids), "/Users/"), Version: c.ifMatch, Data: c.body()})
	}
	var out []patchOutcome
	opts := directory.ApplyOptions{Source: directory.SourceBulk, Operation: policy.BulkRun, DryRun: dry}
	err := svc.Apply(ctx, operator(tenant), opts, slices.Values(ops), func(r directory.BulkResult) bool {
		if r.Err != nil {
			out = append(out, errorOutcome(t, r.Err))
		} else {
			out = append(out, patchOutcome{Status: r.Status, Version: r.Version})
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func errorOutcome(t *testing.T, err error) patchOutcome {
	t.Helper()
	var se scimerrors.ScimError
	if !errors.As(err, &se) {
		t.Fatalf("error %v is not a SCIM error", err)
	}
	return patchOutcome{Status: se.Status, Detail: se.Detail}
}

// compareUsers checks that each user ends with the same document and version in both tenants.
func compareUsers(t *testing.T, ctx context.Context, svc *directory.Service, singleIDs, batchedIDs []string) {
	t.Helper()
	for i := range singleIDs {
		a, err := svc.GetUser(ctx, operator(store.DefaultTenant), singleIDs[i])
		if err != nil {
			t.Fatal(err)
		}
		b, err := svc.GetUser(ctx, operator("batched"), batchedIDs[i])
		if err != nil {
			t.Fatal(err)
		}
		if a.Version != b.Version || string(a.Raw) != string(b.Raw) {
			t.Errorf("user %d: batched v%d %s\n single v%d %s", i, b.Version, b.Raw, a.Version, a.Raw)
		}
	}
}

// auditLines lists a tenant's audit events with the user named by its
// index, sorted (events of one batch may share a time).
func auditLines(t *testing.T, ctx context.Context, svc *directory.Service, tenant string, ids []string) []string {
	t.Helper()
	p := admin
	p.Tenant = tenant
	evs, err := svc.AuditEvents(ctx, p, store.AuditQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	index := map[string]int{}
	for i, id := range ids {
		index[id] = i
	}
	var out []string
	for _, e := range evs {
		out = append(out, fmt.Sprintf("%s user%d %s %s/%s/%s %s %s %v", e.Action, index[e.ResourceID], e.ResourceType,
			e.Actor, e.ActorKind, e.ActorTier, e.Source, e.RequestID, e.Attributes))
	}
	sort.Strings(out)
	return out
}

// checkCovered checks that the cases answer what batchCases says they
// cover, so that the comparison is not between two equal failures.
func checkCovered(t *testing.T, single []patchOutcome) {
	t.Helper()
	want := []int{200, 200, 412, 403, 400, 404, 200, 200, 404, 409, 200}
	versions := map[int]string{0: `W/"2"`, 1: `W/"2"`, 6: `W/"1"`, 7: `W/"3"`, 10: `W/"3"`}
	for i, o := range single {
		if o.Status != want[i] || (versions[i] != "" && o.Version != versions[i]) {
			t.Fatalf("case %d answered %+v, want status %d version %s", i, o, want[i], versions[i])
		}
	}
}
