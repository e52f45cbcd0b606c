package directory

import (
	"context"
	"fmt"
	"strings"

	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

// PatchUser applies ops to a user in one transaction: every operation
// succeeds and the result validates, or nothing is written.
func (s *Service) PatchUser(ctx context.Context, p policy.Principal, id string, ops []PatchOp, pre Precondition) (*Resource, error) {
	rt := s.reg.User
	id, ok := canonicalID(id)
	if !ok {
		return nil, notFound(rt, id)
	}
	var next store.User
	actx, ev := audited(ctx, p, "patch")
	updated, err := s.store.UpdateUser(actx, p.Tenant, id, func(u *store.User) error {
		if err := pre.check(u.Version); err != nil {
			return err
		}
		doc, err := patchedDoc(rt, u.ID, u.Doc, ops)
		if err != nil {
			return err
		}
		delete(doc, "password")
		next, err = userRecord(doc)
		if err != nil {
			return err
		}
		return s.replaceUser(p, u, &next, doc, ev)
	})
	if err != nil {
		next.ID = id
		return nil, s.userError(ctx, next, err)
	}
	return s.userResource(updated, updated.Groups)
}

// patchedDoc applies ops to a stored document and validates the result
// like a PUT body, including immutability against the original.
func patchedDoc(rt *schema.ResourceType, id string, raw []byte, ops []PatchOp) (schema.Doc, error) {
	old, err := decodeDoc(raw)
	if err != nil {
		return nil, fmt.Errorf("decode stored %s %s: %w", rt.Name, id, err)
	}
	work, err := decodeDoc(raw)
	if err != nil {
		return nil, err
	}
	pt := &patcher{rt: rt, doc: work, id: id}
	for _, op := range ops {
		if err := pt.apply(op); err != nil {
			return nil, err
		}
	}
	doc, err := rt.Normalize(pt.doc)
	if err != nil {
		return nil, err
	}
	tidyMultiValued(doc)
	if err := checkLimits(doc); err != nil {
		return nil, err
	}
	return doc, checkImmutable(rt, old, doc)
}

// tidyMultiValued applies RFC 7643 §2.4 to every multi-valued attribute of
// a normalised document, its extensions' included, the same way for POST,
// PUT and PATCH: exact duplicate values (equal in every sub-attribute) are
// kept once, and at most one value stays primary, the last one marked
// primary (as a PATCH adding a new primary value expects); values that
// become equal once primary is settled are kept once too.
func tidyMultiValued(doc schema.Doc) {
	for k, v := range doc {
		switch v := v.(type) {
		case []any:
			doc[k] = appendNew(nil, singlePrimary(appendNew(nil, v)))
		case map[string]any:
			if strings.HasPrefix(k, "urn:") {
				tidyMultiValued(v)
			}
		}
	}
}

// singlePrimary keeps at most one primary element in list: the last one
// marked primary wins.
func singlePrimary(list []any) []any {
	last := -1
	for i, el := range list {
		if m, ok := el.(map[string]any); ok && m["primary"] == true {
			last = i
		}
	}
	for i, el := range list {
		if m, ok := el.(map[string]any); ok && i != last && m["primary"] == true {
			m["primary"] = false
		}
	}
	return list
}
