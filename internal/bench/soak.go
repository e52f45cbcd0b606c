package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// SoakConfig is a sustained mixed load: Okta-like traffic (a userName
// lookup before most changes, creates, PATCHes, group membership changes)
// from Concurrency clients for Duration, with the server's resources
// sampled every Interval to show whether they stay flat.
type SoakConfig struct {
	DB          string
	Users       int
	Duration    time.Duration
	Interval    time.Duration
	Concurrency int
	NewHandler  HandlerFunc
	OpenStore   StoreFunc
	Log         io.Writer
}

// Defaults of `scimbridge bench soak`.
const (
	DefaultSoakUsers    = 10_000
	DefaultSoakDuration = 3 * time.Minute
	DefaultSoakInterval = 15 * time.Second
)

// soakAppName marks the server's PostgreSQL sessions, so that the samples
// count exactly its connections.
const soakAppName = "scimbridge-soak"

// Sample is one interval of a soak run. RSS and goroutines are the whole
// process's (the server and the load generator share it; the generator's
// part is fixed by the concurrency); OpenFDs counts its file descriptors
// (sockets included); DBConns counts the server's PostgreSQL sessions (-1
// on SQLite).
type Sample struct {
	ElapsedS   float64 `json:"elapsed_s"`
	OpsPerS    float64 `json:"ops_per_s"`
	Errors     int64   `json:"errors"`
	P99MS      float64 `json:"p99_ms"`
	RSSMB      float64 `json:"rss_mb"`
	HeapMB     float64 `json:"heap_mb"`
	Goroutines int     `json:"goroutines"`
	OpenFDs    int     `json:"open_fds"`
	DBConns    int     `json:"db_conns"`
}

// SoakReport is the outcome of a soak run.
type SoakReport struct {
	Machine     Machine        `json:"machine"`
	Concurrency int            `json:"concurrency"`
	Mix         map[string]int `json:"mix_percent"`
	Ops         int64          `json:"ops"`
	Errors      int64          `json:"errors"`
	FirstErrors []string       `json:"first_errors,omitempty"`
	Samples     []Sample       `json:"samples"`
}

// soakMix is the traffic: percent of operations per kind.
var soakMix = []struct {
	name    string
	percent int
	newOp   func(e *env) op
}{
	{"filter-username", 50, filterOne(func(i int) string { return `userName eq "` + userName(i) + `"` })},
	{"create-user", 15, createUser},
	{"patch-user", 20, patchUser},
	{"group-member", 15, groupAddMember},
}

