package directory

import (
	"context"

	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/store"
)

// SelectUsers walks the users a SCIM filter selects (empty: all) in
// creation order, by keyset pages, with their direct groups loaded, and
// calls fn with each. It is the read half of an action on a filtered set
// (the CSV bridge's actions): the caller needs policy.UserRead, nothing
// is audited (the changes the action makes are), and the walk stops at
// fn's first error or when ctx ends. It returns the number of users fn
// accepted.
func (s *Service) SelectUsers(ctx context.Context, p policy.Principal, filter string, pageSize int, fn func(*Resource) error) (int, error) {
	if err := allow(p, policy.UserRead, policy.Effect{}); err != nil {
		return 0, err
	}
	reg, err := s.registryFor(ctx, p.Tenant)
	if err != nil {
		return 0, err
	}
	sq, err := storeQuery(reg.User, ListQuery{Filter: filter})
	if err != nil {
		return 0, err
	}
	page := s.userPage(reg, p.Tenant, store.UserLoad{Groups: true, WithoutEmails: true})
	return s.walk(ctx, reg.User, sq, ExportQuery{PageSize: pageSize}, page, fn)
}
