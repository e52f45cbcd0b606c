package csvbridge

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
)

// Presets are the named user filters of seed 000's export options, as
// accepted by PresetFilter (DATE is YYYY-MM-DD or an RFC 3339 time).
var Presets = []string{
	"all", "active", "tier=NAME", "created-since=DATE", "created-between=DATE,DATE",
	"last-login-before=DATE", "last-login-after=DATE",
}

// PresetFilter turns a preset into a SCIM filter over users:
//   - all: every user ("");
//   - active: active users;
//   - tier=NAME: the users of a tier, NAME a tier string or its number 0-3;
//   - created-since=DATE: created at or after DATE;
//   - created-between=FROM,TO: created from FROM up to the end of TO (a
//     date TO includes that whole day);
//   - last-login-after=DATE: signed in (lastLoginAt) at or after DATE;
//   - last-login-before=DATE: not signed in since DATE, including users
//     who never signed in.
func PresetFilter(preset string) (string, error) {
	name, arg, _ := strings.Cut(strings.TrimSpace(preset), "=")
	lastLogin := schema.SupportURN + ":" + schema.LastLoginAt
	switch strings.ToLower(name) {
	case "", "all":
		return "", nil
	case "active":
		return "active eq true", nil
	case "tier":
		t, err := presetTier(arg)
		return fmt.Sprintf("%s:tier eq %q", schema.SupportURN, t), err
	case "created-since":
		from, err := presetTime(arg, false)
		return fmt.Sprintf("meta.created ge %q", from), err
	case "created-between":
		return createdBetween(arg)
	case "last-login-after":
		from, err := presetTime(arg, false)
		return fmt.Sprintf("%s ge %q", lastLogin, from), err
	case "last-login-before":
		until, err := presetTime(arg, false)
		return fmt.Sprintf("not (%s ge %q)", lastLogin, until), err
	}
	return "", presetError("%q is not a preset; use one of: %s.", preset, strings.Join(Presets, ", "))
}

func createdBetween(arg string) (string, error) {
	a, b, ok := strings.Cut(arg, ",")
	if !ok {
		return "", presetError("created-between needs two dates: created-between=2024-01-01,2024-06-30.")
	}
	from, err := presetTime(a, false)
	if err != nil {
		return "", err
	}
	until, err := presetTime(b, true)
	return fmt.Sprintf("meta.created ge %q and meta.created lt %q", from, until), err
}

// presetTime reads a date or a time; end moves a date to the start of the
// next day (an inclusive upper bound).
func presetTime(s string, end bool) (string, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		if end {
			t = t.AddDate(0, 0, 1)
		}
		return t.UTC().Format(time.RFC3339), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return "", presetError("%q is not a date (YYYY-MM-DD) or an RFC 3339 time.", s)
	}
	return t.UTC().Format(time.RFC3339Nano), nil
}

func presetTier(s string) (string, error) {
	s = strings.TrimSpace(s)
	names := policy.TierNames()
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n < len(names) {
		return names[n], nil
	}
	for _, name := range names {
		if strings.EqualFold(name, s) {
			return name, nil
		}
	}
	return "", presetError("%q is not a tier; use 0-3 or one of: %s.", s, strings.Join(names, ", "))
}

func presetError(format string, args ...any) error {
	return errorf(http.StatusBadRequest, "invalidFilter", format, args...)
}
