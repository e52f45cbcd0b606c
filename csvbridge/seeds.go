package csvbridge

import "github.com/scimbridge/scimbridge/internal/schema"

// Names of the built-in profiles of seeds 001-004.
const (
	ProfilePeopleDirectory   = "people-directory"
	ProfileContactCenter     = "contact-center-agents"
	ProfileTenantUsers       = "tenant-users"
	ProfileProfessionalUsers = "professional-users"
)

// primaryEmail is the primary work email path.
const primaryEmail = `emails[type eq "work" and primary eq true].value`

// PeopleDirectoryProfile is seed 001's user import: Current Status,
// Display Name, Primary Email, Role, Groups, Source Username(s); at most
// 2,000 rows; users matched by their primary email (their userName).
func PeopleDirectoryProfile() *Profile {
	return &Profile{
		Name: ProfilePeopleDirectory, Version: 1, Title: "People directory user import",
		Description:  "Seed 001's template: Current Status, Display Name, Primary Email, Role, Groups, Source Username(s). Adds new users and updates existing ones (matched by primary email); at most 2,000 rows.",
		ResourceType: "User", UnknownColumns: UnknownError, MatchKeys: []MatchKey{MatchUserName, MatchEmail},
		MaxRows: 2000, Commit: CommitApplyValid,
		Columns: []Column{
			{Header: "Current Status", Paths: []string{"active"}, Type: TypeBoolean, ValueMap: map[string]any{"Active": true, "Archived": false},
				Enum: []string{"Active", "Archived"}, CreateDefault: "Active", Example: "Active",
				Description: "Active: the user is active at once. Archived: imported as archived (inactive), e.g. for historical users. Blank: Active for a new user, unchanged for an existing one."},
			{Header: "Display Name", Paths: []string{"displayName"}, Required: RequiredOnCreate, MaxLength: 256, Example: "John R. Doe",
				Description: "Any name format (John Doe; Doe, John; John R. Doe); shown in communications, alerts and collections."},
			{Header: "Primary Email", Paths: []string{"userName", primaryEmail}, Required: RequiredAlways, Format: "email", Unique: true, MaxLength: 254,
				Example: "john.doe@example.com", Hint: "Write it as name@example.com.",
				Description: "A valid email address with its domain (@example.com/org/tech/edu/gov ...). It identifies the user: it is the userName and the primary work email."},
			{Header: "Role", Paths: []string{"roles[primary eq true].value"}, Enum: []string{"User", "Admin", "Supervisor"}, Required: RequiredOnCreate, Example: "User",
				Description: "User, Admin or Supervisor (exactly); kept as the user's primary role."},
			{Header: "Groups", Aliases: []string{"Group(s)", "Group"}, Kind: KindGroups, Multi: &MultiValue{Separator: ",", Merge: MergeAdd, None: "none"}, Example: "Group 1,Group 2",
				Description: "Groups to add the user to, separated by commas only (Group 1,Group 2). Added to the user's existing memberships, never removed from any. Each group must exist before the import (names match exactly). none: no groups."},
			{Header: "Source Username(s)", Aliases: []string{"Source Usernames", "Source Username"}, Paths: []string{"ims.value"},
				Multi: &MultiValue{Separator: ",", Merge: MergeAdd, TypeSeparator: ":"}, List: ListSources, Example: "slack:jdoe,teams:john.doe@example.com",
				Hint:        "Write source:username pairs separated by commas; the source must be enabled for the tenant.",
				Description: "The user's identifiers on communication platforms (sources), written source:username, several separated by commas. New identifiers are added to the existing ones. A source not enabled for the tenant fails the row (Unknown source)."},
		},
		Messages: &Messages{
			Preview: "{create} new users will be added and {update} existing users will be updated ({unchanged} unchanged, {error} with errors).",
		},
	}
}

