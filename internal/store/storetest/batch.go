package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/internal/filter"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

func batchCases() []testCase {
	return []testCase{
		{"CreateUsersBatch", testCreateUsersBatch},
		{"CreateUsersEmpty", testCreateUsersEmpty},
		{"CreateUsersLargeBatch", testCreateUsersLargeBatch},
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

// testCreateUsersLargeBatch: batches the size an import sends (a backend
// may write them another way, as PostgreSQL does with COPY) keep every
// rule of small ones: the users as given, with their emails and audit
// events, the count kept, and a conflict, in the store or within the
// batch, failing only its own user.
func testCreateUsersLargeBatch(t *testing.T, s store.Store) {
	mustCreateUser(t, s, newUser(store.DefaultTenant, "taken"))
	clean := largeBatch("clean", 300)
	conflicting := largeBatch("mixed", 300)
	conflicting[17] = newUser(store.DefaultTenant, "TAKEN")
	conflicting[250] = newUser(store.DefaultTenant, "Mixed0100")
	ctx, _ := audited("create", "csv-admin")
	for _, batch := range [][]store.User{clean, conflicting} {
		results, err := s.CreateUsers(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range results {
			conflict := &batch[0] == &conflicting[0] && (i == 17 || i == 250)
			if errors.Is(r, store.ErrConflict) != conflict || (r != nil && !conflict) {
				t.Fatalf("%s user %d: %v, want conflict=%v", batch[0].UserName, i, r, conflict)
			}
			got, err := s.GetUser(context.Background(), store.DefaultTenant, batch[i].ID, store.UserLoad{})
			if conflict {
				if !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("conflicting user %d was stored: %v", i, err)
				}
				continue
			}
			if err != nil || !reflect.DeepEqual(got, batch[i]) {
				t.Fatalf("user %d: %v\n got %+v\nwant %+v", i, err, got, batch[i])
			}
		}
	}
	_, total, err := s.ListUsers(context.Background(), store.DefaultTenant, store.Query{Limit: 1}, store.UserLoad{})
	if err != nil || total != 1+300+298 {
		t.Fatalf("total %d (%v), want %d", total, err, 1+300+298)
	}
	evs := mustEvents(t, s, store.AuditQuery{Actor: "csv-admin", Limit: 1000})
	if len(evs) != 300+298 {
		t.Fatalf("%d audit events, want one per user created (%d)", len(evs), 300+298)
	}
	for _, e := range evs {
		if e.Action != "create" || e.ResourceType != "User" || !reflect.DeepEqual(e.Attributes, []string{"userName"}) {
			t.Fatalf("audit event %+v", e)
		}
	}
	byMail, _, err := s.ListUsers(context.Background(), store.DefaultTenant, store.Query{Filter: mustFilter(t, `emails.value eq "mixed0299@home.test"`), Limit: 5}, store.UserLoad{})
	if err != nil || len(byMail) != 1 || byMail[0].ID != conflicting[299].ID {
		t.Fatalf("user by a copied email: %v %v", byMail, err)
	}
}

// mustFilter parses a filter on users.
func mustFilter(t *testing.T, f string) filter.Expr {
	t.Helper()
	expr, err := filter.Parse(schema.New().User, f)
	if err != nil {
		t.Fatal(err)
	}
	return expr
}

// largeBatch is n new users named prefix0000, prefix0001, ...
func largeBatch(prefix string, n int) []store.User {
	out := make([]store.User, n)
	for i := range out {
		out[i] = newUser(store.DefaultTenant, fmt.Sprintf("%s%04d", prefix, i))
	}
	return out
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
