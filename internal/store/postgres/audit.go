package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/scimbridge/scimbridge/internal/store"
)

// auditColumns are the columns of an audit event, in auditArgs' order.
var auditColumns = []string{"tenant_id", "id", "at", "actor", "actor_kind", "actor_tier", "action",
	"resource_type", "resource_id", "request_id", "source", "attributes"}

// insertAuditSQL inserts one event.
var insertAuditSQL = `INSERT INTO audit_events (` + strings.Join(auditColumns, ", ") +
	`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`

func auditArgs(e store.AuditEvent) []any {
	return []any{e.TenantID, e.ID, e.At, e.Actor, e.ActorKind, e.ActorTier, e.Action, e.ResourceType, e.ResourceID,
		e.RequestID, e.Source, strings.Join(e.Attributes, ",")}
}

// writeAudit records the change of one record when ctx asks for it.
func writeAudit(ctx context.Context, tx pgx.Tx, tenant, resourceType, id string, doc []byte) error {
	e, ok := store.AuditFor(ctx, tenant, resourceType, id, doc, uuid.NewString)
	if !ok {
		return nil
	}
	_, err := tx.Exec(ctx, insertAuditSQL, auditArgs(e)...)
	if err != nil {
		return fmt.Errorf("write audit event: %w", translate(err))
	}
	return nil
}

// queueAudit queues the audit event of one record's change on b when ctx
// asks for it.
func queueAudit(ctx context.Context, b *pgx.Batch, tenant, resourceType, id string, doc []byte) {
	if e, ok := store.AuditFor(ctx, tenant, resourceType, id, doc, uuid.NewString); ok {
		b.Queue(insertAuditSQL, auditArgs(e)...)
	}
}

// RecordAudit writes one event.
func (s *Store) RecordAudit(ctx context.Context, e store.AuditEvent) error {
	if _, err := s.pool.Exec(ctx, insertAuditSQL, auditArgs(e)...); err != nil {
		return fmt.Errorf("record audit event: %w", s.translateQuery(ctx, err))
	}
	return nil
}

// AuditEvents returns the tenant's events q selects, newest first.
func (s *Store) AuditEvents(ctx context.Context, tenant string, q store.AuditQuery) ([]store.AuditEvent, error) {
	where, args := []string{"tenant_id = $1"}, []any{tenant}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if !q.Since.IsZero() {
		add("at >= $%d", q.Since)
	}
	if !q.Until.IsZero() {
		add("at < $%d", q.Until)
	}
	if q.Actor != "" {
		add("actor = $%d", q.Actor)
	}
	if q.ResourceID != "" {
		add("resource_id = $%d", q.ResourceID)
	}
	limit, offset := store.AuditPage(q)
	args = append(args, limit, offset)
	rows, err := s.pool.Query(ctx, fmt.Sprintf(`SELECT id, at, actor, actor_kind, actor_tier, action, resource_type, resource_id,
		request_id, source, attributes FROM audit_events WHERE %s ORDER BY at DESC, id DESC LIMIT $%d OFFSET $%d`,
		strings.Join(where, " AND "), len(args)-1, len(args)), custom(args...)...)
	if err != nil {
		return nil, fmt.Errorf("audit events: %w", translate(err))
	}
	out := []store.AuditEvent{}
	var e store.AuditEvent
	var at time.Time
	var attrs string
	_, err = pgx.ForEachRow(rows, []any{&e.ID, &at, &e.Actor, &e.ActorKind, &e.ActorTier, &e.Action, &e.ResourceType,
		&e.ResourceID, &e.RequestID, &e.Source, &attrs}, func() error {
		e.TenantID, e.At, e.Attributes = tenant, at.UTC(), store.SplitAttributes(attrs)
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("audit events: %w", translate(err))
	}
	return out, nil
}
