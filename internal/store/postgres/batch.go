package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/scimbridge/scimbridge/internal/store"
)

// CreateUsers inserts users, their emails and their audit events with
// one statement each, however large the batch. A batch of copyMin users or
// more is sent with COPY, which costs PostgreSQL about a third less than
// INSERT ... SELECT FROM unnest (no arrays to unpack, no executor row per
// element); COPY has no ON CONFLICT, so when one of the users turns out to
// be taken (a race the caller's checks could not see), the COPY is rolled
// back to a savepoint and the batch inserted with ON CONFLICT DO NOTHING,
// which tells which ones conflict.
func (s *Store) CreateUsers(ctx context.Context, users []store.User) ([]error, error) {
	results := make([]error, len(users))
	if len(users) == 0 {
		return results, nil
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		ok, err := insertUserBatch(ctx, tx, users, results)
		if err != nil {
			return err
		}
		if err := insertEmailRows(ctx, tx, ok); err != nil {
			return err
		}
		if err := insertOutbox(ctx, tx, ok); err != nil {
			return err
		}
		return writeUserAudits(ctx, tx, ok)
	})
	return results, err
}

// copyMin is the smallest batch CreateUsers copies: COPY takes two more
// round trips than an INSERT (the columns' types, and the savepoint), which
// a few rows do not repay.
const copyMin = 64

// insertUserBatch inserts the user rows and returns the users inserted;
// results gets a conflict for each one whose userName was taken.
func insertUserBatch(ctx context.Context, tx pgx.Tx, users []store.User, results []error) ([]store.User, error) {
	if len(users) >= copyMin {
		err := copyUserRows(ctx, tx, users)
		if err == nil {
			return users, nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return nil, err
		}
	}
	inserted, err := insertUserRows(ctx, tx, users)
	if err != nil {
		return nil, err
	}
	var ok []store.User
	for i, u := range users {
		if inserted[u.ID] {
			ok = append(ok, u)
		} else {
			results[i] = fmt.Errorf("%w: userName %q", store.ErrConflict, u.UserName)
		}
	}
	return ok, nil
}

// userCopyColumns are the columns copyUserRows writes, in userRow's order.
var userCopyColumns = []string{"tenant_id", "id", "user_name", "user_name_norm", "external_id", "display_name",
	"active", "created", "last_modified", "version", "doc", "tier"}

// copyUserRows copies the user rows inside a savepoint: on any error the
// transaction is as it was before, and a taken userName (or id) is
// store.ErrConflict.
func copyUserRows(ctx context.Context, tx pgx.Tx, users []store.User) error {
	rows := pgx.CopyFromSlice(len(users), func(i int) ([]any, error) {
		u := &users[i]
		return []any{u.TenantID, u.ID, u.UserName, store.NormalizeUserName(u.UserName), nullIfEmpty(u.ExternalID),
			nullIfEmpty(u.DisplayName), u.Active, u.Created, u.LastModified, u.Version, json.RawMessage(u.Doc), string(u.Tier)}, nil
	})
	return copyInSavepoint(ctx, tx, "copy users", copyInto{"users", userCopyColumns, rows})
}

// copyInto is one COPY: a table, its columns and the rows.
type copyInto struct {
	table   string
	columns []string
	rows    pgx.CopyFromSource
}

// copyInSavepoint runs the copies inside a savepoint of tx, rolled back
// when one fails (the transaction stays usable, as before the copies);
// the error is translated (a unique violation is store.ErrConflict) and
// prefixed with what.
func copyInSavepoint(ctx context.Context, tx pgx.Tx, what string, copies ...copyInto) error {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return fmt.Errorf("%s: savepoint: %w", what, translate(err))
	}
	for _, c := range copies {
		if _, err := sp.CopyFrom(ctx, pgx.Identifier{c.table}, c.columns, c.rows); err != nil {
			_ = sp.Rollback(ctx)
			return fmt.Errorf("%s: %w", what, translate(err))
		}
	}
	if err := sp.Commit(ctx); err != nil {
		return fmt.Errorf("%s: release savepoint: %w", what, translate(err))
	}
	return nil
}

func insertUserRows(ctx context.Context, tx pgx.Tx, users []store.User) (map[string]bool, error) {
	n := len(users)
	ids, names, norms, exts, disps := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	tiers := make([]string, n)
	active, versions := make([]bool, n), make([]int64, n)
	created, modified := make([]any, n), make([]any, n)
	docs := make([]json.RawMessage, n)
	for i, u := range users {
		ids[i], names[i], norms[i], exts[i], disps[i] = u.ID, u.UserName, store.NormalizeUserName(u.UserName), u.ExternalID, u.DisplayName
		active[i], versions[i], created[i], modified[i], docs[i] = u.Active, u.Version, u.Created, u.LastModified, u.Doc
		tiers[i] = string(u.Tier)
	}
	rows, err := tx.Query(ctx, `INSERT INTO users (tenant_id, id, user_name, user_name_norm, external_id, display_name,
			active, created, last_modified, version, doc, tier)
		SELECT $1, u.id, u.name, u.norm, nullif(u.ext, ''), nullif(u.disp, ''), u.active, u.created, u.modified, u.version, u.doc, u.tier
		FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::boolean[],
			$8::timestamptz[], $9::timestamptz[], $10::bigint[], $11::json[], $12::text[])
			AS u(id, name, norm, ext, disp, active, created, modified, version, doc, tier)
		ON CONFLICT DO NOTHING RETURNING id`,
		users[0].TenantID, ids, names, norms, exts, disps, active, created, modified, versions, docs, tiers)
	if err != nil {
		return nil, fmt.Errorf("insert users: %w", translate(err))
	}
	out := make(map[string]bool, n)
	var id string
	_, err = pgx.ForEachRow(rows, []any{&id}, func() error { out[id] = true; return nil })
	if err != nil {
		return nil, fmt.Errorf("insert users: %w", translate(err))
	}
	return out, nil
}

