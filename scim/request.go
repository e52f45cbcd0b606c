package scim

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"
)

// decodeBody reads a JSON object body within the size limit. Numbers stay
// json.Number so large integers survive.
func (h *Handler) decodeBody(w http.ResponseWriter, r *http.Request) (map[string]any, error) {
	if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, scimError(http.StatusRequestEntityTooLarge, ScimTypeTooLarge,
			"The request body exceeds the limit of %d bytes.", h.cfg.MaxBodyBytes)
	}
	if err != nil {
		return nil, scimError(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, "The request body could not be read.")
	}
	return decodeObject(raw)
}

func checkContentType(ct string) error {
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == MediaType || mt == "application/json") {
		return nil
	}
	return scimError(http.StatusUnsupportedMediaType, scimerrors.ScimTypeInvalidSyntax,
		"Content-Type %q is not supported; send application/scim+json or application/json.", ct)
}

func decodeObject(raw []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, scimError(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, "The request body is empty; a JSON object is required.")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, scimError(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, "The request body is not valid JSON: %s.", jsonProblem(err))
	}
	if dec.More() {
		return nil, scimError(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, "The request body has data after its JSON value.")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, scimError(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, "The request body must be a JSON object.")
	}
	return obj, nil
}

func jsonProblem(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return se.Error() + " at byte " + strconv.FormatInt(se.Offset, 10)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "it ends too early"
	}
	return "it could not be parsed"
}

// listParams are the query parameters of a list request.
type listParams struct {
	startIndex int
	count      int
}

// parseListParams reads startIndex (1-based; below 1 means 1) and count
// (negative means 0; above maxResults is clamped; absent means maxResults).
// filter is refused until filtering is supported.
func parseListParams(q url.Values, maxResults int) (listParams, error) {
	p := listParams{startIndex: 1, count: maxResults}
	if f := q.Get("filter"); strings.TrimSpace(f) != "" {
		return p, scimError(http.StatusBadRequest, scimerrors.ScimTypeInvalidFilter,
			"Filtering is not supported by this server yet; list without the filter parameter.")
	}
	var err error
	if p.startIndex, err = intParam(q, "startIndex", 1); err != nil {
		return p, err
	}
	if p.count, err = intParam(q, "count", maxResults); err != nil {
		return p, err
	}
	p.startIndex = max(p.startIndex, 1)
	p.count = min(max(p.count, 0), maxResults)
	return p, nil
}

func intParam(q url.Values, name string, def int) (int, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			if strings.HasPrefix(s, "-") {
				return 0, nil
			}
			return 1 << 31, nil
		}
		return 0, scimError(http.StatusBadRequest, scimerrors.ScimTypeInvalidValue, "Query parameter %s must be an integer, got %q.", name, truncate(s, 40))
	}
	return n, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
