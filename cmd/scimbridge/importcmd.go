package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/csvbridge/csvclient"
)

// stdin is where import asks for confirmation; tests replace it.
var stdin io.Reader = os.Stdin

// exitError carries a process exit status other than the default 2.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// cmdImport uploads a CSV file to a running server, shows the preview,
// asks before committing (unless --yes), follows the commit and writes
// the failed rows next to the file. It exits 1 when any row failed.
func cmdImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", envOr("SCIMBRIDGE_SERVER", "http://127.0.0.1:8080"), "server base URL")
	token := fs.String("token", os.Getenv("SCIMBRIDGE_TOKEN"), "bearer token (provisioning secret or OIDC token)")
	profile := fs.String("profile", "scim", "import profile (GET /csv/profiles lists them)")
	dryRun := fs.Bool("dry-run", false, "show the preview and stop")
	yes := fs.Bool("yes", false, "commit without asking")
	poll := fs.Duration("poll", 500*time.Millisecond, "how often to ask the server for progress")
	options := optionFlag{}
	fs.Var(options, "option", "a profile option NAME=VALUE for the whole file, e.g. --option role=Nurse (repeatable)")
	exclude := fs.String("exclude", "", "rows to leave out, e.g. 3,7,12 (row numbers as the spreadsheet shows them)")
	excludeFailed := fs.Bool("exclude-failed", false, "leave out every row with errors (profiles that need them excluded)")
	notify := fs.String("notify", "", "new users to send the account e-mail to, for profiles that ask at commit: all, or rows such as 2,5")
	if err := fs.Parse(args); err != nil {
		return err
	}
	rows, err := rowNumbers(*exclude)
	if err != nil {
		return fmt.Errorf("--exclude: %w", err)
	}
	choice, err := notifyChoice(*notify)
	if err != nil {
		return fmt.Errorf("--notify: %w", err)
	}
	if fs.NArg() != 1 {
		return errors.New("import needs exactly one FILE.csv")
	}
	if *token == "" {
		return errors.New("import needs --token (or SCIMBRIDGE_TOKEN)")
	}
	file := fs.Arg(0)
	body, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("read %s: %w", file, err)
	}
	defer body.Close()
	c := csvclient.New(*server, *token)
	ui := &importUI{stdout: stdout, stderr: stderr, poll: *poll, bar: isTerminal(stderr)}
	return ui.run(ctx, c, importRequest{file: file, body: body, profile: *profile, dryRun: *dryRun, yes: *yes,
		options: options, exclude: rows, excludeFailed: *excludeFailed, notify: choice})
}

type importRequest struct {
	file          string
	body          io.Reader
	profile       string
	dryRun        bool
	yes           bool
	options       map[string]string
	exclude       []int
	excludeFailed bool
	notify        *csvclient.Notify
}

// optionFlag collects --option NAME=VALUE.
type optionFlag map[string]string

func (o optionFlag) String() string { return "" }

func (o optionFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(k) == "" {
		return errors.New("write NAME=VALUE")
	}
	o[strings.TrimSpace(k)] = v
	return nil
}

// rowNumbers parses "3,7,12".
func rowNumbers(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		n, err := strconv.Atoi(part)
		if err != nil || n < 2 {
			return nil, fmt.Errorf("%q is not a data row number", part)
		}
		out = append(out, n)
	}
	return out, nil
}

// notifyChoice parses --notify: "", "all" or row numbers.
func notifyChoice(s string) (*csvclient.Notify, error) {
	switch strings.TrimSpace(s) {
	case "":
		return nil, nil
	case "all":
		return &csvclient.Notify{All: true}, nil
	}
	rows, err := rowNumbers(s)
	return &csvclient.Notify{Rows: rows}, err
}

// exclusions are the rows to leave out: those given, plus every failed
// row with --exclude-failed.
func exclusions(ctx context.Context, c *csvclient.Client, id string, req importRequest) ([]int, error) {
	if !req.excludeFailed {
		return req.exclude, nil
	}
	failed, err := c.Rows(ctx, id, "failed", 500)
	if err != nil {
		return nil, err
	}
	out := slices.Clone(req.exclude)
	for _, r := range failed {
		out = append(out, r.Row)
	}
	return out, nil
}

// importUI talks to the person (or script) running the import.
type importUI struct {
	stdout, stderr io.Writer
	poll           time.Duration
	bar            bool
}

