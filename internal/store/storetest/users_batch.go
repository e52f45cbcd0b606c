package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/scimbridge/scimbridge/internal/store"
)

func updateUsersCases() []testCase {
	return []testCase{
		{"UpdateUsersOutcomes", testUpdateUsersOutcomes},
		{"UpdateUsersAudit", testUpdateUsersAudit},
		{"UpdateUsersRenames", testUpdateUsersRenames},
		{"UpdateUsersEmptyAndRepeated", testUpdateUsersEmptyAndRepeated},
	}
}

// patchUsers returns an UpdateUsers callback that renames each user's
// display name and email to "<name>-new", records the index it was called
// with and returns an event naming displayName and emails; fail maps an
// index to the error to return instead.
func patchUsers(called *[]int, fail map[int]error) func(int, *store.User) (*store.AuditEvent, error) {
	return func(i int, u *store.User) (*store.AuditEvent, error) {
		*called = append(*called, i)
		if err := fail[i]; err != nil {
			u.DisplayName = "written anyway?" // must not be written
			return nil, err
		}
		u.DisplayName, u.LastModified = u.UserName+"-new", now.Add(time.Minute)
		u.Emails = []store.Email{{Value: u.UserName + "@new.test", Type: "other"}}
		u.Doc = []byte(`{"userName":"` + u.UserName + `","displayName":"` + u.DisplayName + `"}`)
		return &store.AuditEvent{Actor: "okta", ActorKind: "provisioner", Action: "patch", RequestID: "req-" + u.UserName,
			Source: "csv", Attributes: []string{"displayName", "emails"}}, nil
	}
}

func testUpdateUsersOutcomes(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustCreateTenant(t, s, "other")
	a := mustCreateUser(t, s, newUser(store.DefaultTenant, "ua"))
	b := mustCreateUser(t, s, newUser(store.DefaultTenant, "ub"))
	c := mustCreateUser(t, s, newUser(store.DefaultTenant, "uc"))
	x := mustCreateUser(t, s, newUser("other", "ux"))
	g := mustCreateGroup(t, s, newGroup(store.DefaultTenant, "crew", a.ID))
	ids := []string{c.ID, uuid.NewString(), a.ID, x.ID, b.ID}
	var called []int
	res, err := s.UpdateUsers(ctx, store.DefaultTenant, ids, patchUsers(&called, map[int]error{0: store.ErrUnchanged, 4: errStop}))
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{0, 2, 4}; !reflect.DeepEqual(called, want) {
		t.Fatalf("callback called for %v, want %v (found users, in order)", called, want)
	}
	if len(res) != len(ids) {
		t.Fatalf("%d results for %d ids", len(res), len(ids))
	}
	wantErr(t, res[1].Err, store.ErrNotFound)
	wantErr(t, res[3].Err, store.ErrNotFound) // another tenant's user
	if res[4].Err != errStop {
		t.Fatalf("failing callback's result = %v, want its error", res[4].Err)
	}
	c.Groups = nil
	if res[0].Err != nil || res[0].User.Version != 1 || res[0].User.UserName != "uc" {
		t.Fatalf("unchanged user's result %+v", res[0])
	}
	checkUpdated(t, s, res[2], a, []store.GroupRef{{ID: g.ID, DisplayName: "crew"}})
	for _, u := range []store.User{b, c} {
		read, err := s.GetUser(ctx, store.DefaultTenant, u.ID, store.UserLoad{})
		if err != nil || !reflect.DeepEqual(read, u) {
			t.Fatalf("user %s was written: %v\n got %+v\nwant %+v", u.UserName, err, read, u)
		}
	}
	if read, err := s.GetUser(ctx, "other", x.ID, store.UserLoad{}); err != nil || !reflect.DeepEqual(read, x) {
		t.Fatalf("other tenant's user changed: %v %+v", err, read)
	}
}

// checkUpdated checks that a user patchUsers changed was written and
// reads back as its result.
func checkUpdated(t *testing.T, s store.Store, got store.UserUpdate, before store.User, groups []store.GroupRef) {
	t.Helper()
	u := got.User
	if got.Err != nil || u.Version != before.Version+1 || u.DisplayName != before.UserName+"-new" || !u.LastModified.Equal(now.Add(time.Minute)) {
		t.Fatalf("changed user's result %+v", got)
	}
	if !reflect.DeepEqual(u.Groups, groups) {
		t.Fatalf("result groups %+v, want %+v", u.Groups, groups)
	}
	read, err := s.GetUser(context.Background(), store.DefaultTenant, u.ID, store.UserLoad{Groups: true})
	if err != nil || !reflect.DeepEqual(read, u) {
		t.Fatalf("read after UpdateUsers: %v\n got %+v\nwant %+v", err, read, u)
	}
	want := []store.Email{{Value: before.UserName + "@new.test", Type: "other"}}
	if !reflect.DeepEqual(read.Emails, want) {
		t.Fatalf("emails %+v, want %+v", read.Emails, want)
	}
}

