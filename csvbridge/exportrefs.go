package csvbridge

import (
	"context"
	"fmt"

	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/schema"
)

// refResolver writes a reference column (a profile column with Ref, such
// as tenant-users' reportsTo) as the referenced user's key, the way the
// admin wrote it and the import reads it, rather than as the id the
// directory stores. It resolves each page's references with one look-up
// by id; a reference it cannot resolve (a user since deleted, or one
// without that key) is written as the id, which the import also accepts.
type refResolver struct {
	x *Export
	// keys maps a kind of key to the page's referenced ids and their key.
	keys map[MatchKey]map[string]string
}

// refColumns reports whether any column of the export is a reference.
func (x *Export) refColumns() bool {
	for _, c := range x.columns {
		if c.ref != "" {
			return true
		}
	}
	return false
}

// page resolves the references of one page of users.
func (rr *refResolver) page(ctx context.Context, page []*directory.Resource) error {
	byKind := map[MatchKey]map[string]string{}
	var ids []string
	seen := map[string]bool{}
	var src source
	for _, r := range page {
		if err := src.reset(r); err != nil {
			return err
		}
		for i := range rr.x.columns {
			c := &rr.x.columns[i]
			if c.ref == "" {
				continue
			}
			id := c.read(&src, nil)
			if err := src.check(); err != nil {
				return err
			}
			if id == "" {
				continue
			}
			if byKind[c.ref] == nil {
				byKind[c.ref] = map[string]string{}
			}
			byKind[c.ref][id] = ""
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	rr.keys = byKind
	if len(ids) == 0 {
		return nil
	}
	found, err := rr.x.dir.UsersByKeys(ctx, rr.x.p, "id", ids, directory.Lookup{})
	if err != nil {
		return fmt.Errorf("export: resolve references: %w", err)
	}
	for _, u := range found {
		doc, err := u.Document()
		if err != nil {
			return err
		}
		for kind, m := range byKind {
			if _, ok := m[u.ID]; ok {
				m[u.ID] = refKey(kind, doc)
			}
		}
	}
	return nil
}

// cell is a reference column's text: the referenced user's key, or the
// stored value when the page's look-up found none.
func (rr *refResolver) cell(c *exportColumn, stored string) string {
	if k := rr.keys[c.ref][stored]; k != "" {
		return k
	}
	return stored
}

// refKey is the key of kind a reference to the user with doc is written
// as: the userName, the externalId, or the primary email (else the first).
func refKey(kind MatchKey, doc schema.Doc) string {
	if kind != MatchEmail {
		return keyValues(kind, doc)[0]
	}
	first := ""
	for _, el := range asList(doc["emails"]) {
		m, _ := el.(map[string]any)
		v, _ := m["value"].(string)
		if p, _ := m["primary"].(bool); p && v != "" {
			return v
		}
		if first == "" {
			first = v
		}
	}
	return first
}
