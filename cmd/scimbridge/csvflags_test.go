package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/csvbridge"
)

// parseCSVFlags parses args the way cmdServe does: environment first, then
// the command line.
func parseCSVFlags(args ...string) (csvConfig, error) {
	fs := newFlags("serve", io.Discard)
	f := addCSVFlags(fs)
	if err := csvFromEnv(fs); err != nil {
		return csvConfig{}, err
	}
	if err := fs.Parse(args); err != nil {
		return csvConfig{}, err
	}
	return f.config()
}

func TestCSVFlagDefaults(t *testing.T) {
	for _, e := range csvEnv {
		t.Setenv(e.env, "")
	}
	got, err := parseCSVFlags()
	want := csvConfig{maxBytes: 64 << 20, maxRows: 200_000, lease: 30 * time.Second, retention: 720 * time.Hour}
	if err != nil || got != want {
		t.Fatalf("defaults = %+v, %v; want %+v", got, err, want)
	}
}

func TestCSVFlagsFromEnvAndCommandLine(t *testing.T) {
	t.Setenv("SCIMBRIDGE_CSV_MAX_BYTES", "1048576")
	t.Setenv("SCIMBRIDGE_CSV_MAX_ROWS", "500")
	t.Setenv("SCIMBRIDGE_CSV_LEASE", "5s")
	t.Setenv("SCIMBRIDGE_CSV_RETENTION", "48h")
	t.Setenv("SCIMBRIDGE_CSV_WORKER", "false")
	got, err := parseCSVFlags()
	want := csvConfig{maxBytes: 1 << 20, maxRows: 500, lease: 5 * time.Second, retention: 48 * time.Hour, noWorker: true}
	if err != nil || got != want {
		t.Fatalf("from env = %+v, %v; want %+v", got, err, want)
	}
	got, err = parseCSVFlags("--csv-max-rows", "7", "--csv-lease", "2s", "--csv-worker=true")
	want = csvConfig{maxBytes: 1 << 20, maxRows: 7, lease: 2 * time.Second, retention: 48 * time.Hour}
	if err != nil || got != want {
		t.Fatalf("command line over env = %+v, %v; want %+v", got, err, want)
	}
}

func TestCSVFlagErrors(t *testing.T) {
	t.Setenv("SCIMBRIDGE_CSV_WORKER", "sometimes")
	if _, err := parseCSVFlags(); err == nil || !strings.Contains(err.Error(), `SCIMBRIDGE_CSV_WORKER="sometimes"`) {
		t.Fatalf("bad env value: %v", err)
	}
	t.Setenv("SCIMBRIDGE_CSV_WORKER", "")
	_, err := parseCSVFlags("--csv-max-bytes", "-1", "--csv-retention", "0")
	for _, want := range []string{"--csv-max-bytes must be a positive number of bytes, got -1", "--csv-retention must be a positive duration"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}

// TestCSVConfigOptions checks the configuration reaches the job service:
// its upload limits, and the zero value keeps the service's defaults.
func TestCSVConfigOptions(t *testing.T) {
	cfg := csvConfig{maxBytes: 1000, maxRows: 10, lease: time.Second, retention: time.Hour}
	if got := csvbridge.NewJobs(nil, nil, cfg.jobsOptions()...).Limits(); got != (csvbridge.Limits{MaxBytes: 1000, MaxRows: 10}) {
		t.Fatalf("limits %+v", got)
	}
	if got := csvbridge.NewJobs(nil, nil, csvConfig{}.jobsOptions()...).Limits(); got != (csvbridge.Limits{MaxBytes: csvbridge.DefaultMaxBytes, MaxRows: csvbridge.DefaultMaxRows}) {
		t.Fatalf("zero config limits %+v", got)
	}
}
