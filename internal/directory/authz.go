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
	pt, err := policy.ParseTier(string(t))
	if err != nil {
		return policy.TierNone
	}
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
// all, every current member) of a group: the effect is on each member
// user, so the highest of their tiers decides.
func (s *Service) membersChange(ctx context.Context, p policy.Principal, op policy.Operation, groupID string, ids []string, all bool) error {
	tiers, err := s.store.UserTiers(ctx, p.Tenant, ids)
	if err != nil {
		return err
	}
	top := policy.TierNone
	for _, t := range tiers {
		top = max(top, tierOf(t))
	}
	if all && groupID != "" {
		current, err := s.store.MemberTiers(ctx, p.Tenant, groupID)
		if err != nil {
			return err
		}
		for _, t := range current {
			top = max(top, tierOf(t))
		}
	}
	return allow(p, op, policy.Effect{TargetTierBefore: top, TargetTierAfter: top})
}

func memberIDs(ms []store.Member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}
