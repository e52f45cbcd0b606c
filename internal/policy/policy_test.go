package policy

import "testing"

func TestParseTierRoundTrip(t *testing.T) {
	for i, name := range TierNames() {
		tier, err := ParseTier(name)
		if err != nil || tier.String() != name || int(tier) != i+1 {
			t.Fatalf("ParseTier(%q) = %v, %v", name, tier, err)
		}
		if looked, ok := LookupTier(name); !ok || looked != tier {
			t.Fatalf("LookupTier(%q) = %v, %v", name, looked, ok)
		}
	}
	for _, bad := range []string{"", "support-tier-4", "SUPPORT-TIER-0-HELP-DESK", "tier1"} {
		if _, err := ParseTier(bad); err == nil {
			t.Fatalf("ParseTier(%q) accepted", bad)
		}
		if tier, ok := LookupTier(bad); ok || tier != TierNone {
			t.Fatalf("LookupTier(%q) = %v, %v", bad, tier, ok)
		}
	}
	if !(Tier0HelpDesk < Tier3Engineering) || TierNone.String() != "none" {
		t.Fatal("tier order")
	}
}
