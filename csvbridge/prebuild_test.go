package csvbridge

import (
	"path/filepath"
	"testing"

	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/sqlite"
)

// TestCommitterPrebuildsCreates: a chunk read for a commit has its
// creations validated ahead (each create row's operation carries the
// result) and nothing else; the directory then applies them as it would
// have without (TestApplyPrebuilt in the directory holds that).
func TestCommitterPrebuildsCreates(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	dir := directory.New(st, schema.New())
	p := policy.Principal{Tenant: store.DefaultTenant, Subject: "ops", Kind: policy.KindProvisioner, Tier: policy.Tier1Operations}
	c := &committer{j: &Jobs{dir: dir}, p: p}
	planned := []Planned{
		{Number: 2, Action: PlanCreate, Create: map[string]any{"userName": "ann"}},
		{Number: 3, Action: PlanUpdate, ResourceID: "u1", Patch: []map[string]any{patchOp("replace", "title", "x")}},
		{Number: 4, Action: PlanError},
		{Number: 5, Action: PlanCreate, Create: map[string]any{"active": "perhaps"}},
	}
	c.prebuild(t.Context(), planned)
	for i, r := range planned {
		op, ok := r.Operation(dir.Registry().User)
		if want := r.Action == PlanCreate; (op.Prebuilt != nil) != want || (r.prebuilt != nil) != want || ok != (r.Action != PlanError) {
			t.Errorf("row %d (%s): prebuilt %v, operation %v", i, r.Action, op.Prebuilt, ok)
		}
	}
}
