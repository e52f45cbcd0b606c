package directory

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/internal/filter"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/store"
)

// Me returns the acting person's own user: the user of the tenant whose
// userName is the person's (OIDC preferred_username or email).
func (s *Service) Me(ctx context.Context, p policy.Principal) (*Resource, error) {
	if err := allow(p, policy.SelfRead, policy.Effect{}); err != nil {
		return nil, err
	}
	u, found, err := s.userByName(ctx, p, store.UserLoad{Groups: true, WithoutEmails: true})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, scimerrors.ScimError{Status: http.StatusNotFound,
			Detail: fmt.Sprintf("No user of this tenant has your userName %q.", truncate(p.UserName, 120))}
	}
	return s.userResource(u, u.Groups)
}

// CheckActive refuses a person whose directory user exists and is
// inactive: deactivating someone in the directory also locks them out.
func (s *Service) CheckActive(ctx context.Context, p policy.Principal) error {
	if p.Kind != policy.KindPerson || p.UserName == "" {
		return nil
	}
	u, found, err := s.userByName(ctx, p, store.UserLoad{WithoutEmails: true})
	if err != nil || !found || u.Active {
		return err
	}
	return scimerrors.ScimError{Status: http.StatusForbidden, Detail: "Forbidden: your user is deactivated in this directory."}
}

func (s *Service) userByName(ctx context.Context, p policy.Principal, load store.UserLoad) (store.User, bool, error) {
	if p.UserName == "" {
		return store.User{}, false, nil
	}
	quoted, err := json.Marshal(p.UserName)
	if err != nil {
		return store.User{}, false, err
	}
	f, err := filter.Parse(s.reg.User, "userName eq "+string(quoted))
	if err != nil {
		return store.User{}, false, err
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
