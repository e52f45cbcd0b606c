package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/internal/bench"
)

// Server limits for the benchmarked server: serve's defaults.
const (
	benchMaxBodyBytes = 1 << 20
	benchMaxResults   = 200
	// benchBulkMaxBytes fits the bulk-create workload: 1,000 realistic
	// users of about 1 KB each are a little over the 1 MiB default.
	benchBulkMaxBytes = 4 << 20
)

// cmdBench runs the benchmark harness (internal/bench) against the real
// server wiring of `scimbridge serve`.
func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "csv-import" {
		return cmdBenchCSV(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "csv-export" {
		return cmdBenchExport(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "soak" {
		return cmdBenchSoak(ctx, args[1:], stdout, stderr)
	}
	fs := newFlags("bench", stderr)
	// Deliberately not SCIMBRIDGE_DB: the bench deletes and recreates its store.
	db := fs.String("db", "sqlite:", "store, created fresh: sqlite:PATH (deleted first if an earlier bench made it; sqlite: alone is a temporary file) or postgres://... (a new schema, dropped at the end)")
	users := fs.Int("users", bench.DefaultUsers, "users in the generated population")
	duration := fs.Duration("duration", bench.DefaultDuration, "how long each workload runs at each concurrency")
	concurrency := fs.String("concurrency", "1,8", "comma-separated numbers of concurrent clients")
	quick := fs.Bool("quick", false, fmt.Sprintf("a reduced run: %d users, %s per workload (an explicit --users or --duration wins)", bench.QuickUsers, bench.QuickDuration))
	workloads := fs.String("workloads", "", "comma-separated workloads to run (default all: "+strings.Join(bench.WorkloadNames(), ", ")+")")
	jsonPath := fs.String("json", "", "also write the results as JSON to this file")
	cpuprofile := fs.String("cpuprofile", "", "write a pprof CPU profile of the workloads to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench takes no arguments, got %q", fs.Args())
	}
	if *quick {
		quickDefaults(fs, users, duration)
	}
	levels, err := bench.ParseConcurrency(*concurrency)
	if err != nil {
		return err
	}
	rep, err := bench.Run(ctx, bench.Config{DB: *db, Users: *users, Duration: *duration, Concurrency: levels,
		Workloads: bench.SplitList(*workloads), CPUProfile: *cpuprofile, NewHandler: benchHandler(stderr),
		OpenStore: openStore, Log: stderr})
	if err != nil {
		return err
	}
	return writeBenchReport(rep, stdout, *jsonPath)
}

// quickDefaults applies --quick to the flags not given explicitly.
func quickDefaults(fs *flag.FlagSet, users *int, duration *time.Duration) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["users"] {
		*users = bench.QuickUsers
	}
	if !set["duration"] {
		*duration = bench.QuickDuration
	}
}

// benchHandler builds the server exactly as `scimbridge serve` does.
func benchHandler(stderr io.Writer) bench.HandlerFunc {
	logger := bench.ServerLogger(stderr)
	return func(ctx context.Context, dsn string) (http.Handler, func(), error) {
		return buildHandler(ctx, serveConfig{db: dsn, maxBody: benchMaxBodyBytes, maxResults: benchMaxResults, bulkMaxBytes: benchBulkMaxBytes}, logger)
	}
}

// benchReport is what every bench mode reports: a table and JSON.
type benchReport interface {
	WriteTable(io.Writer) error
	WriteJSONFile(string) error
}

// writeBenchReport prints the table and writes the JSON file when asked.
func writeBenchReport(rep benchReport, stdout io.Writer, jsonPath string) error {
	if err := rep.WriteTable(stdout); err != nil {
		return err
	}
	if jsonPath == "" {
		return nil
	}
	if err := rep.WriteJSONFile(jsonPath); err != nil {
		return fmt.Errorf("--json: %w", err)
	}
	return nil
}

// cmdBenchCSV runs the csv-import benchmark: generated scim-profile files
// of each size imported through the server's /csv API into a fresh store.
func cmdBenchCSV(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench csv-import", stderr)
	db := fs.String("db", "sqlite:", "store, created fresh for each size (as for bench)")
	rows := fs.String("rows", "10000,100000", "comma-separated file sizes in rows")
	jsonPath := fs.String("json", "", "also write the results as JSON to this file")
	cpuprofile := fs.String("cpuprofile", "", "write a pprof CPU profile of the imports to this file (the last size's)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	sizes, err := bench.ParsePositive(*rows, "--rows")
	if err != nil {
		return err
	}
	rep, err := bench.RunCSVImport(ctx, bench.CSVConfig{DB: *db, Rows: sizes, NewHandler: benchHandler(stderr), OpenStore: openStore, Log: stderr, CPUProfile: *cpuprofile})
	if err != nil {
		return err
	}
	return writeBenchReport(rep, stdout, *jsonPath)
}

// cmdBenchExport runs the csv-export benchmark: a fresh store per size,
// loaded with that many users and exported with the scim profile over
// the server's /csv/exports/users.csv.
func cmdBenchExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench csv-export", stderr)
	db := fs.String("db", "sqlite:", "store, created fresh for each size (as for bench); the figures in README are PostgreSQL's")
	rows := fs.String("rows", strconv.Itoa(bench.DefaultExportRows), "comma-separated numbers of users to export")
	jsonPath := fs.String("json", "", "also write the results as JSON to this file")
	cpuprofile := fs.String("cpuprofile", "", "write a pprof CPU profile of the exports to this file (the last size's)")
	repeat := fs.Int("repeat", 1, "export each loaded store this many times and report the median run")
	if err := fs.Parse(args); err != nil {
		return err
	}
	sizes, err := bench.ParsePositive(*rows, "--rows")
	if err != nil {
		return err
	}
	if *repeat < 1 {
		return fmt.Errorf("--repeat: want 1 or more, got %d", *repeat)
	}
	rep, err := bench.RunCSVExport(ctx, bench.ExportConfig{DB: *db, Rows: sizes, NewHandler: benchHandler(stderr), OpenStore: openStore,
		Log: stderr, CPUProfile: *cpuprofile, Repeat: *repeat})
	if err != nil {
		return err
	}
	return writeBenchReport(rep, stdout, *jsonPath)
}

// cmdBenchSoak runs the soak: a sustained Okta-like mixed load with the
// server's RSS, goroutines, file descriptors and database sessions sampled
// every --interval.
func cmdBenchSoak(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench soak", stderr)
	db := fs.String("db", "sqlite:", "store, created fresh (as for bench); the figures in docs/reliability.md are PostgreSQL's")
	users := fs.Int("users", bench.DefaultSoakUsers, "users in the generated population")
	duration := fs.Duration("duration", bench.DefaultSoakDuration, "how long the load runs")
	interval := fs.Duration("interval", bench.DefaultSoakInterval, "how often resources are sampled")
	concurrency := fs.Int("concurrency", 8, "concurrent clients")
	jsonPath := fs.String("json", "", "also write the results as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	rep, err := bench.RunSoak(ctx, bench.SoakConfig{DB: *db, Users: *users, Duration: *duration, Interval: *interval,
		Concurrency: *concurrency, NewHandler: benchHandler(stderr), OpenStore: openStore, Log: stderr})
	if err != nil {
		return err
	}
	return writeBenchReport(rep, stdout, *jsonPath)
}
