package directory

import (
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/scimbridge/scimbridge/internal/schema"
)

// Maximum lengths of string values, in characters (Unicode code points),
// the same on every store. A value over its limit is refused with 400
// invalidValue naming the attribute and the limit, on every write path
// (POST, PUT, PATCH, Bulk, and any future front end), before the store
// is asked. The limits keep every indexed column well inside PostgreSQL's
// btree row limit (about 2,700 bytes) even at four bytes per character.
const (
	// MaxUserNameLength bounds userName. Identity providers allow less
	// (Okta logins 100 characters, Entra userPrincipalName 113), and an
	// email address used as a userName is at most 254 (RFC 5321 §4.5.3).
	MaxUserNameLength = 256
	// MaxExternalIDLength bounds externalId, generous for the GUIDs,
	// immutable ids and distinguished names clients send.
	MaxExternalIDLength = 512
	// MaxDisplayNameLength bounds displayName of users and groups (Entra
	// and Okta allow 256 and 255 for a group's name).
	MaxDisplayNameLength = 256
	// MaxEmailLength bounds each emails[].value: RFC 3696's 320 (64 +
	// "@" + 255), above RFC 5321's 254-character path limit.
	MaxEmailLength = 320
	// MaxStringLength bounds every other string value (name parts,
	// addresses, titles, extension attributes, member displays, ...).
	MaxStringLength = 4096
)

// attrLimits are the top-level attributes with a limit of their own.
var attrLimits = map[string]int{
	"userName":    MaxUserNameLength,
	"externalId":  MaxExternalIDLength,
	"displayName": MaxDisplayNameLength,
}

// checkLimits refuses a normalised document holding a string longer than
// its attribute's maximum length.
func checkLimits(doc schema.Doc) error {
	for name, v := range doc {
		limit, ok := attrLimits[name]
		if !ok {
			limit = MaxStringLength
		}
		var o *overLimit
		if name == "emails" {
			o = emailOverLimit(v)
		} else {
			o = findLong(v, limit)
		}
		if o != nil {
			return invalidValue(fmt.Sprintf("Attribute '%s' is too long: %d characters, at most %d are allowed.", name+o.path, o.n, o.limit))
		}
	}
	return nil
}

// overLimit is a string found over its limit: its path below the value
// searched ("" for the value itself, else ".name" and "[i]" steps), its
// length in characters and the limit. Paths are spelled only for the
// string found, while the search unwinds: a write within its limits (all
// of them, nearly) builds none.
type overLimit struct {
	path     string
	n, limit int
}

// emailOverLimit applies MaxEmailLength to each email's value and
// MaxStringLength to its other sub-attributes.
func emailOverLimit(v any) *overLimit {
	list, _ := v.([]any)
	for i, el := range list {
		m, ok := el.(map[string]any)
		if !ok {
			if o := findLong(el, MaxStringLength); o != nil {
				return o.under("[" + strconv.Itoa(i) + "]")
			}
			continue
		}
		for k, x := range m {
			limit := MaxStringLength
			if k == "value" {
				limit = MaxEmailLength
			}
			if o := findLong(x, limit); o != nil {
				return o.under("[" + strconv.Itoa(i) + "]." + k)
			}
		}
	}
	return nil
}

// findLong walks v (a string, object or list) applying limit to its own
// string and MaxStringLength to nested ones.
func findLong(v any, limit int) *overLimit {
	switch v := v.(type) {
	case string:
		return longString(v, limit)
	case map[string]any:
		for k, x := range v {
			if o := findLong(x, MaxStringLength); o != nil {
				return o.under("." + k)
			}
		}
	case []any:
		for i, x := range v {
			if o := findLong(x, MaxStringLength); o != nil {
				return o.under("[" + strconv.Itoa(i) + "]")
			}
		}
	}
	return nil
}

// under puts step before the path found.
func (o *overLimit) under(step string) *overLimit {
	o.path = step + o.path
	return o
}

func longString(s string, limit int) *overLimit {
	if len(s) <= limit { // bytes >= characters: surely within
		return nil
	}
	if n := utf8.RuneCountInString(s); n > limit {
		return &overLimit{n: n, limit: limit}
	}
	return nil
}
