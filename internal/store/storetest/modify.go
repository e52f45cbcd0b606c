package storetest

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/scimbridge/scimbridge/internal/store"
)

// modifyCases cover versioned deletes, ModifyGroup and the rejection of
// nested-group cycles.
func modifyCases() []testCase {
	return []testCase{
		{"DeleteUserVersion", testDeleteUserVersion},
		{"DeleteGroupVersion", testDeleteGroupVersion},
		{"ModifyGroupAdd", testModifyGroupAdd},
		{"ModifyGroupAddPresentMember", testModifyGroupAddPresent},
		{"ModifyGroupRemove", testModifyGroupRemove},
		{"ModifyGroupReplace", testModifyGroupReplace},
		{"ModifyGroupEmptyPatch", testModifyGroupEmptyPatch},
		{"ModifyGroupReportsMemberChanges", testModifyGroupMembersChange},
		{"ModifyGroupUnchangedWritesNothing", testModifyGroupUnchanged},
		{"UpdateGroupUnchangedWritesNothing", testUpdateGroupUnchanged},
		{"ModifyGroupUnknownMemberWritesNothing", testModifyGroupUnknownMember},
		{"ModifyGroupOtherTenantMemberRejected", testModifyGroupOtherTenantMember},
		{"ModifyGroupCallbackErrorWritesNothing", testModifyGroupCallbackError},
		{"ModifyGroupUnknown", testModifyGroupUnknown},
		{"ModifyGroupSelfMemberRejected", testModifyGroupSelfMember},
		{"ConcurrentModifyGroupAdds", testConcurrentModifyGroupAdds},
		{"NestedGroupCycleModifyGroup", testCycleModifyGroup},
		{"NestedGroupCycleUpdateGroup", testCycleUpdateGroup},
		{"NestedGroupCreateGroup", testCycleCreateGroup},
		{"ConcurrentOppositeNestings", testConcurrentOppositeNestings},
	}
}

func readGroup(t *testing.T, s store.Store, id string) store.Group {
	t.Helper()
	g, err := s.GetGroup(context.Background(), store.DefaultTenant, id, store.GroupLoad{Members: true})
	if err != nil {
		t.Fatalf("GetGroup(%s): %v", id, err)
	}
	return g
}

func sortedMembers(ms ...store.Member) []store.Member {
	sort.Slice(ms, func(i, j int) bool { return ms[i].ID < ms[j].ID })
	return ms
}

// wantRefError checks that err is a *ReferenceError naming exactly ids.
func wantRefError(t *testing.T, err error, ids ...string) {
	t.Helper()
	wantErr(t, err, store.ErrInvalidReference)
	var re *store.ReferenceError
	if !errorsAs(err, &re) {
		t.Fatalf("error %v is not a *store.ReferenceError", err)
	}
	got := append([]string(nil), re.IDs...)
	want := append([]string(nil), ids...)
	sort.Strings(got)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ReferenceError names %v, want %v", re.IDs, ids)
	}
}

// rename is a ModifyGroup callback that changes the display name and time.
func rename(name string) func(*store.Group, bool) error {
	return func(g *store.Group, _ bool) error {
		if g.Members != nil {
			return fmt.Errorf("ModifyGroup callback saw members: %+v", g.Members)
		}
		g.DisplayName, g.LastModified = name, now.Add(time.Hour)
		return nil
	}
}

func noChange(*store.Group, bool) error { return nil }

