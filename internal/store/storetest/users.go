package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/scimbridge/scimbridge/internal/filter"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

var errStop = errors.New("callback refused")

func userCases() []testCase {
	return []testCase{
		{"UserRoundTrip", testUserRoundTrip},
		{"UserNameUniqueCaseInsensitive", testUserNameUnique},
		{"UserNameUniqueUnderCaseFolding", testUserNameFolding},
		{"UpdateUserUnchanged", testUpdateUserUnchanged},
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
		{"UserReadsLoadGroups", testUserReadsLoadGroups},
		{"FilteredListTotals", testFilteredListTotals},
		{"UnfilteredTotalFollowsWrites", testUnfilteredTotal},
		{"KeysetPaging", testKeysetPaging},
		{"UserUnknownTenant", testUserUnknownTenant},
		{"UserTiers", testUserTiers},
	}
}

func testUserRoundTrip(t *testing.T, s store.Store) {
	u := newUser(store.DefaultTenant, "alice")
	mustCreateUser(t, s, u)
	got, err := s.GetUser(context.Background(), store.DefaultTenant, u.ID, store.UserLoad{})
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
		_, err := s.GetUser(context.Background(), store.DefaultTenant, id, store.UserLoad{})
		wantErr(t, err, store.ErrNotFound)
	}
}

func testGetUserOtherTenant(t *testing.T, s store.Store) {
	mustCreateTenant(t, s, "acme")
	u := mustCreateUser(t, s, newUser("acme", "dave"))
	_, err := s.GetUser(context.Background(), store.DefaultTenant, u.ID, store.UserLoad{})
	wantErr(t, err, store.ErrNotFound)
	_, err = s.UpdateUser(context.Background(), store.DefaultTenant, u.ID, func(*store.User) error { return nil })
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.DeleteUser(context.Background(), store.DefaultTenant, u.ID, 0), store.ErrNotFound)
}

func testUpdateUser(t *testing.T, s store.Store) {
	u := mustCreateUser(t, s, newUser(store.DefaultTenant, "erin"))
	g := mustCreateGroup(t, s, newGroup(store.DefaultTenant, "night shift", u.ID))
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
	if want := []store.GroupRef{{ID: g.ID, DisplayName: "night shift"}}; !reflect.DeepEqual(got.Groups, want) {
		t.Fatalf("update result groups %+v, want %+v", got.Groups, want)
	}
	read, err := s.GetUser(context.Background(), store.DefaultTenant, u.ID, store.UserLoad{Groups: true})
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
	read, _ := s.GetUser(context.Background(), store.DefaultTenant, u.ID, store.UserLoad{})
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
	read, _ := s.GetUser(context.Background(), store.DefaultTenant, u.ID, store.UserLoad{})
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
	read, _ := s.GetUser(context.Background(), store.DefaultTenant, u.ID, store.UserLoad{})
	if read.Version != 1+n {
		t.Fatalf("version = %d after %d updates, want %d", read.Version, n, 1+n)
	}
}

