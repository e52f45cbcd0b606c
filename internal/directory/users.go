package directory

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/internal/jsondoc"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

// CreateUser validates body and stores a new user in the caller's tenant.
// A user is active unless the body says otherwise. Multi-valued
// attributes keep one primary value and no exact duplicates
// (tidyMultiValued), as PATCH does. A password is validated
// but not kept: scimbridge authenticates no end users, and a secret it does
// not store cannot leak (it is never returned either way).
func (s *Service) CreateUser(ctx context.Context, p policy.Principal, body map[string]any) (*Resource, error) {
	return s.createUser(ctx, p, body, nil)
}

// createUser is CreateUser; a non-nil notify adds the "you have an
// account" message to the outbox with the user (Operation.Notify).
func (s *Service) createUser(ctx context.Context, p policy.Principal, body map[string]any, notify *notifier) (*Resource, error) {
	reg, err := s.registryFor(ctx, p.Tenant)
	if err != nil {
		return nil, err
	}
	u, err := s.newUser(reg.User, p, body)
	if err != nil {
		return nil, err
	}
	if err := notify.attach(ctx, &u); err != nil {
		return nil, err
	}
	actx, _ := audited(ctx, p, "create")
	created, err := s.store.CreateUser(actx, u)
	if err != nil {
		return nil, s.userError(ctx, u, err)
	}
	return s.userResource(reg.User, created, nil)
}

// newUser validates a create body against the tenant's User type into a
// record ready to insert.
func (s *Service) newUser(rt *schema.ResourceType, p policy.Principal, body map[string]any) (store.User, error) {
	u, err := userFrom(rt, p, body)
	if err != nil {
		return store.User{}, err
	}
	s.stamp(p, &u)
	return u, nil
}

// userFrom is the part of newUser that depends only on its arguments
// (validation, the record, the policy), so that a batch of creations can
// build their records side by side; stamp then gives each its id and
// times, in order.
func userFrom(rt *schema.ResourceType, p policy.Principal, body map[string]any) (store.User, error) {
	doc, err := rt.Normalize(body)
	if err != nil {
		return store.User{}, err
	}
	delete(doc, "password")
	tidyMultiValued(doc)
	if _, ok := doc["active"]; !ok {
		doc["active"] = true
	}
	u, err := userRecord(doc)
	if err != nil {
		return store.User{}, err
	}
	after := tierOf(u.Tier)
	if err := allow(p, policy.UserCreate, policy.Effect{TargetTierAfter: after, TierChanged: after != policy.TierNone,
		TargetIsSelf: namesSelf(p, u.UserName)}); err != nil {
		return store.User{}, err
	}
	return u, nil
}

// stamp gives a new user record its tenant, id, times and first version.
func (s *Service) stamp(p policy.Principal, u *store.User) {
	now := s.clock()
	u.TenantID, u.ID, u.Created, u.LastModified, u.Version = p.Tenant, s.newID(), now, now, 1
}

func (s *Service) userError(ctx context.Context, u store.User, err error) error {
	if errors.Is(err, store.ErrConflict) {
		return scimerrors.ScimError{Status: http.StatusConflict, ScimType: scimerrors.ScimTypeUniqueness,
			Detail: fmt.Sprintf("userName %q is already in use (userNames are compared case-insensitively, under Unicode simple case folding).", truncate(u.UserName, 200))}
	}
	return s.translate(ctx, s.reg.User, u.ID, err)
}

// GetUser returns one user of the caller's tenant.
func (s *Service) GetUser(ctx context.Context, p policy.Principal, id string) (*Resource, error) {
	if err := allow(p, policy.UserRead, policy.Effect{}); err != nil {
		return nil, err
	}
	id, ok := canonicalID(id)
	if !ok {
		return nil, notFound(s.reg.User, id)
	}
	reg, err := s.registryFor(ctx, p.Tenant)
	if err != nil {
		return nil, err
	}
	u, err := s.store.GetUser(ctx, p.Tenant, id, store.UserLoad{Groups: true, WithoutEmails: true})
	if err != nil {
		return nil, s.translate(ctx, s.reg.User, id, err)
	}
	return s.userResource(reg.User, u, u.Groups)
}

// ReplaceUser is PUT: the body replaces every writable attribute. readOnly
// attributes in the body are ignored, immutable ones may not change, and an
// absent "active" keeps the current value. Multi-valued attributes are
// tidied as on POST and PATCH (tidyMultiValued); a body equal to the
// stored user changes nothing, not even the version.
func (s *Service) ReplaceUser(ctx context.Context, p policy.Principal, id string, body map[string]any, pre Precondition) (*Resource, error) {
	id, ok := canonicalID(id)
	if !ok {
		return nil, notFound(s.reg.User, id)
	}
	reg, err := s.registryFor(ctx, p.Tenant)
	if err != nil {
		return nil, err
	}
	rt := reg.User
	doc, err := rt.Normalize(body)
	if err != nil {
		return nil, err
	}
	delete(doc, "password")
	tidyMultiValued(doc)
	next, err := userRecord(doc)
	if err != nil {
		return nil, err
	}
	actx, ev := audited(ctx, p, "replace")
	updated, err := s.store.UpdateUser(actx, p.Tenant, id, func(u *store.User) error {
		if err := pre.check(u.Version); err != nil {
			return err
		}
		return s.replaceUser(rt, p, u, &next, doc, ev)
	})
	if err != nil {
		next.ID = id
		return nil, s.userError(ctx, next, err)
	}
	return s.userResource(rt, updated, updated.Groups)
}

