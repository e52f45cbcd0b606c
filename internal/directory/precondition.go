package directory

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

// Precondition carries a write's If-Match header: empty means
// unconditional, "*" matches any version, otherwise a list of entity tags
// (weak W/"n" or strong "n"; we compare weakly).
type Precondition struct {
	IfMatch string
}

// check fails with 412 unless the resource at version satisfies pc.
func (pc Precondition) check(version int64) error {
	if pc.matches(version) {
		return nil
	}
	return preconditionFailed(pc.IfMatch, version)
}

func (pc Precondition) matches(version int64) bool {
	h := strings.TrimSpace(pc.IfMatch)
	if h == "" || h == "*" {
		return true
	}
	for _, tag := range strings.Split(h, ",") {
		if v, ok := ParseETag(tag); ok && v == version {
			return true
		}
	}
	return false
}

// single returns the one version the header names, for atomic deletes.
func (pc Precondition) single() (int64, bool) {
	h := strings.TrimSpace(pc.IfMatch)
	if h == "" || h == "*" || strings.Contains(h, ",") {
		return 0, false
	}
	v, ok := ParseETag(h)
	return v, ok
}

// ParseETag reads W/"n" or "n" into n.
func ParseETag(tag string) (int64, bool) {
	tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
	if len(tag) < 3 || tag[0] != '"' || tag[len(tag)-1] != '"' {
		return 0, false
	}
	v, err := strconv.ParseInt(tag[1:len(tag)-1], 10, 64)
	return v, err == nil && v > 0
}

func preconditionFailed(ifMatch string, version int64) error {
	detail := fmt.Sprintf("The resource has changed: If-Match %s does not match its current version W/\"%d\"; read it again and retry.", truncate(ifMatch, 80), version)
	if version == 0 {
		detail = fmt.Sprintf("The resource has changed: If-Match %s does not match its current version; read it again and retry.", truncate(ifMatch, 80))
	}
	return scimerrors.ScimError{Status: http.StatusPreconditionFailed, Detail: detail}
}

// deleteVersion turns If-Match into the version a delete must find: 0 for
// none or "*", the named version, or, for a list of tags, the current
// version when one of them matches it (read through current).
func (s *Service) deleteVersion(pc Precondition, current func() (int64, error)) (int64, error) {
	if v, ok := pc.single(); ok {
		return v, nil
	}
	if pc.matches(-1) { // no header or "*"
		return 0, nil
	}
	v, err := current()
	if err != nil {
		return 0, err
	}
	return v, pc.check(v)
}

func (s *Service) deleteError(ctx context.Context, rt *schema.ResourceType, id string, pc Precondition, err error) error {
	if errors.Is(err, store.ErrVersionMismatch) {
		return preconditionFailed(pc.IfMatch, 0)
	}
	return s.translate(ctx, rt, id, err)
}
