package directory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

// TenantSettings is one tenant's configuration. None of it is secret (SMTP
// credentials are a server setting, not a tenant's), so every tier may
// read it; only tier 3 may change it.
type TenantSettings struct {
	// Sources are the source platforms enabled for the tenant
	// (people-directory's "Source Username(s)"); unique case-insensitively.
	Sources []string `json:"sources"`
	// Roles is the role catalogue (the core roles attribute's values): no
	// whitespace, at most MaxRoleLength characters, unique
	// case-insensitively.
	Roles []string `json:"roles"`
	// Offices are the tenant's offices, matched exactly.
	Offices []string `json:"offices"`
	// OrgFields are the custom organisation fields, served as the
	// attributes of the schema.OrgURN extension on the tenant's users.
	OrgFields []OrgField `json:"orgFields"`
	// Notifications configures the "you have an account" message.
	Notifications Notifications `json:"notifications"`
	// Version counts the changes of the settings (0: never changed); it is
	// the settings' ETag.
	Version int64 `json:"version"`
}

// OrgField is one custom organisation field: an attribute of the tenant's
// organisation extension (schema.OrgURN).
type OrgField struct {
	// Name is the attribute name: a letter, then letters, digits, '-' or
	// '_' (RFC 7643 ATTRNAME), unique case-insensitively.
	Name string `json:"name"`
	// Type is one of string, date (YYYY-MM-DD), decimal, integer, boolean.
	Type string `json:"type"`
	// Description is shown in /Schemas and field guides.
	Description string `json:"description,omitempty"`
}

// Notifications configures the messages the tenant's users receive.
type Notifications struct {
	// SignInURL is the sign-in or password-setup link the "you have an
	// account" message gives (absolute http or https URL).
	SignInURL string `json:"signInUrl"`
	// From is the sender address of the messages.
	From string `json:"from"`
	// Subject is the message subject (a default when empty).
	Subject string `json:"subject,omitempty"`
}

// Settings limits, checked on every change.
const (
	MaxRoleLength   = 100
	MaxRoles        = 1000
	MaxSources      = 100
	MaxSourceLength = 100
	MaxOffices      = 1000
	MaxOfficeLength = 200
	MaxOrgFields    = 50
	MaxSubject      = 200
	MaxURLLength    = 2048
)

// Settings returns the caller's tenant's settings (any tier may read them).
func (s *Service) Settings(ctx context.Context, p policy.Principal) (TenantSettings, error) {
	if err := allow(p, policy.SettingsRead, policy.Effect{}); err != nil {
		return TenantSettings{}, err
	}
	st, err := s.store.GetSettings(ctx, p.Tenant)
	if err != nil {
		return TenantSettings{}, s.settingsError(ctx, p.Tenant, err)
	}
	return decodeSettings(st)
}

// UpdateSettings changes the caller's tenant's settings (tier 3 only): fn
// edits a copy of the current settings inside the store's transaction;
// the result is validated (a SCIM 400 naming the offending field) and
// written with the next version. fn may refuse with its own error (e.g. a
// failed If-Match: compare the Version it sees), which is returned as is.
// Settings that end up as they were are not written (same version).
func (s *Service) UpdateSettings(ctx context.Context, p policy.Principal, fn func(*TenantSettings) error) (TenantSettings, error) {
	if err := allow(p, policy.TenantManage, policy.Effect{}); err != nil {
		return TenantSettings{}, err
	}
	return s.updateSettings(ctx, p, "replace", fn)
}

// updateSettings runs fn on p's tenant's settings and writes the result
// with its audit event (action, the changed fields as attributes).
func (s *Service) updateSettings(ctx context.Context, p policy.Principal, action string, fn func(*TenantSettings) error) (TenantSettings, error) {
	tenant := p.Tenant
	actx, ev := audited(ctx, p, action)
	var out TenantSettings
	st, err := s.store.UpdateSettings(actx, tenant, func(st *store.Settings) error {
		cur, err := decodeSettings(*st)
		if err != nil {
			return err
		}
		next := cur.clone()
		if err := fn(&next); err != nil {
			return err
		}
		next.Version = cur.Version
		if err := next.normalize(); err != nil {
			return err
		}
		if ev.Attributes = next.changedFields(cur); len(ev.Attributes) == 0 {
			out = cur
			return store.ErrUnchanged
		}
		raw, err := json.Marshal(next)
		if err != nil {
			return fmt.Errorf("encode settings: %w", err)
		}
		st.Doc, st.Updated, out = raw, s.clock(), next
		return nil
	})
	if err != nil {
		return TenantSettings{}, s.settingsError(ctx, tenant, err)
	}
	out.Version = st.Version
	s.tenants.forget(tenant)
	return out, nil
}

