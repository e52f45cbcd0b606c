package storetest

import (
	"context"
	"errors"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/scimbridge/scimbridge/internal/store"
)

var errStop = errors.New("callback refused")

func userCases() []testCase {
	return []testCase{
		{"UserRoundTrip", testUserRoundTrip},
		{"UserNameUniqueCaseInsensitive", testUserNameUnique},
		{"UserNameUniquePerTenant", testUserNameUniquePerTenant},
		{"ExternalIDNotUnique", testExternalIDNotUnique},
		{"GetUserUnknown", testGetUserUnknown},
		{"GetUserOtherTenant", testGetUserOtherTenant},
		{"UpdateUser", testUpdateUser},
		{"UpdateUserCallbackErrorWritesNothing", testUpdateUserRollback},
		{"UpdateUserRenameConflict", testUpdateUserRenameConflict},
		{"UpdateUserUnknown", testUpdateUserUnknown},
		{"ConcurrentUpdatesLoseNothing", testConcurrentUpdates},
		{"DeleteUser", testDeleteUser},
		{"DeleteUserRemovesMemberships", testDeleteUserRemovesMemberships},
		{"ListUsersPaging", testListUsersPaging},
		{"UserGroups", testUserGroups},
		{"UserUnknownTenant", testUserUnknownTenant},
		{"UserTiers", testUserTiers},
	}
}

func testUserRoundTrip(t *testing.T, s store.Store) {
	u := newUser(store.DefaultTenant, "alice")
	mustCreateUser(t, s, u)
	got, err := s.GetUser(context.Background(), store.DefaultTenant, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, u) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, u)
	}
}

func testUserNameUnique(t *testing.T, s store.Store) {
	mustCreateUser(t, s, newUser(store.DefaultTenant, "Bob"))
	_, err := s.CreateUser(context.Background(), newUser(store.DefaultTenant, "bOB"))
	wantErr(t, err, store.ErrConflict)
}

func testUserNameUniquePerTenant(t *testing.T, s store.Store) {
	mustCreateTenant(t, s, "acme")
	mustCreateUser(t, s, newUser(store.DefaultTenant, "carol"))
	mustCreateUser(t, s, newUser("acme", "carol"))
}

func testExternalIDNotUnique(t *testing.T, s store.Store) {
	a, b := newUser(store.DefaultTenant, "a"), newUser(store.DefaultTenant, "b")
	a.ExternalID, b.ExternalID = "same", "same"
	mustCreateUser(t, s, a)
	mustCreateUser(t, s, b)
}

func testGetUserUnknown(t *testing.T, s store.Store) {
	for _, id := range []string{uuid.NewString(), "not-a-uuid", "", "'; DROP TABLE users; --"} {
		_, err := s.GetUser(context.Background(), store.DefaultTenant, id)
		wantErr(t, err, store.ErrNotFound)
	}
}

func testGetUserOtherTenant(t *testing.T, s store.Store) {
	mustCreateTenant(t, s, "acme")
	u := mustCreateUser(t, s, newUser("acme", "dave"))
	_, err := s.GetUser(context.Background(), store.DefaultTenant, u.ID)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.UpdateUser(context.Background(), store.DefaultTenant, u.ID, func(*store.User) error { return nil })
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.DeleteUser(context.Background(), store.DefaultTenant, u.ID, 0), store.ErrNotFound)
}

