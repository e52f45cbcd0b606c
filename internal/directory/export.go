package directory

import (
	"context"
	"fmt"
	"github.com/scimbridge/scimbridge/internal/jsondoc"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

// Defaults of an export walk.
const (
	DefaultExportPage        = 1000
	DefaultExportPageTimeout = 30 * time.Second
)

// ExportQuery is what an export walks: the resources a SCIM filter selects
// (empty: all), in one order, page by page.
type ExportQuery struct {
	Filter     string
	SortBy     string
	Descending bool
	// Columns name what the file holds; they go into the audit event.
	Columns []string
	// Raw asks for cells without formula escaping: policy csv.export.raw.
	Raw bool
	// Groups loads User.groups (a column reads it); Members loads
	// Group.members.
	Groups, Members bool
	// PageSize is the number of resources per store statement
	// (DefaultExportPage); PageTimeout bounds each page, never the whole
	// walk (DefaultExportPageTimeout).
	PageSize    int
	PageTimeout time.Duration
	// Indexed asks the walk to index the users' stored documents
	// (Resource.View) instead of decoding them: for a caller that reads a
	// few members of each and would spend most of its time building maps
	// it never looks at. A document the index does not take (anything
	// unusual) is decoded as usual.
	Indexed bool
	// Page, when set, sees each page (projected) before fn sees its
	// resources one by one: a writer resolves what a whole page
	// references in one look-up rather than one per row.
	Page func(ctx context.Context, page []*Resource) error
}

func (q ExportQuery) page() (int, time.Duration) {
	n, d := q.PageSize, q.PageTimeout
	if n <= 0 {
		n = DefaultExportPage
	}
	if d <= 0 {
		d = DefaultExportPageTimeout
	}
	return n, d
}

// ExportUsers walks the users q selects and calls fn with each, its
// document decoded and projected for export (ExportProjection). In the
// default order (no SortBy) pages continue after the last row's creation
// time and id (keyset paging, so the walk never repeats or skips a user
// and a deep page costs what the first does); with SortBy they continue
// by offset, ties broken by id. No page counts the total. The walk stops
// at fn's first error or when ctx ends. Every walk, finished or not, is
// audited: actor, filter, columns and the number of rows fn accepted.
func (s *Service) ExportUsers(ctx context.Context, p policy.Principal, q ExportQuery, fn func(*Resource) error) (int, error) {
	load := store.UserLoad{Groups: q.Groups, WithoutEmails: true}
	reg, err := s.registryFor(ctx, p.Tenant)
	if err != nil {
		return 0, err
	}
	return s.export(ctx, p, reg.User, q, s.userPage(reg, p.Tenant, load), fn)
}

// userPage reads one keyset page of the tenant's users as Resources of its
// User type.
func (s *Service) userPage(reg *schema.Registry, tenant string, load store.UserLoad) pageFunc {
	return func(ctx context.Context, sq store.Query) ([]*Resource, error) {
		users, _, err := s.store.ListUsers(ctx, tenant, sq, load)
		if err != nil {
			return nil, err
		}
		out := make([]*Resource, len(users))
		for i, u := range users {
			if out[i], err = s.userResource(reg.User, u, u.Groups); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
}

// ExportGroups is ExportUsers for groups (with their members when
// q.Members).
func (s *Service) ExportGroups(ctx context.Context, p policy.Principal, q ExportQuery, fn func(*Resource) error) (int, error) {
	load := store.GroupLoad{Members: q.Members}
	return s.export(ctx, p, s.reg.Group, q, func(ctx context.Context, sq store.Query) ([]*Resource, error) {
		groups, _, err := s.store.ListGroups(ctx, p.Tenant, sq, load)
		if err != nil {
			return nil, err
		}
		out := make([]*Resource, len(groups))
		for i, g := range groups {
			if out[i], err = s.groupResource(g); err != nil {
				return nil, err
			}
		}
		return out, nil
	}, fn)
}

type pageFunc func(ctx context.Context, sq store.Query) ([]*Resource, error)

func (s *Service) export(ctx context.Context, p policy.Principal, rt *schema.ResourceType, q ExportQuery, page pageFunc, fn func(*Resource) error) (int, error) {
	if err := exportAllowed(p, rt, q.Raw); err != nil {
		return 0, err
	}
	sq, err := storeQuery(rt, ListQuery{Filter: q.Filter, SortBy: q.SortBy, Descending: q.Descending})
	if err != nil {
		return 0, err
	}
	rows, err := s.walk(ctx, rt, sq, q, page, fn)
	if aerr := s.auditExport(ctx, p, rt, q, rows); aerr != nil && err == nil {
		err = aerr
	}
	return rows, err
}

// CheckExport checks an export before it runs: the caller's rights
// (csv.export, the read rule, csv.export.raw when raw) and the filter and
// sortBy of resourceType ("User" or "Group").
func (s *Service) CheckExport(ctx context.Context, p policy.Principal, resourceType, filter, sortBy string, raw bool) error {
	reg, err := s.registryFor(ctx, p.Tenant)
	if err != nil {
		return err
	}
	rt := reg.User
	if resourceType == reg.Group.Name {
		rt = reg.Group
	}
	if err := exportAllowed(p, rt, raw); err != nil {
		return err
	}
	_, err = storeQuery(rt, ListQuery{Filter: filter, SortBy: sortBy})
	return err
}

// exportAllowed checks csv.export, the read rule of the resource type and,
// for unescaped output, csv.export.raw.
func exportAllowed(p policy.Principal, rt *schema.ResourceType, raw bool) error {
	read := policy.UserRead
	if rt.Name == "Group" {
		read = policy.GroupRead
	}
	if err := allow(p, policy.CSVExport, policy.Effect{}); err != nil {
		return err
	}
	if err := allow(p, read, policy.Effect{}); err != nil {
		return err
	}
	if raw {
		return allow(p, policy.CSVExportRaw, policy.Effect{})
	}
	return nil
}

// walk reads page after page, each under its own timeout. Reading,
// decoding and writing are three stages with a page each in between:
// the database, the decoding and the writer work at the same time and
// memory stays at a few pages.
func (s *Service) walk(ctx context.Context, rt *schema.ResourceType, sq store.Query, q ExportQuery, page pageFunc, fn func(*Resource) error) (int, error) {
	size, timeout := q.page()
	sq.Limit, sq.NoTotal = size, true
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	raw, pages := make(chan pageResult, 1), make(chan pageResult, 1)
	go readPages(ctx, sq, size, timeout, page, raw)
	go projectPages(ctx, raw, pages, q.Indexed)
	rows := 0
	for pr := range pages {
		if pr.err != nil {
			return rows, s.listError(ctx, rt, pr.err)
		}
		if q.Page != nil {
			if err := q.Page(ctx, pr.list); err != nil {
				return rows, err
			}
		}
		for _, r := range pr.list {
			if err := fn(r); err != nil {
				return rows, err
			}
			rows++
		}
	}
	return rows, ctx.Err()
}

// pageResult is one page of a walk, or the error that ended it.
type pageResult struct {
	list []*Resource
	err  error
}

// readPages sends the pages of sq to out until a short page, an error or
// the end of ctx, then closes out.
func readPages(ctx context.Context, sq store.Query, size int, timeout time.Duration, page pageFunc, out chan<- pageResult) {
	defer close(out)
	for {
		pctx, cancel := context.WithTimeout(ctx, timeout)
		list, err := page(pctx, sq)
		cancel()
		select {
		case out <- pageResult{list: list, err: err}:
		case <-ctx.Done():
			return
		}
		if err != nil || len(list) < size {
			return
		}
		if sq.SortBy == nil {
			last := list[len(list)-1]
			sq.After = &store.Key{Created: last.Created, ID: last.ID}
		} else {
			sq.Offset += len(list)
		}
	}
}

// projectPages decodes and projects each page readPages sends on, a stage
// of its own: the database reads page k+1 while page k is decoded and
// page k-1 written (three stages, so at most four pages in memory).
func projectPages(ctx context.Context, in <-chan pageResult, out chan<- pageResult, indexed bool) {
	defer close(out)
	for pr := range in {
		if pr.err == nil {
			pr.err = project(pr.list, indexed)
		}
		select {
		case out <- pr:
		case <-ctx.Done():
			for range in { // let readPages end
			}
			return
		}
		if pr.err != nil {
			for range in {
			}
			return
		}
	}
}

// project decodes and projects a page, or indexes it (indexed).
func project(list []*Resource, indexed bool) error {
	var never []string
	if indexed && len(list) > 0 {
		never = list[0].Type.NeverReturned()
	}
	for _, r := range list {
		if indexed && r.index(never) {
			continue
		}
		if err := ExportProjection(r); err != nil {
			return err
		}
	}
	return nil
}

// Index indexes the stored document of a resource read undecoded, for
// View, without what ExportProjection strips; it reports false (nothing
// done) for a decoded resource or a document the index does not take,
// which the caller decodes instead.
func (r *Resource) Index() bool {
	return r.index(r.Type.NeverReturned())
}

// index is Index with the never-returned attributes of r's type given.
// Raw is never written to once read, so the index shares its memory.
func (r *Resource) index(never []string) bool {
	if r.Doc != nil || r.Raw == nil {
		return false
	}
	view, ok := jsondoc.IndexFrozen(r.Raw)
	if !ok {
		return false
	}
	for _, name := range never {
		view.Remove(name)
	}
	r.view, r.indexed = view, true
	return true
}

// ExportProjection decodes a resource's document and removes what an
// export never shows: attributes returned "never" (a User's password,
// which the store does not keep either). Every attribute the export rules
// let the caller see is read (user.read, group.read); the policy has no
// attribute-level read rule beyond that today, so this is the one place
// such a rule would apply.
func ExportProjection(r *Resource) error {
	doc, err := r.Document()
	if err != nil {
		return err
	}
	StripNever(r.Type, doc)
	return nil
}

// auditItem escapes an item of the audit event's attribute list.
var auditItem = strings.NewReplacer("%", "%25", ",", "%2C")

// ExportAuditAction is the audit action of an export.
const ExportAuditAction = "export"

// auditExport records one event for the export (source csv): the actor,
// the resource type, and as attributes the columns, then "rows=N",
// "filter=F" and "raw" for unescaped output; a "%" or "," inside a column
// or the filter is written %25 or %2C, so the stored comma-separated list
// splits back into these items.
func (s *Service) auditExport(ctx context.Context, p policy.Principal, rt *schema.ResourceType, q ExportQuery, rows int) error {
	_, tmpl := audited(withSource(ctx, SourceCSV), p, ExportAuditAction)
	e := *tmpl
	e.ID, e.TenantID, e.At, e.ResourceType = uuid.NewString(), p.Tenant, s.clock(), rt.Name
	attrs := make([]string, 0, len(q.Columns)+3)
	for _, c := range q.Columns {
		attrs = append(attrs, auditItem.Replace(c))
	}
	attrs = append(attrs, "rows="+strconv.Itoa(rows), "filter="+auditItem.Replace(q.Filter))
	if q.Raw {
		attrs = append(attrs, "raw")
	}
	e.Attributes = attrs
	if err := s.store.RecordAudit(context.WithoutCancel(ctx), e); err != nil {
		return fmt.Errorf("audit export: %w", s.translate(ctx, rt, "", err))
	}
	return nil
}
