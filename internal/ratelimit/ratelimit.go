// Package ratelimit limits how fast each authenticated credential may call
// the server: one token bucket per credential (tenant, kind and subject of
// the principal), with a rate and a burst per kind of caller.
//
// Design choices:
//   - Buckets are keyed by the authenticated principal, never by address:
//     callers behind one NAT or load balancer do not share a budget, and an
//     unauthenticated request never creates a bucket, so the number of
//     buckets is bounded by the number of credentials and people that
//     actually sign in. Idle buckets that have refilled are dropped by a
//     sweep that runs at most once per sweep interval.
//   - The default is off for provisioning secrets (identity providers pace
//     themselves and retry on 429 badly) and on for people and scripts
//     (OIDC principals), whose clients are the ones that loop by mistake.
//   - Limits are per process. Behind a load balancer with N replicas a
//     credential may reach N times the rate; configure the per-replica rate
//     accordingly (docs/deployment.md).
package ratelimit

import (
	"math"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/scimbridge/scimbridge/internal/policy"
)

// Rule is the limit for one kind of caller: Rate requests per second on
// average, with bursts of up to Burst requests. A Rate of zero or less
// means no limit.
type Rule struct {
	Rate  float64
	Burst int
}

// Enabled reports whether the rule limits anything.
func (r Rule) Enabled() bool { return r.Rate > 0 }

// Config holds a rule per kind of caller.
type Config struct {
	// Secrets applies to provisioning secrets (identity providers).
	Secrets Rule
	// OIDC applies to people and scripts signed in with OIDC tokens.
	OIDC Rule
}

// DefaultConfig is the documented default: provisioning secrets are not
// limited; people and scripts may make 20 requests per second with bursts
// of 40.
func DefaultConfig() Config {
	return Config{OIDC: Rule{Rate: 20, Burst: 40}}
}

// sweepEvery is how often, at most, idle buckets are dropped.
const sweepEvery = time.Minute

// Limiter holds the buckets. It is safe for concurrent use; the zero
// value is not usable, call New.
type Limiter struct {
	cfg     Config
	now     func() time.Time
	mu      sync.Mutex
	buckets map[key]*bucket
	swept   time.Time
	limited *prometheus.CounterVec
	size    prometheus.GaugeFunc
}

type key struct {
	tenant, subject string
	kind            policy.Kind
}

// bucket is a token bucket: tokens available at time last.
type bucket struct {
	tokens float64
	last   time.Time
}

// Option configures a Limiter.
type Option func(*Limiter)

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(l *Limiter) { l.now = now } }

// New returns a limiter applying cfg.
func New(cfg Config, opts ...Option) *Limiter {
	l := &Limiter{cfg: cfg, now: time.Now, buckets: map[key]*bucket{}}
	for _, o := range opts {
		o(l)
	}
	l.swept = l.now()
	l.limited = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "scimbridge_rate_limited_requests_total",
		Help: "Requests refused with 429 by the per-credential rate limit, by kind of caller.",
	}, []string{"kind"})
	l.size = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "scimbridge_rate_limit_buckets",
		Help: "Credentials currently tracked by the rate limiter.",
	}, func() float64 { return float64(l.len()) })
	return l
}

// Register adds the limiter's metrics to reg.
func (l *Limiter) Register(reg prometheus.Registerer) error {
	if err := reg.Register(l.limited); err != nil {
		return err
	}
	return reg.Register(l.size)
}

// Rule returns the rule that applies to p.
func (l *Limiter) Rule(p policy.Principal) Rule {
	if p.Kind == policy.KindProvisioner {
		return l.cfg.Secrets
	}
	return l.cfg.OIDC
}

// Allow takes one token from p's bucket. When the bucket is empty it
// returns false and how long until a token is available (at least one
// second, the granularity of Retry-After).
func (l *Limiter) Allow(p policy.Principal) (retryAfter time.Duration, ok bool) {
	rule := l.Rule(p)
	if !rule.Enabled() {
		return 0, true
	}
	burst := float64(max(rule.Burst, 1))
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	k := key{tenant: p.Tenant, subject: p.Subject, kind: p.Kind}
	b := l.buckets[k]
	if b == nil {
		b = &bucket{tokens: burst, last: now}
		l.buckets[k] = b
	}
	b.refill(now, rule.Rate, burst)
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	l.limited.WithLabelValues(string(p.Kind)).Inc()
	wait := time.Duration((1 - b.tokens) / rule.Rate * float64(time.Second))
	return max(time.Second, wait), false
}

func (b *bucket) refill(now time.Time, rate, burst float64) {
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(burst, b.tokens+elapsed*rate)
		b.last = now
	}
}

// sweep drops buckets that have been idle long enough to be full again
// (forgetting them changes nothing), at most once per sweepEvery.
func (l *Limiter) sweep(now time.Time) {
	if now.Sub(l.swept) < sweepEvery {
		return
	}
	l.swept = now
	for k, b := range l.buckets {
		rule := l.Rule(policy.Principal{Kind: k.kind})
		burst := float64(max(rule.Burst, 1))
		if !rule.Enabled() || b.tokens+now.Sub(b.last).Seconds()*rule.Rate >= burst {
			delete(l.buckets, k)
		}
	}
}

func (l *Limiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
