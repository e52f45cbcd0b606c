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
		if name == "emails" {
			if err := checkEmails(v); err != nil {
				return err
			}
			continue
		}
		if err := checkValue(name, v, limit); err != nil {
			return err
		}
	}
	return nil
}

// checkEmails applies MaxEmailLength to each email's value and
// MaxStringLength to its other sub-attributes.
func checkEmails(v any) error {
	list, _ := v.([]any)
	for i, el := range list {
		m, ok := el.(map[string]any)
		if !ok {
			if err := checkValue("emails["+strconv.Itoa(i)+"]", el, MaxStringLength); err != nil {
				return err
			}
			continue
		}
		for k, x := range m {
			limit := MaxStringLength
			if k == "value" {
				limit = MaxEmailLength
			}
			if err := checkValue(fmt.Sprintf("emails[%d].%s", i, k), x, limit); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkValue walks v (a string, object or list) applying limit to its
// own string and MaxStringLength to nested ones; path names it.
func checkValue(path string, v any, limit int) error {
	switch v := v.(type) {
	case string:
		return checkString(path, v, limit)
	case map[string]any:
		for k, x := range v {
			if err := checkValue(path+"."+k, x, MaxStringLength); err != nil {
				return err
			}
		}
	case []any:
		for i, x := range v {
			if err := checkValue(path+"["+strconv.Itoa(i)+"]", x, MaxStringLength); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkString(path, s string, limit int) error {
	if len(s) <= limit { // bytes >= characters: surely within
		return nil
	}
	if n := utf8.RuneCountInString(s); n > limit {
		return invalidValue(fmt.Sprintf("Attribute '%s' is too long: %d characters, at most %d are allowed.", path, n, limit))
	}
	return nil
}