// EnsureRoles adds the names missing from the caller's tenant's role
// catalogue (compared case-insensitively) and returns those it added, in
// the order given. Every name is checked first (no whitespace, at most
// MaxRoleLength characters): one bad name adds nothing. Tier 1 and up
// (CSV imports create the roles their rows name).
func (s *Service) EnsureRoles(ctx context.Context, p policy.Principal, names []string) ([]string, error) {
	if err := allow(p, policy.RoleAdd, policy.Effect{}); err != nil {
		return nil, err
	}
	for _, n := range names {
		if err := checkRoleName(n); err != nil {
			return nil, err
		}
	}
	cur, err := s.Settings(ctx, p)
	if err != nil {
		return nil, err
	}
	if len(missingRoles(cur.Roles, names)) == 0 {
		return []string{}, nil
	}
	var added []string
	_, err = s.updateSettings(ctx, p, "patch", func(ts *TenantSettings) error {
		added = missingRoles(ts.Roles, names)
		ts.Roles = append(ts.Roles, added...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return added, nil
}

// UnknownRoles returns the names that are not in the caller's tenant's
// role catalogue (compared case-insensitively), in the order given; none:
// an empty slice. Any tier may check.
func (s *Service) UnknownRoles(ctx context.Context, p policy.Principal, names []string) ([]string, error) {
	cur, err := s.Settings(ctx, p)
	if err != nil {
		return nil, err
	}
	return missingRoles(cur.Roles, names), nil
}

// missingRoles returns the distinct names (case-insensitively) that
// catalogue lacks, in order.
func missingRoles(catalogue, names []string) []string {
	have := make(map[string]bool, len(catalogue)+len(names))
	for _, r := range catalogue {
		have[schema.Fold(r)] = true
	}
	out := []string{}
	for _, n := range names {
		if k := schema.Fold(n); !have[k] {
			have[k] = true
			out = append(out, n)
		}
	}
	return out
}

func (s *Service) settingsError(ctx context.Context, tenant string, err error) error {
	var se scimerrors.ScimError
	switch {
	case errors.As(err, &se):
		return se
	case errors.Is(err, store.ErrNotFound):
		return scimerrors.ScimError{Status: http.StatusNotFound, Detail: fmt.Sprintf("Tenant %q not found.", truncate(tenant, 80))}
	case errors.Is(err, store.ErrUnavailable):
		return Unavailable()
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("settings of tenant %s: %w", tenant, err)
	}
	s.logger.ErrorContext(ctx, "store error", "resource", "settings", "tenant", tenant, "err", err)
	return fmt.Errorf("settings of tenant %s: %w", tenant, err)
}

// decodeSettings reads stored settings (empty lists, never nil, for a
// tenant that has none).
func decodeSettings(st store.Settings) (TenantSettings, error) {
	var ts TenantSettings
	if st.Doc != nil {
		if err := json.Unmarshal(st.Doc, &ts); err != nil {
			return TenantSettings{}, fmt.Errorf("decode settings of tenant %s: %w", st.TenantID, err)
		}
	}
	ts.Version = st.Version
	ts.fillNil()
	return ts, nil
}

func (ts *TenantSettings) fillNil() {
	for _, l := range []*[]string{&ts.Sources, &ts.Roles, &ts.Offices} {
		if *l == nil {
			*l = []string{}
		}
	}
	if ts.OrgFields == nil {
		ts.OrgFields = []OrgField{}
	}
}

func (ts TenantSettings) clone() TenantSettings {
	ts.Sources, ts.Roles, ts.Offices = slices.Clone(ts.Sources), slices.Clone(ts.Roles), slices.Clone(ts.Offices)
	ts.OrgFields = slices.Clone(ts.OrgFields)
	return ts
}

// changedFields names the top-level fields that differ from o (the audit
// event's attributes); none means the settings are unchanged.
func (ts TenantSettings) changedFields(o TenantSettings) []string {
	var out []string
	for _, f := range []struct {
		name string
		same bool
	}{
		{"sources", slices.Equal(ts.Sources, o.Sources)}, {"roles", slices.Equal(ts.Roles, o.Roles)},
		{"offices", slices.Equal(ts.Offices, o.Offices)}, {"orgFields", slices.Equal(ts.OrgFields, o.OrgFields)},
		{"notifications", ts.Notifications == o.Notifications},
	} {
		if !f.same {
			out = append(out, f.name)
		}
	}
	return out
}

// OrgSchemaFields is the organisation extension's attribute list for these
// settings.
func (ts TenantSettings) OrgSchemaFields() []schema.OrgField {
	out := make([]schema.OrgField, len(ts.OrgFields))
	for i, f := range ts.OrgFields {
		out[i] = schema.OrgField{Name: f.Name, Type: f.Type, Description: f.Description}
	}
	return out
}

// HasSource reports whether source is enabled (case-insensitively) and
// returns its spelling in the settings.
func (ts TenantSettings) HasSource(source string) (string, bool) {
	for _, s := range ts.Sources {
		if schema.Fold(s) == schema.Fold(source) {
			return s, true
		}
	}
	return "", false
}

// HasOffice reports whether office is one of the tenant's offices, exactly.
func (ts TenantSettings) HasOffice(office string) bool { return slices.Contains(ts.Offices, office) }

// Role returns the catalogue's spelling of role (matched
// case-insensitively) and whether it is in the catalogue.
func (ts TenantSettings) Role(role string) (string, bool) {
	for _, r := range ts.Roles {
		if schema.Fold(r) == schema.Fold(role) {
			return r, true
		}
	}
	return "", false
}

func settingsInvalid(format string, args ...any) error {
	return scimerrors.ScimError{Status: http.StatusBadRequest, ScimType: scimerrors.ScimTypeInvalidValue,
		Detail: fmt.Sprintf(format, args...)}
}

// checkRoleName is the role catalogue's rule for a name.
func checkRoleName(n string) error {
	switch {
	case strings.TrimSpace(n) == "":
		return settingsInvalid("A role name cannot be empty.")
	case strings.IndexFunc(n, isSpaceOrControl) >= 0:
		return settingsInvalid("Role %q contains a space or control character; role names cannot contain spaces.", truncate(n, 120))
	case len([]rune(n)) > MaxRoleLength:
		return settingsInvalid("Role %q is longer than %d characters.", truncate(n, 120), MaxRoleLength)
	}
	return nil
}
