package bench

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/csvbridge/csvclient"
	"github.com/scimbridge/scimbridge/internal/auth"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/scim"
)

// DefaultExportRows is the csv-export benchmark's default size.
const DefaultExportRows = 1_000_000

// ExportConfig is a csv-export benchmark: for each size, a fresh store is
// loaded with that many users and exported with the scim profile through
// the running server's GET /csv/exports/users.csv.
type ExportConfig struct {
	DB         string
	Rows       []int
	NewHandler HandlerFunc
	OpenStore  StoreFunc
	Log        io.Writer
	// CPUProfile, when set, receives a pprof CPU profile of the exports
	// (the last size's), server and client, without the loading.
	CPUProfile string
	// Repeat exports each loaded store this many times (default 1); the
	// result is the median run, with every run's rows/s alongside, since
	// a shared 2-core machine's speed drifts by a quarter or more.
	Repeat int
}

// ExportResult is one export size on one store. PeakRSSMB is the process's
// peak (server and client share it) during the export alone, after the
// loader's memory was returned.
type ExportResult struct {
	Store     string  `json:"store"`
	Users     int     `json:"users"`
	Rows      int64   `json:"rows"`
	Bytes     int64   `json:"bytes"`
	Seconds   float64 `json:"seconds"`
	RowsPerS  float64 `json:"rows_per_s"`
	MBPerS    float64 `json:"mb_per_s"`
	PeakRSSMB float64 `json:"peak_rss_mb"`
	BaseRSSMB float64 `json:"rss_before_mb"`
	// Runs are every run's rows/s when the export was repeated.
	Runs []float64 `json:"runs_rows_per_s,omitempty"`
}

// ExportReport is the outcome of a csv-export run.
type ExportReport struct {
	Machine Machine        `json:"machine"`
	Results []ExportResult `json:"results"`
}

// RunCSVExport runs the csv-export benchmark.
func RunCSVExport(ctx context.Context, cfg ExportConfig) (*ExportReport, error) {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	rep := &ExportReport{}
	for _, n := range cfg.Rows {
		res, m, err := csvExportOnce(ctx, cfg, n)
		if err != nil {
			return nil, fmt.Errorf("csv-export of %d users: %w", n, err)
		}
		rep.Machine = m
		rep.Results = append(rep.Results, res)
	}
	return rep, nil
}

func csvExportOnce(ctx context.Context, cfg ExportConfig, n int) (ExportResult, Machine, error) {
	target, err := prepareTarget(ctx, cfg.DB)
	if err != nil {
		return ExportResult{}, Machine{}, err
	}
	defer target.cleanup(cfg.Log)
	if err := loadForExport(ctx, cfg, target, n); err != nil {
		return ExportResult{}, Machine{}, err
	}
	srvCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	h, closeHandler, err := cfg.NewHandler(srvCtx, target.dsn)
	if err != nil {
		return ExportResult{}, Machine{}, fmt.Errorf("start server: %w", err)
	}
	defer closeHandler()
	st, err := cfg.OpenStore(ctx, target.dsn)
	if err != nil {
		return ExportResult{}, Machine{}, fmt.Errorf("open store: %w", err)
	}
	defer st.Close()
	base, stop, err := listen(h)
	if err != nil {
		return ExportResult{}, Machine{}, err
	}
	defer stop()
	secret, err := auth.CreateSecret(ctx, st, store.DefaultTenant, benchCredentialName, benchCredentialTier)
	if err != nil {
		return ExportResult{}, Machine{}, fmt.Errorf("create bench credential: %w", err)
	}
	c := csvclient.New(strings.TrimSuffix(base, scim.BasePath), secret)
	res, err := profiled(cfg.CPUProfile, func() (ExportResult, error) { return exportRuns(ctx, c, target.kind, n, cfg) })
	return res, describeMachine(target), err
}

