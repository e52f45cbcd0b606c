package scim_test

import (
	"net/url"
	"time"

	"github.com/scimbridge/scimbridge/scim"
)

func nowUTC() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func scimConfigMaxResults(n int) scim.Config { return scim.Config{MaxResults: n} }

func urlq(s string) string { return url.QueryEscape(s) }