func insertEmailRows(ctx context.Context, tx pgx.Tx, users []store.User) error {
	if len(users) >= copyMin {
		return copyEmailRows(ctx, tx, users)
	}
	sql, args, ok := emailRowsInsert(users)
	if !ok {
		return nil
	}
	if _, err := tx.Exec(ctx, sql, args...); err != nil {
		return fmt.Errorf("insert user emails: %w", translate(err))
	}
	return nil
}

// emailCopyColumns are the columns copyEmailRows writes.
var emailCopyColumns = []string{"tenant_id", "user_id", "ord", "value", "value_norm", "type", "is_primary"}

// copyEmailRows copies the email rows of new users (their keys are new:
// nothing can conflict).
func copyEmailRows(ctx context.Context, tx pgx.Tx, users []store.User) error {
	var rows [][]any
	for _, u := range users {
		for j, e := range u.Emails {
			rows = append(rows, []any{u.TenantID, u.ID, int32(j), e.Value, store.NormalizeUserName(e.Value), nullIfEmpty(e.Type), e.Primary})
		}
	}
	if len(rows) == 0 {
		return nil
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"user_emails"}, emailCopyColumns, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("copy user emails: %w", translate(err))
	}
	return nil
}

// emailRowsInsert is the statement that inserts the email rows of users
// (all of one tenant), and its arguments; false when they have none.
func emailRowsInsert(users []store.User) (string, []any, bool) {
	var uids, values, norms, types []string
	var ords []int32
	var primary []bool
	for _, u := range users {
		for j, e := range u.Emails {
			uids, ords = append(uids, u.ID), append(ords, int32(j))
			values, norms, types = append(values, e.Value), append(norms, store.NormalizeUserName(e.Value)), append(types, e.Type)
			primary = append(primary, e.Primary)
		}
	}
	if len(uids) == 0 {
		return "", nil, false
	}
	return `INSERT INTO user_emails (tenant_id, user_id, ord, value, value_norm, type, is_primary)
		SELECT $1, e.uid, e.ord, e.value, e.norm, nullif(e.type, ''), e.is_primary
		FROM unnest($2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::boolean[]) AS e(uid, ord, value, norm, type, is_primary)`,
		[]any{users[0].TenantID, uids, ords, values, norms, types, primary}, true
}

// writeUserAudits records the creation of many users with one statement.
func writeUserAudits(ctx context.Context, tx pgx.Tx, users []store.User) error {
	var events []store.AuditEvent
	for _, u := range users {
		if e, ok := store.AuditFor(ctx, u.TenantID, "User", u.ID, u.Doc, uuid.NewString); ok {
			events = append(events, e)
		}
	}
	if len(events) == 0 {
		return nil
	}
	if len(events) >= copyMin {
		return copyAudits(ctx, tx, events)
	}
	n := len(events)
	ids, rids, attrs := make([]string, n), make([]string, n), make([]string, n)
	for i, e := range events {
		ids[i], rids[i], attrs[i] = e.ID, e.ResourceID, strings.Join(e.Attributes, ",")
	}
	e := events[0]
	_, err := tx.Exec(ctx, `INSERT INTO audit_events (tenant_id, id, at, actor, actor_kind, actor_tier, action,
		resource_type, resource_id, request_id, source, attributes)
		SELECT $1, a.id, $2, $3, $4, $5, $6, 'User', a.rid, $7, $8, a.attrs
		FROM unnest($9::text[], $10::text[], $11::text[]) AS a(id, rid, attrs)`,
		e.TenantID, e.At, e.Actor, e.ActorKind, e.ActorTier, e.Action, e.RequestID, e.Source, ids, rids, attrs)
	if err != nil {
		return fmt.Errorf("write audit events: %w", translate(err))
	}
	return nil
}

// copyAudits copies audit events (new ids: nothing can conflict).
func copyAudits(ctx context.Context, tx pgx.Tx, events []store.AuditEvent) error {
	rows := pgx.CopyFromSlice(len(events), func(i int) ([]any, error) { return auditArgs(events[i]), nil })
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"audit_events"}, auditColumns, rows); err != nil {
		return fmt.Errorf("copy audit events: %w", translate(err))
	}
	return nil
}
