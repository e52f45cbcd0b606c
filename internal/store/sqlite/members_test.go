package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestAncestorWalkUsesMemberIndex checks the plan of the nested-group
// cycle check on an unanalysed database (the store never runs ANALYZE):
// each step must search group_members by (tenant_id, member_id), never scan
// the tenant's member rows. Without the CROSS JOIN SQLite puts
// group_members in the outer loop and a nested add costs a full scan per
// ancestor step.
func TestAncestorWalkUsesMemberIndex(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	text := queryPlan(t, s, ancestorsQuery, []any{"group", "default"})
	if !strings.Contains(text, "SEARCH m USING INDEX group_members_member (tenant_id=? AND member_id=?)") {
		t.Fatalf("ancestor walk does not search group_members by member id:\n%s", text)
	}
}
