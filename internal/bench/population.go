package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/scimbridge/scimbridge/internal/directory"
	"github.com/scimbridge/scimbridge/internal/schema"
	"github.com/scimbridge/scimbridge/internal/store"
)

// The generated population is predictable, so that workloads can name any
// existing user: user i has userName userName(i), externalId externalID(i)
// and work email workEmail(i), for 0 <= i < Users. Users created by the
// create-user workload continue the numbering.
func userName(i int) string   { return fmt.Sprintf("user%07d@bench.example", i) }
func externalID(i int) string { return fmt.Sprintf("ext-%07d", i) }
func workEmail(i int) string  { return fmt.Sprintf("user%07d@work.bench.example", i) }
func homeEmail(i int) string  { return fmt.Sprintf("user%07d@home.example", i) }

var (
	givenNames  = []string{"Barbara", "James", "Amira", "Kenji", "Olga", "Mateo", "Priya", "Lars", "Chen", "Fatima", "Noah", "Ines"}
	familyNames = []string{"Jensen", "Okafor", "Silva", "Tanaka", "Novak", "Haddad", "Müller", "Kowalski", "Nguyen", "Garcia", "Smith"}
	titles      = []string{"Support Engineer", "Operations Lead", "Software Partner", "Site Reliability Engineer", "Help Desk Analyst"}
	departments = []string{"Customer Support", "Operations", "Engineering", "Partner Success", "IT"}
)

// userBody is user i as a client would POST it (about 1 KB of JSON).
func userBody(i int) map[string]any {
	given, family := givenNames[i%len(givenNames)], familyNames[(i/len(givenNames))%len(familyNames)]
	return map[string]any{
		"schemas":     []any{schema.UserURN, schema.EnterpriseURN, schema.SupportURN},
		"userName":    userName(i),
		"externalId":  externalID(i),
		"name":        map[string]any{"givenName": given, "familyName": family, "formatted": given + " " + family},
		"displayName": given + " " + family,
		"nickName":    given,
		"title":       titles[i%len(titles)],
		"userType":    "Employee",
		"locale":      "en-US",
		"timezone":    "Europe/Amsterdam",
		"emails": []any{
			map[string]any{"value": workEmail(i), "type": "work", "primary": true},
			map[string]any{"value": homeEmail(i), "type": "home"},
		},
		"phoneNumbers": []any{
			map[string]any{"value": fmt.Sprintf("+1 555 %03d %04d", i/10000%1000, i%10000), "type": "work", "primary": true},
			map[string]any{"value": fmt.Sprintf("+1 555 %03d %04d", (i/10000+500)%1000, i%10000), "type": "mobile"},
		},
		"addresses": []any{map[string]any{"type": "work", "streetAddress": fmt.Sprintf("%d Bench Street", i%997+1),
			"locality": "Amsterdam", "postalCode": fmt.Sprintf("10%02d AB", i%100), "country": "NL", "primary": true}},
		schema.EnterpriseURN: map[string]any{"employeeNumber": fmt.Sprintf("%07d", i), "department": departments[i%len(departments)],
			"costCenter": fmt.Sprintf("CC-%03d", i%250), "organization": "Bench Corp", "division": "Support"},
		schema.SupportURN: map[string]any{"tier": schema.Tiers[i%len(schema.Tiers)],
			"sourceUserNames": []any{map[string]any{"source": "slack", "value": fmt.Sprintf("U%08d", i)}}},
	}
}

// population is what the loader created.
type population struct {
	ids []string // ids[i] is user i's id
	n   int
	// next numbers the users the create-user workload adds.
	next atomic.Int64
	// bigGroup is the largest group (of all n users), bigGroupSize its size.
	bigGroup     string
	bigGroupSize int
}

func (p *population) randomIndex(rng *rand.Rand) int { return rng.IntN(p.n) }

// newUserIndex returns a number no user has yet.
func (p *population) newUserIndex() int { return int(p.next.Add(1)) - 1 }

// userRecord is what the directory would store for user i: the canonical
// document and its columns, extracted as internal/directory does.
func userRecord(reg *schema.Registry, i int, now time.Time) (store.User, error) {
	doc, err := reg.User.Normalize(userBody(i))
	if err != nil {
		return store.User{}, fmt.Errorf("generated user %d: %w", i, err)
	}
	doc["active"] = true
	u, err := directory.UserRecord(doc)
	if err != nil {
		return store.User{}, err
	}
	u.TenantID, u.ID, u.Created, u.LastModified, u.Version = store.DefaultTenant, uuid.NewString(), now, now, 1
	return u, nil
}

// loadPopulation creates n users and groups of sizes 1, 10, 100, ... up to
// n straight through the store, with several concurrent writers.
func loadPopulation(ctx context.Context, st store.Store, n int, log io.Writer) (*population, error) {
	pop, err := loadUsers(ctx, st, n, log)
	if err != nil {
		return nil, err
	}
	return pop, loadGroups(ctx, st, schema.New(), pop, log)
}

