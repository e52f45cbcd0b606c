package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Report is the outcome of a run; its JSON form is read by scripts, so its
// shape is fixed.
type Report struct {
	Machine Machine  `json:"machine"`
	Results []Result `json:"results"`
}

// Machine describes where a run happened.
type Machine struct {
	CPUModel     string `json:"cpu_model"`
	Cores        int    `json:"cores"`
	GoVersion    string `json:"go_version"`
	Store        string `json:"store"`
	StoreVersion string `json:"store_version"`
	OS           string `json:"os"`
}

// Result is one workload at one concurrency. Rates and latencies count
// successful operations only; Errors counts the rest (non-2xx answers,
// wrong results, transport errors). PeakRSSMB is the whole process's peak
// resident set (server and clients share it) during the workload.
// CeilingOpsPerS and Ratio are 0 where no raw ceiling applies.
type Result struct {
	Workload       string  `json:"workload"`
	Store          string  `json:"store"`
	Concurrency    int     `json:"concurrency"`
	OpsPerS        float64 `json:"ops_per_s"`
	P50MS          float64 `json:"p50_ms"`
	P99MS          float64 `json:"p99_ms"`
	PeakRSSMB      float64 `json:"peak_rss_mb"`
	CeilingOpsPerS float64 `json:"ceiling_ops_per_s"`
	Ratio          float64 `json:"ratio"`
	Errors         int64   `json:"errors"`
}

const tableFormat = "%-18s %-8s %11s %10s %8s %8s %8s %12s %14s %6s\n"

// WriteTable prints the machine and the results as a table.
func (r *Report) WriteTable(w io.Writer) error {
	m := r.Machine
	var b strings.Builder
	fmt.Fprintf(&b, "# %s, %d cores, %s, %s, %s\n", m.CPUModel, m.Cores, m.GoVersion, m.OS, m.StoreVersion)
	fmt.Fprintf(&b, tableFormat, "workload", "store", "concurrency", "ops/s", "p50 ms", "p99 ms", "errors", "peak RSS MB", "ceiling ops/s", "ratio")
	for _, x := range r.Results {
		ceil, ratio := "-", "-"
		if x.CeilingOpsPerS > 0 {
			ceil, ratio = num(x.CeilingOpsPerS, 0), num(x.Ratio, 2)
		}
		fmt.Fprintf(&b, tableFormat, x.Workload, x.Store, strconv.Itoa(x.Concurrency), num(x.OpsPerS, 0),
			num(x.P50MS, 2), num(x.P99MS, 2), strconv.FormatInt(x.Errors, 10), num(x.PeakRSSMB, 0), ceil, ratio)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func num(x float64, digits int) string { return strconv.FormatFloat(x, 'f', digits, 64) }

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteJSONFile writes the report as JSON to path.
func (r *Report) WriteJSONFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := r.WriteJSON(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