// exportRuns exports cfg.Repeat times and returns the median run (by
// rows/s), its peak RSS the highest of all and Runs every run's rows/s.
func exportRuns(ctx context.Context, c *csvclient.Client, kind string, n int, cfg ExportConfig) (ExportResult, error) {
	runs := make([]ExportResult, 0, max(cfg.Repeat, 1))
	for range max(cfg.Repeat, 1) {
		res, err := exportOnce(ctx, c, kind, n, cfg.Log)
		if err != nil {
			return res, err
		}
		runs = append(runs, res)
	}
	if len(runs) == 1 {
		return runs[0], nil
	}
	slices.SortFunc(runs, func(a, b ExportResult) int { return cmp.Compare(a.RowsPerS, b.RowsPerS) })
	med := runs[len(runs)/2]
	for _, r := range runs {
		med.PeakRSSMB = max(med.PeakRSSMB, r.PeakRSSMB)
		med.Runs = append(med.Runs, r.RowsPerS)
	}
	return med, nil
}

// loadForExport fills the store with n users through a store of its own,
// then refreshes the planner statistics.
func loadForExport(ctx context.Context, cfg ExportConfig, target *target, n int) error {
	st, err := cfg.OpenStore(ctx, target.loadDSN)
	if err != nil {
		return fmt.Errorf("open store for loading: %w", err)
	}
	defer st.Close()
	if _, err := loadUsers(ctx, st, n, cfg.Log); err != nil {
		return err
	}
	return target.analyze(ctx)
}

// exportOnce exports every user with the scim profile, the body counted
// and dropped, and measures it.
func exportOnce(ctx context.Context, c *csvclient.Client, kind string, n int, log io.Writer) (ExportResult, error) {
	runtime.GC()
	debug.FreeOSMemory()
	res := ExportResult{Store: kind, Users: n, BaseRSSMB: round(rssMB(), 0)}
	resetPeakRSS()
	start := time.Now()
	next := start
	st, err := c.Export(ctx, csvclient.ExportOptions{Profile: "scim"}, io.Discard, func(s csvclient.ExportStats) {
		if now := time.Now(); now.After(next) {
			next = now.Add(5 * time.Second)
			fmt.Fprintf(log, "csv-export %d users: %d rows, %.0f MB\n", n, s.Rows, float64(s.Bytes)/1e6)
		}
	})
	took := time.Since(start).Seconds()
	if err != nil {
		return res, err
	}
	if st.Rows != int64(n) {
		return res, fmt.Errorf("the export has %d rows, want %d", st.Rows, n)
	}
	res.Rows, res.Bytes, res.Seconds = st.Rows, st.Bytes, round(took, 2)
	res.RowsPerS = round(float64(st.Rows)/took, 0)
	res.MBPerS = round(float64(st.Bytes)/1e6/took, 1)
	res.PeakRSSMB = round(peakRSSMB(), 0)
	fmt.Fprintf(log, "csv-export %d users: %d rows, %d bytes in %.2fs\n", n, st.Rows, st.Bytes, took)
	return res, nil
}

// rssMB is the process's current resident set size in MiB (0 where /proc
// is unavailable).
func rssMB() float64 {
	var kb float64
	if _, err := fmt.Sscanf(procField("/proc/self/status", "VmRSS"), "%f kB", &kb); err != nil {
		return 0
	}
	return kb / 1024
}

const exportTableFormat = "%-8s %9s %9s %10s %9s %9s %7s %13s %13s\n"

// WriteTable prints the machine and the results as a table.
func (r *ExportReport) WriteTable(w io.Writer) error {
	m := r.Machine
	var b strings.Builder
	fmt.Fprintf(&b, "# csv-export (scim profile, over HTTP): %s, %d cores, %s, %s, %s\n", m.CPUModel, m.Cores, m.GoVersion, m.OS, m.StoreVersion)
	fmt.Fprintf(&b, exportTableFormat, "store", "users", "rows", "MB", "seconds", "rows/s", "MB/s", "RSS before MB", "peak RSS MB")
	for _, x := range r.Results {
		fmt.Fprintf(&b, exportTableFormat, x.Store, fmt.Sprint(x.Users), fmt.Sprint(x.Rows), num(float64(x.Bytes)/1e6, 1), num(x.Seconds, 2),
			num(x.RowsPerS, 0), num(x.MBPerS, 1), num(x.BaseRSSMB, 0), num(x.PeakRSSMB, 0))
		if len(x.Runs) > 1 {
			fmt.Fprintf(&b, "  (median of %d runs; rows/s of each, slowest first: %v)\n", len(x.Runs), x.Runs)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSONFile writes the report as JSON.
func (r *ExportReport) WriteJSONFile(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
