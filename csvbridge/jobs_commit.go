package csvbridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/store"
)

// Commit queues a validated import for commit as p: every row is applied
// as p, each operation re-checked by the policy. exclude lists row numbers
// (as the spreadsheet shows them) the admin leaves out. The profile's
// commit policy decides what rows with errors mean: apply-valid reports
// them and applies the rest; allow-exclusions needs every one excluded;
// all-or-nothing refuses while any exists (such a file is invalid).
func (j *Jobs) Commit(ctx context.Context, p policy.Principal, id string, exclude []int) (View, error) {
	return j.CommitWith(ctx, p, id, CommitOptions{Exclude: exclude})
}

// CommitOptions are the admin's choices at commit.
type CommitOptions struct {
	// Exclude lists rows (as the spreadsheet shows them) left out.
	Exclude []int
	// Notify chooses which new users get the account message; only
	// profiles with NotifyAtCommit take it.
	Notify *NotifyChoice
}

// CommitWith is Commit with the notification choice.
func (j *Jobs) CommitWith(ctx context.Context, p policy.Principal, id string, o CommitOptions) (View, error) {
	exclude := o.Exclude
	job, err := j.get(ctx, p, id)
	if err != nil {
		return View{}, err
	}
	if job.State != store.JobValidated {
		return View{}, stateConflict(job, "committed")
	}
	prof, err := j.jobProfile(ctx, job)
	var se scimerrors.ScimError
	if errors.As(err, &se) && se.Status == http.StatusNotFound {
		return View{}, errorf(http.StatusConflict, "", "Profile %q no longer exists; upload the file again with another profile.", job.Profile)
	}
	if err != nil {
		return View{}, err
	}
	if o.Notify != nil && !prof.NotifyAtCommit {
		return View{}, errorf(http.StatusBadRequest, "invalidValue", "Profile %s does not let the admin choose notifications at commit; its file says who is notified.", prof.Name)
	}
	outcomes, pending, err := j.exclusions(ctx, job, prof, exclude)
	if err != nil {
		return View{}, err
	}
	principal, err := json.Marshal(p)
	if err != nil {
		return View{}, fmt.Errorf("encode principal: %w", err)
	}
	job, err = j.st.RecordChunk(ctx, p.Tenant, id, "", outcomes, func(cur *store.Job) error {
		if cur.State != store.JobValidated {
			return stateConflict(*cur, "committed")
		}
		d := detailOf(*cur)
		d.Preview, d.Excluded, d.CommittedBy, d.Notify = cur.Counts, exclude, actor(p), o.Notify
		cur.State, cur.Principal, cur.Done, cur.Total = store.JobCommitting, principal, 0, pending
		cur.Updated = j.now().UTC()
		cur.Summary = fmt.Sprintf("Committing: %d rows to write.", pending)
		return setDetail(cur, d)
	})
	if err != nil {
		return View{}, err
	}
	j.Wake()
	return viewOf(job), nil
}

// jobProfile is the profile whose commit policy a job follows (actions:
// apply the valid rows).
func (j *Jobs) jobProfile(ctx context.Context, job store.Job) (*Profile, error) {
	if job.Kind == KindAction {
		return actionProfile, nil
	}
	return j.find(ctx, job.TenantID, job.Profile, job.ProfileVersion)
}

// jobNoun names a job's kind in sentences.
func jobNoun(kind string) string {
	switch kind {
	case KindAction:
		return "Action"
	case KindExport:
		return "Export"
	}
	return "Import"
}

// jobRule is the policy rule a job's commit runs under.
func jobRule(job store.Job) policy.Operation {
	if job.Kind == KindAction {
		return policy.CSVAction
	}
	return policy.CSVImport
}

// stateConflict refuses an action the job's state does not allow.
func stateConflict(job store.Job, doing string) error {
	return errorf(http.StatusConflict, "", "Import %s is %s; only a validated import can be %s.", job.ID, job.State, doing)
}

