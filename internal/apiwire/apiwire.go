// Package apiwire writes the JSON answers of scimbridge's non-SCIM HTTP
// front ends (/csv, /settings): plain JSON bodies, and errors in the SCIM
// error shape (RFC 7644 §3.12, sent as application/scim+json) so that a
// client reads one error format everywhere. It is the one place that
// decides what a front end says about an error that is not a SCIM error:
// a busy or unreachable store is 503 with Retry-After, a cancelled request
// 503, anything else a logged 500 without its text.
package apiwire

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	scimerrors "github.com/elimity-com/scim/errors"

	"github.com/scimbridge/scimbridge/internal/authn"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/store"
)

// ErrorMediaType is the SCIM media type errors are sent as.
const ErrorMediaType = "application/scim+json"

// Problem is a SCIM error with a formatted detail.
func Problem(status int, typ scimerrors.ScimType, format string, args ...any) error {
	return scimerrors.ScimError{Status: status, ScimType: typ, Detail: fmt.Sprintf(format, args...)}
}

// Fail writes err as a SCIM error body. An error that is not a SCIM error
// is explained without its text; only an unexpected one is logged (as
// "<what> request failed").
func Fail(w http.ResponseWriter, r *http.Request, log *slog.Logger, what string, err error) {
	var se scimerrors.ScimError
	if !errors.As(err, &se) {
		se = unexpected(r, log, what, err)
	}
	if se.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", strconv.Itoa(directory.RetryAfterSeconds))
	}
	w.Header().Set("Content-Type", ErrorMediaType)
	WriteJSON(w, se.Status, se)
}

func unexpected(r *http.Request, log *slog.Logger, what string, err error) scimerrors.ScimError {
	switch {
	case errors.Is(err, store.ErrUnavailable):
		return scimerrors.ScimError{Status: http.StatusServiceUnavailable, Detail: "The database is unavailable; nothing was changed, retry shortly."}
	case r.Context().Err() != nil:
		return scimerrors.ScimError{Status: http.StatusServiceUnavailable, Detail: "The request was cancelled or timed out."}
	}
	log.ErrorContext(r.Context(), what+" request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	return scimerrors.ScimError{Status: http.StatusInternalServerError, Detail: "An internal error occurred; it has been logged. Please retry later."}
}

// Principal is the request's caller, set by the authentication
// middleware; without one it answers 401 and reports false.
func Principal(w http.ResponseWriter, r *http.Request, log *slog.Logger, what string) (policy.Principal, bool) {
	p, ok := authn.Principal(r.Context())
	if !ok {
		Fail(w, r, log, what, Problem(http.StatusUnauthorized, "", "The request was not authenticated."))
	}
	return p, ok
}

// WriteJSON writes v with the status, as application/json unless a
// Content-Type is already set, without HTML escaping.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
