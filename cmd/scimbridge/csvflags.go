package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/scimbridge/scimbridge/csvbridge"
)

// csvConfig is the serve configuration of the CSV bridge's import jobs.
// Its zero value is the job service's defaults with a worker (what the
// benchmark and tests build).
type csvConfig struct {
	// maxBytes and maxRows cap an upload (zero: csvbridge's defaults).
	maxBytes int64
	maxRows  int
	// lease is how long a crashed replica's job stays claimed before
	// another worker takes it over (zero: csvbridge.DefaultLease).
	lease time.Duration
	// retention is how long jobs keep their upload and rows (zero:
	// csvbridge.DefaultRetention).
	retention time.Duration
	// noWorker serves the HTTP API only: no import worker runs in this
	// process (another replica works on the jobs).
	noWorker bool
}

// csvFlags are the CSV bridge's serve flags as parsed.
type csvFlags struct {
	maxBytes  int64
	maxRows   int
	lease     time.Duration
	retention time.Duration
	worker    bool
}

// csvEnv maps each CSV flag to the environment variable that sets its
// default.
var csvEnv = []struct{ flag, env string }{
	{"csv-max-bytes", "SCIMBRIDGE_CSV_MAX_BYTES"},
	{"csv-max-rows", "SCIMBRIDGE_CSV_MAX_ROWS"},
	{"csv-lease", "SCIMBRIDGE_CSV_LEASE"},
	{"csv-retention", "SCIMBRIDGE_CSV_RETENTION"},
	{"csv-worker", "SCIMBRIDGE_CSV_WORKER"},
}

// addCSVFlags defines the CSV bridge's serve flags on fs. Call
// csvFromEnv before fs.Parse, and config after it.
func addCSVFlags(fs *flag.FlagSet) *csvFlags {
	c := csvFlags{maxBytes: csvbridge.DefaultMaxBytes, maxRows: csvbridge.DefaultMaxRows,
		lease: csvbridge.DefaultLease, retention: csvbridge.DefaultRetention, worker: true}
	fs.Int64Var(&c.maxBytes, "csv-max-bytes", c.maxBytes, "largest CSV upload in bytes; larger files are refused with 413 (env SCIMBRIDGE_CSV_MAX_BYTES)")
	fs.IntVar(&c.maxRows, "csv-max-rows", c.maxRows, "most data rows in one CSV import (env SCIMBRIDGE_CSV_MAX_ROWS)")
	fs.DurationVar(&c.lease, "csv-lease", c.lease, "how long a crashed replica's import stays claimed before another replica takes it over (env SCIMBRIDGE_CSV_LEASE)")
	fs.DurationVar(&c.retention, "csv-retention", c.retention, "how long import jobs keep their upload and rows (env SCIMBRIDGE_CSV_RETENTION)")
	fs.BoolVar(&c.worker, "csv-worker", c.worker, "run the CSV import worker; false serves the HTTP API only and leaves imports to other replicas (env SCIMBRIDGE_CSV_WORKER)")
	return &c
}

// csvFromEnv sets the CSV flags' values from their environment variables,
// so that the command line still overrides them; a value that does not
// parse is an error naming the variable.
func csvFromEnv(fs *flag.FlagSet) error {
	for _, e := range csvEnv {
		v, ok := os.LookupEnv(e.env)
		if !ok || v == "" {
			continue
		}
		if err := fs.Set(e.flag, v); err != nil {
			return fmt.Errorf("%s=%q: %w", e.env, v, err)
		}
	}
	return nil
}

// config returns the configuration the flags give, refusing limits and
// durations that are not positive.
func (c *csvFlags) config() (csvConfig, error) {
	var errs []error
	if c.maxBytes <= 0 {
		errs = append(errs, fmt.Errorf("--csv-max-bytes must be a positive number of bytes, got %d", c.maxBytes))
	}
	if c.maxRows <= 0 {
		errs = append(errs, fmt.Errorf("--csv-max-rows must be a positive number of rows, got %d", c.maxRows))
	}
	if c.lease <= 0 {
		errs = append(errs, fmt.Errorf("--csv-lease must be a positive duration (e.g. 30s), got %s", c.lease))
	}
	if c.retention <= 0 {
		errs = append(errs, fmt.Errorf("--csv-retention must be a positive duration (e.g. 720h), got %s", c.retention))
	}
	if err := errors.Join(errs...); err != nil {
		return csvConfig{}, err
	}
	return csvConfig{maxBytes: c.maxBytes, maxRows: c.maxRows, lease: c.lease, retention: c.retention, noWorker: !c.worker}, nil
}

// jobsOptions are the job service's options for the configuration; a
// zero field leaves the service's default.
func (c csvConfig) jobsOptions() []csvbridge.JobsOption {
	opts := []csvbridge.JobsOption{csvbridge.WithJobLimits(csvbridge.Limits{MaxBytes: c.maxBytes, MaxRows: c.maxRows})}
	if c.lease > 0 {
		opts = append(opts, csvbridge.WithLease(c.lease))
	}
	if c.retention > 0 {
		opts = append(opts, csvbridge.WithRetention(c.retention))
	}
	return opts
}