// exclusions checks the commit policy against the excluded rows and
// returns the outcomes marking them excluded and the number of rows left
// to write.
func (j *Jobs) exclusions(ctx context.Context, job store.Job, prof *Profile, exclude []int) ([]store.JobRowOutcome, int, error) {
	if len(exclude) > 0 && prof.Commit == CommitAllOrNothing {
		return nil, 0, errorf(http.StatusBadRequest, "invalidValue", "Profile %s loads a file only as a whole; rows cannot be excluded.", prof.Name)
	}
	if prof.Commit == CommitAllOrNothing && job.Counts["error"] > 0 {
		return nil, 0, errorf(http.StatusConflict, "", "The file has %d rows with errors; fix them and upload it again.", job.Counts["error"])
	}
	excluded := map[int]bool{}
	for _, n := range exclude {
		excluded[n] = true
	}
	var outcomes []store.JobRowOutcome
	var unexcluded []int
	pending, after := 0, -1
	for {
		rows, err := j.st.JobRows(ctx, job.TenantID, job.ID, store.JobRowQuery{AfterSeq: after, Limit: 5000, Statuses: []string{StatusPending, StatusInvalid}})
		if err != nil {
			return nil, 0, fmt.Errorf("job %s rows: %w", job.ID, err)
		}
		if len(rows) == 0 {
			break
		}
		for _, r := range rows {
			switch {
			case excluded[r.Number]:
				outcomes = append(outcomes, store.JobRowOutcome{Seq: r.Seq, Status: StatusExcluded})
			case r.Status == StatusInvalid:
				unexcluded = append(unexcluded, r.Number)
			default:
				pending++
			}
		}
		after = rows[len(rows)-1].Seq
	}
	if prof.Commit == CommitAllowExclusions && len(unexcluded) > 0 {
		return nil, 0, errorf(http.StatusConflict, "", "Rows with errors must be fixed or excluded before this profile commits; not excluded: %s.", rowList(unexcluded))
	}
	return outcomes, pending, nil
}

// rowList names up to ten rows.
func rowList(rows []int) string {
	var parts []string
	for _, n := range rows[:min(10, len(rows))] {
		parts = append(parts, fmt.Sprint(n))
	}
	s := "rows " + strings.Join(parts, ", ")
	if len(rows) > 10 {
		s += fmt.Sprintf(" and %d more", len(rows)-10)
	}
	return s
}

// Cancel stops a job that has not finished: nothing more is applied;
// rows a commit already applied stay applied and are counted.
func (j *Jobs) Cancel(ctx context.Context, p policy.Principal, id string) (View, error) {
	if _, err := j.get(ctx, p, id); err != nil {
		return View{}, err
	}
	job, err := j.st.UpdateJob(ctx, p.Tenant, id, "", func(cur *store.Job) error {
		if cur.State.Final() {
			return errorf(http.StatusConflict, "", "Import %s is already %s.", cur.ID, cur.State)
		}
		if cur.State == store.JobCommitting {
			cur.Summary = finalSummaryOf(cur.Kind, store.JobCancelled, cur.Counts)
		} else {
			cur.Summary = jobNoun(cur.Kind) + " cancelled; nothing was written."
		}
		cur.State, cur.Updated = store.JobCancelled, j.now().UTC()
		return nil
	})
	if err != nil {
		return View{}, err
	}
	if err := j.recount(ctx, job); err != nil {
		return View{}, err
	}
	return j.Get(ctx, p, id)
}

// recount sets a committed or cancelled job's counts from its rows.
func (j *Jobs) recount(ctx context.Context, job store.Job) error {
	if job.State != store.JobCancelled || detailOf(job).CommittedBy == "" {
		return nil
	}
	stats, err := j.st.JobRowStats(ctx, job.TenantID, job.ID)
	if err != nil {
		return fmt.Errorf("job %s: count rows: %w", job.ID, err)
	}
	counts := outcomeCounts(stats)
	_, err = j.st.UpdateJob(ctx, job.TenantID, job.ID, "", func(cur *store.Job) error {
		cur.Counts, cur.Summary = counts, finalSummaryOf(cur.Kind, cur.State, counts)
		return nil
	})
	return err
}

