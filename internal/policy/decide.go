package policy

import (
	"fmt"
	"slices"
)

// Effect describes what a change does to tiers: the tier of the user it
// creates, modifies or deletes (for a group change, of the member user
// being added or removed; for credential.manage, of the credential being
// created or revoked). A change that touches nothing with a tier, and every
// read, passes the zero Effect.
type Effect struct {
	// TargetTierBefore is the target's tier before the change; TierNone
	// when it had none or is being created.
	TargetTierBefore Tier
	// TargetTierAfter is the target's tier after the change; TierNone when
	// it will have none or is being deleted.
	TargetTierAfter Tier
	// TierChanged says the change sets the target's tier. It is implied
	// when Before and After differ.
	TierChanged bool
	// TargetIsSelf says the target is the acting principal's own user.
	TargetIsSelf bool
}

// Denied is the error Decide returns. Its text says what was needed and is
// safe to show to the caller (it becomes the 403's SCIM detail).
type Denied struct {
	// Op is the operation that was refused.
	Op Operation
	// Needed is the tier that would have been enough, or TierNone when no
	// tier would do (own tier changes, unknown operations, wrong kind).
	Needed Tier
	// Reason is the full explanation, e.g. "deleting users needs
	// support-tier-2-software-partner; you act as support-tier-1-operations".
	Reason string
}

func (d *Denied) Error() string { return d.Reason }

// verbs say, for the effect rule's texts, what an operation does to its
// target.
var verbs = map[Operation]string{
	UserCreate:       "create a user with",
	UserUpdate:       "change a user with",
	UserDeactivate:   "deactivate a user with",
	UserDelete:       "delete a user with",
	GroupCreate:      "add to a group a user with",
	GroupUpdate:      "change the group membership of a user with",
	GroupDelete:      "remove from a group a user with",
	BulkRun:          "change a user with",
	CSVImport:        "change a user with",
	CSVAction:        "change a user with",
	PhotoImport:      "change a user with",
	CredentialManage: "manage a credential with",
	TenantManage:     "change something with",
}

// Decide reports whether p may perform op with effect eff: nil when it
// may, a *Denied when not. The rules, in order:
//
//   - the principal must have a recognised tier and kind, and op a rule;
//   - p.Tier >= Required(op) (and op's kind restriction, /Me is for people);
//   - for operations that change things (ChangesTiers), judged by effect:
//     nobody may create, modify or delete a target whose tier before OR
//     after the change is above their own; nobody may change their own
//     tier (not even lower it); a provisioner (whose Tier is its cap) may
//     never grant a tier above its cap.
//
// Callers decide every individual change: each Bulk operation, each CSV
// row, each member added to or removed from a group.
func Decide(p Principal, op Operation, eff Effect) error {
	r, known := table[op]
	if !known {
		return &Denied{Op: op, Needed: TierNone, Reason: fmt.Sprintf("the operation %q has no policy and is refused", op)}
	}
	if !validTier(p.Tier) || p.Tier == TierNone {
		return &Denied{Op: op, Needed: r.tier, Reason: fmt.Sprintf("%s needs %s; you have no recognised tier", r.doing, r.tier)}
	}
	if !validKind(p.Kind) {
		return &Denied{Op: op, Needed: TierNone, Reason: fmt.Sprintf("the caller kind %q is not recognised", p.Kind)}
	}
	if r.kinds != nil && !slices.Contains(r.kinds, p.Kind) {
		return &Denied{Op: op, Needed: TierNone, Reason: fmt.Sprintf("%s is only for %s", r.doing, kindsText(r.kinds))}
	}
	if p.Tier < r.tier {
		return &Denied{Op: op, Needed: r.tier, Reason: fmt.Sprintf("%s needs %s; you act as %s", r.doing, r.tier, p.Tier)}
	}
	if !r.changes {
		return nil
	}
	before, after := eff.TargetTierBefore, eff.TargetTierAfter
	if !validTier(before) || !validTier(after) {
		return &Denied{Op: op, Needed: TierNone, Reason: "the change involves an unrecognised tier"}
	}
	changed := eff.TierChanged || before != after
	if eff.TargetIsSelf && changed {
		return &Denied{Op: op, Needed: TierNone, Reason: "nobody may change their own tier"}
	}
	if before > p.Tier {
		return &Denied{Op: op, Needed: before, Reason: fmt.Sprintf("%s may not %s %s", p.Tier, verbs[op], before)}
	}
	if after > p.Tier {
		if p.Kind == KindProvisioner {
			return &Denied{Op: op, Needed: after, Reason: fmt.Sprintf("this credential is capped at %s and may not grant %s", p.Tier, after)}
		}
		return &Denied{Op: op, Needed: after, Reason: fmt.Sprintf("%s may not grant %s", p.Tier, after)}
	}
	return nil
}

// Allowed is Decide's yes/no form.
func Allowed(p Principal, op Operation, eff Effect) bool {
	return Decide(p, op, eff) == nil
}

func validTier(t Tier) bool { return t >= TierNone && t <= Tier3Engineering }

func validKind(k Kind) bool {
	return k == KindPerson || k == KindProvisioner || k == KindScript
}

func kindsText(kinds []Kind) string {
	if len(kinds) == 1 && kinds[0] == KindPerson {
		return "people signed in with OIDC"
	}
	s := ""
	for i, k := range kinds {
		if i > 0 {
			s += " or "
		}
		s += string(k)
	}
	return s
}
