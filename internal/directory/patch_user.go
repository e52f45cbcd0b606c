package directory

import (
	"context"
	"fmt"

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
	singlePrimary(doc)
	if err := checkLimits(doc); err != nil {
		return nil, err
	}
	return doc, checkImmutable(rt, old, doc)
}

// singlePrimary keeps at most one primary element per multi-valued
// attribute (RFC 7643 §2.4): the last one marked primary wins.
func singlePrimary(doc schema.Doc) {
	for _, v := range doc {
		list, ok := v.([]any)
		if !ok {
			continue
		}
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
	}
}