// commit applies a committing job's pending rows chunk by chunk. Before
// it starts it settles the chunks an earlier worker was applying when it
// died.
func (j *Jobs) commit(ctx context.Context, job store.Job) error {
	p, err := principalOf(job)
	if err != nil {
		return err
	}
	if err := j.settle(ctx, job, p); err != nil {
		return err
	}
	prof, err := j.jobProfile(ctx, job)
	if err != nil {
		return fmt.Errorf("job %s: profile %q: %w", job.ID, job.Profile, err)
	}
	if job, err = j.beforeLoad(ctx, job, p, prof); err != nil {
		return err
	}
	c := &committer{j: j, job: job, p: p, after: -1, notify: detailOf(job).Notify}
	if err := c.run(ctx); err != nil {
		return err
	}
	if err := j.link(ctx, job, p); err != nil {
		return err
	}
	counts, err := j.finishCommit(ctx, job, prof)
	if err != nil {
		return err
	}
	j.analyze(ctx, job, counts)
	return nil
}

// analyze has the store refresh its statistics of users once a commit
// created or deleted at least a chunk of them, so that the next import's
// lookups are planned for the users now there. It is housekeeping: a
// failure is logged, and the job stays as finished.
func (j *Jobs) analyze(ctx context.Context, job store.Job, counts map[string]int) {
	if j.analyzer == nil || counts["create"]+counts["delete"] < j.chunk {
		return
	}
	if err := j.analyzer.AnalyzeUsers(ctx); err != nil && ctx.Err() == nil {
		j.log.WarnContext(ctx, "refresh user statistics after a csv commit", "job", job.ID, "err", err)
	}
}

// link is the commit's second pass: the references of the rows written
// with some (status linking) are set, now that every row is written. A
// worker that dies here leaves those rows linking; the next one sets them
// again (setting a reference twice changes nothing).
func (j *Jobs) link(ctx context.Context, job store.Job, p policy.Principal) error {
	for after := -1; ; {
		rows, err := j.st.JobRows(ctx, job.TenantID, job.ID, store.JobRowQuery{AfterSeq: after, Limit: j.chunk, Statuses: []string{StatusLinking}})
		if err != nil {
			return fmt.Errorf("job %s rows: %w", job.ID, err)
		}
		if len(rows) == 0 {
			return nil
		}
		planned, err := decodeRows(rows)
		if err != nil {
			return err
		}
		for i := range planned {
			planned[i].ResourceID = rows[i].ResourceID // a created user's id is known only now
		}
		results, err := LinkRows(ctx, j.dir, p, j.dir.Registry().User, planned)
		if err != nil {
			return fmt.Errorf("job %s: %w", job.ID, err)
		}
		outcomes := make([]store.JobRowOutcome, len(rows))
		for i, r := range rows {
			outcomes[i] = rowOutcome(r, results[i], nil)
		}
		if _, err := j.st.RecordChunk(ctx, job.TenantID, job.ID, j.owner, outcomes, j.stillCommitting(func(cur *store.Job) {
			cur.Updated = j.now().UTC()
			cur.LeaseUntil = cur.Updated.Add(j.lease)
		})); err != nil {
			return err
		}
		after = rows[len(rows)-1].Seq
	}
}

// committer applies a job's chunks as a pipeline: while chunk k's
// outcomes are recorded (one transaction, with the progress), chunk k+1 is
// applied, and meanwhile the chunk after it is read and decoded. What
// makes that safe after a crash is the span in flight stored on the job:
// before a chunk is applied, a committed span covers it, and every span
// covers the chunk being recorded and the next one. A worker that takes
// the job over settles the rows of that span still pending. Reading ahead
// writes nothing: a chunk read but not yet applied needs no cover.
type committer struct {
	j     *Jobs
	job   store.Job
	p     policy.Principal
	after int
	ahead []chunk
	// notify is the admin's choice of new users to notify.
	notify *NotifyChoice
}

