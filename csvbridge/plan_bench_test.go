package csvbridge_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/csvbridge"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/server/servertest"
)

// benchBatch is the number of rows planned (and committed) together, as
// the job runner feeds them.
const benchBatch = 1000

// benchRows is the file size: 100,000 rows, or SCIMBRIDGE_BENCH_ROWS.
func benchRows(b *testing.B) int {
	if s := os.Getenv("SCIMBRIDGE_BENCH_ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("SCIMBRIDGE_BENCH_ROWS=%q", s)
		}
		return n
	}
	return 100_000
}

// scimBenchFile is a scim-profile file of n users.
func scimBenchFile(n int) []byte {
	var buf bytes.Buffer
	buf.WriteString(`userName,name.givenName,name.familyName,emails[type eq "work"].value,active,title,` + enterpriseURN + "department\r\n")
	for i := range n {
		fmt.Fprintf(&buf, "user%d,Given%d,Family,user%d@example.com,true,Engineer,Dept %d\r\n", i, i, i, i%50)
	}
	return buf.Bytes()
}

// BenchmarkPlanFile reads, validates and previews (planner and dry run) a
// generated 100,000-row scim-profile file in batches of 1,000, against an
// empty store (every row a create) and against a store holding those
// same users (every row unchanged), on PostgreSQL and SQLite. The
// "unchanged" setup imports the file (plan + Commit) and reports that as
// import-s. Run it with -benchtime=1x:
//
//	go test -run '^$' -bench PlanFile -benchtime=1x ./csvbridge/
func BenchmarkPlanFile(b *testing.B) {
	n := benchRows(b)
	file := scimBenchFile(n)
	for _, backend := range []string{"postgres", "sqlite"} {
		b.Run(backend+"/empty", func(b *testing.B) {
			dir := directory.New(servertest.Stores()[backend](b), schema.New())
			for b.Loop() {
				previewFile(b, dir, file, csvbridge.PlanCreate, false)
			}
			reportRows(b, n)
		})
		b.Run(backend+"/unchanged", func(b *testing.B) {
			dir := directory.New(servertest.Stores()[backend](b), schema.New())
			start := time.Now()
			previewFile(b, dir, file, csvbridge.PlanCreate, true)
			imported := time.Since(start)
			for b.Loop() {
				previewFile(b, dir, file, csvbridge.PlanUnchanged, false)
			}
			reportRows(b, n)
			b.ReportMetric(imported.Seconds(), "import-s")
		})
	}
}

func reportRows(b *testing.B, n int) {
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/file")
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "rows/s")
}

// previewFile plans the whole file batch by batch, checking every row
// gets the action want; with commit it commits each batch too.
func previewFile(b *testing.B, dir *directory.Service, file []byte, want csvbridge.Action, commit bool) {
	ctx := context.Background()
	im, err := csvbridge.Open(bytes.NewReader(file), csvbridge.SCIMProfile(), dir.Registry(), csvbridge.Limits{})
	if err != nil {
		b.Fatal(err)
	}
	pl := csvbridge.NewPlanner(dir, admin, im.Mapping())
	rows := make([]csvbridge.Row, 0, benchBatch)
	var peak uint64
	flush := func() {
		planned, err := pl.Plan(ctx, rows)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range planned {
			if r.Action != want {
				b.Fatalf("row %d: %s %+v, want %s", r.Number, r.Action, r.Issues, want)
			}
		}
		if commit {
			err := csvbridge.Commit(ctx, dir, admin, dir.Registry().User, planned, func(i int, o csvbridge.Outcome) {
				if o.Status != csvbridge.StatusSucceeded {
					b.Fatalf("row %d: %+v", planned[i].Number, o)
				}
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc)
		rows = rows[:0]
	}
	for {
		r, err := im.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		if rows = append(rows, r); len(rows) == benchBatch {
			flush()
		}
	}
	if len(rows) > 0 {
		flush()
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}
