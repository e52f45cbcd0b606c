package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/postgres/pgtest"
	"github.com/scimbridge/scimbridge/internal/store/storetest"
)

// benchGroupSizes are the member counts ModifyGroup benchmarks run at:
// adding a member must cost the same whatever the group's size.
var benchGroupSizes = []int{1000, 10000, 100000}

// BenchmarkModifyGroupAddMember adds one new member per iteration through
// ModifyGroup to a group of 1,000, 10,000 and 100,000 user members that is
// itself nested three levels deep: add=user adds a user, add=group a group
// (which also runs the cycle check). ns/op should be flat across sizes:
// ModifyGroup never reads member rows. It also reports the 50th and 99th
// percentile of the per-call latency.
func BenchmarkModifyGroupAddMember(b *testing.B) {
	ctx := context.Background()
	dsn := pgtest.DSN(b)
	st, conn := storeAndConn(b, dsn)

	groups := make(map[int]string, len(benchGroupSizes))
	for _, size := range benchGroupSizes {
		groups[size] = seedBigGroup(b, conn, size)
	}
	benchExec(b, conn, `ANALYZE`)

	for _, size := range benchGroupSizes {
		for _, kind := range []string{"user", "group"} {
			b.Run(fmt.Sprintf("members=%d/add=%s", size, kind), func(b *testing.B) {
				// Pre-create one fresh user or group per iteration, outside the timer.
				prefix := fmt.Sprintf("new-%d-%d-", size, time.Now().UnixNano())
				if kind == "user" {
					benchExec(b, conn, `INSERT INTO users (tenant_id, id, user_name, user_name_norm, active, created, last_modified, version, doc)
						SELECT 'default', $1 || i, $1 || i, $1 || i, true, now(), now(), 1, '{}' FROM generate_series(1, $2::int) i`,
						prefix, b.N)
				} else {
					benchExec(b, conn, `INSERT INTO groups (tenant_id, id, display_name, display_name_norm, created, last_modified, version, doc)
						SELECT 'default', $1 || i, $1 || i, $1 || i, now(), now(), 1, '{}' FROM generate_series(1, $2::int) i`,
						prefix, b.N)
				}
				gid := groups[size]
				lat := make([]time.Duration, 0, b.N)
				b.ResetTimer()
				for i := range b.N {
					start := time.Now()
					_, err := st.ModifyGroup(ctx, store.DefaultTenant, gid,
						store.MemberPatch{Add: []store.Member{{ID: fmt.Sprintf("%s%d", prefix, i+1)}}},
						func(g *store.Group, _ bool) error { g.LastModified = start; return nil })
					lat = append(lat, time.Since(start))
					if err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				reportPercentiles(b, lat)
				var n int
				if err := conn.QueryRow(ctx, `SELECT count(*) FROM group_members WHERE tenant_id = 'default' AND group_id = $1 AND member_id LIKE $2 || '%'`,
					gid, prefix).Scan(&n); err != nil || n != b.N {
					b.Fatalf("%d new member rows after %d adds (%v)", n, b.N, err)
				}
			})
		}
	}
}

// seedBigGroup creates, with SQL, a group of size user members inside a
// chain of three parent groups, and returns its id.
func seedBigGroup(b *testing.B, conn *pgx.Conn, size int) string {
	b.Helper()
	gid := fmt.Sprintf("group-%d", size)
	prefix := fmt.Sprintf("member-%d-", size)
	benchExec(b, conn, `INSERT INTO users (tenant_id, id, user_name, user_name_norm, display_name, active, created, last_modified, version, doc)
		SELECT 'default', $1 || i, $1 || i, $1 || i, 'Member ' || i, true, now(), now(), 1, '{}' FROM generate_series(1, $2::int) i`,
		prefix, size)
	benchExec(b, conn, `INSERT INTO groups (tenant_id, id, display_name, display_name_norm, created, last_modified, version, doc)
		SELECT 'default', $1 || s, $1 || s, $1 || s, now(), now(), 1, '{}' FROM unnest(array['', '-p1', '-p2', '-p3']) s`, gid)
	benchExec(b, conn, `INSERT INTO group_members (tenant_id, group_id, member_id, member_type, display)
		VALUES ('default', $1 || '-p1', $1, 'Group', $1), ('default', $1 || '-p2', $1 || '-p1', 'Group', ''), ('default', $1 || '-p3', $1 || '-p2', 'Group', '')`, gid)
	benchExec(b, conn, `INSERT INTO group_members (tenant_id, group_id, member_id, member_type, display)
		SELECT 'default', $1, $2 || i, 'User', 'Member ' || i FROM generate_series(1, $3::int) i`, gid, prefix, size)
	return gid
}

func benchExec(b *testing.B, conn *pgx.Conn, sql string, args ...any) {
	b.Helper()
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		b.Fatalf("%s: %v", sql, err)
	}
}

// reportPercentiles adds the median and 99th percentile latency to the
// benchmark's output.
func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	at := func(p float64) float64 { return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Nanoseconds()) }
	b.ReportMetric(at(0.50), "p50-ns")
	b.ReportMetric(at(0.99), "p99-ns")
}

// BenchmarkInsertJobRows inserts the 100,000 planned rows of one CSV job
// (about 300 bytes of Data each) in one InsertJobRows call.
func BenchmarkInsertJobRows(b *testing.B) {
	storetest.BenchInsertJobRows(b, pgtest.Open(b), storetest.BenchJobRows(100_000))
}
