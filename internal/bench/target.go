package bench

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/scimbridge/scimbridge/internal/store/postgres"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, for the marker and the version
)

// markerTable is created in every SQLite file a run makes, so that a later
// run deletes only files that a benchmark made.
const markerTable = "scimbridge_bench"

// target is the fresh store of one run.
type target struct {
	kind string // "sqlite" or "postgres"
	dsn  string // what the server and the direct store open
	// loadDSN is what the population loader opens: on PostgreSQL a
	// connection per loader worker, whose sessions commit without waiting
	// for the WAL flush (faster; what is stored is the same).
	loadDSN string
	version string // the database's own version string
	cleanup func(log io.Writer)
}

// analyze refreshes the planner statistics after loading, as autovacuum
// (PostgreSQL) or PRAGMA optimize (SQLite) does in a running deployment:
// a freshly bulk-loaded table without statistics would measure plans no
// steady-state server runs.
func (t *target) analyze(ctx context.Context) error {
	if t.kind == "postgres" {
		return withConn(ctx, t.dsn, func(conn *pgx.Conn) error {
			if _, err := conn.Exec(ctx, `VACUUM ANALYZE`); err != nil {
				return err
			}
			// the load's WAL is flushed now rather than by a checkpoint
			// in the middle of the measurement
			_, err := conn.Exec(ctx, `CHECKPOINT`)
			return err
		})
	}
	db, err := sql.Open("sqlite", "file:"+strings.TrimPrefix(t.dsn, "sqlite:"))
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, `ANALYZE`)
	return err
}

// prepareTarget creates the fresh store that db names.
func prepareTarget(ctx context.Context, db string) (*target, error) {
	switch {
	case strings.HasPrefix(db, "postgres://"), strings.HasPrefix(db, "postgresql://"):
		return preparePostgres(ctx, db)
	case db == "sqlite", strings.HasPrefix(db, "sqlite:"):
		return prepareSQLite(ctx, strings.TrimPrefix(strings.TrimPrefix(db, "sqlite"), ":"))
	}
	return nil, fmt.Errorf("--db: use sqlite:PATH, sqlite: (a temporary file) or postgres://user@host/db")
}

func prepareSQLite(ctx context.Context, path string) (*target, error) {
	t := &target{kind: "sqlite", cleanup: func(io.Writer) {}}
	if path == "" {
		dir, err := os.MkdirTemp("", "scimbridge-bench-")
		if err != nil {
			return nil, err
		}
		path = filepath.Join(dir, "bench.db")
		t.cleanup = func(io.Writer) { os.RemoveAll(dir) }
	} else if err := removeBenchFile(ctx, path); err != nil {
		return nil, err
	}
	version, err := markSQLite(ctx, path)
	if err != nil {
		t.cleanup(nil)
		return nil, err
	}
	t.dsn, t.loadDSN, t.version = "sqlite:"+path, "sqlite:"+path, version
	return t, nil
}

// removeBenchFile deletes path and its WAL files, but only when a previous
// benchmark made it: a real directory passed by mistake is never deleted.
func removeBenchFile(ctx context.Context, path string) error {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if info.Size() > 0 {
		ok, err := hasMarker(ctx, path)
		if err != nil || !ok {
			return fmt.Errorf("refusing to delete %s: it was not made by scimbridge bench (delete it yourself or choose another path)", path)
		}
	}
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

func hasMarker(ctx context.Context, path string) (bool, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return false, err
	}
	defer db.Close()
	var n int
	err = db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, markerTable).Scan(&n)
	return n == 1, err
}

// markSQLite creates the file with its marker table and returns SQLite's
// version.
func markSQLite(ctx context.Context, path string) (string, error) {
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		return "", err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TABLE `+markerTable+` (created TEXT NOT NULL)`); err != nil {
		return "", fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO `+markerTable+` VALUES (?)`, time.Now().UTC().Format(time.RFC3339)); err != nil {
		return "", fmt.Errorf("mark %s: %w", path, err)
	}
	var version string
	err = db.QueryRowContext(ctx, `SELECT sqlite_version()`).Scan(&version)
	return "SQLite " + version, err
}

// preparePostgres creates a schema bench_<random> and returns DSNs whose
// search_path selects it; cleanup drops it.
func preparePostgres(ctx context.Context, dsn string) (*target, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, fmt.Errorf("--db: %w", err)
	}
	schema := "bench_" + randomHex(6)
	ident := pgx.Identifier{schema}.Sanitize()
	var version string
	err = withConn(ctx, dsn, func(conn *pgx.Conn) error {
		if err := conn.QueryRow(ctx, `SELECT version()`).Scan(&version); err != nil {
			return err
		}
		_, err := conn.Exec(ctx, `CREATE SCHEMA `+ident)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: create schema %s: %w", schema, err)
	}
	return &target{kind: "postgres", version: version,
		dsn:     withParams(*u, "search_path", schema),
		loadDSN: withParams(*u, "search_path", schema, "synchronous_commit", "off", "pool_max_conns", strconv.Itoa(loaderWorkers())),
		cleanup: func(log io.Writer) { dropSchema(dsn, ident, log) }}, nil
}

// withParams returns u with the given query parameters (name, value pairs)
// set.
func withParams(u url.URL, kv ...string) string {
	q := u.Query()
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func dropSchema(dsn, ident string, log io.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := withConn(ctx, dsn, func(conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+ident+` CASCADE`)
		return err
	})
	if err != nil && log != nil {
		fmt.Fprintf(log, "bench: could not drop schema %s: %v\n", ident, err)
	}
}

// withConn runs fn on a short-lived connection to dsn (pool settings such
// as pool_max_conns and pool_acquire_timeout, which the store's pool reads,
// are left out).
func withConn(ctx context.Context, dsn string, fn func(*pgx.Conn) error) error {
	cfg, _, err := postgres.ParseConfig(dsn)
	if err != nil {
		return err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return fn(conn)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
