package directory

import (
	"context"
	"net/http"
	"runtime"
	"strings"
	"sync"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

const bulkPrefix = "bulkId:"

// run processes operations until all ran or failOnErrors stopped them.
// Scheduling is linear in the number of operations and references: ready
// operations wait in a heap by request order, and an operation waiting
// for bulkIds counts the ones still unsettled and is pushed when the last
// one settles.
func (r *bulkRun) run(ctx context.Context) {
	r.schedule()
	for !r.stopped() {
		if r.ready.Len() > 0 {
			r.pass(ctx)
			continue
		}
		if r.allDone() {
			return
		}
		if !r.breakCycle(ctx) {
			r.failStuck(ctx)
			return
		}
	}
}

// schedule counts each operation's references to bulkIds defined in the
// request and queues the operations that have none.
func (r *bulkRun) schedule() {
	r.pending = make([]int, len(r.ops))
	r.waiting = map[string][]int{}
	for i, po := range r.ops {
		for _, b := range po.refs {
			if _, defined := r.defined[b]; defined {
				r.pending[i]++
				r.waiting[b] = append(r.waiting[b], i)
			}
		}
		if r.pending[i] == 0 {
			r.ready.push(i)
		}
	}
}

// settle marks bulkId b created or failed, queueing the operations whose
// last unsettled reference it was.
func (r *bulkRun) settle(b string) {
	for _, w := range r.waiting[b] {
		if r.pending[w]--; r.pending[w] == 0 && !r.ops[w].done {
			r.ready.push(w)
		}
	}
	delete(r.waiting, b)
}

// pass runs the first ready operation in request order (or the batch of
// user creations or user patches it starts), so an operation that waited
// for a bulkId runs as soon as it can, before the operations after it.
func (r *bulkRun) pass(ctx context.Context) {
	i := r.ready.pop()
	if r.ops[i].done {
		return
	}
	kind := r.batchKind(i)
	if kind == notBatched {
		r.execute(ctx, i)
		return
	}
	batch := []int{i}
	targets := map[string]bool{r.target(i): true}
	for r.ready.Len() > 0 && r.ready.peek() == batch[len(batch)-1]+1 && r.batchKind(r.ready.peek()) == kind {
		next := r.ready.peek()
		if kind == batchPatches && targets[r.target(next)] {
			break // a second patch of a user runs after the first's batch
		}
		targets[r.target(next)] = true
		batch = append(batch, r.ready.pop())
	}
	switch {
	case len(batch) == 1:
		r.execute(ctx, i)
	case kind == batchCreates:
		r.createUsers(ctx, batch)
	default:
		r.patchUsers(ctx, batch)
	}
}

func (r *bulkRun) allDone() bool { return r.doneCount == len(r.ops) }

// Batch kinds: which set-based store call an operation may join.
const (
	notBatched   = iota
	batchCreates // consecutive user creations: CreateUsers
	batchPatches // consecutive patches of distinct users: UpdateUsers
)

// batchKind: a creation or a patch of a user without references (a
// patch's target named by id, not bulkId) may join consecutive operations
// of its kind in one set-based store call. With failOnErrors there is no
// batching, so that nothing runs after the limit is reached.
func (r *bulkRun) batchKind(i int) int {
	po := r.ops[i]
	if r.req.FailOnErrors != 0 || po.done || po.err != nil || po.rt != r.reg.User || len(po.refs) != 0 {
		return notBatched
	}
	switch {
	case po.op.Method == http.MethodPost:
		return batchCreates
	case po.op.Method == http.MethodPatch && !strings.HasPrefix(po.id, bulkPrefix):
		return batchPatches
	}
	return notBatched
}

// target is the user an operation addresses, as the store names it.
func (r *bulkRun) target(i int) string {
	id, _ := canonicalID(r.ops[i].id)
	return id
}

// readyQueue is a min-heap of operation indexes.
type readyQueue []int

func (q readyQueue) Len() int { return len(q) }

func (q readyQueue) peek() int { return q[0] }

func (q *readyQueue) push(i int) {
	*q = append(*q, i)
	for c := len(*q) - 1; c > 0; {
		p := (c - 1) / 2
		if (*q)[p] <= (*q)[c] {
			break
		}
		(*q)[p], (*q)[c] = (*q)[c], (*q)[p]
		c = p
	}
}

func (q *readyQueue) pop() int {
	h := *q
	top, last := h[0], len(h)-1
	h[0] = h[last]
	h = h[:last]
	for p := 0; ; {
		c := 2*p + 1
		if c >= len(h) {
			break
		}
		if c+1 < len(h) && h[c+1] < h[c] {
			c++
		}
		if h[p] <= h[c] {
			break
		}
		h[p], h[c] = h[c], h[p]
		p = c
	}
	*q = h
	return top
}

// execute runs one operation with its references resolved.
func (r *bulkRun) execute(ctx context.Context, i int) {
	po := r.ops[i]
	if po.err != nil {
		r.record(i, r.failure(ctx, po.err))
		return
	}
	if err := r.unresolved(po.refs); err != nil {
		r.record(i, r.failure(ctx, err))
		return
	}
	data := resolveRefs(po.op.Data, r.ids).(map[string]any)
	id := strings.TrimPrefix(po.id, bulkPrefix)
	if po.id != id {
		id = r.ids[id]
	}
	r.record(i, r.dispatch(ctx, po, id, data))
}

// unresolved explains a reference to a bulkId that is undefined or whose
// creation failed.
func (r *bulkRun) unresolved(refs []string) error {
	for _, b := range refs {
		if _, ok := r.ids[b]; ok {
			continue
		}
		if err, failed := r.failed[b]; failed {
			return bulkError(http.StatusConflict, scimerrors.ScimTypeInvalidValue, "bulkId %q refers to an operation that failed: %v", truncate(b, 80), err)
		}
		return bulkError(http.StatusBadRequest, scimerrors.ScimTypeInvalidValue, "bulkId %q is not defined by any POST in this request.", truncate(b, 80))
	}
	return nil
}

// dispatch calls the service method of the operation's endpoint.
func (r *bulkRun) dispatch(ctx context.Context, po parsedOp, id string, data map[string]any) *BulkResult {
	s, p, users := r.s, r.p, po.rt == r.reg.User
	pre := Precondition{IfMatch: po.op.Version}
	var res *Resource
	var err error
	status := http.StatusOK
	switch {
	case po.op.Method == http.MethodPost && users:
		res, err = s.createUser(ctx, p, data, r.notifierFor(po))
		status = http.StatusCreated
	case po.op.Method == http.MethodPost:
		res, err = s.CreateGroup(ctx, p, data)
		status = http.StatusCreated
	case po.op.Method == http.MethodPut && users:
		res, err = s.ReplaceUser(ctx, p, id, data, pre)
	case po.op.Method == http.MethodPut:
		res, err = s.ReplaceGroup(ctx, p, id, data, pre)
	case po.op.Method == http.MethodPatch:
		res, err = r.patch(ctx, po, id, data, pre)
	default:
		err, status = r.remove(ctx, po, id, pre), http.StatusNoContent
	}
	return r.result(ctx, po, id, res, err, status)
}

func (r *bulkRun) patch(ctx context.Context, po parsedOp, id string, data map[string]any, pre Precondition) (*Resource, error) {
	ops, err := ParsePatchBody(data)
	if err != nil {
		return nil, err
	}
	if po.rt == r.reg.User {
		return r.s.PatchUser(ctx, r.p, id, ops, pre)
	}
	return r.s.PatchGroup(ctx, r.p, id, ops, pre)
}

func (r *bulkRun) remove(ctx context.Context, po parsedOp, id string, pre Precondition) error {
	if po.rt == r.reg.User {
		return r.s.DeleteUser(ctx, r.p, id, pre)
	}
	return r.s.DeleteGroup(ctx, r.p, id, pre)
}

func (r *bulkRun) result(ctx context.Context, po parsedOp, id string, res *Resource, err error, status int) *BulkResult {
	if err != nil {
		out := r.failure(ctx, err)
		out.Type, out.ID = po.rt, id
		return out
	}
	out := &BulkResult{Type: po.rt, ID: id, Status: status}
	if res != nil {
		out.ID, out.Version = res.ID, res.ETag()
	}
	return out
}

// createUsers validates each creation with the same code as POST /Users,
// then inserts the valid ones with one set-based store call. When that
// call fails as a whole (nothing was written), each creation is retried
// on its own, so that a failure is reported only by the operation that
// causes it, as if it had run alone.
func (r *bulkRun) createUsers(ctx context.Context, batch []int) {
	var users []store.User
	var idx []int
	built := buildUsers(r.reg.User, r.p, len(batch), func(k int) (map[string]any, *Prebuilt) {
		op := &r.ops[batch[k]].op
		return op.Data, op.pre
	})
	for k, i := range batch {
		u, err := built[k].u, built[k].err
		if err == nil {
			r.s.stamp(r.p, &u)
			err = r.notifierFor(r.ops[i]).attach(ctx, &u)
		}
		if err != nil {
			r.record(i, r.failure(ctx, err))
			continue
		}
		users, idx = append(users, u), append(idx, i)
	}
	if len(users) == 0 {
		return
	}
	actx, _ := audited(ctx, r.p, "create")
	results, err := r.s.store.CreateUsers(actx, users)
	if err != nil && ctx.Err() == nil {
		r.s.logger.WarnContext(ctx, "bulk: set-based user creation failed; creating one by one", "users", len(users), "err", err)
		results, err = r.createEach(actx, users), nil
	}
	for k, i := range idx {
		e := err
		if e == nil {
			e = results[k]
		}
		if e != nil {
			r.record(i, r.result(ctx, r.ops[i], "", nil, r.s.userError(ctx, users[k], e), 0))
			continue
		}
		res := &BulkResult{Type: r.reg.User, ID: users[k].ID, Version: (&Resource{Version: users[k].Version}).ETag(), Status: http.StatusCreated}
		r.record(i, res)
	}
}

// built is one creation's record, or why it has none.
type built struct {
	u   store.User
	err error
}

// buildUsers validates n creation bodies into records (userFrom), spread
// over the processors: it is most of the Go work of a large import, and
// a batch's records are built while nothing else runs (the store call
// that inserts them comes after). Each body is read by one goroutine
// only; the records come back in order. A body prebuilt for rt and p
// (Prebuild) is not validated again: its result is taken as it is.
func buildUsers(rt *schema.ResourceType, p policy.Principal, n int, body func(int) (map[string]any, *Prebuilt)) []built {
	out := make([]built, n)
	var todo []int
	for k := range n {
		if _, pre := body(k); pre.fits(rt, p) {
			out[k] = pre.b
		} else {
			todo = append(todo, k)
		}
	}
	workers := min(runtime.GOMAXPROCS(0), (len(todo)+buildShare-1)/buildShare)
	build := func(k int) {
		data, _ := body(k)
		out[k].u, out[k].err = userFrom(rt, p, data)
	}
	if workers <= 1 {
		for _, k := range todo {
			build(k)
		}
		return out
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for t := w; t < len(todo); t += workers {
				build(todo[t])
			}
		})
	}
	wg.Wait()
	return out
}