// RunSoak runs the soak described by cfg.
func RunSoak(ctx context.Context, cfg SoakConfig) (*SoakReport, error) {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.Users < 1 || cfg.Duration <= 0 || cfg.Interval <= 0 || cfg.Concurrency < 1 || cfg.NewHandler == nil || cfg.OpenStore == nil {
		return nil, errors.New("bench soak: needs users, duration, interval and concurrency above zero")
	}
	target, err := prepareTarget(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	defer target.cleanup(cfg.Log)
	newHandler := cfg.NewHandler
	if target.kind == "postgres" {
		newHandler = func(ctx context.Context, dsn string) (http.Handler, func(), error) {
			return cfg.NewHandler(ctx, withAppName(dsn))
		}
	}
	e, closeEnv, err := startEnv(ctx, Config{Users: cfg.Users, Concurrency: []int{cfg.Concurrency},
		NewHandler: newHandler, OpenStore: cfg.OpenStore, Log: cfg.Log}, target)
	if err != nil {
		return nil, err
	}
	defer closeEnv()
	conns, closeConns, err := connCounter(ctx, target)
	if err != nil {
		return nil, err
	}
	defer closeConns()
	rep := &SoakReport{Machine: describeMachine(target), Concurrency: cfg.Concurrency, Mix: map[string]int{}}
	for _, m := range soakMix {
		rep.Mix[m.name] = m.percent
	}
	soak(ctx, e, cfg, rep, conns)
	return rep, nil
}

func withAppName(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	q := u.Query()
	q.Set("application_name", soakAppName)
	u.RawQuery = q.Encode()
	return u.String()
}

// connCounter returns a function counting the server's PostgreSQL
// sessions (always -1 on SQLite).
func connCounter(ctx context.Context, t *target) (func() int, func(), error) {
	if t.kind != "postgres" {
		return func() int { return -1 }, func() {}, nil
	}
	conn, err := pgx.Connect(ctx, t.dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to count sessions: %w", err)
	}
	count := func() int {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1`, soakAppName).Scan(&n); err != nil {
			return -1
		}
		return n
	}
	return count, func() { conn.Close(context.WithoutCancel(ctx)) }, nil
}

// soakCounters are shared by the clients and the sampler.
type soakCounters struct {
	ops, errs atomic.Int64
	mu        sync.Mutex
	lat       []time.Duration
	firstErrs []string
}

func (c *soakCounters) record(d time.Duration, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.errs.Add(1)
		if len(c.firstErrs) < 5 {
			c.firstErrs = append(c.firstErrs, err.Error())
		}
		return
	}
	c.ops.Add(1)
	c.lat = append(c.lat, d)
}

// drainP99 returns the 99th percentile of the latencies since the last
// call, in milliseconds.
func (c *soakCounters) drainP99() float64 {
	c.mu.Lock()
	lat := c.lat
	c.lat = nil
	c.mu.Unlock()
	if len(lat) == 0 {
		return 0
	}
	slices.Sort(lat)
	return round(float64(lat[len(lat)*99/100].Microseconds())/1000, 2)
}

func soak(ctx context.Context, e *env, cfg SoakConfig, rep *SoakReport, conns func() int) {
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	c := &soakCounters{}
	var wg sync.WaitGroup
	for w := range cfg.Concurrency {
		wg.Go(func() { soakClient(ctx, e, c, uint64(w)) })
	}
	start, last, lastOps := time.Now(), time.Now(), int64(0)
	tick := time.NewTicker(cfg.Interval)
	defer tick.Stop()
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-tick.C:
		}
		now, ops := time.Now(), c.ops.Load()
		s := sampleNow(conns)
		s.ElapsedS = round(now.Sub(start).Seconds(), 1)
		s.OpsPerS = round(float64(ops-lastOps)/now.Sub(last).Seconds(), 0)
		s.Errors, s.P99MS = c.errs.Load(), c.drainP99()
		rep.Samples = append(rep.Samples, s)
		fmt.Fprintf(e.log, "soak %5.0fs: %6.0f ops/s, p99 %.1f ms, RSS %.0f MB, %d goroutines, %d fds, %d db conns, %d errors\n",
			s.ElapsedS, s.OpsPerS, s.P99MS, s.RSSMB, s.Goroutines, s.OpenFDs, s.DBConns, s.Errors)
		last, lastOps = now, ops
	}
	wg.Wait()
	rep.Ops, rep.Errors, rep.FirstErrors = c.ops.Load(), c.errs.Load(), c.firstErrs
}

// soakClient runs the mix until ctx ends.
func soakClient(ctx context.Context, e *env, c *soakCounters, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x50a6))
	ops := make([]op, len(soakMix))
	for i, m := range soakMix {
		ops[i] = m.newOp(e)
	}
	for ctx.Err() == nil {
		k, roll := 0, rng.IntN(100)
		for roll >= soakMix[k].percent {
			roll -= soakMix[k].percent
			k++
		}
		begin := time.Now()
		err := ops[k](ctx, rng)
		if ctx.Err() != nil {
			return // cut short by the end of the run: not an error
		}
		c.record(time.Since(begin), err)
	}
}

func sampleNow(conns func() int) Sample {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fds, _ := os.ReadDir("/proc/self/fd")
	return Sample{RSSMB: round(currentRSSMB(), 1), HeapMB: round(float64(ms.HeapInuse)/(1<<20), 1),
		Goroutines: runtime.NumGoroutine(), OpenFDs: len(fds), DBConns: conns()}
}

// currentRSSMB is the process's resident set size (VmRSS) in MiB.
func currentRSSMB() float64 {
	kb, err := strconv.ParseFloat(strings.TrimSuffix(procField("/proc/self/status", "VmRSS"), " kB"), 64)
	if err != nil {
		return 0
	}
	return kb / 1024
}

// WriteTable prints the samples and a summary line.
func (r *SoakReport) WriteTable(w io.Writer) error {
	m := r.Machine
	var b strings.Builder
	fmt.Fprintf(&b, "# soak: %s, %d cores, %s, %s, %s; %d clients; mix %v\n", m.CPUModel, m.Cores, m.GoVersion, m.OS, m.StoreVersion, r.Concurrency, r.Mix)
	const f = "%9s %9s %8s %8s %8s %11s %9s %9s %7s\n"
	fmt.Fprintf(&b, f, "elapsed s", "ops/s", "p99 ms", "RSS MB", "heap MB", "goroutines", "open fds", "db conns", "errors")
	for _, s := range r.Samples {
		fmt.Fprintf(&b, f, num(s.ElapsedS, 0), num(s.OpsPerS, 0), num(s.P99MS, 1), num(s.RSSMB, 0), num(s.HeapMB, 0),
			strconv.Itoa(s.Goroutines), strconv.Itoa(s.OpenFDs), strconv.Itoa(s.DBConns), strconv.FormatInt(s.Errors, 10))
	}
	fmt.Fprintf(&b, "# %d operations, %d errors\n", r.Ops, r.Errors)
	for _, e := range r.FirstErrors {
		fmt.Fprintf(&b, "# error: %s\n", e)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSONFile writes the report as indented JSON.
func (r *SoakReport) WriteJSONFile(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
