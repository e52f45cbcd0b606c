package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/filter"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

// RefoldSeed describes the rows a backend's upgrade test writes, with the
// normalised columns of the old rule (strings.ToLower), before migration
// store.RefoldMigration: users "ſam" (email "ſam@x.com") and "İYİ" in the
// default tenant, group "ſales".
var RefoldSeed = struct {
	Users  [][2]string // id, userName
	Email  [2]string   // user id, value
	Group  [2]string   // id, displayName
	Lowers func(string) string
}{
	Users:  [][2]string{{"u-sam", "ſam"}, {"u-iyi", "İYİ"}},
	Email:  [2]string{"u-sam", "ſam@x.com"},
	Group:  [2]string{"g-sales", "ſales"},
	Lowers: strings.ToLower,
}

// CheckRefolded checks a store upgraded from RefoldSeed: every normalised
// column now follows schema.Fold, so "SAM", "SAM@X.COM" and "SALES" find
// the seeded rows, "sam" is taken and "iyi" is free.
func CheckRefolded(t *testing.T, s store.Store) {
	t.Helper()
	ctx := context.Background()
	reg := schema.New()
	for f, want := range map[string]string{`userName eq "SAM"`: "u-sam", `emails.value eq "SAM@X.COM"`: "u-sam", `userName eq "İyİ"`: "u-iyi"} {
		e, err := filter.Parse(reg.User, f)
		if err != nil {
			t.Fatal(err)
		}
		users, _, err := s.ListUsers(ctx, store.DefaultTenant, store.Query{Filter: e, Limit: 5}, store.UserLoad{})
		if err != nil || len(users) != 1 || users[0].ID != want {
			t.Errorf("%s: %v (%v), want %s", f, users, err, want)
		}
	}
	e, err := filter.Parse(reg.Group, `displayName eq "SALES"`)
	if err != nil {
		t.Fatal(err)
	}
	groups, _, err := s.ListGroups(ctx, store.DefaultTenant, store.Query{Filter: e, Limit: 5}, store.GroupLoad{})
	if err != nil || len(groups) != 1 {
		t.Errorf("group displayName eq SALES: %v (%v)", groups, err)
	}
	if _, err := s.CreateUser(ctx, newUser(store.DefaultTenant, "sam")); !errors.Is(err, store.ErrConflict) {
		t.Errorf(`create "sam" beside "ſam": %v, want ErrConflict`, err)
	}
	mustCreateUser(t, s, newUser(store.DefaultTenant, "iyi"))
}

// CheckRefoldRefused checks the error of a migration that found users of
// one tenant whose userNames fold alike ("ſam" and "sam").
func CheckRefoldRefused(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), `"ſam"`) || !strings.Contains(err.Error(), `"sam"`) ||
		!strings.Contains(err.Error(), "rename") {
		t.Fatalf("migration over colliding userNames: %v, want a conflict naming both users and what to do", err)
	}
}

// testUserNameFolding: userNames equal under schema.Fold conflict; "İYİ"
// and "iyi" do not.
func testUserNameFolding(t *testing.T, s store.Store) {
	for _, pair := range [][2]string{{"ſam", "SAM"}, {"ΣΟΦΟΣ", "σοφος"}, {"\u212Aelvin", "kelvin"}} {
		mustCreateUser(t, s, newUser(store.DefaultTenant, pair[0]))
		_, err := s.CreateUser(context.Background(), newUser(store.DefaultTenant, pair[1]))
		wantErr(t, err, store.ErrConflict)
	}
	mustCreateUser(t, s, newUser(store.DefaultTenant, "İYİ"))
	mustCreateUser(t, s, newUser(store.DefaultTenant, "iyi"))
}

// testUpdateUserUnchanged: fn returning ErrUnchanged writes nothing and
// returns the user as read.
func testUpdateUserUnchanged(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := mustCreateUser(t, s, newUser(store.DefaultTenant, "same"))
	got, err := s.UpdateUser(ctx, store.DefaultTenant, u.ID, func(x *store.User) error {
		x.DisplayName = "not written"
		return store.ErrUnchanged
	})
	if err != nil || got.Version != u.Version || got.ID != u.ID {
		t.Fatalf("UpdateUser with ErrUnchanged: version %d, err %v; want version %d, nil", got.Version, err, u.Version)
	}
	again, err := s.GetUser(ctx, store.DefaultTenant, u.ID, store.UserLoad{})
	if err != nil || again.Version != u.Version || again.DisplayName != u.DisplayName {
		t.Fatalf("after ErrUnchanged: %+v, %v", again, err)
	}
}