// replaceUser turns cur into next (built from doc) and notes the changed
// attributes in the audit event. A change that leaves every attribute as
// it was (a PATCH or PUT sending the current values) is judged like any
// other and then ends with store.ErrUnchanged: RFC 7644 §3.5.2 lets no
// new version, lastModified or audit event come of it.
func (s *Service) replaceUser(rt *schema.ResourceType, p policy.Principal, cur, next *store.User, doc schema.Doc, ev *store.AuditEvent) error {
	old, err := decodeDoc(cur.Doc)
	if err != nil {
		return fmt.Errorf("decode stored user %s: %w", cur.ID, err)
	}
	if err := checkImmutable(rt, old, doc); err != nil {
		return err
	}
	keepServerAttributes(old, doc)
	if _, ok := doc["active"]; !ok {
		doc["active"] = cur.Active
		next.Active = cur.Active
	}
	ev.Attributes = changedAttributes(rt, old, doc)
	if err := userChange(p, cur, next, ev.Attributes); err != nil {
		return err
	}
	if len(ev.Attributes) == 0 {
		return store.ErrUnchanged // same content: no new version, no audit event
	}
	raw, err := jsondoc.Marshal(doc)
	if err != nil {
		return fmt.Errorf("encode user: %w", err)
	}
	cur.UserName, cur.ExternalID, cur.DisplayName, cur.Active, cur.Tier = next.UserName, next.ExternalID, next.DisplayName, next.Active, next.Tier
	cur.Emails, cur.Doc, cur.LastModified = next.Emails, raw, s.clock()
	return nil
}

// DeleteUser removes a user and its group memberships.
func (s *Service) DeleteUser(ctx context.Context, p policy.Principal, id string, pre Precondition) error {
	id, ok := canonicalID(id)
	if !ok {
		return notFound(s.reg.User, id)
	}
	for attempt := 0; ; attempt++ {
		u, err := s.store.GetUser(ctx, p.Tenant, id, store.UserLoad{WithoutEmails: true})
		if err != nil {
			return s.translate(ctx, s.reg.User, id, err)
		}
		eff := policy.Effect{TargetTierBefore: tierOf(u.Tier), TargetIsSelf: isSelf(p, u.ID) || namesSelf(p, u.UserName)}
		if err := allow(p, policy.UserDelete, eff); err != nil {
			return err
		}
		if err := pre.check(u.Version); err != nil {
			return err
		}
		actx, _ := audited(ctx, p, "delete")
		err = s.store.DeleteUser(actx, p.Tenant, id, u.Version)
		if errors.Is(err, store.ErrVersionMismatch) && attempt < 2 {
			continue // changed since judged: judge the new version
		}
		return s.deleteError(ctx, s.reg.User, id, pre, err)
	}
}

// ListUsers returns the page of the tenant's users that q selects.
func (s *Service) ListUsers(ctx context.Context, p policy.Principal, q ListQuery) (*List, error) {
	if err := allow(p, policy.UserRead, policy.Effect{}); err != nil {
		return nil, err
	}
	reg, err := s.registryFor(ctx, p.Tenant)
	if err != nil {
		return nil, err
	}
	sq, err := storeQuery(reg.User, q)
	if err != nil {
		return nil, err
	}
	users, total, err := s.store.ListUsers(ctx, p.Tenant, sq, store.UserLoad{Groups: true, WithoutEmails: true})
	if err != nil {
		return nil, s.listError(ctx, s.reg.User, err)
	}
	list := &List{Total: total, Resources: make([]*Resource, 0, len(users))}
	for _, u := range users {
		r, err := s.userResource(reg.User, u, u.Groups)
		if err != nil {
			return nil, err
		}
		list.Resources = append(list.Resources, r)
	}
	return list, nil
}

// UserRecord extracts the indexed columns of a normalised user document,
// as the service stores them (tools that load users straight into a store
// use it too). Every email element becomes a row (in order, value "" when
// absent), so filters on emails.value and emails.type can use the rows.
func UserRecord(doc schema.Doc) (store.User, error) {
	return userRecord(doc)
}

func userRecord(doc schema.Doc) (store.User, error) {
	if err := checkLimits(doc); err != nil {
		return store.User{}, err
	}
	raw, err := jsondoc.Marshal(doc)
	if err != nil {
		return store.User{}, fmt.Errorf("encode user: %w", err)
	}
	u := store.User{Doc: raw}
	u.Tier = docTier(doc)
	u.UserName, _ = doc["userName"].(string)
	u.ExternalID, _ = doc["externalId"].(string)
	u.DisplayName, _ = doc["displayName"].(string)
	u.Active, _ = doc["active"].(bool)
	emails, _ := doc["emails"].([]any)
	for _, e := range emails {
		m, _ := e.(map[string]any)
		v, _ := m["value"].(string)
		typ, _ := m["type"].(string)
		primary, _ := m["primary"].(bool)
		u.Emails = append(u.Emails, store.Email{Value: v, Type: typ, Primary: primary})
	}
	return u, nil
}

// userResource is a stored user as a Resource of the tenant's User type
// rt, left undecoded (see Resource.Document).
func (s *Service) userResource(rt *schema.ResourceType, u store.User, groups []store.GroupRef) (*Resource, error) {
	return &Resource{Type: rt, ID: u.ID, Raw: u.Doc, Groups: groups, Created: u.Created,
		LastModified: u.LastModified, Version: u.Version}, nil
}

// decodeDoc decodes a stored document keeping numbers as json.Number
// (jsondoc: encoding/json's result, faster).
func decodeDoc(raw []byte) (schema.Doc, error) {
	return jsondoc.Decode(raw)
}
