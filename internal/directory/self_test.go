package directory_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/postgres/pgtest"
	"github.com/scimbridge/scimbridge/internal/store/sqlite"
)

const selfSupportURN = "urn:scimbridge:params:scim:schemas:extension:support:2.0:User"

// selfServices runs fn with a service over each real store backend.
func selfServices(t *testing.T, fn func(t *testing.T, svc *directory.Service)) {
	open := map[string]func(t *testing.T) store.Store{
		"sqlite": func(t *testing.T) store.Store {
			s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "self.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		"postgres": func(t *testing.T) store.Store { return pgtest.Open(t) },
	}
	for name, o := range open {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, directory.New(o(t), schema.New()))
		})
	}
}

var selfAdmin = policy.Principal{Tenant: store.DefaultTenant, Subject: "credential:admin", Kind: policy.KindProvisioner, Tier: policy.Tier3Engineering}

// signIn is what the authentication middleware does for a person whose
// token says tier and userName: the principal, bound to their user.
func signIn(t *testing.T, svc *directory.Service, tier policy.Tier, userName string) policy.Principal {
	t.Helper()
	p, err := svc.Bind(context.Background(), policy.Principal{Tenant: store.DefaultTenant, Subject: "oidc:idp#" + userName,
		Kind: policy.KindPerson, Tier: tier, UserName: userName})
	if err != nil {
		t.Fatalf("bind %q: %v", userName, err)
	}
	return p
}

func createTierUser(t *testing.T, svc *directory.Service, userName, tier string) string {
	t.Helper()
	r, err := svc.CreateUser(context.Background(), selfAdmin, map[string]any{"userName": userName,
		selfSupportURN: map[string]any{"tier": tier}})
	if err != nil {
		t.Fatalf("create %q: %v", userName, err)
	}
	return r.ID
}

func patchUser(svc *directory.Service, p policy.Principal, id, path string, value any) error {
	_, err := svc.PatchUser(context.Background(), p, id, []directory.PatchOp{{Op: "replace", Path: path, Value: value}}, directory.Precondition{})
	return err
}

func wantStatus(t *testing.T, what string, err error, status int) {
	t.Helper()
	var se scimerrors.ScimError
	if status == 0 && err != nil || status != 0 && (!errors.As(err, &se) || se.Status != status) {
		t.Fatalf("%s: %v, want status %d", what, err, status)
	}
}

func storedTier(t *testing.T, svc *directory.Service, id string) string {
	t.Helper()
	r, err := svc.GetUser(context.Background(), selfAdmin, id)
	if err != nil {
		t.Fatal(err)
	}
	doc := r.Doc
	if doc == nil {
		if err := json.Unmarshal(r.Raw, &doc); err != nil {
			t.Fatalf("user document: %v", err)
		}
	}
	ext, _ := doc[selfSupportURN].(map[string]any)
	tier, _ := ext["tier"].(string)
	return tier
}

// TestHardening_SelfJudgedByID: a person is bound to their directory user
// by id; they cannot unbind themselves by renaming it and then change its
// tier (plain and Unicode userNames), nor change its tier through a
// case variant of their name.
func TestHardening_SelfJudgedByID(t *testing.T) {
	selfServices(t, func(t *testing.T, svc *directory.Service) {
		for _, name := range []string{"lee", "k\u0130m"} {
			id := createTierUser(t, svc, name, policy.Tier0HelpDesk.String())
			p := signIn(t, svc, policy.Tier2SoftwarePartner, name)
			if p.UserID != id {
				t.Fatalf("%q bound to %q, want %q", name, p.UserID, id)
			}
			wantStatus(t, name+": rename own user", patchUser(svc, p, id, "userName", name+".tmp"), http.StatusForbidden)
			p = signIn(t, svc, policy.Tier2SoftwarePartner, name)
			wantStatus(t, name+": raise own tier", patchUser(svc, p, id, selfSupportURN+":tier", policy.Tier2SoftwarePartner.String()), http.StatusForbidden)
			if got := storedTier(t, svc, id); got != policy.Tier0HelpDesk.String() {
				t.Fatalf("%q: own tier became %q", name, got)
			}
			me, err := svc.Me(context.Background(), p)
			if err != nil || me.ID != id {
				t.Fatalf("%q: /Me = %v, %v", name, me, err)
			}
		}
	})
}