// chunk is a chunk of pending rows and their decoded plans.
type chunk struct {
	rows    []store.JobRow
	planned []Planned
}

// read reads and decodes the chunk of pending rows after position
// after; no rows is the end. Keyset by position, since a scan from the
// start would step over every dead index entry the rows leaving
// "pending" left behind.
func (c *committer) read(ctx context.Context, after int) (chunk, error) {
	rows, err := c.j.st.JobRows(ctx, c.job.TenantID, c.job.ID, store.JobRowQuery{AfterSeq: after, Limit: c.j.chunk, Statuses: []string{StatusPending}})
	if err != nil {
		return chunk{}, fmt.Errorf("job %s rows: %w", c.job.ID, err)
	}
	planned, err := decodeRows(rows)
	if err != nil {
		return chunk{}, fmt.Errorf("job %s: %w", c.job.ID, err)
	}
	c.prebuild(ctx, planned)
	return chunk{rows: rows, planned: planned}, nil
}

// prebuild validates the chunk's creations ahead of their apply
// (directory.Prebuild): a chunk read ahead is validated while the store
// writes the chunk before it, so the directory does not validate it again
// while the store waits. It is only that: should it fail, the apply
// validates the rows itself.
func (c *committer) prebuild(ctx context.Context, planned []Planned) {
	var idx []int
	var bodies []map[string]any
	for i := range planned {
		if planned[i].Action == PlanCreate {
			idx, bodies = append(idx, i), append(bodies, planned[i].Create)
		}
	}
	if len(bodies) == 0 {
		return
	}
	pre, err := c.j.dir.Prebuild(ctx, c.p, bodies)
	if err != nil {
		return
	}
	for k, i := range idx {
		planned[i].prebuilt = pre[k]
	}
}

// add queues a chunk read; it reports false for the end.
func (c *committer) add(ch chunk) bool {
	if len(ch.rows) == 0 {
		return false
	}
	c.ahead = append(c.ahead, ch)
	c.after = ch.rows[len(ch.rows)-1].Seq
	return true
}

// fill reads chunks until two are waiting (or the rows run out).
func (c *committer) fill(ctx context.Context) error {
	for len(c.ahead) < 2 {
		ch, err := c.read(ctx, c.after)
		if err != nil {
			return err
		}
		if !c.add(ch) {
			return nil
		}
	}
	return nil
}

// readAhead reads the chunk after the last one waiting in the background
// (nil when two are waiting already: fill has nothing to add).
func (c *committer) readAhead(ctx context.Context) chan readResult {
	if len(c.ahead) >= 2 {
		return nil
	}
	done := make(chan readResult, 1)
	go func(after int) {
		ch, err := c.read(ctx, after)
		done <- readResult{ch, err}
	}(c.after)
	return done
}

// readResult is a chunk read in the background.
type readResult struct {
	ch  chunk
	err error
}

// span covers the chunks waiting (nil when none is).
func (c *committer) span() *Span {
	if len(c.ahead) == 0 {
		return nil
	}
	last := c.ahead[len(c.ahead)-1].rows
	return &Span{From: c.ahead[0].rows[0].Seq, To: last[len(last)-1].Seq}
}

func (c *committer) run(ctx context.Context) error {
	if err := c.fill(ctx); err != nil || len(c.ahead) == 0 {
		return err
	}
	if err := c.j.renew(ctx, c.job, store.JobCommitting, func(cur *store.Job) { setInFlight(cur, c.span()) }); errors.Is(err, errStopped) {
		return c.j.stopped(ctx, c.job)
	} else if err != nil {
		return err
	}
	var recording chan recorded
	for len(c.ahead) > 0 {
		ch := c.ahead[0]
		c.ahead = c.ahead[1:]
		reading := c.readAhead(ctx)
		outcomes, err := c.apply(ctx, ch)
		if reading != nil {
			// The chunk read meanwhile is queued (or its error kept)
			// before the span of the next recording is worked out.
			if r := <-reading; err == nil {
				err = r.err
				c.add(r.ch)
			}
		}
		if recording != nil {
			// The chunk before is recorded before anything else happens,
			// even when this one failed.
			if rerr := (<-recording).check(); err == nil {
				err = rerr
			}
		}
		if err != nil {
			return err
		}
		recording = c.record(ctx, ch.rows, outcomes, c.span())
	}
	return (<-recording).check()
}

