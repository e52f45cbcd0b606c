package bench

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSoak: the soak mode runs its mix against a real server on both
// stores, without errors, and samples the resources it reports.
func TestSoak(t *testing.T) {
	dbs := map[string]func() string{
		"sqlite":   func() string { return "sqlite:" + filepath.Join(t.TempDir(), "soak.db") },
		"postgres": func() string { return pgBase(t) },
	}
	for name, db := range dbs {
		t.Run(name, func(t *testing.T) {
			rep, err := RunSoak(t.Context(), SoakConfig{DB: db(), Users: 300, Duration: 1500 * time.Millisecond,
				Interval: 500 * time.Millisecond, Concurrency: 2, NewHandler: newHandler, OpenStore: openStore})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Ops == 0 || rep.Errors != 0 || len(rep.Samples) < 2 {
				t.Fatalf("ops %d errors %d (%v) samples %d", rep.Ops, rep.Errors, rep.FirstErrors, len(rep.Samples))
			}
			s := rep.Samples[len(rep.Samples)-1]
			if s.RSSMB <= 0 || s.Goroutines <= 0 || s.OpenFDs <= 0 || (name == "postgres") != (s.DBConns > 0) {
				t.Fatalf("sample %+v", s)
			}
			var table bytes.Buffer
			if err := rep.WriteTable(&table); err != nil || !strings.Contains(table.String(), "goroutines") {
				t.Fatalf("table: %v\n%s", err, table.String())
			}
		})
	}
}
