package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

// bulkSize is the number of creates in one bulk-create request.
const bulkSize = 1000

// batchedInsert is the raw ceiling of bulk-create: bulkSize prebuilt users
// inserted with one set-based store call.
var batchedInsert = &ceiling{name: "store.CreateUsers", weight: bulkSize, newOp: func(e *env) op {
	reg := schema.New()
	return func(ctx context.Context, _ *rand.Rand) error {
		users := make([]store.User, bulkSize)
		now := time.Now().UTC().Truncate(time.Microsecond)
		for k := range users {
			u, err := userRecord(reg, e.pop.newUserIndex(), now)
			if err != nil {
				return err
			}
			users[k] = u
		}
		results, err := e.st.CreateUsers(ctx, users)
		if err != nil {
			return err
		}
		for _, r := range results {
			if r != nil {
				return r
			}
		}
		return nil
	}
}}

// patchUser replaces three attributes of a random user.
func patchUser(e *env) op {
	var buf bytes.Buffer
	return func(ctx context.Context, rng *rand.Rand) error {
		id := e.pop.ids[e.pop.randomIndex(rng)]
		n := rng.IntN(1000)
		body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
			{"op":"replace","path":"title","value":"Title %d"},{"op":"replace","path":"nickName","value":"nick%d"},
			{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Dept %d"}]}`, n, n, n)
		return e.do(ctx, http.MethodPatch, "/Users/"+id, []byte(body), http.StatusOK, &buf)
	}
}

// groupAddMember removes a random member of the largest group (all n
// users) and adds it back in one PATCH: two member rows change, the group
// stays the same size, and the member list is never read.
func groupAddMember(e *env) op {
	var buf bytes.Buffer
	return func(ctx context.Context, rng *rand.Rand) error {
		if e.pop.bigGroup == "" {
			return fmt.Errorf("no group loaded")
		}
		id := e.pop.ids[e.pop.randomIndex(rng)]
		body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
			{"op":"remove","path":"members[value eq \"%s\"]"},{"op":"add","path":"members","value":[{"value":%q}]}]}`, id, id)
		return e.do(ctx, http.MethodPatch, "/Groups/"+e.pop.bigGroup, []byte(body), http.StatusNoContent, &buf)
	}
}

// bulkCreate POSTs one Bulk request of bulkSize user creations and checks
// that every one of them succeeded.
func bulkCreate(e *env) op {
	var buf bytes.Buffer
	return func(ctx context.Context, _ *rand.Rand) error {
		ops := make([]any, bulkSize)
		for k := range ops {
			ops[k] = map[string]any{"method": "POST", "path": "/Users", "bulkId": uuid.NewString(), "data": userBody(e.pop.newUserIndex())}
		}
		body, err := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:BulkRequest"}, "Operations": ops})
		if err != nil {
			return err
		}
		if err := e.do(ctx, http.MethodPost, "/Bulk", body, http.StatusOK, &buf); err != nil {
			return err
		}
		if n := bytes.Count(buf.Bytes(), []byte(`"status":"201"`)); n != bulkSize {
			return fmt.Errorf("wrong result: %d of %d creates succeeded: %s", n, bulkSize, preview(buf.Bytes()))
		}
		return nil
	}
}
