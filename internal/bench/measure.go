package bench

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// stats is one measurement: a fixed duration of operations at one
// concurrency.
type stats struct {
	weight     int // operations per call
	ok, errors int64
	elapsed    time.Duration
	latencies  []time.Duration // of successful operations, sorted
	firstErr   error
	peakRSSMB  float64
}

func (s stats) opsPerS() float64 {
	if s.elapsed <= 0 {
		return 0
	}
	return float64(s.ok) * float64(max(s.weight, 1)) / s.elapsed.Seconds()
}

// percentileMS is the nearest-rank percentile p (0-100) in milliseconds.
func (s stats) percentileMS(p float64) float64 {
	if len(s.latencies) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(s.latencies))))
	rank = min(max(rank, 1), len(s.latencies))
	return float64(s.latencies[rank-1]) / float64(time.Millisecond)
}

// worker is one client's share of a measurement.
type worker struct {
	latencies []time.Duration
	errors    int64
	firstErr  error
}

func (w *worker) run(ctx context.Context, o op, rng *rand.Rand, deadline time.Time) {
	for ctx.Err() == nil {
		start := time.Now()
		if !start.Before(deadline) {
			return
		}
		err := o(ctx, rng)
		took := time.Since(start)
		switch {
		case err == nil:
			w.latencies = append(w.latencies, took)
		case ctx.Err() != nil:
			return
		default:
			w.errors++
			if w.firstErr == nil {
				w.firstErr = err
			}
		}
	}
}

// measure runs conc workers, each with its own op from newOp, for d.
func measure(ctx context.Context, e *env, newOp func(*env) op, conc int, d time.Duration) stats {
	resetPeakRSS()
	workers := make([]worker, conc)
	ops := make([]op, conc)
	for i := range ops {
		ops[i] = newOp(e)
	}
	seed := uint64(time.Now().UnixNano())
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i := range workers {
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		wg.Go(func() { workers[i].run(ctx, ops[i], rng, deadline) })
	}
	wg.Wait()
	s := stats{elapsed: time.Since(start), peakRSSMB: peakRSSMB()}
	for _, w := range workers {
		s.latencies = append(s.latencies, w.latencies...)
		s.errors += w.errors
		if s.firstErr == nil {
			s.firstErr = w.firstErr
		}
	}
	s.ok = int64(len(s.latencies))
	slices.Sort(s.latencies)
	return s
}

// runWorkloads measures the raw ceilings the selected workloads need, then
// (under the CPU profile, when one is asked for) every selected workload at
// every concurrency.
func runWorkloads(ctx context.Context, e *env, cfg Config, selected []workload) ([]Result, error) {
	ceilings, err := measureCeilings(ctx, e, cfg, selected)
	if err != nil {
		return nil, err
	}
	return profiled(cfg.CPUProfile, func() ([]Result, error) {
		var results []Result
		for _, w := range selected {
			for _, c := range cfg.Concurrency {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				results = append(results, runOne(ctx, e, cfg.Duration, w, c, ceilings))
			}
		}
		return results, ctx.Err()
	})
}

// ceilingKey names a ceiling measurement.
func ceilingKey(c *ceiling, conc int) string { return fmt.Sprintf("%s/%d", c.name, conc) }

// measureCeilings measures each distinct ceiling once per concurrency.
func measureCeilings(ctx context.Context, e *env, cfg Config, selected []workload) (map[string]float64, error) {
	out := map[string]float64{}
	for _, w := range selected {
		for _, conc := range cfg.Concurrency {
			if w.ceiling == nil {
				continue
			}
			if _, done := out[ceilingKey(w.ceiling, conc)]; done {
				continue
			}
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			out[ceilingKey(w.ceiling, conc)] = measureCeiling(ctx, e, cfg.Duration, w.ceiling, conc)
		}
	}
	return out, nil
}

func measureCeiling(ctx context.Context, e *env, d time.Duration, c *ceiling, conc int) float64 {
	s := measure(ctx, e, c.newOp, conc, d)
	s.weight = c.weight
	if s.firstErr != nil {
		fmt.Fprintf(e.log, "  ceiling %s c=%d: %d errors; first: %v\n", c.name, conc, s.errors, s.firstErr)
	}
	fmt.Fprintf(e.log, "%-18s c=%-3d %10.1f ops/s  p50 %7.3f ms  p99 %7.3f ms  (raw ceiling)\n", c.name, conc, s.opsPerS(), s.percentileMS(50), s.percentileMS(99))
	return s.opsPerS()
}

func runOne(ctx context.Context, e *env, d time.Duration, w workload, conc int, ceilings map[string]float64) Result {
	s := measure(ctx, e, w.newOp, conc, d)
	s.weight = w.weight
	r := Result{Workload: w.name, Store: e.kind, Concurrency: conc, OpsPerS: round(s.opsPerS(), 1),
		P50MS: round(s.percentileMS(50), 3), P99MS: round(s.percentileMS(99), 3),
		PeakRSSMB: round(s.peakRSSMB, 1), Errors: s.errors}
	if s.firstErr != nil {
		fmt.Fprintf(e.log, "  %s c=%d: %d errors; first: %v\n", w.name, conc, s.errors, s.firstErr)
	}
	if w.ceiling != nil {
		r.CeilingOpsPerS = round(ceilings[ceilingKey(w.ceiling, conc)], 1)
		if r.CeilingOpsPerS > 0 {
			r.Ratio = round(r.OpsPerS/r.CeilingOpsPerS, 3)
		}
	}
	fmt.Fprintf(e.log, "%-18s c=%-3d %10.1f ops/s  p50 %7.3f ms  p99 %7.3f ms  errors %d\n", w.name, conc, r.OpsPerS, r.P50MS, r.P99MS, r.Errors)
	return r
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}