func testDeleteUser(t *testing.T, s store.Store) {
	u := mustCreateUser(t, s, newUser(store.DefaultTenant, "jack"))
	if err := s.DeleteUser(context.Background(), store.DefaultTenant, u.ID, 0); err != nil {
		t.Fatal(err)
	}
	_, err := s.GetUser(context.Background(), store.DefaultTenant, u.ID, store.UserLoad{})
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
		page, total, err := s.ListUsers(context.Background(), store.DefaultTenant, store.Query{Offset: off, Limit: 3}, store.UserLoad{})
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
	page, total, err := s.ListUsers(context.Background(), store.DefaultTenant, store.Query{Limit: 0}, store.UserLoad{})
	if err != nil || total != 7 || page == nil || len(page) != 0 {
		t.Fatalf("count-only list = %v, %d, %v", page, total, err)
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

func testUserReadsLoadGroups(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := mustCreateUser(t, s, newUser(store.DefaultTenant, "mia"))
	v := mustCreateUser(t, s, newUser(store.DefaultTenant, "noah"))
	b := mustCreateGroup(t, s, newGroup(store.DefaultTenant, "beta", u.ID))
	a := mustCreateGroup(t, s, newGroup(store.DefaultTenant, "Alpha", u.ID))
	want := []store.GroupRef{{ID: a.ID, DisplayName: "Alpha"}, {ID: b.ID, DisplayName: "beta"}}
	got, err := s.GetUser(ctx, store.DefaultTenant, u.ID, store.UserLoad{Groups: true})
	if err != nil || !reflect.DeepEqual(got.Groups, want) || len(got.Emails) != 2 {
		t.Fatalf("GetUser with groups = %+v, %v; want groups %+v", got, err, want)
	}
	if got, _ := s.GetUser(ctx, store.DefaultTenant, u.ID, store.UserLoad{}); got.Groups != nil {
		t.Fatalf("GetUser without groups filled %+v", got.Groups)
	}
	lean, err := s.GetUser(ctx, store.DefaultTenant, u.ID, store.UserLoad{Groups: true, WithoutEmails: true})
	if err != nil || lean.Emails != nil || !reflect.DeepEqual(lean.Groups, want) || string(lean.Doc) != string(got.Doc) || lean.Version != got.Version {
		t.Fatalf("GetUser without emails = %+v, %v", lean, err)
	}
	leanPage, _, err := s.ListUsers(ctx, store.DefaultTenant, store.Query{Limit: 10}, store.UserLoad{WithoutEmails: true})
	if err != nil || len(leanPage) != 2 || leanPage[0].Emails != nil || leanPage[0].Groups != nil || len(leanPage[0].Doc) == 0 {
		t.Fatalf("ListUsers without emails = %+v, %v", leanPage, err)
	}
	if got, _ := s.GetUser(ctx, store.DefaultTenant, v.ID, store.UserLoad{Groups: true}); len(got.Groups) != 0 {
		t.Fatalf("user in no group has groups %+v", got.Groups)
	}
	page, total, err := s.ListUsers(ctx, store.DefaultTenant, store.Query{Limit: 10}, store.UserLoad{Groups: true})
	if err != nil || total != 2 || len(page) != 2 {
		t.Fatalf("ListUsers = %d users, total %d, %v", len(page), total, err)
	}
	for _, p := range page {
		if p.ID == u.ID && !reflect.DeepEqual(p.Groups, want) {
			t.Fatalf("listed %s with groups %+v, want %+v", p.UserName, p.Groups, want)
		}
		if p.ID == v.ID && len(p.Groups) != 0 {
			t.Fatalf("listed %s with groups %+v, want none", p.UserName, p.Groups)
		}
	}
}

// testFilteredListTotals checks the total of filtered lists whatever the
// page holds: a short page, a full page, a page past the end, count only.
func testFilteredListTotals(t *testing.T, s store.Store) {
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		mustCreateUser(t, s, newUser(store.DefaultTenant, fmt.Sprintf("total%d", i)))
	}
	mustCreateUser(t, s, newUser(store.DefaultTenant, "other"))
	for i := 0; i < 3; i++ {
		mustCreateGroup(t, s, newGroup(store.DefaultTenant, fmt.Sprintf("g%d", i)))
	}
	reg := schema.New()
	f, err := filter.Parse(reg.User, `userName sw "total"`)
	if err != nil {
		t.Fatal(err)
	}
	one, err := filter.Parse(reg.User, `userName eq "TOTAL3"`)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		q        store.Query
		n, total int
	}{
		{store.Query{Filter: f, Limit: 10}, 5, 5},
		{store.Query{Filter: f, Limit: 5}, 5, 5},
		{store.Query{Filter: f, Limit: 2}, 2, 5},
		{store.Query{Filter: f, Offset: 4, Limit: 2}, 1, 5},
		{store.Query{Filter: f, Offset: 5, Limit: 2}, 0, 5},
		{store.Query{Filter: f, Offset: 9, Limit: 2}, 0, 5},
		{store.Query{Filter: f, Limit: 0}, 0, 5},
		{store.Query{Filter: one, Limit: 1}, 1, 1},
		{store.Query{Filter: one, Limit: 10}, 1, 1},
	} {
		users, total, err := s.ListUsers(ctx, store.DefaultTenant, c.q, store.UserLoad{})
		if err != nil || len(users) != c.n || total != c.total {
			t.Errorf("offset %d limit %d: %d users, total %d, %v; want %d, %d", c.q.Offset, c.q.Limit, len(users), total, err, c.n, c.total)
		}
	}
	for _, c := range []struct{ off, limit, n int }{{0, 10, 3}, {0, 3, 3}, {0, 2, 2}, {2, 2, 1}, {3, 2, 0}, {7, 2, 0}, {0, 0, 0}} {
		groups, total, err := s.ListGroups(ctx, store.DefaultTenant, store.Query{Offset: c.off, Limit: c.limit}, store.GroupLoad{})
		if err != nil || len(groups) != c.n || total != 3 {
			t.Errorf("groups offset %d limit %d: %d, total %d, %v; want %d, 3", c.off, c.limit, len(groups), total, err, c.n)
		}
	}
}

