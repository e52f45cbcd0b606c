package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/internal/store"
)

func sessionCases() []testCase {
	return []testCase{
		{"SessionRoundTrip", testSessionRoundTrip},
		{"SessionExpiry", testSessionExpiry},
		{"SessionConflictAndUnknownTenant", testSessionConflict},
	}
}

func newSession(hash string, expires time.Time) store.Session {
	return store.Session{IDHash: hash, TenantID: store.DefaultTenant, Subject: "oidc:https://idp#alice", Kind: "person",
		Tier: "support-tier-2-software-partner", UserName: "alice@example.com", CSRF: "csrf-" + hash,
		Created: now, Expires: expires}
}

func testSessionRoundTrip(t *testing.T, s store.Store) {
	ctx := context.Background()
	want := newSession("h1", now.Add(time.Hour))
	want.CredentialHash = "cred-hash"
	if err := s.CreateSession(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := s.SessionByHash(ctx, "h1", now)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("session = %+v, want %+v", got, want)
	}
	_, err = s.SessionByHash(ctx, "h2", now)
	wantErr(t, err, store.ErrNotFound)
	if err := s.DeleteSession(ctx, "h1"); err != nil {
		t.Fatal(err)
	}
	_, err = s.SessionByHash(ctx, "h1", now)
	wantErr(t, err, store.ErrNotFound)
	if err := s.DeleteSession(ctx, "h1"); err != nil {
		t.Fatalf("deleting a deleted session: %v", err)
	}
}

func testSessionExpiry(t *testing.T, s store.Store) {
	ctx := context.Background()
	for i, h := range []string{"a", "b", "c"} {
		if err := s.CreateSession(ctx, newSession(h, now.Add(time.Duration(i+1)*time.Minute))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.SessionByHash(ctx, "a", now.Add(time.Minute-time.Microsecond)); err != nil {
		t.Fatalf("a session just before its expiry: %v", err)
	}
	_, err := s.SessionByHash(ctx, "a", now.Add(time.Minute))
	wantErr(t, err, store.ErrNotFound)
	n, err := s.DeleteExpiredSessions(ctx, now.Add(2*time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("DeleteExpiredSessions = %d, %v; want 2", n, err)
	}
	if _, err := s.SessionByHash(ctx, "c", now); err != nil {
		t.Fatalf("the unexpired session went too: %v", err)
	}
	_, err = s.SessionByHash(ctx, "a", now)
	wantErr(t, err, store.ErrNotFound)
}

func testSessionConflict(t *testing.T, s store.Store) {
	ctx := context.Background()
	if err := s.CreateSession(ctx, newSession("dup", now.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.CreateSession(ctx, newSession("dup", now.Add(time.Hour))), store.ErrConflict)
	other := newSession("x", now.Add(time.Hour))
	other.TenantID = "nope"
	wantErr(t, s.CreateSession(ctx, other), store.ErrNotFound)
}
