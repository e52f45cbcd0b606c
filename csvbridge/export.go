package csvbridge

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
)

// Exporter writes users and groups as CSV files that the import reads
// back: columns from a profile (its value maps reversed, multi-valued
// cells joined with its separator), from SCIM attribute paths (the scim
// profile, the default) or from an explicit attribute list; every cell
// formula-escaped (Escape) unless the caller may and does ask for raw
// output. It streams: one page of resources and one row in memory.
type Exporter struct {
	dir      *directory.Service
	profiles func(name string) (*Profile, bool)
	// find, when set, finds profiles as the caller's tenant uses them (its
	// own profiles, its organisation fields); Jobs.Exporter sets it.
	find func(ctx context.Context, p policy.Principal, name string) (*Profile, bool)
}

// NewExporter returns an exporter over the directory; profiles finds
// profiles by name (nil: the built-in ones).
func NewExporter(dir *directory.Service, profiles func(name string) (*Profile, bool)) *Exporter {
	if profiles == nil {
		profiles = Builtin
	}
	return &Exporter{dir: dir, profiles: profiles}
}

// Exporter returns the exporter over the job service's directory and
// profiles.
func (j *Jobs) Exporter() *Exporter {
	x := NewExporter(j.dir, j.profiles)
	x.find = func(ctx context.Context, p policy.Principal, name string) (*Profile, bool) {
		prof, err := j.ProfileFor(ctx, p, name)
		return prof, err == nil // any failure reads as "no such profile" to Prepare
	}
	return x
}

// Export resource types.
const (
	ExportUsers  = "User"
	ExportGroups = "Group"
)

// ExportRequest is what to export and how to write it.
type ExportRequest struct {
	// Resource is ExportUsers (default) or ExportGroups.
	Resource string
	// Profile names the columns of a user export (default "scim").
	Profile string
	// Attributes, when set, are the columns: SCIM paths under the scim
	// profile and for groups, column headers of another profile.
	Attributes []string
	// Preset is a named filter (PresetFilter), combined with Filter by and.
	Preset string
	Filter string
	SortBy string
	// Descending sorts by SortBy descending.
	Descending bool
	// Raw writes cells unescaped (csv.export.raw, tier 3).
	Raw bool
	// NoBOM leaves out the UTF-8 byte order mark; LF ends rows with LF
	// instead of CRLF (for scripts).
	NoBOM, LF bool
	// Delimiter is ',' (default) or another single character such as ';'.
	Delimiter rune
	// PageSize is the directory's page (directory.DefaultExportPage).
	PageSize int
	// MemberRows writes groups.csv one row per membership (the group's
	// columns repeated, then the member's members.value and
	// members.display; a group without members has one row with those
	// cells empty) instead of one members column (groups only).
	MemberRows bool
}

// Export is a prepared export: its columns resolved, its filter and the
// caller's rights checked, nothing read yet.
type Export struct {
	dir     *directory.Service
	p       policy.Principal
	req     ExportRequest
	profile string
	filter  string
	columns []exportColumn
	// members are the member sub-attributes written per row (MemberRows).
	members []string
}

// Prepare checks an export request (policy, profile, columns, filter)
// before anything is written, so that a refusal can still be an HTTP
// error.
func (e *Exporter) Prepare(ctx context.Context, p policy.Principal, req ExportRequest) (*Export, error) {
	x := &Export{dir: e.dir, p: p, req: req}
	if req.Resource == "" {
		x.req.Resource = ExportUsers
	}
	if err := x.checkFormat(); err != nil {
		return nil, err
	}
	if err := x.resolveFilter(); err != nil {
		return nil, err
	}
	reg, err := e.dir.TenantRegistry(ctx, p)
	if err != nil {
		return nil, err
	}
	lookup := e.profiles
	if e.find != nil {
		lookup = func(name string) (*Profile, bool) { return e.find(ctx, p, name) }
	}
	if err := x.resolveColumns(reg, lookup); err != nil {
		return nil, err
	}
	if err := e.dir.CheckExport(ctx, p, x.req.Resource, x.filter, req.SortBy, req.Raw); err != nil {
		return nil, err
	}
	return x, nil
}