func testDeleteUserVersion(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := mustCreateUser(t, s, newUser(store.DefaultTenant, "vera"))
	g := mustCreateGroup(t, s, newGroup(store.DefaultTenant, "g", u.ID))
	if _, err := s.UpdateUser(ctx, store.DefaultTenant, u.ID, func(*store.User) error { return nil }); err != nil {
		t.Fatal(err)
	}
	// Version is 2 now: 1 is stale, 3 does not exist yet.
	for _, v := range []int64{1, 3} {
		wantErr(t, s.DeleteUser(ctx, store.DefaultTenant, u.ID, v), store.ErrVersionMismatch)
		if _, err := s.GetUser(ctx, store.DefaultTenant, u.ID, store.UserLoad{}); err != nil {
			t.Fatalf("user gone after a delete with stale version %d: %v", v, err)
		}
	}
	if ids := memberIDs(readGroup(t, s, g.ID).Members); !reflect.DeepEqual(ids, []string{u.ID}) {
		t.Fatalf("memberships after refused deletes = %v", ids)
	}
	if err := s.DeleteUser(ctx, store.DefaultTenant, u.ID, 2); err != nil {
		t.Fatalf("delete with current version: %v", err)
	}
	_, err := s.GetUser(ctx, store.DefaultTenant, u.ID, store.UserLoad{})
	wantErr(t, err, store.ErrNotFound)
	if ms := readGroup(t, s, g.ID).Members; len(ms) != 0 {
		t.Fatalf("memberships left after delete: %+v", ms)
	}
	wantErr(t, s.DeleteUser(ctx, store.DefaultTenant, u.ID, 2), store.ErrNotFound)
	wantErr(t, s.DeleteUser(ctx, store.DefaultTenant, uuid.NewString(), 1), store.ErrNotFound)

	w := mustCreateUser(t, s, newUser(store.DefaultTenant, "walt"))
	if err := s.DeleteUser(ctx, store.DefaultTenant, w.ID, 0); err != nil {
		t.Fatalf("unconditional delete: %v", err)
	}
	_, err = s.GetUser(ctx, store.DefaultTenant, w.ID, store.UserLoad{})
	wantErr(t, err, store.ErrNotFound)

	mustCreateTenant(t, s, "acme")
	x := mustCreateUser(t, s, newUser("acme", "xena"))
	wantErr(t, s.DeleteUser(ctx, store.DefaultTenant, x.ID, 1), store.ErrNotFound)
}

func testDeleteGroupVersion(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := mustCreateUser(t, s, newUser(store.DefaultTenant, "yves"))
	inner := mustCreateGroup(t, s, newGroup(store.DefaultTenant, "inner", u.ID))
	outer := mustCreateGroup(t, s, newGroup(store.DefaultTenant, "outer", inner.ID))
	if _, err := s.ModifyGroup(ctx, store.DefaultTenant, inner.ID, store.MemberPatch{}, noChange); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.DeleteGroup(ctx, store.DefaultTenant, inner.ID, 1), store.ErrVersionMismatch)
	if got := readGroup(t, s, inner.ID); got.Version != 2 || len(got.Members) != 1 {
		t.Fatalf("group after a refused delete: %+v", got)
	}
	if ids := memberIDs(readGroup(t, s, outer.ID).Members); !reflect.DeepEqual(ids, []string{inner.ID}) {
		t.Fatalf("outer members after a refused delete = %v", ids)
	}
	if err := s.DeleteGroup(ctx, store.DefaultTenant, inner.ID, 2); err != nil {
		t.Fatalf("delete with current version: %v", err)
	}
	_, err := s.GetGroup(ctx, store.DefaultTenant, inner.ID, store.GroupLoad{})
	wantErr(t, err, store.ErrNotFound)
	if ms := readGroup(t, s, outer.ID).Members; len(ms) != 0 {
		t.Fatalf("outer members after deleting inner: %+v", ms)
	}
	wantErr(t, s.DeleteGroup(ctx, store.DefaultTenant, inner.ID, 2), store.ErrNotFound)
	if err := s.DeleteGroup(ctx, store.DefaultTenant, outer.ID, 0); err != nil {
		t.Fatalf("unconditional delete: %v", err)
	}
	wantErr(t, s.DeleteGroup(ctx, store.DefaultTenant, outer.ID, 0), store.ErrNotFound)
}

