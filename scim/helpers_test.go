package scim_test

import (
	"time"

	"github.com/scimbridge/scimbridge/scim"
)

func nowUTC() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func scimConfigMaxResults(n int) scim.Config { return scim.Config{MaxResults: n} }
