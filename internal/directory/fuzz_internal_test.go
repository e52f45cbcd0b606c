package directory

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

// mustBeClientError fails unless err is a SCIM error a client caused: a
// 4xx with a detail. A PATCH body, whatever it holds, never causes a 5xx
// or an error that is not a SCIM error (which the front ends answer 500).
func mustBeClientError(t *testing.T, what string, err error) {
	t.Helper()
	var se scimerrors.ScimError
	if !errors.As(err, &se) {
		t.Fatalf("%s: a non-SCIM error (a 500 on the wire): %T %v", what, err, err)
	}
	if se.Status < 400 || se.Status >= 500 || se.Detail == "" {
		t.Fatalf("%s: status %d detail %q, want a 4xx with a detail", what, se.Status, se.Detail)
	}
}

// decodeFuzzBody decodes a JSON object as the front ends do (numbers
// kept as json.Number); false when data is not one.
func decodeFuzzBody(data []byte) (map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, false
	}
	return m, true
}

// fuzzUserDoc is a stored user with most attribute kinds set, so that
// PATCH paths find something to change, filter or remove.
var fuzzUserDoc = []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User",
 "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","urn:scimbridge:params:scim:schemas:extension:support:2.0:User"],
 "id":"u1","userName":"fuzz","displayName":"Fuzz","externalId":"x1","active":true,
 "name":{"givenName":"F","familyName":"Z"},
 "emails":[{"value":"f@example.com","type":"work","primary":true},{"value":"h@example.com","type":"home"}],
 "phoneNumbers":[{"value":"+1 555","type":"mobile"}],
 "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D","manager":{"value":"m1"}},
 "urn:scimbridge:params:scim:schemas:extension:support:2.0:User":{"tier":"support-tier-1-operations"}}`)

// FuzzPatch: any PATCH body is parsed and applied, the way PatchUser and
// PatchGroup do it inside the store's update callback, to a user and to
// a group with members: each either yields a valid document (a user
// record, a member list) or fails with a SCIM 4xx error; nothing panics.
// It runs without a store so the fuzzer explores the parser and the
// patch engine, not the database driver.
func FuzzPatch(f *testing.F) {
	f.Add([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`))
	s := New(nil, schema.New())
	group := &store.Group{ID: "g1", Doc: []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g1","displayName":"G"}`),
		Members: []store.Member{{ID: "u1", Type: "User", Display: "Fuzz"}, {ID: "g2", Type: "Group"}}}
	f.Fuzz(func(t *testing.T, data []byte) {
		body, ok := decodeFuzzBody(data)
		if !ok {
			return
		}
		ops, err := ParsePatchBody(body)
		if err != nil {
			mustBeClientError(t, "parse", err)
			return
		}
		if doc, err := patchedDoc(s.reg.User, "u1", fuzzUserDoc, ops); err != nil {
			mustBeClientError(t, "user", err)
		} else if _, err := userRecord(doc); err != nil {
			mustBeClientError(t, "user record", err)
		}
		if _, _, _, err := s.memberPatch(ops); err != nil {
			mustBeClientError(t, "member patch", err)
		}
		if _, err := s.patchedGroup(group, ops); err != nil {
			mustBeClientError(t, "group", err)
		}
	})
}
