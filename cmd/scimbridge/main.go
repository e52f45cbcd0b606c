// Command scimbridge is the SCIM 2.0 provisioning server and its admin
// tools. Subcommands:
//
//	scimbridge serve   [--addr 127.0.0.1:8080] [--db sqlite:PATH | postgres://...]
//	                   [--csv-max-bytes 67108864] [--csv-max-rows 200000]
//	                   [--csv-lease 30s] [--csv-retention 720h] [--csv-worker=false]
//	                   [--smtp-url smtp://HOST:PORT] [--smtp-from ADDR]
//	scimbridge migrate [--db DSN]
//	scimbridge token create --tenant T --name N --tier TIER [--db DSN]
//	scimbridge token list [--tenant T] [--db DSN]
//	scimbridge token revoke [--tenant T] [--db DSN] ID
//	scimbridge tenant create [--db DSN] NAME
//	scimbridge import --server URL --token T --profile NAME [--dry-run] [--yes] FILE.csv
//	scimbridge settings get|set|outbox --server URL --token T [--file F.json] [--merge]
//
// Flags may also come from the environment: SCIMBRIDGE_ADDR, SCIMBRIDGE_DB,
// SCIMBRIDGE_BASE_URL, SCIMBRIDGE_LOG_FORMAT, SCIMBRIDGE_CURSOR_KEY, and for
// the CSV bridge's import jobs SCIMBRIDGE_CSV_MAX_BYTES (the upload cap),
// SCIMBRIDGE_CSV_MAX_ROWS, SCIMBRIDGE_CSV_LEASE (how long a crashed
// replica's import stays claimed before another replica takes it over),
// SCIMBRIDGE_CSV_RETENTION (how long jobs keep their upload and rows) and
// SCIMBRIDGE_CSV_WORKER (false: this replica serves HTTP only and runs no
// import worker). A flag on the command line wins over its variable.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `scimbridge: a SCIM 2.0 provisioning server.

Usage:
  scimbridge serve   [--addr 127.0.0.1:8080] [--db sqlite:PATH | postgres://...]
                     [--csv-max-bytes 67108864] [--csv-max-rows 200000]
                     [--csv-lease 30s] [--csv-retention 720h] [--csv-worker=false]
                     [--smtp-url smtp://HOST:PORT] [--smtp-from ADDR]
  scimbridge migrate [--db DSN]
  scimbridge token create --tenant T --name N --tier TIER [--db DSN]
  scimbridge token list [--tenant T] [--db DSN]
  scimbridge token revoke [--tenant T] [--db DSN] ID
  scimbridge tenant create [--db DSN] NAME
  scimbridge import  --server URL --token T [--profile scim] [--dry-run] [--yes] FILE.csv
  scimbridge export  --server URL --token T [--preset active|tier=N|created-since=DATE|...]
                     [--filter F] [--profile P] [--attributes A,B] [--groups [--member-rows]] [--plain] [-o FILE]
  scimbridge action  --server URL --token T --filter F|--preset P
                     --add-role R|--remove-role R|--add-group G|--remove-group G|--deactivate|--reactivate [--yes]
  scimbridge settings get    --server URL --token T
  scimbridge settings set    --server URL --token T [--file F.json|-] [--merge] [--if-match N]
  scimbridge settings outbox --server URL --token T [--state pending|sent|failed] [--limit N]
  scimbridge bench   [--db sqlite:PATH | postgres://...] [--users N] [--duration D]
                     [--concurrency 1,8] [--quick] [--json FILE] [--cpuprofile FILE]
  scimbridge bench csv-import [--db ...] [--rows 10000,100000] [--json FILE]
  scimbridge bench csv-export [--db ...] [--rows 1000000] [--json FILE]
  scimbridge bench soak [--db ...] [--users 10000] [--duration 3m] [--interval 15s] [--concurrency 8] [--json FILE]

The default store is the SQLite file ./scimbridge.db.
CSV imports: --csv-max-bytes and --csv-max-rows cap an upload; --csv-lease is how
long a crashed replica's import stays claimed before another takes it over;
--csv-retention is how long jobs keep their upload and rows; --csv-worker=false
serves HTTP only (another replica runs the imports). --smtp-url delivers the
outbox (account messages) over SMTP. "scimbridge serve -h" lists
every flag and its environment variable.
Tiers: support-tier-0-help-desk, support-tier-1-operations,
       support-tier-2-software-partner, support-tier-3-engineering.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "scimbridge:", err)
		}
		var ee *exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		os.Exit(2)
	}
}

// run dispatches a subcommand; tests call it directly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("a subcommand is required")
	}
	switch args[0] {
	case "serve":
		return cmdServe(ctx, args[1:], stderr)
	case "migrate":
		return cmdMigrate(ctx, args[1:], stdout, stderr)
	case "token":
		return cmdToken(ctx, args[1:], stdout, stderr)
	case "tenant":
		return cmdTenant(ctx, args[1:], stdout, stderr)
	case "bench":
		return cmdBench(ctx, args[1:], stdout, stderr)
	case "import":
		return cmdImport(ctx, args[1:], stdout, stderr)
	case "export":
		return cmdExport(ctx, args[1:], stdout, stderr)
	case "action":
		return cmdAction(ctx, args[1:], stdout, stderr)
	case "settings":
		return cmdSettings(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown subcommand %q", args[0])
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// newFlags makes a flag set that reports errors instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", envOr("SCIMBRIDGE_DB", defaultDB), "store: sqlite:PATH or postgres://... (env SCIMBRIDGE_DB)")
}