// ContactCenterProfile is seed 002's user-detail template: insert-only
// (a lan id that exists is a duplicate), organisational units as groups
// (the hierarchy is group nesting: an agent's unit is a team, a group
// with no groups in it), the supervisor an existing user or one defined
// earlier in the file.
func ContactCenterProfile() *Profile {
	id := "^[A-Za-z0-9]+$"
	noSpecial := "Letters and digits only: no spaces or special characters."
	return &Profile{
		Name: ProfileContactCenter, Version: 1, Title: "Contact center agents (user detail template)",
		Description:  "Seed 002's user detail template. Inserts new agents and supervisors only: a row whose lan id exists is a duplicate and changes nothing. Results: duplicate, inserted, invalid.",
		ResourceType: "User", UnknownColumns: UnknownError, MatchKeys: []MatchKey{MatchUserName},
		Mode: ModeInsertOnly, Commit: CommitApplyValid,
		Columns: []Column{
			{Header: "lan id", Paths: []string{"userName"}, Required: RequiredAlways, Pattern: id, Unique: true, MaxLength: 64, Hint: noSpecial, Example: "johndoe22",
				Description: "The user's unique id (their userName). " + noSpecial},
			{Header: "first name", Paths: []string{"name.givenName"}, Required: RequiredAlways, MaxLength: 100, Example: "John", Description: "As it should appear in the system."},
			{Header: "last name", Paths: []string{"name.familyName"}, Required: RequiredAlways, MaxLength: 100, Example: "Doe", Description: "As it should appear in the system."},
			{Header: "agent id", Paths: []string{schema.EnterpriseURN + ":employeeNumber"}, Required: RequiredAlways, Pattern: id, Unique: true, UniqueInTenant: true, MaxLength: 64, Hint: noSpecial, Example: "johndoe22",
				Description: "The agent id (often the lan id); kept as the enterprise employeeNumber and used to match profile pictures. " + noSpecial},
			{Header: "pbx id", Paths: []string{`phoneNumbers[type eq "pbx"].value`}, Required: RequiredAlways, Pattern: "^[0-9]+$", Unique: true, UniqueInTenant: true, MaxLength: 20, IDLike: true, Example: "4021",
				Hint: "Digits only.", Description: "A unique number: no other row and no existing user may have it. Kept as the user's pbx phone number."},
			{Header: "profile", Paths: []string{"userType"}, Required: RequiredAlways, Enum: []string{"agent", "supervisor"}, Example: "agent",
				Description: "agent or supervisor (the userType)."},
			{Header: "supervisor", Paths: []string{schema.EnterpriseURN + ":manager.value"}, Ref: MatchUserName, RefEarlier: true, MaxLength: 64, Example: "janesmith1",
				Hint:        "Give the lan id of a user who exists or whom an earlier row of this file inserts.",
				Description: "The lan id of the user's supervisor: a user who already exists, or one defined on an earlier row of the file. Becomes the enterprise manager."},
			{Header: "org unit", Kind: KindGroups, Required: RequiredAlways, LeafWhen: &Condition{Column: "profile", Values: []string{"agent"}}, Example: "Team North",
				Description: "The organisational unit (a group; units nest as groups in groups). Must exactly match an existing unit. For an agent it must be a team: the lowest level, a unit with no units in it."},
			{Header: "role", Paths: []string{"roles.value"}, Required: RequiredAlways, List: ListRoles, MaxLength: 100, Example: "Agent",
				Description: "A role already defined in the tenant's role catalogue."},
			{Header: "access role", Paths: []string{`entitlements[type eq "accessRole"].value`}, MaxLength: 100, Description: "Optional; kept as the accessRole entitlement."},
			{Header: "crm name", Paths: []string{`entitlements[type eq "crm"].value`}, MaxLength: 100, Description: "Optional; kept as the crm entitlement."},
			{Header: "text chat greeting template name", Paths: []string{`entitlements[type eq "chatGreeting"].value`}, MaxLength: 100,
				Description: "Optional; kept as the chatGreeting entitlement."},
		},
		Messages: &Messages{
			Preview: "Preview: {create} to insert, {duplicate} duplicate (lan id already exists), {error} invalid.",
			Done:    "Import complete: {duplicate} duplicate records, {create} inserted records, {error} invalid records.",
		},
	}
}

