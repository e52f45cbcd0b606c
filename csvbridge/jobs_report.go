package csvbridge

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"

	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/store"
)

// RowQuery selects a job's rows for the API: by action and status, a page
// at a time from a position (0: the first row; a page's next position
// continues it).
type RowQuery struct {
	Action string
	Status string
	From   int
	Limit  int
}

// RowView is one row as the API shows it.
type RowView struct {
	Row        int      `json:"row"`
	Action     string   `json:"action"`
	Status     string   `json:"status"`
	ID         string   `json:"id,omitempty"`
	ErrorCode  string   `json:"errorCode,omitempty"`
	Error      string   `json:"error,omitempty"`
	Cells      []string `json:"cells"`
	Diff       []Change `json:"diff,omitempty"`
	Issues     []Issue  `json:"issues,omitempty"`
	UserName   string   `json:"userName,omitempty"`
	Position   int      `json:"position"`
	PlannedFor string   `json:"plannedAction,omitempty"`
}

// statuses expands a status asked for: "failed" (or "error") means failed
// at commit or invalid at preview.
func statuses(s string) []string {
	switch s {
	case "":
		return nil
	case StatusFailed, "error":
		return []string{StatusFailed, StatusInvalid}
	}
	return []string{s}
}

// shownStatus is a row's status as the API and the report show it: a row
// refused at preview has failed, like one refused at commit (its action,
// "error", tells them apart).
func shownStatus(s string) string {
	if s == StatusInvalid {
		return StatusFailed
	}
	return s
}

var knownStatuses = []string{StatusPending, StatusLinking, StatusSucceeded, StatusFailed, "error", StatusSkipped, StatusExcluded, StatusInvalid}

var knownActions = []string{string(PlanCreate), string(PlanUpdate), string(PlanUnchanged), string(PlanDeactivate), string(PlanDelete), string(PlanSkip), string(PlanDuplicate), string(PlanError)}

// Rows returns a page of a job's rows and the position the next page
// starts from (-1 at the end).
func (j *Jobs) Rows(ctx context.Context, p policy.Principal, id string, q RowQuery) ([]RowView, int, error) {
	if q.Action != "" && !slices.Contains(knownActions, q.Action) {
		return nil, 0, errorf(http.StatusBadRequest, "invalidValue", "action must be one of %v.", knownActions)
	}
	if q.Status != "" && !slices.Contains(knownStatuses, q.Status) {
		return nil, 0, errorf(http.StatusBadRequest, "invalidValue", "status must be one of %v.", knownStatuses)
	}
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 100
	}
	if _, err := j.kept(ctx, p, id); err != nil {
		return nil, 0, err
	}
	sq := store.JobRowQuery{AfterSeq: max(q.From, 0) - 1, Limit: q.Limit, Statuses: statuses(q.Status)}
	if q.Action != "" {
		sq.Actions = []string{q.Action}
	}
	rows, err := j.st.JobRows(ctx, p.Tenant, id, sq)
	if err != nil {
		return nil, 0, fmt.Errorf("job %s rows: %w", id, err)
	}
	out := make([]RowView, len(rows))
	for i, r := range rows {
		if out[i], err = rowView(r); err != nil {
			return nil, 0, err
		}
	}
	next := -1
	if len(rows) == q.Limit {
		next = rows[len(rows)-1].Seq + 1
	}
	return out, next, nil
}

func rowView(r store.JobRow) (RowView, error) {
	pr, err := decodeRow(r)
	if err != nil {
		return RowView{}, err
	}
	v := RowView{Row: r.Number, Action: r.Action, Status: shownStatus(r.Status), ID: r.ResourceID, ErrorCode: r.ErrorCode,
		Error: r.Error, Cells: pr.Cells, Diff: pr.Diff, Issues: pr.Issues, UserName: pr.UserName, Position: r.Seq}
	if string(pr.Action) != r.Action {
		v.PlannedFor = string(pr.Action)
	}
	return v, nil
}

// Report writes a job's report as CSV: the file's columns as written,
// then _row, _action, _status, _id, _error_code and _error. onlyFailed
// keeps the rows that failed (at validation or commit): a file the admin
// can fix and upload again, since the reader ignores the report columns.
func (j *Jobs) Report(ctx context.Context, p policy.Principal, id string, onlyFailed bool, w io.Writer) error {
	job, err := j.kept(ctx, p, id)
	if err != nil {
		return err
	}
	d := detailOf(job)
	keep := originalColumns(d.Header)
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	header := make([]string, 0, len(keep)+len(ReportColumns))
	for _, i := range keep {
		header = append(header, d.Header[i])
	}
	if err := cw.Write(append(header, ReportColumns...)); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	q := store.JobRowQuery{AfterSeq: -1, Limit: 5000}
	if onlyFailed {
		q.Statuses = statuses(StatusFailed)
	}
	for {
		rows, err := j.st.JobRows(ctx, p.Tenant, id, q)
		if err != nil {
			return fmt.Errorf("job %s rows: %w", id, err)
		}
		for _, r := range rows {
			if err := writeReportRow(cw, r, keep); err != nil {
				return err
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
		if len(rows) < q.Limit {
			return nil
		}
		q.AfterSeq = rows[len(rows)-1].Seq
	}
}

// originalColumns are the indexes of the header cells that are not report
// columns (a report uploaded again keeps its old ones, which are replaced).
func originalColumns(header []string) []int {
	var keep []int
	for i, h := range header {
		if !slices.Contains(ReportColumns, FoldHeader(h)) {
			keep = append(keep, i)
		}
	}
	return keep
}

func writeReportRow(cw *csv.Writer, r store.JobRow, keep []int) error {
	pr, err := decodeRow(r)
	if err != nil {
		return err
	}
	rec := make([]string, 0, len(keep)+len(ReportColumns))
	for _, i := range keep {
		cell := ""
		if i < len(pr.Cells) {
			cell = pr.Cells[i]
		}
		rec = append(rec, cell)
	}
	rec = append(rec, strconv.Itoa(r.Number), r.Action, shownStatus(r.Status), r.ResourceID, r.ErrorCode, Escape(r.Error))
	if err := cw.Write(rec); err != nil {
		return fmt.Errorf("write report row %d: %w", r.Number, err)
	}
	return nil
}
