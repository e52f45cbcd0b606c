package ratelimit_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/ratelimit"
)

// clock is a manual clock for the limiter.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

var (
	person = policy.Principal{Tenant: "t", Subject: "ada", Kind: policy.KindPerson}
	script = policy.Principal{Tenant: "t", Subject: "cron", Kind: policy.KindScript}
	idp    = policy.Principal{Tenant: "t", Subject: "okta", Kind: policy.KindProvisioner}
)

// allowed counts how many of n immediate requests p may make.
func allowed(l *ratelimit.Limiter, p policy.Principal, n int) int {
	ok := 0
	for range n {
		if _, yes := l.Allow(p); yes {
			ok++
		}
	}
	return ok
}

func TestBurstThenRefusedWithRetryAfter(t *testing.T) {
	c := &clock{now: time.Unix(1000, 0)}
	l := ratelimit.New(ratelimit.Config{OIDC: ratelimit.Rule{Rate: 0.5, Burst: 3}}, ratelimit.WithClock(c.Now))
	if got := allowed(l, person, 10); got != 3 {
		t.Fatalf("%d requests allowed in a burst of 3", got)
	}
	wait, ok := l.Allow(person)
	if ok || wait != 2*time.Second {
		t.Fatalf("refusal: ok %v wait %s, want a 2s wait at 0.5/s", ok, wait)
	}
	c.Add(2 * time.Second)
	if got := allowed(l, person, 5); got != 1 {
		t.Fatalf("%d requests allowed after one token refilled", got)
	}
	c.Add(time.Hour)
	if got := allowed(l, person, 10); got != 3 {
		t.Fatalf("after an hour idle %d requests allowed, want the burst of 3 (no more)", got)
	}
}

func TestRetryAfterIsAtLeastOneSecond(t *testing.T) {
	c := &clock{now: time.Unix(1000, 0)}
	l := ratelimit.New(ratelimit.Config{OIDC: ratelimit.Rule{Rate: 100, Burst: 1}}, ratelimit.WithClock(c.Now))
	l.Allow(person)
	if wait, ok := l.Allow(person); ok || wait != time.Second {
		t.Fatalf("ok %v wait %s, want refused with 1s", ok, wait)
	}
}

func TestDefaultsLimitOIDCOnly(t *testing.T) {
	c := &clock{now: time.Unix(1000, 0)}
	l := ratelimit.New(ratelimit.DefaultConfig(), ratelimit.WithClock(c.Now))
	if got := allowed(l, idp, 5000); got != 5000 {
		t.Fatalf("a provisioning secret was limited by default: %d of 5000", got)
	}
	for _, p := range []policy.Principal{person, script} {
		if got := allowed(l, p, 1000); got != ratelimit.DefaultConfig().OIDC.Burst {
			t.Fatalf("%s: %d of 1000 immediate requests allowed, want the default burst", p.Kind, got)
		}
	}
}

func TestBucketsArePerCredential(t *testing.T) {
	c := &clock{now: time.Unix(1000, 0)}
	l := ratelimit.New(ratelimit.Config{OIDC: ratelimit.Rule{Rate: 1, Burst: 2}, Secrets: ratelimit.Rule{Rate: 1, Burst: 4}},
		ratelimit.WithClock(c.Now))
	other := person
	other.Tenant = "u"
	for _, tc := range []struct {
		p    policy.Principal
		want int
	}{{person, 2}, {person, 0}, {other, 2}, {script, 2}, {idp, 4}} {
		if got := allowed(l, tc.p, 10); got != tc.want {
			t.Fatalf("%+v: %d allowed, want %d", tc.p, got, tc.want)
		}
	}
}

func TestMetricsAndSweep(t *testing.T) {
	c := &clock{now: time.Unix(1000, 0)}
	l := ratelimit.New(ratelimit.Config{OIDC: ratelimit.Rule{Rate: 1, Burst: 1}}, ratelimit.WithClock(c.Now))
	reg := prometheus.NewRegistry()
	if err := l.Register(reg); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		allowed(l, policy.Principal{Tenant: "t", Subject: fmt.Sprint(i), Kind: policy.KindPerson}, 3)
	}
	if got := values(t, reg); got["scimbridge_rate_limited_requests_total"] != 100 || got["scimbridge_rate_limit_buckets"] != 50 {
		t.Fatalf("metrics %v, want 100 refusals and 50 buckets", got)
	}
	c.Add(2 * time.Minute)
	allowed(l, person, 1)
	if got := values(t, reg)["scimbridge_rate_limit_buckets"]; got != 1 {
		t.Fatalf("%v buckets after the idle ones were swept, want 1", got)
	}
}

// values returns each gathered metric's first series value.
func values(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		m := mf.GetMetric()[0]
		got[mf.GetName()] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
	}
	return got
}

func TestConcurrentUseHonoursTheBurst(t *testing.T) {
	l := ratelimit.New(ratelimit.Config{OIDC: ratelimit.Rule{Rate: 0.001, Burst: 25}})
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range 8 {
		wg.Go(func() {
			n := allowed(l, person, 20)
			mu.Lock()
			total += n
			mu.Unlock()
		})
	}
	wg.Wait()
	if total != 25 {
		t.Fatalf("%d allowed by 8 concurrent callers, want exactly the burst of 25", total)
	}
}
