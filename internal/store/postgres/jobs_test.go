package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/postgres"
	"github.com/scimbridge/scimbridge/internal/store/postgres/pgtest"
)

// TestClaimJobBesideAClaimInFlight stands a raw transaction in for a
// replica in the middle of claiming a tenant's committing job (its job
// row leased but not committed, the tenant's commit lock held): a claim
// beside it neither waits for it nor takes the tenant's other committing
// job, and still takes another tenant's. Once the first claim commits, its
// lease keeps the tenant's second commit waiting.
func TestClaimJobBesideAClaimInFlight(t *testing.T) {
	ctx := context.Background()
	st, conn := storeAndConn(t, pgtest.DSN(t))
	if err := st.CreateTenant(ctx, "acme", time.Now()); err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-time.Hour)
	j1 := createCommittingJob(t, st, store.DefaultTenant, base)
	createCommittingJob(t, st, store.DefaultTenant, base.Add(time.Second))
	k1 := createCommittingJob(t, st, "acme", base.Add(2*time.Second))

	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `UPDATE csv_jobs SET lease_owner = 'replica-2', lease_until = now() + interval '1 hour'
		WHERE tenant_id = $1 AND id = $2`, store.DefaultTenant, j1.ID); err != nil {
		t.Fatal(err)
	}
	var locked bool
	if err := tx.QueryRow(ctx, postgres.CommitLockSQL, store.DefaultTenant).Scan(&locked); err != nil || !locked {
		t.Fatalf("commit lock: %v, %v", locked, err)
	}
	// A claim that waited for the transaction would never return: bound it.
	claim := func() (store.Job, error) {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		return st.ClaimJob(cctx, "replica-1", time.Now(), time.Hour)
	}
	if got, err := claim(); err != nil || got.ID != k1.ID {
		t.Fatalf("claim beside the claim in flight = %s (%s), %v; want acme's %s", got.ID, got.TenantID, err, k1.ID)
	}
	if got, err := claim(); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("claim beside the claim in flight = %s (%s), %v; want none", got.ID, got.TenantID, err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := claim(); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("claim after the first commit was leased = %s (%s), %v; want none", got.ID, got.TenantID, err)
	}
}

func createCommittingJob(t *testing.T, st *postgres.Store, tenant string, created time.Time) store.Job {
	t.Helper()
	j := store.Job{ID: uuid.NewString(), TenantID: tenant, Kind: "import", Profile: "p", ProfileVersion: 1,
		State: store.JobCommitting, Created: created, Updated: created, Expires: created.Add(24 * time.Hour)}
	if err := st.CreateJob(context.Background(), j, strings.NewReader("userName\nann\n")); err != nil {
		t.Fatal(err)
	}
	return j
}