// apply applies one chunk and returns its outcomes.
func (c *committer) apply(ctx context.Context, ch chunk) ([]store.JobRowOutcome, error) {
	rows, planned := ch.rows, ch.planned
	outcomes := make([]store.JobRowOutcome, len(rows))
	for i, r := range rows {
		outcomes[i] = store.JobRowOutcome{Seq: r.Seq, Status: StatusPending, ResourceID: r.ResourceID}
		if planned[i].Action == PlanCreate && c.notify.wants(planned[i].Number) {
			planned[i].Notify = true
		}
	}
	err := commitAs(ctx, c.j.dir, c.p, jobRule(c.job), c.j.dir.Registry().User, planned, func(i int, o Outcome) {
		outcomes[i] = rowOutcome(rows[i], o, &planned[i])
	})
	if err != nil {
		return nil, fmt.Errorf("job %s: apply rows: %w", c.job.ID, err)
	}
	return outcomes, nil
}

// recorded is the end of a chunk's recording.
type recorded struct {
	c   *committer
	ctx context.Context
	job store.Job
	err error
}

// check is the recording's error, or errStopped (after a recount) when
// the job was cancelled meanwhile.
func (r recorded) check() error {
	if r.err != nil {
		return r.err
	}
	if r.job.State != store.JobCommitting {
		return r.c.j.stopped(r.ctx, r.job)
	}
	return nil
}

// record writes a chunk's outcomes, the progress, the lease and the next
// span in flight in one transaction, in the background. The outcomes are
// written even if the job was cancelled meanwhile: they happened.
func (c *committer) record(ctx context.Context, rows []store.JobRow, outcomes []store.JobRowOutcome, next *Span) chan recorded {
	done := make(chan recorded, 1)
	go func() {
		job, err := c.j.st.RecordChunk(context.WithoutCancel(ctx), c.job.TenantID, c.job.ID, c.j.owner, outcomes, func(cur *store.Job) error {
			setInFlight(cur, next)
			cur.Done += len(rows)
			cur.Updated = c.j.now().UTC()
			cur.LeaseUntil = cur.Updated.Add(c.j.lease)
			return nil
		})
		done <- recorded{c: c, ctx: ctx, job: job, err: err}
	}()
	return done
}

// stopped recounts a job cancelled while its commit ran, once the
// worker's last chunk is recorded, and ends the step.
func (j *Jobs) stopped(ctx context.Context, job store.Job) error {
	cur, err := j.st.GetJob(ctx, job.TenantID, job.ID)
	if err != nil {
		return fmt.Errorf("job %s: %w", job.ID, err)
	}
	if err := j.recount(ctx, cur); err != nil {
		return err
	}
	return errStopped
}

// Span is a range of row positions, both ends included.
type Span struct {
	From int `json:"from"`
	To   int `json:"to"`
}

// setInFlight records (or, with nil, clears) the chunk a worker applies.
func setInFlight(job *store.Job, s *Span) {
	d := detailOf(*job)
	d.InFlight = s
	_ = setDetail(job, d) // Detail holds plain values; it always encodes
}

// stillCommitting refuses to write once the job left committing.
func (j *Jobs) stillCommitting(fn func(*store.Job)) func(*store.Job) error {
	return func(cur *store.Job) error {
		if cur.State != store.JobCommitting {
			return errStopped
		}
		if fn != nil {
			fn(cur)
		}
		return nil
	}
}

