package storetest

import (
	"context"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/scimbridge/scimbridge/internal/store"
)

func groupCases() []testCase {
	return []testCase{
		{"GroupRoundTrip", testGroupRoundTrip},
		{"GroupMembersResolved", testGroupMembersResolved},
		{"GroupUnknownMemberRejected", testGroupUnknownMember},
		{"GroupMemberOtherTenantRejected", testGroupMemberOtherTenant},
		{"GroupWithoutMembersLoad", testGroupWithoutMembers},
		{"UpdateGroupMemberDiff", testUpdateGroupMemberDiff},
		{"UpdateGroupBadMemberWritesNothing", testUpdateGroupBadMember},
		{"UpdateGroupSelfMemberRejected", testUpdateGroupSelfMember},
		{"ConcurrentMemberAdds", testConcurrentMemberAdds},
		{"DeleteGroup", testDeleteGroup},
		{"ListGroups", testListGroups},
	}
}

func testGroupRoundTrip(t *testing.T, s store.Store) {
	g := newGroup(store.DefaultTenant, "empty")
	g.Members = []store.Member{}
	mustCreateGroup(t, s, g)
	got, err := s.GetGroup(context.Background(), store.DefaultTenant, g.ID, store.GroupLoad{Members: true})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, g) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, g)
	}
}

