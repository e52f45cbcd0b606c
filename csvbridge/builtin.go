package csvbridge

import (
	"slices"

	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
)

// Names of the built-in profiles.
const (
	ProfileSCIM         = "scim"
	ProfileSupportTiers = "support-tiers"
)

// ReportColumns are the columns an import report adds to the original
// ones. A report uploaded again (the failed rows, fixed) is accepted: the
// reader ignores these columns under every profile.
var ReportColumns = []string{"_row", "_action", "_status", "_id", "_error_code", "_error"}

// BuiltinProfiles returns fresh copies of the built-in profiles.
func BuiltinProfiles() []*Profile {
	return []*Profile{SCIMProfile(), SupportTiersProfile(), EntraProfile(),
		PeopleDirectoryProfile(), ContactCenterProfile(), TenantUsersProfile(), ProfessionalUsersProfile()}
}

// Builtin returns a fresh copy of the built-in profile with the name.
func Builtin(name string) (*Profile, bool) {
	for _, p := range BuiltinProfiles() {
		if p.Name == name {
			return p, true
		}
	}
	return nil, false
}

// SCIMProfile is the "scim" profile: every header is a SCIM attribute path
// (userName, name.givenName, emails[type eq "work"].value, an extension
// attribute under its URN, ...), the format exports write by default.
// Rules come from the schema (types, canonical values, email format,
// userName required on create); an "action" column may ask for
// deactivate or delete.
func SCIMProfile() *Profile {
	return &Profile{
		Name: ProfileSCIM, Version: 1, Title: "SCIM attribute paths",
		Description:  "Each header is a SCIM attribute path; rows are matched by id, userName, email or externalId and merged into existing users.",
		ResourceType: "User", HeadersArePaths: true, UnknownColumns: UnknownError,
		MatchKeys:  []MatchKey{MatchID, MatchUserName, MatchEmail, MatchExternalID},
		ClearToken: "#clear",
		Columns: []Column{{Header: "manager", Aliases: []string{"manager.userName"},
			Paths: []string{schema.EnterpriseURN + ":manager.value"}, Ref: MatchUserName, MaxLength: 256,
			Hint: "Give the manager's userName: a user that exists or that this file creates, in any row."}},
		Action: &ActionColumn{Header: "action", Values: map[string]RowAction{
			"upsert": ActionUpsert, "deactivate": ActionDeactivate, "delete": ActionDelete,
		}},
		Commit: CommitApplyValid,
	}
}

// SupportTiersProfile is the "support-tiers" profile of seed 000: exactly
// first_name, last_name, email, tier in that order; the email becomes the
// userName and the primary work email; the tier is one of the four exact
// tier strings.
func SupportTiersProfile() *Profile {
	email := `emails[type eq "work" and primary eq true].value`
	return &Profile{
		Name: ProfileSupportTiers, Version: 1, Title: "Support users and tiers",
		Description:  "Exactly four columns, in order: first_name, last_name, email, tier. The email is the user name and the primary work email.",
		ResourceType: "User", StrictOrder: true, UnknownColumns: UnknownError,
		MatchKeys: []MatchKey{MatchUserName, MatchEmail},
		Columns: []Column{
			{Header: "first_name", Paths: []string{"name.givenName"}, Required: RequiredAlways, MaxLength: 100},
			{Header: "last_name", Paths: []string{"name.familyName"}, Required: RequiredAlways, MaxLength: 100},
			{Header: "email", Paths: []string{"userName", email}, Required: RequiredAlways, Format: "email", Unique: true, MaxLength: 254},
			{Header: "tier", Paths: []string{schema.SupportURN + ":tier"}, Required: RequiredAlways,
				Enum: slices.Clone(policy.TierNames()), Hint: "Use one of the exact tier strings, e.g. support-tier-1-operations."},
		},
		Commit: CommitApplyValid,
	}
}
