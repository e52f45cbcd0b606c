package directory

import (
	"context"
	"errors"
	"fmt"

	"github.com/scimbridge/scimbridge/internal/jsondoc"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

// CreateGroup validates body and stores a new group with its members.
func (s *Service) CreateGroup(ctx context.Context, p policy.Principal, body map[string]any) (*Resource, error) {
	g, _, err := s.groupRecord(body)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	g.TenantID, g.ID, g.Created, g.LastModified, g.Version = p.Tenant, s.newID(), now, now, 1
	if err := s.membersChange(ctx, p, policy.GroupCreate, "", memberIDs(g.Members), false); err != nil {
		return nil, err
	}
	actx, _ := audited(ctx, p, "create")
	created, err := s.store.CreateGroup(actx, g)
	if err != nil {
		return nil, s.translate(ctx, s.reg.Group, g.ID, err)
	}
	return s.groupResource(created)
}

// GetGroup returns one group; members are read only when withMembers.
func (s *Service) GetGroup(ctx context.Context, p policy.Principal, id string, withMembers bool) (*Resource, error) {
	if err := allow(p, policy.GroupRead, policy.Effect{}); err != nil {
		return nil, err
	}
	id, ok := canonicalID(id)
	if !ok {
		return nil, notFound(s.reg.Group, id)
	}
	g, err := s.store.GetGroup(ctx, p.Tenant, id, store.GroupLoad{Members: withMembers})
	if err != nil {
		return nil, s.translate(ctx, s.reg.Group, id, err)
	}
	return s.groupResource(g)
}

// ReplaceGroup is PUT: displayName, externalId and the member set are
// replaced; only the member rows that differ are written. A PUT of the
// current content writes nothing (RFC 7644 §3.5.2, as for users).
func (s *Service) ReplaceGroup(ctx context.Context, p policy.Principal, id string, body map[string]any, pre Precondition) (*Resource, error) {
	id, ok := canonicalID(id)
	if !ok {
		return nil, notFound(s.reg.Group, id)
	}
	next, nextDoc, err := s.groupRecord(body)
	if err != nil {
		return nil, err
	}
	var updated store.Group
	err = s.judgedGroupChange(ctx, p, id, func(cur store.Group) ([]string, error) {
		return diffIDs(store.DiffMembers(cur.Members, next.Members)), nil
	}, func(judged memberSet) error {
		actx, ev := audited(ctx, p, "replace")
		updated, err = s.store.UpdateGroup(actx, p.Tenant, id, func(g *store.Group) error {
			if err := pre.check(g.Version); err != nil {
				return err
			}
			old, err := decodeDoc(g.Doc)
			if err != nil {
				return fmt.Errorf("decode stored group %s: %w", id, err)
			}
			if err := checkImmutable(s.reg.Group, old, nextDoc); err != nil {
				return err
			}
			d := store.DiffMembers(g.Members, next.Members)
			if !judged.covers(diffIDs(d)) {
				return errMembersMoved
			}
			ev.Attributes = groupChanges(s.reg.Group, old, nextDoc, d)
			if len(ev.Attributes) == 0 {
				return store.ErrUnchanged // same content: no new version, no audit event
			}
			g.DisplayName, g.ExternalID, g.Doc, g.Members = next.DisplayName, next.ExternalID, next.Doc, next.Members
			g.LastModified = s.clock()
			return nil
		})
		return err
	})
	if err != nil {
		return nil, s.translate(ctx, s.reg.Group, id, err)
	}
	return s.groupResource(updated)
}

// DeleteGroup removes a group, its member rows and its own memberships.
func (s *Service) DeleteGroup(ctx context.Context, p policy.Principal, id string, pre Precondition) error {
	id, ok := canonicalID(id)
	if !ok {
		return notFound(s.reg.Group, id)
	}
	for attempt := 0; ; attempt++ {
		g, err := s.store.GetGroup(ctx, p.Tenant, id, store.GroupLoad{})
		if err != nil {
			return s.translate(ctx, s.reg.Group, id, err)
		}
		if err := s.membersChange(ctx, p, policy.GroupDelete, id, nil, true); err != nil {
			return err
		}
		if err := pre.check(g.Version); err != nil {
			return err
		}
		actx, _ := audited(ctx, p, "delete")
		err = s.store.DeleteGroup(actx, p.Tenant, id, g.Version)
		if errors.Is(err, store.ErrVersionMismatch) && attempt < 2 {
			continue
		}
		return s.deleteError(ctx, s.reg.Group, id, pre, err)
	}
}

// ListGroups returns the page of the tenant's groups that q selects, with
// members only when withMembers.
func (s *Service) ListGroups(ctx context.Context, p policy.Principal, q ListQuery, withMembers bool) (*List, error) {
	if err := allow(p, policy.GroupRead, policy.Effect{}); err != nil {
		return nil, err
	}
	sq, err := storeQuery(s.reg.Group, q)
	if err != nil {
		return nil, err
	}
	groups, total, err := s.store.ListGroups(ctx, p.Tenant, sq, store.GroupLoad{Members: withMembers})
	if err != nil {
		return nil, s.listError(ctx, s.reg.Group, err)
	}
	list := &List{Total: total, Resources: make([]*Resource, 0, len(groups))}
	for _, g := range groups {
		r, err := s.groupResource(g)
		if err != nil {
			return nil, err
		}
		list.Resources = append(list.Resources, r)
	}
	return list, nil
}

// groupRecord normalises a group body; members leave the document and
// become rows.
func (s *Service) groupRecord(body map[string]any) (store.Group, schema.Doc, error) {
	doc, err := s.reg.Group.Normalize(body)
	if err != nil {
		return store.Group{}, nil, err
	}
	if err := checkLimits(doc); err != nil {
		return store.Group{}, nil, err
	}
	members, err := membersOf(doc)
	if err != nil {
		return store.Group{}, nil, err
	}
	delete(doc, "members")
	raw, err := jsondoc.Marshal(doc)
	if err != nil {
		return store.Group{}, nil, fmt.Errorf("encode group: %w", err)
	}
	g := store.Group{Doc: raw, Members: members}
	g.DisplayName, _ = doc["displayName"].(string)
	g.ExternalID, _ = doc["externalId"].(string)
	return g, doc, nil
}

func membersOf(doc schema.Doc) ([]store.Member, error) {
	list, _ := doc["members"].([]any)
	out := make([]store.Member, 0, len(list))
	for i, el := range list {
		m, _ := el.(map[string]any)
		id, _ := m["value"].(string)
		if id == "" {
			return nil, invalidValue(fmt.Sprintf("Attribute 'members[%d].value' is required: the id of a user or group.", i))
		}
		id, ok := canonicalID(id)
		if !ok {
			return nil, invalidValue(fmt.Sprintf("Group members must be existing users or groups of this tenant, and a group cannot contain itself; unknown: %s.", truncate(id, 80)))
		}
		display, _ := m["display"].(string)
		out = append(out, store.Member{ID: id, Display: display})
	}
	return out, nil
}

func (s *Service) groupResource(g store.Group) (*Resource, error) {
	doc, err := groupDoc(&g)
	if err != nil {
		return nil, err
	}
	return &Resource{Type: s.reg.Group, ID: g.ID, Doc: doc, Created: g.Created, LastModified: g.LastModified, Version: g.Version}, nil
}

// groupChanges lists a group's changed attributes, "members" included
// when the member set changed.
func groupChanges(rt *schema.ResourceType, old, next schema.Doc, d store.MemberDiff) []string {
	attrs := changedAttributes(rt, old, next)
	if len(d.Added)+len(d.Removed)+len(d.Changed) > 0 {
		attrs = append(attrs, "members")
	}
	return attrs
}

// groupDoc is a stored group's document with its members (when loaded).
func groupDoc(g *store.Group) (schema.Doc, error) {
	doc, err := decodeDoc(g.Doc)
	if err != nil {
		return nil, fmt.Errorf("decode stored group %s: %w", g.ID, err)
	}
	if len(g.Members) > 0 {
		list := make([]any, len(g.Members))
		for i, m := range g.Members {
			list[i] = map[string]any{"value": m.ID, "type": m.Type, "display": m.Display}
		}
		doc["members"] = list
	}
	return doc, nil
}
