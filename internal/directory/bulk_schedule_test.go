package directory_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/store"
)

// TestBulkScheduleWaitingRunsFirst: an operation waiting for a bulkId
// runs as soon as it is defined, before the operations after the
// definition (observable through uniqueness: the renamed user takes the
// name the later POST wants).
func TestBulkScheduleWaitingRunsFirst(t *testing.T) {
	forEachStore(t, nil, func(t *testing.T, s *directory.Service, _ store.Store) {
		ops := []directory.BulkOp{
			{Method: "PUT", Path: "/Users/bulkId:b", Data: map[string]any{"userName": "taken"}},
			{Method: "POST", Path: "/Users", BulkID: "b", Data: map[string]any{"userName": "b"}},
			{Method: "POST", Path: "/Groups", BulkID: "g", Data: map[string]any{"displayName": "g"}},
			{Method: "POST", Path: "/Users", BulkID: "c", Data: map[string]any{"userName": "taken"}},
		}
		res, err := s.Bulk(context.Background(), admin, directory.BulkRequest{Operations: ops})
		if err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprint(res[0].Status, res[1].Status, res[2].Status, res[3].Status)
		if want := fmt.Sprint(http.StatusOK, http.StatusCreated, http.StatusCreated, http.StatusConflict); got != want {
			t.Fatalf("statuses %s, want %s", got, want)
		}
	})
}

// TestBulkScheduleLongForwardChain: every operation refers to the one
// after it; all run, each once its reference is settled.
func TestBulkScheduleLongForwardChain(t *testing.T) {
	forEachStore(t, nil, func(t *testing.T, s *directory.Service, _ store.Store) {
		const n = 300
		ops := make([]directory.BulkOp, n)
		for i := range ops {
			data := map[string]any{"displayName": fmt.Sprint("g", i)}
			if i < n-1 {
				data["members"] = []any{map[string]any{"value": fmt.Sprint("bulkId:g", i+1)}}
			}
			ops[i] = directory.BulkOp{Method: "POST", Path: "/Groups", BulkID: fmt.Sprint("g", i), Data: data}
		}
		res, err := s.Bulk(context.Background(), admin, directory.BulkRequest{Operations: ops})
		if err != nil || len(res) != n {
			t.Fatalf("%d results, %v", len(res), err)
		}
		for i, r := range res {
			if r.Status != http.StatusCreated {
				t.Fatalf("operation %d: %d %v", i, r.Status, r.Err)
			}
		}
	})
}
