// Package bench is scimbridge's benchmark harness, behind `scimbridge bench`.
//
// A run creates a fresh store (a new SQLite file, or a new PostgreSQL schema
// that is dropped at the end), starts the real server in-process on a
// loopback port, loads a generated population of realistic users and groups
// straight through the store, creates a real provisioning secret, and then
// drives every workload over real HTTP for a fixed duration at each
// concurrency level. Where a raw store operation bounds a workload (an
// indexed point lookup behind GET by id, say), that ceiling is measured the
// same way (same duration and concurrency, straight through the store) in
// the same run, before the workloads, and reported with the ratio to it, so
// a figure says how close to the machine's limit the server is, on any
// machine.
//
// Non-2xx answers and wrong results count as errors, never as operations:
// ops/s, p50 and p99 are of successful operations only.
//
// Adding a workload is one entry in the workloads table (workloads.go).
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/internal/auth"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/store"
)

// HandlerFunc builds the server's complete HTTP handler over the store that
// dsn names, as `scimbridge serve` does, and returns a function that
// releases it.
type HandlerFunc func(ctx context.Context, dsn string) (http.Handler, func(), error)

// StoreFunc opens (and migrates) the store that dsn names.
type StoreFunc func(ctx context.Context, dsn string) (store.Store, error)

