package csvbridge

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/internal/store"
)

// CountNames are the keys of a job's counts, in the order they are shown.
var CountNames = []string{"total", "create", "update", "unchanged", "deactivate", "delete", "skip", "duplicate", "error", "warning", "excluded", "rolesAdded"}

// View is a job as the API shows it.
type View struct {
	ID string `json:"id"`
	// Kind is import, action or export.
	Kind           string         `json:"kind"`
	State          store.JobState `json:"state"`
	Profile        string         `json:"profile"`
	ProfileVersion int            `json:"profileVersion"`
	FileName       string         `json:"fileName,omitempty"`
	FileSHA256     string         `json:"fileSha256"`
	FileSize       int64          `json:"fileSize"`
	CreatedBy      string         `json:"createdBy"`
	Created        time.Time      `json:"created"`
	Updated        time.Time      `json:"updated"`
	Expires        time.Time      `json:"expires"`
	Counts         map[string]int `json:"counts"`
	Progress       Progress       `json:"progress"`
	Summary        string         `json:"summary"`
	// File holds what the reader found: format, the header-to-attribute
	// mapping and file-level errors.
	File *Detail `json:"file,omitempty"`
	// Action is an action job's operation and selection.
	Action *ActionSpec `json:"action,omitempty"`
	// Export is an export job's request and file.
	Export *ExportJob `json:"export,omitempty"`
}

// Progress is how far the current step is.
type Progress struct {
	Done  int `json:"done"`
	Total int `json:"total"`
}

// Detail is what a job keeps about its file and its commit (stored as the
// job's Detail JSON).
type Detail struct {
	Format  *Format         `json:"format,omitempty"`
	Columns []ColumnMapping `json:"columns,omitempty"`
	// Header is the file's header as written (the report repeats it).
	Header []string `json:"header,omitempty"`
	Issues []Issue  `json:"issues,omitempty"`
	// Preview keeps the planned counts once a commit replaces Counts.
	Preview map[string]int `json:"preview,omitempty"`
	// Excluded lists rows the admin excluded at commit.
	Excluded    []int  `json:"excluded,omitempty"`
	CommittedBy string `json:"committedBy,omitempty"`
	// InFlight is the chunk of rows a worker is applying; a worker that
	// takes the job over settles it first.
	InFlight *Span `json:"inFlight,omitempty"`
	// Action is an action job's operation and selection.
	Action *ActionSpec `json:"action,omitempty"`
	// Export is an export job's request and, once done, its file.
	Export *ExportJob `json:"export,omitempty"`
	// Options are the upload's options (Profile.Options).
	Options map[string]string `json:"options,omitempty"`
	// NewRoles are the roles the rows name that the catalogue lacked at
	// validation; the commit adds them (RolesAdded: how many it added).
	NewRoles   []string `json:"newRoles,omitempty"`
	RolesAdded *int     `json:"rolesAdded,omitempty"`
	// Notify is the admin's choice at commit of which new users get the
	// account message (profiles with NotifyAtCommit).
	Notify *NotifyChoice `json:"notify,omitempty"`
	// Rechecked is set once an all-or-nothing commit has validated the
	// file again.
	Rechecked bool `json:"rechecked,omitempty"`
}

// NotifyChoice says which rows' new users get the account message: all,
// or those listed (row numbers as the spreadsheet shows them).
type NotifyChoice struct {
	All  bool  `json:"all,omitempty"`
	Rows []int `json:"rows,omitempty"`
}

// wants reports whether the choice covers the row.
func (c *NotifyChoice) wants(row int) bool {
	return c != nil && (c.All || slices.Contains(c.Rows, row))
}

// ColumnMapping is one header cell and the attributes it writes.
type ColumnMapping struct {
	Header  string   `json:"header"`
	Paths   []string `json:"paths,omitempty"`
	Ignored bool     `json:"ignored,omitempty"`
}

// columnMappings describes a mapping for people reading the preview.
func columnMappings(m *Mapping) []ColumnMapping {
	out := make([]ColumnMapping, len(m.cols))
	for i, c := range m.cols {
		out[i] = ColumnMapping{Header: c.header, Ignored: c.ignore}
		for _, t := range c.targets {
			out[i].Paths = append(out[i].Paths, t.Path)
		}
	}
	return out
}

func detailOf(job store.Job) *Detail {
	d := &Detail{}
	if len(job.Detail) > 0 {
		_ = json.Unmarshal(job.Detail, d) // written by setDetail; a bad one shows as empty
	}
	return d
}

