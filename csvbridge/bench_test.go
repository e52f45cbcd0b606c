package csvbridge

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"testing"
)

// scimFile generates a scim-profile file of n rows on the fly, so the
// benchmark measures the layer, not a 10 MB input held in memory.
type scimFile struct {
	n, i int
	buf  []byte
}

const scimBenchHeader = `userName,name.givenName,name.familyName,emails[type eq "work"].value,externalId,active,title,` +
	enterprise + "department,urn:scimbridge:params:scim:schemas:extension:support:2.0:User:tier\r\n"

func newSCIMFile(n int) *scimFile { return &scimFile{n: n, i: -1} }

func (g *scimFile) Read(p []byte) (int, error) {
	for len(g.buf) < len(p) && g.i < g.n {
		g.row()
	}
	if len(g.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, g.buf)
	g.buf = g.buf[:copy(g.buf, g.buf[n:])]
	return n, nil
}

func (g *scimFile) row() {
	defer func() { g.i++ }()
	if g.i < 0 {
		g.buf = append(g.buf, scimBenchHeader...)
		return
	}
	if g.i >= g.n {
		return
	}
	id := strconv.Itoa(100000 + g.i)
	g.buf = fmt.Appendf(g.buf, "user%s,Given%s,Family,user%s@example.com,ext-%s,true,Engineer,Dept %d,support-tier-%d-%s\r\n",
		id, id, id, id, g.i%50, g.i%2, [...]string{"help-desk", "operations"}[g.i%2])
}

// BenchmarkReadMapValidate reads, maps and validates a generated
// scim-profile file; it reports ns/row, allocations per row and the peak
// live heap sampled while reading.
func BenchmarkReadMapValidate(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(strconv.Itoa(n)+"rows", func(b *testing.B) {
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			mallocs, peak := ms.Mallocs, uint64(0)
			b.ReportAllocs()
			for b.Loop() {
				peak = max(peak, importGenerated(b, n))
			}
			runtime.ReadMemStats(&ms)
			rows := float64(b.N * n)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/rows, "ns/row")
			b.ReportMetric(float64(ms.Mallocs-mallocs)/rows, "allocs/row")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}

// importGenerated imports n generated rows and returns the highest live
// heap seen.
func importGenerated(b *testing.B, n int) uint64 {
	im, err := Open(newSCIMFile(n), SCIMProfile(), registry, Limits{})
	if err != nil {
		b.Fatal(err)
	}
	var ms runtime.MemStats
	peak, count := uint64(0), 0
	for {
		row, err := im.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil || !row.OK() {
			b.Fatalf("row %d: %v %+v", row.Number, err, row.Issues)
		}
		if count++; count%5000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	}
	if count != n {
		b.Fatalf("%d rows, want %d", count, n)
	}
	return peak
}
