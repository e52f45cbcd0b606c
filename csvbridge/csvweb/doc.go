// Package csvweb is the web console under /ui: server-rendered pages
// (html/template, templates and assets embedded in the binary, no
// JavaScript build step) for everything the CSV bridge offers, imports
// (profile, template and field guide, upload, file facts and column
// mapping, counts, errors, diffs, excluded rows, commit, live progress,
// summary, report and failed rows) and their history, and exports, and
// for the directory around them: users (SCIM filter or plain-text search,
// sorting, paging, detail with groups and recent audit events), groups,
// the audit log and the tenant settings (tier 3).
//
// The pages live here, in one package, because they share one layout, one
// navigation and one notion of the signed-in session; they call the same
// Go services as the API (csvbridge.Jobs, csvbridge.Exporter,
// directory.Service), with the same principal, so every decision is the
// policy's. Each page offers only what the tier may do, and the services
// refuse the rest anyway (403 page). Downloads (templates, reports,
// exports, a job's JSON for the progress script) are the CSV API's own
// GET handlers, mounted under /ui/csv behind the session.
//
// Sign-in, sessions and CSRF are internal/websession's: every POST here
// has passed its token check before a handler runs. The core flow works
// without JavaScript (a refresh tag follows a running job); static/app.js
// adds upload progress, live job progress and select-all. Errors are shown
// next to the field they concern (the file input, the search box) and
// marked aria-invalid; a refused upload changes nothing, and earlier jobs
// stay in the history.
package csvweb