func (x *Export) checkFormat() error {
	d := x.req.Delimiter
	if d == 0 {
		x.req.Delimiter = ','
		return nil
	}
	if d == '"' || d == '\r' || d == '\n' || d == '\\' || d == '\'' || d > 127 {
		return errorf(http.StatusBadRequest, "invalidValue", "The delimiter %q cannot be used; use , ; | or a tab.", d)
	}
	return nil
}

func (x *Export) resolveFilter() error {
	if x.req.Preset != "" && x.req.Resource != ExportUsers {
		return presetError("Presets select users; filter groups with filter=.")
	}
	preset, err := PresetFilter(x.req.Preset)
	if err != nil {
		return err
	}
	parts := make([]string, 0, 2)
	for _, f := range []string{preset, strings.TrimSpace(x.req.Filter)} {
		if f != "" {
			parts = append(parts, "("+f+")")
		}
	}
	x.filter = strings.Join(parts, " and ")
	return nil
}

// resolveColumns picks the columns from the caller's tenant's registry
// (reg), so its organisation fields can be exported; the scim profile's
// default columns end with them.
func (x *Export) resolveColumns(reg *schema.Registry, profiles func(string) (*Profile, bool)) error {
	if x.req.MemberRows && x.req.Resource != ExportGroups {
		return errorf(http.StatusBadRequest, "invalidValue", "members=rows applies to groups.csv only.")
	}
	if x.req.Resource == ExportGroups {
		cols := x.req.Attributes
		if len(cols) == 0 {
			cols = groupExportColumns
		}
		if x.req.MemberRows {
			cols, x.members = splitMemberColumns(cols)
		}
		var err error
		x.columns, err = pathColumns(reg.Group, cols)
		return err
	}
	name := x.req.Profile
	if name == "" {
		name = ProfileSCIM
	}
	prof, ok := profiles(name)
	if !ok {
		return errorf(http.StatusNotFound, "", "Profile %q does not exist; GET /csv/profiles lists them.", name)
	}
	x.profile = prof.Name
	var err error
	if prof.HeadersArePaths { // its named columns (references) are for import; paths export
		cols := x.req.Attributes
		if len(cols) == 0 {
			cols = append(slices.Clip(scimExportColumns), orgColumns(reg.User)...)
		}
		x.columns, err = pathColumns(reg.User, cols)
	} else {
		x.columns, err = profileColumns(prof, reg.User, x.req.Attributes)
	}
	if err == nil && len(x.columns) == 0 {
		err = errorf(http.StatusBadRequest, "invalidValue", "The export has no columns.")
	}
	return err
}