// Prebuilt is a user creation validated ahead of its run (see Prebuild).
type Prebuilt struct {
	rt *schema.ResourceType
	p  policy.Principal
	b  built
}

// fits reports whether the creation was validated as a run with schema rt
// and principal p would validate it.
func (pre *Prebuilt) fits(rt *schema.ResourceType, p policy.Principal) bool {
	return pre != nil && pre.rt == rt && pre.p == p
}

// Prebuild validates user creation bodies for p ahead of the run that
// will apply them (what Apply does for a creation before it reaches the
// store: the schema, the tenant's organisation fields, the tier policy),
// on all cores, so a caller that applies a stream chunk by chunk can
// validate the next chunk while the store writes the current one. Give
// each result to its creation as Operation.Prebuilt, with the same Data
// (unchanged since). A body that fails validation gets a result too: the
// run reports its error. Nothing is read from the store but the tenant's
// settings.
func (s *Service) Prebuild(ctx context.Context, p policy.Principal, bodies []map[string]any) ([]*Prebuilt, error) {
	reg, err := s.registryFor(ctx, p.Tenant)
	if err != nil {
		return nil, err
	}
	built := buildUsers(reg.User, p, len(bodies), func(k int) (map[string]any, *Prebuilt) { return bodies[k], nil })
	out := make([]*Prebuilt, len(bodies))
	for k := range built {
		out[k] = &Prebuilt{rt: reg.User, p: p, b: built[k]}
	}
	return out, nil
}

