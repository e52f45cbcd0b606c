package directory

import (
	"context"
	"errors"
	"net/http"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

// allow applies the policy table: nil, or a 403 whose detail says what
// tier is needed.
func allow(p policy.Principal, op policy.Operation, eff policy.Effect) error {
	err := policy.Decide(p, op, eff)
	var d *policy.Denied
	if errors.As(err, &d) {
		return scimerrors.ScimError{Status: http.StatusForbidden, Detail: "Forbidden: " + d.Reason + "."}
	}
	return err
}

// tierOf reads a stored tier string; anything unrecognised is TierNone.
func tierOf(t store.Tier) policy.Tier {
	pt, _ := policy.LookupTier(string(t))
	return pt
}

// docTier is the tier a user document gives its user.
func docTier(doc schema.Doc) store.Tier {
	ext, _ := doc[schema.SupportURN].(map[string]any)
	t, _ := ext["tier"].(string)
	return store.Tier(t)
}

// isSelf says whether the user with this id is the acting person's own:
// the user the authentication middleware bound them to (Bind). Names are
// never compared here, so renaming a user cannot make it someone else's.
func isSelf(p policy.Principal, id string) bool {
	return p.Kind == policy.KindPerson && p.UserID != "" && id == p.UserID
}

// namesSelf says whether userName would bind to the acting person: it
// equals their sign-in userName under the case folding of userName
// uniqueness. A user created or renamed to it becomes theirs on their next
// request, so such a change is judged as a change of their own user.
func namesSelf(p policy.Principal, userName string) bool {
	return p.Kind == policy.KindPerson && p.UserName != "" &&
		store.NormalizeUserName(p.UserName) == store.NormalizeUserName(userName)
}

// userChange judges a change of a user from cur to next by its effect:
// deactivation when only active went from true to false, else update.
// A person may not rename their own user (it would unbind their sign-in
// from it, after which its tier would no longer count as their own).
func userChange(p policy.Principal, cur, next *store.User, changed []string) error {
	self := isSelf(p, cur.ID)
	if self && store.NormalizeUserName(cur.UserName) != store.NormalizeUserName(next.UserName) {
		return scimerrors.ScimError{Status: http.StatusForbidden, Detail: "Forbidden: nobody may change their own userName " +
			"(it is what binds your sign-in to your user); ask someone else to change it."}
	}
	op := policy.UserUpdate
	if len(changed) == 1 && changed[0] == "active" && cur.Active && !next.Active {
		op = policy.UserDeactivate
	}
	return allow(p, op, policy.Effect{TargetTierBefore: tierOf(cur.Tier), TargetTierAfter: tierOf(next.Tier),
		TargetIsSelf: self || namesSelf(p, next.UserName)})
}

// membersChange judges adding or removing the given members (and, with
// all, every current member of groupID) of a group: the effect is on every
// user the change reaches, directly or through nested groups at any depth
// (adding group G3 to G1 changes the membership of every user in G3), so
// the highest of their tiers decides.
func (s *Service) membersChange(ctx context.Context, p policy.Principal, op policy.Operation, groupID string, ids []string, all bool) error {
	if err := allow(p, op, policy.Effect{}); err != nil {
		return err // the cheap check first: no reads for a caller who may not do this at all
	}
	if all && groupID != "" {
		ids = append(ids, groupID)
	}
	top, err := s.reachTier(ctx, p.Tenant, ids, groupID, all)
	if err != nil {
		return err
	}
	return allow(p, op, policy.Effect{TargetTierBefore: top, TargetTierAfter: top})
}

// reachTier returns the highest tier among the users that ids reach: the
// users among them and, for each group among them, the users it holds
// directly or through nested groups (one recursive query per group:
// Store.MemberTiers). The group self is walked only when all is set (its
// own members are the target only when they are all removed).
func (s *Service) reachTier(ctx context.Context, tenant string, ids []string, self string, all bool) (policy.Tier, error) {
	tiers, err := s.store.UserTiers(ctx, tenant, ids)
	if err != nil {
		return policy.TierNone, err
	}
	top := policy.TierNone
	walked := map[string]bool{}
	for _, id := range ids {
		if t, isUser := tiers[id]; isUser {
			top = max(top, tierOf(t))
			continue
		}
		if walked[id] || (id == self && !all) {
			continue
		}
		walked[id] = true
		reached, err := s.store.MemberTiers(ctx, tenant, id)
		if err != nil {
			return top, err
		}
		for _, t := range reached {
			top = max(top, tierOf(t))
		}
	}
	return top, nil
}

// diffIDs lists the members a change of member list touches: added,
// removed, and those whose stored display it rewrites (a change to that
// member's entry, judged like adding or removing it).
func diffIDs(d store.MemberDiff) []string {
	return append(append(memberIDs(d.Added), d.Removed...), memberIDs(d.Changed)...)
}

func memberIDs(ms []store.Member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}