func testGroupMembersResolved(t *testing.T, s store.Store) {
	u := mustCreateUser(t, s, newUser(store.DefaultTenant, "olga"))
	inner := mustCreateGroup(t, s, newGroup(store.DefaultTenant, "inner"))
	g := newGroup(store.DefaultTenant, "outer", u.ID, inner.ID, u.ID)
	g.Members[1].Display = "given display"
	created := mustCreateGroup(t, s, g)
	got, err := s.GetGroup(context.Background(), store.DefaultTenant, g.ID, store.GroupLoad{Members: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Member{{ID: u.ID, Type: "User", Display: "Display olga"}, {ID: inner.ID, Type: "Group", Display: "given display"}}
	sort.Slice(want, func(i, j int) bool { return want[i].ID < want[j].ID })
	if !reflect.DeepEqual(got.Members, want) || !reflect.DeepEqual(created.Members, want) {
		t.Fatalf("members:\n read    %+v\n created %+v\n want    %+v", got.Members, created.Members, want)
	}
}

func testGroupUnknownMember(t *testing.T, s store.Store) {
	u := mustCreateUser(t, s, newUser(store.DefaultTenant, "pia"))
	missing := uuid.NewString()
	g := newGroup(store.DefaultTenant, "bad", u.ID, missing)
	_, err := s.CreateGroup(context.Background(), g)
	wantErr(t, err, store.ErrInvalidReference)
	var re *store.ReferenceError
	if !errorsAs(err, &re) || !reflect.DeepEqual(re.IDs, []string{missing}) {
		t.Fatalf("error %v does not name exactly the missing id %s", err, missing)
	}
	_, err = s.GetGroup(context.Background(), store.DefaultTenant, g.ID, store.GroupLoad{})
	wantErr(t, err, store.ErrNotFound)
}

func testGroupMemberOtherTenant(t *testing.T, s store.Store) {
	mustCreateTenant(t, s, "acme")
	u := mustCreateUser(t, s, newUser("acme", "quinn"))
	_, err := s.CreateGroup(context.Background(), newGroup(store.DefaultTenant, "g", u.ID))
	wantErr(t, err, store.ErrInvalidReference)
}

func testGroupWithoutMembers(t *testing.T, s store.Store) {
	u := mustCreateUser(t, s, newUser(store.DefaultTenant, "rita"))
	g := mustCreateGroup(t, s, newGroup(store.DefaultTenant, "g", u.ID))
	got, err := s.GetGroup(context.Background(), store.DefaultTenant, g.ID, store.GroupLoad{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Members != nil {
		t.Fatalf("members loaded without GroupLoad.Members: %+v", got.Members)
	}
}

func testUpdateGroupMemberDiff(t *testing.T, s store.Store) {
	a := mustCreateUser(t, s, newUser(store.DefaultTenant, "a1"))
	b := mustCreateUser(t, s, newUser(store.DefaultTenant, "b1"))
	c := mustCreateUser(t, s, newUser(store.DefaultTenant, "c1"))
	g := mustCreateGroup(t, s, newGroup(store.DefaultTenant, "g", a.ID, b.ID))
	got, err := s.UpdateGroup(context.Background(), store.DefaultTenant, g.ID, func(g *store.Group) error {
		g.DisplayName, g.LastModified = "renamed", now.Add(time.Hour)
		g.Members = []store.Member{{ID: b.ID, Display: "bee"}, {ID: c.ID}}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	read, _ := s.GetGroup(context.Background(), store.DefaultTenant, g.ID, store.GroupLoad{Members: true})
	want := []store.Member{{ID: b.ID, Type: "User", Display: "bee"}, {ID: c.ID, Type: "User", Display: "Display c1"}}
	sort.Slice(want, func(i, j int) bool { return want[i].ID < want[j].ID })
	if !reflect.DeepEqual(read.Members, want) || !reflect.DeepEqual(got.Members, want) {
		t.Fatalf("members:\n read    %+v\n updated %+v\n want    %+v", read.Members, got.Members, want)
	}
	if read.Version != 2 || read.DisplayName != "renamed" || !read.LastModified.Equal(now.Add(time.Hour)) {
		t.Fatalf("group after update: %+v", read)
	}
}

func testUpdateGroupBadMember(t *testing.T, s store.Store) {
	a := mustCreateUser(t, s, newUser(store.DefaultTenant, "a2"))
	g := mustCreateGroup(t, s, newGroup(store.DefaultTenant, "g", a.ID))
	_, err := s.UpdateGroup(context.Background(), store.DefaultTenant, g.ID, func(g *store.Group) error {
		g.DisplayName = "changed"
		g.Members = []store.Member{{ID: uuid.NewString()}}
		return nil
	})
	wantErr(t, err, store.ErrInvalidReference)
	read, _ := s.GetGroup(context.Background(), store.DefaultTenant, g.ID, store.GroupLoad{Members: true})
	if !reflect.DeepEqual(read, g) {
		t.Fatalf("failed update wrote data:\n got %+v\nwant %+v", read, g)
	}
}

func testUpdateGroupSelfMember(t *testing.T, s store.Store) {
	g := mustCreateGroup(t, s, newGroup(store.DefaultTenant, "g"))
	_, err := s.UpdateGroup(context.Background(), store.DefaultTenant, g.ID, func(x *store.Group) error {
		x.Members = []store.Member{{ID: g.ID}}
		return nil
	})
	wantErr(t, err, store.ErrInvalidReference)
}

func testConcurrentMemberAdds(t *testing.T, s store.Store) {
	g := mustCreateGroup(t, s, newGroup(store.DefaultTenant, "big"))
	const n = 16
	ids := make([]string, n)
	for i := range ids {
		ids[i] = mustCreateUser(t, s, newUser(store.DefaultTenant, "m"+uuid.NewString()[:8])).ID
	}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.UpdateGroup(context.Background(), store.DefaultTenant, g.ID, func(g *store.Group) error {
				g.Members = append(g.Members, store.Member{ID: id})
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	read, _ := s.GetGroup(context.Background(), store.DefaultTenant, g.ID, store.GroupLoad{Members: true})
	if len(read.Members) != n {
		t.Fatalf("%d members after %d concurrent adds", len(read.Members), n)
	}
}

func testDeleteGroup(t *testing.T, s store.Store) {
	u := mustCreateUser(t, s, newUser(store.DefaultTenant, "sam"))
	inner := mustCreateGroup(t, s, newGroup(store.DefaultTenant, "inner", u.ID))
	outer := mustCreateGroup(t, s, newGroup(store.DefaultTenant, "outer", inner.ID, u.ID))
	if err := s.DeleteGroup(context.Background(), store.DefaultTenant, inner.ID, 0); err != nil {
		t.Fatal(err)
	}
	_, err := s.GetGroup(context.Background(), store.DefaultTenant, inner.ID, store.GroupLoad{})
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.DeleteGroup(context.Background(), store.DefaultTenant, inner.ID, 0), store.ErrNotFound)
	read, _ := s.GetGroup(context.Background(), store.DefaultTenant, outer.ID, store.GroupLoad{Members: true})
	if ids := memberIDs(read.Members); !reflect.DeepEqual(ids, []string{u.ID}) {
		t.Fatalf("outer members after deleting inner = %v", ids)
	}
	if _, err := s.GetUser(context.Background(), store.DefaultTenant, u.ID, store.UserLoad{}); err != nil {
		t.Fatalf("deleting a group deleted its member: %v", err)
	}
}

func testListGroups(t *testing.T, s store.Store) {
	u := mustCreateUser(t, s, newUser(store.DefaultTenant, "tom"))
	for i := 0; i < 3; i++ {
		g := newGroup(store.DefaultTenant, "g"+string(rune('a'+i)), u.ID)
		g.Created = now.Add(time.Duration(i) * time.Second)
		mustCreateGroup(t, s, g)
	}
	page, total, err := s.ListGroups(context.Background(), store.DefaultTenant, store.Query{Offset: 1, Limit: 5}, store.GroupLoad{Members: true})
	if err != nil || total != 3 || len(page) != 2 {
		t.Fatalf("ListGroups = %d groups, total %d, %v", len(page), total, err)
	}
	if page[0].DisplayName != "gb" || len(page[0].Members) != 1 {
		t.Fatalf("first of page 2: %+v", page[0])
	}
	page, _, _ = s.ListGroups(context.Background(), store.DefaultTenant, store.Query{Limit: 5}, store.GroupLoad{})
	if page[0].Members != nil {
		t.Fatalf("members loaded without GroupLoad.Members")
	}
}
