package directory

import (
	"net/mail"
	"net/url"
	"strings"
	"unicode"

	"github.com/scimbridge/scimbridge/internal/schema"
)

// normalize checks every field of ts (errors name the field and value)
// and turns nil lists into empty ones.
func (ts *TenantSettings) normalize() error {
	ts.fillNil()
	checks := []func() error{
		func() error { return checkList("sources", ts.Sources, MaxSources, MaxSourceLength, true) },
		func() error { return checkList("offices", ts.Offices, MaxOffices, MaxOfficeLength, false) },
		ts.checkRoles,
		ts.checkOrgFields,
		ts.Notifications.check,
	}
	for _, c := range checks {
		if err := c(); err != nil {
			return err
		}
	}
	return nil
}

// checkList checks a list of names: not blank, no control characters, no
// surrounding spaces, at most maxLen characters, unique (folding case when
// fold).
func checkList(field string, list []string, maxItems, maxLen int, fold bool) error {
	if len(list) > maxItems {
		return settingsInvalid("settings.%s has %d entries; at most %d are allowed.", field, len(list), maxItems)
	}
	seen := make(map[string]bool, len(list))
	for _, v := range list {
		switch {
		case strings.TrimSpace(v) == "":
			return settingsInvalid("settings.%s contains an empty entry.", field)
		case strings.TrimSpace(v) != v || strings.IndexFunc(v, unicode.IsControl) >= 0:
			return settingsInvalid("settings.%s entry %q has surrounding spaces or control characters.", field, truncate(v, 120))
		case len([]rune(v)) > maxLen:
			return settingsInvalid("settings.%s entry %q is longer than %d characters.", field, truncate(v, 120), maxLen)
		}
		k := v
		if fold {
			k = schema.Fold(v)
		}
		if seen[k] {
			return settingsInvalid("settings.%s lists %q twice.", field, truncate(v, 120))
		}
		seen[k] = true
	}
	return nil
}

func (ts *TenantSettings) checkRoles() error {
	if len(ts.Roles) > MaxRoles {
		return settingsInvalid("settings.roles has %d entries; at most %d are allowed.", len(ts.Roles), MaxRoles)
	}
	for _, r := range ts.Roles {
		if err := checkRoleName(r); err != nil {
			return err
		}
	}
	if dup := missingRoles(nil, ts.Roles); len(dup) != len(ts.Roles) {
		return settingsInvalid("settings.roles lists a role twice (role names are compared case-insensitively).")
	}
	return nil
}

func (ts *TenantSettings) checkOrgFields() error {
	if len(ts.OrgFields) > MaxOrgFields {
		return settingsInvalid("settings.orgFields has %d fields; at most %d are allowed.", len(ts.OrgFields), MaxOrgFields)
	}
	seen := map[string]bool{}
	for i, f := range ts.OrgFields {
		if err := schema.CheckOrgField(schema.OrgField{Name: f.Name, Type: f.Type, Description: f.Description}); err != nil {
			return settingsInvalid("settings.orgFields[%d]: %s.", i, err)
		}
		if k := strings.ToLower(f.Name); seen[k] {
			return settingsInvalid("settings.orgFields[%d]: the name %q is used twice (names are compared case-insensitively).", i, f.Name)
		} else {
			seen[k] = true
		}
	}
	return nil
}

func (n Notifications) check() error {
	if n.SignInURL != "" {
		u, err := url.Parse(n.SignInURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(n.SignInURL) > MaxURLLength {
			return settingsInvalid("settings.notifications.signInUrl %q is not an absolute http(s) URL of at most %d characters.", truncate(n.SignInURL, 120), MaxURLLength)
		}
	}
	if n.From != "" {
		a, err := mail.ParseAddress(n.From)
		if err != nil || a.Address != n.From {
			return settingsInvalid("settings.notifications.from %q is not a plain e-mail address such as admin@example.com.", truncate(n.From, 120))
		}
	}
	if strings.IndexFunc(n.Subject, unicode.IsControl) >= 0 || len([]rune(n.Subject)) > MaxSubject {
		return settingsInvalid("settings.notifications.subject must be one line of at most %d characters.", MaxSubject)
	}
	return nil
}

func isSpaceOrControl(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }
