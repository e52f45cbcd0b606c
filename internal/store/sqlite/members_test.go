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
	rows, err := s.r.Query(`EXPLAIN QUERY PLAN `+ancestorsQuery, "group", "default")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	text := strings.Join(plan, "\n")
	if !strings.Contains(text, "SEARCH m USING INDEX group_members_member (tenant_id=? AND member_id=?)") {
		t.Fatalf("ancestor walk does not search group_members by member id:\n%s", text)
	}
}
