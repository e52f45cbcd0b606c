package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/postgres/pgtest"
)

// TestDeleteUserDeletesEmails: user_emails has no foreign key to users
// (migration 0016), so DeleteUser removes a user's email rows itself, and
// a delete refused for a stale version leaves them.
func TestDeleteUserDeletesEmails(t *testing.T) {
	ctx := context.Background()
	st, conn := storeAndConn(t, pgtest.DSN(t))
	now := time.Now().UTC()
	mk := func(name string) store.User {
		u := store.User{TenantID: store.DefaultTenant, ID: uuid.NewString(), UserName: name, Active: true,
			Emails: []store.Email{{Value: name + "@example.com", Type: "work", Primary: true}, {Value: name + "@home.test"}},
			Doc:    fmt.Appendf(nil, `{"userName":%q}`, name), Created: now, LastModified: now, Version: 1}
		if _, err := st.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		return u
	}
	gone, kept := mk("gone-"+uuid.NewString()[:8]), mk("kept-"+uuid.NewString()[:8])
	emails := func(id string) int {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM user_emails WHERE tenant_id = $1 AND user_id = $2`, store.DefaultTenant, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := st.DeleteUser(ctx, store.DefaultTenant, kept.ID, 7); !errors.Is(err, store.ErrVersionMismatch) {
		t.Fatalf("stale delete: %v", err)
	}
	if err := st.DeleteUser(ctx, store.DefaultTenant, gone.ID, 1); err != nil {
		t.Fatal(err)
	}
	if n := emails(gone.ID); n != 0 {
		t.Errorf("%d email rows left of a deleted user", n)
	}
	if n := emails(kept.ID); n != 2 {
		t.Errorf("a refused delete left %d email rows, want 2", n)
	}
}
