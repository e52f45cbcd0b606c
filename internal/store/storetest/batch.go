package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/internal/store"
)

func batchCases() []testCase {
	return []testCase{
		{"CreateUsersBatch", testCreateUsersBatch},
		{"CreateUsersEmpty", testCreateUsersEmpty},
		{"ListUsersDeepOffset", testListDeepOffset},
	}
}

func testCreateUsersBatch(t *testing.T, s store.Store) {
	mustCreateUser(t, s, newUser(store.DefaultTenant, "taken"))
	batch := []store.User{newUser(store.DefaultTenant, "b1"), newUser(store.DefaultTenant, "TAKEN"),
		newUser(store.DefaultTenant, "b2"), newUser(store.DefaultTenant, "B1")}
	results, err := s.CreateUsers(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	want := []bool{false, true, false, true} // conflict?
	for i, r := range results {
		if got := errors.Is(r, store.ErrConflict); got != want[i] || (r != nil && !got) {
			t.Fatalf("result %d = %v, want conflict=%v", i, r, want[i])
		}
	}
	for _, i := range []int{0, 2} {
		got, err := s.GetUser(context.Background(), store.DefaultTenant, batch[i].ID, store.UserLoad{})
		if err != nil || !reflect.DeepEqual(got, batch[i]) {
			t.Fatalf("batch user %d: %v\n got %+v\nwant %+v", i, err, got, batch[i])
		}
	}
	for _, i := range []int{1, 3} {
		if _, err := s.GetUser(context.Background(), store.DefaultTenant, batch[i].ID, store.UserLoad{}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("conflicting user %d was stored: %v", i, err)
		}
	}
}

func testCreateUsersEmpty(t *testing.T, s store.Store) {
	results, err := s.CreateUsers(context.Background(), nil)
	if err != nil || len(results) != 0 {
		t.Fatalf("empty batch: %v %v", results, err)
	}
}

func testListDeepOffset(t *testing.T, s store.Store) {
	var users []store.User
	for i := 0; i < 1010; i++ {
		u := newUser(store.DefaultTenant, fmt.Sprintf("deep%04d", i))
		u.Created = now.Add(time.Duration(i) * time.Millisecond)
		users = append(users, u)
	}
	if _, err := s.CreateUsers(context.Background(), users); err != nil {
		t.Fatal(err)
	}
	page, total, err := s.ListUsers(context.Background(), store.DefaultTenant, store.Query{Offset: 1003, Limit: 5}, store.UserLoad{})
	if err != nil || total != 1010 || len(page) != 5 {
		t.Fatalf("deep page: %d users, total %d, %v", len(page), total, err)
	}
	for k, u := range page {
		if !reflect.DeepEqual(u, users[1003+k]) {
			t.Fatalf("deep page entry %d:\n got %+v\nwant %+v", k, u, users[1003+k])
		}
	}
}