func setDetail(job *store.Job, d *Detail) error {
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode job detail: %w", err)
	}
	job.Detail = b
	return nil
}

func viewOf(job store.Job) View {
	counts := map[string]int{}
	for _, k := range CountNames {
		counts[k] = job.Counts[k]
	}
	v := View{ID: job.ID, Kind: job.Kind, State: job.State, Profile: job.Profile, ProfileVersion: job.ProfileVersion,
		FileName: job.FileName, FileSHA256: job.FileSHA256, FileSize: job.FileSize, CreatedBy: job.Actor,
		Created: job.Created, Updated: job.Updated, Expires: job.Expires, Counts: counts,
		Progress: Progress{Done: job.Done, Total: job.Total}, Summary: job.Summary}
	d := detailOf(job)
	if d.Format != nil || len(d.Issues) > 0 || len(d.Columns) > 0 {
		v.File = d
	}
	v.Action, v.Export = d.Action, d.Export
	if job.Kind == KindExport && job.State == store.JobValidating {
		v.State = ExportRunning
	}
	return v
}

// previewSummary is the sentence shown once a file is validated (or an
// action's users selected).
func previewSummary(kind string, prof *Profile, state store.JobState, c map[string]int, issues []Issue) string {
	if kind == KindAction {
		return fmt.Sprintf("Preview: %d users selected: %d to update, %d to deactivate, %d unchanged, %d with errors.",
			c["total"], c["update"], c["deactivate"], c["unchanged"], c["error"])
	}
	if len(issues) > 0 {
		return fmt.Sprintf("The file cannot be imported: %s", issues[0].Message)
	}
	if m := prof.Messages; m != nil && state == store.JobInvalid && m.Invalid != "" {
		return expand(m.Invalid, c)
	}
	if m := prof.Messages; m != nil && state != store.JobInvalid && m.Preview != "" {
		return expand(m.Preview, c)
	}
	s := fmt.Sprintf("Preview: %d to add, %d to update, %d unchanged, %d to deactivate, %d to delete, %d skipped, %d with errors.",
		c["create"], c["update"], c["unchanged"], c["deactivate"], c["delete"], c["skip"], c["error"])
	if state == store.JobInvalid {
		s += " Fix every error and upload the file again: this profile loads a file only when all its rows are valid."
	}
	return s
}

// finalSummaryOf is the sentence shown when a commit ends, in seed 000's
// words ("Users loaded: 3 added, 1 updated, 0 deleted, 2 failed."), with
// the rows deactivated, unchanged or excluded after it when there are any;
// an action's sentence starts "Action applied: ".
func finalSummaryOf(kind string, state store.JobState, c map[string]int) string {
	var b strings.Builder
	switch {
	case state == store.JobCancelled || state == store.JobFailed:
		fmt.Fprintf(&b, "%s %s. Before it stopped: ", jobNoun(kind), state)
	case kind == KindAction:
		b.WriteString("Action applied: ")
	default:
		b.WriteString("Users loaded: ")
	}
	if kind == KindAction {
		fmt.Fprintf(&b, "%d updated, %d failed.", c["update"], c["error"])
	} else {
		fmt.Fprintf(&b, "%d added, %d updated, %d deleted, %d failed.", c["create"], c["update"], c["delete"], c["error"])
	}
	for _, k := range []string{"deactivate", "unchanged", "excluded"} {
		if c[k] > 0 {
			fmt.Fprintf(&b, " %d %s.", c[k], pastTense[k])
		}
	}
	return b.String()
}

// expand replaces {name} placeholders by counts.
func expand(tmpl string, c map[string]int) string {
	var b strings.Builder
	for {
		open := strings.IndexByte(tmpl, '{')
		end := strings.IndexByte(tmpl[max(open, 0):], '}')
		if open < 0 || end < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		end += open
		b.WriteString(tmpl[:open])
		fmt.Fprintf(&b, "%d", c[tmpl[open+1:end]])
		tmpl = tmpl[end+1:]
	}
}

// doneSummary is a finished commit's sentence: the profile's own when it
// has one, else finalSummaryOf's.
func doneSummary(prof *Profile, kind string, state store.JobState, c map[string]int) string {
	if prof != nil && prof.Messages != nil && prof.Messages.Done != "" && (state == store.JobCompleted || state == store.JobCompletedWithErrors) {
		return expand(prof.Messages.Done, c)
	}
	return finalSummaryOf(kind, state, c)
}

var pastTense = map[string]string{"deactivate": "deactivated", "unchanged": "unchanged", "excluded": "excluded"}