// splitMemberColumns takes the members.* columns out of a group export's
// columns: their sub-attributes (default value and display) are written
// one row per member.
func splitMemberColumns(cols []string) (group, members []string) {
	for _, c := range cols {
		name, sub, _ := strings.Cut(strings.TrimSpace(c), ".")
		switch {
		case !strings.EqualFold(name, "members"):
			group = append(group, c)
		case sub == "" || strings.EqualFold(sub, "value"):
			members = appendNew(members, "value")
		case strings.EqualFold(sub, "display"), strings.EqualFold(sub, "type"):
			members = appendNew(members, strings.ToLower(sub))
		default:
			group = append(group, c) // pathColumns names the bad path
		}
	}
	if len(members) == 0 {
		members = []string{"value", "display"}
	}
	if !slices.Contains(members, "display") && len(members) == 1 {
		members = append(members, "display")
	}
	return group, members
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// Header is the export's header row.
func (x *Export) Header() []string {
	out := make([]string, len(x.columns), len(x.columns)+len(x.members))
	for i, c := range x.columns {
		out[i] = c.header
	}
	for _, m := range x.members {
		out = append(out, "members."+m)
	}
	return out
}

// Filter is the SCIM filter the export runs (preset and filter combined).
func (x *Export) Filter() string { return x.filter }

// FileName is the download's file name: users-<profile>-<date>.csv or
// groups-<date>.csv.
func (x *Export) FileName(now time.Time) string {
	date := now.UTC().Format("20060102")
	if x.req.Resource == ExportGroups {
		return "groups-" + date + ".csv"
	}
	return "users-" + x.profile + "-" + date + ".csv"
}

// flushEvery is how many rows are written between flushes to the client.
const flushEvery = 512

// Write runs the export into w: the byte order mark (unless NoBOM), the
// header and one row per resource, flushing every few hundred rows (and
// calling flush, if set, to push them to the client). It stops at the
// first write error (a client gone) or when ctx ends, and returns the
// number of data rows written. The export is audited either way.
func (x *Export) Write(ctx context.Context, w io.Writer, flush func()) (int, error) {
	bw := bufio.NewWriterSize(w, 32<<10)
	if !x.req.NoBOM {
		if _, err := bw.WriteString("\ufeff"); err != nil {
			return 0, fmt.Errorf("write export: %w", err)
		}
	}
	cw := csv.NewWriter(bw)
	cw.Comma, cw.UseCRLF = x.req.Delimiter, !x.req.LF
	if err := cw.Write(x.Header()); err != nil {
		return 0, fmt.Errorf("write export: %w", err)
	}
	width := len(x.columns) + len(x.members)
	rw := &rowWriter{x: x, record: make([]string, width)}
	q := directory.ExportQuery{Filter: x.filter, SortBy: x.req.SortBy, Descending: x.req.Descending, Columns: x.Header(),
		Raw: x.req.Raw, PageSize: x.req.PageSize, Groups: x.reads("groups"), Members: x.reads("members") || len(x.members) > 0,
		Indexed: x.req.Resource == ExportUsers}
	if x.refColumns() {
		rw.refs = &refResolver{x: x}
		q.Page = rw.refs.page
	}
	walk := x.dir.ExportUsers
	if x.req.Resource == ExportGroups {
		walk = x.dir.ExportGroups
	}
	rw.sink = newSink(cw, bw, flush, width, !x.req.Raw)
	n, err := walk(ctx, x.p, q, rw.row)
	if cerr := rw.sink.close(); err == nil {
		err = cerr
	}
	return n, err
}

// reads reports whether a column reads the top-level attribute name.
func (x *Export) reads(name string) bool {
	for _, c := range x.columns {
		if c.groups && name == "groups" {
			return true
		}
		for _, t := range c.targets {
			if !t.Attr.Extension && t.Attr.Name == name {
				return true
			}
		}
	}
	return false
}

// rowWriter works out the rows as the directory hands the resources
// over, and queues them to its sink.
type rowWriter struct {
	x      *Export
	sink   *sink
	record []string
	// refs resolves reference columns (nil when there are none).
	refs *refResolver
	// src is the row being written.
	src source
}

func (rw *rowWriter) row(r *directory.Resource) error {
	if err := rw.src.reset(r); err != nil {
		return err
	}
	for i := range rw.x.columns {
		rw.record[i] = rw.x.columns[i].read(&rw.src, rw.refs)
	}
	if err := rw.src.check(); err != nil {
		return err
	}
	if len(rw.x.members) > 0 {
		doc, err := r.Document()
		if err != nil {
			return err
		}
		return rw.memberRows(doc)
	}
	return rw.write()
}

// memberRows writes one row per member of a group (one row with empty
// member cells for a group without members).
func (rw *rowWriter) memberRows(doc schema.Doc) error {
	members := asList(doc["members"])
	if len(members) == 0 {
		members = []any{map[string]any{}}
	}
	n := len(rw.x.columns)
	for _, el := range members {
		m, _ := el.(map[string]any)
		for i, sub := range rw.x.members {
			rw.record[n+i] = valueText(m[sub])
		}
		if err := rw.write(); err != nil {
			return err
		}
	}
	return nil
}

// write queues the record.
func (rw *rowWriter) write() error { return rw.sink.add(rw.record) }

// orgColumns are the paths of the tenant's organisation fields (none for
// a tenant without them).
func orgColumns(rt *schema.ResourceType) []string {
	ext, ok := rt.Extension(schema.OrgURN)
	if !ok {
		return nil
	}
	out := make([]string, len(ext.Schema.Attributes))
	for i, a := range ext.Schema.Attributes {
		out[i] = schema.OrgURN + ":" + a.Name()
	}
	return out
}
