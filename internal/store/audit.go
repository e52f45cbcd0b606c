package store

import (
	"context"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/internal/jsondoc"
)

// AuditEvent is one change to a resource, written in the same transaction
// as the change. Attributes names the attributes that changed, never their
// values.
type AuditEvent struct {
	ID           string
	TenantID     string
	At           time.Time
	Actor        string // principal subject
	ActorKind    string
	ActorTier    string
	Action       string // create, replace, patch, delete
	ResourceType string // User, Group
	ResourceID   string
	RequestID    string
	Source       string // scim, bulk, csv, ui
	Attributes   []string
}

type auditKey struct{}

// WithAudit returns a context whose writes are audited: each record a
// write method creates, changes or deletes under it gets one event copied
// from *tmpl, with the tenant, resource, time and id filled in. The caller
// may set tmpl.Attributes inside an update callback (the store reads it
// after the callback). For creations with no Attributes, the record's
// document keys are used.
func WithAudit(ctx context.Context, tmpl *AuditEvent) context.Context {
	return context.WithValue(ctx, auditKey{}, tmpl)
}

// AuditFor returns the event to write for a change of one record, if the
// context asks for auditing. Backends call it inside the transaction.
func AuditFor(ctx context.Context, tenant, resourceType, id string, doc []byte, newID func() string) (AuditEvent, bool) {
	tmpl, ok := ctx.Value(auditKey{}).(*AuditEvent)
	if !ok || tmpl == nil {
		return AuditEvent{}, false
	}
	e := CompleteAudit(*tmpl, tenant, resourceType, id, newID)
	if e.Attributes == nil && e.Action == "create" {
		e.Attributes = DocAttributes(doc)
	}
	return e, true
}

// CompleteAudit fills in what a backend adds to an event template for the
// change of one record: a new id, the tenant, the resource and, unless
// set, the time (now, to the microsecond).
func CompleteAudit(e AuditEvent, tenant, resourceType, id string, newID func() string) AuditEvent {
	e.ID, e.TenantID, e.ResourceType, e.ResourceID = newID(), tenant, resourceType, id
	if e.At.IsZero() {
		e.At = time.Now().UTC().Truncate(time.Microsecond)
	}
	return e
}

// DocAttributes lists the top-level attribute names of a JSON document,
// with extension attributes as "urn:...:name", sorted and each once; nil
// when doc is not a JSON object. Values are only delimited, never
// decoded (jsondoc.Index): only names are needed, and a bulk create lists
// them for every user. What the index does not read (a name that is not
// UTF-8) is decoded.
func DocAttributes(doc []byte) []string {
	o, ok := jsondoc.Index(doc)
	if !ok {
		return docAttributesDecoded(doc)
	}
	var out []string
	for _, k := range o.Keys() {
		if ext, isObj := o.Object(k); isObj && len(k) > 4 && strings.HasPrefix(k, "urn:") {
			for _, sub := range ext.Keys() {
				out = append(out, k+":"+sub)
			}
			continue
		}
		out = append(out, k)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// docAttributesDecoded is DocAttributes read with encoding/json.
func docAttributesDecoded(doc []byte) []string {
	var m map[string]json.RawMessage
	if json.Unmarshal(doc, &m) != nil {
		return nil
	}
	var out []string
	for k, v := range m {
		var ext map[string]json.RawMessage
		if len(k) > 4 && k[:4] == "urn:" && len(v) > 0 && v[0] == '{' && json.Unmarshal(v, &ext) == nil {
			for sub := range ext {
				out = append(out, k+":"+sub)
			}
			continue
		}
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// AuditQuery selects audit events: a time window, an actor, a resource id,
// newest first, at most Limit (default 100, at most 1000) after Offset.
type AuditQuery struct {
	Since, Until time.Time
	Actor        string
	ResourceID   string
	Limit        int
	Offset       int
}

// Auditing reads the audit log, and records events that no write carries
// (an export reads; it is audited all the same).
type Auditing interface {
	// AuditEvents returns the tenant's events q selects, newest first.
	AuditEvents(ctx context.Context, tenant string, q AuditQuery) ([]AuditEvent, error)
	// RecordAudit writes one event as given (ID, TenantID and At set by the
	// caller).
	RecordAudit(ctx context.Context, e AuditEvent) error
}

// AuditPage returns the LIMIT and OFFSET of q with defaults applied.
func AuditPage(q AuditQuery) (int, int) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	return min(limit, 1000), max(q.Offset, 0)
}

// SplitAttributes reads the stored comma-separated attribute list.
func SplitAttributes(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

// ResourceTypeOf names the SCIM resource type stored in a table.
func ResourceTypeOf(table string) string {
	if table == "groups" {
		return "Group"
	}
	return "User"
}
