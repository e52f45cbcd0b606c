package scim

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/internal/directory"
)

// Bulk message schemas (RFC 7644 §3.7).
const (
	BulkRequestURN  = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	BulkResponseURN = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
)

// bulkRequest is the wire form of a BulkRequest.
type bulkRequest struct {
	FailOnErrors *int            `json:"failOnErrors"`
	Operations   []bulkOperation `json:"Operations"`
}

type bulkOperation struct {
	Method  string         `json:"method"`
	BulkID  string         `json:"bulkId"`
	Version string         `json:"version"`
	Path    string         `json:"path"`
	Data    map[string]any `json:"data"`
}

// bulk is POST /Bulk: limits first (413 naming the limit), then the
// directory's bulk engine, then a BulkResponse with one entry per
// attempted operation.
func (h *Handler) bulk(w http.ResponseWriter, r *http.Request) {
	req, err := h.decodeBulk(w, r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	results, err := h.svc.Bulk(r.Context(), principal(r), req)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	ops := make([]any, len(results))
	for i, res := range results {
		ops[i] = h.bulkResult(r, res)
	}
	writeJSON(w, http.StatusOK, map[string]any{"schemas": []string{BulkResponseURN}, "Operations": ops})
}

func (h *Handler) decodeBulk(w http.ResponseWriter, r *http.Request) (directory.BulkRequest, error) {
	if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		return directory.BulkRequest{}, err
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.BulkMaxPayload))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return directory.BulkRequest{}, scimError(http.StatusRequestEntityTooLarge, ScimTypeTooLarge,
			"The bulk request exceeds maxPayloadSize (%d bytes); split it into smaller requests.", h.cfg.BulkMaxPayload)
	}
	if err != nil {
		return directory.BulkRequest{}, scimError(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, "The request body could not be read.")
	}
	if _, err := decodeObject(raw); err != nil {
		return directory.BulkRequest{}, err
	}
	return h.parseBulk(raw)
}

func (h *Handler) parseBulk(raw []byte) (directory.BulkRequest, error) {
	var br bulkRequest
	dec := json.NewDecoder(bytesReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&br); err != nil {
		return directory.BulkRequest{}, scimError(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, "The BulkRequest is malformed: %s.", jsonProblem(err))
	}
	if len(br.Operations) == 0 {
		return directory.BulkRequest{}, scimError(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, "A BulkRequest needs \"Operations\", a non-empty list.")
	}
	if len(br.Operations) > h.cfg.BulkMaxOperations {
		return directory.BulkRequest{}, scimError(http.StatusRequestEntityTooLarge, ScimTypeTooLarge,
			"The bulk request has %d operations; maxOperations is %d.", len(br.Operations), h.cfg.BulkMaxOperations)
	}
	req := directory.BulkRequest{Operations: make([]directory.BulkOp, len(br.Operations))}
	if br.FailOnErrors != nil {
		req.FailOnErrors = max(*br.FailOnErrors, 0)
	}
	for i, op := range br.Operations {
		req.Operations[i] = directory.BulkOp{Method: op.Method, Path: op.Path, BulkID: op.BulkID, Version: op.Version, Data: op.Data}
	}
	return req, nil
}

func (h *Handler) bulkResult(r *http.Request, res directory.BulkResult) map[string]any {
	out := map[string]any{"method": res.Method, "status": strconv.Itoa(res.Status)}
	if res.BulkID != "" {
		out["bulkId"] = res.BulkID
	}
	if res.Version != "" {
		out["version"] = res.Version
	}
	if res.Type != nil && res.ID != "" && res.Err == nil && res.Method != http.MethodDelete {
		out["location"] = h.baseURL(r) + res.Type.Endpoint + "/" + res.ID
	}
	if res.Err != nil {
		var se scimerrors.ScimError
		errors.As(res.Err, &se)
		out["response"] = se
	}
	return out
}
