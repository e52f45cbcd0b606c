package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/internal/store"
)

func auditCases() []testCase {
	return []testCase{
		{"AuditWrittenWithChanges", testAuditWritten},
		{"AuditNotWrittenForFailedChange", testAuditFailedChange},
		{"AuditQueryFilters", testAuditQuery},
	}
}

func audited(action, actor string) (context.Context, *store.AuditEvent) {
	e := &store.AuditEvent{Actor: actor, ActorKind: "provisioner", ActorTier: "support-tier-1-operations",
		Action: action, RequestID: "req-1", Source: "scim"}
	return store.WithAudit(context.Background(), e), e
}

func mustEvents(t *testing.T, s store.Store, q store.AuditQuery) []store.AuditEvent {
	t.Helper()
	evs, err := s.AuditEvents(context.Background(), store.DefaultTenant, q)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func testAuditWritten(t *testing.T, s store.Store) {
	ctx, _ := audited("create", "okta")
	u := newUser(store.DefaultTenant, "audited")
	if _, err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	ctx, tmpl := audited("patch", "okta")
	if _, err := s.UpdateUser(ctx, store.DefaultTenant, u.ID, func(x *store.User) error {
		tmpl.Attributes = []string{"displayName"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	g := newGroup(store.DefaultTenant, "g", u.ID)
	ctx, _ = audited("create", "entra")
	mustCreateGroup(t, s, g) // not audited: no template in its context
	if _, err := s.ModifyGroup(ctx, store.DefaultTenant, g.ID, store.MemberPatch{RemoveAll: true}, func(*store.Group, bool) error { return nil }); err != nil {
		t.Fatal(err)
	}
	ctx, _ = audited("delete", "okta")
	if err := s.DeleteUser(ctx, store.DefaultTenant, u.ID, 0); err != nil {
		t.Fatal(err)
	}
	evs := mustEvents(t, s, store.AuditQuery{})
	var got []string
	for _, e := range evs {
		got = append(got, e.Action+" "+e.ResourceType+" "+e.Actor)
		if e.TenantID != store.DefaultTenant || e.RequestID != "req-1" || e.Source != "scim" || e.ID == "" || e.At.IsZero() {
			t.Fatalf("event fields: %+v", e)
		}
	}
	want := []string{"delete User okta", "create Group entra", "patch User okta", "create User okta"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("events %v, want %v (newest first)", got, want)
	}
	if !reflect.DeepEqual(evs[2].Attributes, []string{"displayName"}) || !reflect.DeepEqual(evs[3].Attributes, []string{"userName"}) {
		t.Fatalf("attributes: patch %v, create %v", evs[2].Attributes, evs[3].Attributes)
	}
}

func testAuditFailedChange(t *testing.T, s store.Store) {
	u := mustCreateUser(t, s, newUser(store.DefaultTenant, "nochange"))
	ctx, _ := audited("patch", "okta")
	_, err := s.UpdateUser(ctx, store.DefaultTenant, u.ID, func(*store.User) error { return errStop })
	if !errors.Is(err, errStop) {
		t.Fatal(err)
	}
	ctx, _ = audited("create", "okta")
	if _, err := s.CreateUser(ctx, newUser(store.DefaultTenant, "NOCHANGE")); !errors.Is(err, store.ErrConflict) {
		t.Fatal(err)
	}
	if evs := mustEvents(t, s, store.AuditQuery{}); len(evs) != 0 {
		t.Fatalf("failed changes were audited: %+v", evs)
	}
}

func testAuditQuery(t *testing.T, s store.Store) {
	var ids []string
	for i, actor := range []string{"a", "b", "a"} {
		ctx, tmpl := audited("create", actor)
		tmpl.At = now.Add(time.Duration(i) * time.Hour)
		u := newUser(store.DefaultTenant, "q"+actor+string(rune('0'+i)))
		if _, err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	count := func(q store.AuditQuery) int { return len(mustEvents(t, s, q)) }
	if count(store.AuditQuery{Actor: "a"}) != 2 || count(store.AuditQuery{ResourceID: ids[1]}) != 1 ||
		count(store.AuditQuery{Since: now.Add(time.Hour)}) != 2 || count(store.AuditQuery{Until: now.Add(time.Hour)}) != 1 ||
		count(store.AuditQuery{Limit: 1}) != 1 || count(store.AuditQuery{Offset: 2}) != 1 {
		t.Fatal("audit query filters")
	}
}
