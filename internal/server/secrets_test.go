package server_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/server"
	"github.com/scimbridge/scimbridge/internal/server/servertest"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/postgres"
	"github.com/scimbridge/scimbridge/internal/store/postgres/pgtest"
	"github.com/scimbridge/scimbridge/internal/store/sqlite"
)

// lockedBuffer collects log output from concurrent handlers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// secretStore is a store with a way to dump every row of every table as
// text.
type secretStore struct {
	st   store.Store
	dump func(t *testing.T) string
}

func secretStores() map[string]func(t *testing.T) secretStore {
	return map[string]func(t *testing.T) secretStore{
		"sqlite": func(t *testing.T) secretStore {
			path := filepath.Join(t.TempDir(), "secrets.db")
			st, err := sqlite.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return secretStore{st: st, dump: func(t *testing.T) string { return dumpSQLite(t, path) }}
		},
		"postgres": func(t *testing.T) secretStore {
			dsn := pgtest.DSN(t)
			st, err := postgres.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return secretStore{st: st, dump: func(t *testing.T) string { return dumpPostgres(t, dsn) }}
		},
	}
}

func dumpPostgres(t *testing.T, dsn string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, _ := conn.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`)
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) < 5 {
		t.Fatalf("tables %v: %v", tables, err)
	}
	var out strings.Builder
	for _, table := range tables {
		rows, _ := conn.Query(ctx, `SELECT t::text FROM `+pgx.Identifier{table}.Sanitize()+` t`)
		texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		out.WriteString(table + ": " + strings.Join(texts, "\n") + "\n")
	}
	return out.String()
}

func dumpSQLite(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tables := queryStrings(t, db, `SELECT name FROM sqlite_master WHERE type = 'table'`)
	if len(tables) < 5 {
		t.Fatalf("tables %v", tables)
	}
	var out strings.Builder
	for _, table := range tables {
		rows, err := db.Query(`SELECT * FROM "` + table + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				if b, ok := v.([]byte); ok {
					fmt.Fprintf(&out, "%s %x|", b, b)
					continue
				}
				fmt.Fprintf(&out, "%v|", v)
			}
			out.WriteString("\n")
		}
		rows.Close()
	}
	return out.String()
}

func queryStrings(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// TestSecrets_NeverStoredLoggedOrEchoed: provisioning secrets and OIDC
// tokens (people and scripts) are used for reads, writes, a Bulk, a CSV
// import and the audit log, and offered in broken forms (a secret with a
// character changed, a token with a forged signature, the wrong scheme, trailing text).
// Afterwards no secret, token or token signature appears in any table of
// the database, in the server's logs (at debug level) or in any answer,
// on both stores.
func TestSecrets_NeverStoredLoggedOrEchoed(t *testing.T) {
	for name, open := range secretStores() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ss := open(t)
			logs := &lockedBuffer{}
			e := servertest.NewWith(t, server.Deps{Store: ss.st, Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
			secrets := []string{e.Token, e.NewToken(t, store.DefaultTenant, "okta-prod", policy.Tier1Operations),
				e.IdP.Token(t, policy.KindPerson, policy.Tier2SoftwarePartner, "ada"),
				e.IdP.Token(t, policy.KindScript, policy.Tier1Operations, "nightly-export")}
			var answers strings.Builder
			record := func(r *servertest.Response) {
				fmt.Fprintf(&answers, "%d %v %s\n", r.Status, r.Header, r.Body)
			}
			for i, s := range secrets {
				auth := "Bearer " + s
				record(e.Do(t, "POST", "Users", fmt.Sprintf(`{"userName":"sec%d","emails":[{"value":"sec%d@example.com"}]}`, i, i), "Authorization", auth))
				record(e.Do(t, "GET", "Users?filter=userName%20sw%20%22sec%22", "", "Authorization", auth))
				record(e.Do(t, "GET", "Me", "", "Authorization", auth))
				record(e.Do(t, "POST", "Bulk", fmt.Sprintf(`{"Operations":[{"method":"POST","path":"/Users","data":{"userName":"bulk%d"}}]}`, i), "Authorization", auth))
				record(e.Do(t, "POST", "/csv/imports?profile=scim", fmt.Sprintf("userName\ncsv%d\n", i), "Authorization", auth, "Content-Type", "text/csv"))
				record(e.Do(t, "GET", "/audit/events", "", "Authorization", auth))
				for _, broken := range []string{"Bearer " + mutate(s), "Basic " + s, "Bearer " + s + " extra", "bearer " + s + "x"} {
					r := e.Do(t, "GET", "Users", "", "Authorization", broken)
					if r.Status != 401 {
						t.Errorf("%.20s...: status %d, want 401", broken, r.Status)
					}
					record(r)
				}
			}
			places := map[string]string{"database": ss.dump(t), "logs": logs.String(), "answers": answers.String()}
			for where, text := range places {
				for _, s := range secrets {
					for _, needle := range needles(s) {
						if strings.Contains(text, needle) {
							t.Errorf("a secret (%.8s...) appears in the %s", needle, where)
						}
					}
				}
			}
			if !strings.Contains(places["logs"], `"status":401`) || !strings.Contains(places["database"], "sec0") {
				t.Fatal("the scan saw no requests or no rows: it would prove nothing")
			}
		})
	}
}

// mutate changes one character in the middle of s.
func mutate(s string) string {
	b := []byte(s)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// needles are the forms in which s must not appear: itself, its broken
// variant, hex, and for a JWT its signature alone.
func needles(s string) []string {
	out := []string{s, mutate(s), hex.EncodeToString([]byte(s))}
	if parts := strings.Split(s, "."); len(parts) == 3 {
		out = append(out, parts[2])
	}
	return out
}