func (ui *importUI) run(ctx context.Context, c *csvclient.Client, req importRequest) error {
	job, err := c.UploadWith(ctx, req.profile, filepath.Base(req.file), req.options, req.body)
	if err != nil {
		return err
	}
	fmt.Fprintf(ui.stderr, "Uploaded %s as import %s; checking it.\n", req.file, job.ID)
	if job, err = ui.follow(ctx, c, job.ID, "Checking"); err != nil {
		return err
	}
	ui.preview(job)
	if err := ui.firstErrors(ctx, c, job.ID); err != nil {
		return err
	}
	switch {
	case job.State == "invalid":
		return ui.finish(ctx, c, job, req.file)
	case req.dryRun:
		fmt.Fprintln(ui.stdout, "Dry run: nothing was written.")
		return failedRows(job)
	case !req.yes && !ui.confirm(job):
		fmt.Fprintln(ui.stdout, "Not committed. The preview stays in the import history.")
		return nil
	}
	exclude, err := exclusions(ctx, c, job.ID, req)
	if err != nil {
		return err
	}
	if _, err := c.CommitWith(ctx, job.ID, exclude, req.notify); err != nil {
		return err
	}
	if job, err = ui.follow(ctx, c, job.ID, "Importing"); err != nil {
		return err
	}
	return ui.finish(ctx, c, job, req.file)
}

// follow polls the job until it leaves validating or committing.
func (ui *importUI) follow(ctx context.Context, c *csvclient.Client, id, doing string) (csvclient.Job, error) {
	last := time.Time{}
	for {
		job, err := c.Get(ctx, id)
		if err != nil {
			return job, err
		}
		if job.State != "validating" && job.State != "committing" {
			if ui.bar {
				fmt.Fprintln(ui.stderr)
			}
			return job, nil
		}
		switch {
		case ui.bar:
			fmt.Fprintf(ui.stderr, "\r%s %s", doing, progressBar(job.Progress.Done, job.Progress.Total, 30))
		case time.Since(last) >= 5*time.Second:
			fmt.Fprintf(ui.stderr, "%s: %d of %d rows\n", doing, job.Progress.Done, job.Progress.Total)
			last = time.Now()
		}
		select {
		case <-ctx.Done():
			return job, ctx.Err()
		case <-time.After(ui.poll):
		}
	}
}

// progressBar draws [#####     ] done/total.
func progressBar(done, total, width int) string {
	filled := 0
	if total > 0 {
		filled = min(width, done*width/total)
	}
	return fmt.Sprintf("[%s%s] %d/%d", strings.Repeat("#", filled), strings.Repeat(" ", width-filled), done, total)
}

func (ui *importUI) preview(job csvclient.Job) {
	fmt.Fprintln(ui.stdout, job.Summary)
	if job.State == "invalid" || job.File == nil {
		return
	}
	c := job.Counts
	fmt.Fprintf(ui.stdout, "Rows: %d  create: %d  update: %d  unchanged: %d  deactivate: %d  delete: %d  skip: %d  error: %d  warning: %d\n",
		c["total"], c["create"], c["update"], c["unchanged"], c["deactivate"], c["delete"], c["skip"], c["error"], c["warning"])
	for _, k := range []string{"duplicate", "rolesAdded"} {
		if c[k] > 0 {
			fmt.Fprintf(ui.stdout, "  %s: %d\n", k, c[k])
		}
	}
}

// firstErrors prints the file's problems and up to ten failing rows.
func (ui *importUI) firstErrors(ctx context.Context, c *csvclient.Client, id string) error {
	job, err := c.Get(ctx, id)
	if err != nil {
		return err
	}
	if job.File != nil {
		for _, is := range job.File.Issues {
			fmt.Fprintf(ui.stdout, "  file: %s\n", is.String())
		}
	}
	rows, err := c.Rows(ctx, id, "failed", 10)
	if err != nil {
		return err
	}
	for _, r := range rows {
		fmt.Fprintf(ui.stdout, "  row %d: %s\n", r.Row, r.Error)
	}
	return nil
}

// confirm asks whether to commit.
func (ui *importUI) confirm(job csvclient.Job) bool {
	fmt.Fprintf(ui.stdout, "Commit %d changes? [y/N] ", job.Counts["create"]+job.Counts["update"]+job.Counts["deactivate"]+job.Counts["delete"])
	line, _ := bufio.NewReader(stdin).ReadString('\n')
	answer := strings.ToLower(strings.TrimSpace(line))
	return answer == "y" || answer == "yes"
}

// finish prints the summary, writes the failed rows next to the file and
// turns failures into exit status 1.
func (ui *importUI) finish(ctx context.Context, c *csvclient.Client, job csvclient.Job, file string) error {
	fmt.Fprintln(ui.stdout, job.Summary)
	if job.Counts["error"] == 0 && job.State != "invalid" {
		return nil
	}
	if job.State != "invalid" || job.Counts["error"] > 0 {
		out := strings.TrimSuffix(file, filepath.Ext(file)) + ".failed.csv"
		if err := c.Report(ctx, job.ID, true, out); err != nil {
			return err
		}
		fmt.Fprintf(ui.stdout, "The failed rows, with the reason in _error, are in %s: fix them and import that file.\n", out)
	}
	return failedRows(job)
}

// failedRows is exit status 1 when rows or the file failed.
func failedRows(job csvclient.Job) error {
	if job.State == "invalid" || job.Counts["error"] > 0 {
		kind := job.Kind
		if kind == "" {
			kind = "import"
		}
		return &exitError{code: 1, msg: fmt.Sprintf("%s %s: %s", kind, job.ID, job.Summary)}
	}
	return nil
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
