package scim

import (
	"net/http"
	"strings"
)

// endpoints maps lower-cased endpoint names to their canonical spelling.
// "serviceConfiguration" is the name Microsoft's reference client uses for
// ServiceProviderConfig.
var endpoints = map[string]string{
	"users":                 "Users",
	"groups":                "Groups",
	"serviceproviderconfig": "ServiceProviderConfig",
	"serviceconfiguration":  "ServiceProviderConfig",
	"schemas":               "Schemas",
	"resourcetypes":         "ResourceTypes",
	"bulk":                  "Bulk",
	"me":                    "Me",
}

// canonicalPath rewrites the first path segment to its canonical case and
// drops a trailing slash, so /users/ and /Users reach the same route.
func canonicalPath(r *http.Request) *http.Request {
	p := r.URL.Path
	trimmed := strings.TrimRight(p, "/")
	if trimmed == "" {
		trimmed = "/"
	}
	seg, rest, _ := strings.Cut(strings.TrimPrefix(trimmed, "/"), "/")
	if canon, ok := endpoints[strings.ToLower(seg)]; ok {
		seg = canon
	}
	next := "/" + seg
	if rest != "" {
		next += "/" + rest
	}
	if next == p {
		return r
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath = next, ""
	return r2
}
