package directory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/internal/filter"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/store"
)

// Me returns the acting person's own user: the directory user the
// principal is bound to (p.UserID, see Bind).
func (s *Service) Me(ctx context.Context, p policy.Principal) (*Resource, error) {
	if err := allow(p, policy.SelfRead, policy.Effect{}); err != nil {
		return nil, err
	}
	if p.UserID == "" {
		return nil, noOwnUser(p)
	}
	u, err := s.store.GetUser(ctx, p.Tenant, p.UserID, store.UserLoad{Groups: true, WithoutEmails: true})
	if errors.Is(err, store.ErrNotFound) {
		return nil, noOwnUser(p)
	}
	if err != nil {
		return nil, s.translate(ctx, s.reg.User, p.UserID, err)
	}
	reg, err := s.registryFor(ctx, p.Tenant)
	if err != nil {
		return nil, err
	}
	return s.userResource(reg.User, u, u.Groups)
}

func noOwnUser(p policy.Principal) error {
	return scimerrors.ScimError{Status: http.StatusNotFound,
		Detail: fmt.Sprintf("No user of this tenant has your userName %q.", truncate(p.UserName, 120))}
}

// Bind resolves, once per request, the directory user of a person signed
// in with OIDC: the user whose userName equals p.UserName under the
// directory's userName case folding. It returns p with UserID set to that
// user's id (unchanged when there is none, and for provisioners and
// scripts), and refuses (403) a person whose user is deactivated:
// deactivating someone in the directory also locks them out of every
// front end. It records the sign-in as the user's lastLoginAt (see
// LoginRecordInterval).
func (s *Service) Bind(ctx context.Context, p policy.Principal) (policy.Principal, error) {
	p.UserID = ""
	if p.Kind != policy.KindPerson || p.UserName == "" {
		return p, nil
	}
	u, found, err := s.userByName(ctx, p, store.UserLoad{WithoutEmails: true})
	if err != nil || !found {
		return p, err
	}
	if !u.Active {
		return p, scimerrors.ScimError{Status: http.StatusForbidden, Detail: "Forbidden: your user is deactivated in this directory."}
	}
	p.UserID = u.ID
	if err := s.recordLogin(ctx, u); err != nil {
		// The sign-in stands; only its record is missing.
		s.logger.WarnContext(ctx, "record sign-in", "user", u.ID, "err", err)
	}
	return p, nil
}

// userByName finds the user whose userName is p.UserName through the
// store's userName filter, which compares normalised userNames exactly as
// uniqueness does.
func (s *Service) userByName(ctx context.Context, p policy.Principal, load store.UserLoad) (store.User, bool, error) {
	quoted, err := json.Marshal(p.UserName)
	if err != nil {
		return store.User{}, false, fmt.Errorf("quote userName: %w", err)
	}
	f, err := filter.Parse(s.reg.User, "userName eq "+string(quoted))
	if err != nil {
		// Too long or not UTF-8: it cannot be looked up, so the person
		// could not be checked; fail closed.
		return store.User{}, false, scimerrors.ScimError{Status: http.StatusUnauthorized,
			Detail: "Authentication failed: your sign-in userName cannot name a user of this directory (too long or not valid UTF-8)."}
	}
	users, _, err := s.store.ListUsers(ctx, p.Tenant, store.Query{Filter: f, Limit: 2}, load)
	if err != nil {
		return store.User{}, false, s.translate(ctx, s.reg.User, "", err)
	}
	if len(users) == 0 {
		return store.User{}, false, nil
	}
	return users[0], true, nil
}
