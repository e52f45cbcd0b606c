// Package storetest is the conformance suite every store backend runs. Each
// case gets a fresh, empty, migrated store from the backend's open function,
// so cases are independent and may run in any order.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/scimbridge/scimbridge/internal/store"
)

// Opener returns a fresh, empty, migrated store; the backend's test closes
// and removes it on cleanup.
type Opener func(t *testing.T) store.Store

type testCase struct {
	name string
	run  func(t *testing.T, s store.Store)
}

// Run executes every conformance case against stores made by open.
func Run(t *testing.T, open Opener) {
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, open(t))
		})
	}
}

func cases() []testCase {
	var all []testCase
	all = append(all, userCases()...)
	all = append(all, groupCases()...)
	all = append(all, credentialCases()...)
	all = append(all, modifyCases()...)
	all = append(all, batchCases()...)
	all = append(all, updateUsersCases()...)
	all = append(all, auditCases()...)
	all = append(all, filterCases()...)
	all = append(all, jobCases()...)
	all = append(all, photoCases()...)
	all = append(all, sessionCases()...)
	all = append(all, settingsCases()...)
	all = append(all, csvProfileCases()...)
	all = append(all, outboxCases()...)
	return all
}

// now is a fixed, microsecond-precision clock so round trips compare equal.
var now = time.Date(2026, 11, 22, 10, 0, 0, 123456000, time.UTC)

func newUser(tenant, name string) store.User {
	return store.User{
		TenantID: tenant, ID: uuid.NewString(), UserName: name, DisplayName: "Display " + name,
		ExternalID: "ext-" + name, Active: true, Tier: "support-tier-1-operations",
		Emails:  []store.Email{{Value: name + "@Example.com", Type: "work", Primary: true}, {Value: name + "@home.test", Type: "home"}},
		Doc:     []byte(fmt.Sprintf(`{"userName":%q}`, name)),
		Created: now, LastModified: now, Version: 1,
	}
}

func newGroup(tenant, name string, members ...string) store.Group {
	g := store.Group{
		TenantID: tenant, ID: uuid.NewString(), DisplayName: name, ExternalID: "ext-" + name,
		Doc: []byte(fmt.Sprintf(`{"displayName":%q}`, name)), Created: now, LastModified: now, Version: 1,
	}
	for _, m := range members {
		g.Members = append(g.Members, store.Member{ID: m})
	}
	return g
}

func mustCreateUser(t *testing.T, s store.Store, u store.User) store.User {
	t.Helper()
	got, err := s.CreateUser(context.Background(), u)
	if err != nil {
		t.Fatalf("CreateUser(%s): %v", u.UserName, err)
	}
	return got
}

func mustCreateGroup(t *testing.T, s store.Store, g store.Group) store.Group {
	t.Helper()
	got, err := s.CreateGroup(context.Background(), g)
	if err != nil {
		t.Fatalf("CreateGroup(%s): %v", g.DisplayName, err)
	}
	return got
}

func mustCreateTenant(t *testing.T, s store.Store, id string) {
	t.Helper()
	if err := s.CreateTenant(context.Background(), id, now); err != nil {
		t.Fatalf("CreateTenant(%s): %v", id, err)
	}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}

func memberIDs(ms []store.Member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// CheckUserTotals checks the total of an unfiltered user list of each
// tenant, listing with a full page so that the total is counted rather
// than read off the page.
func CheckUserTotals(t *testing.T, s store.Store, want map[string]int) {
	t.Helper()
	for tenant, n := range want {
		_, total, err := s.ListUsers(context.Background(), tenant, store.Query{Limit: 1}, store.UserLoad{})
		if err != nil || total != n {
			t.Errorf("%s: total %d (%v), want %d", tenant, total, err, n)
		}
	}
}