// buildShare is the fewest creations worth a goroutine of their own.
const buildShare = 64

// createEach creates validated users one at a time, returning each one's
// store error.
func (r *bulkRun) createEach(actx context.Context, users []store.User) []error {
	out := make([]error, len(users))
	for k, u := range users {
		_, out[k] = r.s.store.CreateUser(actx, u)
	}
	return out
}

// breakCycle creates the first pending creation whose remaining
// references all point at other pending creations, leaving those
// references out; finish completes it. It reports whether one was found.
func (r *bulkRun) breakCycle(ctx context.Context) bool {
	for ; r.cycleFrom < len(r.ops); r.cycleFrom++ {
		i, po := r.cycleFrom, r.ops[r.cycleFrom]
		if po.done || po.err != nil || po.op.Method != http.MethodPost {
			continue
		}
		pending := func(b string) bool { _, ok := r.ids[b]; return !ok }
		data := stripRefs(resolveRefs(po.op.Data, r.ids), pending).(map[string]any)
		r.record(i, r.dispatch(ctx, po, "", data))
		if r.results[i].Err == nil {
			r.fixups = append(r.fixups, i)
		}
		return true
	}
	return false
}

// failStuck fails what can never run (nothing left to create).
func (r *bulkRun) failStuck(ctx context.Context) {
	for i, po := range r.ops {
		if !po.done && !r.stopped() {
			r.record(i, r.failure(ctx, bulkError(http.StatusConflict, scimerrors.ScimTypeInvalidValue,
				"The operation's bulkId references could not be resolved.")))
		}
	}
}

