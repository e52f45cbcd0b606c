package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/server"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/postgres"
	"github.com/scimbridge/scimbridge/internal/store/postgres/pgtest"
	"github.com/scimbridge/scimbridge/internal/store/sqlite"
	"github.com/scimbridge/scimbridge/scim"
)

// openStore opens a store the way cmd/scimbridge does.
func openStore(ctx context.Context, dsn string) (store.Store, error) {
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		return sqlite.Open(ctx, path)
	}
	return postgres.Open(ctx, dsn)
}

// newHandler assembles the server as cmd/scimbridge's buildHandler does
// (server.Assemble).
func newHandler(ctx context.Context, dsn string) (http.Handler, func(), error) {
	st, err := openStore(ctx, dsn)
	if err != nil {
		return nil, nil, err
	}
	bgCtx, stop := context.WithCancel(ctx)
	srv, err := server.Assemble(bgCtx, server.Deps{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		SCIM: scim.Config{MaxBodyBytes: 1 << 20, MaxResults: 200}})
	if err != nil {
		stop()
		st.Close()
		return nil, nil, err
	}
	// The import worker stops before the store closes, as in serve.
	return srv.Handler, func() { stop(); srv.Wait(); st.Close() }, nil
}

func tinyConfig(db string) Config {
	return Config{DB: db, Users: 200, Duration: 200 * time.Millisecond, Concurrency: []int{1, 2},
		NewHandler: newHandler, OpenStore: openStore}
}

func TestTinyBenchSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bench.db")
	rep := runTiny(t, tinyConfig("sqlite:"+path))
	if rep.Machine.Store != "sqlite" || !strings.HasPrefix(rep.Machine.StoreVersion, "SQLite 3.") {
		t.Errorf("machine %+v", rep.Machine)
	}
	// A second run on the same path starts from a fresh file.
	cfg := tinyConfig("sqlite:" + path)
	cfg.Workloads = []string{"get-user"}
	cfg.CPUProfile = filepath.Join(t.TempDir(), "cpu.prof")
	if rep := runTiny(t, cfg); len(rep.Results) != 2 {
		t.Errorf("results of a get-user-only run: %+v", rep.Results)
	}
	if info, err := os.Stat(cfg.CPUProfile); err != nil || info.Size() == 0 {
		t.Errorf("CPU profile: %v", err)
	}
}

// pgBase is the test database's URL (the bench makes its own schema in
// it); it skips locally and fails in CI when PostgreSQL is unreachable.
func pgBase(t *testing.T) string {
	t.Helper()
	base := os.Getenv(pgtest.EnvURL)
	if base == "" {
		base = pgtest.DefaultURL
	}
	conn, err := pgx.Connect(context.Background(), base)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL unreachable: %v", err)
		}
		t.Skipf("PostgreSQL unreachable: %v", err)
	}
	conn.Close(context.Background())
	return base
}

func TestTinyBenchPostgres(t *testing.T) {
	base := pgBase(t)
	// A pool setting in --db goes to the server's pool, not to the
	// connection that creates the schema (PostgreSQL would refuse it).
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	rep := runTiny(t, tinyConfig(base+sep+"pool_max_conns=3"))
	if rep.Machine.Store != "postgres" || !strings.HasPrefix(rep.Machine.StoreVersion, "PostgreSQL") {
		t.Errorf("machine %+v", rep.Machine)
	}
}

// runTiny runs cfg, checks the JSON shape and that creates and gets work.
func runTiny(t *testing.T, cfg Config) *Report {
	t.Helper()
	var log bytes.Buffer
	cfg.Log = &log
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, log.String())
	}
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	checkShape(t, buf.Bytes(), len(cfg.Concurrency))
	for _, r := range rep.Results {
		if r.Workload != "create-user" && r.Workload != "get-user" {
			continue
		}
		if r.OpsPerS <= 0 || r.Errors != 0 || r.P99MS < r.P50MS || r.CeilingOpsPerS <= 0 || r.Ratio <= 0 {
			t.Errorf("%+v\n%s", r, log.String())
		}
	}
	return rep
}

// checkShape checks the JSON that scripts read: exactly these keys.
func checkShape(t *testing.T, raw []byte, levels int) {
	t.Helper()
	var top struct {
		Machine map[string]any   `json:"machine"`
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal(raw, &top); err != nil {
		t.Fatalf("JSON: %v\n%s", err, raw)
	}
	var keys map[string]any
	if err := json.Unmarshal(raw, &keys); err != nil {
		t.Fatal(err)
	}
	wantKeys(t, "report", keys, "machine", "results")
	wantKeys(t, "machine", top.Machine, "cpu_model", "cores", "go_version", "store", "store_version", "os")
	if len(top.Results) == 0 || len(top.Results)%levels != 0 {
		t.Fatalf("%d results for %d concurrency levels", len(top.Results), levels)
	}
	for _, r := range top.Results {
		wantKeys(t, "result", r, "workload", "store", "concurrency", "ops_per_s", "p50_ms", "p99_ms",
			"peak_rss_mb", "ceiling_ops_per_s", "ratio", "errors")
		if !slices.Contains(WorkloadNames(), r["workload"].(string)) {
			t.Errorf("unknown workload %v", r["workload"])
		}
		if rss, _ := r["peak_rss_mb"].(float64); rss <= 0 {
			t.Errorf("peak_rss_mb %v", r["peak_rss_mb"])
		}
	}
}

func wantKeys(t *testing.T, what string, m map[string]any, keys ...string) {
	t.Helper()
	var got []string
	for k := range m {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(keys)
	if !slices.Equal(got, keys) {
		t.Errorf("%s keys %v, want %v", what, got, keys)
	}
}

func TestRefusesToDeleteForeignFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "prod.db")
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	_, err = Run(context.Background(), tinyConfig("sqlite:"+path))
	if err == nil || !strings.Contains(err.Error(), "refusing to delete") {
		t.Fatalf("err = %v, want a refusal", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the file is gone: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Users = 0 }, "--users"},
		{func(c *Config) { c.Duration = 0 }, "--duration"},
		{func(c *Config) { c.Concurrency = []int{0} }, "--concurrency"},
		{func(c *Config) { c.Workloads = []string{"nope"} }, `unknown workload "nope"`},
		{func(c *Config) { c.DB = "mysql://x" }, "--db"},
	} {
		cfg := tinyConfig("sqlite:" + filepath.Join(t.TempDir(), "x.db"))
		c.edit(&cfg)
		if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v, want %q", err, c.want)
		}
	}
}

