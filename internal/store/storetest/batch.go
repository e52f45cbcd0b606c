package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/scimbridge/scimbridge/internal/store"
)

func batchCases() []testCase {
	return []testCase{
		{"CreateUsersBatch", testCreateUsersBatch},
		{"CreateUsersEmpty", testCreateUsersEmpty},
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
		got, err := s.GetUser(context.Background(), store.DefaultTenant, batch[i].ID)
		if err != nil || !reflect.DeepEqual(got, batch[i]) {
			t.Fatalf("batch user %d: %v\n got %+v\nwant %+v", i, err, got, batch[i])
		}
	}
	for _, i := range []int{1, 3} {
		if _, err := s.GetUser(context.Background(), store.DefaultTenant, batch[i].ID); !errors.Is(err, store.ErrNotFound) {
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
