package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/scimbridge/scimbridge/internal/settingsapi"
)

// cmdSettings reads or changes the tenant settings of a running server
// (GET/PUT/PATCH /settings) and lists its outbox: a thin HTTP client.
func cmdSettings(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("settings needs a subcommand: get, set or outbox")
	}
	fs := newFlags("settings "+args[0], stderr)
	server := fs.String("server", envOr("SCIMBRIDGE_SERVER", "http://127.0.0.1:8080"), "server base URL (env SCIMBRIDGE_SERVER)")
	token := fs.String("token", os.Getenv("SCIMBRIDGE_TOKEN"), "bearer token (env SCIMBRIDGE_TOKEN)")
	file := fs.String("file", "-", "set: the settings JSON to send (- for stdin)")
	merge := fs.Bool("merge", false, "set: change only the top-level fields the file names (PATCH) instead of replacing all (PUT)")
	ifMatch := fs.Int64("if-match", -1, "set: refuse unless the settings are at this version")
	state := fs.String("state", "", "outbox: only messages in this state (pending, sent, failed)")
	limit := fs.Int("limit", 50, "outbox: most messages to list")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("settings %s takes no arguments, got %q", args[0], fs.Args())
	}
	if *token == "" {
		return errors.New("settings needs --token (or SCIMBRIDGE_TOKEN)")
	}
	c := settingsapi.NewClient(*server, *token)
	switch args[0] {
	case "get":
		ts, err := c.Get(ctx)
		return printJSON(stdout, ts, err)
	case "set":
		return settingsSet(ctx, c, *file, *merge, *ifMatch, stdout)
	case "outbox":
		return settingsOutbox(ctx, c, *state, *limit, stdout)
	}
	return fmt.Errorf("unknown settings subcommand %q (want get, set or outbox)", args[0])
}

func settingsSet(ctx context.Context, c *settingsapi.Client, file string, merge bool, ifMatch int64, stdout io.Writer) error {
	body, err := readInput(file)
	if err != nil {
		return err
	}
	send := c.Put
	if merge {
		send = c.Patch
	}
	ts, err := send(ctx, body, ifMatch)
	return printJSON(stdout, ts, err)
}

func readInput(file string) ([]byte, error) {
	if file == "-" {
		return io.ReadAll(io.LimitReader(os.Stdin, settingsapi.MaxBody+1))
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read settings: %w", err)
	}
	return b, nil
}

func printJSON(w io.Writer, v any, err error) error {
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func settingsOutbox(ctx context.Context, c *settingsapi.Client, state string, limit int, stdout io.Writer) error {
	msgs, err := c.Outbox(ctx, state, limit)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CREATED\tSTATE\tATTEMPTS\tTO\tSUBJECT\tLAST ERROR")
	for _, m := range msgs {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", m.Created.Format("2006-01-02 15:04:05"), m.State, m.Attempts, m.To, m.Subject, m.LastError)
	}
	return tw.Flush()
}