// TenantUsersProfile is seed 003's users file: validate-then-load
// (nothing loads until every row is valid; loading validates again),
// roles separated by | and added to the catalogue as needed, DELETE rows,
// notifyIfNewUser, and the seed's messages.
func TenantUsersProfile() *Profile {
	return &Profile{
		Name: ProfileTenantUsers, Version: 1, Title: "Tenant users file",
		Description:  "Seed 003's users csv file: userId, tenant, firstName, lastName, email, enabled, reportsTo, roles, taskNotification, transaction, notifyIfNewUser. Validated first; loaded only when every row is valid.",
		ResourceType: "User", UnknownColumns: UnknownError, MatchKeys: []MatchKey{MatchUserName}, Commit: CommitAllOrNothing,
		Columns: []Column{
			{Header: "userId", Paths: []string{"userName"}, Required: RequiredAlways, Unique: true, MaxLength: 256, Example: "pat", Description: "The unique user id used for login. Required."},
			{Header: "tenant", Kind: KindTenant, Example: "", Description: "Optional; defaults to the current tenant. Another tenant's identifier is a validation error."},
			{Header: "firstName", Paths: []string{"name.givenName"}, MaxLength: 100, Example: "Pat", Description: "The user's first name."},
			{Header: "lastName", Paths: []string{"name.familyName"}, MaxLength: 100, Example: "Jones", Description: "The user's last name."},
			{Header: "email", Paths: []string{primaryEmail}, Required: RequiredAlways, Format: "email", MaxLength: 254, Example: "pat@example.com", Description: "The user's email address. Required."},
			{Header: "enabled", Paths: []string{"active"}, Type: TypeBoolean, CreateDefault: "false", Example: "true",
				Description: "true enables the user. A new user with a blank cell is not enabled; an existing user keeps their state."},
			{Header: "reportsTo", Paths: []string{schema.EnterpriseURN + ":manager.value"}, Ref: MatchUserName, MaxLength: 256, Example: "admin",
				Description: "The userId of the user this user reports to, if any: an existing user or one in this file."},
			{Header: "roles", Paths: []string{"roles.value"}, Multi: &MultiValue{Separator: "|", Merge: MergeReplace}, List: ListRoles, AddToList: true,
				Pattern: `^\S+$`, MaxLength: 100, Example: "Coordinator|Reviewer", Hint: "Role names cannot contain spaces or be longer than 100 characters.",
				Description: "The user's roles separated by |; the user ends up with exactly these. Roles missing from the tenant's catalogue are added to it. No spaces; at most 100 characters each."},
			{Header: "taskNotification", Paths: []string{`entitlements[type eq "taskNotification"].value`}, Enum: []string{"OFF", "Email"}, CreateDefault: "Email", Example: "Email",
				Description: "OFF or Email; blank (or no column) means Email for a new user. Kept as the taskNotification entitlement."},
			{Header: "transaction", Kind: KindActionColumn, Example: "",
				Description: "Blank: the user is updated if it exists, inserted otherwise. DELETE: the user is removed (deleting users needs support tier 2)."},
			{Header: "notifyIfNewUser", Kind: KindNotify, Example: "true",
				Description: "true sends a new user the \"you have an account\" message with the tenant's password-setup link; false (or blank) does not. Existing users are never notified."},
		},
		Action: &ActionColumn{Header: "transaction", Values: map[string]RowAction{"DELETE": ActionDelete}},
		Messages: &Messages{
			Preview: "Validation succeeded: {create} to add, {update} to update, {delete} to delete, {rolesAdded} roles to add. Load the file to apply it.",
			Invalid: "Validation failed: {error} rows have errors. No user is loaded until every row is valid; fix them and validate the file again.",
			Done:    "Users Loaded successfully. {create} Added, {update} Updated, {delete} Deleted, {rolesAdded} Roles Added.",
		},
	}
}

