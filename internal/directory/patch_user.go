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
	id, ok := canonicalID(id)
	if !ok {
		return nil, notFound(s.reg.User, id)
	}
	reg, err := s.registryFor(ctx, p.Tenant)
	if err != nil {
		return nil, err
	}
	up := &userPatch{rt: reg.User, ops: ops, pre: pre}
	var actx context.Context
	actx, up.ev = audited(ctx, p, "patch")
	updated, err := s.store.UpdateUser(actx, p.Tenant, id, func(u *store.User) error { return s.patchUser(p, up, u) })
	if err != nil {
		return nil, s.userPatchError(ctx, up, id, err)
	}
	return s.userResource(reg.User, updated, updated.Groups)
}

// userPatch is one PATCH of a user, as PatchUser and a batch of patches
// (patchUsers) run it inside the store's update callback.
type userPatch struct {
	// rt is the tenant's User type (TenantRegistry).
	rt  *schema.ResourceType
	ops []PatchOp
	pre Precondition
	// ev is the change's audit event; patchUser notes the changed
	// attributes in it.
	ev *store.AuditEvent
	// next is the record the patch builds (a conflict names its userName).
	next store.User
}

// patchUser is the update callback of a user PATCH: the precondition,
// the patched and validated document, and the change judged by its
// effect (replaceUser), store.ErrUnchanged when nothing changes.
func (s *Service) patchUser(p policy.Principal, up *userPatch, u *store.User) error {
	if err := up.pre.check(u.Version); err != nil {
		return err
	}
	doc, err := patchedDoc(up.rt, u.ID, u.Doc, up.ops)
	if err != nil {
		return err
	}
	delete(doc, "password")
	up.next, err = userRecord(doc)
	if err != nil {
		return err
	}
	return s.replaceUser(up.rt, p, u, &up.next, doc, up.ev)
}

// userPatchError is the error a failed user PATCH answers.
func (s *Service) userPatchError(ctx context.Context, up *userPatch, id string, err error) error {
	up.next.ID = id
	return s.userError(ctx, up.next, err)
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
