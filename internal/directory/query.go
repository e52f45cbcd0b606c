package directory

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/internal/filter"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

// ListQuery is a list or search request: a SCIM filter (empty: all), a
// sort attribute (empty: creation order), and the page (Offset from 0,
// Count 0 for totals only).
type ListQuery struct {
	// Lenient treats attributes the resource type lacks as absent rather
	// than as errors (for searches across resource types).
	Lenient    bool
	Filter     string
	SortBy     string
	Descending bool
	Offset     int
	Count      int
	// After continues a walk in the default order (no SortBy) just after
	// that row (keyset paging); Offset is then only used by the caller.
	After *store.Key
}

// storeQuery parses and resolves q for a resource type.
func storeQuery(rt *schema.ResourceType, q ListQuery) (store.Query, error) {
	sq := store.Query{Descending: q.Descending, Offset: q.Offset, Limit: q.Count}
	if q.After != nil && strings.TrimSpace(q.SortBy) == "" {
		sq.After, sq.Offset = q.After, 0
	}
	if strings.TrimSpace(q.Filter) != "" {
		parse := filter.Parse
		if q.Lenient {
			parse = filter.ParseLenient
		}
		f, err := parse(rt, q.Filter)
		if err != nil {
			return sq, err
		}
		sq.Filter = f
	}
	if strings.TrimSpace(q.SortBy) != "" {
		a, err := sortAttr(rt, q.SortBy)
		switch {
		case err == nil:
			sq.SortBy = &a
		case !q.Lenient:
			return sq, err
		}
	}
	return sq, nil
}

// sortAttr resolves sortBy: any singular simple attribute, or a
// sub-attribute of a multi-valued one (sorting by its primary value).
func sortAttr(rt *schema.ResourceType, path string) (filter.Attr, error) {
	a, err := filter.ResolvePath(rt, path)
	if err != nil {
		return a, badSort(path, "is not an attribute of %s resources", rt.Name)
	}
	switch {
	case a.Type == "complex" && a.Sub == "":
		return a, badSort(path, "is complex; sort by one of its sub-attributes, e.g. %s.value", a)
	case a.Name == "members" || a.Name == "groups":
		return a, badSort(path, "cannot be sorted by")
	}
	return a, nil
}

func badSort(path, format string, args ...any) error {
	return scimerrors.ScimError{Status: http.StatusBadRequest, ScimType: scimerrors.ScimTypeInvalidValue,
		Detail: fmt.Sprintf("sortBy %q ", truncate(path, 120)) + fmt.Sprintf(format, args...) + "."}
}

// listError maps a query timeout onto 400 tooMany.
func (s *Service) listError(ctx context.Context, rt *schema.ResourceType, err error) error {
	if errors.Is(err, store.ErrTimeout) {
		return scimerrors.ScimError{Status: http.StatusBadRequest, ScimType: scimerrors.ScimTypeTooMany,
			Detail: "The query needs more work than the server allows for one request; narrow the filter (e.g. use eq on userName, externalId or emails.value) or sort by an indexed attribute."}
	}
	return s.translate(ctx, rt, "", err)
}

// CheckFilter reports whether filter is valid for the resource type
// ("User" or "Group") of the caller's tenant without running it.
func (s *Service) CheckFilter(ctx context.Context, p policy.Principal, resourceType, f string) error {
	reg, err := s.registryFor(ctx, p.Tenant)
	if err != nil {
		return err
	}
	rt := reg.User
	if resourceType == reg.Group.Name {
		rt = reg.Group
	}
	_, err = storeQuery(rt, ListQuery{Filter: f})
	return err
}
