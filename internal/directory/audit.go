package directory

import (
	"context"
	"reflect"
	"sort"

	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

// Audit sources: where a change came from.
const (
	SourceSCIM = "scim"
	SourceBulk = "bulk"
	SourceCSV  = "csv"
	SourceUI   = "ui"
)

type requestKey struct{}

type requestInfo struct {
	source    string
	requestID string
}

// WithRequest tells the service where the changes made under ctx come
// from (SourceSCIM, ...) and the request id, for the audit log.
func WithRequest(ctx context.Context, source, requestID string) context.Context {
	return context.WithValue(ctx, requestKey{}, requestInfo{source: source, requestID: requestID})
}

func withSource(ctx context.Context, source string) context.Context {
	info, _ := ctx.Value(requestKey{}).(requestInfo)
	info.source = source
	return context.WithValue(ctx, requestKey{}, info)
}

// audited returns a context under which the store writes one audit event
// per changed record, and the event template (the caller may fill in the
// changed attributes inside its update callback).
func audited(ctx context.Context, p policy.Principal, action string) (context.Context, *store.AuditEvent) {
	e := auditTemplate(ctx, p, action)
	return store.WithAudit(ctx, e), e
}

// auditTemplate is the event of a change p makes under ctx, for a store
// call that takes its events from its callback (UpdateUsers).
func auditTemplate(ctx context.Context, p policy.Principal, action string) *store.AuditEvent {
	info, _ := ctx.Value(requestKey{}).(requestInfo)
	if info.source == "" {
		info.source = SourceSCIM
	}
	return &store.AuditEvent{Actor: p.Subject, ActorKind: string(p.Kind), ActorTier: p.Tier.String(),
		Action: action, RequestID: info.requestID, Source: info.source}
}

// changedAttributes lists the attributes whose values differ between two
// documents; extension attributes as "urn:...:name".
func changedAttributes(rt *schema.ResourceType, old, next schema.Doc) []string {
	set := map[string]bool{}
	for _, k := range unionKeys(old, next) {
		if _, isExt := rt.Extension(k); isExt {
			o, _ := old[k].(map[string]any)
			n, _ := next[k].(map[string]any)
			for _, sub := range unionKeys(o, n) {
				if !reflect.DeepEqual(o[sub], n[sub]) {
					set[k+":"+sub] = true
				}
			}
			continue
		}
		if !reflect.DeepEqual(old[k], next[k]) {
			set[k] = true
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func unionKeys(a, b map[string]any) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range []map[string]any{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// AuditEvents reads the tenant's audit log (audit.read: tier 2 and up).
func (s *Service) AuditEvents(ctx context.Context, p policy.Principal, q store.AuditQuery) ([]store.AuditEvent, error) {
	if err := allow(p, policy.AuditRead, policy.Effect{}); err != nil {
		return nil, err
	}
	evs, err := s.store.AuditEvents(ctx, p.Tenant, q)
	if err != nil {
		return nil, s.translate(ctx, s.reg.User, "", err)
	}
	return evs, nil
}
