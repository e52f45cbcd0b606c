package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/scimbridge/scimbridge/csvbridge"
	"github.com/scimbridge/scimbridge/csvbridge/csvclient"
)

// actionFlags are the operation flags of `scimbridge action`; exactly one
// is given.
type actionFlags struct {
	addRole, removeRole, addGroup, removeGroup *string
	deactivate, reactivate                     *bool
}

// request is the one operation the flags name.
func (f actionFlags) request() (csvbridge.ActionRequest, error) {
	var ops []csvbridge.ActionRequest
	for op, v := range map[string]*string{csvbridge.ActAddRole: f.addRole, csvbridge.ActRemoveRole: f.removeRole,
		csvbridge.ActAddGroup: f.addGroup, csvbridge.ActRemoveGroup: f.removeGroup} {
		if *v != "" {
			ops = append(ops, csvbridge.ActionRequest{Operation: op, Value: *v})
		}
	}
	if *f.deactivate {
		ops = append(ops, csvbridge.ActionRequest{Operation: csvbridge.ActDeactivate})
	}
	if *f.reactivate {
		ops = append(ops, csvbridge.ActionRequest{Operation: csvbridge.ActReactivate})
	}
	if len(ops) != 1 {
		return csvbridge.ActionRequest{}, errors.New("action needs exactly one of --add-role, --remove-role, --add-group, --remove-group, --deactivate, --reactivate")
	}
	return ops[0], nil
}

// cmdAction runs an action on the users a filter or preset selects: it
// prints the preview, asks before committing (unless --yes), follows the
// commit on stderr and prints the summary; it exits 1 when rows failed.
func cmdAction(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("action", stderr)
	server := fs.String("server", envOr("SCIMBRIDGE_SERVER", "http://127.0.0.1:8080"), "server base URL")
	token := fs.String("token", os.Getenv("SCIMBRIDGE_TOKEN"), "bearer token (provisioning secret or OIDC token)")
	filter := fs.String("filter", "", "SCIM filter selecting the users")
	preset := fs.String("preset", "", "named filter: all, active, tier=N, created-since=DATE, ...")
	f := actionFlags{
		addRole: fs.String("add-role", "", "add this role"), removeRole: fs.String("remove-role", "", "remove this role"),
		addGroup: fs.String("add-group", "", "add to this group (id or displayName)"), removeGroup: fs.String("remove-group", "", "remove from this group"),
		deactivate: fs.Bool("deactivate", false, "deactivate the users"), reactivate: fs.Bool("reactivate", false, "reactivate the users"),
	}
	yes := fs.Bool("yes", false, "commit without asking")
	poll := fs.Duration("poll", 500*time.Millisecond, "how often to ask the server for progress")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *token == "" {
		return errors.New("action needs --token (or SCIMBRIDGE_TOKEN)")
	}
	req, err := f.request()
	if err != nil {
		return err
	}
	req.Filter, req.Preset = *filter, *preset
	c := csvclient.New(*server, *token).Actions()
	ui := &importUI{stdout: stdout, stderr: stderr, poll: *poll, bar: isTerminal(stderr)}
	return ui.runAction(ctx, c, req, *yes)
}

func (ui *importUI) runAction(ctx context.Context, c *csvclient.Client, req csvbridge.ActionRequest, yes bool) error {
	job, err := c.SubmitAction(ctx, req)
	if err != nil {
		return err
	}
	fmt.Fprintf(ui.stderr, "Action %s: selecting the users.\n", job.ID)
	if job, err = ui.follow(ctx, c, job.ID, "Selecting"); err != nil {
		return err
	}
	fmt.Fprintln(ui.stdout, job.Summary)
	if err := ui.firstErrors(ctx, c, job.ID); err != nil {
		return err
	}
	if job.Counts["update"]+job.Counts["deactivate"] == 0 {
		fmt.Fprintln(ui.stdout, "Nothing to change.")
		return failedRows(job)
	}
	if !yes && !ui.confirm(job) {
		fmt.Fprintln(ui.stdout, "Not committed. The preview stays in the job history.")
		return nil
	}
	if _, err := c.Commit(ctx, job.ID, nil); err != nil {
		return err
	}
	if job, err = ui.follow(ctx, c, job.ID, "Applying"); err != nil {
		return err
	}
	fmt.Fprintln(ui.stdout, job.Summary)
	return failedRows(job)
}