// ProfessionalUsersProfile is seed 004's batch upload: fixed column names
// and order (plus the tenant's organisation fields), at most 100 rows,
// individuals and facilities, the role chosen for the whole file at
// upload, rows the admin unticks left out, and per-row "send email".
func ProfessionalUsersProfile() *Profile {
	typeIs := func(v ...string) *Condition { return &Condition{Column: "Profile Type ID", Values: v} }
	return &Profile{
		Name: ProfileProfessionalUsers, Version: 1, Title: "Professional users batch upload",
		Description: "Seed 004's batch upload: fixed columns in a fixed order, then the tenant's custom organisation fields; at most 100 rows. " +
			"Users are matched by Internal ID or email address and updated only where the file differs; a blank cell keeps the stored value.",
		ResourceType: "User", StrictOrder: true, UnknownColumns: UnknownError, MatchKeys: []MatchKey{MatchID, MatchEmail},
		MaxRows: 100, Commit: CommitAllowExclusions, OrgFields: true, NotifyAtCommit: true,
		Options: []Option{{Name: "role", Title: "Role", Required: true, List: ListRoles, Path: "roles.value",
			Description: "The role every user of the file is loaded with (one of the tenant's roles)."}},
		Columns: []Column{
			{Header: "Internal ID", Paths: []string{"id"}, Example: "",
				Description: "The user's id in scimbridge, to update an existing user (or give their email address). Blank for a new user."},
			{Header: "Profile Type ID", Paths: []string{"userType"}, Required: RequiredOnCreate, ValueMap: map[string]any{"1": "Individual", "2": "Facility"},
				Pattern: "^(Individual|Facility)$", Hint: "Enter 1 for an individual or 2 for a facility.", Example: "1",
				Description: "1: an individual (email address, first and last name required). 2: a facility (email address and business name, in First Name, required). Kept as userType Individual or Facility."},
			{Header: "Email Address", Paths: []string{"userName", primaryEmail}, Required: RequiredOnCreate, Format: "email", Unique: true, MaxLength: 254,
				Example: "jane.doe@example.com", Description: "Required for a new user; finds an existing one (or use Internal ID). Becomes the userName and primary work email."},
			{Header: "First Name", Paths: []string{"name.givenName"}, RequiredIf: typeIs("1", "2"), MaxLength: 100, Example: "Jane",
				Hint: "For a facility, write the business name here.", Description: "An individual's first name, or a facility's business name. Required for a new user."},
			{Header: "Last Name", Paths: []string{"name.familyName"}, RequiredIf: typeIs("1"), MaxLength: 100, Example: "Doe",
				Description: "Required for a new individual; facilities leave it blank."},
			{Header: "Office", Paths: []string{`addresses[type eq "work"].formatted`}, Required: RequiredOnCreate, List: ListOffices, MaxLength: 200, Example: "Main Street Clinic",
				Description: "The user's location, exactly as the office is named in the tenant's settings. Required for a new user."},
			{Header: "Profile Status", Paths: []string{"active"}, Type: TypeBoolean, ValueMap: map[string]any{"ACTIVE": true, "INACTIVE": false, "DELETED": nil},
				Enum: []string{"ACTIVE", "INACTIVE", "DELETED"}, CreateDefault: "INACTIVE", Example: "ACTIVE",
				Description: "ACTIVE, INACTIVE or DELETED (deletes the user, tier permitting). New users are INACTIVE unless the file says otherwise."},
			{Header: "Mobile Phone", Paths: []string{`phoneNumbers[type eq "mobile"].value`}, Pattern: "^[0-9]{10}$", IDLike: true, Example: "5551234567",
				Hint: "10 digits, without spaces, hyphens, periods or parentheses.", Description: "A 10-digit number with no spaces, hyphens, periods, parentheses or other characters."},
			{Header: "Mobile Phone Country", Paths: []string{`addresses[type eq "work"].country`}, Pattern: "^[A-Z]{3}$", Example: "USA",
				Hint: "A 3-letter country code in capitals, e.g. USA or CAN.", Description: "A 3-letter country code (USA, CAN); kept as the work address's country."},
		},
		Action: &ActionColumn{Header: "Profile Status", Values: map[string]RowAction{"ACTIVE": ActionUpsert, "INACTIVE": ActionUpsert, "DELETED": ActionDelete}},
		Messages: &Messages{
			Done: "Batch upload finished: {create} created, {update} updated, {delete} deleted, {unchanged} unchanged, {excluded} not selected, {error} failed.",
		},
	}
}
