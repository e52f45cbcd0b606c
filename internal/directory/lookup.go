package directory

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/scimbridge/scimbridge/internal/policy"
)

// LookupChunk is the number of keys UsersByKeys puts in one statement.
const LookupChunk = 100

// UsersByKeys returns the tenant's users whose attribute attr (userName,
// externalId, emails.value or id) equals one of values, each user once.
// It reads through the ordinary list path: one filter
// `attr eq "a" or attr eq "b" ...` per chunk of LookupChunk keys, so the
// keys get the same comparison rules (case-insensitive userName, ...) as
// a SCIM filter, and the caller needs policy.UserRead like any list.
func (s *Service) UsersByKeys(ctx context.Context, p policy.Principal, attr string, values []string) ([]*Resource, error) {
	seen := map[string]bool{}
	var out []*Resource
	for start := 0; start < len(values); start += LookupChunk {
		chunk := values[start:min(start+LookupChunk, len(values))]
		found, err := s.usersByFilter(ctx, p, keyFilter(attr, chunk))
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

// usersByFilter reads every page of a filtered user list.
func (s *Service) usersByFilter(ctx context.Context, p policy.Principal, f string) ([]*Resource, error) {
	var out []*Resource
	for {
		list, err := s.ListUsers(ctx, p, ListQuery{Filter: f, Offset: len(out), Count: 2 * LookupChunk})
		if err != nil {
			return nil, err
		}
		out = append(out, list.Resources...)
		if len(list.Resources) == 0 || len(out) >= list.Total {
			return out, nil
		}
	}
}

// keyFilter is `attr eq "v1" or attr eq "v2" ...`, each value quoted as a
// JSON string (the filter grammar's string literal).
func keyFilter(attr string, values []string) string {
	var b strings.Builder
	for i, v := range values {
		if i > 0 {
			b.WriteString(" or ")
		}
		q, _ := json.Marshal(v)
		b.WriteString(attr + " eq " + string(q))
	}
	return b.String()
}
