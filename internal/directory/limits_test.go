package directory_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/server/servertest"
	"github.com/scimbridge/scimbridge/internal/store"
)

// forEachStore runs fn per store backend with a service over it; wrap
// (optional) wraps the real store first.
func forEachStore(t *testing.T, wrap func(store.Store) store.Store, fn func(t *testing.T, s *directory.Service, st store.Store)) {
	for name, open := range servertest.Backends() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st := open(t)
			if wrap != nil {
				st = wrap(st)
			}
			fn(t, directory.New(st, schema.New()), st)
		})
	}
}

// randomText is n characters that do not compress (PostgreSQL compresses
// index tuples, so a repeated letter would slip under its limit).
func randomText(n int) string {
	b := make([]byte, (n+1)/2)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)[:n]
}

// wantTooLong checks err is 400 invalidValue naming attr and limit.
func wantTooLong(t *testing.T, err error, attr string, limit int) {
	t.Helper()
	var se scimerrors.ScimError
	if !errors.As(err, &se) || se.Status != http.StatusBadRequest || se.ScimType != scimerrors.ScimTypeInvalidValue {
		t.Fatalf("err = %v, want 400 invalidValue", err)
	}
	if !strings.Contains(se.Detail, attr) || !strings.Contains(se.Detail, fmt.Sprint(limit)) {
		t.Fatalf("detail %q does not name %s and %d", se.Detail, attr, limit)
	}
}

