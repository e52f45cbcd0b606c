package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/scimbridge/scimbridge/internal/store"
)

// writeAudit records the change of one record when ctx asks for it.
func writeAudit(ctx context.Context, tx *sql.Tx, tenant, resourceType, id string, doc []byte) error {
	e, ok := store.AuditFor(ctx, tenant, resourceType, id, doc, uuid.NewString)
	if !ok {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_events (tenant_id, id, at, actor, actor_kind, actor_tier, action,
		resource_type, resource_id, request_id, source, attributes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.TenantID, e.ID, micros(e.At), e.Actor, e.ActorKind, e.ActorTier, e.Action, e.ResourceType, e.ResourceID,
		e.RequestID, e.Source, strings.Join(e.Attributes, ","))
	if err != nil {
		return fmt.Errorf("write audit event: %w", translate(err))
	}
	return nil
}

// RecordAudit writes one event.
func (s *Store) RecordAudit(ctx context.Context, e store.AuditEvent) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO audit_events (tenant_id, id, at, actor, actor_kind, actor_tier, action,
		resource_type, resource_id, request_id, source, attributes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.TenantID, e.ID, micros(e.At), e.Actor, e.ActorKind, e.ActorTier, e.Action, e.ResourceType, e.ResourceID,
		e.RequestID, e.Source, strings.Join(e.Attributes, ","))
	if err != nil {
		return fmt.Errorf("record audit event: %w", s.translateQuery(ctx, err))
	}
	return nil
}

// AuditEvents returns the tenant's events q selects, newest first.
func (s *Store) AuditEvents(ctx context.Context, tenant string, q store.AuditQuery) ([]store.AuditEvent, error) {
	where, args := []string{"tenant_id = ?"}, []any{tenant}
	if !q.Since.IsZero() {
		where, args = append(where, "at >= ?"), append(args, micros(q.Since))
	}
	if !q.Until.IsZero() {
		where, args = append(where, "at < ?"), append(args, micros(q.Until))
	}
	if q.Actor != "" {
		where, args = append(where, "actor = ?"), append(args, q.Actor)
	}
	if q.ResourceID != "" {
		where, args = append(where, "resource_id = ?"), append(args, q.ResourceID)
	}
	limit, offset := store.AuditPage(q)
	rows, err := s.r.QueryContext(ctx, `SELECT id, at, actor, actor_kind, actor_tier, action, resource_type, resource_id,
		request_id, source, attributes FROM audit_events WHERE `+strings.Join(where, " AND ")+`
		ORDER BY at DESC, id DESC LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, fmt.Errorf("audit events: %w", translate(err))
	}
	defer rows.Close()
	out := []store.AuditEvent{}
	for rows.Next() {
		e := store.AuditEvent{TenantID: tenant}
		var at int64
		var attrs string
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.ActorKind, &e.ActorTier, &e.Action, &e.ResourceType, &e.ResourceID,
			&e.RequestID, &e.Source, &attrs); err != nil {
			return nil, fmt.Errorf("scan audit event: %w", err)
		}
		e.At, e.Attributes = fromMicros(at), store.SplitAttributes(attrs)
		out = append(out, e)
	}
	return out, rows.Err()
}
