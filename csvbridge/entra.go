package csvbridge

import "github.com/scimbridge/scimbridge/internal/schema"

// ProfileEntra names the profile of Microsoft Entra ID's bulk-create
// template.
const ProfileEntra = "entra-bulk-create"

// EntraProfile is the "entra-bulk-create" profile: the CSV template
// Microsoft Entra ID's "Bulk create users" page downloads (a
// "version:v1.0" first line, headers such as "User name
// [userPrincipalName] Required"), its Microsoft Graph property names
// mapped to SCIM attributes. Users are matched by userName (the user
// principal name). "Block sign in" Yes/No becomes active false/true.
// Columns with no SCIM counterpart the directory keeps (the initial
// password, since people sign in through their identity provider; the
// usage location; the office) are read and ignored, and shown as ignored
// in the preview's column mapping.
func EntraProfile() *Profile {
	work := func(sub string) []string { return []string{`addresses[type eq "work"].` + sub} }
	return &Profile{
		Name: ProfileEntra, Version: 1, Title: "Microsoft Entra ID bulk create",
		Description:  "The Entra ID bulk-create template (version:v1.0): Graph property names in brackets, mapped to SCIM attributes; users matched by user principal name.",
		ResourceType: "User", UnknownColumns: UnknownIgnore,
		MatchKeys: []MatchKey{MatchUserName},
		Columns: []Column{
			{Header: "displayName", Aliases: []string{"Name"}, Paths: []string{"displayName"}, Required: RequiredOnCreate, MaxLength: 256},
			{Header: "userPrincipalName", Aliases: []string{"User name"}, Paths: []string{"userName"}, Required: RequiredAlways,
				Format: "email", MaxLength: 256, Unique: true, Hint: "The user principal name, such as ann@contoso.com."},
			{Header: "accountEnabled", Aliases: []string{"Block sign in (Yes/No)", "Block sign in"}, Paths: []string{"active"},
				Type: TypeBoolean, ValueMap: map[string]any{"Yes": false, "No": true}, Hint: "Yes blocks sign-in (inactive user), No allows it."},
			{Header: "givenName", Aliases: []string{"First name"}, Paths: []string{"name.givenName"}, MaxLength: 64},
			{Header: "surname", Aliases: []string{"Last name"}, Paths: []string{"name.familyName"}, MaxLength: 64},
			{Header: "jobTitle", Aliases: []string{"Job title"}, Paths: []string{"title"}, MaxLength: 128},
			{Header: "department", Aliases: []string{"Department"}, Paths: []string{schema.EnterpriseURN + ":department"}, MaxLength: 64},
			{Header: "streetAddress", Aliases: []string{"Street address"}, Paths: work("streetAddress"), MaxLength: 1024},
			{Header: "city", Aliases: []string{"City"}, Paths: work("locality"), MaxLength: 128},
			{Header: "state", Aliases: []string{"State or province"}, Paths: work("region"), MaxLength: 128},
			{Header: "postalCode", Aliases: []string{"ZIP or postal code"}, Paths: work("postalCode"), MaxLength: 40},
			{Header: "country", Aliases: []string{"Country or region"}, Paths: work("country"), MaxLength: 128},
			{Header: "telephoneNumber", Aliases: []string{"Office phone"}, Paths: []string{`phoneNumbers[type eq "work"].value`}, MaxLength: 64},
			{Header: "mobile", Aliases: []string{"Mobile phone"}, Paths: []string{`phoneNumbers[type eq "mobile"].value`}, MaxLength: 64},
		},
		Commit: CommitApplyValid, TemplateVersion: "v1.0",
	}
}