// testUnfilteredTotal checks an unfiltered list's total through every
// way users come and go, failed writes and concurrent writers included
// (the PostgreSQL backend keeps it in counters rather than counting).
func testUnfilteredTotal(t *testing.T, s store.Store) {
	ctx := context.Background()
	total := func() int {
		t.Helper()
		_, n, err := s.ListUsers(ctx, store.DefaultTenant, store.Query{Limit: 1}, store.UserLoad{})
		if err != nil {
			t.Fatal(err)
		}
		_, countOnly, err := s.ListUsers(ctx, store.DefaultTenant, store.Query{}, store.UserLoad{})
		if err != nil || countOnly != n {
			t.Fatalf("count-only total %d (%v), page total %d", countOnly, err, n)
		}
		return n
	}
	mustCreateTenant(t, s, "acme")
	mustCreateUser(t, s, newUser("acme", "elsewhere"))
	a := mustCreateUser(t, s, newUser(store.DefaultTenant, "a"))
	if _, err := s.CreateUser(ctx, newUser(store.DefaultTenant, "A")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate create: %v", err)
	}
	batch := []store.User{newUser(store.DefaultTenant, "b1"), newUser(store.DefaultTenant, "a"), newUser(store.DefaultTenant, "b2")}
	if _, err := s.CreateUsers(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if n := total(); n != 3 {
		t.Fatalf("total after creates = %d, want 3", n)
	}
	if err := s.DeleteUser(ctx, store.DefaultTenant, a.ID, 99); !errors.Is(err, store.ErrVersionMismatch) {
		t.Fatalf("stale delete: %v", err)
	}
	if err := s.DeleteUser(ctx, store.DefaultTenant, a.ID, 0); err != nil {
		t.Fatal(err)
	}
	if n := total(); n != 2 {
		t.Fatalf("total after delete = %d, want 2", n)
	}
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u, err := s.CreateUser(ctx, newUser(store.DefaultTenant, fmt.Sprintf("c%d", i)))
			if err != nil {
				t.Error(err)
				return
			}
			if i%2 == 0 {
				if err := s.DeleteUser(ctx, store.DefaultTenant, u.ID, 0); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if n := total(); n != 10 {
		t.Fatalf("total after concurrent creates and deletes = %d, want 10", n)
	}
	_, acme, err := s.ListUsers(ctx, "acme", store.Query{Limit: 10}, store.UserLoad{})
	if err != nil || acme != 1 {
		t.Fatalf("other tenant's total = %d, %v; want 1", acme, err)
	}
}

// testKeysetPaging walks users with After (ties in creation time broken by
// id, a filter, deletions between pages) and checks it against the offset
// walk and the totals.
func testKeysetPaging(t *testing.T, s store.Store) {
	ctx := context.Background()
	for i := 0; i < 13; i++ {
		u := newUser(store.DefaultTenant, fmt.Sprintf("k%02d", i))
		u.Created = now.Add(time.Duration(i/3) * time.Second) // three users per instant
		mustCreateUser(t, s, u)
	}
	offsetWalk, total, err := s.ListUsers(ctx, store.DefaultTenant, store.Query{Limit: 100}, store.UserLoad{})
	if err != nil || total != 13 {
		t.Fatalf("offset walk: %d users, total %d, %v", len(offsetWalk), total, err)
	}
	walk := func(q store.Query, between func()) []string {
		var ids []string
		q.Limit = 4
		for page := 0; page < 10; page++ {
			users, total, err := s.ListUsers(ctx, store.DefaultTenant, q, store.UserLoad{})
			if err != nil {
				t.Fatal(err)
			}
			if q.Filter == nil && page == 0 && total != 13 {
				t.Fatalf("keyset page total = %d, want 13", total)
			}
			for _, u := range users {
				ids = append(ids, u.ID)
			}
			if len(users) < q.Limit {
				return ids
			}
			last := users[len(users)-1]
			q.After = &store.Key{Created: last.Created, ID: last.ID}
			if between != nil {
				between()
				between = nil
			}
		}
		t.Fatal("keyset walk did not end")
		return nil
	}
	var want []string
	for _, u := range offsetWalk {
		want = append(want, u.ID)
	}
	if got := walk(store.Query{}, nil); !reflect.DeepEqual(got, want) {
		t.Fatalf("keyset walk\n %v\nwant\n %v", got, want)
	}
	f, err := filter.Parse(schema.New().User, `userName sw "k0"`)
	if err != nil {
		t.Fatal(err)
	}
	var wantK0 []string
	for _, u := range offsetWalk {
		if strings.HasPrefix(u.UserName, "k0") {
			wantK0 = append(wantK0, u.ID)
		}
	}
	if got := walk(store.Query{Filter: f}, nil); !reflect.DeepEqual(got, wantK0) {
		t.Fatalf("filtered keyset walk %v, want %v", got, wantK0)
	}
	// A user of the first page goes away between pages: an offset walk
	// would now skip one user; a keyset walk sees every remaining one once.
	got := walk(store.Query{}, func() {
		if err := s.DeleteUser(ctx, store.DefaultTenant, want[0], 0); err != nil {
			t.Fatal(err)
		}
	})
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("keyset walk with a deletion\n %v\nwant\n %v", got, want)
	}
	if _, _, err := s.ListUsers(ctx, store.DefaultTenant, store.Query{Limit: 2, After: &store.Key{ID: "x"},
		SortBy: &filter.Attr{Name: "userName", Type: "string"}}, store.UserLoad{}); err == nil {
		t.Fatal("keyset paging with sortBy accepted")
	}
}