// Config is one benchmark run.
type Config struct {
	// DB is "sqlite:PATH" (PATH is deleted first if a previous run made
	// it; "sqlite:" alone uses a temporary file) or a postgres:// URL (a
	// fresh schema is created in that database and dropped at the end).
	DB string
	// Users is the size of the generated population.
	Users int
	// Duration is how long each workload runs at each concurrency level.
	Duration time.Duration
	// Concurrency lists the numbers of concurrent clients, e.g. 1 and 8.
	Concurrency []int
	// Workloads names the workloads to run; empty means all of them.
	Workloads []string
	// CPUProfile, when set, receives a pprof CPU profile of the workloads
	// (not of the population load or the raw ceilings).
	CPUProfile string
	// NewHandler builds the server; OpenStore opens the store directly,
	// for the population load and the raw ceilings.
	NewHandler HandlerFunc
	OpenStore  StoreFunc
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// Defaults of `scimbridge bench`, and of --quick.
const (
	DefaultUsers    = 100_000
	DefaultDuration = 10 * time.Second
	QuickUsers      = 5_000
	QuickDuration   = 2 * time.Second
)

const (
	// The credential the workloads authenticate with.
	benchCredentialName = "bench"
	benchCredentialTier = policy.Tier3Engineering
	// maxBodyPreviewLength bounds response bodies quoted in error messages.
	maxBodyPreviewLength = 200
)

// Run executes the benchmark described by cfg and returns its report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	selected, err := cfg.check()
	if err != nil {
		return nil, err
	}
	target, err := prepareTarget(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	defer target.cleanup(cfg.Log)
	e, closeEnv, err := startEnv(ctx, cfg, target)
	if err != nil {
		return nil, err
	}
	defer closeEnv()
	results, err := runWorkloads(ctx, e, cfg, selected)
	if err != nil {
		return nil, err
	}
	return &Report{Machine: describeMachine(target), Results: results}, nil
}

func (cfg Config) check() ([]workload, error) {
	switch {
	case cfg.NewHandler == nil || cfg.OpenStore == nil:
		return nil, errors.New("bench: Config needs NewHandler and OpenStore")
	case cfg.Users < 1:
		return nil, fmt.Errorf("--users must be at least 1, got %d", cfg.Users)
	case cfg.Duration <= 0:
		return nil, fmt.Errorf("--duration must be positive, got %s", cfg.Duration)
	case len(cfg.Concurrency) == 0:
		return nil, errors.New("--concurrency needs at least one level")
	}
	for _, c := range cfg.Concurrency {
		if c < 1 || c > 1024 {
			return nil, fmt.Errorf("--concurrency levels must be between 1 and 1024, got %d", c)
		}
	}
	return selectWorkloads(cfg.Workloads)
}

// startEnv opens the server and the direct store on target, loads the
// population and creates the credential the workloads use. The returned
// function releases everything.
func startEnv(ctx context.Context, cfg Config, target *target) (_ *env, _ func(), err error) {
	var closers closeStack
	defer func() {
		if err != nil {
			closers.run()
		}
	}()
	h, closeHandler, err := cfg.NewHandler(ctx, target.dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("start server: %w", err)
	}
	closers.push(closeHandler)
	st, err := cfg.OpenStore(ctx, target.dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("open store: %w", err)
	}
	closers.push(func() { st.Close() })
	base, stop, err := listen(h)
	if err != nil {
		return nil, nil, err
	}
	closers.push(stop)
	pop, err := load(ctx, cfg, target)
	if err != nil {
		return nil, nil, err
	}
	e, err := newEnv(ctx, cfg, st, base, target.kind, pop)
	if err != nil {
		return nil, nil, err
	}
	closers.push(e.client.CloseIdleConnections)
	return e, closers.run, nil
}

// load creates the population through a store of its own.
func load(ctx context.Context, cfg Config, target *target) (*population, error) {
	st, err := cfg.OpenStore(ctx, target.loadDSN)
	if err != nil {
		return nil, fmt.Errorf("open store for loading: %w", err)
	}
	defer st.Close()
	pop, err := loadPopulation(ctx, st, cfg.Users, cfg.Log)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := target.analyze(ctx); err != nil {
		return nil, fmt.Errorf("analyze after loading: %w", err)
	}
	fmt.Fprintf(cfg.Log, "analyzed in %s\n", time.Since(start).Round(time.Millisecond))
	return pop, nil
}

func newEnv(ctx context.Context, cfg Config, st store.Store, base, kind string, pop *population) (*env, error) {
	secret, err := auth.CreateSecret(ctx, st, store.DefaultTenant, benchCredentialName, benchCredentialTier)
	if err != nil {
		return nil, fmt.Errorf("create bench credential: %w", err)
	}
	return &env{client: newClient(maxOf(cfg.Concurrency)), base: base, auth: "Bearer " + secret,
		st: st, pop: pop, kind: kind, log: cfg.Log}, nil
}

// closeStack runs release functions last-pushed first.
type closeStack []func()

func (c *closeStack) push(f func()) { *c = append(*c, f) }

func (c *closeStack) run() {
	for i := len(*c) - 1; i >= 0; i-- {
		(*c)[i]()
	}
	*c = nil
}

// profiled runs fn under a CPU profile written to path, when path is set.
func profiled[R any](path string, fn func() (R, error)) (R, error) {
	var zero R
	if path == "" {
		return fn()
	}
	f, err := os.Create(path)
	if err != nil {
		return zero, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return zero, fmt.Errorf("--cpuprofile: %w", err)
	}
	results, err := fn()
	pprof.StopCPUProfile()
	if cerr := f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("--cpuprofile: %w", cerr)
	}
	return results, err
}

func maxOf(xs []int) int {
	m := 1
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

// ParseConcurrency reads a comma-separated list of concurrency levels.
func ParseConcurrency(s string) ([]int, error) { return ParsePositive(s, "--concurrency") }

// ParsePositive parses a comma-separated list of positive integers given
// as the flag named flagName.
func ParsePositive(s, flagName string) ([]int, error) {
	var levels []int
	for _, f := range SplitList(s) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s: %q is not a positive integer", flagName, f)
		}
		levels = append(levels, n)
	}
	if len(levels) == 0 {
		return nil, fmt.Errorf("%s needs at least one positive integer, e.g. 1,8", flagName)
	}
	return levels, nil
}

// SplitList splits a comma-separated flag value, dropping empty items.
func SplitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