// loadUsers creates users 0..n-1 straight through the store, with several
// concurrent writers.
func loadUsers(ctx context.Context, st store.Store, n int, log io.Writer) (*population, error) {
	pop := &population{ids: make([]string, n), n: n}
	pop.next.Store(int64(n))
	reg := schema.New()
	start := time.Now()
	fmt.Fprintf(log, "loading %d users through the store...\n", n)
	prog := progress(log, "users", n)
	batches := (n + loadBatch - 1) / loadBatch
	err := parallel(ctx, batches, loaderWorkers(), func(ctx context.Context, b int) error {
		return loadBatchOf(ctx, st, reg, pop, b, prog)
	})
	prog.stop()
	if err != nil {
		return nil, err
	}
	took := time.Since(start)
	fmt.Fprintf(log, "loaded %d users in %s (%.0f users/s)\n", n, took.Round(time.Millisecond), float64(n)/took.Seconds())
	return pop, nil
}

// loadBatch is how many users one store call inserts while loading.
const loadBatch = 1000

// loadBatchOf inserts users [b*loadBatch, (b+1)*loadBatch) with one
// set-based store call.
func loadBatchOf(ctx context.Context, st store.Store, reg *schema.Registry, pop *population, b int, prog *progressReporter) error {
	now := time.Now().UTC().Truncate(time.Microsecond)
	var users []store.User
	for i := b * loadBatch; i < min((b+1)*loadBatch, pop.n); i++ {
		u, err := userRecord(reg, i, now)
		if err != nil {
			return err
		}
		users = append(users, u)
		pop.ids[i] = u.ID
	}
	results, err := st.CreateUsers(ctx, users)
	if err != nil {
		return fmt.Errorf("load users of batch %d: %w", b, err)
	}
	for k, r := range results {
		if r != nil {
			return fmt.Errorf("load user %d: %w", b*loadBatch+k, r)
		}
		prog.add()
	}
	return nil
}

// loadGroups creates one group per size 1, 10, 100, ... and one of all n
// users, each over a different slice of the population.
func loadGroups(ctx context.Context, st store.Store, reg *schema.Registry, pop *population, log io.Writer) error {
	start, members := time.Now(), 0
	sizes := groupSizes(pop.n)
	for k, size := range sizes {
		g, err := groupRecord(reg, pop, k, size)
		if err != nil {
			return err
		}
		if _, err := st.CreateGroup(ctx, g); err != nil {
			return fmt.Errorf("load group of %d: %w", size, err)
		}
		pop.bigGroup, pop.bigGroupSize = g.ID, size
		members += size
	}
	fmt.Fprintf(log, "loaded %d groups (%d memberships) in %s\n", len(sizes), members, time.Since(start).Round(time.Millisecond))
	return nil
}

func groupSizes(n int) []int {
	var sizes []int
	for s := 1; s < n; s *= 10 {
		sizes = append(sizes, s)
	}
	return append(sizes, n)
}

func groupRecord(reg *schema.Registry, pop *population, k, size int) (store.Group, error) {
	name := fmt.Sprintf("bench-group-%d", size)
	doc, err := reg.Group.Normalize(map[string]any{"displayName": name, "externalId": fmt.Sprintf("ext-group-%d", k)})
	if err != nil {
		return store.Group{}, err
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return store.Group{}, err
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	g := store.Group{TenantID: store.DefaultTenant, ID: uuid.NewString(), DisplayName: name, ExternalID: fmt.Sprintf("ext-group-%d", k),
		Doc: raw, Members: make([]store.Member, size), Created: now, LastModified: now, Version: 1}
	offset := k * 7919
	for j := range size {
		g.Members[j] = store.Member{ID: pop.ids[(offset+j)%pop.n]}
	}
	return g, nil
}

// loaderWorkers is how many users are written concurrently: enough to
// overlap normalisation with commits (and, on PostgreSQL, to share them).
func loaderWorkers() int { return max(8, 4*runtime.NumCPU()) }

// parallel calls fn(ctx, i) for every 0 <= i < n on the given number of
// goroutines and returns the first error; ctx ends when one fails.
func parallel(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

// progressReporter prints a line every few seconds while a long load runs.
type progressReporter struct {
	done atomic.Int64
	quit chan struct{}
	wg   sync.WaitGroup
}

func progress(log io.Writer, what string, total int) *progressReporter {
	p := &progressReporter{quit: make(chan struct{})}
	p.wg.Go(func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-p.quit:
				return
			case <-t.C:
				fmt.Fprintf(log, "  %d/%d %s\n", p.done.Load(), total, what)
			}
		}
	})
	return p
}

func (p *progressReporter) add() { p.done.Add(1) }

func (p *progressReporter) stop() {
	close(p.quit)
	p.wg.Wait()
}