// TestHardening_SelfBindingFollowsUniquenessFolding: the binding uses the
// same case folding as userName uniqueness, so a case variant of the name
// in the token still binds to the user, and the user stays theirs.
func TestHardening_SelfBindingFollowsUniquenessFolding(t *testing.T) {
	selfServices(t, func(t *testing.T, svc *directory.Service) {
		id := createTierUser(t, svc, "Lee", policy.Tier0HelpDesk.String())
		p := signIn(t, svc, policy.Tier2SoftwarePartner, "LEE")
		if p.UserID != id {
			t.Fatalf("LEE bound to %q, want %q", p.UserID, id)
		}
		wantStatus(t, "case-only rename", patchUser(svc, p, id, "userName", "lee"), 0)
		p = signIn(t, svc, policy.Tier2SoftwarePartner, "LEE")
		wantStatus(t, "raise own tier after a case-only rename", patchUser(svc, p, id, selfSupportURN+":tier", policy.Tier1Operations.String()), http.StatusForbidden)
	})
}

// TestHardening_SelfByNameBeforeBinding: a user that a change would make
// the person's own (created, or renamed, to their sign-in userName) counts
// as theirs, so nobody gives themselves a tier that way.
func TestHardening_SelfByNameBeforeBinding(t *testing.T) {
	selfServices(t, func(t *testing.T, svc *directory.Service) {
		other := createTierUser(t, svc, "other", policy.Tier0HelpDesk.String())
		p := signIn(t, svc, policy.Tier2SoftwarePartner, "newcomer")
		if p.UserID != "" {
			t.Fatalf("bound to %q without a user", p.UserID)
		}
		_, err := svc.PatchUser(context.Background(), p, other, []directory.PatchOp{
			{Op: "replace", Path: "userName", Value: "NEWCOMER"},
			{Op: "replace", Path: selfSupportURN + ":tier", Value: policy.Tier2SoftwarePartner.String()}}, directory.Precondition{})
		wantStatus(t, "rename another user to oneself and raise its tier", err, http.StatusForbidden)
		_, err = svc.CreateUser(context.Background(), p, map[string]any{"userName": "Newcomer",
			selfSupportURN: map[string]any{"tier": policy.Tier1Operations.String()}})
		wantStatus(t, "create oneself with a tier", err, http.StatusForbidden)
		_, err = svc.Me(context.Background(), p)
		wantStatus(t, "/Me without a user", err, http.StatusNotFound)
	})
}

// TestHardening_BindRefusesDeactivated: Bind, which every front end's
// authentication goes through, refuses a deactivated person.
func TestHardening_BindRefusesDeactivated(t *testing.T) {
	selfServices(t, func(t *testing.T, svc *directory.Service) {
		id := createTierUser(t, svc, "dee", policy.Tier0HelpDesk.String())
		wantStatus(t, "deactivate", patchUser(svc, selfAdmin, id, "active", false), 0)
		_, err := svc.Bind(context.Background(), policy.Principal{Tenant: store.DefaultTenant, Kind: policy.KindPerson,
			Tier: policy.Tier3Engineering, UserName: "DEE"})
		wantStatus(t, "bind a deactivated person", err, http.StatusForbidden)
	})
}

// TestHardening_BindFailsClosedOnUnusableUserName: a sign-in userName that
// cannot be looked up (longer than a filter may be) is refused, not let
// through unchecked.
func TestHardening_BindFailsClosedOnUnusableUserName(t *testing.T) {
	selfServices(t, func(t *testing.T, svc *directory.Service) {
		_, err := svc.Bind(context.Background(), policy.Principal{Tenant: store.DefaultTenant, Kind: policy.KindPerson,
			Tier: policy.Tier3Engineering, UserName: strings.Repeat("x", 5000)})
		wantStatus(t, "bind a 5000-byte userName", err, http.StatusUnauthorized)
	})
}
