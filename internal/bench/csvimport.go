package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/scimbridge/scimbridge/csvbridge/csvclient"
	"github.com/scimbridge/scimbridge/internal/auth"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/scim"
)

// CSVConfig is a csv-import benchmark: for each size, a generated
// scim-profile file is imported into a fresh store through the running
// server's /csv API (upload, preview, commit, then the same file again).
type CSVConfig struct {
	DB         string
	Rows       []int
	NewHandler HandlerFunc
	OpenStore  StoreFunc
	Log        io.Writer
	// CPUProfile, when set, receives a pprof CPU profile of the imports
	// (not of the raw ceilings).
	CPUProfile string
}

// CSVResult is one import size on one store. Seconds are wall-clock from
// the upload request to the state named; PeakRSSMB is the process's peak
// (server and client share it) during the import and the re-import.
type CSVResult struct {
	Store         string  `json:"store"`
	Rows          int     `json:"rows"`
	PreviewS      float64 `json:"preview_s"`
	CommitS       float64 `json:"commit_s"`
	TotalS        float64 `json:"total_s"`
	RowsPerS      float64 `json:"rows_per_s"`
	ReimportS     float64 `json:"reimport_s"`
	RawRowsPerS   float64 `json:"raw_upsert_rows_per_s"`
	RatioToRaw    float64 `json:"ratio_to_raw"`
	PeakRSSMB     float64 `json:"peak_rss_mb"`
	Created       int     `json:"created"`
	ReimportNoops int     `json:"reimport_unchanged"`
}

// CSVReport is the outcome of a csv-import run.
type CSVReport struct {
	Machine Machine     `json:"machine"`
	Results []CSVResult `json:"results"`
}

// csvTenantRaw is the tenant the raw batched-upsert ceiling writes into.
const csvTenantRaw = "raw-ceiling"

// RunCSVImport runs the csv-import benchmark.
func RunCSVImport(ctx context.Context, cfg CSVConfig) (*CSVReport, error) {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	rep := &CSVReport{}
	for _, n := range cfg.Rows {
		res, m, err := csvImportOnce(ctx, cfg, n)
		if err != nil {
			return nil, fmt.Errorf("csv-import of %d rows: %w", n, err)
		}
		rep.Machine = m
		rep.Results = append(rep.Results, res)
	}
	return rep, nil
}

// csvImportOnce imports n rows into a fresh store.
func csvImportOnce(ctx context.Context, cfg CSVConfig, n int) (CSVResult, Machine, error) {
	target, err := prepareTarget(ctx, cfg.DB)
	if err != nil {
		return CSVResult{}, Machine{}, err
	}
	defer target.cleanup(cfg.Log)
	// The server's background work (the import worker) ends with srvCtx,
	// before its store is closed.
	srvCtx, cancel := context.WithCancel(ctx)
	h, closeHandler, err := cfg.NewHandler(srvCtx, target.dsn)
	if err != nil {
		cancel()
		return CSVResult{}, Machine{}, fmt.Errorf("start server: %w", err)
	}
	defer closeHandler()
	defer cancel()
	st, err := cfg.OpenStore(ctx, target.dsn)
	if err != nil {
		return CSVResult{}, Machine{}, fmt.Errorf("open store: %w", err)
	}
	defer st.Close()
	base, stop, err := listen(h)
	if err != nil {
		return CSVResult{}, Machine{}, err
	}
	defer stop()
	secret, err := auth.CreateSecret(ctx, st, store.DefaultTenant, benchCredentialName, benchCredentialTier)
	if err != nil {
		return CSVResult{}, Machine{}, fmt.Errorf("create bench credential: %w", err)
	}
	c := csvclient.New(strings.TrimSuffix(base, scim.BasePath), secret)
	res := CSVResult{Store: target.kind, Rows: n}
	file, err := csvFile(n)
	if err != nil {
		return res, Machine{}, err
	}
	defer os.Remove(file)
	_, err = profiled(cfg.CPUProfile, func() (struct{}, error) {
		return struct{}{}, importPhases(ctx, c, file, &res, cfg.Log)
	})
	if err != nil {
		return res, Machine{}, err
	}
	if res.RawRowsPerS, err = rawUpsertRate(ctx, st, n); err != nil {
		return res, Machine{}, err
	}
	res.RatioToRaw = round(res.RowsPerS/res.RawRowsPerS, 2)
	return res, describeMachine(target), nil
}