func testModifyGroupAdd(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := mustCreateUser(t, s, newUser(store.DefaultTenant, "ann"))
	v := mustCreateUser(t, s, newUser(store.DefaultTenant, "ben"))
	inner := mustCreateGroup(t, s, newGroup(store.DefaultTenant, "inner"))
	g := mustCreateGroup(t, s, newGroup(store.DefaultTenant, "g", v.ID))
	got, err := s.ModifyGroup(ctx, store.DefaultTenant, g.ID, store.MemberPatch{
		Add: []store.Member{{ID: u.ID}, {ID: inner.ID}, {ID: u.ID, Display: "duplicate ignored"}},
	}, rename("renamed"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Members != nil {
		t.Fatalf("ModifyGroup returned members: %+v", got.Members)
	}
	want := g
	want.Members, want.Version, want.DisplayName, want.LastModified = nil, 2, "renamed", now.Add(time.Hour)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ModifyGroup result:\n got %+v\nwant %+v", got, want)
	}
	read := readGroup(t, s, g.ID)
	wantMembers := sortedMembers(
		store.Member{ID: u.ID, Type: "User", Display: "Display ann"},
		store.Member{ID: v.ID, Type: "User", Display: "Display ben"},
		store.Member{ID: inner.ID, Type: "Group", Display: "inner"},
	)
	if !reflect.DeepEqual(read.Members, wantMembers) {
		t.Fatalf("members:\n got %+v\nwant %+v", read.Members, wantMembers)
	}
	read.Members = nil
	if !reflect.DeepEqual(read, want) {
		t.Fatalf("stored group:\n got %+v\nwant %+v", read, want)
	}
}

func testModifyGroupAddPresent(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := mustCreateUser(t, s, newUser(store.DefaultTenant, "cleo"))
	g := newGroup(store.DefaultTenant, "g", u.ID)
	g.Members[0].Display = "first"
	g = mustCreateGroup(t, s, g)
	check := func(display string, version int64) {
		t.Helper()
		read := readGroup(t, s, g.ID)
		want := []store.Member{{ID: u.ID, Type: "User", Display: display}}
		if !reflect.DeepEqual(read.Members, want) || read.Version != version {
			t.Fatalf("group: version %d, members %+v; want version %d, members %+v", read.Version, read.Members, version, want)
		}
	}
	if _, err := s.ModifyGroup(ctx, store.DefaultTenant, g.ID, store.MemberPatch{Add: []store.Member{{ID: u.ID}}}, noChange); err != nil {
		t.Fatal(err)
	}
	check("first", 2) // no display given: the row is kept as it is
	if _, err := s.ModifyGroup(ctx, store.DefaultTenant, g.ID, store.MemberPatch{Add: []store.Member{{ID: u.ID, Display: "second"}}}, noChange); err != nil {
		t.Fatal(err)
	}
	check("second", 3) // a given display replaces the row's
}

func testModifyGroupRemove(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustCreateUser(t, s, newUser(store.DefaultTenant, "dan"))
	b := mustCreateUser(t, s, newUser(store.DefaultTenant, "eve"))
	inner := mustCreateGroup(t, s, newGroup(store.DefaultTenant, "inner"))
	g := mustCreateGroup(t, s, newGroup(store.DefaultTenant, "g", a.ID, b.ID, inner.ID))
	got, err := s.ModifyGroup(ctx, store.DefaultTenant, g.ID, store.MemberPatch{
		Remove: []string{a.ID, inner.ID, uuid.NewString()}, // an id that is no member is ignored
	}, noChange)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 2 || got.Members != nil {
		t.Fatalf("ModifyGroup result: %+v", got)
	}
	if ids := memberIDs(readGroup(t, s, g.ID).Members); !reflect.DeepEqual(ids, []string{b.ID}) {
		t.Fatalf("members after remove = %v, want [%s]", ids, b.ID)
	}
	// Removed members themselves are untouched.
	if _, err := s.GetUser(ctx, store.DefaultTenant, a.ID, store.UserLoad{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetGroup(ctx, store.DefaultTenant, inner.ID, store.GroupLoad{}); err != nil {
		t.Fatal(err)
	}
}

func testModifyGroupReplace(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustCreateUser(t, s, newUser(store.DefaultTenant, "finn"))
	b := mustCreateUser(t, s, newUser(store.DefaultTenant, "gus"))
	c := mustCreateUser(t, s, newUser(store.DefaultTenant, "hal"))
	g := newGroup(store.DefaultTenant, "g", a.ID, b.ID)
	g.Members[1].Display = "old display"
	g = mustCreateGroup(t, s, g)
	// Remove runs after RemoveAll and before Add: removing c is a no-op,
	// and b comes back with its display recomputed.
	_, err := s.ModifyGroup(ctx, store.DefaultTenant, g.ID, store.MemberPatch{
		RemoveAll: true, Remove: []string{c.ID}, Add: []store.Member{{ID: b.ID}, {ID: c.ID, Display: "see"}},
	}, noChange)
	if err != nil {
		t.Fatal(err)
	}
	want := sortedMembers(
		store.Member{ID: b.ID, Type: "User", Display: "Display gus"},
		store.Member{ID: c.ID, Type: "User", Display: "see"},
	)
	if got := readGroup(t, s, g.ID).Members; !reflect.DeepEqual(got, want) {
		t.Fatalf("members after replace:\n got %+v\nwant %+v", got, want)
	}
	if _, err := s.ModifyGroup(ctx, store.DefaultTenant, g.ID, store.MemberPatch{RemoveAll: true}, noChange); err != nil {
		t.Fatal(err)
	}
	if got := readGroup(t, s, g.ID); len(got.Members) != 0 || got.Version != 3 {
		t.Fatalf("group after remove-all: %+v", got)
	}
}

func testModifyGroupEmptyPatch(t *testing.T, s store.Store) {
	u := mustCreateUser(t, s, newUser(store.DefaultTenant, "ida"))
	g := mustCreateGroup(t, s, newGroup(store.DefaultTenant, "g", u.ID))
	got, err := s.ModifyGroup(context.Background(), store.DefaultTenant, g.ID, store.MemberPatch{}, func(g *store.Group, _ bool) error {
		g.ExternalID, g.Doc = "new-ext", []byte(`{"displayName":"g","externalId":"new-ext"}`)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	read := readGroup(t, s, g.ID)
	if read.Version != 2 || got.Version != 2 || read.ExternalID != "new-ext" || string(read.Doc) != string(got.Doc) ||
		!reflect.DeepEqual(memberIDs(read.Members), []string{u.ID}) {
		t.Fatalf("after ModifyGroup with an empty patch:\n result %+v\n stored %+v", got, read)
	}
}

func testModifyGroupUnknownMember(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustCreateUser(t, s, newUser(store.DefaultTenant, "jon"))
	b := mustCreateUser(t, s, newUser(store.DefaultTenant, "kim"))
	g := mustCreateGroup(t, s, newGroup(store.DefaultTenant, "g", a.ID))
	missing := uuid.NewString()
	for _, mp := range []store.MemberPatch{
		{Add: []store.Member{{ID: b.ID}, {ID: missing}}},
		{RemoveAll: true, Add: []store.Member{{ID: missing}, {ID: b.ID}}},
		{Remove: []string{a.ID}, Add: []store.Member{{ID: missing, Display: "x"}}},
	} {
		_, err := s.ModifyGroup(ctx, store.DefaultTenant, g.ID, mp, rename("must not be written"))
		wantRefError(t, err, missing)
		if read := readGroup(t, s, g.ID); !reflect.DeepEqual(read, g) {
			t.Fatalf("failed ModifyGroup %+v wrote data:\n got %+v\nwant %+v", mp, read, g)
		}
	}
}

func testModifyGroupOtherTenantMember(t *testing.T, s store.Store) {
	mustCreateTenant(t, s, "acme")
	u := mustCreateUser(t, s, newUser("acme", "lou"))
	other := mustCreateGroup(t, s, newGroup("acme", "other"))
	g := mustCreateGroup(t, s, newGroup(store.DefaultTenant, "g"))
	_, err := s.ModifyGroup(context.Background(), store.DefaultTenant, g.ID,
		store.MemberPatch{Add: []store.Member{{ID: u.ID}, {ID: other.ID}}}, noChange)
	wantRefError(t, err, u.ID, other.ID)
	// Nor can a group of another tenant be modified.
	_, err = s.ModifyGroup(context.Background(), store.DefaultTenant, other.ID, store.MemberPatch{}, noChange)
	wantErr(t, err, store.ErrNotFound)
}

func testModifyGroupCallbackError(t *testing.T, s store.Store) {
	u := mustCreateUser(t, s, newUser(store.DefaultTenant, "max"))
	v := mustCreateUser(t, s, newUser(store.DefaultTenant, "ned"))
	g := mustCreateGroup(t, s, newGroup(store.DefaultTenant, "g", u.ID))
	_, err := s.ModifyGroup(context.Background(), store.DefaultTenant, g.ID,
		store.MemberPatch{RemoveAll: true, Add: []store.Member{{ID: v.ID}}}, func(g *store.Group, _ bool) error {
			g.DisplayName = "changed"
			return errStop
		})
	if err != errStop {
		t.Fatalf("error = %v, want the callback's error unchanged", err)
	}
	if read := readGroup(t, s, g.ID); !reflect.DeepEqual(read, g) {
		t.Fatalf("failed ModifyGroup wrote data:\n got %+v\nwant %+v", read, g)
	}
}

func testModifyGroupUnknown(t *testing.T, s store.Store) {
	u := mustCreateUser(t, s, newUser(store.DefaultTenant, "otto"))
	called := false
	_, err := s.ModifyGroup(context.Background(), store.DefaultTenant, uuid.NewString(),
		store.MemberPatch{Add: []store.Member{{ID: u.ID}}}, func(*store.Group, bool) error { called = true; return nil })
	wantErr(t, err, store.ErrNotFound)
	if called {
		t.Fatal("callback called for an unknown group")
	}
}

func testModifyGroupSelfMember(t *testing.T, s store.Store) {
	u := mustCreateUser(t, s, newUser(store.DefaultTenant, "pam"))
	g := mustCreateGroup(t, s, newGroup(store.DefaultTenant, "g", u.ID))
	_, err := s.ModifyGroup(context.Background(), store.DefaultTenant, g.ID,
		store.MemberPatch{Add: []store.Member{{ID: g.ID}}}, rename("x"))
	wantRefError(t, err, g.ID)
	if read := readGroup(t, s, g.ID); !reflect.DeepEqual(read, g) {
		t.Fatalf("failed ModifyGroup wrote data:\n got %+v\nwant %+v", read, g)
	}
}

func testConcurrentModifyGroupAdds(t *testing.T, s store.Store) {
	g := mustCreateGroup(t, s, newGroup(store.DefaultTenant, "big"))
	const n = 16
	ids := make([]string, n)
	for i := range ids {
		ids[i] = mustCreateUser(t, s, newUser(store.DefaultTenant, "c"+uuid.NewString()[:8])).ID
	}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			_, err := s.ModifyGroup(context.Background(), store.DefaultTenant, g.ID,
				store.MemberPatch{Add: []store.Member{{ID: id}}}, noChange)
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	read := readGroup(t, s, g.ID)
	sort.Strings(ids)
	if got := memberIDs(read.Members); !reflect.DeepEqual(got, ids) {
		t.Fatalf("%d members after %d concurrent adds: %v", len(got), n, got)
	}
	if read.Version != 1+n {
		t.Fatalf("version = %d after %d modifications, want %d", read.Version, n, 1+n)
	}
}

// chain creates g1 ⊃ g2 ⊃ g3 (each containing the next) and a user in g3.
func chain(t *testing.T, s store.Store) (g1, g2, g3 store.Group, u store.User) {
	t.Helper()
	u = mustCreateUser(t, s, newUser(store.DefaultTenant, "leaf"+uuid.NewString()[:8]))
	g3 = mustCreateGroup(t, s, newGroup(store.DefaultTenant, "g3", u.ID))
	g2 = mustCreateGroup(t, s, newGroup(store.DefaultTenant, "g2", g3.ID))
	g1 = mustCreateGroup(t, s, newGroup(store.DefaultTenant, "g1", g2.ID))
	return readGroup(t, s, g1.ID), readGroup(t, s, g2.ID), readGroup(t, s, g3.ID), u
}

func testCycleModifyGroup(t *testing.T, s store.Store) {
	ctx := context.Background()
	g1, g2, g3, u := chain(t, s)
	v := mustCreateUser(t, s, newUser(store.DefaultTenant, "quin"))
	for _, c := range []struct {
		add []string
		bad []string
	}{
		{[]string{g1.ID}, []string{g1.ID}},
		{[]string{g2.ID}, []string{g2.ID}},
		{[]string{g3.ID}, []string{g3.ID}},
		{[]string{v.ID, g1.ID, g2.ID}, []string{g1.ID, g2.ID}},
	} {
		mp := store.MemberPatch{}
		for _, id := range c.add {
			mp.Add = append(mp.Add, store.Member{ID: id})
		}
		_, err := s.ModifyGroup(ctx, store.DefaultTenant, g3.ID, mp, rename("must not be written"))
		wantRefError(t, err, c.bad...)
		if read := readGroup(t, s, g3.ID); !reflect.DeepEqual(read, g3) {
			t.Fatalf("rejected ModifyGroup wrote data:\n got %+v\nwant %+v", read, g3)
		}
	}
	// A second path to a descendant is no cycle: g1 may contain g3 directly.
	if _, err := s.ModifyGroup(ctx, store.DefaultTenant, g1.ID,
		store.MemberPatch{Add: []store.Member{{ID: g3.ID}}}, noChange); err != nil {
		t.Fatalf("adding a descendant again: %v", err)
	}
	// Once g2 no longer contains g3, g3 may contain g1.
	if _, err := s.ModifyGroup(ctx, store.DefaultTenant, g2.ID, store.MemberPatch{Remove: []string{g3.ID}}, noChange); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ModifyGroup(ctx, store.DefaultTenant, g1.ID, store.MemberPatch{Remove: []string{g3.ID}}, noChange); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ModifyGroup(ctx, store.DefaultTenant, g3.ID,
		store.MemberPatch{Add: []store.Member{{ID: g1.ID}}}, noChange); err != nil {
		t.Fatalf("adding g1 to g3 after breaking the chain: %v", err)
	}
	want := sortedMembers(store.Member{ID: u.ID, Type: "User", Display: u.DisplayName}, store.Member{ID: g1.ID, Type: "Group", Display: "g1"})
	if got := readGroup(t, s, g3.ID).Members; !reflect.DeepEqual(got, want) {
		t.Fatalf("g3 members:\n got %+v\nwant %+v", got, want)
	}
}

func testCycleUpdateGroup(t *testing.T, s store.Store) {
	ctx := context.Background()
	g1, g2, g3, _ := chain(t, s)
	for _, add := range []string{g1.ID, g2.ID} {
		_, err := s.UpdateGroup(ctx, store.DefaultTenant, g3.ID, func(g *store.Group) error {
			g.DisplayName = "must not be written"
			g.Members = append(g.Members, store.Member{ID: add})
			return nil
		})
		wantRefError(t, err, add)
		if read := readGroup(t, s, g3.ID); !reflect.DeepEqual(read, g3) {
			t.Fatalf("rejected UpdateGroup wrote data:\n got %+v\nwant %+v", read, g3)
		}
	}
	// Keeping an existing nested member is no addition and passes.
	got, err := s.UpdateGroup(ctx, store.DefaultTenant, g1.ID, func(g *store.Group) error {
		g.Members = append(g.Members, store.Member{ID: g3.ID})
		return nil
	})
	if err != nil {
		t.Fatalf("adding a descendant again via UpdateGroup: %v", err)
	}
	if ids := memberIDs(got.Members); len(ids) != 2 {
		t.Fatalf("g1 members = %v", ids)
	}
}

// testCycleCreateGroup: a group being created cannot be anyone's member
// yet, so only naming itself could close a cycle; nesting groups that
// already contain others is fine.
func testCycleCreateGroup(t *testing.T, s store.Store) {
	g1, _, g3, _ := chain(t, s)
	top := mustCreateGroup(t, s, newGroup(store.DefaultTenant, "top", g1.ID, g3.ID))
	if ids := memberIDs(readGroup(t, s, top.ID).Members); len(ids) != 2 {
		t.Fatalf("top members = %v", ids)
	}
	self := newGroup(store.DefaultTenant, "self")
	self.Members = []store.Member{{ID: g1.ID}, {ID: self.ID}}
	_, err := s.CreateGroup(context.Background(), self)
	wantRefError(t, err, self.ID)
	_, err = s.GetGroup(context.Background(), store.DefaultTenant, self.ID, store.GroupLoad{})
	wantErr(t, err, store.ErrNotFound)
}

// testConcurrentOppositeNestings races "a into b" against "b into a": exactly
// one of each pair may win, whatever the interleaving.
func testConcurrentOppositeNestings(t *testing.T, s store.Store) {
	ctx := context.Background()
	for i := range 8 {
		a := mustCreateGroup(t, s, newGroup(store.DefaultTenant, fmt.Sprintf("a%d", i)))
		b := mustCreateGroup(t, s, newGroup(store.DefaultTenant, fmt.Sprintf("b%d", i)))
		c := mustCreateGroup(t, s, newGroup(store.DefaultTenant, fmt.Sprintf("c%d", i), a.ID))
		// a ⊂ c; the racers try b ⊂ a (making a ⊃ b) against c ⊂ b, which
		// together would close a → b → c → a.
		var errs [2]error
		var wg sync.WaitGroup
		wg.Go(func() {
			_, errs[0] = s.ModifyGroup(ctx, store.DefaultTenant, a.ID, store.MemberPatch{Add: []store.Member{{ID: b.ID}}}, noChange)
		})
		wg.Go(func() {
			_, errs[1] = s.ModifyGroup(ctx, store.DefaultTenant, b.ID, store.MemberPatch{Add: []store.Member{{ID: c.ID}}}, noChange)
		})
		wg.Wait()
		failed := 0
		for _, err := range errs {
			if err != nil {
				wantErr(t, err, store.ErrInvalidReference)
				failed++
			}
		}
		if failed != 1 {
			t.Fatalf("round %d: %d of 2 opposite nestings failed (%v), want exactly 1", i, failed, errs)
		}
	}
}

// testModifyGroupMembersChange: ModifyGroup tells its callback whether the
// member patch changes any row: adds of present members (without a
// display or with their current one) and removes of absent ones do not.
func testModifyGroupMembersChange(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustCreateUser(t, s, newUser(store.DefaultTenant, "ann"))
	b := mustCreateUser(t, s, newUser(store.DefaultTenant, "bob"))
	c := mustCreateUser(t, s, newUser(store.DefaultTenant, "cat"))
	g := newGroup(store.DefaultTenant, "g", a.ID, b.ID)
	g.Members[0].Display = "first"
	g = mustCreateGroup(t, s, g)
	empty := mustCreateGroup(t, s, newGroup(store.DefaultTenant, "empty"))
	cases := []struct {
		name  string
		group string
		mp    store.MemberPatch
		want  bool
	}{
		{"add present", g.ID, store.MemberPatch{Add: []store.Member{{ID: a.ID}, {ID: b.ID}}}, false},
		{"add present with its display", g.ID, store.MemberPatch{Add: []store.Member{{ID: a.ID, Display: "first"}}}, false},
		{"add present with another display", g.ID, store.MemberPatch{Add: []store.Member{{ID: a.ID, Display: "other"}}}, true},
		{"add absent", g.ID, store.MemberPatch{Add: []store.Member{{ID: a.ID}, {ID: c.ID}}}, true},
		{"add unknown", g.ID, store.MemberPatch{Add: []store.Member{{ID: uuid.NewString()}}}, true},
		{"remove absent", g.ID, store.MemberPatch{Remove: []string{c.ID, uuid.NewString()}}, false},
		{"remove present", g.ID, store.MemberPatch{Remove: []string{c.ID, b.ID}}, true},
		{"replace by the same rows", g.ID, store.MemberPatch{RemoveAll: true, Add: []store.Member{{ID: b.ID}, {ID: a.ID, Display: "first"}}}, false},
		{"replace recomputing a display", g.ID, store.MemberPatch{RemoveAll: true, Add: []store.Member{{ID: a.ID}, {ID: b.ID}}}, true},
		{"replace by fewer", g.ID, store.MemberPatch{RemoveAll: true, Add: []store.Member{{ID: b.ID}}}, true},
		{"remove all", g.ID, store.MemberPatch{RemoveAll: true}, true},
		{"remove all of none", empty.ID, store.MemberPatch{RemoveAll: true}, false},
		{"nothing", g.ID, store.MemberPatch{}, false},
	}
	for _, c := range cases {
		var got bool
		_, err := s.ModifyGroup(ctx, store.DefaultTenant, c.group, c.mp, func(_ *store.Group, change bool) error {
			got = change
			return store.ErrUnchanged
		})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got != c.want {
			t.Errorf("%s: membersChange = %v, want %v", c.name, got, c.want)
		}
	}
}

// testModifyGroupUnchanged: a callback returning ErrUnchanged makes
// ModifyGroup write nothing, members included (no version, no audit
// event), and return the group as read.
func testModifyGroupUnchanged(t *testing.T, s store.Store) {
	a := mustCreateUser(t, s, newUser(store.DefaultTenant, "dot"))
	b := mustCreateUser(t, s, newUser(store.DefaultTenant, "eli"))
	g := mustCreateGroup(t, s, newGroup(store.DefaultTenant, "g", a.ID))
	before := readGroup(t, s, g.ID)
	ctx, _ := audited("patch", "okta")
	got, err := s.ModifyGroup(ctx, store.DefaultTenant, g.ID, store.MemberPatch{Add: []store.Member{{ID: b.ID}}}, func(g *store.Group, _ bool) error {
		g.DisplayName, g.LastModified = "not written", now.Add(time.Hour)
		return store.ErrUnchanged
	})
	if err != nil {
		t.Fatal(err)
	}
	want := before
	want.Members = nil
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("result:\n got %+v\nwant %+v", got, want)
	}
	if read := readGroup(t, s, g.ID); !reflect.DeepEqual(read, before) {
		t.Fatalf("stored group changed:\n got %+v\nwant %+v", read, before)
	}
	if evs := mustEvents(t, s, store.AuditQuery{ResourceID: g.ID}); len(evs) != 0 {
		t.Fatalf("unchanged ModifyGroup wrote audit events: %+v", evs)
	}
}

// testUpdateGroupUnchanged: UpdateGroup honours ErrUnchanged as
// UpdateUser does: nothing written, the group returned as read with its
// members.
func testUpdateGroupUnchanged(t *testing.T, s store.Store) {
	a := mustCreateUser(t, s, newUser(store.DefaultTenant, "fay"))
	b := mustCreateUser(t, s, newUser(store.DefaultTenant, "gil"))
	g := mustCreateGroup(t, s, newGroup(store.DefaultTenant, "g", a.ID))
	before := readGroup(t, s, g.ID)
	ctx, _ := audited("replace", "okta")
	got, err := s.UpdateGroup(ctx, store.DefaultTenant, g.ID, func(g *store.Group) error {
		g.DisplayName, g.Members = "not written", []store.Member{{ID: b.ID}}
		return store.ErrUnchanged
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, before) {
		t.Fatalf("result:\n got %+v\nwant %+v", got, before)
	}
	if read := readGroup(t, s, g.ID); !reflect.DeepEqual(read, before) {
		t.Fatalf("stored group changed:\n got %+v\nwant %+v", read, before)
	}
	if evs := mustEvents(t, s, store.AuditQuery{ResourceID: g.ID}); len(evs) != 0 {
		t.Fatalf("unchanged UpdateGroup wrote audit events: %+v", evs)
	}
}
