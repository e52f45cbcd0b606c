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

func (s *Service) deleteError(ctx context.Context, rt *schema.ResourceType, id string, pc Precondition, err error) error {
	if errors.Is(err, store.ErrVersionMismatch) {
		return preconditionFailed(pc.IfMatch, 0)
	}
	return s.translate(ctx, rt, id, err)
}
