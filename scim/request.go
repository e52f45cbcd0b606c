package scim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

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
	if err := checkText(raw); err != nil {
		return nil, err
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

// checkText refuses a body that is not valid UTF-8 or whose strings hold a
// \u escape of an unpaired UTF-16 surrogate: encoding/json would silently
// replace either with U+FFFD, and the server would store a value the
// client never sent.
func checkText(raw []byte) error {
	if i := invalidUTF8At(raw); i >= 0 {
		return scimError(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax,
			"The request body is not valid UTF-8 (first invalid byte at offset %d).", i)
	}
	if i := loneSurrogateAt(raw); i >= 0 {
		return scimError(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax,
			"The request body has a \\u escape of an unpaired UTF-16 surrogate at byte %d; it encodes no character.", i)
	}
	return nil
}

// invalidUTF8At is the offset of the first byte of raw that is not part of
// valid UTF-8, or -1.
func invalidUTF8At(raw []byte) int {
	if utf8.Valid(raw) {
		return -1
	}
	for i := 0; i < len(raw); {
		r, n := utf8.DecodeRune(raw[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}

// loneSurrogateAt is the offset of the first \u escape inside a JSON
// string that is a surrogate without its partner, or -1. Outside strings
// a backslash is a syntax error the decoder reports.
func loneSurrogateAt(raw []byte) int {
	inString := false
	for i := 0; i < len(raw); i++ {
		switch {
		case raw[i] == '"':
			inString = !inString
		case raw[i] != '\\' || !inString:
		case i+1 < len(raw) && raw[i+1] == 'u':
			n := surrogateEscape(raw, i)
			if n < 0 {
				return i
			}
			i += n - 1
		default:
			i++ // skip the escaped character
		}
	}
	return -1
}

// surrogateEscape reads the \u escape at raw[i:]: the number of bytes it
// (and, for a high surrogate, its low partner) takes, or -1 when it is an
// unpaired surrogate. Malformed escapes are left to the decoder.
func surrogateEscape(raw []byte, i int) int {
	r := hex4(raw, i+2)
	switch {
	case r < 0xD800 || r > 0xDFFF:
		return 6
	case r >= 0xDC00:
		return -1
	}
	if i+7 < len(raw) && raw[i+6] == '\\' && raw[i+7] == 'u' {
		if lo := hex4(raw, i+8); lo >= 0xDC00 && lo <= 0xDFFF {
			return 12
		}
	}
	return -1
}

// hex4 parses four hex digits at raw[i:], or returns -1.
func hex4(raw []byte, i int) rune {
	if i+4 > len(raw) {
		return -1
	}
	v, err := strconv.ParseUint(string(raw[i:i+4]), 16, 32)
	if err != nil {
		return -1
	}
	return rune(v)
}

func jsonProblem(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return se.Error() + " at byte " + strconv.FormatInt(se.Offset, 10)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "it ends too early"
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s must be %s", te.Field, te.Type)
	}
	return "it could not be parsed"
}

// listParams are the parameters of a list or search request.
type listParams struct {
	startIndex int
	count      int
	filter     string
	sortBy     string
	descending bool
	attributes []string
	excluded   []string
	cursor     *string // non-nil: RFC 9865 cursor paging
}

// parseListParams reads a GET's query: startIndex (1-based; below 1 means
// 1), count (negative means 0; above maxResults is clamped; absent means
// maxResults), filter, sortBy, sortOrder, attributes, excludedAttributes
// and cursor.
func parseListParams(q url.Values, maxResults int) (listParams, error) {
	p := listParams{filter: q.Get("filter"), sortBy: q.Get("sortBy"),
		attributes: q["attributes"], excluded: q["excludedAttributes"]}
	var err error
	if p.startIndex, err = intParam(q, "startIndex", 1); err != nil {
		return p, err
	}
	if p.count, err = intParam(q, "count", maxResults); err != nil {
		return p, err
	}
	if p.descending, err = sortOrder(q.Get("sortOrder")); err != nil {
		return p, err
	}
	if c, ok := q["cursor"]; ok {
		p.cursor = &c[0]
	}
	return p.clamp(maxResults)
}

func (p listParams) clamp(maxResults int) (listParams, error) {
	if p.cursor != nil && p.startIndex > 1 {
		return p, scimError(http.StatusBadRequest, scimerrors.ScimTypeInvalidValue, "Use either cursor or startIndex paging, not both.")
	}
	p.startIndex = max(p.startIndex, 1)
	p.count = min(max(p.count, 0), maxResults)
	return p, nil
}

func sortOrder(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "", "ascending":
		return false, nil
	case "descending":
		return true, nil
	}
	return false, scimError(http.StatusBadRequest, scimerrors.ScimTypeInvalidValue, "sortOrder must be \"ascending\" or \"descending\", got %q.", truncate(s, 40))
}

// searchRequest is the body of POST .search (RFC 7644 §3.4.3).
type searchRequest struct {
	Attributes         []string `json:"attributes"`
	ExcludedAttributes []string `json:"excludedAttributes"`
	Filter             string   `json:"filter"`
	SortBy             string   `json:"sortBy"`
	SortOrder          string   `json:"sortOrder"`
	StartIndex         *int     `json:"startIndex"`
	Count              *int     `json:"count"`
	Cursor             *string  `json:"cursor"`
}

// parseSearch reads a SearchRequest body into list parameters.
func parseSearch(body map[string]any, maxResults int) (listParams, error) {
	raw, _ := json.Marshal(body)
	var sr searchRequest
	if err := json.Unmarshal(raw, &sr); err != nil {
		return listParams{}, scimError(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax,
			"The SearchRequest has a field of the wrong type: %s.", jsonProblem(err))
	}
	p := listParams{startIndex: 1, count: maxResults, filter: sr.Filter, sortBy: sr.SortBy,
		attributes: sr.Attributes, excluded: sr.ExcludedAttributes, cursor: sr.Cursor}
	if sr.StartIndex != nil {
		p.startIndex = *sr.StartIndex
	}
	if sr.Count != nil {
		p.count = *sr.Count
	}
	var err error
	if p.descending, err = sortOrder(sr.SortOrder); err != nil {
		return p, err
	}
	return p.clamp(maxResults)
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

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
