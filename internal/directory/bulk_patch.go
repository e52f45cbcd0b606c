package directory

import (
	"context"
	"net/http"

	"github.com/scimbridge/scimbridge/internal/store"
)

// patchUsers runs consecutive patches of distinct users with one
// set-based store call (UpdateUsers) whose callback is PatchUser's
// (patchUser), so each operation gets the result, error and audit event
// it would get alone. When that call fails as a whole (nothing was
// written), each patch runs on its own, as createUsers does.
func (r *bulkRun) patchUsers(ctx context.Context, batch []int) {
	var ids []string
	var idx []int
	var patches []*userPatch
	for _, i := range batch {
		po := r.ops[i]
		ops, err := ParsePatchBody(resolveRefs(po.op.Data, r.ids).(map[string]any))
		if err == nil {
			if id, ok := canonicalID(po.id); ok {
				ids, idx = append(ids, id), append(idx, i)
				patches = append(patches, &userPatch{rt: r.reg.User, ops: ops, pre: Precondition{IfMatch: po.op.Version}, ev: auditTemplate(ctx, r.p, "patch")})
				continue
			}
			err = notFound(r.s.reg.User, po.id)
		}
		r.record(i, r.result(ctx, po, po.id, nil, err, 0))
	}
	if len(ids) == 0 {
		return
	}
	results, err := r.s.store.UpdateUsers(ctx, r.p.Tenant, ids, func(k int, u *store.User) (*store.AuditEvent, error) {
		return patches[k].ev, r.s.patchUser(r.p, patches[k], u)
	})
	if err != nil && ctx.Err() == nil {
		r.s.logger.WarnContext(ctx, "bulk: set-based user update failed; patching one by one", "users", len(ids), "err", err)
		for _, i := range idx {
			r.execute(ctx, i)
		}
		return
	}
	for k, i := range idx {
		r.record(i, r.patchResult(ctx, i, ids[k], patches[k], results, k, err))
	}
}

// patchResult is the result of the k-th patch of a batch: the call's
// error, else that user's outcome.
func (r *bulkRun) patchResult(ctx context.Context, i int, id string, up *userPatch, results []store.UserUpdate, k int, err error) *BulkResult {
	po := r.ops[i]
	if err == nil {
		err = results[k].Err
	}
	if err != nil {
		return r.result(ctx, po, po.id, nil, r.s.userPatchError(ctx, up, id, err), 0)
	}
	u := results[k].User
	res, _ := r.s.userResource(r.reg.User, u, u.Groups)
	return r.result(ctx, po, po.id, res, nil, http.StatusOK)
}
