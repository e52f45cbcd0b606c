package policy

import (
	"testing"

	"pgregory.net/rapid"
)

var (
	genRealTier = rapid.SampledFrom(allTiers)
	// Mostly real tiers, sometimes garbage: out-of-range values must never
	// be an advantage.
	genTier = rapid.OneOf(genRealTier, genRealTier, genRealTier,
		rapid.Custom(func(t *rapid.T) Tier { return Tier(rapid.IntRange(-3, 9).Draw(t, "garbage")) }))
	genKind = rapid.OneOf(rapid.SampledFrom(allKinds), rapid.SampledFrom(allKinds), rapid.SampledFrom([]Kind{"", "robot"}))
	genOp   = rapid.OneOf(rapid.SampledFrom(Operations()), rapid.SampledFrom(Operations()), rapid.SampledFrom([]Operation{"user.frobnicate", ""}))
)

// TestPropertySingleDecision: whatever the actor, target and change, an
// allowed decision never lets a tier act above itself, touch or produce a
// higher tier, or change its own tier.
func TestPropertySingleDecision(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := Principal{Tenant: "acme", Subject: "actor", Kind: genKind.Draw(t, "kind"), Tier: genTier.Draw(t, "actor")}
		op := genOp.Draw(t, "op")
		eff := Effect{
			TargetTierBefore: genTier.Draw(t, "before"),
			TargetTierAfter:  genTier.Draw(t, "after"),
			TierChanged:      rapid.Bool().Draw(t, "changed"),
			TargetIsSelf:     rapid.Bool().Draw(t, "self"),
		}
		err := Decide(p, op, eff)
		if err != nil {
			if d, ok := err.(*Denied); !ok || d.Reason == "" {
				t.Fatalf("denial %#v is not a *Denied with a reason", err)
			}
			return
		}
		switch {
		case !Known(op):
			t.Fatalf("unknown operation %q allowed", op)
		case p.Tier <= TierNone || p.Tier > Tier3Engineering:
			t.Fatalf("principal without a valid tier (%d) allowed %s", p.Tier, op)
		case p.Kind != KindPerson && p.Kind != KindProvisioner && p.Kind != KindScript:
			t.Fatalf("principal of kind %q allowed", p.Kind)
		case p.Tier < Required(op):
			t.Fatalf("%s allowed %s, which needs %s", p.Tier, op, Required(op))
		}
		if !ChangesTiers(op) {
			return
		}
		if eff.TargetTierBefore > p.Tier || eff.TargetTierAfter > p.Tier {
			t.Fatalf("%s allowed to %s a target %s -> %s", p.Tier, op, eff.TargetTierBefore, eff.TargetTierAfter)
		}
		if eff.TargetTierBefore < TierNone || eff.TargetTierAfter < TierNone {
			t.Fatalf("allowed a change with an invalid tier: %+v", eff)
		}
		if eff.TargetIsSelf && (eff.TierChanged || eff.TargetTierBefore != eff.TargetTierAfter) {
			t.Fatalf("%s allowed to change its own tier: %+v", p.Tier, eff)
		}
		if p.Kind == KindProvisioner && eff.TargetTierAfter > p.Tier {
			t.Fatalf("provisioner capped at %s granted %s", p.Tier, eff.TargetTierAfter)
		}
	})
}

// TestPropertyNoEscalationSequence plays random sequences of changes among
// a population of people whose tiers are the directory's, plus
// provisioners with fixed caps. Whoever a change promotes acts with the new
// tier from the next step on, so chains of proxies are explored. For every
// sequence: no allowed change touches or produces a tier above its actor's
// tier at that moment, none alters the actor's own tier, and therefore the
// highest tier in the population (people and caps) never rises.
func TestPropertyNoEscalationSequence(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(2, 6).Draw(t, "people")
		tiers := make([]Tier, n)
		initialMax := TierNone
		for i := range tiers {
			tiers[i] = genRealTier.Draw(t, "initial")
			initialMax = max(initialMax, tiers[i])
		}
		caps := []Tier{genRealTier.Draw(t, "cap1"), genRealTier.Draw(t, "cap2")}
		for _, c := range caps {
			initialMax = max(initialMax, c)
		}
		changingOps := []Operation{}
		for _, op := range Operations() {
			if ChangesTiers(op) {
				changingOps = append(changingOps, op)
			}
		}
		steps := rapid.IntRange(1, 40).Draw(t, "steps")
		for range steps {
			var actor Principal
			actorIdx := -1
			if rapid.IntRange(0, 3).Draw(t, "who") == 0 {
				actor = Principal{Kind: KindProvisioner, Tier: rapid.SampledFrom(caps).Draw(t, "prov")}
			} else {
				actorIdx = rapid.IntRange(0, n-1).Draw(t, "actor")
				actor = Principal{Kind: rapid.SampledFrom([]Kind{KindPerson, KindScript}).Draw(t, "k"), Tier: tiers[actorIdx]}
			}
			target := rapid.IntRange(0, n-1).Draw(t, "target")
			op := rapid.SampledFrom(changingOps).Draw(t, "op")
			newTier := genRealTier.Draw(t, "new")
			// Sometimes the caller forgets to set TierChanged; Decide must
			// infer it from Before != After.
			flag := newTier != tiers[target] && rapid.Bool().Draw(t, "flag")
			eff := Effect{TargetTierBefore: tiers[target], TargetTierAfter: newTier, TierChanged: flag, TargetIsSelf: target == actorIdx}
			if Decide(actor, op, eff) != nil {
				continue
			}
			if target == actorIdx && newTier != tiers[target] {
				t.Fatalf("actor %d changed its own tier %s -> %s", actorIdx, tiers[target], newTier)
			}
			if newTier > actor.Tier || tiers[target] > actor.Tier {
				t.Fatalf("%s %s moved user %d from %s to %s", actor.Kind, actor.Tier, target, tiers[target], newTier)
			}
			tiers[target] = newTier
			for _, tt := range tiers {
				if tt > initialMax {
					t.Fatalf("tier %s appeared; the highest at the start was %s", tt, initialMax)
				}
			}
		}
	})
}

// TestPropertyNoTierNoAccess: TierNone and unknown kinds get nothing, ever.
func TestPropertyNoTierNoAccess(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		op := genOp.Draw(t, "op")
		eff := Effect{TargetTierBefore: genTier.Draw(t, "b"), TargetTierAfter: genTier.Draw(t, "a"), TargetIsSelf: rapid.Bool().Draw(t, "self")}
		if Decide(Principal{Kind: genKind.Draw(t, "kind"), Tier: TierNone}, op, eff) == nil {
			t.Fatalf("TierNone allowed %s", op)
		}
		if Decide(Principal{Kind: "robot", Tier: genTier.Draw(t, "t")}, op, eff) == nil {
			t.Fatalf("unknown kind allowed %s", op)
		}
	})
}