func TestParseConcurrency(t *testing.T) {
	got, err := ParseConcurrency(" 1, 8,,16")
	if err != nil || !slices.Equal(got, []int{1, 8, 16}) {
		t.Fatalf("got %v, %v", got, err)
	}
	for _, bad := range []string{"", "0", "x", "1,-2"} {
		if _, err := ParseConcurrency(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestPopulationIsCanonical(t *testing.T) {
	reg := schema.New()
	u, err := userRecord(reg, 42, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if u.UserName != userName(42) || u.ExternalID != externalID(42) || !u.Active || len(u.Emails) != 2 ||
		u.Emails[0] != (store.Email{Value: workEmail(42), Type: "work", Primary: true}) {
		t.Fatalf("record %+v", u)
	}
	if n := len(u.Doc); n < 800 || n > 1400 {
		t.Errorf("document is %d bytes, want about 1 KB: %s", n, u.Doc)
	}
	if got := groupSizes(200); !slices.Equal(got, []int{1, 10, 100, 200}) {
		t.Errorf("group sizes %v", got)
	}
}

func TestTotalResults(t *testing.T) {
	for body, want := range map[string]int{`{"totalResults":1,"x":2}`: 1, `{"a":1, "totalResults": 250}`: 250} {
		if n, ok := totalResults([]byte(body)); !ok || n != want {
			t.Errorf("%s: %d %v", body, n, ok)
		}
	}
	if _, ok := totalResults([]byte(`{"Resources":[]}`)); ok {
		t.Error("found totalResults where there is none")
	}
}

// TestCSVImportBench: the csv-import benchmark imports every row, then
// finds every row unchanged on the second upload, on both stores.
func TestCSVImportBench(t *testing.T) {
	dbs := map[string]func() string{
		"sqlite":   func() string { return "sqlite:" + filepath.Join(t.TempDir(), "csv.db") },
		"postgres": func() string { return pgBase(t) },
	}
	for name, db := range dbs {
		t.Run(name, func(t *testing.T) {
			rep, err := RunCSVImport(t.Context(), CSVConfig{DB: db(), Rows: []int{120}, NewHandler: newHandler, OpenStore: openStore})
			if err != nil {
				t.Fatal(err)
			}
			r := rep.Results[0]
			if r.Store != name || r.Created != 120 || r.ReimportNoops != 120 || r.RawRowsPerS <= 0 || r.TotalS <= 0 {
				t.Fatalf("result %+v", r)
			}
			var table bytes.Buffer
			if err := rep.WriteTable(&table); err != nil || !strings.Contains(table.String(), "raw rows/s") {
				t.Fatalf("table: %v\n%s", err, table.String())
			}
		})
	}
}

// TestCSVExportBench: the csv-export benchmark exports every loaded user
// with the scim profile over HTTP, on both stores.
func TestCSVExportBench(t *testing.T) {
	dbs := map[string]func() string{
		"sqlite":   func() string { return "sqlite:" + filepath.Join(t.TempDir(), "export.db") },
		"postgres": func() string { return pgBase(t) },
	}
	for name, db := range dbs {
		t.Run(name, func(t *testing.T) {
			rep, err := RunCSVExport(t.Context(), ExportConfig{DB: db(), Rows: []int{1500}, NewHandler: newHandler, OpenStore: openStore, Repeat: 3})
			if err != nil {
				t.Fatal(err)
			}
			r := rep.Results[0]
			if r.Store != name || r.Users != 1500 || r.Rows != 1500 || r.Bytes < 1500*100 || r.RowsPerS <= 0 || r.MBPerS <= 0 {
				t.Fatalf("result %+v", r)
			}
			if len(r.Runs) != 3 || !slices.IsSorted(r.Runs) || r.Runs[1] != r.RowsPerS {
				t.Fatalf("three runs, the median reported: %+v", r)
			}
			var table bytes.Buffer
			if err := rep.WriteTable(&table); err != nil || !strings.Contains(table.String(), "peak RSS MB") || !strings.Contains(table.String(), "median of 3 runs") {
				t.Fatalf("table: %v\n%s", err, table.String())
			}
		})
	}
}
