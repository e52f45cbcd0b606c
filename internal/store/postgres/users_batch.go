package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/scimbridge/scimbridge/internal/store"
)

// lockUsersSQL reads and locks users by id, with their emails and groups,
// in id order (concurrent calls lock shared rows in the same order).
var lockUsersSQL = `SELECT ` + userReadColumns(store.UserLoad{Groups: true}) +
	` FROM users r WHERE tenant_id = $1 AND id = ANY($2) ORDER BY id FOR NO KEY UPDATE`

// userChange is a user fn changed in UpdateUsers, with its audit event.
type userChange struct {
	i       int // index in the call's ids
	u       store.User
	ev      *store.AuditEvent
	oldNorm string
}

// UpdateUsers reads and locks the users with one statement, calls fn for
// each, then writes the changed ones with one UPDATE ... FROM unnest, one
// DELETE and one INSERT of their emails and one INSERT of their audit
// events, sent with the COMMIT as one pipelined batch: two round trips,
// three when a user is renamed (the new userNames' holders are read).
func (s *Store) UpdateUsers(ctx context.Context, tenant string, ids []string, fn func(int, *store.User) (*store.AuditEvent, error)) ([]store.UserUpdate, error) {
	out := make([]store.UserUpdate, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	if err := store.CheckDistinctIDs(ids); err != nil {
		return nil, err
	}
	err := s.pipeline(ctx, func(p *pipeTx) error {
		found, err := lockUsers(ctx, p, tenant, ids)
		if err != nil {
			return err
		}
		changes := runUpdates(tenant, ids, found, fn, out)
		if changes, err = dropRenameConflicts(ctx, p, tenant, found, changes, out); err != nil {
			return err
		}
		b := &pgx.Batch{}
		queueWriteUsers(b, tenant, changes)
		if err := p.send(ctx, b, true); err != nil {
			return fmt.Errorf("update users: %w", translate(err))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// lockUsers reads and locks the tenant's users among ids, by id.
func lockUsers(ctx context.Context, p *pipeTx, tenant string, ids []string) (map[string]store.User, error) {
	found := make(map[string]store.User, len(ids))
	load := store.UserLoad{Groups: true}
	b := &pgx.Batch{}
	b.Queue(lockUsersSQL, tenant, ids).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			u, err := scanUserWithEmails(tenant, load, rows)
			if err != nil {
				return err
			}
			found[u.ID] = u
		}
		return rows.Err()
	})
	if err := p.send(ctx, b, false); err != nil {
		return nil, fmt.Errorf("lock users: %w", translate(err))
	}
	return found, nil
}

// runUpdates calls fn for each user found, in the order of ids, filling
// out for the users that fail, are unknown or do not change, and returns
// the changes to write, in the same order.
func runUpdates(tenant string, ids []string, found map[string]store.User, fn func(int, *store.User) (*store.AuditEvent, error), out []store.UserUpdate) []userChange {
	var changes []userChange
	for i, id := range ids {
		u, ev, outcome, ok := store.JudgeUpdate(i, id, found, fn)
		if !ok {
			out[i] = outcome
			continue
		}
		u.TenantID, u.ID, u.Version = tenant, id, u.Version+1
		out[i].User = u
		changes = append(changes, userChange{i: i, u: u, ev: ev, oldNorm: store.NormalizeUserName(found[id].UserName)})
	}
	return changes
}

// dropRenameConflicts judges the renames among changes as if the users
// were written one after another: a new userName held by a user outside
// the call, or by a user of the call that keeps it at that point, is a
// conflict; that user gets ErrConflict and is not written.
func dropRenameConflicts(ctx context.Context, p *pipeTx, tenant string, found map[string]store.User, changes []userChange, out []store.UserUpdate) ([]userChange, error) {
	var names []string
	for _, c := range changes {
		if n := store.NormalizeUserName(c.u.UserName); n != c.oldNorm {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return changes, nil
	}
	held, err := nameHolders(ctx, p, tenant, names)
	if err != nil {
		return nil, err
	}
	for _, u := range found {
		held[store.NormalizeUserName(u.UserName)] = u.ID
	}
	kept := changes[:0]
	for _, c := range changes {
		n := store.NormalizeUserName(c.u.UserName)
		if h, ok := held[n]; ok && h != c.u.ID {
			out[c.i] = store.UserUpdate{Err: fmt.Errorf("%w: userName %q", store.ErrConflict, c.u.UserName)}
			continue
		}
		if held[c.oldNorm] == c.u.ID {
			delete(held, c.oldNorm)
		}
		held[n] = c.u.ID
		kept = append(kept, c)
	}
	return kept, nil
}

// nameHolders maps each of the normalised userNames held in the tenant to
// its holder's id.
func nameHolders(ctx context.Context, p *pipeTx, tenant string, norms []string) (map[string]string, error) {
	rows, err := p.Query(ctx, `SELECT user_name_norm, id FROM users WHERE tenant_id = $1 AND user_name_norm = ANY($2)`, tenant, norms)
	if err != nil {
		return nil, fmt.Errorf("userName holders: %w", translate(err))
	}
	held := map[string]string{}
	var norm, id string
	if _, err := pgx.ForEachRow(rows, []any{&norm, &id}, func() error { held[norm] = id; return nil }); err != nil {
		return nil, fmt.Errorf("userName holders: %w", translate(err))
	}
	return held, nil
}

// queueWriteUsers queues the set-based writes of the changed users: their
// columns, their email rows (replaced) and their audit events.
func queueWriteUsers(b *pgx.Batch, tenant string, changes []userChange) {
	if len(changes) == 0 {
		return
	}
	n := len(changes)
	ids, names, norms, exts, disps, tiers := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	active, versions, modified := make([]bool, n), make([]int64, n), make([]any, n)
	docs := make([]json.RawMessage, n)
	users := make([]store.User, n)
	for i, c := range changes {
		u := c.u
		ids[i], names[i], norms[i], exts[i], disps[i], tiers[i] = u.ID, u.UserName, store.NormalizeUserName(u.UserName), u.ExternalID, u.DisplayName, string(u.Tier)
		active[i], versions[i], modified[i], docs[i], users[i] = u.Active, u.Version, u.LastModified, u.Doc, u
	}
	b.Queue(`UPDATE users SET user_name = v.name, user_name_norm = v.norm, external_id = nullif(v.ext, ''),
			display_name = nullif(v.disp, ''), active = v.active, tier = v.tier, last_modified = v.modified,
			version = v.version, doc = v.doc
		FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::boolean[], $8::text[],
			$9::timestamptz[], $10::bigint[], $11::json[]) AS v(id, name, norm, ext, disp, active, tier, modified, version, doc)
		WHERE users.tenant_id = $1 AND users.id = v.id`,
		tenant, ids, names, norms, exts, disps, active, tiers, modified, versions, docs)
	b.Queue(`DELETE FROM user_emails WHERE tenant_id = $1 AND user_id = ANY($2)`, tenant, ids)
	if sql, args, ok := emailRowsInsert(users); ok {
		b.Queue(sql, args...)
	}
	queueUserAudits(b, tenant, changes)
}

// queueUserAudits queues one INSERT of the changes' audit events.
func queueUserAudits(b *pgx.Batch, tenant string, changes []userChange) {
	var ids, actors, kinds, tiers, actions, rids, reqs, sources, attrs []string
	var ats []time.Time
	for _, c := range changes {
		if c.ev == nil {
			continue
		}
		e := store.CompleteAudit(*c.ev, tenant, "User", c.u.ID, uuid.NewString)
		ids, ats, actors, kinds = append(ids, e.ID), append(ats, e.At), append(actors, e.Actor), append(kinds, e.ActorKind)
		tiers, actions, rids = append(tiers, e.ActorTier), append(actions, e.Action), append(rids, e.ResourceID)
		reqs, sources, attrs = append(reqs, e.RequestID), append(sources, e.Source), append(attrs, strings.Join(e.Attributes, ","))
	}
	if len(ids) == 0 {
		return
	}
	b.Queue(`INSERT INTO audit_events (tenant_id, id, at, actor, actor_kind, actor_tier, action,
			resource_type, resource_id, request_id, source, attributes)
		SELECT $1, a.id, a.at, a.actor, a.kind, a.tier, a.action, 'User', a.rid, a.req, a.source, a.attrs
		FROM unnest($2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
			$9::text[], $10::text[], $11::text[]) AS a(id, at, actor, kind, tier, action, rid, req, source, attrs)`,
		tenant, ids, ats, actors, kinds, tiers, actions, rids, reqs, sources, attrs)
}

// AnalyzeUsers implements store.Analyzer: ANALYZE of the users and
// user_emails tables (a sample of each; it reads no more of a large table
// and takes no lock that writers or readers wait for).
func (s *Store) AnalyzeUsers(ctx context.Context) error {
	if _, err := s.pool.Exec(ctx, `ANALYZE users, user_emails`); err != nil {
		return fmt.Errorf("analyze users: %w", translate(err))
	}
	return nil
}