// importPhases uploads the file, waits for the preview, commits, waits
// for the end, then uploads it again and waits for that preview.
func importPhases(ctx context.Context, c *csvclient.Client, file string, res *CSVResult, log io.Writer) error {
	resetPeakRSS()
	start := time.Now()
	job, err := awaitPreview(ctx, c, file)
	if err != nil {
		return err
	}
	res.PreviewS = round(time.Since(start).Seconds(), 2)
	fmt.Fprintf(log, "csv-import %d rows: preview %.2fs (%v)\n", res.Rows, res.PreviewS, job.Counts)
	if _, err := c.Commit(ctx, job.ID, nil); err != nil {
		return err
	}
	commitStart := time.Now()
	if job, err = c.Wait(ctx, job.ID, 50*time.Millisecond, "committing"); err != nil {
		return err
	}
	if job.State != "completed" {
		return fmt.Errorf("import ended %s: %s", job.State, job.Summary)
	}
	res.CommitS = round(time.Since(commitStart).Seconds(), 2)
	res.TotalS = round(time.Since(start).Seconds(), 2)
	res.RowsPerS = round(float64(res.Rows)/time.Since(start).Seconds(), 0)
	res.Created = job.Counts["create"]
	fmt.Fprintf(log, "csv-import %d rows: committed in %.2fs: %s\n", res.Rows, res.CommitS, job.Summary)
	again := time.Now()
	if job, err = awaitPreview(ctx, c, file); err != nil {
		return err
	}
	res.ReimportS = round(time.Since(again).Seconds(), 2)
	res.ReimportNoops = job.Counts["unchanged"]
	res.PeakRSSMB = round(peakRSSMB(), 0)
	return nil
}

// awaitPreview uploads the file (streamed from disk, so the client holds
// none of it) and waits for the preview.
func awaitPreview(ctx context.Context, c *csvclient.Client, file string) (csvclient.Job, error) {
	f, err := os.Open(file)
	if err != nil {
		return csvclient.Job{}, fmt.Errorf("open %s: %w", file, err)
	}
	defer f.Close()
	job, err := c.UploadFrom(ctx, "scim", "bench.csv", f)
	if err != nil {
		return job, err
	}
	if job, err = c.Wait(ctx, job.ID, 50*time.Millisecond, "validating"); err != nil {
		return job, err
	}
	if job.State != "validated" {
		return job, fmt.Errorf("preview ended %s: %s", job.State, job.Summary)
	}
	return job, nil
}

// csvFile writes a scim-profile file of n users like the bench
// population to a temporary file and returns its path.
func csvFile(n int) (string, error) {
	f, err := os.CreateTemp("", "scimbridge-bench-*.csv")
	if err != nil {
		return "", fmt.Errorf("bench file: %w", err)
	}
	w := bufio.NewWriter(f)
	w.WriteString("userName,externalId,name.givenName,name.familyName,displayName,emails[type eq \"work\"].value,title," +
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department\n")
	for i := range n {
		fmt.Fprintf(w, "%s,%s,Given%d,Family%d,User %d,%s,Engineer,Dept %d\n", userName(i), externalID(i), i, i, i, workEmail(i), i%50)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return "", fmt.Errorf("bench file: %w", err)
	}
	return f.Name(), f.Close()
}

// rawUpsertRate is the store's own batched insert rate for n users of
// the same shape (1,000 per CreateUsers call), into a tenant of its own:
// the ceiling an import through the service can approach.
func rawUpsertRate(ctx context.Context, st store.Store, n int) (float64, error) {
	now := time.Now().UTC()
	if err := st.CreateTenant(ctx, csvTenantRaw, now); err != nil {
		return 0, fmt.Errorf("create raw tenant: %w", err)
	}
	reg := schema.New()
	start := time.Now()
	for lo := 0; lo < n; lo += 1000 {
		batch := make([]store.User, 0, 1000)
		for i := lo; i < min(n, lo+1000); i++ {
			u, err := userRecord(reg, i, now)
			if err != nil {
				return 0, err
			}
			u.TenantID, u.ID = csvTenantRaw, uuid.NewString()
			batch = append(batch, u)
		}
		if _, err := st.CreateUsers(ctx, batch); err != nil {
			return 0, fmt.Errorf("raw batch at %d: %w", lo, err)
		}
	}
	return round(float64(n)/time.Since(start).Seconds(), 0), nil
}

const csvTableFormat = "%-8s %8s %10s %10s %9s %9s %11s %13s %7s %12s\n"

// WriteTable prints the machine and the results as a table.
func (r *CSVReport) WriteTable(w io.Writer) error {
	m := r.Machine
	var b strings.Builder
	fmt.Fprintf(&b, "# csv-import: %s, %d cores, %s, %s, %s\n", m.CPUModel, m.Cores, m.GoVersion, m.OS, m.StoreVersion)
	fmt.Fprintf(&b, csvTableFormat, "store", "rows", "preview s", "commit s", "total s", "rows/s", "reimport s", "raw rows/s", "ratio", "peak RSS MB")
	for _, x := range r.Results {
		fmt.Fprintf(&b, csvTableFormat, x.Store, fmt.Sprint(x.Rows), num(x.PreviewS, 2), num(x.CommitS, 2), num(x.TotalS, 2),
			num(x.RowsPerS, 0), num(x.ReimportS, 2), num(x.RawRowsPerS, 0), num(x.RatioToRaw, 2), num(x.PeakRSSMB, 0))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSONFile writes the report as JSON.
func (r *CSVReport) WriteJSONFile(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
