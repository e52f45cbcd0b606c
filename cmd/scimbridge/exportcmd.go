package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/csvbridge/csvclient"
)

// cmdExport downloads an export from a running server into a file (-o)
// or stdout, with a progress line on stderr.
func cmdExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", envOr("SCIMBRIDGE_SERVER", "http://127.0.0.1:8080"), "server base URL")
	token := fs.String("token", os.Getenv("SCIMBRIDGE_TOKEN"), "bearer token (provisioning secret or OIDC token)")
	var o csvclient.ExportOptions
	fs.StringVar(&o.Preset, "preset", "", "named filter: all, active, tier=N, created-since=DATE, created-between=FROM,TO, last-login-before=DATE, last-login-after=DATE")
	fs.StringVar(&o.Filter, "filter", "", "SCIM filter (combined with --preset by and)")
	fs.StringVar(&o.Profile, "profile", "", "profile whose columns to write (default scim: SCIM attribute paths)")
	attributes := fs.String("attributes", "", "comma-separated columns (SCIM paths, or a profile's headers)")
	fs.StringVar(&o.SortBy, "sort-by", "", "attribute to sort by (default: creation order)")
	fs.BoolVar(&o.Groups, "groups", false, "export groups (members as one column) instead of users")
	fs.BoolVar(&o.MemberRows, "member-rows", false, "with --groups: one row per membership instead of one members column")
	fs.StringVar(&o.Delimiter, "delimiter", "", "cell delimiter, e.g. ; (default ,)")
	forScripts := fs.Bool("plain", false, "no byte order mark, LF line ends (for scripts)")
	fs.BoolVar(&o.Raw, "raw", false, "cells without formula escaping (tier 3)")
	out := fs.String("o", "", "write to this file (default stdout)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("export takes no arguments, got %q", fs.Args())
	}
	if *token == "" {
		return errors.New("export needs --token (or SCIMBRIDGE_TOKEN)")
	}
	if *attributes != "" {
		o.Attributes = strings.Split(*attributes, ",")
	}
	o.NoBOM, o.LF = *forScripts, *forScripts
	return runExport(ctx, csvclient.New(*server, *token), o, *out, stdout, stderr)
}

// runExport writes the export to path (stdout when empty); a file is
// written beside its final name and renamed once complete, so a cut
// export never leaves a file that looks whole.
func runExport(ctx context.Context, c *csvclient.Client, o csvclient.ExportOptions, path string, stdout, stderr io.Writer) error {
	w, done := stdout, func(bool) error { return nil }
	if path != "" {
		f, err := os.CreateTemp(filepath.Dir(path), ".export-*.csv")
		if err != nil {
			return fmt.Errorf("create %s: %w", path, err)
		}
		w = f
		done = func(ok bool) error {
			if cerr := f.Close(); cerr != nil || !ok {
				os.Remove(f.Name())
				return cerr
			}
			return os.Rename(f.Name(), path)
		}
	}
	start, last := time.Now(), time.Time{}
	st, err := c.Export(ctx, o, w, func(s csvclient.ExportStats) {
		if time.Since(last) >= 200*time.Millisecond {
			last = time.Now()
			fmt.Fprintf(stderr, "\rExporting: %d rows, %.1f MB", s.Rows, float64(s.Bytes)/1e6)
		}
	})
	if derr := done(err == nil); err == nil {
		err = derr
	}
	if err != nil {
		fmt.Fprintln(stderr)
		return err
	}
	where := path
	if where == "" {
		where = "stdout"
	}
	fmt.Fprintf(stderr, "\rExported %d rows (%.1f MB) in %s to %s.\n", st.Rows, float64(st.Bytes)/1e6, time.Since(start).Round(time.Millisecond), where)
	return nil
}