func TestHardening_LongValuesRefusedOnEveryWrite(t *testing.T) {
	long := randomText(3000)
	userCases := []struct {
		attr  string
		limit int
		body  func() map[string]any
	}{
		{"userName", directory.MaxUserNameLength, func() map[string]any { return map[string]any{"userName": long} }},
		{"externalId", directory.MaxExternalIDLength, func() map[string]any { return map[string]any{"userName": "ext", "externalId": long} }},
		{"emails[0].value", directory.MaxEmailLength, func() map[string]any {
			return map[string]any{"userName": "mail", "emails": []any{map[string]any{"value": long + "@example.com"}}}
		}},
		{"displayName", directory.MaxDisplayNameLength, func() map[string]any { return map[string]any{"userName": "disp", "displayName": long} }},
		{"name.givenName", directory.MaxStringLength, func() map[string]any {
			return map[string]any{"userName": "given", "name": map[string]any{"givenName": randomText(directory.MaxStringLength + 1)}}
		}},
		{"addresses[1].streetAddress", directory.MaxStringLength, func() map[string]any {
			return map[string]any{"userName": "addr", "addresses": []any{map[string]any{"locality": "Oslo"},
				map[string]any{"streetAddress": randomText(directory.MaxStringLength + 1)}}}
		}},
		{"emails[1].display", directory.MaxStringLength, func() map[string]any {
			return map[string]any{"userName": "maildisp", "emails": []any{map[string]any{"value": "a@example.com"},
				map[string]any{"value": "b@example.com", "display": randomText(directory.MaxStringLength + 1)}}}
		}},
	}
	forEachStore(t, nil, func(t *testing.T, s *directory.Service, _ store.Store) {
		ctx := context.Background()
		for _, c := range userCases {
			_, err := s.CreateUser(ctx, admin, c.body())
			wantTooLong(t, err, c.attr, c.limit)
		}
		u, err := s.CreateUser(ctx, admin, map[string]any{"userName": "ok"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.ReplaceUser(ctx, admin, u.ID, map[string]any{"userName": long}, directory.Precondition{})
		wantTooLong(t, err, "userName", directory.MaxUserNameLength)
		_, err = s.PatchUser(ctx, admin, u.ID, []directory.PatchOp{{Op: "replace", Path: "externalId", Value: long}}, directory.Precondition{})
		wantTooLong(t, err, "externalId", directory.MaxExternalIDLength)
		_, err = s.CreateGroup(ctx, admin, map[string]any{"displayName": long})
		wantTooLong(t, err, "displayName", directory.MaxDisplayNameLength)
		g, err := s.CreateGroup(ctx, admin, map[string]any{"displayName": "g"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.ReplaceGroup(ctx, admin, g.ID, map[string]any{"displayName": "g", "externalId": long}, directory.Precondition{})
		wantTooLong(t, err, "externalId", directory.MaxExternalIDLength)
		_, err = s.PatchGroup(ctx, admin, g.ID, []directory.PatchOp{{Op: "replace", Path: "displayName", Value: long}}, directory.Precondition{})
		wantTooLong(t, err, "displayName", directory.MaxDisplayNameLength)
	})
}

func TestHardening_LongValuesAtTheLimitAreStored(t *testing.T) {
	forEachStore(t, nil, func(t *testing.T, s *directory.Service, _ store.Store) {
		ctx := context.Background()
		// Four-byte characters: the worst case for the index row size.
		wide := func(n int) string { return strings.Repeat("\U0001F600", n) }
		_, err := s.CreateUser(ctx, admin, map[string]any{
			"userName": randomText(directory.MaxUserNameLength-4) + wide(4), "externalId": randomText(directory.MaxExternalIDLength),
			"emails": []any{map[string]any{"value": randomText(directory.MaxEmailLength-12) + "@example.com"}},
		})
		if err != nil {
			t.Fatalf("values at the limit: %v", err)
		}
		if _, err := s.CreateUser(ctx, admin, map[string]any{"userName": wide(directory.MaxUserNameLength)}); err != nil {
			t.Fatalf("userName of %d four-byte characters: %v", directory.MaxUserNameLength, err)
		}
		if _, err := s.CreateGroup(ctx, admin, map[string]any{"displayName": randomText(directory.MaxDisplayNameLength)}); err != nil {
			t.Fatalf("group displayName at the limit: %v", err)
		}
	})
}

func TestHardening_LongValuesInBulkFailAlone(t *testing.T) {
	forEachStore(t, nil, func(t *testing.T, s *directory.Service, _ store.Store) {
		ops := []directory.BulkOp{
			{Method: "POST", Path: "/Users", BulkID: "a", Data: map[string]any{"userName": "bulk-a"}},
			{Method: "POST", Path: "/Users", BulkID: "b", Data: map[string]any{"userName": randomText(3000)}},
			{Method: "POST", Path: "/Users", BulkID: "c", Data: map[string]any{"userName": "bulk-c"}},
			{Method: "POST", Path: "/Groups", BulkID: "g", Data: map[string]any{"displayName": randomText(3000)}},
		}
		res, err := s.Bulk(context.Background(), admin, directory.BulkRequest{Operations: ops})
		if err != nil {
			t.Fatal(err)
		}
		want := []int{http.StatusCreated, http.StatusBadRequest, http.StatusCreated, http.StatusBadRequest}
		for i, r := range res {
			if r.Status != want[i] {
				t.Errorf("operation %d: status %d (%v), want %d", i, r.Status, r.Err, want[i])
			}
		}
		wantTooLong(t, res[1].Err, "userName", directory.MaxUserNameLength)
		list, err := s.ListUsers(context.Background(), admin, directory.ListQuery{})
		if err != nil || list.Total != 2 {
			t.Fatalf("stored users: %v, %v; want 2", list, err)
		}
	})
}

// failingStore is a real store whose user creation fails (as a store
// would on a race or a limit validation does not know) for one userName.
type failingStore struct {
	store.Store
	poison  string
	batches atomic.Int32
}

var errInjected = errors.New("injected store failure")

func (f *failingStore) CreateUsers(ctx context.Context, users []store.User) ([]error, error) {
	f.batches.Add(1)
	for _, u := range users {
		if u.UserName == f.poison {
			return nil, fmt.Errorf("insert users: %w", errInjected)
		}
	}
	return f.Store.CreateUsers(ctx, users)
}

func (f *failingStore) CreateUser(ctx context.Context, u store.User) (store.User, error) {
	if u.UserName == f.poison {
		return store.User{}, fmt.Errorf("insert user: %w", errInjected)
	}
	return f.Store.CreateUser(ctx, u)
}

func TestHardening_BulkBatchFailureIsolated(t *testing.T) {
	wrap := func(st store.Store) store.Store { return &failingStore{Store: st, poison: "poison"} }
	forEachStore(t, wrap, func(t *testing.T, s *directory.Service, st store.Store) {
		ops := []directory.BulkOp{
			{Method: "POST", Path: "/Users", BulkID: "a", Data: map[string]any{"userName": "iso-a"}},
			{Method: "POST", Path: "/Users", BulkID: "b", Data: map[string]any{"userName": "poison"}},
			{Method: "POST", Path: "/Users", BulkID: "c", Data: map[string]any{"userName": "iso-c"}},
			{Method: "POST", Path: "/Users", BulkID: "d", Data: map[string]any{"userName": "iso-d"}},
		}
		res, err := s.Bulk(context.Background(), admin, directory.BulkRequest{Operations: ops})
		if err != nil {
			t.Fatal(err)
		}
		if f := st.(*failingStore); f.batches.Load() == 0 {
			t.Fatal("the creations did not go through the set-based batch")
		}
		want := []int{http.StatusCreated, http.StatusInternalServerError, http.StatusCreated, http.StatusCreated}
		for i, r := range res {
			if r.Status != want[i] {
				t.Errorf("operation %d: status %d (%v), want %d", i, r.Status, r.Err, want[i])
			}
		}
		list, err := s.ListUsers(context.Background(), admin, directory.ListQuery{})
		if err != nil || list.Total != 3 {
			t.Fatalf("stored users: %+v, %v; want 3", list, err)
		}
	})
}

// valueTooLargeStore fails every user creation as PostgreSQL does for an
// index row over its size limit, translated at the store boundary.
type valueTooLargeStore struct{ store.Store }

func (valueTooLargeStore) CreateUser(context.Context, store.User) (store.User, error) {
	return store.User{}, fmt.Errorf("insert user: %w", store.ErrValueTooLarge)
}

func TestHardening_LongValuesStoreLimitIs400(t *testing.T) {
	wrap := func(st store.Store) store.Store { return valueTooLargeStore{st} }
	forEachStore(t, wrap, func(t *testing.T, s *directory.Service, _ store.Store) {
		_, err := s.CreateUser(context.Background(), admin, map[string]any{"userName": "x"})
		var se scimerrors.ScimError
		if !errors.As(err, &se) || se.Status != http.StatusBadRequest || se.ScimType != scimerrors.ScimTypeInvalidValue {
			t.Fatalf("err = %v, want 400 invalidValue", err)
		}
	})
}
