package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/scimbridge/scimbridge/internal/store"
)

func outboxCases() []testCase {
	return []testCase{
		{"OutboxWrittenWithUser", testOutboxWithUser},
		{"OutboxNotWrittenWithoutUser", testOutboxConflict},
		{"OutboxClaimLeaseAndFinish", testOutboxClaim},
		{"OutboxRetryAndGiveUp", testOutboxRetry},
		{"OutboxConcurrentClaimsNeverShare", testOutboxConcurrentClaims},
		{"OutboxListPages", testOutboxList},
	}
}

func welcome(to string) store.OutboxMessage {
	return store.OutboxMessage{Kind: "account-created", To: to, From: "admin@example.com", Subject: "Welcome", Body: "Sign in at https://x"}
}

func userWithMail(tenant, name string) store.User {
	u := newUser(tenant, name)
	u.Outbox = []store.OutboxMessage{welcome(name + "@example.com")}
	return u
}

func listOutbox(t *testing.T, s store.Store, tenant string) []store.OutboxMessage {
	t.Helper()
	got, err := s.ListOutbox(context.Background(), tenant, store.OutboxQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func testOutboxWithUser(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := mustCreateUser(t, s, userWithMail(store.DefaultTenant, "alice"))
	batch := []store.User{userWithMail(store.DefaultTenant, "bob"), newUser(store.DefaultTenant, "carol")}
	if res, err := s.CreateUsers(ctx, batch); err != nil || res[0] != nil || res[1] != nil {
		t.Fatalf("CreateUsers: %v %v", res, err)
	}
	got := listOutbox(t, s, store.DefaultTenant)
	if len(got) != 2 {
		t.Fatalf("outbox has %d messages, want 2 (alice, bob): %+v", len(got), got)
	}
	byUser := map[string]store.OutboxMessage{}
	for _, m := range got {
		byUser[m.UserID] = m
	}
	a, ok := byUser[u.ID]
	if !ok || a.TenantID != store.DefaultTenant || a.To != "alice@example.com" || a.State != store.OutboxPending ||
		a.Kind != "account-created" || a.Subject != "Welcome" || a.From != "admin@example.com" || a.ID == "" || !a.Created.Equal(now) {
		t.Fatalf("alice's message = %+v", a)
	}
	if _, ok := byUser[batch[0].ID]; !ok {
		t.Fatalf("no message for bob: %+v", got)
	}
	if len(listOutbox(t, s, "other")) != 0 {
		t.Fatal("another tenant sees messages")
	}
	if r, err := s.GetUser(ctx, store.DefaultTenant, u.ID, store.UserLoad{}); err != nil || r.Outbox != nil {
		t.Fatalf("GetUser: Outbox %v, %v; want nil", r.Outbox, err)
	}
}

func testOutboxConflict(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustCreateUser(t, s, newUser(store.DefaultTenant, "alice"))
	if _, err := s.CreateUser(ctx, userWithMail(store.DefaultTenant, "ALICE")); err == nil {
		t.Fatal("duplicate userName created")
	}
	res, err := s.CreateUsers(ctx, []store.User{userWithMail(store.DefaultTenant, "Alice"), userWithMail(store.DefaultTenant, "dave")})
	if err != nil || res[0] == nil || res[1] != nil {
		t.Fatalf("CreateUsers: %v %v; want the first refused", res, err)
	}
	got := listOutbox(t, s, store.DefaultTenant)
	if len(got) != 1 || got[0].To != "dave@example.com" {
		t.Fatalf("outbox = %+v, want only dave's message", got)
	}
}

func testOutboxClaim(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustCreateUser(t, s, userWithMail(store.DefaultTenant, "alice"))
	claimed, err := s.ClaimOutbox(ctx, "w1", now, time.Minute, 10)
	if err != nil || len(claimed) != 1 || claimed[0].LeaseOwner != "w1" || !claimed[0].LeaseUntil.Equal(now.Add(time.Minute)) {
		t.Fatalf("claim = %+v, %v", claimed, err)
	}
	m := claimed[0]
	if again, err := s.ClaimOutbox(ctx, "w2", now.Add(30*time.Second), time.Minute, 10); err != nil || len(again) != 0 {
		t.Fatalf("claim under a live lease = %+v, %v; want none", again, err)
	}
	stolen, err := s.ClaimOutbox(ctx, "w2", now.Add(2*time.Minute), time.Minute, 10)
	if err != nil || len(stolen) != 1 {
		t.Fatalf("claim after the lease expired = %+v, %v", stolen, err)
	}
	at := now.Add(2*time.Minute + time.Second)
	wantErr(t, s.FinishOutbox(ctx, m.TenantID, m.ID, "w1", store.OutboxResult{Sent: true, At: at}), store.ErrLeaseLost)
	wantErr(t, s.FinishOutbox(ctx, m.TenantID, uuid.NewString(), "w2", store.OutboxResult{Sent: true, At: at}), store.ErrNotFound)
	if err := s.FinishOutbox(ctx, m.TenantID, m.ID, "w2", store.OutboxResult{Sent: true, At: at}); err != nil {
		t.Fatal(err)
	}
	got := listOutbox(t, s, store.DefaultTenant)[0]
	if got.State != store.OutboxSent || got.SentAt == nil || !got.SentAt.Equal(at) || got.LeaseOwner != "" {
		t.Fatalf("after sending: %+v", got)
	}
	if again, err := s.ClaimOutbox(ctx, "w3", now.Add(time.Hour), time.Minute, 10); err != nil || len(again) != 0 {
		t.Fatalf("a sent message was claimed again: %+v, %v", again, err)
	}
	wantErr(t, s.FinishOutbox(ctx, m.TenantID, m.ID, "w2", store.OutboxResult{Sent: true, At: at}), store.ErrLeaseLost)
}

func testOutboxRetry(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustCreateUser(t, s, userWithMail(store.DefaultTenant, "alice"))
	claim := func(at time.Time) []store.OutboxMessage {
		t.Helper()
		got, err := s.ClaimOutbox(ctx, "w", at, time.Minute, 10)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	m := claim(now)[0]
	retry := now.Add(10 * time.Minute)
	if err := s.FinishOutbox(ctx, m.TenantID, m.ID, "w", store.OutboxResult{At: now.Add(time.Second), Error: "421 busy", RetryAt: retry}); err != nil {
		t.Fatal(err)
	}
	if got := claim(now.Add(5 * time.Minute)); len(got) != 0 {
		t.Fatalf("claimed before its retry time: %+v", got)
	}
	got := claim(retry)
	if len(got) != 1 || got[0].Attempts != 1 || got[0].LastError != "421 busy" || got[0].State != store.OutboxPending {
		t.Fatalf("retry claim = %+v", got)
	}
	if err := s.FinishOutbox(ctx, m.TenantID, m.ID, "w", store.OutboxResult{At: retry, Error: "550 no such user", GiveUp: true}); err != nil {
		t.Fatal(err)
	}
	if got := claim(now.Add(time.Hour)); len(got) != 0 {
		t.Fatalf("a failed message was claimed: %+v", got)
	}
	final := listOutbox(t, s, store.DefaultTenant)[0]
	if final.State != store.OutboxFailed || final.Attempts != 2 || final.LastError != "550 no such user" {
		t.Fatalf("after giving up: %+v", final)
	}
}

// testOutboxConcurrentClaims: claimers racing over many messages never get
// the same message, and together get every one.
func testOutboxConcurrentClaims(t *testing.T, s store.Store) {
	ctx := context.Background()
	const n = 40
	users := make([]store.User, n)
	for i := range users {
		users[i] = userWithMail(store.DefaultTenant, "racer"+uuid.NewString()[:8])
	}
	if _, err := s.CreateUsers(ctx, users); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]string{}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := string(rune('a' + w))
			for {
				got, err := s.ClaimOutbox(ctx, owner, now, time.Hour, 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, m := range got {
					if prev, dup := seen[m.ID]; dup {
						t.Errorf("message %s claimed by %s and %s", m.ID, prev, owner)
					}
					seen[m.ID] = owner
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("%d messages claimed, want %d", len(seen), n)
	}
}

func testOutboxList(t *testing.T, s store.Store) {
	ctx := context.Background()
	for i := range 5 {
		u := userWithMail(store.DefaultTenant, "u"+string(rune('a'+i)))
		u.Created = now.Add(time.Duration(i) * time.Second)
		mustCreateUser(t, s, u)
	}
	p1, err := s.ListOutbox(ctx, store.DefaultTenant, store.OutboxQuery{Limit: 3})
	if err != nil || len(p1) != 3 || p1[0].To != "ue@example.com" || p1[2].To != "uc@example.com" {
		t.Fatalf("page 1 = %+v, %v", p1, err)
	}
	p2, err := s.ListOutbox(ctx, store.DefaultTenant, store.OutboxQuery{Limit: 3, Before: p1[2].ID})
	if err != nil || len(p2) != 2 || p2[0].To != "ub@example.com" || p2[1].To != "ua@example.com" {
		t.Fatalf("page 2 = %+v, %v", p2, err)
	}
	sent, err := s.ListOutbox(ctx, store.DefaultTenant, store.OutboxQuery{Limit: 3, State: store.OutboxSent})
	if err != nil || len(sent) != 0 {
		t.Fatalf("sent = %+v, %v", sent, err)
	}
}
