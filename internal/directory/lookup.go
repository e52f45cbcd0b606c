package directory

import (
	"context"
	"fmt"

	"github.com/scimbridge/scimbridge/internal/filter"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

// LookupChunk is the number of keys UsersByKeys puts in one statement
// for emails.value (an EXISTS per key: PostgreSQL plans an OR of n of
// them in time that grows faster than n); single-valued attributes
// (userName, externalId, id), which the stores turn into one IN list,
// take LookupChunkSingle keys per statement.
const (
	LookupChunk       = 100
	LookupChunkSingle = 1000
)

// Lookup says what UsersByKeys reads besides the users' documents.
type Lookup struct {
	// Groups loads each user's direct groups (User.groups): two more
	// subqueries per user, so only callers that read them ask.
	Groups bool
}

// UsersByKeys returns the tenant's users whose attribute attr (userName,
// externalId, emails.value or id) equals one of values, each user once.
// It reads through the store's filtered list: one filter
// `attr eq "a" or attr eq "b" ...` per chunk of keys, built as a balanced
// tree rather than parsed from text, so the keys get the same comparison
// rules (case-insensitive userName, ...) as a SCIM filter; the caller
// needs policy.UserRead like any list.
func (s *Service) UsersByKeys(ctx context.Context, p policy.Principal, attr string, values []string, load Lookup) ([]*Resource, error) {
	if err := allow(p, policy.UserRead, policy.Effect{}); err != nil {
		return nil, err
	}
	tmpl, err := keyTemplate(s.reg.User, attr)
	if err != nil {
		return nil, err
	}
	chunk := LookupChunk
	if !tmpl.Attr.MultiValued {
		chunk = LookupChunkSingle
	}
	seen := map[string]bool{}
	var out []*Resource
	for start := 0; start < len(values); start += chunk {
		f := keyFilter(tmpl, values[start:min(start+chunk, len(values))])
		found, err := s.usersByFilter(ctx, p, f, 2*chunk, load)
		if err != nil {
			return nil, fmt.Errorf("look up users by %s: %w", attr, err)
		}
		for _, r := range found {
			if !seen[r.ID] {
				seen[r.ID] = true
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// usersByFilter reads every page of a filtered user list; a page that is
// not full needs no count query (store.TotalFromPage).
func (s *Service) usersByFilter(ctx context.Context, p policy.Principal, f filter.Expr, page int, load Lookup) ([]*Resource, error) {
	reg, err := s.registryFor(ctx, p.Tenant)
	if err != nil {
		return nil, err
	}
	var out []*Resource
	for {
		q := store.Query{Filter: f, Offset: len(out), Limit: page}
		users, total, err := s.store.ListUsers(ctx, p.Tenant, q, store.UserLoad{Groups: load.Groups, WithoutEmails: true})
		if err != nil {
			return nil, s.listError(ctx, s.reg.User, err)
		}
		for _, u := range users {
			r, err := s.userResource(reg.User, u, u.Groups)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		if len(users) == 0 || len(out) >= total {
			return out, nil
		}
	}
}

// keyTemplate is the comparison `attr eq ""`, resolved once.
func keyTemplate(rt *schema.ResourceType, attr string) (*filter.Compare, error) {
	e, err := filter.Parse(rt, attr+` eq "x"`)
	if err != nil {
		return nil, err
	}
	c, ok := e.(*filter.Compare)
	if !ok {
		return nil, fmt.Errorf("directory: %s is not a key attribute", attr)
	}
	return c, nil
}

// keyFilter is `attr eq "v1" or attr eq "v2" ...` as a balanced tree of
// copies of tmpl (no filter text to parse, no deep nesting).
func keyFilter(tmpl *filter.Compare, values []string) filter.Expr {
	if len(values) == 1 {
		c := *tmpl
		c.Value = filter.Value{Kind: filter.KindString, Str: values[0]}
		return &c
	}
	mid := len(values) / 2
	return &filter.Or{Left: keyFilter(tmpl, values[:mid]), Right: keyFilter(tmpl, values[mid:])}
}
