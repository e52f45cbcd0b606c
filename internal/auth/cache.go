package auth

import (
	"sync"
	"time"

	"github.com/scimbridge/scimbridge/internal/policy"
)

// principalCache maps secret hashes to principals for a short time. It is
// bounded: when full, expired entries are dropped, and if none expired the
// whole cache is cleared (simple, and correct: entries are only a speedup).
type principalCache struct {
	mu      sync.Mutex
	ttl     time.Duration
	max     int
	now     func() time.Time
	entries map[string]cacheEntry
}

type cacheEntry struct {
	p       policy.Principal
	expires time.Time
}

func newPrincipalCache(ttl time.Duration, max int, now func() time.Time) *principalCache {
	return &principalCache{ttl: ttl, max: max, now: now, entries: map[string]cacheEntry{}}
}

func (c *principalCache) get(hash string) (policy.Principal, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[hash]
	if !ok || !c.now().Before(e.expires) {
		return policy.Principal{}, false
	}
	return e.p, true
}

func (c *principalCache) put(hash string, p policy.Principal) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.entries) >= c.max {
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= c.max {
			c.entries = map[string]cacheEntry{}
		}
	}
	c.entries[hash] = cacheEntry{p: p, expires: now.Add(c.ttl)}
}
