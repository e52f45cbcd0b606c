package scim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/internal/auth"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/store"
)

// ScimTypeTooLarge is the scimType of 413 answers (not in RFC 7644's table,
// which has none for 413; chosen so clients can tell the cause).
const ScimTypeTooLarge scimerrors.ScimType = "tooLarge"

func scimError(status int, typ scimerrors.ScimType, format string, args ...any) scimerrors.ScimError {
	return scimerrors.ScimError{Status: status, ScimType: typ, Detail: fmt.Sprintf(format, args...)}
}

// unauthorized is the 401 for a refused credential; the reason auth gives
// is safe to show.
func unauthorized(e *auth.Error) scimerrors.ScimError {
	return scimerrors.ScimError{Status: http.StatusUnauthorized, Detail: "Authentication failed: " + e.Reason + "."}
}

func errNoEndpoint(path string) scimerrors.ScimError {
	return scimError(http.StatusNotFound, "", "There is no SCIM endpoint %q.", path)
}

func errMethod(method, path string) scimerrors.ScimError {
	return scimError(http.StatusMethodNotAllowed, "", "%s is not supported on %s.", method, path)
}

// writeError renders err as an RFC 7644 error body. SCIM errors go out as
// they are; anything else is logged and answered 500 without its text.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var se scimerrors.ScimError
	if !errors.As(err, &se) {
		switch {
		case errors.Is(err, store.ErrUnavailable):
			// Reached the front end untranslated (from authentication).
			se = directory.Unavailable()
		case isContextError(err) && r.Context().Err() != nil:
			se = scimError(http.StatusServiceUnavailable, "", "The request was cancelled or timed out.")
		default:
			h.cfg.Logger.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
			se = scimError(http.StatusInternalServerError, "", "An internal error occurred; it has been logged. Please retry later.")
		}
	}
	switch se.Status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="scimbridge"`)
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", strconv.Itoa(directory.RetryAfterSeconds))
	}
	writeJSON(w, se.Status, se)
}

// writeJSON writes v as a SCIM JSON body with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"500","detail":"response encoding failed"}`)
	}
	writeRawJSON(w, status, body)
}

// writeRawJSON writes an encoded SCIM JSON body with the given status.
func writeRawJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", MediaType)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
