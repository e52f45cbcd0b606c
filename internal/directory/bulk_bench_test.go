package directory_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store/sqlite"
)

// schedulingOps is n operations that exercise the bulk scheduler without
// reaching SQL: pairs of a DELETE referring forward to a POST (which waits
// for it) and that POST, whose body fails validation; every fourth pair
// is a PATCH referring back instead.
func schedulingOps(n int) []directory.BulkOp {
	ops := make([]directory.BulkOp, 0, n)
	for i := 0; len(ops) < n; i++ {
		b := fmt.Sprintf("u%d", i)
		ref := directory.BulkOp{Method: "DELETE", Path: "/Users/bulkId:" + b}
		post := directory.BulkOp{Method: "POST", Path: "/Users", BulkID: b, Data: map[string]any{"displayName": "no userName"}}
		if i%4 == 3 {
			ops = append(ops, post, directory.BulkOp{Method: "PATCH", Path: "/Users/bulkId:" + b, Data: map[string]any{}})
			continue
		}
		ops = append(ops, ref, post)
	}
	return ops[:n]
}

// BenchmarkBulkSchedule measures the scheduling of a large bulk run
// (ordering, forward references, batches), not the store.
func BenchmarkBulkSchedule(b *testing.B) {
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "scim.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	s := directory.New(st, schema.New())
	for _, n := range []int{10_000, 100_000} {
		ops := schedulingOps(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				res, err := s.Bulk(context.Background(), admin, directory.BulkRequest{Operations: ops})
				if err != nil || len(res) != n {
					b.Fatalf("%d results, %v", len(res), err)
				}
			}
		})
	}
}
