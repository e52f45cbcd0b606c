// Package csvbridge is the CSV bridge: it turns an admin's spreadsheet of
// users into SCIM records a planner can apply through the directory
// service. It reads, maps and validates files, plans their rows (a
// preview) and commits the plan. It is HTTP-free and store-free: it
// imports internal/directory (the service), internal/schema (the
// attribute registry), internal/filter (attribute paths) and
// internal/policy (tiers), never scim or a backend.
//
// # Reading
//
// NewReader streams a file row by row. Before parsing it caps the size
// (Limits.MaxBytes, default 64 MiB, checked as bytes arrive) and later the
// number of data rows (Limits.MaxRows, default 200,000; a profile may
// lower it). It accepts UTF-8 with or without a byte order mark and UTF-16
// LE/BE with one; an invalid byte, a NUL or an unpaired surrogate fails the
// file with its line and column; a zip (an .xlsx saved by mistake) is named
// as such. The delimiter is the one of , ; tab | that occurs most often
// outside quotes in the header, unless an Excel "sep=;" first line names
// it. A Microsoft Entra "version:v1.0" first line is skipped. Quoted fields
// may hold delimiters, quotes and newlines; CRLF and LF both end rows.
// Header cells are parsed leniently (a hand-typed emails[type eq "work"].value
// keeps its quotes), data rows strictly: a stray quote fails the file with
// its line and column rather than silently swallowing the rows after it.
//
// Rows are numbered as a spreadsheet shows them: the header is row 1 (row 2
// after a sep= or version line), a quoted field spanning lines is one row,
// and blank rows (also rows of empty cells, as spreadsheets save them)
// count but are never returned. Trailing blank lines are ignored. A file
// with no rows fails with "Users file is empty" (seed 003's message).
//
// # Mapping
//
// A Profile is data (JSON-serialisable, versioned): its columns map to SCIM
// attribute paths (userName, name.givenName, emails[type eq "work"].value,
// urn:...:enterprise:2.0:User:department) with rules: required (always, or
// on create only), type, format, pattern, enum, length, value maps
// ("Active" -> true), multi-value separator and merge, uniqueness in the
// file. It also names its match keys in order (id, userName, email,
// externalId), the token that clears an attribute (a blank cell keeps the
// existing value), an optional row-action column (upsert, deactivate,
// delete), a row limit and the commit policy (apply-valid, all-or-nothing,
// allow-exclusions). The built-in profiles are "scim", whose headers are
// SCIM paths checked against the schema registry, and "support-tiers"
// (seed 000).
//
// Bind matches a header to a profile after trimming and case-folding;
// Entra's "User name [userName] Required" headers match by the bracketed
// key. Missing, duplicate and (per profile) unknown columns, a wrong order
// where the profile fixes one, and a header with no match-key column are
// file-level issues, all reported at once in a *FileError.
//
// # Validating
//
// Mapping.Map turns one row into a Row: every cell un-escaped (Unescape
// undoes the apostrophe Escape puts before = + - @ tab CR in our exports),
// trimmed, converted and checked. Each problem is an Issue with a stable
// code (required, invalid_email, enum, too_long, pattern, ...), the row
// number, the column as written, the rule and a hint. Values a spreadsheet
// has mangled (ids in scientific notation, lost leading zeros, dates turned
// into serial numbers) are warnings. The Validator adds the checks that
// need earlier rows: duplicates in the file by match key and unique column.
// Open and Import.Next combine the three for a stream of rows.
//
// # How the planner consumes it
//
// For each Row the planner reads Row.Record:
//   - Match lists the row's match keys with values in profile order; the
//     planner batches lookups by the first key (many userNames, emails,
//     externalIds or ids per statement) and decides create or update.
//   - Action is upsert, deactivate or delete.
//   - Fields are (target path, typed value) pairs. An update is a PATCH
//     merge: one operation per field, path Target.Path, op "replace" (or
//     "add" for a multi-valued Field with Merge add), "remove" for a Field
//     with Clear set; the planner diffs against the stored user so that
//     unchanged rows write nothing. Target.Filter and Target.Element find
//     or create the element of a value path. A Field whose
//     Target.MatchOnly is set (the id column) only finds the user.
//   - A create sends Record.Document(), a SCIM resource body that
//     schema.ResourceType.Normalize accepts, and adds Record.CreateIssues
//     (columns required on create that are blank or absent) to the row's
//     errors.
//
// # Planning
//
// A Planner (NewPlanner; one per file and principal) plans the rows in
// batches given in file order (Plan). Per batch it:
//   - looks users up by each row's first match key, one
//     directory.Service.UsersByKeys call per key kind (all the batch's
//     userNames in statements of 1,000, ...); a key that finds several
//     users, or a further match key of the row that finds a user other
//     than the first key's, is match_conflict; a row whose first key
//     finds nobody creates (an id that finds nobody is not_found);
//   - decides the action: upsert creates (Record.Document, plus
//     CreateIssues) or diffs each field against the stored document and
//     PATCHes only what differs (replace; add of the absent values for a
//     multi-valued cell with merge add, replace of the list with merge
//     replace; remove for the clear token; a value path replaces the
//     selected element's sub-attribute, creating the element only when
//     none matches), unchanged when nothing differs; deactivate is a
//     PATCH of active false (unchanged when already inactive, not_found
//     when nobody matches); delete deletes (skip, with a warning, when
//     nobody matches). A matched user above the principal's tier is an
//     error (forbidden) even when the row would change nothing;
//   - runs every writing row through Service.Apply with DryRun (source
//     csv, rule csv.import): the directory's validation, tier policy and
//     userName uniqueness against the store and within the batch; a
//     refusal becomes an error row with the code ErrorCode gives.
//
// userName uniqueness across batches is the planner's: it keeps a 128-bit
// hash of every userName the file's creates and renames claim (a later
// row claiming one again is duplicate_in_file) and of those renames and
// deletes free (the dry run, which writes nothing, still sees them taken
// in the store; the commit frees them first). The dry run itself stays
// per batch: carrying its overlay across batches would hold every
// created user in memory.
//
// References: a profile column with Ref (the scim profile's "manager")
// names another user by userName, email or externalId. The planner takes
// such cells out of the record (Mapping.takeLinks), resolves them against
// the store (one UsersByKeys call per key kind and batch) and the
// userNames the file claims, and keeps them on the row as Links (dropped
// when the user already holds that reference). A userName nobody has yet
// waits for a later row; Planner.Finish fails the rows whose reference no
// row of the whole file resolved (unknown_reference).
//
// # Committing
//
// Commit applies planned rows (a chunk of a stored plan) through
// Service.Apply: creates, PATCH merges and deletes, each carrying the
// version the preview saw, so a user changed since fails with
// stale_preview and is not overwritten. Re-planning a committed file
// gives unchanged rows that write nothing. Rows with Links are then
// linked by LinkRows, a second pass once every row is written, so a row
// may reference a user created further down. Reconcile tells, after a
// crash, which rows a worker had applied (a create's userName exists, an
// update's version moved, a delete's user is gone).
//
// Row.OK says whether the row has errors; under the profile's commit
// policy the planner applies the valid rows, refuses the file, or lets the
// admin exclude rows. Row.Cells keeps the cells as written for the report,
// which repeats the original columns (ReportColumns are ignored when a
// report is uploaded again). Rows stream: nothing here holds more than
// one decoded row, plus one short key per distinct match value for the
// duplicate check.
//
// # Seed profiles and profile capabilities
//
// The seed documents' formats (people-directory, contact-center-agents,
// tenant-users, professional-users) are profiles, not code paths: what
// they need is profile data a custom profile (PUT /csv/profiles/{name},
// stored per tenant and version in store.CSVProfiles) can say too.
// Column kinds: groups (display names of existing groups the user is
// added to, never removed from; set after the row is written, like
// references; LeafWhen requires a group without groups in it, the lowest
// level of a hierarchy built by nesting), tenant (blank or the caller's
// tenant), notify (ask for the account message on create), action (places
// the action column). Tenant lists (List: roles, offices, sources) are
// checked against directory.TenantSettings given in an Env; AddToList
// roles are collected by the planner (NewRoles), counted in the preview
// (rolesAdded) and added with directory.Service.EnsureRoles just before
// the commit's first row. Multi-values may have a none token and typed
// values (source:username -> {type, value}); CreateDefault is a blank
// cell's meaning on create only (the diff ignores it); RequiredIf makes a
// column required on create under a condition on another cell; a value
// map to null writes nothing (Profile Status DELETED is an action). Mode
// insert-only turns a matched row into a duplicate. Options are given
// once per upload and written to every row; NotifyAtCommit takes the
// admin's per-row e-mail choice with the commit. An all-or-nothing commit
// plans the file again before loading (beforeLoad) and loads nothing when
// a row now fails or would do something else. Messages give a profile its
// own sentences ("Users Loaded successfully. {create} Added, ...").
// FieldGuide describes a profile column by column.
//
// # Exporting
//
// An Exporter (Jobs.Exporter, or NewExporter) writes users or groups as
// CSV that the import reads back. Prepare checks a request before a byte
// is written (csv.export, csv.export.raw for unescaped cells, the
// profile, the columns, the filter with any preset: PresetFilter);
// Export.Write then streams: directory.Service.ExportUsers walks the
// result by keyset pages (a timeout per page, no count), each resource's
// columns are read the way the planner's diff reads them (the first
// element a value path selects, every value of a multi-valued target
// joined by JoinMulti, a profile's value map reversed), every cell goes
// through Escape, and the output is flushed every few hundred rows. A
// file exported with a profile re-imports with it as all unchanged.
// ExportRequest.MemberRows writes groups one row per membership.
//
// # Jobs of other kinds
//
// A job's Kind says what it does; the worker, the store's claim and lease,
// the rows, the counts and the report are shared:
//   - import: the above.
//   - action (SubmitAction): an operation on the users a filter selects
//     (add or remove a role or a group membership, deactivate,
//     reactivate). Its "validation" walks the users with
//     directory.Service.SelectUsers (keyset pages, no export audit) and
//     plans one row per user with the same Planned type, so Commit,
//     exclusions, the resumable pipelined commit, Reconcile and the report
//     are the import's. A membership row (Planned.Group) PATCHes the group
//     without a version (a group's version moves with every member) and is
//     re-applied after a crash rather than reconciled, which is safe
//     because adding a member twice or removing a non-member writes
//     nothing. Commits run under policy csv.action; group operations need
//     group.update, checked at submit so a tier-1 caller is told at once.
//   - export (SubmitExport): the streaming export written to a temporary
//     file, then stored as the job's upload with the job completed in one
//     transaction (store.Jobs.ReplaceJobUpload), so a download is the
//     same bytes as the streaming GET and expires like an upload. It runs
//     in the stored state validating, shown as "running".
//
// # Profile pictures
//
// ImportPhotos takes a ZIP (io.ReaderAt, spooled to disk by the handler)
// and never trusts it: names, declared sizes and ratios are checked
// before an entry is opened, actual sizes through a limit while it is
// read, content by sniffing and decoding the image header. The matched
// users' changes are dry-run before any picture is stored, then the
// pictures are stored and the users PATCHed a chunk at a time; a picture
// whose PATCH fails is deleted again. Pictures live in the store
// (store.Photos), one row each, deleted with their user.
package csvbridge
