// Package policy holds the pure rules about who may do what: the support
// tiers, ordered, the principals that act, the one operation x tier table
// (operations.go) and the effect rule (decide.go). It has no I/O.
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
	if t, ok := LookupTier(s); ok {
		return t, nil
	}
	return TierNone, fmt.Errorf("unknown tier %q (want one of %s)", s, strings.Join(TierNames(), ", "))
}

// LookupTier is ParseTier without the error (which costs more to build
// than the look-up, for callers that read "" or junk as TierNone).
func LookupTier(s string) (Tier, bool) {
	for t, name := range tierNames {
		if s == name {
			return t, true
		}
	}
	return TierNone, false
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
	// UserName is, for people signed in with OIDC, the userName of their
	// directory user as the identity provider states it (the issuer's
	// configured claim, by default preferred_username, else a verified
	// email). The service uses it to refuse people whose directory user is
	// inactive and to bind them to that user (UserID). Empty for
	// provisioners and for tokens that carry no such claim. It is never used
	// to decide a tier.
	UserName string
	// UserID is the id of the person's own directory user: the user whose
	// userName equals UserName under the directory's userName case folding
	// (the one uniqueness uses), looked up once per request by the
	// authentication middleware. Empty when no user has that userName, and
	// for provisioners and scripts. "Self" (TargetIsSelf, /Me) is judged by
	// this id, never by comparing names.
	UserID string
}
