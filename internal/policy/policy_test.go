package policy

import "testing"

func TestParseTierRoundTrip(t *testing.T) {
	for i, name := range TierNames() {
		tier, err := ParseTier(name)
		if err != nil || tier.String() != name || int(tier) != i+1 {
			t.Fatalf("ParseTier(%q) = %v, %v", name, tier, err)
		}
	}
	for _, bad := range []string{"", "support-tier-4", "SUPPORT-TIER-0-HELP-DESK", "tier1"} {
		if _, err := ParseTier(bad); err == nil {
			t.Fatalf("ParseTier(%q) accepted", bad)
		}
	}
	if !(Tier0HelpDesk < Tier3Engineering) || TierNone.String() != "none" {
		t.Fatal("tier order")
	}
}
