package directory

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

// LoginRecordInterval is how stale a person's lastLoginAt may become
// before a request with their OIDC token writes it again: a sign-in is
// recorded to within this interval, and busy people cost one write per
// interval rather than one per request.
const LoginRecordInterval = 5 * time.Minute

// lastLoginDoc reads only the support extension's lastLoginAt.
type lastLoginDoc struct {
	Support struct {
		LastLoginAt string `json:"lastLoginAt"`
	} `json:"urn:scimbridge:params:scim:schemas:extension:support:2.0:User"`
}

// lastLogin is the stored lastLoginAt of a user document (zero if none).
func lastLogin(raw []byte) time.Time {
	var d lastLoginDoc
	if json.Unmarshal(raw, &d) != nil {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, d.Support.LastLoginAt)
	if err != nil {
		return time.Time{}
	}
	return t
}

// recordLogin sets the user's lastLoginAt (support extension, read-only)
// when the stored one is older than LoginRecordInterval. It is no
// directory change: nothing is audited. The user's version and
// lastModified move, as for any change of the resource.
func (s *Service) recordLogin(ctx context.Context, u store.User) error {
	now := s.clock()
	if now.Sub(lastLogin(u.Doc)) < LoginRecordInterval {
		return nil
	}
	_, err := s.store.UpdateUser(ctx, u.TenantID, u.ID, func(cur *store.User) error {
		if now.Sub(lastLogin(cur.Doc)) < LoginRecordInterval {
			return store.ErrUnchanged
		}
		doc, err := decodeDoc(cur.Doc)
		if err != nil {
			return fmt.Errorf("decode stored user %s: %w", cur.ID, err)
		}
		ext, _ := doc[schema.SupportURN].(map[string]any)
		if ext == nil {
			ext = map[string]any{}
		}
		ext[schema.LastLoginAt] = now.Format(time.RFC3339Nano)
		doc[schema.SupportURN] = ext
		raw, err := json.Marshal(doc)
		if err != nil {
			return fmt.Errorf("encode user: %w", err)
		}
		cur.Doc, cur.LastModified = raw, now
		return nil
	})
	if err != nil {
		return fmt.Errorf("record sign-in of user %s: %w", u.ID, s.translate(ctx, s.reg.User, u.ID, err))
	}
	return nil
}

// keepServerAttributes carries the attributes the server sets (read-only
// to clients, so absent from every normalised body) from the stored
// document into a replacement: lastLoginAt.
func keepServerAttributes(old, next schema.Doc) {
	oldExt, _ := old[schema.SupportURN].(map[string]any)
	v, ok := oldExt[schema.LastLoginAt]
	if !ok {
		return
	}
	ext, _ := next[schema.SupportURN].(map[string]any)
	if ext == nil {
		ext = map[string]any{}
		next[schema.SupportURN] = ext
	}
	ext[schema.LastLoginAt] = v
}