// rowOutcome is a commit outcome as stored; a written row whose plan has
// references (pr, when given) waits for the second pass.
func rowOutcome(r store.JobRow, o Outcome, pr *Planned) store.JobRowOutcome {
	out := store.JobRowOutcome{Seq: r.Seq, Status: o.Status, ResourceID: o.ResourceID, ErrorCode: o.ErrorCode, Error: o.Error}
	if pr != nil && o.Status == StatusSucceeded && len(pr.Links) > 0 {
		out.Status = StatusLinking
	}
	if out.ResourceID == "" {
		out.ResourceID = r.ResourceID
	}
	if o.Action != "" {
		out.Action = string(o.Action)
	}
	return out
}

func decodeRows(rows []store.JobRow) ([]Planned, error) {
	out := make([]Planned, len(rows))
	for i, r := range rows {
		var err error
		if out[i], err = decodeRow(r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// decodeRow reads the planned row a job keeps.
func decodeRow(r store.JobRow) (Planned, error) {
	pr, err := decodePlanned(r.Data)
	if err != nil {
		return Planned{}, fmt.Errorf("decode row %d: %w", r.Number, err)
	}
	return pr, nil
}

// settle decides, for the chunk a worker was applying when it died,
// whether each of its rows took effect (recorded as such) or not (left
// pending, to be applied again).
func (j *Jobs) settle(ctx context.Context, job store.Job, p policy.Principal) error {
	span := detailOf(job).InFlight
	if span == nil {
		return nil
	}
	rows, err := j.st.JobRows(ctx, job.TenantID, job.ID, store.JobRowQuery{AfterSeq: span.From - 1, Limit: span.To - span.From + 1, Statuses: []string{StatusPending}})
	if err != nil {
		return fmt.Errorf("job %s rows: %w", job.ID, err)
	}
	var out []store.JobRowOutcome
	if len(rows) > 0 {
		if out, err = j.reconcile(ctx, p, rows); err != nil {
			return fmt.Errorf("job %s: %w", job.ID, err)
		}
	}
	_, err = j.st.RecordChunk(ctx, job.TenantID, job.ID, j.owner, out, j.stillCommitting(func(cur *store.Job) {
		setInFlight(cur, nil)
		cur.Done += len(out)
	}))
	return err
}

// reconcile returns the outcomes of the rows that took effect.
func (j *Jobs) reconcile(ctx context.Context, p policy.Principal, rows []store.JobRow) ([]store.JobRowOutcome, error) {
	planned, err := decodeRows(rows)
	if err != nil {
		return nil, err
	}
	outcomes, done, err := Reconcile(ctx, j.dir, p, planned)
	if err != nil {
		return nil, fmt.Errorf("reconcile rows: %w", err)
	}
	var out []store.JobRowOutcome
	for i, r := range rows {
		if done[i] {
			out = append(out, rowOutcome(r, outcomes[i], &planned[i]))
		}
	}
	return out, nil
}

// finishCommit counts the outcomes and ends the job; it returns the
// counts.
func (j *Jobs) finishCommit(ctx context.Context, job store.Job, prof *Profile) (map[string]int, error) {
	stats, err := j.st.JobRowStats(ctx, job.TenantID, job.ID)
	if err != nil {
		return nil, fmt.Errorf("job %s: count rows: %w", job.ID, err)
	}
	counts := outcomeCounts(stats)
	_, err = j.st.UpdateJob(ctx, job.TenantID, job.ID, j.owner, func(cur *store.Job) error {
		if cur.State == store.JobCommitting {
			cur.State = store.JobCompleted
			if counts["error"] > 0 {
				cur.State = store.JobCompletedWithErrors
			}
		}
		if n := detailOf(*cur).RolesAdded; n != nil {
			counts["rolesAdded"] = *n
		}
		cur.Counts, cur.Summary, cur.Updated = counts, doneSummary(prof, cur.Kind, cur.State, counts), j.now().UTC()
		return nil
	})
	return counts, err
}