// finish replaces each cycle-broken creation with its complete data and
// returns the results of attempted operations in request order.
func (r *bulkRun) finish(ctx context.Context) []BulkResult {
	for _, i := range r.fixups {
		po := r.ops[i]
		data := resolveRefs(po.op.Data, r.ids).(map[string]any)
		res := r.dispatch(ctx, parsedOp{op: BulkOp{Method: http.MethodPut}, rt: po.rt}, r.results[i].ID, data)
		if res.Err != nil {
			r.results[i].Status, r.results[i].Err = res.Status, res.Err
		} else {
			r.results[i].Version = res.Version
		}
	}
	var out []BulkResult
	for _, res := range r.results {
		if res != nil {
			out = append(out, *res)
		}
	}
	return out
}

// referencedBulkIDs lists the bulkIds an operation's path and data use.
func referencedBulkIDs(op BulkOp) []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if b, ok := strings.CutPrefix(s, bulkPrefix); ok && b != "" && !seen[b] {
			seen[b] = true
			out = append(out, b)
		}
	}
	seg := strings.Split(strings.Trim(op.Path, "/"), "/")
	if len(seg) == 2 {
		add(seg[1])
	}
	walkStrings(op.Data, add)
	return out
}

func walkStrings(v any, fn func(string)) {
	switch v := v.(type) {
	case string:
		fn(v)
	case map[string]any:
		for _, x := range v {
			walkStrings(x, fn)
		}
	case []any:
		for _, x := range v {
			walkStrings(x, fn)
		}
	}
}

// resolveRefs copies v with every "bulkId:x" whose x was created replaced
// by the created id.
func resolveRefs(v any, ids map[string]string) any {
	switch v := v.(type) {
	case string:
		if b, ok := strings.CutPrefix(v, bulkPrefix); ok {
			if id, created := ids[b]; created {
				return id
			}
		}
		return v
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = resolveRefs(x, ids)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = resolveRefs(x, ids)
		}
		return out
	}
	return v
}

// stripRefs copies v leaving out every reference that is still pending:
// a "bulkId:x" string, or an object (member, manager) whose "value" is one.
func stripRefs(v any, pending func(string) bool) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			if !isPendingRef(x, pending) {
				out[k] = stripRefs(x, pending)
			}
		}
		return out
	case []any:
		out := []any{}
		for _, x := range v {
			if !isPendingRef(x, pending) {
				out = append(out, stripRefs(x, pending))
			}
		}
		return out
	}
	return v
}

func isPendingRef(x any, pending func(string) bool) bool {
	if m, ok := x.(map[string]any); ok {
		x, _ = lookupFold(m, "value")
	}
	s, ok := x.(string)
	if !ok {
		return false
	}
	b, ok := strings.CutPrefix(s, bulkPrefix)
	return ok && pending(b)
}

// notifierFor is the run's notifier for a user creation that asks for the
// account message, else nil.
func (r *bulkRun) notifierFor(po parsedOp) *notifier {
	if po.op.Notify && po.op.Method == http.MethodPost && po.rt == r.reg.User {
		return r.notify
	}
	return nil
}