func testUpdateUsersAudit(t *testing.T, s store.Store) {
	a := mustCreateUser(t, s, newUser(store.DefaultTenant, "aa"))
	b := mustCreateUser(t, s, newUser(store.DefaultTenant, "ab"))
	c := mustCreateUser(t, s, newUser(store.DefaultTenant, "ac"))
	d := mustCreateUser(t, s, newUser(store.DefaultTenant, "ad"))
	var called []int
	fn := patchUsers(&called, map[int]error{1: store.ErrUnchanged, 2: errStop})
	noEvent := func(i int, u *store.User) (*store.AuditEvent, error) {
		if _, err := fn(i, u); err != nil || i != 3 {
			return nil, err
		}
		return nil, nil // changed, but not audited
	}
	actx, _ := audited("delete", "ignored") // the ctx's template is not used
	res, err := s.UpdateUsers(actx, store.DefaultTenant, []string{a.ID, b.ID, c.ID, d.ID}, func(i int, u *store.User) (*store.AuditEvent, error) {
		if i == 3 {
			return noEvent(i, u)
		}
		return fn(i, u)
	})
	if err != nil {
		t.Fatal(err)
	}
	checkUpdated(t, s, res[3], d, nil)
	evs := mustEvents(t, s, store.AuditQuery{})
	if len(evs) != 1 {
		t.Fatalf("events %+v, want one, for the changed user with an event", evs)
	}
	e := evs[0]
	want := store.AuditEvent{ID: e.ID, TenantID: store.DefaultTenant, At: e.At, Actor: "okta", ActorKind: "provisioner",
		Action: "patch", ResourceType: "User", ResourceID: a.ID, RequestID: "req-aa", Source: "csv", Attributes: []string{"displayName", "emails"}}
	if e.ID == "" || e.At.IsZero() || !reflect.DeepEqual(e, want) {
		t.Fatalf("event\n got %+v\nwant %+v", e, want)
	}
}

func testUpdateUsersRenames(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustCreateUser(t, s, newUser(store.DefaultTenant, "holder"))
	a := mustCreateUser(t, s, newUser(store.DefaultTenant, "ra"))
	b := mustCreateUser(t, s, newUser(store.DefaultTenant, "rb"))
	c := mustCreateUser(t, s, newUser(store.DefaultTenant, "rc"))
	d := mustCreateUser(t, s, newUser(store.DefaultTenant, "rd"))
	names := []string{"HOLDER", "fresh", "Fresh", "RD"} // a: held outside; b: free; c: taken by b just before; d: its own name, recased
	res, err := s.UpdateUsers(ctx, store.DefaultTenant, []string{a.ID, b.ID, c.ID, d.ID}, func(i int, u *store.User) (*store.AuditEvent, error) {
		u.UserName = names[i]
		u.Doc = []byte(`{"userName":"` + names[i] + `"}`)
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, res[0].Err, store.ErrConflict)
	wantErr(t, res[2].Err, store.ErrConflict)
	if res[1].Err != nil || res[1].User.UserName != "fresh" || res[3].Err != nil || res[3].User.Version != 2 {
		t.Fatalf("renames: %+v", res)
	}
	for _, u := range []store.User{a, c} {
		if read, _ := s.GetUser(ctx, store.DefaultTenant, u.ID, store.UserLoad{}); !reflect.DeepEqual(read, u) {
			t.Fatalf("conflicting rename wrote %+v", read)
		}
	}
	for i, u := range []store.User{b, d} {
		want := res[2*i+1].User
		if read, err := s.GetUser(ctx, store.DefaultTenant, u.ID, store.UserLoad{Groups: true}); err != nil || !reflect.DeepEqual(read, want) {
			t.Fatalf("renamed user: %v\n got %+v\nwant %+v", err, read, want)
		}
	}
	// The freed name "rb" is free, the taken ones still conflict.
	_, err = s.CreateUser(ctx, newUser(store.DefaultTenant, "RB"))
	if err != nil {
		t.Fatalf("userName freed by a rename: %v", err)
	}
	_, err = s.CreateUser(ctx, newUser(store.DefaultTenant, "FRESH"))
	wantErr(t, err, store.ErrConflict)
}

func testUpdateUsersEmptyAndRepeated(t *testing.T, s store.Store) {
	ctx := context.Background()
	fn := func(int, *store.User) (*store.AuditEvent, error) { return nil, errors.New("called") }
	if res, err := s.UpdateUsers(ctx, store.DefaultTenant, nil, fn); err != nil || len(res) != 0 {
		t.Fatalf("empty call: %v %v", res, err)
	}
	u := mustCreateUser(t, s, newUser(store.DefaultTenant, "twice"))
	var called []int
	if _, err := s.UpdateUsers(ctx, store.DefaultTenant, []string{u.ID, u.ID}, patchUsers(&called, nil)); err == nil {
		t.Fatal("an id given twice was accepted")
	}
	if read, _ := s.GetUser(ctx, store.DefaultTenant, u.ID, store.UserLoad{}); !reflect.DeepEqual(read, u) || len(called) != 0 {
		t.Fatalf("a refused call wrote %+v (callback called %v)", read, called)
	}
}
