package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/migrations"
)

// migrationLockKey is the pg_advisory_lock key that serializes migration
// runs across processes sharing a database ("scimmig1" in ASCII).
const migrationLockKey int64 = 0x7363696d6d696731

// Migrate applies pending migrations, each in its own transaction and
// recorded in schema_migrations. The whole run holds a session advisory lock
// on one connection, so concurrent callers wait and then find nothing to do.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := migrations.For("postgres")
	if err != nil {
		return err
	}
	return s.withMigrationLock(ctx, func(conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			name TEXT PRIMARY KEY, applied TIMESTAMPTZ NOT NULL)`)
		if err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		for _, m := range ms {
			if err := apply(ctx, conn, m); err != nil {
				return err
			}
		}
		return nil
	})
}

// withMigrationLock runs fn on a dedicated connection holding the migration
// advisory lock.
func (s *Store) withMigrationLock(ctx context.Context, fn func(*pgx.Conn) error) error {
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: acquire connection: %w", err)
	}
	if _, err := c.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLockKey); err != nil {
		c.Release()
		return fmt.Errorf("migrate: take lock: %w", err)
	}
	err = fn(c.Conn())
	return errors.Join(err, unlock(ctx, c))
}

// unlock releases the advisory lock and returns c to the pool. If the unlock
// fails the connection is closed instead, which ends the session and so
// releases the lock too.
func unlock(ctx context.Context, c *pgxpool.Conn) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := c.Exec(ctx, `SELECT pg_advisory_unlock($1)`, migrationLockKey); err != nil {
		_ = c.Hijack().Close(ctx)
		return fmt.Errorf("migrate: release lock: %w", err)
	}
	c.Release()
	return nil
}

// apply runs one migration unless schema_migrations already records it.
func apply(ctx context.Context, conn *pgx.Conn, m migrations.Migration) error {
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		var done bool
		err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE name = $1)`, m.Name).Scan(&done)
		if err != nil {
			return fmt.Errorf("check migration %s: %w", m.Name, err)
		}
		if done {
			return nil
		}
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("apply migration %s: %w", m.Name, err)
		}
		if m.Name == store.RefoldMigration {
			if err := refold(ctx, tx); err != nil {
				return fmt.Errorf("apply migration %s: %w", m.Name, err)
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO schema_migrations (name, applied) VALUES ($1, now())`, m.Name)
		if err != nil {
			return fmt.Errorf("record migration %s: %w", m.Name, err)
		}
		return nil
	})
}