func testUpdateUser(t *testing.T, s store.Store) {
	u := mustCreateUser(t, s, newUser(store.DefaultTenant, "erin"))
	later := now.Add(time.Minute)
	got, err := s.UpdateUser(context.Background(), store.DefaultTenant, u.ID, func(u *store.User) error {
		u.UserName, u.Active, u.LastModified = "Erin2", false, later
		u.Emails = []store.Email{{Value: "new@x.test", Type: "work", Primary: true}}
		u.Doc = []byte(`{"userName":"Erin2"}`)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 2 || got.UserName != "Erin2" || got.Active {
		t.Fatalf("update result %+v", got)
	}
	read, err := s.GetUser(context.Background(), store.DefaultTenant, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(read, got) {
		t.Fatalf("read after update:\n got %+v\nwant %+v", read, got)
	}
}

func testUpdateUserRollback(t *testing.T, s store.Store) {
	u := mustCreateUser(t, s, newUser(store.DefaultTenant, "frank"))
	_, err := s.UpdateUser(context.Background(), store.DefaultTenant, u.ID, func(u *store.User) error {
		u.UserName = "changed"
		return errStop
	})
	if err != errStop {
		t.Fatalf("error = %v, want the callback's error unchanged", err)
	}
	read, _ := s.GetUser(context.Background(), store.DefaultTenant, u.ID)
	if !reflect.DeepEqual(read, u) {
		t.Fatalf("callback error wrote data: %+v", read)
	}
}

func testUpdateUserRenameConflict(t *testing.T, s store.Store) {
	mustCreateUser(t, s, newUser(store.DefaultTenant, "gina"))
	u := mustCreateUser(t, s, newUser(store.DefaultTenant, "hank"))
	_, err := s.UpdateUser(context.Background(), store.DefaultTenant, u.ID, func(u *store.User) error {
		u.UserName = "GINA"
		return nil
	})
	wantErr(t, err, store.ErrConflict)
	read, _ := s.GetUser(context.Background(), store.DefaultTenant, u.ID)
	if !reflect.DeepEqual(read, u) {
		t.Fatalf("failed rename wrote data: %+v", read)
	}
}

func testUpdateUserUnknown(t *testing.T, s store.Store) {
	called := false
	_, err := s.UpdateUser(context.Background(), store.DefaultTenant, uuid.NewString(), func(*store.User) error {
		called = true
		return nil
	})
	wantErr(t, err, store.ErrNotFound)
	if called {
		t.Fatal("callback called for an unknown user")
	}
}

func testConcurrentUpdates(t *testing.T, s store.Store) {
	u := mustCreateUser(t, s, newUser(store.DefaultTenant, "ivy"))
	const n = 20
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.UpdateUser(context.Background(), store.DefaultTenant, u.ID, func(u *store.User) error { return nil })
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	read, _ := s.GetUser(context.Background(), store.DefaultTenant, u.ID)
	if read.Version != 1+n {
		t.Fatalf("version = %d after %d updates, want %d", read.Version, n, 1+n)
	}
}

func testDeleteUser(t *testing.T, s store.Store) {
	u := mustCreateUser(t, s, newUser(store.DefaultTenant, "jack"))
	if err := s.DeleteUser(context.Background(), store.DefaultTenant, u.ID, 0); err != nil {
		t.Fatal(err)
	}
	_, err := s.GetUser(context.Background(), store.DefaultTenant, u.ID)
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.DeleteUser(context.Background(), store.DefaultTenant, u.ID, 0), store.ErrNotFound)
	mustCreateUser(t, s, newUser(store.DefaultTenant, "jack")) // the name is free again
}

func testDeleteUserRemovesMemberships(t *testing.T, s store.Store) {
	u := mustCreateUser(t, s, newUser(store.DefaultTenant, "kate"))
	v := mustCreateUser(t, s, newUser(store.DefaultTenant, "liam"))
	g := mustCreateGroup(t, s, newGroup(store.DefaultTenant, "ops", u.ID, v.ID))
	if err := s.DeleteUser(context.Background(), store.DefaultTenant, u.ID, 0); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetGroup(context.Background(), store.DefaultTenant, g.ID, store.GroupLoad{Members: true})
	if err != nil {
		t.Fatal(err)
	}
	if ids := memberIDs(got.Members); !reflect.DeepEqual(ids, []string{v.ID}) {
		t.Fatalf("members after delete = %v, want [%s]", ids, v.ID)
	}
}

func testListUsersPaging(t *testing.T, s store.Store) {
	var want []string
	for i := 0; i < 7; i++ {
		u := newUser(store.DefaultTenant, "user"+string(rune('a'+i)))
		u.Created = now.Add(time.Duration(i) * time.Second)
		want = append(want, mustCreateUser(t, s, u).ID)
	}
	mustCreateTenant(t, s, "acme")
	mustCreateUser(t, s, newUser("acme", "elsewhere"))
	var got []string
	for off := 0; off < 9; off += 3 {
		page, total, err := s.ListUsers(context.Background(), store.DefaultTenant, store.Query{Offset: off, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		if total != 7 {
			t.Fatalf("total = %d, want 7", total)
		}
		for _, u := range page {
			got = append(got, u.ID)
			if len(u.Emails) != 2 {
				t.Fatalf("listed user without its emails: %+v", u)
			}
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("paged ids = %v, want %v", got, want)
	}
	page, total, err := s.ListUsers(context.Background(), store.DefaultTenant, store.Query{Limit: 0})
	if err != nil || total != 7 || page == nil || len(page) != 0 {
		t.Fatalf("count-only list = %v, %d, %v", page, total, err)
	}
}

func testUserGroups(t *testing.T, s store.Store) {
	u := mustCreateUser(t, s, newUser(store.DefaultTenant, "mia"))
	v := mustCreateUser(t, s, newUser(store.DefaultTenant, "noah"))
	b := mustCreateGroup(t, s, newGroup(store.DefaultTenant, "beta", u.ID))
	a := mustCreateGroup(t, s, newGroup(store.DefaultTenant, "alpha", u.ID, v.ID))
	got, err := s.UserGroups(context.Background(), store.DefaultTenant, []string{u.ID, v.ID})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]store.GroupRef{
		u.ID: {{ID: a.ID, DisplayName: "alpha"}, {ID: b.ID, DisplayName: "beta"}},
		v.ID: {{ID: a.ID, DisplayName: "alpha"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("UserGroups = %+v, want %+v", got, want)
	}
}

func testUserUnknownTenant(t *testing.T, s store.Store) {
	_, err := s.CreateUser(context.Background(), newUser("no-such-tenant", "uma"))
	wantErr(t, err, store.ErrNotFound)
	_, err = s.CreateGroup(context.Background(), newGroup("no-such-tenant", "g"))
	wantErr(t, err, store.ErrNotFound)
}

func testUserTiers(t *testing.T, s store.Store) {
	a := newUser(store.DefaultTenant, "tier-a")
	a.Tier = "support-tier-3-engineering"
	mustCreateUser(t, s, a)
	b := mustCreateUser(t, s, newUser(store.DefaultTenant, "tier-b"))
	g := mustCreateGroup(t, s, newGroup(store.DefaultTenant, "g"))
	got, err := s.UserTiers(context.Background(), store.DefaultTenant, []string{a.ID, b.ID, g.ID, uuid.NewString()})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]store.Tier{a.ID: "support-tier-3-engineering", b.ID: "support-tier-1-operations"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("UserTiers = %v, want %v", got, want)
	}
	if _, err := s.UpdateUser(context.Background(), store.DefaultTenant, b.ID, func(u *store.User) error {
		u.Tier = ""
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.UserTiers(context.Background(), store.DefaultTenant, []string{b.ID})
	if got[b.ID] != "" {
		t.Fatalf("tier after clearing: %q", got[b.ID])
	}
	big := mustCreateGroup(t, s, newGroup(store.DefaultTenant, "members", a.ID, b.ID, g.ID))
	tiers, err := s.MemberTiers(context.Background(), store.DefaultTenant, big.ID)
	sort.Slice(tiers, func(i, j int) bool { return tiers[i] < tiers[j] })
	if err != nil || !reflect.DeepEqual(tiers, []store.Tier{"", "support-tier-3-engineering"}) {
		t.Fatalf("MemberTiers = %v, %v", tiers, err)
	}
}
