// Package policy holds the pure rules about who may do what: the support
// tiers, ordered, and the principals that act. It has no I/O. (The operation
// x tier table arrives with the authorisation issue; until then every
// authenticated principal may use the SCIM endpoints of its own tenant.)
package policy

import (
	"fmt"
	"strings"
)

// Tier is a support tier; higher values may do more. The zero value is
// TierNone: no recognised tier, no access.
type Tier int

// The tiers, lowest first.
const (
	TierNone Tier = iota
	Tier0HelpDesk
	Tier1Operations
	Tier2SoftwarePartner
	Tier3Engineering
)

var tierNames = map[Tier]string{
	Tier0HelpDesk:        "support-tier-0-help-desk",
	Tier1Operations:      "support-tier-1-operations",
	Tier2SoftwarePartner: "support-tier-2-software-partner",
	Tier3Engineering:     "support-tier-3-engineering",
}

// String returns the tier's canonical string, or "none".
func (t Tier) String() string {
	if s, ok := tierNames[t]; ok {
		return s
	}
	return "none"
}

// ParseTier accepts exactly one of the four tier strings.
func ParseTier(s string) (Tier, error) {
	for t, name := range tierNames {
		if s == name {
			return t, nil
		}
	}
	return TierNone, fmt.Errorf("unknown tier %q (want one of %s)", s, strings.Join(TierNames(), ", "))
}

// TierNames lists the tier strings, lowest first.
func TierNames() []string {
	return []string{Tier0HelpDesk.String(), Tier1Operations.String(), Tier2SoftwarePartner.String(), Tier3Engineering.String()}
}

// Kind says what sort of caller a principal is.
type Kind string

// Principal kinds.
const (
	KindPerson      Kind = "person"
	KindProvisioner Kind = "provisioner"
	KindScript      Kind = "script"
)

// Principal is an authenticated caller. Tenant comes from its credential,
// never from the request.
type Principal struct {
	Tenant  string
	Subject string
	Kind    Kind
	Tier    Tier
}
