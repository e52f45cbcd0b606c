package csvbridge_test

import (
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/csvbridge"
	"github.com/scimbridge/scimbridge/internal/server/servertest"
	"github.com/scimbridge/scimbridge/internal/store"
)

// BenchmarkJobImport runs whole import jobs at the Go level (upload,
// preview stored per row, commit in chunks, counts from the stored rows)
// on each store: the job service's share of `scimbridge bench
// csv-import`, without HTTP. Rows: SCIMBRIDGE_BENCH_ROWS (default
// 100,000). Run with -benchtime=1x, and -cpuprofile to see where a commit
// spends its time.
func BenchmarkJobImport(b *testing.B) {
	n := benchRows(b)
	file := string(scimBenchFile(n))
	for _, backend := range []string{"postgres", "sqlite"} {
		b.Run(backend, func(b *testing.B) {
			for range b.N {
				e := newJobEnv(b, servertest.Stores()[backend](b), csvbridge.WithChunk(csvbridge.DefaultChunk))
				start := time.Now()
				v := e.submit(b, csvbridge.ProfileSCIM, file)
				preview := time.Since(start)
				v = e.commit(b, v.ID)
				if v.State != store.JobCompleted || v.Counts["create"] != n {
					b.Fatalf("import: %s %v", v.State, v.Counts)
				}
				b.ReportMetric(preview.Seconds(), "preview-s")
				b.ReportMetric(time.Since(start).Seconds()-preview.Seconds(), "commit-s")

				// The same users again, each with one attribute changed.
				changed := strings.ReplaceAll(file, ",Engineer,", ",Manager,")
				start = time.Now()
				v = e.submit(b, csvbridge.ProfileSCIM, changed)
				preview = time.Since(start)
				v = e.commit(b, v.ID)
				if v.State != store.JobCompleted || v.Counts["update"] != n {
					b.Fatalf("update import: %s %v", v.State, v.Counts)
				}
				b.ReportMetric(preview.Seconds(), "update-preview-s")
				b.ReportMetric(time.Since(start).Seconds()-preview.Seconds(), "update-commit-s")
			}
		})
	}
}
