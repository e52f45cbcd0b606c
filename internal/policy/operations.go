package policy

// Operation names one thing the service does. Every route, Bulk operation,
// CSV row and web page maps to one of these before it touches data.
type Operation string

// The operations. Keep Operations() and the table below in step: a test
// fails when an operation has no rule.
const (
	// UserRead reads, lists and searches users.
	UserRead Operation = "user.read"
	// UserCreate creates a user.
	UserCreate Operation = "user.create"
	// UserUpdate changes a user (PUT, PATCH, a Bulk or CSV update) in any way
	// other than only deactivating it.
	UserUpdate Operation = "user.update"
	// UserDeactivate is a change whose only effect is active true -> false.
	UserDeactivate Operation = "user.deactivate"
	// UserDelete deletes a user.
	UserDelete Operation = "user.delete"
	// GroupRead reads, lists and searches groups.
	GroupRead Operation = "group.read"
	// GroupCreate creates a group.
	GroupCreate Operation = "group.create"
	// GroupUpdate changes a group, including its members.
	GroupUpdate Operation = "group.update"
	// GroupDelete deletes a group.
	GroupDelete Operation = "group.delete"
	// BulkRun runs a /Bulk request (each operation inside is decided on its own).
	BulkRun Operation = "bulk.run"
	// CSVImport runs a CSV import (each row is decided on its own).
	CSVImport Operation = "csv.import"
	// CSVExport exports users or groups as CSV with formula-escaped cells.
	CSVExport Operation = "csv.export"
	// CSVExportRaw exports CSV without formula escaping.
	CSVExportRaw Operation = "csv.export.raw"
	// CSVAction runs an action on a filtered set of users (add or remove a
	// role or a group membership, deactivate, reactivate); each user's
	// change is decided on its own.
	CSVAction Operation = "csv.action"
	// PhotoImport uploads profile pictures for users (each user's change
	// is decided on its own).
	PhotoImport Operation = "csv.photos"
	// CredentialManage creates, lists and revokes provisioning secrets.
	CredentialManage Operation = "credential.manage"
	// TenantManage creates tenants and changes tenant settings.
	TenantManage Operation = "tenant.manage"
	// AuditRead reads or exports the audit log.
	AuditRead Operation = "audit.read"
	// SelfRead reads the caller's own user (/Me).
	SelfRead Operation = "self.read"
	// SettingsRead reads the tenant's settings (none of them are secret).
	SettingsRead Operation = "settings.read"
	// RoleAdd adds roles to the tenant's role catalogue (a CSV import
	// creating the roles its rows name).
	RoleAdd Operation = "role.add"
	// OutboxRead lists the tenant's outgoing e-mail messages.
	OutboxRead Operation = "outbox.read"
	// CSVProfileWrite stores a tenant's own CSV import profile.
	CSVProfileWrite Operation = "csv.profile.write"
)

// rule is one row of the policy table.
type rule struct {
	tier Tier
	// doing describes the operation for error texts: "<doing> needs <tier>".
	doing string
	// changes is true when the operation may change a user's (or a
	// credential's) tier, so the effect rule applies. Reads ignore Effect.
	changes bool
	// kinds, when not nil, restricts the operation to these principal kinds.
	kinds []Kind
}

// table is THE policy: operation -> minimum tier. Baseline (DESIGN.md §5,
// issue 6): tier 0 reads and searches; tier 1 creates, updates and
// deactivates users, runs Bulk and CSV imports; tier 2 also deletes users,
// manages groups and provisioning secrets and reads the audit log; tier 3
// everything, including tenant settings and raw (unescaped) exports.
var table = map[Operation]rule{
	UserRead:         {tier: Tier0HelpDesk, doing: "reading users"},
	GroupRead:        {tier: Tier0HelpDesk, doing: "reading groups"},
	SelfRead:         {tier: Tier0HelpDesk, doing: "reading your own user (/Me)", kinds: []Kind{KindPerson}},
	CSVExport:        {tier: Tier0HelpDesk, doing: "exporting CSV"},
	UserCreate:       {tier: Tier1Operations, doing: "creating users", changes: true},
	UserUpdate:       {tier: Tier1Operations, doing: "updating users", changes: true},
	UserDeactivate:   {tier: Tier1Operations, doing: "deactivating users", changes: true},
	BulkRun:          {tier: Tier1Operations, doing: "running Bulk requests", changes: true},
	CSVImport:        {tier: Tier1Operations, doing: "importing CSV", changes: true},
	CSVAction:        {tier: Tier1Operations, doing: "running actions on a filtered set of users", changes: true},
	PhotoImport:      {tier: Tier1Operations, doing: "importing profile pictures", changes: true},
	UserDelete:       {tier: Tier2SoftwarePartner, doing: "deleting users", changes: true},
	GroupCreate:      {tier: Tier2SoftwarePartner, doing: "creating groups", changes: true},
	GroupUpdate:      {tier: Tier2SoftwarePartner, doing: "updating groups", changes: true},
	GroupDelete:      {tier: Tier2SoftwarePartner, doing: "deleting groups", changes: true},
	CredentialManage: {tier: Tier2SoftwarePartner, doing: "managing provisioning credentials", changes: true},
	AuditRead:        {tier: Tier2SoftwarePartner, doing: "reading the audit log"},
	TenantManage:     {tier: Tier3Engineering, doing: "managing tenants", changes: true},
	CSVExportRaw:     {tier: Tier3Engineering, doing: "exporting unescaped CSV"},
	SettingsRead:     {tier: Tier0HelpDesk, doing: "reading tenant settings"},
	RoleAdd:          {tier: Tier1Operations, doing: "adding roles to the role catalogue"},
	OutboxRead:       {tier: Tier2SoftwarePartner, doing: "reading the e-mail outbox"},
	CSVProfileWrite:  {tier: Tier2SoftwarePartner, doing: "storing CSV import profiles"},
}

// Operations lists every operation, in declaration order.
func Operations() []Operation {
	return []Operation{
		UserRead, UserCreate, UserUpdate, UserDeactivate, UserDelete,
		GroupRead, GroupCreate, GroupUpdate, GroupDelete,
		BulkRun, CSVImport, CSVExport, CSVExportRaw, CSVAction, PhotoImport,
		CredentialManage, TenantManage, AuditRead, SelfRead,
		SettingsRead, RoleAdd, OutboxRead, CSVProfileWrite,
	}
}

// tierUnreachable is what Required answers for an operation without a rule:
// above every real tier, so a check p.Tier >= Required(op) fails closed.
const tierUnreachable = Tier3Engineering + 1

// Required is the lowest tier that may perform op. An operation with no
// rule in the table needs a tier nobody has (Known reports whether op has
// a rule).
func Required(op Operation) Tier {
	if r, ok := table[op]; ok {
		return r.tier
	}
	return tierUnreachable
}

// Known reports whether op has a rule in the policy table.
func Known(op Operation) bool {
	_, ok := table[op]
	return ok
}

// ChangesTiers reports whether the effect rule applies to op, that is
// whether op can create, change or remove something that has a tier.
// Reads return false and ignore the Effect passed to Decide.
func ChangesTiers(op Operation) bool {
	return table[op].changes
}
